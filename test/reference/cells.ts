/**
 * Float64 references of the custom recurrent cells of src/layers/cells.ts, forward and BPTT, as
 * plain loops: the layer-normalized SimpleRNN cell (LNSimpleRNNCell, chapter experiment J), with the
 * RNN layer's dropout and masking. (A GRU written from cellOps is checked against the built-in GRU's
 * reference, test/reference/rnn.ts.)
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

/**
 * Options of the LN-cell reference (the RNN layer's dropout and masking, Keras semantics):
 *   inputMask [B, I]  x_t ⊙ m at every step (input dropout)
 *   recMask   [B, H]  h_{t-1} ⊙ m where it enters the recurrent matmul (recurrent dropout)
 *   seqMask   [B, T]  0 = masked step: the state is carried, the output is the previous step's
 *                     output (zeros before the first step)
 */
export interface LnCellOptions {
  eps?: number;
  inputMask?: Float64Array | null;
  recMask?: Float64Array | null;
  seqMask?: Float64Array | null;
}

export function lnCellForwardRef(w: LnCellWeights, x: Float64Array, B: number, T: number, I: number, H: number, opts: LnCellOptions = {}) {
  const eps = opts.eps ?? 1e-3;
  const hSeq = new Float64Array(B * T * H);
  const xhat = new Float64Array(B * T * H);
  const rstd = new Float64Array(B * T);
  const hLast = new Float64Array(B * H);
  for (let b = 0; b < B; b++) {
    let hPrev = new Float64Array(H);
    let outPrev = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      if (opts.seqMask && opts.seqMask[row] === 0) {
        hSeq.set(outPrev, row * H); // the previous output; the state is carried
        continue;
      }
      const z = Float64Array.from(w.bias);
      for (let i = 0; i < I; i++) {
        const xi = x[row * I + i]! * (opts.inputMask ? opts.inputMask[b * I + i]! : 1);
        for (let j = 0; j < H; j++) z[j]! += xi * w.kernel[i * H + j]!;
      }
      for (let k = 0; k < H; k++) {
        const hk = hPrev[k]! * (opts.recMask ? opts.recMask[b * H + k]! : 1);
        for (let j = 0; j < H; j++) z[j]! += hk * w.recurrentKernel[k * H + j]!;
      }
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
      outPrev = h;
    }
    hLast.set(hSeq.subarray((b * T + T - 1) * H, (b * T + T) * H), b * H);
  }
  return { hSeq, hLast, xhat, rstd };
}

/**
 * BPTT of lnCellForwardRef for a gradient dHSeq on every output (and dLast on the last output,
 * what a returnSequences=false layer returns), with the same options.
 */
export function lnCellBackwardRef(w: LnCellWeights, x: Float64Array, B: number, T: number, I: number, H: number, dHSeq: Float64Array | null, opts: LnCellOptions & { dLast?: Float64Array | null } = {}) {
  const { hSeq, xhat, rstd } = lnCellForwardRef(w, x, B, T, I, H, opts);
  const g = {
    kernel: new Float64Array(I * H),
    recurrentKernel: new Float64Array(H * H),
    bias: new Float64Array(H),
    gamma: new Float64Array(H),
    beta: new Float64Array(H),
    x: new Float64Array(B * T * I),
  };
  const inM = (b: number, i: number) => (opts.inputMask ? opts.inputMask[b * I + i]! : 1);
  const recM = (b: number, k: number) => (opts.recMask ? opts.recMask[b * H + k]! : 1);
  for (let b = 0; b < B; b++) {
    let dState = new Float64Array(H); // dL/d(state entering step t+1)
    let dOutCarry = opts.dLast ? opts.dLast.slice(b * H, (b + 1) * H) : new Float64Array(H); // dL/d(output of step t), carried by masked steps
    // the state entering each step (masked steps carry it)
    const stateIn: Float64Array[] = [];
    let st = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      stateIn.push(st);
      const row = b * T + t;
      if (!(opts.seqMask && opts.seqMask[row] === 0)) st = hSeq.slice(row * H, (row + 1) * H);
    }
    for (let t = T - 1; t >= 0; t--) {
      const row = b * T + t;
      const dOut = new Float64Array(H);
      for (let j = 0; j < H; j++) dOut[j] = (dHSeq ? dHSeq[row * H + j]! : 0) + dOutCarry[j]!;
      if (opts.seqMask && opts.seqMask[row] === 0) {
        dOutCarry = dOut; // the output was the previous output; the state passes its gradient through
        continue;
      }
      dOutCarry = new Float64Array(H);
      // h = tanh(n) is the output and the new state; n = xhat·gamma + beta
      const dxhat = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const h = hSeq[row * H + j]!;
        const dn = (dOut[j]! + dState[j]!) * (1 - h * h);
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
      // z = (x ⊙ mIn)·K + b + (h_{t-1} ⊙ mRec)·U
      for (let j = 0; j < H; j++) g.bias[j]! += dz[j]!;
      for (let i = 0; i < I; i++) {
        let acc = 0;
        for (let j = 0; j < H; j++) {
          g.kernel[i * H + j]! += x[row * I + i]! * inM(b, i) * dz[j]!;
          acc += w.kernel[i * H + j]! * dz[j]!;
        }
        g.x[row * I + i] = acc * inM(b, i);
      }
      const dPrev = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        const hp = stateIn[t]![k]! * recM(b, k);
        let acc = 0;
        for (let j = 0; j < H; j++) {
          g.recurrentKernel[k * H + j]! += hp * dz[j]!;
          acc += w.recurrentKernel[k * H + j]! * dz[j]!;
        }
        dPrev[k] = acc * recM(b, k);
      }
      dState = dPrev;
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
