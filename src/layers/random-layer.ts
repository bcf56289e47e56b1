/**
 * The part Dropout and GaussianNoise share: a seed, a random stream on the GPU that each training
 * step advances (saved and restored with the model), identity at inference and when the layer is
 * switched off (rate or stddev 0), and the input's mask passed through.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { advanceRng } from '../ops/sequence';
import { Layer, type LayerArgs, type Shape } from './layer';
import { RandomStream } from './random-stream';
import type { OptionSpec } from '../options';

export abstract class RandomLayer extends Layer {
  /** Seed of the draws. */
  readonly seed: number;
  /** The draws' random stream. @internal */
  readonly randomStream: RandomStream;

  protected constructor(args: LayerArgs & { seed?: number }, defaultName: string, spec: OptionSpec) {
    super(args, defaultName, spec);
    this.seed = args.seed ?? Math.floor(Math.random() * 0xffffffff);
    this.randomStream = new RandomStream(`${this.name}/rng`);
  }

  /** Whether the layer changes anything in training (false: rate or stddev 0). */
  protected abstract get active(): boolean;

  /** The training-time output, drawn from the stream's current counter `rng`. */
  protected abstract draw(g: Graph, x: Tensor, rng: GPUBuffer): Promise<Tensor>;

  outputShape(input: Shape): Shape {
    return input;
  }

  async call(g: Graph, x: Tensor): Promise<Tensor> {
    if (!g.training || !this.active) return x;
    const rng = this.randomStream.buffer(g.ctx);
    const y = await this.draw(g, x, rng);
    await advanceRng(g, rng);
    y.mask = x.mask;
    return y;
  }

  /** Frees the random stream's buffer (model.dispose()). @internal */
  disposeState(): void {
    this.randomStream.dispose();
  }
}
