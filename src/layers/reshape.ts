/**
 * Keras Reshape and RepeatVector: Reshape is a zero-copy view with another shape (the batch stays;
 * one dimension may be -1, inferred); RepeatVector turns a vector [B, F] into a sequence [B, n, F]
 * (vector-to-sequence and encoder–decoder models start their decoder from it).
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { repeatSteps } from '../ops/sequence';
import { Layer, positiveInt, shapeToString, type LayerArgs, type Shape } from './layer';
import { is } from '../options';

/** Options of `rnn.layers.reshape` (Keras `Reshape`). */
export interface ReshapeArgs extends LayerArgs {
  /** The new shape without the batch dimension; one entry may be -1 (inferred). */
  targetShape: readonly number[];
}

/** Keras `Reshape`: the same values with another shape (the batch stays; one dimension may be -1). */
export class Reshape extends Layer {
  readonly className = 'Reshape';
  /** The output shape without batch (-1 inferred). */
  readonly targetShape: readonly number[];

  constructor(args: ReshapeArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('reshape: expected an options object like {targetShape: [5, 2]}');
    super(args, 'reshape', { targetShape: is.array });
    const t = args.targetShape;
    if (!Array.isArray(t) || !t.length || t.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || t.filter((d) => d === -1).length > 1) {
      throw new RangeError(`${this.name}: targetShape must be positive integers with at most one -1, got ${JSON.stringify(t)}`);
    }
    this.targetShape = [...t];
  }

  outputShape(input: Shape): Shape {
    if (input.some((d) => d === null)) {
      throw new RangeError(`${this.name}: cannot reshape an input with an unknown dimension ${shapeToString(input)}; give the sequence length`);
    }
    const n = (input as number[]).reduce((a, b) => a * b, 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = this.targetShape.includes(-1);
    if ((free && n % known !== 0) || (!free && known !== n)) {
      throw new RangeError(`${this.name}: cannot reshape ${shapeToString(input)} (${n} values) to ${shapeToString(this.targetShape)}`);
    }
    return this.targetShape.map((d) => (d === -1 ? n / known : d));
  }

  async call(_g: Graph, x: Tensor): Promise<Tensor> {
    const out = this.outputShape(x.shape.slice(1)) as number[];
    return x.reshape([x.shape[0]!, ...out]);
  }

  getConfig(): Record<string, unknown> {
    return { targetShape: [...this.targetShape] };
  }
}

/** Options of `rnn.layers.repeatVector` (Keras `RepeatVector`). */
export interface RepeatVectorArgs extends LayerArgs {
  /** Number of steps. */
  n: number;
}

/** Keras RepeatVector: [B, F] → [B, n, F]. */
export class RepeatVector extends Layer {
  readonly className = 'RepeatVector';
  /** Number of steps of the output. */
  readonly n: number;

  constructor(args: RepeatVectorArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('repeatVector: expected an options object like {n: 10}');
    super(args, 'repeat_vector', { n: is.positiveInt });
    this.n = positiveInt(this.name, 'n', args.n);
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 1) throw new RangeError(`${this.name}: expects a vector input (batch, features), got ${shapeToString(input)}; use it after a layer that returns one vector per sample`);
    return [this.n, input[0]!];
  }

  async call(g: Graph, x: Tensor): Promise<Tensor> {
    if (x.shape.length !== 2) throw new RangeError(`${this.name}: expects [batch, features], got [${x.shape.join(', ')}]`);
    return repeatSteps(g, x, this.n, this.name);
  }

  getConfig(): Record<string, unknown> {
    return { n: this.n };
  }
}
