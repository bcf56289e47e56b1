/**
 * Layer base class. A layer declares its weights (shapes and initializers, Keras 3 layout and
 * order) for a given input shape, and records its computation into a Graph with ops from
 * src/ops. Shapes exclude the batch dimension; `null` is a variable dimension (sequence length).
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import type { InitializerName, Rng } from './initializers';

export type Shape = readonly (number | null)[];

export interface LayerArgs {
  /** Layer name (default: class name with a counter, as in Keras). */
  name?: string;
  /** Input shape without the batch dimension, on the first layer of a model. `null` = any length. */
  inputShape?: Shape;
}

export interface WeightSpec {
  /** Keras variable name: 'kernel', 'recurrent_kernel', 'bias'. */
  name: string;
  shape: readonly number[];
  init: InitializerName;
  /** Custom initial values (e.g. LSTM's unit forget bias); overrides `init`. */
  initValues?: (rng: Rng) => Float32Array;
  /**
   * Default true. `false` marks state such as BatchNormalization's moving statistics: it stays in
   * the arena (getWeights/setWeights order) but optimizers, clipping and weight decay skip it.
   */
  trainable?: boolean;
}

const counters = new Map<string, number>();

/** Keras-style unique names: dense, dense_1, dense_2, … */
export function uniqueName(base: string): string {
  const n = counters.get(base) ?? 0;
  counters.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

export abstract class Layer {
  readonly name: string;
  readonly inputShape: Shape | null;
  /** Keras class name, shown by model.summary(). */
  abstract readonly className: string;

  constructor(args: LayerArgs, base: string) {
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

  /** Weights for an input shape, in Keras order. */
  weightSpecs(_input: Shape): WeightSpec[] {
    return [];
  }

  /** Records the layer's forward computation. `weights` follow weightSpecs' order. */
  abstract call(g: Graph, x: Tensor, weights: readonly Tensor[]): Promise<Tensor>;

  /** Configuration (Keras names), for summary() and serialisation. */
  abstract getConfig(): Record<string, unknown>;
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
