/**
 * Keras 3 `Masking`: marks the time steps of a [B, T, F] input whose features ALL equal
 * `maskValue` as padding. Its output is the input with those steps zeroed (Keras multiplies by the
 * mask) and carries a [B, T] mask (Tensor.mask) that Sequential passes on through per-step layers
 * (Dense, TimeDistributed, normalization) to the recurrent layers, which skip masked steps inside
 * their fused kernels (the state is carried through; see docs/rnn-features.md).
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { applyMask, stepMask } from '../ops/sequence';
import { Layer, type LayerArgs, type Shape } from './layer';
import { is } from '../options';

/** Options of `rnn.layers.masking` (Keras `Masking`). */
export interface MaskingArgs extends LayerArgs {
  /** Steps whose features all equal this value are masked (default 0). */
  maskValue?: number;
}

/**
 * Keras `Masking`: time steps whose features all equal `maskValue` are padding; the recurrent
 * layers that follow skip them. Made by `rnn.layers.masking`.
 *
 * @example
 * ```ts
 * rnn.sequential({ layers: [
 *   rnn.layers.masking({ maskValue: 0, inputShape: [null, 3] }),
 *   rnn.layers.lstm({ units: 16 }),
 *   rnn.layers.dense({ units: 1 }),
 * ] });
 * ```
 */
export class Masking extends Layer {
  readonly className = 'Masking';
  /** The padding value. */
  readonly maskValue: number;

  constructor(args: MaskingArgs = {}) {
    if (args === null || typeof args !== 'object') throw new TypeError(`masking: expected an options object like {maskValue: 0}`);
    super(args, 'masking', { maskValue: is.number });
    const v = args.maskValue ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${this.name}: maskValue must be a finite number, got ${JSON.stringify(args.maskValue)}`);
    this.maskValue = v;
    if (this.inputShape) this.outputShape(this.inputShape);
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 2) throw new RangeError(`${this.name}: expects input [batch, timeSteps, features], got [batch, ${input.join(', ')}]`);
    return input;
  }

  async call(g: Graph, x: Tensor): Promise<Tensor> {
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    const m = await stepMask(g, x, this.maskValue);
    const y = await applyMask(g, x, m, 'step', this.name);
    y.mask = m;
    return y;
  }

  getConfig(): Record<string, unknown> {
    return { maskValue: this.maskValue };
  }
}
