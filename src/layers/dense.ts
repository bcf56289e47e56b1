/**
 * Dense, Flatten and TimeDistributed. Dense applies to the last axis of any input, so on a
 * sequence [B, T, F] it is applied per time step (as Keras 3 does), one GEMM over all B·T rows.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { matmul } from '../ops/matmul';
import { activation } from '../ops/elementwise';
import { parseActivation, type Activation } from '../ops/activations';
import { parseInitializer, type InitializerName } from './initializers';
import { Layer, serializeLayer, activationOption, initializerOption, positiveInt, type LayerArgs, type Shape, type WeightSpec } from './layer';
import { is } from '../options';

/** Options of `rnn.layers.dense` (Keras `Dense`). */
export interface DenseArgs extends LayerArgs {
  /** Number of outputs (the last dimension of the output). */
  units: number;
  /** Default linear (null). */
  activation?: Activation | 'hard_sigmoid' | null;
  /** Add a bias (default true). */
  useBias?: boolean;
  /** Initializer of the kernel [inputs, units] (default 'glorotUniform'). */
  kernelInitializer?: string;
  /** Initializer of the bias (default 'zeros'). */
  biasInitializer?: string;
}

/**
 * Keras `Dense`: `activation(x · kernel + bias)` on the last axis; on a sequence [B, T, F] it
 * applies to every time step (as Keras 3 does). Made by `rnn.layers.dense`.
 *
 * @example
 * ```ts
 * rnn.layers.dense({ units: 10 });                      // a linear head with 10 outputs
 * rnn.layers.dense({ units: 32, activation: 'relu' });
 * ```
 */
export class Dense extends Layer {
  readonly className = 'Dense';
  /** Number of outputs. */
  readonly units: number;
  /** The activation ('linear' when none was given). */
  readonly activation: Activation;
  /** Whether the layer has a bias. */
  readonly useBias: boolean;
  /** The kernel's initializer. */
  readonly kernelInitializer: InitializerName;
  /** The bias's initializer. */
  readonly biasInitializer: InitializerName;

  constructor(args: DenseArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('dense: expected an options object like {units: 1}');
    super(args, 'dense', { units: is.positiveInt, activation: activationOption, useBias: is.boolean, kernelInitializer: initializerOption, biasInitializer: initializerOption });
    this.units = positiveInt(this.name, 'units', args.units);
    this.activation = parseActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = parseInitializer(args.kernelInitializer, this.name, 'glorotUniform');
    this.biasInitializer = parseInitializer(args.biasInitializer, this.name, 'zeros');
  }

  private features(input: Shape): number {
    const f = input[input.length - 1];
    if (input.length < 1 || f === null || f === undefined) {
      throw new RangeError(`${this.name}: the last input dimension must be known, got input shape [${input.join(', ')}]`);
    }
    return f;
  }

  outputShape(input: Shape): Shape {
    this.features(input);
    return [...input.slice(0, -1), this.units];
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    const specs: WeightSpec[] = [{ name: 'kernel', shape: [this.features(input), this.units], init: this.kernelInitializer }];
    if (this.useBias) specs.push({ name: 'bias', shape: [this.units], init: this.biasInitializer });
    return specs;
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    const f = x.shape[x.shape.length - 1]!;
    const rows = x.size / f;
    const y = await matmul(g, x.reshape([rows, f]), w[0]!, this.useBias ? w[1]! : null, this.name);
    const a = await activation(g, y, this.activation);
    return a.reshape([...x.shape.slice(0, -1), this.units]);
  }

  getConfig(): Record<string, unknown> {
    return { units: this.units, activation: this.activation, useBias: this.useBias, kernelInitializer: this.kernelInitializer, biasInitializer: this.biasInitializer };
  }
}

/** Keras `Flatten`: flattens all non-batch dimensions (which must be known). Made by `rnn.layers.flatten`. */
export class Flatten extends Layer {
  readonly className = 'Flatten';

  constructor(args: LayerArgs = {}) {
    super(args, 'flatten');
  }

  outputShape(input: Shape): Shape {
    if (input.some((d) => d === null)) {
      throw new RangeError(`${this.name}: cannot flatten an input with an unknown dimension [${input.join(', ')}]; give inputShape with a fixed sequence length`);
    }
    return [(input as number[]).reduce((a, b) => a * b, 1)];
  }

  async call(_g: Graph, x: Tensor): Promise<Tensor> {
    return x.reshape([x.shape[0]!, x.size / x.shape[0]!]);
  }

  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Options of `rnn.layers.timeDistributed` (Keras `TimeDistributed`). */
export interface TimeDistributedArgs extends LayerArgs {
  /** The layer to apply to every time step, e.g. `rnn.layers.dense({units: 10})`. */
  layer: Layer;
}

/**
 * Keras `TimeDistributed`: applies `layer` to every time step of a [B, T, ...] input (one call
 * over all B·T rows). Made by `rnn.layers.timeDistributed`.
 *
 * @example
 * ```ts
 * // the chapter's sequence-to-sequence head: 10 values ahead at every step
 * rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 10 }) });
 * ```
 */
export class TimeDistributed extends Layer {
  readonly className = 'TimeDistributed';
  /** The layer applied at every step. */
  readonly layer: Layer;

  constructor(args: TimeDistributedArgs) {
    super(args, 'time_distributed', { layer: is.object });
    if (!(args?.layer instanceof Layer)) throw new TypeError(`${this.name}: 'layer' must be a layer, e.g. rnn.layers.dense({units: 10})`);
    this.layer = args.layer;
  }

  private inner(input: Shape): Shape {
    if (input.length < 2) throw new RangeError(`${this.name}: expects a [batch, time, ...] input, got [${input.join(', ')}]`);
    return input.slice(1);
  }

  outputShape(input: Shape): Shape {
    return [input[0]!, ...this.layer.outputShape(this.inner(input))];
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    return this.layer.weightSpecs(this.inner(input));
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    const [B, T, ...rest] = x.shape as number[];
    const y = await this.layer.call(g, x.reshape([B! * T!, ...rest]), w);
    return y.reshape([B!, T!, ...y.shape.slice(1)]);
  }

  getConfig(): Record<string, unknown> {
    return { layer: serializeLayer(this.layer) };
  }
}
