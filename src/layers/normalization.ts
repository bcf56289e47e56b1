/**
 * LayerNormalization and BatchNormalization with Keras 3 semantics, defaults and weight order,
 * normalising the last axis of [B, F] or [B, T, F] inputs (src/ops/normalization.ts):
 *   LayerNormalization:  weights gamma [F], beta [F]; statistics per row (per sample and step)
 *   BatchNormalization:  weights gamma [F], beta [F], moving_mean [F], moving_variance [F];
 *                        batch statistics over all other axes while training (and the moving
 *                        averages updated on the GPU), moving statistics in predict/evaluate.
 * The moving statistics are non-trainable (`trainable: false`): they live in the parameter arena
 * for getWeights/setWeights but optimizers, clipping and weight decay never touch them.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { layerNorm, batchNorm } from '../ops/normalization';
import { parseInitializer, type InitializerName } from './initializers';
import { Layer, initializerOption, type LayerArgs, type Shape, type WeightSpec } from './layer';
import { is, type OptionSpec } from '../options';

const NORMALIZATION_OPTIONS: OptionSpec = { axis: is.int, epsilon: is.number, center: is.boolean, scale: is.boolean, betaInitializer: initializerOption, gammaInitializer: initializerOption };

/** Options shared by both normalization layers. */
export interface NormalizationArgs extends LayerArgs {
  /** The normalised axis; only the last axis is supported (-1, the default, or its index). */
  axis?: number;
  /** Added to the variance (> 0); default 1e-3 (Keras 3). */
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  /** Default 'zeros'. */
  betaInitializer?: string;
  /** Default 'ones'. */
  gammaInitializer?: string;
}

/** Options of BatchNormalization. */
export interface BatchNormalizationArgs extends NormalizationArgs {
  /** Moving-average momentum in [0, 1); default 0.99 (Keras 3). */
  momentum?: number;
}

/** Shared validation and weights (gamma, beta) of the two layers. */
abstract class NormalizationBase extends Layer {
  /** The normalised axis (the last). */
  readonly axis: number;
  /** Added to the variance. */
  readonly epsilon: number;
  /** Whether an offset beta is learnt. */
  readonly center: boolean;
  /** Whether a scale gamma is learnt. */
  readonly scale: boolean;
  /** beta's initializer. */
  readonly betaInitializer: InitializerName;
  /** gamma's initializer. */
  readonly gammaInitializer: InitializerName;

  constructor(args: NormalizationArgs, base: string, spec: OptionSpec = NORMALIZATION_OPTIONS) {
    if (args === null || typeof args !== 'object') throw new TypeError(`${base}: expected an options object, got ${args === null ? 'null' : typeof args}`);
    super(args, base, spec);
    const axis = args.axis ?? -1;
    if (!Number.isInteger(axis)) throw new RangeError(`${this.name}: axis must be an integer (only the last axis, -1, is supported), got ${JSON.stringify(args.axis)}`);
    this.axis = axis;
    const eps = args.epsilon ?? 1e-3;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) throw new RangeError(`${this.name}: epsilon must be a finite number > 0, got ${eps}`);
    this.epsilon = eps;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = parseInitializer(args.betaInitializer, this.name, 'zeros');
    this.gammaInitializer = parseInitializer(args.gammaInitializer, this.name, 'ones');
    if (this.inputShape) this.features(this.inputShape);
  }

  /** The size of the normalised (last) axis; checks `axis` against the input rank. */
  protected features(input: Shape): number {
    const f = input[input.length - 1];
    if (input.length < 1 || f === null || f === undefined) {
      throw new RangeError(`${this.name}: the last input dimension must be known, got input shape [${input.join(', ')}]`);
    }
    // Keras counts the batch axis: for an input (None, T, F), axis 2 is the last one.
    if (this.axis !== -1 && this.axis !== input.length) {
      throw new RangeError(`${this.name}: only the last axis can be normalised (axis -1 or ${input.length} for input (None, ${input.join(', ')})), got axis ${this.axis}`);
    }
    return f;
  }

  outputShape(input: Shape): Shape {
    this.features(input);
    return input;
  }

  /** gamma then beta, as Keras orders them. */
  protected affineSpecs(f: number): WeightSpec[] {
    const specs: WeightSpec[] = [];
    if (this.scale) specs.push({ name: 'gamma', shape: [f], init: this.gammaInitializer });
    if (this.center) specs.push({ name: 'beta', shape: [f], init: this.betaInitializer });
    return specs;
  }

  /** Splits the weights into gamma, beta (null when absent) and the rest. */
  protected affine(w: readonly Tensor[]): { gamma: Tensor | null; beta: Tensor | null; rest: readonly Tensor[] } {
    let i = 0;
    const gamma = this.scale ? w[i++]! : null;
    const beta = this.center ? w[i++]! : null;
    return { gamma, beta, rest: w.slice(i) };
  }

  /** Configuration (Keras names): axis, epsilon, center, scale. */
  getConfig(): Record<string, unknown> {
    return { axis: this.axis, epsilon: this.epsilon, center: this.center, scale: this.scale, betaInitializer: this.betaInitializer, gammaInitializer: this.gammaInitializer };
  }
}

/**
 * Keras 3 LayerNormalization over the last axis: y = (x - mean)/sqrt(var + ε)·gamma + beta per
 * sample. Made by `rnn.layers.layerNormalization`.
 *
 * @example
 * ```ts
 * rnn.layers.layerNormalization(); // epsilon 1e-3, learns gamma and beta
 * ```
 */
export class LayerNormalization extends NormalizationBase {
  readonly className = 'LayerNormalization';

  constructor(args: NormalizationArgs = {}) {
    super(args, 'layer_normalization');
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    return this.affineSpecs(this.features(input));
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    const { gamma, beta } = this.affine(w);
    return layerNorm(g, x, gamma, beta, this.epsilon, this.name);
  }
}

/**
 * Keras 3 BatchNormalization over all axes but the last. Training steps use the batch statistics
 * and update moving_mean / moving_variance (moving·momentum + batch·(1 - momentum)) on the GPU;
 * predict and evaluate use the moving statistics. Made by `rnn.layers.batchNormalization`.
 *
 * @example
 * ```ts
 * // the chapter's experiment I: BatchNormalization between recurrent layers
 * rnn.layers.batchNormalization({ momentum: 0.99 });
 * ```
 */
export class BatchNormalization extends NormalizationBase {
  readonly className = 'BatchNormalization';
  /** Moving-average momentum. */
  readonly momentum: number;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args, 'batch_normalization', { ...NORMALIZATION_OPTIONS, momentum: is.number });
    const m = args.momentum ?? 0.99;
    if (typeof m !== 'number' || !Number.isFinite(m) || m < 0 || m >= 1) throw new RangeError(`${this.name}: momentum must be a finite number in [0, 1), got ${m}`);
    this.momentum = m;
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    const f = this.features(input);
    return [
      ...this.affineSpecs(f),
      { name: 'moving_mean', shape: [f], init: 'zeros', trainable: false },
      { name: 'moving_variance', shape: [f], init: 'ones', trainable: false },
    ];
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    const { gamma, beta, rest } = this.affine(w);
    return batchNorm(g, x, gamma, beta, rest[0]!, rest[1]!, { epsilon: this.epsilon, momentum: this.momentum }, this.name);
  }

  /** Configuration (Keras names): axis, epsilon, center, scale, momentum. */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), momentum: this.momentum };
  }
}
