/**
 * The page side of training in a Worker (`rnn.worker.create()`): a typed handle on a dedicated
 * Worker that owns the GPU and the models, so the page's main thread only posts data and draws.
 * Requests and answers: src/worker/protocol.ts; the worker: src/worker/serve.ts.
 */
import type { GpuInfo } from '../gpu/device';
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import type { Callback, FitArgs, History, Logs } from '../model/types';
import { CHANNEL, type CallbackHook, type FitProgress, type FromWorker, type LoadedModelInfo, type ModelInfo, type Results, type ToWorker, type WireData, type WireError, type WireFitArgs, type WireTrainArgs } from './protocol';
import { resolveHandler, type IOHandler, type SaveResult } from '../io/handlers';
import type { SaveOptions } from '../model/serialize';

export type { FitProgress, LoadedModelInfo } from './protocol';

/** Options of `fit` in a Worker: fit's own, plus progress, transfer and callbacks run in the worker. */
export interface WorkerFitArgs<CallbackSpec = unknown> extends Omit<FitArgs, 'callbacks' | 'yieldEvery' | 'validationData'> {
  /** Evaluated at the end of every epoch; adds val_loss (and val_ metrics) to the history. */
  validationData?: [TensorLike, TensorLike];
  /**
   * Keras callbacks run on the page with the worker's logs, in order (they are not awaited by the
   * training loop, and `setModel` is not called: to act on the model, use `workerCallbacks`).
   */
  callbacks?: Callback | Callback[];
  /** Library callbacks run in the worker beside the model, as specs: `{type: 'earlyStopping', patience: 3}`. */
  workerCallbacks?: CallbackSpec[];
  /** Called after batches (at most every `progressEvery` ms) and after every epoch. */
  onProgress?: (progress: FitProgress) => void;
  /** Milliseconds between 'batch' progress calls (default 100). */
  progressEvery?: number;
  /**
   * Move the inputs' Float32Arrays to the worker instead of copying them (default false): faster
   * for large data, but the page's arrays become empty (detached).
   */
  transfer?: boolean;
}

/** Options of `fitDataset` in a Worker: the epochs, the validation batch size, progress and callbacks (the data comes from the worker's dataset). */
export interface WorkerFitDatasetArgs<CallbackSpec = unknown> extends Pick<WorkerFitArgs<CallbackSpec>, 'epochs' | 'callbacks' | 'workerCallbacks' | 'onProgress' | 'progressEvery'> {
  /** Rows per validation forward pass (default 128). */
  validationBatchSize?: number;
}

/** Options of `rnn.worker.create`. */
export interface TrainingWorkerOptions {
  /** The Worker's name (shown by the browser's developer tools; with a `url`). */
  name?: string;
}

const HOOKS: readonly CallbackHook[] = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];

function toError(e: WireError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Converts (and checks) data for the worker; collects the buffers to move when `transfer`. */
function toWire(value: TensorLike | TensorLike[], what: string, transfer: Transferable[] | null): WireData {
  const isList = Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' && value[0] !== null && !Array.isArray(value[0]);
  const one = (v: TensorLike, w: string): HostTensor => {
    const t = toHostTensor(v, w);
    if (transfer && !transfer.includes(t.data.buffer as ArrayBuffer)) transfer.push(t.data.buffer as ArrayBuffer);
    return { data: t.data, shape: [...t.shape] };
  };
  return isList ? (value as TensorLike[]).map((v, i) => one(v, `${what}[${i}]`)) : one(value as TensorLike, what);
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (m: Extract<FromWorker, { type: 'progress' | 'callback' }>) => void;
}

/**
 * A dedicated Worker that trains models on its own GPU device, made by `rnn.worker.create()`.
 * `Spec` is the type of the model specs it accepts ({@link SequentialSpec}).
 */
export interface TrainingWorker<Spec = unknown, CallbackSpec = unknown> {
  /** The worker's GPU adapter, once its device is ready (rejects with the reason when it has none). */
  readonly gpu: Promise<GpuInfo>;
  /**
   * Builds a Sequential model in the worker from a spec (layers as `{type, ...options}` with the
   * names of `rnn.layers`) and compiles it when `compile` is given.
   *
   * @example
   * ```ts
   * const trainer = rnn.worker.create();
   * const model = await trainer.sequential({
   *   layers: [
   *     { type: 'lstm', units: 20, returnSequences: true, inputShape: [null, 1] },
   *     { type: 'lstm', units: 20, returnSequences: true },
   *     { type: 'timeDistributed', layer: { type: 'dense', units: 10 } },
   *   ],
   *   compile: { optimizer: { type: 'adam', learningRate: 0.001 }, loss: 'mse' },
   * });
   * ```
   */
  sequential(spec: Spec): Promise<WorkerModel<CallbackSpec>>;
  /** A model built in the worker by a builder registered with `rnn.worker.serve({models: {name: (args) => model}})`. */
  model(name: string, args?: unknown): Promise<WorkerModel<CallbackSpec>>;
  /**
   * Loads a saved model into the worker (`rnn.loadModel` there): the page reads the source's files
   * — `'indexeddb://name'`, `rnn.io.browserFiles(input.files)` (drag and drop, a file picker),
   * `'https://…/model.json'`, `rnn.io.memory(files)` — and the worker decodes them (the format
   * is recognised from the bytes: the own format, TensorFlow.js, Keras `.keras`) and builds the
   * model. A damaged or unsupported file rejects with the error naming it; no model is made then.
   * `model.loaded` tells what the files held (architecture, compile settings, metadata).
   *
   * @example
   * ```ts
   * const model = await trainer.loadModel(rnn.io.browserFiles(input.files!));
   * console.log(model.loaded?.format, model.summary);
   * const y = await model.predict(x);
   * ```
   */
  loadModel(source: string | IOHandler): Promise<WorkerModel<CallbackSpec>>;
  /** Ends the worker at once (a running fit is abandoned; pending calls reject). */
  terminate(): void;
}

/** A model that lives in a training Worker; its methods mirror a model's and run there. */
export interface WorkerModel<CallbackSpec = unknown> {
  /** The model's name. */
  readonly name: string;
  /** `model.summary()`'s table (empty until the input shape is known). */
  readonly summary: string;
  /** The names of the weights, in getWeights() order (empty until the input shape is known). */
  readonly weightNames: readonly string[];
  /** Number of parameters (-1 until the input shape is known). */
  readonly params: number;
  /** For a model made by `trainer.loadModel`: what its files held; otherwise null. */
  readonly loaded: LoadedModelInfo | null;
  /**
   * Trains in the worker (Keras `fit`); resolves with the history. The page stays responsive:
   * progress and the callbacks' logs arrive as messages.
   *
   * @example
   * ```ts
   * const history = await model.fit(train.x, train.y, {
   *   epochs: 20, batchSize: 32, validationData: [valid.x, valid.y],
   *   onProgress: (p) => bar.update(p.batch / p.batches),
   *   callbacks: { onEpochEnd: (epoch, logs) => console.log(epoch, logs.val_loss) },
   *   workerCallbacks: [{ type: 'earlyStopping', patience: 3, restoreBestWeights: true }],
   * });
   * ```
   */
  fit(x: TensorLike | TensorLike[], y: TensorLike | TensorLike[], args?: WorkerFitArgs<CallbackSpec>): Promise<History>;
  /**
   * Trains on batches a dataset of the worker makes (registered with `rnn.worker.serve({datasets})`,
   * Keras `fit` with a generator): the data never crosses to the page.
   *
   * @example
   * ```ts
   * // in the worker module: rnn.worker.serve({ models: {...}, datasets: { windows: (args) => ({ dataset, batchesPerEpoch }) } })
   * const history = await model.fitDataset('windows', { window: 50 }, { epochs: 10, onProgress: show });
   * ```
   */
  fitDataset(name: string, datasetArgs: unknown, args?: WorkerFitDatasetArgs<CallbackSpec>): Promise<History>;
  /** Ends the running fit after its current batch (Keras `model.stop_training = True`); fit then resolves. */
  stop(): void;
  /** Loss (and compiled metrics) on (x, y), as `model.evaluate`. */
  evaluate(x: TensorLike | TensorLike[], y: TensorLike | TensorLike[], args?: { batchSize?: number; transfer?: boolean }): Promise<number | number[]>;
  /** The model's outputs for x, as `model.predict`. */
  predict(x: TensorLike | TensorLike[], args?: { batchSize?: number; transfer?: boolean }): Promise<HostTensor>;
  /** `rnn.iterativeForecast(model, x, steps)` in the worker: [batch, steps]. */
  iterativeForecast(x: TensorLike, steps: number, args?: { batchSize?: number; transfer?: boolean }): Promise<HostTensor>;
  /** All weights in Keras order and layout, as `model.getWeights`. */
  getWeights(): Promise<HostTensor[]>;
  /** Sets all weights (Keras order and layout), as `model.setWeights`. */
  setWeights(weights: TensorLike[]): Promise<void>;
  /** Frees the model's GPU memory in the worker. */
  dispose(): Promise<void>;
  /**
   * Saves the model (`model.save` in the worker, same targets and options): the worker encodes the
   * files and the page writes them, so page-only targets work — `'downloads://name'`,
   * `'indexeddb://name'`, `rnn.io.memory()`, your own handler.
   *
   * @example
   * ```ts
   * await model.save('indexeddb://forecaster');                    // resumes training exactly
   * await model.save('downloads://forecaster', { format: 'keras' }); // forecaster.keras
   * ```
   */
  save(target: string | IOHandler, options?: SaveOptions): Promise<SaveResult>;
  /**
   * Runs a task of the worker module on this model (`rnn.worker.serve({tasks: {name: (model, args) => result}})`)
   * and resolves with its result — e.g. forecasts scored on data the worker holds.
   */
  task<R = unknown>(name: string, args?: unknown): Promise<R>;
}

/** The page's end of a training Worker (what `rnn.worker.create()` returns). */
class TrainingWorkerClient<Spec, CallbackSpec> implements TrainingWorker<Spec, CallbackSpec> {
  readonly gpu: Promise<GpuInfo>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(readonly worker: Worker) {
    let gpuResolve!: (info: GpuInfo) => void, gpuReject!: (e: Error) => void;
    this.gpu = new Promise<GpuInfo>((res, rej) => {
      gpuResolve = res;
      gpuReject = rej;
    });
    this.gpu.catch(() => undefined); // reported through the promise; not an unhandled rejection
    worker.addEventListener('message', (ev: MessageEvent<FromWorker & { channel?: unknown }>) => {
      const m = ev.data;
      if (m?.channel !== CHANNEL) return; // the worker module's own messages
      if (m.type === 'gpu') return gpuResolve(m.info);
      if (m.type === 'gpu-error') return gpuReject(toError(m.error));
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'result' || m.type === 'error') {
        this.pending.delete(m.id);
        if (m.type === 'result') p.resolve(m.result);
        else p.reject(toError(m.error));
      } else {
        p.onEvent?.(m);
      }
    });
    const fail = (e: Error) => {
      this.failure ??= e;
      gpuReject(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.addEventListener('error', (ev: ErrorEvent) => {
      ev.preventDefault?.();
      fail(new Error(`the training worker failed: ${ev.message || 'its script could not be loaded or threw'}`));
    });
    worker.addEventListener('messageerror', () => fail(new Error('the training worker sent a message that could not be read')));
  }

  /** Sends a request; resolves with its result. */
  request<K extends keyof Results>(msg: Extract<ToWorker, { op: K }> extends infer M ? Omit<M, 'id'> : never, transfer: Transferable[] = [], onEvent?: Pending['onEvent']): Promise<Results[K]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Results[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(onEvent ? { onEvent } : {}) });
      try {
        this.worker.postMessage({ ...msg, id, channel: CHANNEL }, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  async sequential(spec: Spec): Promise<WorkerModel<CallbackSpec>> {
    return new WorkerModelClient<CallbackSpec>(this, await this.request<'sequential'>({ op: 'sequential', spec }));
  }

  async model(name: string, args?: unknown): Promise<WorkerModel<CallbackSpec>> {
    return new WorkerModelClient<CallbackSpec>(this, await this.request<'model'>({ op: 'model', name, args }));
  }

  async loadModel(source: string | IOHandler): Promise<WorkerModel<CallbackSpec>> {
    const h = resolveHandler(source, 'loadModel');
    if (!h.load) throw new TypeError(`loadModel: ${h.url} can only be saved to, not loaded from`);
    const files = await h.load();
    // copied, not moved: a handler may keep its files (rnn.io.memory)
    return new WorkerModelClient<CallbackSpec>(this, await this.request<'loadModel'>({ op: 'loadModel', url: h.url, files }));
  }

  terminate(): void {
    this.worker.terminate();
    const e = new Error('the training worker was terminated');
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** A model in the worker, seen from the page. */
class WorkerModelClient<CallbackSpec> implements WorkerModel<CallbackSpec> {
  readonly name: string;
  readonly summary: string;
  readonly weightNames: readonly string[];
  readonly params: number;
  readonly loaded: LoadedModelInfo | null;
  private readonly handle: number;

  constructor(private readonly trainer: TrainingWorkerClient<unknown, CallbackSpec>, info: ModelInfo) {
    this.handle = info.handle;
    this.name = info.name;
    this.summary = info.summary;
    this.weightNames = info.weightNames;
    this.params = info.params;
    this.loaded = info.loaded ?? null;
  }

  fit(x: TensorLike | TensorLike[], y: TensorLike | TensorLike[], args: WorkerFitArgs<CallbackSpec> = {}): Promise<History> {
    const { callbacks, onProgress, progressEvery, transfer, validationData, workerCallbacks, ...rest } = args;
    const moved: Transferable[] | null = transfer ? [] : null;
    const { wire, onEvent } = trainingArgs({ callbacks, onProgress, progressEvery, workerCallbacks });
    const fitArgs: WireFitArgs = {
      ...rest,
      ...wire,
      ...(validationData ? { validationData: [toWire(validationData[0], 'fit: validationData x', moved), toWire(validationData[1], 'fit: validationData y', moved)] as [WireData, WireData] } : {}),
    };
    const wx = toWire(x, 'fit: x', moved), wy = toWire(y, 'fit: y', moved);
    return this.trainer.request<'fit'>({ op: 'fit', model: this.handle, x: wx, y: wy, args: fitArgs }, moved ?? [], onEvent);
  }

  fitDataset(name: string, datasetArgs: unknown, args: WorkerFitDatasetArgs<CallbackSpec> = {}): Promise<History> {
    const { callbacks, onProgress, progressEvery, workerCallbacks, ...rest } = args;
    const { wire, onEvent } = trainingArgs({ callbacks, onProgress, progressEvery, workerCallbacks });
    return this.trainer.request<'fitDataset'>({ op: 'fitDataset', model: this.handle, name, datasetArgs, args: { ...rest, ...wire } }, [], onEvent);
  }

  stop(): void {
    this.trainer.worker.postMessage({ ...({ op: 'stop', model: this.handle } satisfies ToWorker), channel: CHANNEL });
  }

  evaluate(x: TensorLike | TensorLike[], y: TensorLike | TensorLike[], args: { batchSize?: number; transfer?: boolean } = {}): Promise<number | number[]> {
    const moved: Transferable[] | null = args.transfer ? [] : null;
    const msg = { op: 'evaluate' as const, model: this.handle, x: toWire(x, 'evaluate: x', moved), y: toWire(y, 'evaluate: y', moved), ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}) };
    return this.trainer.request<'evaluate'>(msg, moved ?? []);
  }

  predict(x: TensorLike | TensorLike[], args: { batchSize?: number; transfer?: boolean } = {}): Promise<HostTensor> {
    const moved: Transferable[] | null = args.transfer ? [] : null;
    const msg = { op: 'predict' as const, model: this.handle, x: toWire(x, 'predict: x', moved), ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}) };
    return this.trainer.request<'predict'>(msg, moved ?? []) as Promise<HostTensor>;
  }

  iterativeForecast(x: TensorLike, steps: number, args: { batchSize?: number; transfer?: boolean } = {}): Promise<HostTensor> {
    const moved: Transferable[] | null = args.transfer ? [] : null;
    const msg = { op: 'iterativeForecast' as const, model: this.handle, x: toWire(x, 'iterativeForecast: x', moved) as HostTensor, steps, ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}) };
    return this.trainer.request<'iterativeForecast'>(msg, moved ?? []);
  }

  getWeights(): Promise<HostTensor[]> {
    return this.trainer.request<'getWeights'>({ op: 'getWeights', model: this.handle });
  }

  async setWeights(weights: TensorLike[]): Promise<void> {
    await this.trainer.request<'setWeights'>({ op: 'setWeights', model: this.handle, weights: weights.map((w, i) => toWire(w, `setWeights: weights[${i}]`, null) as HostTensor) });
  }

  async dispose(): Promise<void> {
    await this.trainer.request<'dispose'>({ op: 'dispose', model: this.handle });
  }

  async save(target: string | IOHandler, options: SaveOptions = {}): Promise<SaveResult> {
    const h = resolveHandler(target, `${this.name}.save`);
    if (!h.save) throw new TypeError(`${this.name}.save: ${h.url} can only be loaded from, not saved to`);
    const wireTarget = { url: h.url, ...(h.format ? { format: h.format } : {}), ...(h.baseName ? { baseName: h.baseName } : {}) };
    const { format, files } = await this.trainer.request<'save'>({ op: 'save', model: this.handle, target: wireTarget, options: { ...options } });
    return h.save(files, format);
  }

  task<R = unknown>(name: string, args?: unknown): Promise<R> {
    return this.trainer.request<'task'>({ op: 'task', model: this.handle, name, args }) as Promise<R>;
  }
}


/** The page's half of a training request: what to send, and how to dispatch the events back. */
function trainingArgs<C>(a: Pick<WorkerFitArgs<C>, 'callbacks' | 'onProgress' | 'progressEvery' | 'workerCallbacks'>): { wire: WireTrainArgs; onEvent: Pending['onEvent'] } {
  const list = a.callbacks === undefined ? [] : Array.isArray(a.callbacks) ? a.callbacks : [a.callbacks];
  const wire: WireTrainArgs = {
    hooks: HOOKS.filter((h) => list.some((cb) => typeof cb[h] === 'function')),
    progressEvery: a.progressEvery ?? 100,
    ...(a.workerCallbacks ? { workerCallbacks: a.workerCallbacks } : {}),
  };
  const onEvent: Pending['onEvent'] = (m) => {
    if (m.type === 'progress') return a.onProgress?.(m.progress);
    for (const cb of list) {
      const f = cb[m.hook] as ((x?: number | Logs, y?: Logs) => unknown) | undefined;
      if (!f) continue;
      try {
        const r = m.index === null ? f.call(cb, m.logs ?? undefined) : f.call(cb, m.index, m.logs ?? {});
        if (r instanceof Promise) r.catch(report);
      } catch (e) {
        report(e);
      }
    }
  };
  return { wire, onEvent };
}

function report(e: unknown): void {
  const r = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (r) r(e);
  else setTimeout(() => {
    throw e;
  });
}

/**
 * Starts a training Worker. Without `url` it runs the library's own worker script (which builds
 * models from specs); with one, your module, which calls `rnn.worker.serve({models})`; given a
 * Worker you made, it uses that one (which may carry your own messages too).
 */
export function createTrainingWorker<Spec, CallbackSpec>(url?: string | URL | Worker, options: TrainingWorkerOptions = {}): TrainingWorker<Spec, CallbackSpec> {
  if (url && typeof url === 'object' && typeof (url as Worker).postMessage === 'function') return new TrainingWorkerClient<Spec, CallbackSpec>(url as Worker);
  if (typeof Worker === 'undefined') throw new Error('rnn.worker.create needs Web Workers (a browser); in Node train in the main thread or in worker_threads');
  // The default URL is written out in full so that bundlers (Vite, webpack 5, Parcel) find the
  // worker script and bundle it; the library's build turns it into dist/worker.js.
  const w = url === undefined ? new Worker(new URL('./entry.ts', import.meta.url), { type: 'module' }) : new Worker(url as string | URL, { type: 'module', ...(options.name !== undefined ? { name: options.name } : {}) });
  return new TrainingWorkerClient<Spec, CallbackSpec>(w);
}
