/**
 * Keras Dropout: in training, each input value is zeroed with probability `rate` and the others
 * are scaled by 1/(1 - rate) (a new mask every step, drawn on the GPU from the layer's random
 * stream); at inference it passes its input through. The gradient flows through the same mask.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { mul } from '../ops/elementwise';
import { dropoutMask } from '../ops/sequence';
import type { LayerArgs } from './layer';
import { RandomLayer } from './random-layer';
import { is } from '../options';

/** Options of `rnn.layers.dropout` (Keras `Dropout`). */
export interface DropoutArgs extends LayerArgs {
  /** Fraction of the inputs to drop, in [0, 1). */
  rate: number;
  /** Keras' noise_shape: only null (a mask per value) is supported. */
  noiseShape?: null;
  /** Seed of the masks (default: random). */
  seed?: number;
}

/**
 * Keras `Dropout` (a regularizer): drops a fraction `rate` of the values in training, scaling the
 * rest by 1/(1 - rate); identity in predict and evaluate. Made by `rnn.layers.dropout`.
 *
 * @example
 * ```ts
 * rnn.layers.dropout({ rate: 0.2 });
 * ```
 */
export class Dropout extends RandomLayer {
  readonly className = 'Dropout';
  /** Fraction of values dropped in training. */
  readonly rate: number;

  constructor(args: DropoutArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('dropout: expected an options object like {rate: 0.2}');
    super(args, 'dropout', { rate: is.number, noiseShape: (v) => (v === null ? null : 'is not supported (only null: a mask per value)'), seed: is.seed });
    if (typeof args.rate !== 'number' || !(args.rate >= 0 && args.rate < 1)) throw new RangeError(`${this.name}: rate must be a number in [0, 1), got ${JSON.stringify(args.rate)}`);
    this.rate = args.rate;
  }

  protected get active(): boolean {
    return this.rate > 0;
  }

  protected async draw(g: Graph, x: Tensor, rng: GPUBuffer): Promise<Tensor> {
    const m = g.alloc(x.shape, `${this.name}/mask`, false);
    await dropoutMask(g, m, this.rate, this.seed, 0, rng);
    return mul(g, x, m);
  }

  getConfig(): Record<string, unknown> {
    return { rate: this.rate, seed: this.seed };
  }
}
