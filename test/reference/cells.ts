/**
 * Float64 references of the custom recurrent cells of src/layers/cells.ts, forward and BPTT, as
 * plain loops. Today: the layer-normalized SimpleRNN cell (LNSimpleRNNCell, chapter experiment J).
 * Gradient checks: test/reference/cells.test.ts; the GPU tests: test/unit/cells.test.ts.
 */

import { randomArray } from '../helpers/rng';

/**
 * Chapter experiment J (Géron, "LNSimpleRNNCell"): per step
 *   z_t = x_t·K + b + h_{t-1}·U        (SimpleRNNCell without activation)
 *   n_t = LayerNorm(z_t) = (z_t - mean)/sqrt(var + eps)·gamma + beta   (over the H units)
 *   h_t = tanh(n_t)                     (output AND new state)
 * with h_0 = 0. x [B, T, I]; returns hSeq [B, T, H] and what backward needs.
 */
export interface LnCellWeights {
  kernel: Float64Array; // [I, H]
  recurrentKernel: Float64Array; // [H, H]
  bias: Float64Array; // [H]
  gamma: Float64Array; // [H]
  beta: Float64Array; // [H]
}

export function lnCellForwardRef(w: LnCellWeights, x: Float64Array, B: number, T: number, I: number, H: number, eps = 1e-3) {
  const hSeq = new Float64Array(B * T * H);
  const xhat = new Float64Array(B * T * H);
  const rstd = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    let hPrev = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      const z = Float64Array.from(w.bias);
      for (let i = 0; i < I; i++) for (let j = 0; j < H; j++) z[j]! += x[row * I + i]! * w.kernel[i * H + j]!;
      for (let k = 0; k < H; k++) for (let j = 0; j < H; j++) z[j]! += hPrev[k]! * w.recurrentKernel[k * H + j]!;
      const mean = z.reduce((a, v) => a + v, 0) / H;
      const v = z.reduce((a, q) => a + (q - mean) ** 2, 0) / H;
      const rs = 1 / Math.sqrt(v + eps);
      rstd[row] = rs;
      const h = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const xh = (z[j]! - mean) * rs;
        xhat[row * H + j] = xh;
        h[j] = Math.tanh(xh * w.gamma[j]! + w.beta[j]!);
      }
      hSeq.set(h, row * H);
      hPrev = h;
    }
  }
  return { hSeq, xhat, rstd };
}

/** BPTT of lnCellForwardRef for a gradient dHSeq on every output. */
export function lnCellBackwardRef(w: LnCellWeights, x: Float64Array, B: number, T: number, I: number, H: number, dHSeq: Float64Array, eps = 1e-3) {
  const { hSeq, xhat, rstd } = lnCellForwardRef(w, x, B, T, I, H, eps);
  const g = {
    kernel: new Float64Array(I * H),
    recurrentKernel: new Float64Array(H * H),
    bias: new Float64Array(H),
    gamma: new Float64Array(H),
    beta: new Float64Array(H),
    x: new Float64Array(B * T * I),
  };
  for (let b = 0; b < B; b++) {
    let dh = new Float64Array(H); // from step t+1
    for (let t = T - 1; t >= 0; t--) {
      const row = b * T + t;
      for (let j = 0; j < H; j++) dh[j]! += dHSeq[row * H + j]!;
      // h = tanh(n); n = xhat·gamma + beta
      const dxhat = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const h = hSeq[row * H + j]!;
        const dn = dh[j]! * (1 - h * h);
        g.gamma[j]! += dn * xhat[row * H + j]!;
        g.beta[j]! += dn;
        dxhat[j] = dn * w.gamma[j]!;
      }
      // xhat = (z - mean)·rstd  ->  dz = rstd·(dxhat - mean(dxhat) - xhat·mean(dxhat·xhat))
      let m1 = 0, m2 = 0;
      for (let j = 0; j < H; j++) {
        m1 += dxhat[j]! / H;
        m2 += (dxhat[j]! * xhat[row * H + j]!) / H;
      }
      const dz = new Float64Array(H);
      for (let j = 0; j < H; j++) dz[j] = rstd[row]! * (dxhat[j]! - m1 - xhat[row * H + j]! * m2);
      // z = x·K + b + hPrev·U
      for (let j = 0; j < H; j++) g.bias[j]! += dz[j]!;
      for (let i = 0; i < I; i++) {
        let acc = 0;
        for (let j = 0; j < H; j++) {
          g.kernel[i * H + j]! += x[row * I + i]! * dz[j]!;
          acc += w.kernel[i * H + j]! * dz[j]!;
        }
        g.x[row * I + i] = acc;
      }
      const dPrev = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        const hp = t > 0 ? hSeq[(row - 1) * H + k]! : 0;
        let acc = 0;
        for (let j = 0; j < H; j++) {
          g.recurrentKernel[k * H + j]! += hp * dz[j]!;
          acc += w.recurrentKernel[k * H + j]! * dz[j]!;
        }
        dPrev[k] = acc;
      }
      dh = dPrev;
    }
  }
  return g;
}

/**
 * Deterministic LN-cell weights for an I-input, H-unit cell: kernel and recurrent kernel in ±0.6,
 * bias and beta in ±0.3, gamma in [0.5, 1.5); every value rounded to f32 (what the GPU receives).
 */
export function randomLnCellWeights(I: number, H: number, seed: number): LnCellWeights {
  const f32 = (n: number, s: number, lo: number, hi: number) => randomArray(n, s, lo, hi).map(Math.fround);
  return {
    kernel: f32(I * H, seed, -0.6, 0.6),
    recurrentKernel: f32(H * H, seed + 1, -0.6, 0.6),
    bias: f32(H, seed + 2, -0.3, 0.3),
    gamma: f32(H, seed + 3, 0.5, 1.5),
    beta: f32(H, seed + 4, -0.3, 0.3),
  };
}
