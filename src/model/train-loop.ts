/**
 * The training loop shared by fit and fitDataset: batches come from a BatchSource; each step is
 * ONE submit (zero gradients, forward, backward, update); the work in flight is bounded with
 * onSubmittedWorkDone every 8 steps; the loss and metrics are read back once per epoch; callbacks
 * run in Keras order, and while they run (and while the loop yields to the event loop) the model
 * may be used (`paused`). Also the single step, fit's argument checks and batch sources (rows
 * reshuffled every epoch with a seeded MT19937), and fit's validation split.
 */
import type { Context } from '../gpu/context';
import type { ParamArena, Variable } from '../gpu/arena';
import { readback, upload } from '../gpu/io';
import { noteSubmit } from '../gpu/dawn-poll';
import type { HostTensor } from '../host';
import { MT19937 } from '../data/mt19937';
import type { OptimizerState } from '../optim/optimizers';
import type { Plan, PlanFor, Totals } from './plans';
import { logsFromSums, type CompiledConfig } from './compile';
import { batchRows, cutRows, rowGatherer, type HostBatch } from './data';
import type { Callback, FitArgs, FitDatasetArgs, History, Logs, ModelData, TrainingStepInfo } from './types';
import { STEP_BACKUP_MAX_BYTES, copyHistory, positionNote, type FitPosition, type PendingBackup } from './backup';
import { checkOptions, is } from '../options';

/** Where the training loop gets its batches. */
export interface BatchSource {
  batchesPerEpoch: number;
  /** Called before the epoch's first batch (fit reshuffles here). */
  startEpoch(epoch: number): void;
  batch(b: number): HostBatch | Promise<HostBatch>;
}

/** What a training step needs: the device, the weights, the model's plans, the optimizer. */
export interface StepTarget {
  ctx: Context;
  arena: ParamArena;
  plan: PlanFor;
  /** The built optimizer state, asked at every step. */
  optimizer(): OptimizerState;
  /** Called before each step with its batch size (stateful layers check it). */
  beginBatch?(rows: number): void;
}

/** What the loop trains: a model, its step, its sums, and how it evaluates validation data. */
export interface TrainTarget extends StepTarget {
  /** Handed to the callbacks (setModel); training stops after the batch where its stopTraining turns true. */
  model: { stopTraining: boolean };
  totals: Totals;
  compiled: CompiledConfig;
  /** Validation: the logs (without the val_ prefix) of the data. */
  evaluate(val: HostBatch): Promise<Logs>;
  /** Marks the model usable by callbacks (true) or busy with a step (false). */
  setPaused(paused: boolean): void;
  /** The host backup's tensors and keeper (backup.ts), read with the loss sums at the loop's sync points. */
  backup?(): PendingBackup;
}

/** The loop's options (FitArgs and FitDatasetArgs share them). */
export interface LoopArgs {
  callbacks?: Callback | Callback[];
  yieldEvery?: number;
}

/**
 * The epoch/batch loop: one submit per step, one readback per epoch (with the host backup); returns
 * the history. `resume`: a backup's position to continue from (its epochs' shuffles are replayed,
 * its running sums restored), so the run goes on as the interrupted one would have.
 */
export async function trainLoop(target: TrainTarget, src: BatchSource, epochs: number, val: HostBatch | null, args: LoopArgs, resume: FitPosition | null = null): Promise<History> {
  const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  const { model, ctx, totals } = target;
  const dev = ctx.device;
  const history: History = resume ? copyHistory(resume.history) : { epoch: [], history: {} };
  const nBatches = src.batchesPerEpoch;
  /** At a sync point: one readback of the loss sums and the backup (if any); the sums. */
  const sync = async (epoch: number, batch: number, seen: number): Promise<Float32Array> => {
    const pending = target.backup?.() ?? null;
    const [sums, ...data] = await readback(dev, totals.tensor, ...(pending?.tensors ?? []));
    ctx.gpu.checkErrors();
    const position: FitPosition = { epoch, batch, epochs, batchesPerEpoch: nBatches, seen, totals: sums!.slice(), history: copyHistory(history) };
    pending?.commit(data, positionNote(position), position);
    return sums!;
  };
  const stepBackups = target.backup !== undefined && target.backup().bytes <= STEP_BACKUP_MAX_BYTES;
  const push = (k: string, v: number) => (history.history[k] ??= []).push(v);
  const yieldEvery = args.yieldEvery ?? (typeof window === 'undefined' ? 200 : 16);
  let lastYield = now();
  /** Runs callbacks (or a yield) with the model usable by them. */
  const pause = async (f: () => Promise<void>) => {
    target.setPaused(true);
    try {
      await f();
    } finally {
      target.setPaused(false);
    }
  };
  model.stopTraining = false;
  for (const cb of callbacks) cb.setModel?.(model as never);
  await pause(async () => {
    for (const cb of callbacks) await cb.onTrainBegin?.();
  });
  for (let e = 0; e < (resume?.epoch ?? 0); e++) src.startEpoch(e); // the finished epochs' shuffles
  for (let epoch = resume?.epoch ?? 0; epoch < epochs && !model.stopTraining; epoch++) {
    await pause(async () => {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    });
    src.startEpoch(epoch);
    totals.clear();
    let seen = 0;
    let first = 0;
    if (resume && epoch === resume.epoch) {
      totals.write(resume.totals);
      [seen, first] = [resume.seen, resume.batch];
    }
    for (let b = first; b < nBatches; b++) {
      const batch = await src.batch(b);
      const rows = batchRows(batch);
      await pause(async () => {
        for (const cb of callbacks) await cb.onBatchBegin?.(b, { size: rows });
      });
      await trainStep(target, batch);
      seen += rows;
      if (b % 8 === 7 && b !== nBatches - 1 && stepBackups) {
        // Bound the work in flight: wait for the GPU to finish, reading the host backup meanwhile.
        await sync(epoch, b + 1, seen);
      } else if (b % 8 === 7 || b === nBatches - 1) {
        await dev.queue.onSubmittedWorkDone(); // (the epoch's end reads the backup)
        ctx.gpu.checkErrors();
      }
      await pause(async () => {
        for (const cb of callbacks) await cb.onBatchEnd?.(b, { batch: b, size: rows });
        if (now() - lastYield > yieldEvery) {
          await new Promise((r) => setTimeout(r, 0));
          lastYield = now();
        }
      });
      if (model.stopTraining) break;
    }
    const logs: Logs = logsFromSums(target.compiled, await sync(epoch, nBatches, seen), seen);
    if (val) for (const [k, v] of Object.entries(await target.evaluate(val))) logs[`val_${k}`] = v;
    // Callbacks first, as Keras's History callback runs last: they may add entries (learning_rate).
    await pause(async () => {
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    });
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) push(k, v);
  }
  await pause(async () => {
    for (const cb of callbacks) await cb.onTrainEnd?.();
  });
  return history;
}

/** Uploads a batch into a plan's input, target and weight tensors. */
export function uploadBatch(dev: GPUDevice, plan: Plan, batch: HostBatch): void {
  batch.xs.forEach((x, i) => upload(dev, plan.xs[i]!, x.data));
  batch.ys.forEach((y, i) => upload(dev, plan.ys[i]!, y.data));
  if (plan.sampleWeight && batch.sampleWeight) upload(dev, plan.sampleWeight, batch.sampleWeight.data);
}

/** The plan shape of a batch. */
export function batchShape(mode: 'train' | 'eval', batch: HostBatch) {
  return { mode, xShapes: batch.xs.map((x) => x.shape), yShapes: batch.ys.map((y) => y.shape), sampleWeight: batch.sampleWeight !== null };
}

/**
 * One training step on a batch: its train plan (built on first use), the batch uploaded, then ONE
 * command buffer submitted: zero the gradients, forward, backward, optimizer update.
 */
export async function trainStep(target: StepTarget, batch: HostBatch): Promise<void> {
  const plan = await target.plan(batchShape('train', batch));
  target.beginBatch?.(batchRows(batch));
  const { ctx, arena } = target;
  const opt = target.optimizer();
  const dev = ctx.device;
  uploadBatch(dev, plan, batch);
  const enc = dev.createCommandEncoder();
  enc.clearBuffer(arena.grads);
  plan.graph.encode(enc);
  opt.program.encode(enc);
  opt.prepareStep(); // this step's learning rate: one queue.writeBuffer, ordered before the submit
  dev.queue.submit([enc.finish()]);
  noteSubmit(stepDispatches(plan, opt));
}

/** Compute dispatches of one training step (forward, backward, optimizer). */
function stepDispatches(plan: Plan, opt: OptimizerState): number {
  const g = plan.graph;
  return g.clears.dispatchCount + g.forward.dispatchCount + g.backwardProgram.dispatchCount + opt.program.dispatchCount;
}

/** The loss's gradients of `vars` on a batch: the train plan's forward and backward, no update; one readback. */
export async function gradientsOf(target: StepTarget, batch: HostBatch, vars: readonly Variable[]): Promise<HostTensor[]> {
  const plan = await target.plan(batchShape('train', batch));
  target.beginBatch?.(batchRows(batch));
  const dev = target.ctx.device;
  uploadBatch(dev, plan, batch);
  const enc = dev.createCommandEncoder();
  enc.clearBuffer(target.arena.grads);
  plan.graph.encode(enc);
  dev.queue.submit([enc.finish()]);
  const data = await readback(dev, ...vars.map((v) => v.grad));
  target.ctx.gpu.checkErrors();
  return vars.map((v, i) => ({ data: Float32Array.from(data[i]!), shape: [...v.shape] }));
}

/** What one training step costs: compute dispatches (forward, backward, optimizer), saved activation bytes, submits (1). */
export function trainStepInfo(plan: Plan, opt: OptimizerState): TrainingStepInfo {
  const g = plan.graph;
  return {
    dispatches: stepDispatches(plan, opt),
    savedBytes: g.savedBytes(),
    submits: 1,
  };
}

/** Checks fit's numeric options; `where` prefixes the errors (e.g. 'sequential.fit'). */
export function checkFitArgs(args: FitArgs, where: string): { epochs: number; batchSize: number } {
  checkOptions(where, args ?? null, {
    epochs: is.nonNegativeInt, batchSize: is.positiveInt, validationData: is.array, validationSplit: is.number, shuffle: is.boolean,
    seed: is.seed, sampleWeight: is.any, callbacks: is.callbacks, yieldEvery: is.nonNegative, resume: is.boolean,
  }, '{epochs: 10, batchSize: 32}');
  const epochs = args.epochs ?? 1;
  const batchSize = args.batchSize ?? 32;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`${where}: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  if (args.validationSplit !== undefined && !(args.validationSplit > 0 && args.validationSplit < 1)) {
    throw new RangeError(`${where}: validationSplit must be in (0, 1), got ${args.validationSplit}`);
  }
  return { epochs, batchSize };
}

/** Checks fitDataset's dataset and options; returns the epochs. `where` prefixes the errors. */
export function checkFitDatasetArgs(dataset: unknown, args: FitDatasetArgs, where: string): number {
  if (typeof dataset !== 'function') throw new TypeError(`${where}: dataset must be a function (epoch, batch) => {x, y}`);
  checkOptions(where, args ?? null, {
    epochs: is.nonNegativeInt, batchesPerEpoch: is.positiveInt, validationData: is.array, validationBatchSize: is.positiveInt, callbacks: is.callbacks, yieldEvery: is.nonNegative, resume: is.boolean,
  }, '{epochs: 10, batchesPerEpoch: 100}');
  const epochs = args.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`${where}: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(args.batchesPerEpoch) || args.batchesPerEpoch <= 0) {
    throw new RangeError(`${where}: batchesPerEpoch must be a positive integer, got ${args.batchesPerEpoch}`);
  }
  return epochs;
}

/**
 * fitDataset's data: called for every (epoch, batch), returns that batch's inputs and targets
 * (or a promise of them).
 */
export type DatasetFn = (epoch: number, batch: number) => DatasetBatch | Promise<DatasetBatch>;

/** One batch of fitDataset's data. */
export interface DatasetBatch {
  /** The inputs. */
  x: ModelData;
  /** The targets. */
  y: ModelData;
}

/**
 * fitDataset's batches: `dataset(epoch, b)`, converted and checked by `load` (which may also
 * build the model); `load`'s `where` names the batch in errors.
 */
export function datasetBatchSource(dataset: DatasetFn, batchesPerEpoch: number, load: (raw: { x: ModelData; y: ModelData }, where: string) => Promise<HostBatch>): BatchSource {
  let epoch = 0;
  return {
    batchesPerEpoch,
    startEpoch: (e) => (epoch = e),
    batch: async (b) => load(await dataset(epoch, b), `fitDataset: batch ${b} of epoch ${epoch}`),
  };
}

/**
 * fit's training and validation data: `validationData` (converted and checked by `prepare`), else
 * the last rows given by `validationSplit`, else none. `where` prefixes the errors.
 */
export function fitValidation(args: FitArgs, data: HostBatch, prepare: (x: ModelData, y: ModelData) => HostBatch, where: string): { train: HostBatch; val: HostBatch | null } {
  if (args.validationData) {
    if (!Array.isArray(args.validationData) || args.validationData.length !== 2) throw new TypeError(`${where}: validationData must be [x, y]`);
    return { train: data, val: prepare(args.validationData[0], args.validationData[1]) };
  }
  if (!args.validationSplit) return { train: data, val: null };
  // Keras validationSplit: the last `fraction` of the rows (before shuffling) become the validation data.
  const n = batchRows(data);
  const nVal = Math.floor(n * args.validationSplit);
  if (nVal < 1 || nVal >= n) throw new RangeError(`${where}: validationSplit ${args.validationSplit} leaves no training or no validation rows of ${n}`);
  return { train: cutRows(data, 0, n - nVal), val: cutRows(data, n - nVal, n) };
}

/**
 * fit's batches: rows of `data` in an order reshuffled every epoch (when `shuffle`) with MT19937
 * seeded by `seed`; the last batch may be partial. Batches are views of reused buffers.
 */
export function arrayBatchSource(data: HostBatch, batchSize: number, shuffle: boolean, seed: number): BatchSource {
  const n = batchRows(data);
  const rng = new MT19937(seed >>> 0);
  const order = new Uint32Array(n).map((_, i) => i);
  const gather = rowGatherer(data, batchSize);
  return {
    batchesPerEpoch: Math.ceil(n / batchSize),
    startEpoch: () => {
      if (shuffle) shuffleInPlace(order, rng);
    },
    batch: (b) => gather(order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize))),
  };
}

/** Fisher–Yates with the model's seeded generator. */
export function shuffleInPlace(a: Uint32Array, rng: MT19937): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

