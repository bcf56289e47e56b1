/**
 * Sequential (Keras / tfjs): a Model whose graph is its layers in a row — one input, one output.
 * Layers are added before the model is built; the graph is made once the input shape is known
 * (the first layer's inputShape, else the first data given), and from then on everything is the
 * functional Model's code. predict / predictStep return one array.
 */
import type { HostTensor, TensorLike } from '../host';
import { InputLayer, Layer, type Shape } from '../layers/layer';
import type { SymbolicTensor } from '../layers/symbolic';
import { Model } from './model';
import { Topology } from './topology';
import type { Serializable } from './serialize';
import { canStreamForecast, feedbackForecast } from './feedback';
import type { EvaluateArgs, ModelData, SequentialArgs } from './types';
import { checkOptions, is } from '../options';

export { setSeed } from './weights';
export type { LossName, LossSpec, MetricName, CompileArgs, Logs, Callback, FitArgs, FitDatasetArgs, History, EvaluateArgs, SequentialArgs, ModelArgs, ModelData } from './types';

/**
 * Keras `Sequential`: layers in a row, one input and one output. Made by `rnn.sequential`; it is
 * a {@link Model}, so everything a model does (compile, fit, evaluate, predict, predictStep,
 * weights, summary) works on it.
 *
 * @example
 * ```ts
 * const model = rnn.sequential({ layers: [
 *   rnn.layers.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] }),
 *   rnn.layers.lstm({ units: 20 }),
 *   rnn.layers.dense({ units: 1 }),
 * ] });
 * model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.001 }), loss: 'mse' });
 * model.summary();
 * const history = await model.fit(train.x, train.y, { epochs: 20, validationData: [valid.x, valid.y] });
 * const yPred = await model.predict(valid.x);
 * ```
 */
export class Sequential extends Model {
  private readonly stack: Layer[] = [];
  protected override readonly summaryStyle = 'sequential' as const;
  private builtInput: Shape | null = null;

  constructor(args: SequentialArgs = {}) {
    checkOptions('sequential', args, { layers: is.array, name: is.string, seed: is.seed }, '{layers: [...]}');
    super({ ...(args?.name !== undefined ? { name: args.name } : {}), ...(args?.seed !== undefined ? { seed: args.seed } : {}) }, 'sequential');
    if (args.layers !== undefined && !Array.isArray(args.layers)) throw new TypeError(`${this.name}: layers must be a list of layers`);
    for (const l of args.layers ?? []) this.add(l);
  }

  /** Appends a layer (before the model is built). */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new TypeError(`${this.name}.add: expected a layer, got ${typeof layer}`);
    if (this.isBuilt) throw new Error(`${this.name}.add: the model is already built; create a new model to change its layers`);
    this.stack.push(layer);
    this.topology = null; // made again, with the new layer, when needed
    this.builtInput = null;
  }

  override get layers(): readonly Layer[] {
    return this.stack;
  }

  /** Input shape without batch, from the first layer's inputShape (null if not given yet). */
  get inputShape(): Shape | null {
    return this.builtInput ?? this.stack[0]?.inputShape ?? null;
  }

  /** The input's name (known before the graph is made). */
  override get inputNames(): string[] {
    return this.topology ? super.inputNames : [`${this.name}_input`];
  }

  /** The output's name: the last layer's (known before the graph is made, e.g. at compile). */
  override get outputNames(): string[] {
    return this.topology ? super.outputNames : [this.stack.at(-1)?.name ?? 'output'];
  }

  /** @internal What serialize.ts saves: the layers in a row and the input shape built for. */
  override get savedForm(): Serializable['savedForm'] {
    return { kind: 'Sequential', layers: this.stack, inputShape: this.inputShape ? [...this.inputShape] : null };
  }

  protected override firstInputShape(): Shape | null {
    return this.inputShape;
  }

  /**
   * The graph: an input of the first layer's inputShape (or of `input`, the data's shape, when
   * the first layer has none), then every layer applied to the previous one's (first) output.
   */
  protected override graphFor(input: Shape | null): Topology {
    if (this.topology) return this.topology;
    if (!this.stack.length) throw new Error(`${this.name}: the model has no layers`);
    const shape = this.stack[0]!.inputShape ?? input;
    if (!shape) throw new Error(`${this.name}: input shape unknown; give the first layer an inputShape or call fit/predict first`);
    const inp = new InputLayer({ name: `${this.name}_input`, shape }).output;
    let t: SymbolicTensor = inp;
    for (const l of this.stack) {
      const out = l.apply(t);
      t = Array.isArray(out) ? out[0]! : out; // a Sequential passes only the main output on
    }
    this.topology = new Topology([inp], [t], this.name);
    this.builtInput = shape;
    return this.topology;
  }

  /** The model's output shape (without batch) for an input shape (default: the model's own). */
  outputShape(input: Shape | null = this.inputShape): Shape {
    if (!input) throw new Error(`${this.name}: input shape unknown; give the first layer an inputShape or call fit/predict first`);
    if (!this.topology && !this.stack[0]?.inputShape) {
      // Shapes only: no graph yet (it is made with the first data's shape).
      return this.stack.reduce<Shape>((s, l) => l.outputShape(s), input);
    }
    return this.outputShapes([input])[0]!;
  }

  /** Model outputs for x, computed in batches and read back once. */
  override async predict(x: ModelData, args: EvaluateArgs = {}): Promise<HostTensor> {
    return (await this.predictAll(x, args))[0]!;
  }

  /**
   * The engine of `rnn.iterativeForecast` for models that accept any sequence length: x
   * [batch, time, 1] is run once, then `steps − 1` single steps from the recurrent layers' GPU
   * state, each fed the previous prediction (src/model/feedback.ts). Returns [batch, steps], or
   * null when the model cannot stream (a Bidirectional or `stateful` layer). The stored states of a
   * predictStep stream are kept.
   * @internal
   */
  async forecastSteps(x: HostTensor, steps: number, batchSize: number): Promise<HostTensor | null> {
    if (!canStreamForecast(this.layers)) return null;
    return this.enter('iterativeForecast', async () => {
      await this.build(x.shape.slice(1));
      return feedbackForecast(this.readyCtx, this.plan, this.layers, x, steps, batchSize);
    });
  }

  /** One time step of streaming inference (see Model.predictStep); one array. */
  override async predictStep(x: TensorLike): Promise<HostTensor> {
    const out = await super.predictStep(x);
    return Array.isArray(out) ? out[0]! : out;
  }
}
