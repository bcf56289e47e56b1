/**
 * Keras GaussianNoise: adds zero-mean Gaussian noise of `stddev` to its input in training, and
 * nothing at inference — a regularizer, e.g. on a decoder's teacher-forced inputs so that it
 * learns to cope with its own imperfect outputs. The noise is drawn on the GPU, new every step.
 */
import type { Graph } from '../autograd/tape';
import type { Context } from '../gpu/context';
import type { Tensor } from '../tensor';
import { createStorageBuffer } from '../gpu/pool';
import { advanceRng, gaussianNoise } from '../ops/sequence';
import { Layer, type LayerArgs, type Shape } from './layer';
import { is } from '../options';

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
  private rng: { ctx: Context; buffer: GPUBuffer } | null = null;

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
    this.seed = args.seed ?? Math.floor(Math.random() * 0xffffffff);
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  async call(g: Graph, x: Tensor): Promise<Tensor> {
    if (!g.training || this.stddev === 0) return x;
    if (!this.rng || this.rng.ctx !== g.ctx) this.rng = { ctx: g.ctx, buffer: createStorageBuffer(g.ctx.device, 16, `${this.name}/rng`) };
    const y = await gaussianNoise(g, x, this.stddev, this.seed, this.rng.buffer, this.name);
    await advanceRng(g, this.rng.buffer);
    y.mask = x.mask;
    return y;
  }

  /** Frees the noise counter's buffer (model.dispose()). */
  disposeState(): void {
    this.rng?.buffer.destroy();
    this.rng = null;
  }

  getConfig(): Record<string, unknown> {
    return { stddev: this.stddev, seed: this.seed };
  }
}
