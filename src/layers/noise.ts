/**
 * Keras GaussianNoise: adds zero-mean Gaussian noise of `stddev` to its input in training, and
 * nothing at inference — a regularizer, e.g. on a decoder's teacher-forced inputs so that it
 * learns to cope with its own imperfect outputs. The noise is drawn on the GPU, new every step.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { advanceRng, gaussianNoise } from '../ops/sequence';
import { Layer, type LayerArgs, type Shape } from './layer';
import { is } from '../options';
import { RandomStream } from './random-stream';

export interface GaussianNoiseArgs extends LayerArgs {
  /** Standard deviation of the noise (Keras `stddev`). */
  stddev: number;
  /** Seed of the noise (default: random). */
  seed?: number;
}

export class GaussianNoise extends Layer {
  readonly className = 'GaussianNoise';
  /** Standard deviation of the noise added in training. */
  readonly stddev: number;
  /** Seed of the noise. */
  readonly seed: number;
  /** The noise's random stream. @internal */
  readonly randomStream: RandomStream;

  constructor(args: GaussianNoiseArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('gaussianNoise: expected an options object like {stddev: 0.1}');
    super(args, 'gaussian_noise', { stddev: is.number, seed: is.seed });
    if (typeof args.stddev !== 'number' || !Number.isFinite(args.stddev) || args.stddev < 0) {
      throw new RangeError(`${this.name}: stddev must be a finite number >= 0, got ${JSON.stringify(args.stddev)}`);
    }
    if (args.seed !== undefined && !(Number.isInteger(args.seed) && args.seed >= 0 && args.seed <= 0xffffffff)) {
      throw new RangeError(`${this.name}: seed must be an integer in [0, 2^32-1], got ${JSON.stringify(args.seed)}`);
    }
    this.stddev = args.stddev;
    this.randomStream = new RandomStream(`${this.name}/rng`);
    this.seed = args.seed ?? Math.floor(Math.random() * 0xffffffff);
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  async call(g: Graph, x: Tensor): Promise<Tensor> {
    if (!g.training || this.stddev === 0) return x;
    const rng = this.randomStream.buffer(g.ctx);
    const y = await gaussianNoise(g, x, this.stddev, this.seed, rng, this.name);
    await advanceRng(g, rng);
    y.mask = x.mask;
    return y;
  }

  /** Frees the noise counter's buffer (model.dispose()). */
  disposeState(): void {
    this.randomStream.dispose();
  }

  getConfig(): Record<string, unknown> {
    return { stddev: this.stddev, seed: this.seed };
  }
}
