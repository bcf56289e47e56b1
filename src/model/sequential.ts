/**
 * Sequential model: Keras/tfjs-style compile / fit / evaluate / predict / trainOnBatch,
 * getWeights / setWeights (Keras 3 layouts and order) and summary.
 *
 * How a training step runs: for each distinct batch shape the model builds a Plan once — a
 * Graph (forward, loss, tape backward) plus the optimizer's fused update, every bind group and
 * uniform created at build time. A step then uploads the batch (queue.writeBuffer), records
 * [zero gradients, forward, backward, update] into ONE command encoder and submits it once. The
 * loss is summed on the GPU and read back once per epoch (trainOnBatch reads it per call, as its
 * contract requires). Plans are cached (a partial last batch gets its own); their buffers come
 * from the pool, so memory stops growing after the first epoch.
 */
import type { HostTensor } from '../host';
import { getContext, type Context } from '../gpu/context';
import { readback, upload } from '../gpu/io';
import { Graph } from '../autograd/tape';
import { Tensor, shapeSize } from '../tensor';
import { Layer, shapeToString, type Shape } from '../layers/layer';
import { initialize, Rng } from '../layers/initializers';
import { MT19937 } from '../data/mt19937';
import { mse, accumulateScalar } from '../ops/loss';
import { ParamArena } from './arena';
import { resolveOptimizer, type Optimizer, type OptimizerState } from '../optim/optimizers';
import { toHostTensor, gatherRows, type TensorLike } from './inputs';
import { isStatefulLayer } from '../layers/recurrent';

export type LossName = 'mse' | 'meanSquaredError' | 'mean_squared_error';

/**
 * A loss with options: mean squared error that ignores the first `warmupSteps` time steps of
 * [batch, time, features] outputs (the weather lesson's `loss_mse_warmup`: a recurrent model's
 * first outputs have seen too little history to be judged). Made by `rnn.losses.meanSquaredError`.
 */
export interface LossSpec {
  kind: 'mse';
  warmupSteps: number;
}
export type MetricName = 'mse' | 'lastTimeStepMse' | 'last_time_step_mse';

export interface CompileArgs {
  /** An optimizer from `rnn.optimizers` or a name ('adam', 'adamw', 'sgd', 'rmsprop'). */
  optimizer: Optimizer | string;
  /** Mean squared error: 'mse' or `rnn.losses.meanSquaredError({warmupSteps})`. */
  loss: LossName | LossSpec;
  /** Extra metrics reported in fit's history and by evaluate: 'mse', 'lastTimeStepMse'. */
  metrics?: MetricName[];
}

export type Logs = Record<string, number>;

/** Callbacks with tfjs/Keras names. All may be async; training awaits them. */
export interface Callback {
  /** Called by fit() before onTrainBegin with the model being trained (Keras `callback.model`). */
  setModel?(model: Sequential): void;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /** `logs.size` is the batch's row count. The loss is not read back per batch (no per-step readback). */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

export interface FitArgs {
  /** Default 1. */
  epochs?: number;
  /** Default 32 (Keras). */
  batchSize?: number;
  /** Evaluated at the end of every epoch; adds val_loss (and val_ metrics) to the history. */
  validationData?: [TensorLike, TensorLike];
  /** Fraction of the data (taken from the end, before shuffling, as Keras does) used for validation. */
  validationSplit?: number;
  /** Shuffle the training rows every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: the model's seed). */
  seed?: number;
  callbacks?: Callback | Callback[];
  /** Give the event loop a turn at least every this many milliseconds (browsers stay responsive). Default 16 in browsers, 200 in Node. */
  yieldEvery?: number;
}

export interface FitDatasetArgs {
  /** Default 1. */
  epochs?: number;
  /** Batches drawn per epoch (Keras steps_per_epoch). */
  batchesPerEpoch: number;
  validationData?: [TensorLike, TensorLike];
  /** Rows per validation forward pass (default 128; 1 for one long sequence). */
  validationBatchSize?: number;
  callbacks?: Callback | Callback[];
  yieldEvery?: number;
}

interface BatchSource {
  batchesPerEpoch: number;
  startEpoch(epoch: number): void;
  batch(b: number): { x: HostTensor; y: HostTensor } | Promise<{ x: HostTensor; y: HostTensor }>;
}

export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

export interface EvaluateArgs {
  /** Rows per forward pass (default 128; results do not depend on it). */
  batchSize?: number;
}

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
  /** Seed of the weight initializers and of fit's shuffling. Default: `setSeed`'s value, else random. */
  seed?: number;
}

let globalSeed: number | null = null;
let modelCounter = 0;

/** Seeds all models created afterwards (like keras.utils.set_random_seed). */
export function setSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`setSeed: seed must be an integer in [0, 2^32-1], got ${seed}`);
  globalSeed = seed;
  modelCounter = 0;
}

interface Plan {
  key: string;
  mode: 'train' | 'eval' | 'predict' | 'step';
  batch: number;
  graph: Graph;
  x: Tensor;
  y: Tensor | null;
  out: Tensor;
}

const LOSS_SLOT = 0;
const MAX_PLANS = 6;

export class Sequential {
  readonly name: string;
  readonly layers: Layer[] = [];
  readonly seed: number;
  /** Set to true (e.g. from a callback or a Stop button) to stop fit() after the current batch. */
  stopTraining = false;

  private ctx: Context | null = null;
  private arena: ParamArena | null = null;
  private builtInput: Shape | null = null;
  private compiled: { optimizer: Optimizer; metrics: MetricName[]; loss: LossSpec } | null = null;
  private optState: OptimizerState | null = null;
  private plans = new Map<string, Plan>();
  private totals: Tensor | null = null;
  private totalsBuffer: GPUBuffer | null = null;
  private busy = false;

  constructor(args: SequentialArgs = {}) {
    this.name = args.name ?? 'sequential';
    this.seed = args.seed ?? (globalSeed !== null ? globalSeed + modelCounter++ : Math.floor(Math.random() * 2 ** 31));
    for (const l of args.layers ?? []) this.add(l);
  }

  /** Appends a layer (before the model is built). */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new TypeError(`${this.name}.add: expected a layer, got ${typeof layer}`);
    if (this.arena) throw new Error(`${this.name}.add: the model is already built; create a new model to change its layers`);
    this.layers.push(layer);
  }

  /** The compiled optimizer (null before compile); callbacks such as reduceLROnPlateau change its learning rate. */
  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }

  /** Input shape without batch, from the first layer's inputShape (null if not given yet). */
  get inputShape(): Shape | null {
    return this.builtInput ?? this.layers[0]?.inputShape ?? null;
  }

  /** Output shapes of every layer for an input shape (validates the stack). */
  private shapesFor(input: Shape): Shape[] {
    if (!this.layers.length) throw new Error(`${this.name}: the model has no layers`);
    const shapes: Shape[] = [input];
    for (const l of this.layers) shapes.push(l.outputShape(shapes[shapes.length - 1]!));
    return shapes;
  }

  /** The model's output shape (without batch). */
  outputShape(input: Shape | null = this.inputShape): Shape {
    if (!input) throw new Error(`${this.name}: input shape unknown; give the first layer an inputShape or call fit/predict first`);
    return this.shapesFor(input).at(-1)!;
  }

  /** Configures training. Can be called again to change the optimizer (its state restarts). */
  compile(args: CompileArgs): void {
    if (!args || typeof args !== 'object') throw new TypeError(`${this.name}.compile: expected {optimizer, loss}`);
    let loss: LossSpec;
    if (typeof args.loss === 'object' && args.loss !== null && args.loss.kind === 'mse') {
      const w = args.loss.warmupSteps;
      if (!Number.isInteger(w) || w < 0) throw new RangeError(`${this.name}.compile: warmupSteps must be a non-negative integer, got ${w}`);
      loss = { kind: 'mse', warmupSteps: w };
    } else if (typeof args.loss === 'string' && ['mse', 'meanSquaredError', 'mean_squared_error'].includes(args.loss)) {
      loss = { kind: 'mse', warmupSteps: 0 };
    } else {
      throw new Error(`${this.name}.compile: unknown loss '${String(args.loss)}' (supported: mse, meanSquaredError, rnn.losses.meanSquaredError({warmupSteps}))`);
    }
    const optimizer = resolveOptimizer(args.optimizer);
    const metrics = (args.metrics ?? []).map((m) => {
      if (m === 'mse' || m === 'lastTimeStepMse') return m;
      if (m === 'last_time_step_mse') return 'lastTimeStepMse';
      throw new Error(`${this.name}.compile: unknown metric '${String(m)}' (supported: mse, lastTimeStepMse)`);
    });
    this.optState?.destroy();
    this.optState = null;
    this.disposePlans('train');
    this.compiled = { optimizer, metrics, loss };
  }

  // ---------------------------------------------------------------- building

  /** Builds the weights for an input shape (called by fit/predict; needs the GPU). */
  async build(input?: Shape): Promise<void> {
    const shape = input ?? this.inputShape;
    if (!shape) throw new Error(`${this.name}: input shape unknown; give the first layer an inputShape`);
    if (this.arena) {
      this.checkInput(shape, 'build');
      return;
    }
    const declared = this.layers[0]?.inputShape;
    const use: Shape = declared ?? shape;
    const shapes = this.shapesFor(use);
    const specs = this.layers.flatMap((l, i) => l.weightSpecs(shapes[i]!).map((s) => ({ layer: l, spec: s })));
    const ctx = (this.ctx ??= await getContext());
    const arena = new ParamArena(ctx, specs.map(({ layer, spec }) => ({ name: `${layer.name}/${spec.name}`, shape: spec.shape, trainable: spec.trainable ?? true })));
    const rng = new Rng(new MT19937(this.seed >>> 0));
    for (let i = 0; i < specs.length; i++) {
      const { spec } = specs[i]!;
      const values = spec.initValues ? spec.initValues(rng) : initialize(spec.init, spec.shape, rng);
      upload(ctx.device, arena.vars[i]!.value, values);
    }
    this.arena = arena;
    this.builtInput = use;
    this.totalsBuffer = ctx.device.createBuffer({ label: 'totals', size: 64, usage: 0x80 | 0x04 | 0x08 });
    this.totals = new Tensor(this.totalsBuffer, [16], 0, false, 'totals');
  }

  /** Checks a data shape (without batch) against the model's input shape. */
  private checkInput(shape: Shape, where: string): void {
    const want = this.builtInput ?? this.layers[0]?.inputShape;
    if (!want) return;
    const ok = shape.length === want.length && want.every((d, i) => d === null || d === shape[i]);
    if (!ok) {
      throw new RangeError(`${this.name}.${where}: input shape ${shapeToString(shape)} does not match the model's input ${shapeToString(want)}${this.layers[0] ? ` (layer ${this.layers[0].name})` : ''}`);
    }
  }

  private get readyCtx(): Context {
    if (!this.ctx) throw new Error(`${this.name}: not built`);
    return this.ctx;
  }

  // ---------------------------------------------------------------- plans

  private async plan(mode: Plan['mode'], xShape: readonly number[], yShape: readonly number[] | null): Promise<Plan> {
    const key = `${mode}:${xShape.join('x')}:${yShape?.join('x') ?? ''}`;
    const hit = this.plans.get(key);
    if (hit) {
      this.plans.delete(key); // LRU: re-insert as newest
      this.plans.set(key, hit);
      return hit;
    }
    const ctx = this.readyCtx;
    const arena = this.arena!;
    const graph = new Graph(ctx, mode === 'train');
    graph.statefulStep = mode === 'step'; // predictStep: recurrent layers use their stored state
    try {
      const x = graph.alloc(xShape, 'x');
      const y = yShape ? graph.alloc(yShape, 'y') : null;
      let h = x;
      let vi = 0;
      const shapes = this.shapesFor(xShape.slice(1));
      for (let li = 0; li < this.layers.length; li++) {
        const layer = this.layers[li]!;
        const n = layer.weightSpecs(shapes[li]!).length;
        const ws = arena.vars.slice(vi, vi + n);
        vi += n;
        if (mode === 'train') for (const v of ws) graph.setGrad(v.value, v.grad);
        const hIn = h;
        // (inference graphs record no tape, so the weights' requiresGrad flag is ignored there)
        h = await layer.call(graph, h, ws.map((v) => v.value));
        // Keras mask propagation: per-step layers (same [B, T] leading dims) pass the mask on.
        if (hIn.mask && !h.mask && h.shape.length === 3 && h.shape[0] === hIn.shape[0] && h.shape[1] === hIn.shape[1]) h.mask = hIn.mask;
      }
      const out = h;
      if (y && mode !== 'predict') {
        const batch = xShape[0]!;
        const loss = await mse(graph, out, y, this.lossWindow(out));
        await accumulateScalar(graph, loss, this.totals!, LOSS_SLOT, batch);
        for (const [i, m] of this.compiled!.metrics.entries()) {
          const metric = m === 'mse' ? loss : await this.metricTensor(graph, m, out, y);
          await accumulateScalar(graph, metric, this.totals!, 1 + i, batch);
        }
        if (mode === 'train') await graph.backward(loss);
      }
      const plan: Plan = { key, mode, batch: xShape[0]!, graph, x, y, out };
      this.plans.set(key, plan);
      while (this.plans.size > MAX_PLANS) {
        const oldest = this.plans.keys().next().value as string;
        this.plans.get(oldest)!.graph.dispose();
        this.plans.delete(oldest);
      }
      return plan;
    } catch (e) {
      graph.dispose();
      throw e;
    }
  }

  /** The time steps the loss covers: [warmupSteps, T) for sequence outputs, everything otherwise. */
  private lossWindow(out: Tensor): [number, number] | undefined {
    const w = this.compiled!.loss.warmupSteps;
    if (!w) return undefined;
    if (out.shape.length !== 3) throw new RangeError(`${this.name}: a loss with warmupSteps needs [batch, time, features] outputs, got [${out.shape.join(', ')}]`);
    const T = out.shape[1]!;
    if (w >= T) throw new RangeError(`${this.name}: warmupSteps ${w} leaves no time step of ${T} for the loss`);
    return [w, T];
  }

  private async metricTensor(g: Graph, m: MetricName, out: Tensor, y: Tensor): Promise<Tensor> {
    if (m === 'lastTimeStepMse') {
      if (out.shape.length !== 3) throw new Error(`${this.name}: lastTimeStepMse needs [batch, time, features] outputs, got [${out.shape.join(', ')}]`);
      // metrics are not differentiated: compute on aliases without gradient
      const T = out.shape[1]!;
      const noGrad = (t: Tensor) => new Tensor(t.buffer, t.shape, t.byteOffset, false, t.name);
      return mse(g, noGrad(out), noGrad(y), [T - 1, T]);
    }
    throw new Error(`unsupported metric ${m}`);
  }

  private disposePlans(mode?: Plan['mode']): void {
    for (const [k, p] of this.plans) {
      if (mode && p.mode !== mode) continue;
      p.graph.dispose();
      this.plans.delete(k);
    }
  }

  // ---------------------------------------------------------------- data checks

  private prepare(xIn: TensorLike, yIn: TensorLike | null, where: string): { x: HostTensor; y: HostTensor | null } {
    const x = toHostTensor(xIn, `${where}: x`);
    this.checkInput(x.shape.slice(1), where);
    const y = yIn === null ? null : toHostTensor(yIn, `${where}: y`);
    if (y) {
      if (y.shape[0] !== x.shape[0]) {
        throw new RangeError(`${where}: x has ${x.shape[0]} rows (shape [${x.shape.join(', ')}]) but y has ${y.shape[0]} (shape [${y.shape.join(', ')}])`);
      }
      const out = this.outputShape(x.shape.slice(1));
      const ok = out.length === y.shape.length - 1 && out.every((d, i) => d === y.shape[i + 1]);
      if (!ok) {
        throw new RangeError(`${where}: y has shape [${y.shape.join(', ')}] but the model outputs ${shapeToString(out)} for x of shape [${x.shape.join(', ')}]`);
      }
    }
    return { x, y };
  }

  private async enter(where: string): Promise<void> {
    if (this.busy) throw new Error(`${this.name}.${where}: the model is busy with another call (await it first)`);
    this.busy = true;
  }

  // ---------------------------------------------------------------- training

  /** Trains on (x, y) for `epochs`; returns the per-epoch history (loss, val_loss, metrics). */
  async fit(xIn: TensorLike, yIn: TensorLike, args: FitArgs = {}): Promise<History> {
    if (!this.compiled) throw new Error(`${this.name}.fit: call compile({optimizer, loss}) first`);
    const epochs = args.epochs ?? 1;
    const batchSize = args.batchSize ?? 32;
    if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`${this.name}.fit: epochs must be a non-negative integer, got ${epochs}`);
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`${this.name}.fit: batchSize must be a positive integer, got ${batchSize}`);
    if (args.validationSplit !== undefined && !(args.validationSplit > 0 && args.validationSplit < 1)) {
      throw new RangeError(`${this.name}.fit: validationSplit must be in (0, 1), got ${args.validationSplit}`);
    }
    let { x, y } = this.prepare(xIn, yIn, 'fit');
    let val: { x: HostTensor; y: HostTensor } | null = null;
    if (args.validationData) {
      if (!Array.isArray(args.validationData) || args.validationData.length !== 2) throw new TypeError(`${this.name}.fit: validationData must be [x, y]`);
      const v = this.prepare(args.validationData[0], args.validationData[1], 'fit: validationData');
      val = { x: v.x, y: v.y! };
    } else if (args.validationSplit) {
      const n = x.shape[0]!;
      const nVal = Math.floor(n * args.validationSplit);
      if (nVal < 1 || nVal >= n) throw new RangeError(`${this.name}.fit: validationSplit ${args.validationSplit} leaves no training or no validation rows of ${n}`);
      const cut = (t: HostTensor, a: number, b: number): HostTensor => {
        const row = t.data.length / t.shape[0]!;
        return { data: t.data.subarray(a * row, b * row), shape: [b - a, ...t.shape.slice(1)] };
      };
      val = { x: cut(x, n - nVal, n), y: cut(y!, n - nVal, n) };
      x = cut(x, 0, n - nVal);
      y = cut(y!, 0, n - nVal);
    }
    await this.enter('fit');
    try {
      await this.build(x.shape.slice(1));
      const n = x.shape[0]!;
      const rng = new MT19937((args.seed ?? this.seed) >>> 0);
      const order = new Uint32Array(n).map((_, i) => i);
      const xRow = x.data.length / n, yRow = y!.data.length / n;
      const xBuf = new Float32Array(batchSize * xRow), yBuf = new Float32Array(batchSize * yRow);
      const shuffle = args.shuffle ?? true;
      return await this.trainLoop(
        {
          batchesPerEpoch: Math.ceil(n / batchSize),
          startEpoch: () => {
            if (shuffle) shuffleInPlace(order, rng);
          },
          batch: (b) => {
            const start = b * batchSize, rows = Math.min(n, start + batchSize) - start;
            const idx = order.subarray(start, start + rows);
            gatherRows(x, idx, xBuf);
            gatherRows(y!, idx, yBuf);
            return {
              x: { data: xBuf.subarray(0, rows * xRow), shape: [rows, ...x.shape.slice(1)] },
              y: { data: yBuf.subarray(0, rows * yRow), shape: [rows, ...y!.shape.slice(1)] },
            };
          },
        },
        args.epochs ?? 1,
        val,
        args,
      );
    } finally {
      this.busy = false;
    }
  }

  /**
   * Trains on batches produced by `dataset(epoch, batch)` (tfjs `fitDataset`, Keras `fit` with a
   * generator and steps_per_epoch): e.g. random sub-sequences drawn fresh for every step. Each
   * batch is validated like fit's data; batch sizes may differ between calls.
   */
  async fitDataset(dataset: (epoch: number, batch: number) => { x: TensorLike; y: TensorLike } | Promise<{ x: TensorLike; y: TensorLike }>, args: FitDatasetArgs): Promise<History> {
    if (!this.compiled) throw new Error(`${this.name}.fitDataset: call compile({optimizer, loss}) first`);
    if (typeof dataset !== 'function') throw new TypeError(`${this.name}.fitDataset: dataset must be a function (epoch, batch) => {x, y}`);
    const epochs = args.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`${this.name}.fitDataset: epochs must be a non-negative integer, got ${epochs}`);
    if (!Number.isInteger(args.batchesPerEpoch) || args.batchesPerEpoch <= 0) {
      throw new RangeError(`${this.name}.fitDataset: batchesPerEpoch must be a positive integer, got ${args.batchesPerEpoch}`);
    }
    let val: { x: HostTensor; y: HostTensor } | null = null;
    if (args.validationData) {
      const v = this.prepare(args.validationData[0], args.validationData[1], 'fitDataset: validationData');
      val = { x: v.x, y: v.y! };
    }
    await this.enter('fitDataset');
    let epoch = 0;
    try {
      // The input shape comes from the first layer's inputShape (or the validation data).
      await this.build(val ? val.x.shape.slice(1) : undefined);
      return await this.trainLoop(
        {
          batchesPerEpoch: args.batchesPerEpoch,
          startEpoch: (e) => (epoch = e),
          batch: async (b) => {
            const raw = await dataset(epoch, b);
            const { x, y } = this.prepare(raw?.x, raw?.y, `fitDataset: batch ${b} of epoch ${epoch}`);
            await this.build(x.shape.slice(1));
            return { x, y: y! };
          },
        },
        epochs,
        val,
        args,
      );
    } finally {
      this.busy = false;
    }
  }

  /** The epoch/batch loop shared by fit and fitDataset: one submit per step, one readback per epoch. */
  private async trainLoop(
    src: BatchSource,
    epochs: number,
    val: { x: HostTensor; y: HostTensor } | null,
    args: { callbacks?: Callback | Callback[]; yieldEvery?: number; validationBatchSize?: number },
  ): Promise<History> {
    const callbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
    await this.ensureOptimizer();
    const ctx = this.readyCtx;
    const dev = ctx.device;
    const metricNames = this.compiled!.metrics;
    const history: History = { epoch: [], history: {} };
    const push = (k: string, v: number) => (history.history[k] ??= []).push(v);
    const yieldEvery = args.yieldEvery ?? (typeof window === 'undefined' ? 200 : 16);
    let lastYield = now();
    this.stopTraining = false;
    for (const cb of callbacks) cb.setModel?.(this);
    for (const cb of callbacks) await cb.onTrainBegin?.();
    for (let epoch = 0; epoch < epochs && !this.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      src.startEpoch(epoch);
      this.clearTotals();
      let seen = 0;
      const nBatches = src.batchesPerEpoch;
      for (let b = 0; b < nBatches; b++) {
        const { x, y } = await src.batch(b);
        const rows = x.shape[0]!;
        for (const cb of callbacks) await cb.onBatchBegin?.(b, { size: rows });
        const plan = await this.plan('train', x.shape, y.shape);
        upload(dev, plan.x, x.data);
        upload(dev, plan.y!, y.data);
        this.submitTrainStep(plan);
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
        if (this.stopTraining) break;
      }
      const totals = await this.readTotals(1 + metricNames.length);
      const logs: Logs = { loss: totals[LOSS_SLOT]! / seen };
      metricNames.forEach((m, i) => (logs[m] = totals[1 + i]! / seen));
      if (val) {
        const v = await this.evaluateInternal(val.x, val.y, args.validationBatchSize ?? 128);
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

  /** One gradient step on one batch; returns its loss (read back: one sync per call). */
  async trainOnBatch(xIn: TensorLike, yIn: TensorLike): Promise<number> {
    if (!this.compiled) throw new Error(`${this.name}.trainOnBatch: call compile({optimizer, loss}) first`);
    const { x, y } = this.prepare(xIn, yIn, 'trainOnBatch');
    await this.enter('trainOnBatch');
    try {
      await this.build(x.shape.slice(1));
      await this.ensureOptimizer();
      const plan = await this.plan('train', x.shape, y!.shape);
      upload(this.readyCtx.device, plan.x, x.data);
      upload(this.readyCtx.device, plan.y!, y!.data);
      this.clearTotals();
      this.submitTrainStep(plan);
      const t = await this.readTotals(1);
      return t[0]! / x.shape[0]!;
    } finally {
      this.busy = false;
    }
  }

  private submitTrainStep(plan: Plan): void {
    const dev = this.readyCtx.device;
    const enc = dev.createCommandEncoder();
    enc.clearBuffer(this.arena!.grads);
    plan.graph.encode(enc);
    this.optState!.program.encode(enc);
    this.optState!.prepareStep(); // this step's learning rate: one queue.writeBuffer, ordered before the submit
    dev.queue.submit([enc.finish()]);
  }

  private async ensureOptimizer(): Promise<void> {
    if (!this.optState) this.optState = await this.compiled!.optimizer.build(this.readyCtx, this.arena!);
  }

  private clearTotals(): void {
    this.readyCtx.device.queue.writeBuffer(this.totalsBuffer!, 0, new Float32Array(16));
  }

  private async readTotals(n: number): Promise<Float32Array> {
    const ctx = this.readyCtx;
    const [t] = await readback(ctx.device, this.totals!);
    ctx.gpu.checkErrors();
    return t!.slice(0, n);
  }

  // ---------------------------------------------------------------- inference

  /**
   * Loss (and compiled metrics) on (x, y). Returns the loss alone when no metrics were compiled,
   * else [loss, ...metrics], as Keras does.
   */
  async evaluate(xIn: TensorLike, yIn: TensorLike, args: EvaluateArgs = {}): Promise<number | number[]> {
    if (!this.compiled) throw new Error(`${this.name}.evaluate: call compile({optimizer, loss}) first`);
    const batchSize = args.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`${this.name}.evaluate: batchSize must be a positive integer, got ${batchSize}`);
    const { x, y } = this.prepare(xIn, yIn, 'evaluate');
    await this.enter('evaluate');
    try {
      await this.build(x.shape.slice(1));
      const r = await this.evaluateInternal(x, y!, batchSize);
      return this.compiled.metrics.length ? r : r[0]!;
    } finally {
      this.busy = false;
    }
  }

  private async evaluateInternal(x: HostTensor, y: HostTensor, batchSize: number): Promise<number[]> {
    const dev = this.readyCtx.device;
    const n = x.shape[0]!;
    const xRow = x.data.length / n, yRow = y.data.length / n;
    this.clearTotals();
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      const plan = await this.plan('eval', [rows, ...x.shape.slice(1)], [rows, ...y.shape.slice(1)]);
      upload(dev, plan.x, x.data.subarray(start * xRow, (start + rows) * xRow));
      upload(dev, plan.y!, y.data.subarray(start * yRow, (start + rows) * yRow));
      const enc = dev.createCommandEncoder();
      plan.graph.encode(enc);
      dev.queue.submit([enc.finish()]);
    }
    const t = await this.readTotals(1 + this.compiled!.metrics.length);
    return Array.from(t, (v) => v / n);
  }

  /** Model outputs for x, computed in batches and read back once. */
  async predict(xIn: TensorLike, args: EvaluateArgs = {}): Promise<HostTensor> {
    const batchSize = args.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`${this.name}.predict: batchSize must be a positive integer, got ${batchSize}`);
    const x = toHostTensor(xIn, 'predict: x');
    this.checkInput(x.shape.slice(1), 'predict');
    await this.enter('predict');
    try {
      await this.build(x.shape.slice(1));
      const ctx = this.readyCtx;
      const dev = ctx.device;
      const n = x.shape[0]!;
      const xRow = x.data.length / n;
      const outShape = this.outputShape(x.shape.slice(1)) as number[];
      const outRow = shapeSize(outShape);
      const result = ctx.pool.acquire(n * outRow * 4, 'predictions');
      try {
        for (let start = 0; start < n; start += batchSize) {
          const rows = Math.min(batchSize, n - start);
          const plan = await this.plan('predict', [rows, ...x.shape.slice(1)], null);
          upload(dev, plan.x, x.data.subarray(start * xRow, (start + rows) * xRow));
          const enc = dev.createCommandEncoder();
          plan.graph.encode(enc);
          enc.copyBufferToBuffer(plan.out.buffer, plan.out.byteOffset, result, start * outRow * 4, rows * outRow * 4);
          dev.queue.submit([enc.finish()]);
        }
        const [data] = await readback(dev, new Tensor(result, [n * outRow], 0, false, 'predictions'));
        ctx.gpu.checkErrors();
        return { data: data!, shape: [n, ...outShape] };
      } finally {
        ctx.pool.release(result);
      }
    } finally {
      this.busy = false;
    }
  }

  // ---------------------------------------------------------------- weights

  /** All weights in Keras order and layout (per layer: kernel, recurrent_kernel, bias). */
  async getWeights(): Promise<HostTensor[]> {
    if (!this.arena) await this.build();
    const vars = this.arena!.vars;
    const data = await readback(this.readyCtx.device, ...vars.map((v) => v.value));
    return vars.map((v, i) => ({ data: Float32Array.from(data[i]!), shape: [...v.shape] }));
  }

  /** Names of the weights, aligned with getWeights(). */
  get weightNames(): string[] {
    return this.arena?.vars.map((v) => v.name) ?? [];
  }

  /** Sets all weights (Keras order and layout). Count and shapes are checked before anything changes. */
  async setWeights(weights: TensorLike[]): Promise<void> {
    if (!this.arena) await this.build();
    const vars = this.arena!.vars;
    if (!Array.isArray(weights) || weights.length !== vars.length) {
      throw new RangeError(`${this.name}.setWeights: expected ${vars.length} arrays (${vars.map((v) => v.name).join(', ')}), got ${Array.isArray(weights) ? weights.length : typeof weights}`);
    }
    const hosts = weights.map((w, i) => {
      const v = vars[i]!;
      const h = toHostTensor(w, `${this.name}.setWeights: ${v.name}`);
      if (h.shape.length !== v.shape.length || h.shape.some((d, j) => d !== v.shape[j])) {
        throw new RangeError(`${this.name}.setWeights: ${v.name} expects shape [${v.shape.join(', ')}], got [${h.shape.join(', ')}]`);
      }
      return h;
    });
    hosts.forEach((h, i) => upload(this.readyCtx.device, vars[i]!.value, h.data));
    this.optState?.reset();
  }

  /** Number of parameters (known without the GPU when the input shape is). */
  countParams(): number {
    const input = this.inputShape;
    if (!input) throw new Error(`${this.name}.countParams: input shape unknown`);
    const shapes = this.shapesFor(input);
    return this.layers.reduce((n, l, i) => n + l.weightSpecs(shapes[i]!).reduce((m, s) => m + shapeSize(s.shape), 0), 0);
  }

  /** Keras-style summary table; printed with `print` (console.log by default) and returned. */
  summary(print: ((line: string) => void) | null = console.log): string {
    const input = this.inputShape;
    if (!input) throw new Error(`${this.name}.summary: input shape unknown; give the first layer an inputShape`);
    const shapes = this.shapesFor(input);
    const rows = this.layers.map((l, i) => {
      const params = l.weightSpecs(shapes[i]!).reduce((m, s) => m + shapeSize(s.shape), 0);
      return [`${l.name} (${l.className})`, shapeToString(shapes[i + 1]!), String(params)];
    });
    const head = ['Layer (type)', 'Output Shape', 'Param #'];
    const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)) + 3);
    const line = (r: string[]) => r.map((s, c) => s.padEnd(w[c]!)).join('').trimEnd();
    const total = this.countParams();
    const frozen = this.layers.reduce((n, l, i) => n + l.weightSpecs(shapes[i]!).reduce((m, s) => m + (s.trainable === false ? shapeSize(s.shape) : 0), 0), 0);
    const out = [
      `Model: "${this.name}"`,
      '_'.repeat(w.reduce((a, b) => a + b, 0)),
      line(head),
      '='.repeat(w.reduce((a, b) => a + b, 0)),
      ...rows.map(line),
      '='.repeat(w.reduce((a, b) => a + b, 0)),
      `Total params: ${total}`,
      `Trainable params: ${total - frozen}`,
      `Non-trainable params: ${frozen}`,
    ].join('\n');
    print?.(out);
    return out;
  }

  /**
   * What one training step on a batch of shape `xShape` (and targets `yShape`) costs: compute
   * dispatches (forward + backward + optimizer), the bytes of activations saved for backward,
   * and the submits (always 1). Builds (and caches) the step's plan; runs nothing.
   */
  async trainingStepInfo(xShape: readonly number[], yShape: readonly number[]): Promise<{ dispatches: number; savedBytes: number; submits: number }> {
    if (!this.compiled) throw new Error(`${this.name}.trainingStepInfo: call compile() first`);
    await this.build(xShape.slice(1));
    await this.ensureOptimizer();
    const plan = await this.plan('train', xShape, yShape);
    const g = plan.graph;
    return {
      dispatches: g.clears.dispatchCount + g.forward.dispatchCount + g.backwardProgram.dispatchCount + this.optState!.program.dispatchCount,
      savedBytes: g.savedBytes(),
      submits: 1,
    };
  }

  /** Bytes of the GPU buffer pool (for memory tests: flat across epochs). */
  get pooledBytes(): number {
    return this.ctx?.pool.bytesAllocated ?? 0;
  }

  // ---------------------------------------------------------------- streaming inference

  /**
   * Advances every recurrent layer by ONE time step from its stored state (kept on the GPU between
   * calls; zeros at first or after resetStates()) and returns the model's output for that step:
   * x_t [B, features] (or [B, 1, features]) → the output without its time axis. The batch size
   * may differ from training's but must stay the same until resetStates(). Over a sequence it
   * gives what predict() gives for the whole sequence (docs/rnn-features.md).
   */
  async predictStep(xIn: TensorLike): Promise<HostTensor> {
    const x = toHostTensor(xIn, `${this.name}.predictStep: x`);
    const want = this.builtInput ?? this.layers[0]?.inputShape;
    const F = x.shape.length === 3 && x.shape[1] === 1 ? x.shape[2]! : x.shape.length === 2 ? x.shape[1]! : -1;
    if (F < 0 || (want && (want.length !== 2 || (want[1] !== null && want[1] !== F)))) {
      throw new RangeError(`${this.name}.predictStep: x must be one time step [batch, features]${want ? ` with features = ${want[want.length - 1]}` : ''} (or [batch, 1, features]), got [${x.shape.join(', ')}]`);
    }
    const B = x.shape[0]!;
    await this.enter('predictStep');
    try {
      await this.build(want ?? [null, F]);
      for (const l of this.layers) if (isStatefulLayer(l)) l.beginStep(B);
      const plan = await this.plan('step', [B, 1, F], null);
      const dev = this.readyCtx.device;
      upload(dev, plan.x, x.data);
      const enc = dev.createCommandEncoder();
      plan.graph.encode(enc);
      dev.queue.submit([enc.finish()]);
      const [data] = await readback(dev, plan.out);
      this.readyCtx.gpu.checkErrors();
      const shape = plan.out.shape.length === 3 && plan.out.shape[1] === 1 ? [B, plan.out.shape[2]!] : [...plan.out.shape];
      return { data: Float32Array.from(data!), shape };
    } finally {
      this.busy = false;
    }
  }

  /** Zeros the stored state of every recurrent layer (Keras `model.reset_states()`). */
  resetStates(): void {
    for (const l of this.layers) if (isStatefulLayer(l)) l.resetStates();
  }

  /** Frees the model's GPU memory. The model cannot be used afterwards. */
  dispose(): void {
    for (const l of this.layers) (l as { disposeState?: () => void }).disposeState?.(); // stored recurrent state, dropout RNG
    this.disposePlans();
    this.optState?.destroy();
    this.arena?.destroy();
    this.totalsBuffer?.destroy();
    this.optState = null;
    this.arena = null;
    // The plans' activation buffers went back to the shared pool; free the idle ones.
    this.ctx?.pool.trim();
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Fisher–Yates with the model's seeded generator. */
function shuffleInPlace(a: Uint32Array, rng: MT19937): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}
