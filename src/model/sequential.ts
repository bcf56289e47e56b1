/**
 * Sequential model: Keras/tfjs-style compile / fit / evaluate / predict / trainOnBatch,
 * getWeights / setWeights (Keras 3 layouts and order) and summary. The class holds the state
 * (layers, arena, plans, optimizer) and the topology (layers in a row); the modules beside it do
 * the work and take what they need as arguments, so another model class can reuse them.
 */
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import { getContext, type Context } from '../gpu/context';
import type { ParamArena } from '../gpu/arena';
import { Layer, type Shape } from '../layers/layer';
import type { Optimizer, OptimizerState } from '../optim/optimizers';
import { parseCompileArgs, type CompiledConfig } from './compile';
import { PlanCache, Totals, buildPlan, planKey, stackForward, type PlanFor } from './plans';
import { checkInputShape, toTargets } from './checks';
import { trainLoop, trainStep, trainStepInfo, checkFitArgs, checkFitDatasetArgs, fitValidation, arrayBatchSource, datasetBatchSource } from './train-loop';
import type { BatchSource, HostBatch, LoopArgs, StepTarget } from './train-loop';
import { checkBatchSize, evaluateBatches, predictBatches } from './inference';
import { nextModelSeed, layerWeights, createArena, readWeights, writeWeights, countParams } from './weights';
import { summaryTable } from './summary';
import { stepInput, beginStep, runStep, resetStates, disposeStates } from './streaming';
import type { CompileArgs, EvaluateArgs, FitArgs, FitDatasetArgs, History, SequentialArgs } from './types';

export { setSeed } from './weights';
export type { LossName, LossSpec, MetricName, CompileArgs, Logs, Callback, FitArgs, FitDatasetArgs, History, EvaluateArgs, SequentialArgs } from './types';

export class Sequential {
  readonly name: string;
  readonly layers: Layer[] = [];
  readonly seed: number;
  /** Set to true (e.g. from a callback or a Stop button) to stop fit() after the current batch. */
  stopTraining = false;

  private ctx: Context | null = null;
  private arena: ParamArena | null = null;
  private builtInput: Shape | null = null;
  private compiled: CompiledConfig | null = null;
  private optState: OptimizerState | null = null;
  private plans = new PlanCache();
  private totals: Totals | null = null;
  private busy = false;

  constructor(args: SequentialArgs = {}) {
    this.name = args.name ?? 'sequential';
    this.seed = nextModelSeed(args.seed);
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
    const compiled = parseCompileArgs(args, `${this.name}.compile`);
    this.optState?.destroy();
    this.optState = null;
    this.plans.dispose('train');
    this.compiled = compiled;
  }

  /** Builds the weights for an input shape (called by fit/predict; needs the GPU). */
  async build(input?: Shape): Promise<void> {
    const shape = input ?? this.inputShape;
    if (!shape) throw new Error(`${this.name}: input shape unknown; give the first layer an inputShape`);
    if (this.arena) {
      this.checkInput(shape, 'build');
      return;
    }
    const use: Shape = this.layers[0]?.inputShape ?? shape;
    const weights = layerWeights(this.layers, this.shapesFor(use));
    const ctx = (this.ctx ??= await getContext());
    this.arena = createArena(ctx, weights, this.seed);
    this.builtInput = use;
    this.totals = new Totals(ctx);
  }

  /** Checks a data shape (without batch) against the model's input shape. */
  private checkInput(shape: Shape, where: string): void {
    checkInputShape(shape, this.builtInput ?? this.layers[0]?.inputShape, `${this.name}.${where}`, this.layers[0]);
  }

  /** Converts and checks (x, y): x against the input shape, y's rows and shape against the output. */
  private prepare(xIn: TensorLike, yIn: TensorLike, where: string): HostBatch {
    const x = toHostTensor(xIn, `${where}: x`);
    this.checkInput(x.shape.slice(1), where);
    return { x, y: toTargets(x, yIn, where, (input) => this.outputShape(input)) };
  }

  private get readyCtx(): Context {
    if (!this.ctx) throw new Error(`${this.name}: not built`);
    return this.ctx;
  }

  /** The cached plan for (mode, shapes), built on first use; the topology is the layers in a row. */
  private readonly plan: PlanFor = (mode, xShape, yShape) =>
    this.plans.get(planKey(mode, xShape, yShape), () => {
      const ctx = this.readyCtx;
      const forward = stackForward(this.layers, this.arena!.vars, (input) => this.shapesFor(input));
      return buildPlan({ ctx, arena: this.arena!, mode, xShape, yShape, forward, compiled: this.compiled, totals: this.totals!, name: this.name });
    });

  /** Runs `body` as the model's only call in progress (calls must not overlap). */
  private async exclusive<T>(where: string, body: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error(`${this.name}.${where}: the model is busy with another call (await it first)`);
    this.busy = true;
    try {
      return await body();
    } finally {
      this.busy = false;
    }
  }

  private requireCompiled(where: string): CompiledConfig {
    if (!this.compiled) throw new Error(`${this.name}.${where}: call compile({optimizer, loss}) first`);
    return this.compiled;
  }

  private async ensureOptimizer(): Promise<OptimizerState> {
    return (this.optState ??= await this.compiled!.optimizer.build(this.readyCtx, this.arena!));
  }

  /** Trains on (x, y) for `epochs`; returns the per-epoch history (loss, val_loss, metrics). */
  async fit(xIn: TensorLike, yIn: TensorLike, args: FitArgs = {}): Promise<History> {
    this.requireCompiled('fit');
    const { epochs, batchSize } = checkFitArgs(args, `${this.name}.fit`);
    const data = this.prepare(xIn, yIn, 'fit');
    const { train, val } = fitValidation(args, data, (x, y) => this.prepare(x, y, 'fit: validationData'), `${this.name}.fit`);
    return this.exclusive('fit', async () => {
      await this.build(train.x.shape.slice(1));
      const src = arrayBatchSource(train.x, train.y, batchSize, args.shuffle ?? true, args.seed ?? this.seed);
      return this.train(src, epochs, val, args);
    });
  }

  /**
   * Trains on batches produced by `dataset(epoch, batch)` (tfjs `fitDataset`, Keras `fit` with a
   * generator and steps_per_epoch): e.g. random sub-sequences drawn fresh for every step. Each
   * batch is validated like fit's data; batch sizes may differ between calls.
   */
  async fitDataset(dataset: (epoch: number, batch: number) => { x: TensorLike; y: TensorLike } | Promise<{ x: TensorLike; y: TensorLike }>, args: FitDatasetArgs): Promise<History> {
    this.requireCompiled('fitDataset');
    const epochs = checkFitDatasetArgs(dataset, args, `${this.name}.fitDataset`);
    const val = args.validationData ? this.prepare(args.validationData[0], args.validationData[1], 'fitDataset: validationData') : null;
    return this.exclusive('fitDataset', async () => {
      // The input shape comes from the first layer's inputShape (or the validation data).
      await this.build(val ? val.x.shape.slice(1) : undefined);
      const src = datasetBatchSource(dataset, args.batchesPerEpoch, async (raw, where) => {
        const batch = this.prepare(raw?.x, raw?.y, where);
        await this.build(batch.x.shape.slice(1));
        return batch;
      });
      return this.train(src, epochs, val, args);
    });
  }

  /** fit and fitDataset's loop over this model (train-loop.ts), after building the optimizer. */
  private async train(src: BatchSource, epochs: number, val: HostBatch | null, args: LoopArgs<Sequential>): Promise<History> {
    await this.ensureOptimizer();
    return trainLoop({ ...this.stepTarget(), model: this, totals: this.totals!, metrics: this.compiled!.metrics }, src, epochs, val, args);
  }

  /** What train-loop.ts's trainStep needs from this (built, compiled) model. */
  private stepTarget(): StepTarget {
    return { ctx: this.readyCtx, arena: this.arena!, plan: this.plan, optimizer: () => this.optState! };
  }

  /** One gradient step on one batch; returns its loss (read back: one sync per call). */
  async trainOnBatch(xIn: TensorLike, yIn: TensorLike): Promise<number> {
    this.requireCompiled('trainOnBatch');
    const { x, y } = this.prepare(xIn, yIn, 'trainOnBatch');
    return this.exclusive('trainOnBatch', async () => {
      await this.build(x.shape.slice(1));
      await this.ensureOptimizer();
      this.totals!.clear();
      await trainStep(this.stepTarget(), x, y);
      const t = await this.totals!.read(1);
      return t[0]! / x.shape[0]!;
    });
  }

  /**
   * Loss (and compiled metrics) on (x, y). Returns the loss alone when no metrics were compiled,
   * else [loss, ...metrics], as Keras does.
   */
  async evaluate(xIn: TensorLike, yIn: TensorLike, args: EvaluateArgs = {}): Promise<number | number[]> {
    const compiled = this.requireCompiled('evaluate');
    const batchSize = checkBatchSize(args, `${this.name}.evaluate`);
    const { x, y } = this.prepare(xIn, yIn, 'evaluate');
    return this.exclusive('evaluate', async () => {
      await this.build(x.shape.slice(1));
      const r = await evaluateBatches(this.readyCtx, this.plan, this.totals!, compiled.metrics.length, x, y, batchSize);
      return compiled.metrics.length ? r : r[0]!;
    });
  }

  /** Model outputs for x, computed in batches and read back once. */
  async predict(xIn: TensorLike, args: EvaluateArgs = {}): Promise<HostTensor> {
    const batchSize = checkBatchSize(args, `${this.name}.predict`);
    const x = toHostTensor(xIn, 'predict: x');
    this.checkInput(x.shape.slice(1), 'predict');
    return this.exclusive('predict', async () => {
      await this.build(x.shape.slice(1));
      const outShape = this.outputShape(x.shape.slice(1)) as number[];
      return predictBatches(this.readyCtx, this.plan, x, batchSize, outShape);
    });
  }

  /** All weights in Keras order and layout (per layer: kernel, recurrent_kernel, bias). */
  async getWeights(): Promise<HostTensor[]> {
    if (!this.arena) await this.build();
    return readWeights(this.readyCtx, this.arena!);
  }

  /** Names of the weights, aligned with getWeights(). */
  get weightNames(): string[] {
    return this.arena?.vars.map((v) => v.name) ?? [];
  }

  /** Sets all weights (Keras order and layout). Count and shapes are checked before anything changes. */
  async setWeights(weights: TensorLike[]): Promise<void> {
    if (!this.arena) await this.build();
    writeWeights(this.readyCtx, this.arena!, weights, `${this.name}.setWeights`);
    this.optState?.reset();
  }

  /** Number of parameters (known without the GPU when the input shape is). */
  countParams(): number {
    const input = this.inputShape;
    if (!input) throw new Error(`${this.name}.countParams: input shape unknown`);
    return countParams(this.layers, this.shapesFor(input));
  }

  /** Keras-style summary table; printed with `print` (console.log by default) and returned. */
  summary(print: ((line: string) => void) | null = console.log): string {
    const input = this.inputShape;
    if (!input) throw new Error(`${this.name}.summary: input shape unknown; give the first layer an inputShape`);
    const shapes = this.shapesFor(input);
    const out = summaryTable(this.name, this.layers.map((layer, i) => ({ layer, input: shapes[i]!, output: shapes[i + 1]! })));
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
    const opt = await this.ensureOptimizer();
    return trainStepInfo(await this.plan('train', xShape, yShape), opt);
  }

  /** Bytes of the GPU buffer pool (for memory tests: flat across epochs). */
  get pooledBytes(): number {
    return this.ctx?.pool.bytesAllocated ?? 0;
  }

  /**
   * Advances every recurrent layer by ONE time step from its stored state (kept on the GPU between
   * calls; zeros at first or after resetStates()) and returns the model's output for that step:
   * x_t [B, features] (or [B, 1, features]) → the output without its time axis. The batch size
   * may differ from training's but must stay the same until resetStates(). Over a sequence it
   * gives what predict() gives for the whole sequence (docs/rnn-features.md).
   */
  async predictStep(xIn: TensorLike): Promise<HostTensor> {
    const want = this.builtInput ?? this.layers[0]?.inputShape ?? null;
    const { x, B, F } = stepInput(xIn, want, `${this.name}.predictStep`);
    return this.exclusive('predictStep', async () => {
      await this.build(want ?? [null, F]);
      beginStep(this.layers, B);
      return runStep(this.readyCtx, await this.plan('step', [B, 1, F], null), x);
    });
  }

  /** Zeros the stored state of every recurrent layer (Keras `model.reset_states()`). */
  resetStates(): void {
    resetStates(this.layers);
  }

  /** Frees the model's GPU memory. The model cannot be used afterwards. */
  dispose(): void {
    disposeStates(this.layers); // stored recurrent state, dropout RNG
    this.plans.dispose();
    this.optState?.destroy();
    this.arena?.destroy();
    this.totals?.destroy();
    this.optState = null;
    this.arena = null;
    // The plans' activation buffers went back to the shared pool; free the idle ones.
    this.ctx?.pool.trim();
  }
}
