/**
 * The cells the recurrent op runs (Keras 3 semantics and gate orders: LSTM i, f, c, o; GRU z, r,
 * h) and, for each, the shader module of its kernels: shaders/<cell>-cell.wgsl holds the cell's
 * forward maths directly above its backward and includes the shared time loops. The float64
 * reference of every cell is test/reference/rnn.ts; the tests are test/unit/rnn*.test.ts.
 */
import type { ShaderName } from '../gpu/kernels';
import type { Activation } from './activations';

/** The built-in recurrent cells. */
export type CellType = 'simpleRNN' | 'lstm' | 'gru';

export interface RnnOpConfig {
  cell: CellType;
  units: number;
  activation: Activation;
  recurrentActivation: Activation;
  /** GRU only: apply the reset gate after the recurrent matmul (Keras 3 default: true). */
  resetAfter: boolean;
  useBias: boolean;
}

/** What the op needs to know about a cell variant. */
export interface CellKernels {
  /** The kernel module (entry points recurrentForward / recurrentBackward, and the step* ones). */
  shader: ShaderName;
  /** Gate blocks G: weights are [·, G·H]. */
  gates: number;
  /** The extra [B, T, H] tensor saved for backward (binding name), or null. */
  saved: 'cSeq' | 'recH' | 'rhPrev' | null;
  /** Has per-step kernels (timeLoop 'step'). */
  stepKernels: boolean;
}

export type CellVariant = 'simpleRNN' | 'lstm' | 'gru' | 'gruResetBefore';

export const CELLS: Readonly<Record<CellVariant, CellKernels>> = {
  /** h = act(x·K + b + h_{t-1}·U). */
  simpleRNN: { shader: 'simpleRnnCell', gates: 1, saved: null, stepKernels: true },
  /** c = f*c_{t-1} + i*g, h = o*act(c); saves c_t. */
  lstm: { shader: 'lstmCell', gates: 4, saved: 'cSeq', stepKernels: true },
  /** resetAfter: hh = act(xh + r*(h_{t-1}·U_h + b_rec)); saves that recurrent part rh. */
  gru: { shader: 'gruCell', gates: 3, saved: 'recH', stepKernels: true },
  /** resetAfter=false: hh = act(xh + (r*h_{t-1})·U_h); saves r*h_{t-1}. */
  gruResetBefore: { shader: 'gruResetBeforeCell', gates: 3, saved: 'rhPrev', stepKernels: false },
};

export function cellVariant(cfg: Pick<RnnOpConfig, 'cell' | 'resetAfter'>): CellVariant {
  if (cfg.cell !== 'gru') return cfg.cell;
  return cfg.resetAfter ? 'gru' : 'gruResetBefore';
}

/** Number of gate blocks: SimpleRNN 1, LSTM 4, GRU 3. */
export function gateCount(cell: CellType): number {
  return CELLS[cell].gates;
}
