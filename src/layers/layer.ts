/**
 * Layer base class. A layer declares its weights (shapes and initializers, Keras 3 layout and
 * order) for a given input shape, and records its computation into a Graph with ops from
 * src/ops. Shapes exclude the batch dimension; `null` is a variable dimension (sequence length).
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import type { InitializerName, Rng } from './initializers';
import { Node, SymbolicTensor, isSymbolic } from './symbolic';
import { checkOptions, is, type Check, type OptionSpec } from '../options';

/**
 * A shape without the batch dimension, e.g. `[50, 1]` for windows of 50 steps of 1 feature;
 * `null` is a dimension of any size (e.g. the sequence length: `[null, 1]`).
 */
export type Shape = readonly (number | null)[];

/** Options every layer takes (Keras `name`, `input_shape`). */
export interface LayerArgs {
  /** Layer name (default: class name with a counter, as in Keras). */
  name?: string;
  /** Input shape without the batch dimension, on the first layer of a model. `null` = any length. */
  inputShape?: Shape;
}

/** A weight a layer or cell declares for an input shape (custom cells return these from `weightSpecs`). */
export interface WeightSpec {
  /** Keras variable name: 'kernel', 'recurrent_kernel', 'bias'. */
  name: string;
  /** The weight's shape, e.g. `[inputSize, units]`. */
  shape: readonly number[];
  /** Its initializer (Keras name, e.g. 'glorotUniform', 'orthogonal', 'zeros'). */
  init: InitializerName;
  /** Custom initial values (e.g. LSTM's unit forget bias); overrides `init`. */
  initValues?: (rng: Rng) => Float32Array;
  /**
   * Default true. `false` marks state such as BatchNormalization's moving statistics: it stays in
   * the arena (getWeights/setWeights order) but optimizers, clipping and weight decay skip it.
   */
  trainable?: boolean;
}

/** Option checks shared by the layers: an activation name or null, an initializer name. */
export const activationOption: Check = (v) => (v === null || typeof v === 'string' ? null : `must be an activation name (e.g. 'tanh') or null, got ${JSON.stringify(v)}`);
export const initializerOption: Check = (v) => (typeof v === 'string' ? null : `must be an initializer name (e.g. 'glorotUniform'), got ${JSON.stringify(v)}`);

/** The options every layer takes. */
export const LAYER_OPTIONS: OptionSpec = { name: is.string, inputShape: is.shape };

const counters = new Map<string, number>();

/** Keras-style unique names: dense, dense_1, dense_2, … */
export function uniqueName(base: string): string {
  const n = counters.get(base) ?? 0;
  counters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

/** Options of `layer.apply(x, args)` (Keras call arguments). */
export interface ApplyArgs {
  /** Recurrent layers: the initial state, e.g. `[h, c]` for an LSTM (Keras `initial_state`). */
  initialState?: SymbolicTensor[];
}

/**
 * The base of every layer (Keras `keras.layers.Layer`). Layers are made with the factories of
 * `rnn.layers` and put in a model (`rnn.sequential({layers})`, or called on symbolic tensors with
 * `apply` for `rnn.model`); their weights live on the GPU once the model is built.
 *
 * @example
 * ```ts
 * const lstm = rnn.layers.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] });
 * const model = rnn.sequential({ layers: [lstm, rnn.layers.dense({ units: 1 })] });
 * console.log(lstm.name, lstm.getConfig());
 * ```
 */
export abstract class Layer {
  /** The layer's name (unique per page/process by default: `lstm`, `lstm_1`, …); prefixes its weight names. */
  readonly name: string;
  /** The input shape given to the layer (without batch), or null. */
  readonly inputShape: Shape | null;
  /** Keras class name, shown by model.summary(). */
  abstract readonly className: string;
  /**
   * False freezes the layer's weights (Keras `layer.trainable`): they get no gradient, no update
   * and no optimizer slots. Takes effect at the next fit / trainOnBatch.
   */
  trainable = true;
  /**
   * The layer's calls in functional graphs (one per `apply`; several for a shared layer).
   * @internal
   */
  readonly nodes: Node[] = [];

  /**
   * `spec`: the layer's own options beside name and inputShape; unknown keys and values of the
   * wrong type are refused here, before anything is built ("did you mean …"). Layers are made by
   * the factories of `rnn.layers`.
   * @internal
   */
  constructor(args: LayerArgs, base: string, spec: OptionSpec = {}) {
    checkOptions(typeof args?.name === 'string' ? args.name : base, args, { ...LAYER_OPTIONS, ...spec });
    this.name = args.name ?? uniqueName(base);
    if (args.inputShape !== undefined) {
      if (!Array.isArray(args.inputShape) || args.inputShape.some((d) => d !== null && (!Number.isInteger(d) || d <= 0))) {
        throw new RangeError(`${this.name}: inputShape must be an array of positive integers or null, got ${JSON.stringify(args.inputShape)}`);
      }
    }
    this.inputShape = args.inputShape ?? null;
  }

  /** Output shape (without batch) for an input shape; throws with the layer name on a mismatch. */
  abstract outputShape(input: Shape): Shape;

  /**
   * Weights for an input shape, in Keras order.
   * @internal
   */
  weightSpecs(_input: Shape): WeightSpec[] {
    return [];
  }

  /**
   * Records the layer's forward computation. `weights` follow weightSpecs' order.
   * @internal
   */
  abstract call(g: Graph, x: Tensor, weights: readonly Tensor[]): Promise<Tensor>;

  /** Configuration (Keras names), for summary() and serialisation. */
  abstract getConfig(): Record<string, unknown>;

  /**
   * Output shapes of one call with these inputs (and initial states); throws naming the layer and
   * the shapes when they do not fit. Default: one input, no state, `outputShape`.
   * @internal
   */
  nodeOutputShapes(inputs: readonly Shape[], states: readonly Shape[]): Shape[] {
    if (inputs.length !== 1) throw new RangeError(`${this.name}: takes one input, got ${inputs.length} (${inputs.map(shapeToString).join(', ')})`);
    if (states.length) throw new RangeError(`${this.name} (${this.className}): has no initialState`);
    return [this.outputShape(inputs[0]!)];
  }

  /**
   * Records one call (a graph node): inputs and states in, outputs out. Default: `call` on the one input.
   * @internal
   */
  async callNode(g: Graph, inputs: readonly Tensor[], weights: readonly Tensor[], _states: readonly Tensor[]): Promise<Tensor[]> {
    return [await this.call(g, inputs[0]!, weights)];
  }

  /**
   * Calls the layer on symbolic tensors (the functional API, Keras `layer(x)` / tfjs
   * `layer.apply(x)`): returns the output's symbolic tensor, or a list for several outputs (a
   * recurrent layer with returnState). Shapes are checked now, before any GPU work. Calling a layer
   * again shares its weights; the new input must give the same weight shapes.
   */
  apply(inputs: SymbolicTensor | readonly SymbolicTensor[], args: ApplyArgs = {}): SymbolicTensor | SymbolicTensor[] {
    const list = Array.isArray(inputs) ? [...inputs] : [inputs];
    const where = `${this.name}.apply`;
    list.forEach((t, i) => {
      if (!isSymbolic(t)) throw new TypeError(`${where}: input ${i} is not a symbolic tensor (use rnn.input({shape}) or another layer's output; to run a layer on data, put it in a model)`);
    });
    if (args === null || typeof args !== 'object') throw new TypeError(`${where}: the second argument must be an options object like {initialState: [h, c]}`);
    const states = args.initialState ?? [];
    if (!Array.isArray(states)) throw new TypeError(`${where}: initialState must be a list of symbolic tensors, e.g. [h, c]`);
    states.forEach((t, i) => {
      if (!isSymbolic(t)) throw new TypeError(`${where}: initialState[${i}] is not a symbolic tensor`);
    });
    const outputShapes = this.nodeOutputShapes(list.map((t) => t.shape), states.map((t) => t.shape));
    const first = this.nodes[0];
    if (first) {
      const a = this.weightSpecs(first.inputs[0]!.shape).map((w) => w.shape.join('x')).join(',');
      const b = this.weightSpecs(list[0]!.shape).map((w) => w.shape.join('x')).join(',');
      if (a !== b) {
        throw new RangeError(`${where}: a shared layer needs inputs that give the same weights; first called on ${shapeToString(first.inputs[0]!.shape)}, now on ${shapeToString(list[0]!.shape)}`);
      }
    }
    const node = new Node(this, list, states, outputShapes);
    this.nodes.push(node);
    return node.outputs.length === 1 ? node.outputs[0]! : node.outputs;
  }
}

/** The input of a functional model (Keras `Input`, made by `rnn.input`): no weights, no computation. */
export class InputLayer extends Layer {
  readonly className = 'InputLayer';

  constructor(args: LayerArgs & { shape: Shape }) {
    checkOptions('input', args, { name: is.string, shape: is.shape }, '{shape: [null, 1]}');
    super({ ...(args.name !== undefined ? { name: args.name } : {}), inputShape: args.shape }, 'input');
    if (!this.inputShape) throw new RangeError(`${this.name}: shape is required`);
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  async call(_g: Graph, x: Tensor): Promise<Tensor> {
    return x;
  }

  getConfig(): Record<string, unknown> {
    return { shape: this.inputShape };
  }

  /** The symbolic tensor this input stands for (made once). */
  get output(): SymbolicTensor {
    if (!this.nodes.length) this.nodes.push(new Node(this, [], [], [this.inputShape!]));
    return this.nodes[0]!.outputs[0]!;
  }
}

/**
 * A layer as `{className, config}`: its options (getConfig) with its name and inputShape — what
 * its constructor takes to rebuild it (model files, wrappers' configs).
 */
export function serializeLayer(layer: Layer): { className: string; config: Record<string, unknown> } {
  return { className: layer.className, config: { name: layer.name, ...(layer.inputShape ? { inputShape: [...layer.inputShape] } : {}), ...layer.getConfig() } };
}

/** Throws a clear error when `value` is not a positive integer. */
export function positiveInt(where: string, key: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function shapeToString(s: Shape): string {
  return `(${['None', ...s.map((d) => (d === null ? 'None' : String(d)))].join(', ')})`;
}
