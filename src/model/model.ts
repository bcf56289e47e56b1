/**
 * The model (Keras `Model`, tfjs `LayersModel`): a graph of layers from input to output symbolic
 * tensors — functional models are built with `rnn.model({inputs, outputs})`, and Sequential is
 * the same class with its layers in a row. compile / fit / evaluate / predict / trainOnBatch /
 * predictStep / get- and setWeights / summary, all with several inputs and outputs. The class
 * holds the state (graph, arena, plans, optimizer); the modules beside it do the work.
 */
import type { HostTensor, TensorLike } from '../host';
import { getContext, type Context } from '../gpu/context';
import type { ParamArena, Variable } from '../gpu/arena';
import type { Tensor } from '../tensor';
import type { Layer, Shape } from '../layers/layer';
import type { Optimizer, OptimizerSnapshot, OptimizerState } from '../optim/optimizers';
import { noGrad } from '../ops/loss';
import { parseCompileArgs, type CompiledConfig } from './compile';
import { PlanCache, Totals, buildPlan, planKey, type Plan, type PlanFor, type PlanShape } from './plans';
import { prepareBatch, batchRows, type HostBatch } from './data';
import { trainLoop, trainStep, trainStepInfo, checkFitArgs, checkFitDatasetArgs, fitValidation, arrayBatchSource, datasetBatchSource, gradientsOf, type BatchSource, type DatasetFn, type LoopArgs } from './train-loop';
import { checkBatchSize, evaluateBatches, predictBatches } from './inference';
import { layerWeights, createArena, readWeights, writeWeights, existingArena, registerWeights, layerVars, retainArena, releaseArena } from './weights';
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

  protected ctx: Context | null = null;
  private arena: ParamArena | null = null;
  /** The arena was built by this model (else it belongs to the model whose layers this one reuses). */
  private ownsArena = false;
  private compiled: CompiledConfig | null = null;
  /** compile's arguments in JSON form (saved with the model). */
  private compileJSON: TrainingConfigJSON | null = null;
  private optState: OptimizerState | null = null;
  /** Which variables the optimizer state was built for (trainable flags can change). */
  private optVars = '';
  private plans = new PlanCache();
  private totals: Totals | null = null;
  /** Evaluation's own sums, so a callback's evaluate() does not disturb the epoch's. */
  private evalTotals: Totals | null = null;
  /** Which call is in progress (calls.ts). */
  private readonly calls: CallGate;

  /** A functional model from `args.inputs` to `args.outputs` (Sequential passes none and makes its graph later). */
  constructor(args: Partial<ModelArgs> = {}, defaultName = 'model') {
    super(args, defaultName);
    this.calls = new CallGate(this.name);
  }

  /** True once the weights exist (the graph can no longer change). */
  protected get isBuilt(): boolean {
    return this.arena !== null;
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
    this.optState?.destroy();
    this.optState = null;
    this.plans.dispose('train');
    this.plans.dispose('eval');
    this.compiled = compiled;
    this.compileJSON = { optimizer: serializeOptimizer(compiled.optimizer), loss: args.loss, ...(args.lossWeights !== undefined ? { lossWeights: args.lossWeights } : {}), ...(args.metrics !== undefined ? { metrics: args.metrics } : {}) };
    if (this.ctx) this.makeTotals(this.ctx);
  }

  /** Builds the weights (called by fit/predict; needs the GPU). `input`: the first input's shape, for a Sequential without inputShape. */
  async build(input?: Shape): Promise<void> {
    this.checkAlive('build');
    if (this.arena) return;
    const topo = this.graphFor(input ?? null);
    const ctx = (this.ctx ??= await getContext());
    const weights = layerWeights(topo.layers, topo.layers.map((l) => topo.weightInput(l)));
    const shared = existingArena(topo.layers, (l) => weights.some((w) => w.layer === l), `${this.name}.build`);
    if (shared) {
      this.arena = shared;
    } else {
      this.arena = createArena(ctx, weights, this.seed);
      this.ownsArena = true;
      registerWeights(this.arena, weights);
    }
    retainArena(this.arena);
    this.makeTotals(ctx);
  }

  private makeTotals(ctx: Context): void {
    this.totals?.destroy();
    this.evalTotals?.destroy();
    const slots = Math.max(16, this.compiled?.slots ?? 0);
    this.totals = new Totals(ctx, slots);
    this.evalTotals = new Totals(ctx, slots);
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
    if (!this.ctx) throw new Error(`${this.name}: not built`);
    return this.ctx;
  }

  /** The cached plan for these shapes, built on first use from the graph. */
  protected readonly plan: PlanFor = (shape: PlanShape) =>
    this.plans.get(this.planCacheKey(shape), () => {
      const topo = this.graphFor(null);
      const weights = (l: Layer): Tensor[] => layerVars(l).map((v) => (l.trainable ? v.value : noGrad(v.value)));
      return buildPlan({
        ctx: this.readyCtx, shape, trained: this.trainedVars,
        forward: (g, xs) => topo.forward(g, xs, weights),
        compiled: this.compiled, totals: shape.mode === 'eval' ? this.evalTotals! : this.totals!, name: this.name,
      });
    });

  // ---------------------------------------------------------------- calls and their order

  private checkAlive(where: string): void {
    if (this.calls.disposed) this.calls.check(where, false);
  }

  protected enter<T>(where: string, body: () => Promise<T>, exclusive = false): Promise<T> {
    return this.calls.run(where, body, exclusive);
  }

  private enterSync(where: string, exclusive: boolean): void {
    this.calls.check(where, exclusive);
  }

  private requireCompiled(where: string): CompiledConfig {
    if (!this.compiled) throw new Error(`${this.name}.${where}: call compile({optimizer, loss}) first`);
    return this.compiled;
  }

  /** The optimizer state for the current trainable variables (rebuilt when layers were frozen or unfrozen). */
  private async ensureOptimizer(): Promise<OptimizerState> {
    const vars = this.trainedVars;
    const key = vars.map((v) => v.offset).join(',');
    if (this.optState && key !== this.optVars) {
      // trainable changed: train plans and the optimizer's slots follow (Keras: after recompiling)
      this.optState.destroy();
      this.optState = null;
      this.plans.dispose('train');
    }
    if (!this.optState) {
      this.optState = await this.compiled!.optimizer.build(this.readyCtx, this.arena!, vars);
      this.optVars = key;
    }
    return this.optState;
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
      return this.train(src, epochs, val, args);
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
      return this.train(src, epochs, val, { ...args, validationBatchSize: args.validationBatchSize });
    }, true);
  }

  /** fit and fitDataset's loop over this model (train-loop.ts), after building the optimizer. */
  private async train(src: BatchSource, epochs: number, val: HostBatch | null, args: LoopArgs & { validationBatchSize?: number | undefined }): Promise<History> {
    await this.ensureOptimizer();
    return trainLoop({
      ...this.stepTarget(),
      model: this,
      totals: this.totals!,
      compiled: this.compiled!,
      evaluate: (v) => evaluateBatches(this.readyCtx, this.plan, this.evalTotals!, this.compiled!, v, args.validationBatchSize ?? 128, this.beginBatch),
      setPaused: (p) => (this.calls.paused = p),
    }, src, epochs, val, args);
  }

  private stepTarget() {
    return { ctx: this.readyCtx, arena: this.arena!, plan: this.plan, optimizer: () => this.optState!, beginBatch: this.beginBatch };
  }

  /** One gradient step on one batch; returns its loss (read back: one sync per call). */
  async trainOnBatch(x: ModelData, y: ModelData, args: { sampleWeight?: TensorLike } = {}): Promise<number> {
    this.checkAlive('trainOnBatch');
    this.requireCompiled('trainOnBatch');
    this.graphForData(x);
    const batch = this.prepare(x, y, 'trainOnBatch', args.sampleWeight);
    return this.enter('trainOnBatch', async () => {
      await this.build();
      await this.ensureOptimizer();
      this.totals!.clear();
      await trainStep(this.stepTarget(), batch);
      const t = await this.totals!.read();
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
      return evaluateBatches(this.readyCtx, this.plan, this.evalTotals!, compiled, data, batchSize, this.beginBatch);
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
    this.checkAlive('getWeights');
    await this.build();
    return readWeights(this.readyCtx, this.vars);
  }

  /** Names of the weights ('layer/weight'), aligned with getWeights(). */
  get weightNames(): string[] {
    return this.arena ? this.vars.map((v) => v.name) : [];
  }

  /** Shapes of the weights, aligned with weightNames ([] before the model is built). */
  get weightShapes(): number[][] {
    return this.arena ? this.vars.map((v) => [...v.shape]) : [];
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
    return this.optState;
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
    this.enterSync('setWeights', false);
    await this.build();
    writeWeights(this.readyCtx, this.vars, weights, `${this.name}.setWeights`);
    this.optState?.reset();
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
    const plan = this.plans.peek(this.planCacheKey({ mode: 'train', xShapes, yShapes, sampleWeight: false }));
    return plan && this.optState && this.arena && this.ctx ? { plan, optimizer: this.optState, grads: this.arena.grads, device: this.ctx.device } : null;
  }

  /** Bytes of the GPU buffer pool (for memory tests: flat across epochs). */
  get pooledBytes(): number {
    return this.ctx?.pool.bytesAllocated ?? 0;
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
    this.plans.dispose();
    this.optState?.destroy();
    // The weights live on while another model made from these layers still uses them; with the
    // last one the layers are disposed too (stored recurrent state, dropout RNG buffers).
    if (this.arena && releaseArena(this.arena, this.name)) for (const l of this.layers) (l as { disposeState?: () => void }).disposeState?.();
    this.totals?.destroy();
    this.evalTotals?.destroy();
    this.optState = null;
    this.arena = null;
    this.calls.disposed = true;
    // The plans' activation buffers went back to the shared pool; free the idle ones.
    this.ctx?.pool.trim();
  }
}
