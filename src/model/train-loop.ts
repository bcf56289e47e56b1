/**
 * The training loop shared by fit and fitDataset (and by any model class): batches come from a
 * BatchSource; each step is ONE submit (zero gradients, forward, backward, update); the work in
 * flight is bounded with onSubmittedWorkDone every 8 steps; the loss and metrics are read back
 * once per epoch; callbacks run in Keras order; the event loop gets a turn every `yieldEvery` ms.
 * Also the single training step, fit's and fitDataset's argument checks and batch sources (fit's
 * rows reshuffled every epoch with a seeded MT19937), and fit's validation split.
 */
import type { Context } from '../gpu/context';
import type { ParamArena } from '../gpu/arena';
import { upload } from '../gpu/io';
import { gatherRows, type HostTensor, type TensorLike } from '../host';
import { MT19937 } from '../data/mt19937';
import type { OptimizerState } from '../optim/optimizers';
import { LOSS_SLOT, type Plan, type PlanFor, type Totals } from './plans';
import { evaluateBatches } from './inference';
import type { Callback, FitArgs, FitDatasetArgs, History, Logs, MetricName } from './types';

/** One batch of host data: inputs and targets with the same row count. */
export interface HostBatch {
  x: HostTensor;
  y: HostTensor;
}

/** Where the training loop gets its batches. */
export interface BatchSource {
  batchesPerEpoch: number;
  /** Called before the epoch's first batch (fit reshuffles here). */
  startEpoch(epoch: number): void;
  batch(b: number): HostBatch | Promise<HostBatch>;
}

/** A callback of a model of type M (a Sequential's `Callback` is a `LoopCallback<Sequential>`). */
export type LoopCallback<M> = Omit<Callback, 'setModel'> & { setModel?(model: M): void };

/** What a training step needs: the device, the weights, the model's plans, the optimizer. */
export interface StepTarget {
  ctx: Context;
  arena: ParamArena;
  plan: PlanFor;
  /** The built optimizer state, asked at every step. */
  optimizer(): OptimizerState;
}

/** What the loop trains: a model, its step, and the sums its plans write the loss and metrics to. */
export interface TrainTarget<M extends { stopTraining: boolean }> extends StepTarget {
  /** Handed to the callbacks (setModel); training stops after the batch where its stopTraining turns true. */
  model: M;
  totals: Totals;
  /** The compiled metrics: log names, summed in totals slots 1 + i. */
  metrics: readonly MetricName[];
}

/** The loop's options (FitArgs and FitDatasetArgs share them). */
export interface LoopArgs<M> {
  callbacks?: LoopCallback<M> | LoopCallback<M>[];
  yieldEvery?: number;
  validationBatchSize?: number;
}

/** The epoch/batch loop: one submit per step, one readback per epoch; returns the history. */
export async function trainLoop<M extends { stopTraining: boolean }>(
  target: TrainTarget<M>,
  src: BatchSource,
  epochs: number,
  val: HostBatch | null,
  args: LoopArgs<M>,
): Promise<History> {
  const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  const { model, ctx, totals } = target;
  const dev = ctx.device;
  const metricNames = target.metrics;
  const history: History = { epoch: [], history: {} };
  const push = (k: string, v: number) => (history.history[k] ??= []).push(v);
  const yieldEvery = args.yieldEvery ?? (typeof window === 'undefined' ? 200 : 16);
  let lastYield = now();
  model.stopTraining = false;
  for (const cb of callbacks) cb.setModel?.(model);
  for (const cb of callbacks) await cb.onTrainBegin?.();
  for (let epoch = 0; epoch < epochs && !model.stopTraining; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    src.startEpoch(epoch);
    totals.clear();
    let seen = 0;
    const nBatches = src.batchesPerEpoch;
    for (let b = 0; b < nBatches; b++) {
      const { x, y } = await src.batch(b);
      const rows = x.shape[0]!;
      for (const cb of callbacks) await cb.onBatchBegin?.(b, { size: rows });
      await trainStep(target, x, y);
      seen += rows;
      if (b % 8 === 7 || b === nBatches - 1) {
        // Bound the work in flight (no readback: the GPU signals completion).
        await dev.queue.onSubmittedWorkDone();
        ctx.gpu.checkErrors();
      }
      for (const cb of callbacks) await cb.onBatchEnd?.(b, { batch: b, size: rows });
      if (now() - lastYield > yieldEvery) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = now();
      }
      if (model.stopTraining) break;
    }
    const sums = await totals.read(1 + metricNames.length);
    const logs: Logs = { loss: sums[LOSS_SLOT]! / seen };
    metricNames.forEach((m, i) => (logs[m] = sums[1 + i]! / seen));
    if (val) {
      const v = await evaluateBatches(ctx, target.plan, totals, metricNames.length, val.x, val.y, args.validationBatchSize ?? 128);
      logs.val_loss = v[0]!;
      metricNames.forEach((m, i) => (logs[`val_${m}`] = v[1 + i]!));
    }
    // Callbacks first, as Keras's History callback runs last: they may add entries (learning_rate).
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) push(k, v);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.();
  return history;
}

/**
 * One training step on a batch: its train plan (built on first use), the batch uploaded, then ONE
 * command buffer submitted: zero the gradients, forward, backward, optimizer update.
 */
export async function trainStep(target: StepTarget, x: HostTensor, y: HostTensor): Promise<void> {
  const plan = await target.plan('train', x.shape, y.shape);
  const { ctx, arena } = target;
  const opt = target.optimizer();
  const dev = ctx.device;
  upload(dev, plan.x, x.data);
  upload(dev, plan.y!, y.data);
  const enc = dev.createCommandEncoder();
  enc.clearBuffer(arena.grads);
  plan.graph.encode(enc);
  opt.program.encode(enc);
  opt.prepareStep(); // this step's learning rate: one queue.writeBuffer, ordered before the submit
  dev.queue.submit([enc.finish()]);
}

/** What one training step costs: compute dispatches (forward, backward, optimizer), saved activation bytes, submits (1). */
export function trainStepInfo(plan: Plan, opt: OptimizerState): { dispatches: number; savedBytes: number; submits: number } {
  const g = plan.graph;
  return {
    dispatches: g.clears.dispatchCount + g.forward.dispatchCount + g.backwardProgram.dispatchCount + opt.program.dispatchCount,
    savedBytes: g.savedBytes(),
    submits: 1,
  };
}

/** Checks fit's numeric options; `where` prefixes the errors (e.g. 'sequential.fit'). */
export function checkFitArgs(args: FitArgs, where: string): { epochs: number; batchSize: number } {
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
  const epochs = args.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`${where}: epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(args.batchesPerEpoch) || args.batchesPerEpoch <= 0) {
    throw new RangeError(`${where}: batchesPerEpoch must be a positive integer, got ${args.batchesPerEpoch}`);
  }
  return epochs;
}

/** What fitDataset's dataset function returns for (epoch, batch). */
export type DatasetFn = (epoch: number, batch: number) => { x: TensorLike; y: TensorLike } | Promise<{ x: TensorLike; y: TensorLike }>;

/**
 * fitDataset's batches: `dataset(epoch, b)`, converted and checked by `load` (which may also
 * build the model); `load`'s `where` names the batch in errors.
 */
export function datasetBatchSource(dataset: DatasetFn, batchesPerEpoch: number, load: (raw: { x: TensorLike; y: TensorLike }, where: string) => Promise<HostBatch>): BatchSource {
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
export function fitValidation(args: FitArgs, data: HostBatch, prepare: (x: TensorLike, y: TensorLike) => HostBatch, where: string): { train: HostBatch; val: HostBatch | null } {
  if (args.validationData) {
    if (!Array.isArray(args.validationData) || args.validationData.length !== 2) throw new TypeError(`${where}: validationData must be [x, y]`);
    return { train: data, val: prepare(args.validationData[0], args.validationData[1]) };
  }
  return args.validationSplit ? splitValidation(data.x, data.y, args.validationSplit, where) : { train: data, val: null };
}

/** Keras validationSplit: the last `fraction` of the rows (before shuffling) become the validation data. */
export function splitValidation(x: HostTensor, y: HostTensor, fraction: number, where: string): { train: HostBatch; val: HostBatch } {
  const n = x.shape[0]!;
  const nVal = Math.floor(n * fraction);
  if (nVal < 1 || nVal >= n) throw new RangeError(`${where}: validationSplit ${fraction} leaves no training or no validation rows of ${n}`);
  const cut = (t: HostTensor, a: number, b: number): HostTensor => {
    const row = t.data.length / t.shape[0]!;
    return { data: t.data.subarray(a * row, b * row), shape: [b - a, ...t.shape.slice(1)] };
  };
  return { train: { x: cut(x, 0, n - nVal), y: cut(y, 0, n - nVal) }, val: { x: cut(x, n - nVal, n), y: cut(y, n - nVal, n) } };
}

/**
 * fit's batches: rows of (x, y) in an order reshuffled every epoch (when `shuffle`) with MT19937
 * seeded by `seed`; the last batch may be partial. Batches are views of two reused buffers.
 */
export function arrayBatchSource(x: HostTensor, y: HostTensor, batchSize: number, shuffle: boolean, seed: number): BatchSource {
  const n = x.shape[0]!;
  const rng = new MT19937(seed >>> 0);
  const order = new Uint32Array(n).map((_, i) => i);
  const xRow = x.data.length / n, yRow = y.data.length / n;
  const xBuf = new Float32Array(batchSize * xRow), yBuf = new Float32Array(batchSize * yRow);
  return {
    batchesPerEpoch: Math.ceil(n / batchSize),
    startEpoch: () => {
      if (shuffle) shuffleInPlace(order, rng);
    },
    batch: (b) => {
      const start = b * batchSize, rows = Math.min(n, start + batchSize) - start;
      const idx = order.subarray(start, start + rows);
      gatherRows(x, idx, xBuf);
      gatherRows(y, idx, yBuf);
      return {
        x: { data: xBuf.subarray(0, rows * xRow), shape: [rows, ...x.shape.slice(1)] },
        y: { data: yBuf.subarray(0, rows * yRow), shape: [rows, ...y.shape.slice(1)] },
      };
    },
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
