/**
 * The model (Keras `Model`, tfjs `LayersModel`): a graph of layers from input to output symbolic
 * tensors — functional models are built with `rnn.model({inputs, outputs})`, and Sequential is
 * the same class with its layers in a row. compile / fit / evaluate / predict / trainOnBatch /
 * predictStep / get- and setWeights / summary, all with several inputs and outputs. The class
 * holds the state (graph, arena, plans, optimizer); the modules beside it do the work.
 */
import type { HostTensor, TensorLike } from '../host';
import type { Context } from '../gpu/context';
import type { Variable } from '../gpu/arena';
import type { Tensor } from '../tensor';
import type { Layer, Shape } from '../layers/layer';
import type { Optimizer, OptimizerSnapshot, OptimizerState } from '../optim/optimizers';
import { noGrad } from '../ops/loss';
import { parseCompileArgs, type CompiledConfig } from './compile';
import { buildPlan, planKey, type Plan, type PlanFor, type PlanShape } from './plans';
import { prepareBatch, batchRows, type HostBatch } from './data';
import { trainLoop, trainStep, trainStepInfo, checkFitArgs, checkFitDatasetArgs, fitValidation, arrayBatchSource, datasetBatchSource, gradientsOf, type BatchSource, type DatasetFn, type LoopArgs } from './train-loop';
import { checkBatchSize, evaluateBatches, predictBatches } from './inference';
import { layerWeights, createArena, readWeights, writeWeights, existingArena, registerWeights, layerVars, retainArena } from './weights';
import { DeviceState } from './device-state';
import { checkBatchLimits, checkWeightLimits } from './limits';
import { modelContext } from './self-test';
import { trackModel } from './recover';

/** Which call builds a plan of each mode (for limit messages). */
const PLAN_CALLS = { train: 'fit', eval: 'evaluate', predict: 'predict', step: 'predictStep' } as const;
import { CallGate } from './calls';
import { stepInput, runStep, statefulLayers } from './streaming';
import type { CompileArgs, EvaluateArgs, FitArgs, FitDatasetArgs, History, ModelArgs, ModelData, TrainingStepInfo } from './types';
import { ModelBase } from './model-base';
import { loadWeightsInto, saveModel, type SaveOptions, type Serializable } from './serialize';
import type { TrainingConfigJSON } from '../io/artifacts';
import type { IOHandler, SaveResult } from '../io/handlers';
import { serializeOptimizer } from '../optim/registry';

/** A model (Keras `Model`): layers from inputs to outputs; made by `rnn.model` (a functional graph) or `rnn.sequential`. */
export class Model extends ModelBase {
  /** Set to true (e.g. from a callback or a Stop button) to stop fit() after the current batch. */
  stopTraining = false;

  /** The model's device state: context, weights, optimizer, plans, loss sums, host backup (device-state.ts). */
  private readonly dev: DeviceState;
  private compiled: CompiledConfig | null = null;
  /** compile's arguments in JSON form (saved with the model). */
  private compileJSON: TrainingConfigJSON | null = null;
  /** Which call is in progress (calls.ts). */
  private readonly calls: CallGate;

  /** A functional model from `args.inputs` to `args.outputs` (Sequential passes none and makes its graph later). */
  constructor(args: Partial<ModelArgs> = {}, defaultName = 'model') {
    super(args, defaultName);
    this.calls = new CallGate(this.name);
    this.dev = new DeviceState(this.name);
  }

  /** True once the weights exist (the graph can no longer change). */
  protected get isBuilt(): boolean {
    return this.dev.arena !== null;
  }


  /** The compiled optimizer (null before compile); callbacks such as reduceLROnPlateau change its learning rate. */
  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }


  // ---------------------------------------------------------------- compile and build

  /** Configures training. Can be called again to change the optimizer (its state restarts). */
  compile(args: CompileArgs): void {
    this.enterSync('compile', true);
    const compiled = parseCompileArgs(args, this.outputNames, `${this.name}.compile`);
    this.dev.optState?.destroy();
    this.dev.optState = null;
    this.dev.plans.dispose('train');
    this.dev.plans.dispose('eval');
    this.compiled = compiled;
    this.compileJSON = { optimizer: serializeOptimizer(compiled.optimizer), loss: args.loss, ...(args.lossWeights !== undefined ? { lossWeights: args.lossWeights } : {}), ...(args.metrics !== undefined ? { metrics: args.metrics } : {}) };
    if (this.dev.ctx) this.dev.makeTotals(this.totalSlots);
  }

  /** Builds the weights (called by fit/predict; needs the GPU). `input`: the first input's shape, for a Sequential without inputShape. */
  async build(input?: Shape): Promise<void> {
    this.checkAlive('build');
    if (this.dev.arena) return;
    const topo = this.graphFor(input ?? null);
    const ctx = (this.dev.ctx ??= await modelContext());
    const weights = layerWeights(topo.layers, topo.layers.map((l) => topo.weightInput(l)));
    const shared = existingArena(topo.layers, (l) => weights.some((w) => w.layer === l), `${this.name}.build`);
    if (shared) {
      this.dev.arena = shared;
    } else {
      checkWeightLimits(weights, ctx.device.limits, `${this.name}.build`);
      this.dev.arena = createArena(ctx, weights, this.seed);
      this.dev.ownsArena = true;
      registerWeights(this.dev.arena, weights);
    }
    retainArena(this.dev.arena);
    this.dev.makeTotals(this.totalSlots);
    trackModel(this);
  }

  /** Slots of the loss sums: the compiled losses' and metrics' (at least 16). */
  private get totalSlots(): number {
    return Math.max(16, this.compiled?.slots ?? 0);
  }

  /** This model's variables, in its layers' order (a model sharing another's arena sees its own). */
  private get vars(): Variable[] {
    return this.graphFor(null).layers.flatMap((l) => layerVars(l));
  }

  /** The variables training updates: trainable weights of trainable layers. */
  private get trainedVars(): Variable[] {
    return this.graphFor(null).layers.flatMap((l) => (l.trainable ? layerVars(l).filter((v) => v.trainable !== false) : []));
  }

  protected get readyCtx(): Context {
    if (!this.dev.ctx) throw new Error(`${this.name}: not built`);
    return this.dev.ctx;
  }

  /** The cached plan for these shapes, built on first use from the graph. */
  protected readonly plan: PlanFor = (shape: PlanShape) =>
    this.dev.plans.get(this.planCacheKey(shape), () => {
      const topo = this.graphFor(null);
      const weights = (l: Layer): Tensor[] => layerVars(l).map((v) => (l.trainable ? v.value : noGrad(v.value)));
      checkBatchLimits(topo, shape.xShapes, this.readyCtx.device.limits, `${this.name}.${PLAN_CALLS[shape.mode]}`);
      return buildPlan({
        ctx: this.readyCtx, shape, trained: this.trainedVars,
        forward: (g, xs) => topo.forward(g, xs, weights),
        compiled: this.compiled, totals: shape.mode === 'eval' ? this.dev.evalTotals! : this.dev.totals!, name: this.name,
      });
    });

  // ---------------------------------------------------------------- calls and their order

  /** Throws when the model was disposed, or (unless `lostOk`) when its device was lost. */
  private checkAlive(where: string, lostOk = false): void {
    if (this.calls.disposed) this.calls.check(where, false);
    if (!lostOk) this.dev.checkDevice(where);
  }

  protected enter<T>(where: string, body: () => Promise<T>, exclusive = false): Promise<T> {
    return this.calls.run(where, body, exclusive).catch((e: unknown) => {
      throw this.dev.explain(e, where);
    });
  }

  private enterSync(where: string, exclusive: boolean): void {
    this.calls.check(where, exclusive);
  }

  private requireCompiled(where: string): CompiledConfig {
    if (!this.compiled) throw new Error(`${this.name}.${where}: call compile({optimizer, loss}) first`);
    return this.compiled;
  }

  /** The optimizer state for the current trainable variables (rebuilt when layers were frozen or unfrozen). */
  private ensureOptimizer(where = 'fit'): Promise<OptimizerState> {
    return this.dev.ensureOptimizer(this.compiled!.optimizer, this.trainedVars, where);
  }

  /** Before every batch, `stateful` layers check the batch size (it must not change). */
  private beginBatch = (rows: number): void => {
    for (const l of statefulLayers(this.layers, true)) l.beginStep(rows);
  };

  // ---------------------------------------------------------------- data

  /** Converts and checks inputs, targets and sample weights against the model (before any GPU work). */
  protected prepare(xIn: ModelData, yIn: ModelData | null, where: string, sw?: TensorLike): HostBatch {
    const topo = this.graphFor(null);
    return prepareBatch({ topology: topo, inputNames: this.inputNames, outputNames: this.outputNames, outputShapes: (ins) => this.outputShapes(ins) }, xIn, yIn, where, sw);
  }

  // ---------------------------------------------------------------- training

  /** Trains on (x, y) for `epochs`; returns the per-epoch history (loss, val_loss, metrics). */
  async fit(x: ModelData, y: ModelData, args: FitArgs = {}): Promise<History> {
    this.checkAlive('fit');
    this.requireCompiled('fit');
    const { epochs, batchSize } = checkFitArgs(args, `${this.name}.fit`);
    this.graphForData(x);
    const data = this.prepare(x, y, 'fit', args.sampleWeight);
    const { train, val } = fitValidation(args, data, (vx, vy) => this.prepare(vx, vy, 'fit: validationData'), `${this.name}.fit`);
    const stateful = statefulLayers(this.layers, true).length > 0;
    if (stateful && args.shuffle) throw new RangeError(`${this.name}.fit: a model with stateful layers trains on batches in order; shuffle must be false`);
    if (stateful && batchRows(train) % batchSize !== 0) {
      throw new RangeError(`${this.name}.fit: a model with stateful layers needs every batch the same size: ${batchRows(train)} rows are not a multiple of batchSize ${batchSize}`);
    }
    return this.enter('fit', async () => {
      await this.build();
      const src = arrayBatchSource(train, batchSize, args.shuffle ?? !stateful, args.seed ?? this.seed);
      return this.train(src, epochs, val, args, 'fit');
    }, true);
  }

  /**
   * Trains on batches produced by `dataset(epoch, batch)` (tfjs `fitDataset`, Keras `fit` with a
   * generator and steps_per_epoch): e.g. random sub-sequences drawn fresh for every step. Each
   * batch is validated like fit's data; batch sizes may differ between calls.
   */
  async fitDataset(dataset: DatasetFn, args: FitDatasetArgs): Promise<History> {
    this.checkAlive('fitDataset');
    this.requireCompiled('fitDataset');
    const epochs = checkFitDatasetArgs(dataset, args, `${this.name}.fitDataset`);
    if (args.validationData) this.graphForData(args.validationData[0]);
    const val = args.validationData ? this.prepare(args.validationData[0], args.validationData[1], 'fitDataset: validationData') : null;
    return this.enter('fitDataset', async () => {
      // The input shape comes from the first layer's inputShape (or the validation data).
      await this.build();
      const src = datasetBatchSource(dataset, args.batchesPerEpoch, async (raw, where) => {
        this.graphForData(raw?.x);
        const batch = this.prepare(raw?.x, raw?.y, where);
        await this.build();
        return batch;
      });
      return this.train(src, epochs, val, { ...args, validationBatchSize: args.validationBatchSize }, 'fitDataset');
    }, true);
  }

  /**
   * fit and fitDataset's loop over this model (train-loop.ts), after building the optimizer; with
   * `resume`, from the host backup's position (the backup is put back on the device first).
   */
  private async train(src: BatchSource, epochs: number, val: HostBatch | null, args: LoopArgs & { validationBatchSize?: number | undefined; resume?: boolean }, where: string): Promise<History> {
    const opt = await this.ensureOptimizer(where);
    const from = args.resume ? this.dev.resumePoint(src.batchesPerEpoch, epochs, this.layers, opt, `${this.name}.${where}`) : null;
    const history = await trainLoop({
      ...this.stepTarget(),
      model: this,
      totals: this.dev.totals!,
      compiled: this.compiled!,
      evaluate: (v) => evaluateBatches(this.readyCtx, this.plan, this.dev.evalTotals!, this.compiled!, v, args.validationBatchSize ?? 128, this.beginBatch),
      setPaused: (p) => (this.calls.paused = p),
      backup: () => this.dev.captureBackup(this.layers),
    }, src, epochs, val, args, from);
    this.dev.backup.position = null; // the run finished: nothing to resume
    return history;
  }

  private stepTarget() {
    return { ctx: this.readyCtx, arena: this.dev.arena!, plan: this.plan, optimizer: () => this.dev.optState!, beginBatch: this.beginBatch };
  }

  /** One gradient step on one batch; returns its loss (read back: one sync per call). */
  async trainOnBatch(x: ModelData, y: ModelData, args: { sampleWeight?: TensorLike } = {}): Promise<number> {
    this.checkAlive('trainOnBatch');
    this.requireCompiled('trainOnBatch');
    this.graphForData(x);
    const batch = this.prepare(x, y, 'trainOnBatch', args.sampleWeight);
    return this.enter('trainOnBatch', async () => {
      await this.build();
      await this.ensureOptimizer('trainOnBatch');
      this.dev.totals!.clear();
      await trainStep(this.stepTarget(), batch);
      const t = await this.dev.readTotals(this.layers, 'after trainOnBatch'); // with the host backup
      return t[0]! / batchRows(batch);
    }, true);
  }

  /**
   * Loss (and compiled metrics) on (x, y). Returns the loss alone when no metrics were compiled
   * and there is one output, else [loss, ...output losses, ...metrics], as Keras does.
   */
  async evaluate(x: ModelData, y: ModelData, args: EvaluateArgs & { sampleWeight?: TensorLike } = {}): Promise<number | number[]> {
    const values = Object.values(await this.evaluateLogs(x, y, args));
    return values.length === 1 ? values[0]! : values;
  }

  /** Like evaluate, but the logs by name (loss, per-output losses, metrics). */
  async evaluateLogs(x: ModelData, y: ModelData, args: EvaluateArgs & { sampleWeight?: TensorLike } = {}): Promise<Record<string, number>> {
    this.checkAlive('evaluate');
    const compiled = this.requireCompiled('evaluate');
    const batchSize = checkBatchSize(args, `${this.name}.evaluate`);
    this.graphForData(x);
    const data = this.prepare(x, y, 'evaluate', args.sampleWeight);
    return this.enter('evaluate', async () => {
      await this.build();
      return evaluateBatches(this.readyCtx, this.plan, this.dev.evalTotals!, compiled, data, batchSize, this.beginBatch);
    });
  }

  /**
   * The gradient of the compiled loss with respect to every weight (getWeights' order and shapes;
   * zeros for frozen weights) on one batch — what a training step would apply, without applying
   * it (Keras: a GradientTape over the loss). Reads the gradients back once.
   */
  async gradients(x: ModelData, y: ModelData, args: { sampleWeight?: TensorLike } = {}): Promise<HostTensor[]> {
    this.checkAlive('gradients');
    this.requireCompiled('gradients');
    this.graphForData(x);
    const batch = this.prepare(x, y, 'gradients', args.sampleWeight);
    return this.enter('gradients', async () => {
      await this.build();
      return gradientsOf(this.stepTarget(), batch, this.vars);
    }, true);
  }

  /** Model outputs for x, computed in batches and read back once: one array, or a list for several outputs. */
  async predict(x: ModelData, args: EvaluateArgs = {}): Promise<HostTensor | HostTensor[]> {
    const out = await this.predictAll(x, args);
    return out.length === 1 ? out[0]! : out;
  }

  /** predict, always as a list (one array per output). */
  async predictAll(x: ModelData, args: EvaluateArgs = {}): Promise<HostTensor[]> {
    this.checkAlive('predict');
    const batchSize = checkBatchSize(args, `${this.name}.predict`);
    this.graphForData(x);
    const { xs } = this.prepare(x, null, 'predict');
    return this.enter('predict', async () => {
      await this.build();
      const outShapes = this.outputShapes(xs.map((t) => t.shape.slice(1))) as number[][];
      return predictBatches(this.readyCtx, this.plan, xs, batchSize, outShapes, this.beginBatch);
    });
  }


  // ---------------------------------------------------------------- weights

  /** All weights in Keras order and layout (per layer: kernel, recurrent_kernel, bias). */
  async getWeights(): Promise<HostTensor[]> {
    this.checkAlive('getWeights', true); // after a device loss: the host copy
    if (!this.dev.arena) await this.build();
    return readWeights(this.readyCtx, this.vars);
  }

  /** Names of the weights ('layer/weight'), aligned with getWeights(). */
  get weightNames(): string[] {
    return this.dev.arena ? this.vars.map((v) => v.name) : [];
  }

  /** Shapes of the weights, aligned with weightNames ([] before the model is built). */
  get weightShapes(): number[][] {
    return this.dev.arena ? this.vars.map((v) => [...v.shape]) : [];
  }

  // ---------------------------------------------------------------- saving (serialize.ts, load.ts)

  /**
   * Saves the model (tfjs `model.save`, Keras `model.save`): its architecture, weights, compile
   * configuration and — in the own format, once trained — its training state, so that a loaded
   * model predicts the same and `fit` continues exactly. `target` is a URL — `file://path` (Node;
   * a folder, or `path.keras` / `path.weights.h5`), `indexeddb://name`, `downloads://name` — or
   * a handler such as `rnn.io.memory()`. `format`: 'webgpu-rnn' (default), 'tfjs', 'keras',
   * 'keras-weights'. Nothing is half-written on failure.
   *
   * @example
   * ```ts
   * await model.save('file://./models/forecaster');            // model.json + weights.bin
   * await model.save('indexeddb://forecaster');                 // in the browser
   * await model.save('downloads://forecaster', { format: 'keras' }); // forecaster.keras
   * const again = await rnn.loadModel('file://./models/forecaster');
   * ```
   */
  async save(target: string | IOHandler, options: SaveOptions = {}): Promise<SaveResult> {
    this.checkAlive('save');
    return this.enter('save', () => saveModel(this, target, options));
  }

  /**
   * Loads weights saved by any model with the same weights (names and shapes): a saved model of
   * any format, or a Keras `.weights.h5` written for this architecture (Keras `load_weights`).
   * Everything is checked before a weight changes.
   */
  async loadWeights(source: string | IOHandler): Promise<void> {
    this.checkAlive('loadWeights');
    return loadWeightsInto(this, source);
  }

  /** @internal What serialize.ts saves: a functional model's graph (Sequential: its layers). */
  get savedForm(): Serializable['savedForm'] {
    return { kind: 'Model', graph: this.graphFor(null) };
  }

  /** @internal compile's arguments as JSON (null before compile). */
  get trainingConfigJSON(): TrainingConfigJSON | null {
    return this.compileJSON;
  }

  /** @internal The optimizer state, once training has built it. */
  get optimizerStateForSave(): OptimizerState | null {
    return this.dev.optState;
  }

  /** @internal Builds the optimizer state and restores a saved one (load.ts). */
  async restoreOptimizer(make: (vars: readonly Variable[], moments: readonly string[]) => Promise<OptimizerSnapshot>): Promise<void> {
    this.requireCompiled('restoreOptimizer');
    await this.build();
    const st = await this.ensureOptimizer();
    st.importState(await make(st.vars, st.moments));
  }

  /** Sets all weights (Keras order and layout). Count and shapes are checked before anything changes. */
  async setWeights(weights: TensorLike[]): Promise<void> {
    this.checkAlive('setWeights');
    this.enterSync('setWeights', false);
    await this.build();
    writeWeights(this.readyCtx, this.vars, weights, `${this.name}.setWeights`);
    this.dev.optState?.reset();
  }


  /**
   * What one training step on a batch of these shapes costs: compute dispatches (forward +
   * backward + optimizer), the bytes of activations saved for backward, and the submits (always
   * 1). Builds (and caches) the step's plan; runs nothing.
   */
  async trainingStepInfo(xShapes: readonly number[] | readonly (readonly number[])[], yShapes: readonly number[] | readonly (readonly number[])[]): Promise<TrainingStepInfo> {
    this.checkAlive('trainingStepInfo');
    this.requireCompiled('trainingStepInfo');
    const list = (s: readonly number[] | readonly (readonly number[])[]) => (Array.isArray(s[0]) ? (s as number[][]) : [s as number[]]);
    await this.build(list(xShapes)[0]!.slice(1));
    const opt = await this.ensureOptimizer();
    return trainStepInfo(await this.plan({ mode: 'train', xShapes: list(xShapes), yShapes: list(yShapes), sampleWeight: false }), opt);
  }

  /** A plan's cache key: a train plan is for the trained variables it was built with (trainable flags can change). */
  private planCacheKey(shape: PlanShape): string {
    return planKey(shape) + (shape.mode === 'train' ? `|${this.trainedVars.map((v) => v.offset).join(',')}` : '');
  }

  /** The cached train plan for these shapes, if built (benchmark profiling). @internal */
  trainPlanFor(xShapes: readonly (readonly number[])[], yShapes: readonly (readonly number[])[]): { plan: Plan; optimizer: OptimizerState; grads: GPUBuffer; device: GPUDevice } | null {
    const plan = this.dev.plans.peek(this.planCacheKey({ mode: 'train', xShapes, yShapes, sampleWeight: false }));
    return plan && this.dev.optState && this.dev.arena && this.dev.ctx ? { plan, optimizer: this.dev.optState, grads: this.dev.arena.grads, device: this.dev.ctx.device } : null;
  }

  /** Bytes of the GPU buffer pool (for memory tests: flat across epochs). */
  get pooledBytes(): number {
    return this.dev.ctx?.pool.bytesAllocated ?? 0;
  }

  // ---------------------------------------------------------------- streaming

  /**
   * Advances every recurrent layer by ONE time step from its stored state (kept on the GPU between
   * calls; zeros at first or after resetStates()) and returns the model's output for that step:
   * x_t [B, features] (or [B, 1, features]) → the output without its time axis (a list for several
   * outputs). The batch size may differ from training's but must stay the same until
   * resetStates(). Over a sequence it gives what predict() gives for the whole sequence.
   */
  async predictStep(xIn: TensorLike): Promise<HostTensor | HostTensor[]> {
    this.checkAlive('predictStep');
    const want = this.topology?.inputs[0]?.shape ?? this.firstInputShape();
    if (this.topology && this.topology.inputs.length !== 1) throw new Error(`${this.name}.predictStep: needs a model with one input (this one has ${this.topology.inputs.length}); use predict with the states as inputs`);
    const { x, B, F } = stepInput(xIn, want, `${this.name}.predictStep`);
    return this.enter('predictStep', async () => {
      await this.build(want ?? [null, F]);
      for (const l of statefulLayers(this.layers)) l.beginStep(B);
      const out = await runStep(this.readyCtx, await this.plan({ mode: 'step', xShapes: [[B, 1, F]], yShapes: [], sampleWeight: false }), x);
      return out.length === 1 ? out[0]! : out;
    });
  }


  /** Zeros the stored state of every recurrent layer (Keras `model.reset_states()`). */
  resetStates(): void {
    this.enterSync('resetStates', false);
    for (const l of statefulLayers(this.layers)) l.resetStates();
  }

  /** Frees the model's GPU memory. The model cannot be used afterwards (every call throws). */
  dispose(): void {
    if (this.calls.disposed) return;
    this.enterSync('dispose', true);
    this.dev.dispose(this.layers);
    this.calls.disposed = true;
  }

  /** @internal True once disposed. */
  get isDisposed(): boolean {
    return this.calls.disposed;
  }

  /** @internal rnn.recover(): rebuilds the model on `ctx` from its host backup when its device was lost. */
  async moveToDevice(ctx: Context): Promise<boolean> {
    if (!this.dev.ctx?.gpu.isLost || this.calls.busy) return false;
    return this.dev.moveTo(ctx, this.totalSlots, this.layers, async () => (this.compiled && this.dev.backup.optimizer ? this.ensureOptimizer('recover') : null));
  }
}
