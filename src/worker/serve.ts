/**
 * The Worker side of training in a Worker (`rnn.worker.serve()`): owns the GPU device and the
 * models, answers the page's requests (src/worker/protocol.ts) and, during fit, sends progress
 * and the Keras callbacks' logs. WebGPU works in a DedicatedWorkerGlobalScope (`navigator.gpu`).
 */
import { getGpu } from '../gpu/device';
import type { HostTensor, TensorLike } from '../host';
import type { Callback, History, Logs } from '../model/types';
import type { Sequential } from '../model/sequential';
import { callbacks as callbackFactories } from '../callbacks';
import { iterativeForecast } from '../forecast';
import { buildFromSpec } from './spec';
import { CHANNEL, type CallbackHook, type FitProgress, type FromWorker, type LoadedModelInfo, type ModelInfo, type ToWorker, type WireData, type WireError, type WireFitArgs, type WireFitDatasetArgs, type WireSaveTarget, type WireTrainArgs } from './protocol';
import type { DatasetFn } from '../model/train-loop';
import type { NamedFile } from '../io/artifacts';
import { memory, type IOHandler } from '../io/handlers';
import { decodeArtifacts, detectFormat } from '../io/formats';
import { modelFromArtifacts } from '../model/load';
import type { SaveOptions } from '../model/serialize';

/** What a Worker trains: a compiled model (Sequential, or any model with the same methods). */
export type WorkerTrainable = Pick<Sequential, 'name' | 'stopTraining' | 'weightNames' | 'build' | 'fit' | 'fitDataset' | 'evaluate' | 'predict' | 'getWeights' | 'setWeights' | 'summary' | 'countParams' | 'dispose'> & Partial<Pick<Sequential, 'save'>>;

/** Options of `rnn.worker.serve`. */
export interface ServeOptions {
  /**
   * Models the page can ask for by name (`trainer.model(name, args)`): each returns a compiled
   * model, built with any code (custom cells, functional models). The page's `args` are passed on.
   */
  models?: Record<string, (args: unknown) => WorkerTrainable | Promise<WorkerTrainable>>;
  /**
   * Training data made in the worker, for `model.fitDataset(name, args)` on the page (Keras `fit`
   * with a generator): each returns the batch function, the batches per epoch and, optionally,
   * the validation data — e.g. windows cut on the fly from a series the worker holds.
   */
  datasets?: Record<string, (args: unknown) => WorkerDataset | Promise<WorkerDataset>>;
  /**
   * Work of the worker module on one of its models, for `model.task(name, args)` on the page: each
   * gets the model (built by `models`, `sequential` or loaded by `trainer.loadModel`) and the
   * page's `args`, and returns (or resolves with) the result sent back — e.g. forecasts scored on
   * data the worker holds.
   */
  tasks?: Record<string, (model: WorkerTrainable, args: unknown) => unknown>;
}

/** A worker-side data source for `fitDataset` (see {@link ServeOptions.datasets}). */
export interface WorkerDataset {
  /** Batch `batch` of epoch `epoch`: its inputs and targets. */
  dataset: DatasetFn;
  /** Batches per epoch (Keras steps_per_epoch). */
  batchesPerEpoch: number;
  /** Evaluated at the end of every epoch. */
  validationData?: [TensorLike, TensorLike];
}

/** The library parts serve() builds models from (index.ts passes `rnn.layers`, `rnn.optimizers`, `rnn.sequential`). */
export interface ServeLibrary {
  layers: Record<string, unknown>;
  optimizers: Record<string, unknown>;
  sequential: (args: { layers: never[]; name?: string; seed?: number }) => WorkerTrainable;
}

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent<ToWorker>) => void): void;
}

const now = () => performance.now();

/** A task boundary without timer clamping, so a 'stop' message is handled between batches. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

function wireError(e: unknown): WireError {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}

function rowsOf(x: WireData): number {
  const first = Array.isArray(x) ? x[0] : x;
  return first?.shape[0] ?? 0;
}

function buffersOf(v: HostTensor | HostTensor[]): ArrayBuffer[] {
  return (Array.isArray(v) ? v : [v]).map((t) => t.data.buffer as ArrayBuffer);
}

/** Starts answering the page's requests in this Worker (call once, at the top of the worker module). */
export function serveTraining(lib: ServeLibrary, options: ServeOptions = {}, scope: WorkerScope = self as unknown as WorkerScope): void {
  const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage({ ...m, channel: CHANNEL }, transfer);
  const models = new Map<number, WorkerTrainable>();
  const stopRequested = new Set<number>();
  /** The running fit of a model: reports where a stop found it. */
  const fitting = new Map<number, () => void>();
  let nextHandle = 1;

  getGpu().then(
    (gpu) => post({ type: 'gpu', info: gpu.info }),
    (e: unknown) => post({ type: 'gpu-error', error: wireError(e) }),
  );

  const register = async (m: WorkerTrainable, loaded?: LoadedModelInfo): Promise<ModelInfo> => {
    if (!m || typeof m.fit !== 'function' || typeof m.predict !== 'function') throw new TypeError('the model builder must return a model (e.g. rnn.sequential({...}), compiled)');
    let summary = '';
    let params = -1;
    try {
      summary = m.summary(null);
      params = m.countParams();
      await m.build(); // the weights, as Keras builds a model whose input shape is known
    } catch {
      // input shape not known yet: the model is built by the first fit / predict
    }
    const handle = nextHandle++;
    models.set(handle, m);
    return { handle, name: m.name, summary, weightNames: m.weightNames, params, ...(loaded ? { loaded } : {}) };
  };
  const model = (handle: number): WorkerTrainable => {
    const m = models.get(handle);
    if (!m) throw new Error(`no model ${handle} in this worker (disposed?)`);
    return m;
  };

  /**
   * Runs `train` (a fit or fitDataset of model `handle`) with the page's callbacks forwarded, progress
   * and stop handling; `epochs` and `batches` (per epoch) for the progress events.
   */
  const training = async (id: number, handle: number, args: WireTrainArgs, epochs: number, batches: number, train: (m: WorkerTrainable, callbacks: Callback[]) => Promise<History>): Promise<History> => {
    const m = model(handle);
    // A stop that came after the request (while a dataset was made) counts: stopRequested was
    // cleared when the request arrived, and fit's reset of stopTraining is undone after batch 1.
    const t0 = now();
    let epoch = 0, samples = 0, lastProgress = -Infinity, done = 0;
    const progress = (kind: FitProgress['kind'], batch: number, logs?: Logs) => {
      const elapsedMs = now() - t0;
      const p: FitProgress = { kind, epoch, epochs, batch, batches, samplesPerSec: elapsedMs > 0 ? (samples * 1000) / elapsedMs : 0, elapsedMs, ...(logs ? { logs } : {}) };
      post({ type: 'progress', id, progress: p });
    };
    const forward: Callback = {};
    for (const hook of args.hooks) {
      (forward as Record<CallbackHook, unknown>)[hook] = (a?: number | Logs, b?: Logs) => {
        const index = typeof a === 'number' ? a : null;
        const logs = (typeof a === 'number' ? b : a) ?? null;
        post({ type: 'callback', id, hook, index, logs: logs ? { ...logs } : null });
      };
    }
    const tracker: Callback = {
      onEpochBegin: (e) => {
        epoch = e;
        done = 0;
      },
      onBatchEnd: async (b, logs) => {
        samples += logs.size ?? 0;
        done = b + 1;
        const t = now();
        if (t - lastProgress >= args.progressEvery || b === batches - 1) {
          lastProgress = t;
          progress('batch', b + 1);
        }
        await nextTask(); // lets a 'stop' in, so training ends after this batch
        if (stopRequested.has(handle)) m.stopTraining = true;
      },
      onEpochEnd: (e, logs) => {
        epoch = e;
        progress('epoch', batches, { ...logs });
      },
    };
    const workerCallbacks = (args.workerCallbacks ?? []).map((s, i) => buildFromSpec(s, callbackFactories, `fit: workerCallbacks[${i}]`) as Callback);
    fitting.set(handle, () => progress('stop', done));
    try {
      return await train(m, [...workerCallbacks, forward, tracker]);
    } finally {
      fitting.delete(handle);
      stopRequested.delete(handle);
    }
  };

  const fit = (id: number, handle: number, x: WireData, y: WireData, args: WireFitArgs): Promise<History> => {
    const n = rowsOf(x);
    const nTrain = args.validationData ? n : args.validationSplit ? n - Math.floor(n * args.validationSplit) : n;
    const { hooks: _h, progressEvery: _p, workerCallbacks: _w, ...fitArgs } = args;
    return training(id, handle, args, args.epochs ?? 1, Math.ceil(nTrain / (args.batchSize ?? 32)), (m, callbacks) =>
      m.fit(x as TensorLike, y as TensorLike, { ...fitArgs, callbacks, yieldEvery: 60_000 }),
    );
  };

  const fitDataset = async (id: number, handle: number, name: string, dsArgs: unknown, args: WireFitDatasetArgs): Promise<History> => {
    const make = options.datasets?.[name];
    if (!make) throw new Error(`no dataset named '${name}' in this worker (serve({datasets}) has: ${Object.keys(options.datasets ?? {}).join(', ') || 'none'})`);
    const ds = await make(dsArgs);
    const { hooks: _h, progressEvery: _p, workerCallbacks: _w, ...rest } = args;
    return training(id, handle, args, args.epochs ?? 1, ds.batchesPerEpoch, (m, callbacks) =>
      m.fitDataset(ds.dataset, {
        ...rest,
        batchesPerEpoch: ds.batchesPerEpoch,
        ...(ds.validationData ? { validationData: ds.validationData } : {}),
        callbacks,
        yieldEvery: 60_000,
      }),
    );
  };

  /** A model from a saved model's files (any format with an architecture), registered with what the files held. */
  const loadFiles = async (url: string, files: NamedFile[]): Promise<ModelInfo> => {
    if (!Array.isArray(files) || !files.length) throw new RangeError(`loadModel: ${url}: no files`);
    const format = detectFormat(files, url);
    const art = await decodeArtifacts(files, url, format);
    const m = (await modelFromArtifacts(art, url)) as unknown as WorkerTrainable;
    const json = art.json;
    return register(m, {
      url,
      format,
      modelTopology: json.modelTopology,
      trainingConfig: json.trainingConfig ?? null,
      trainingState: !!json.trainingState,
      metadata: json.userDefinedMetadata ?? null,
    });
  };

  /** Saves into memory with the page's target's name and format; the page writes the files (downloads need the page). */
  const save = async (m: WorkerTrainable, target: WireSaveTarget, saveOptions: Record<string, unknown>): Promise<{ result: { format: string; files: NamedFile[] }; transfer: Transferable[] }> => {
    if (typeof m.save !== 'function') throw new TypeError(`${m.name}.save: this model has no save method (a model of the library has one)`);
    const mem = memory();
    const handler: IOHandler = { url: target.url, ...(target.format ? { format: target.format } : {}), ...(target.baseName ? { baseName: target.baseName } : {}), save: mem.save! };
    const res = await m.save(handler, saveOptions as SaveOptions);
    const files = mem.files ?? [];
    return { result: { format: res.format, files }, transfer: files.map((f) => f.bytes.buffer as ArrayBuffer) };
  };

  const handle = async (msg: Exclude<ToWorker, { op: 'stop' }>): Promise<{ result: unknown; transfer?: Transferable[] }> => {
    switch (msg.op) {
      case 'sequential': {
        const spec = msg.spec as { layers?: unknown; name?: string; seed?: number; compile?: { optimizer: unknown } & Record<string, unknown> };
        if (!spec || !Array.isArray(spec.layers)) throw new TypeError('sequential: expected {layers: [{type, ...options}, ...]}');
        const layers = spec.layers.map((l, i) => buildFromSpec(l, lib.layers, `sequential: layers[${i}]`)) as never[];
        const m = lib.sequential({ layers, ...(spec.name !== undefined ? { name: spec.name } : {}), ...(spec.seed !== undefined ? { seed: spec.seed } : {}) });
        if (spec.compile) {
          const { optimizer, ...rest } = spec.compile;
          const opt = typeof optimizer === 'string' ? optimizer : buildFromSpec(optimizer, lib.optimizers, 'sequential: compile.optimizer');
          (m as unknown as { compile(a: unknown): void }).compile({ ...rest, optimizer: opt });
        }
        return { result: await register(m) };
      }
      case 'model': {
        const build = options.models?.[msg.name];
        if (!build) throw new Error(`no model named '${msg.name}' in this worker (serve({models}) has: ${Object.keys(options.models ?? {}).join(', ') || 'none'})`);
        return { result: await register(await build(msg.args)) };
      }
      case 'fit':
        return { result: await fit(msg.id, msg.model, msg.x, msg.y, msg.args) };
      case 'fitDataset':
        return { result: await fitDataset(msg.id, msg.model, msg.name, msg.datasetArgs, msg.args) };
      case 'evaluate':
        return { result: await model(msg.model).evaluate(msg.x as TensorLike, msg.y as TensorLike, msg.batchSize !== undefined ? { batchSize: msg.batchSize } : {}) };
      case 'predict': {
        const out = (await model(msg.model).predict(msg.x as TensorLike, msg.batchSize !== undefined ? { batchSize: msg.batchSize } : {})) as HostTensor | HostTensor[];
        return { result: out, transfer: buffersOf(out) };
      }
      case 'iterativeForecast': {
        const out = await iterativeForecast(model(msg.model) as Sequential, msg.x, msg.steps, msg.batchSize !== undefined ? { batchSize: msg.batchSize } : {});
        return { result: out, transfer: buffersOf(out) };
      }
      case 'getWeights': {
        const ws = await model(msg.model).getWeights();
        return { result: ws, transfer: ws.flatMap(buffersOf) };
      }
      case 'setWeights':
        await model(msg.model).setWeights(msg.weights);
        return { result: null };
      case 'dispose':
        models.get(msg.model)?.dispose();
        models.delete(msg.model);
        return { result: null };
      case 'loadModel':
        return { result: await loadFiles(msg.url, msg.files) };
      case 'save':
        return save(model(msg.model), msg.target, msg.options);
      case 'task': {
        const run = options.tasks?.[msg.name];
        if (!run) throw new Error(`no task named '${msg.name}' in this worker (serve({tasks}) has: ${Object.keys(options.tasks ?? {}).join(', ') || 'none'})`);
        return { result: await run(model(msg.model), msg.args) };
      }
      default:
        msg satisfies never;
        throw new Error(`unknown request ${(msg as { op?: string }).op}`);
    }
  };

  scope.addEventListener('message', (ev) => {
    const msg = ev.data as ToWorker & { channel?: unknown };
    if (msg?.channel !== CHANNEL) return; // the module's own messages
    if (msg.op === 'stop') {
      stopRequested.add(msg.model);
      const m = models.get(msg.model);
      if (m) m.stopTraining = true;
      fitting.get(msg.model)?.();
      return;
    }
    if (msg.op === 'fit' || msg.op === 'fitDataset') stopRequested.delete(msg.model);
    handle(msg).then(
      ({ result, transfer }) => post({ type: 'result', id: msg.id, result }, transfer ?? []),
      (e: unknown) => post({ type: 'error', id: msg.id, error: wireError(e) }),
    );
  });
}
