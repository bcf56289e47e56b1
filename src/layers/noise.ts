/**
 * Keras GaussianNoise: adds zero-mean Gaussian noise of `stddev` to its input in training, and
 * nothing at inference — a regularizer, e.g. on a decoder's teacher-forced inputs so that it
 * learns to cope with its own imperfect outputs. The noise is drawn on the GPU, new every step.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { gaussianNoise } from '../ops/sequence';
import type { LayerArgs } from './layer';
import { RandomLayer } from './random-layer';
import { is } from '../options';

/** Options of `rnn.layers.gaussianNoise` (Keras `GaussianNoise`). */
export interface GaussianNoiseArgs extends LayerArgs {
  /** Standard deviation of the noise (Keras `stddev`). */
  stddev: number;
  /** Seed of the noise (default: random). */
  seed?: number;
}

/**
 * Keras `GaussianNoise` (a regularizer): adds zero-mean Gaussian noise of `stddev` in training,
 * identity in predict and evaluate. Made by `rnn.layers.gaussianNoise`.
 *
 * @example
 * ```ts
 * rnn.layers.gaussianNoise({ stddev: 0.2 });
 * ```
 */
export class GaussianNoise extends RandomLayer {
  readonly className = 'GaussianNoise';
  /** Standard deviation of the noise added in training. */
  readonly stddev: number;

  constructor(args: GaussianNoiseArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('gaussianNoise: expected an options object like {stddev: 0.1}');
    super(args, 'gaussian_noise', { stddev: is.number, seed: is.seed });
    if (typeof args.stddev !== 'number' || !Number.isFinite(args.stddev) || args.stddev < 0) {
      throw new RangeError(`${this.name}: stddev must be a finite number >= 0, got ${JSON.stringify(args.stddev)}`);
    }
    this.stddev = args.stddev;
  }

  protected get active(): boolean {
    return this.stddev > 0;
  }

  protected draw(g: Graph, x: Tensor, rng: GPUBuffer): Promise<Tensor> {
    return gaussianNoise(g, x, this.stddev, this.seed, rng, this.name);
  }

  getConfig(): Record<string, unknown> {
    return { stddev: this.stddev, seed: this.seed };
  }
}
