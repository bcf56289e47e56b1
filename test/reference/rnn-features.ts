/**
 * Float64 references for the recurrent training toolkit (docs/rnn-features.md), besides the
 * options of test/reference/rnn.ts (reverse, dropout masks, sequence mask):
 *   - Bidirectional's merge (concat / sum / mul / ave, masked steps zeroed) and its backward
 *   - the dropout masks the GPU draws (the same PCG hash, in JS integer arithmetic)
 *   - a Dense head with the MSE loss (what a one-step training test needs around a layer)
 *   - the layer-normalized SimpleRNN cell (chapter experiment J), forward and BPTT
 */
import { matmulRef } from './ops';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

/** merge(a ⊙ m, b ⊙ m) for a, b [rows, H] and an optional row mask m [rows]. */
export function bidiMergeRef(a: Float64Array, b: Float64Array, rows: number, H: number, mode: MergeMode, mask: Float64Array | null = null): Float64Array {
  const out = new Float64Array(mode === 'concat' ? 2 * rows * H : rows * H);
  for (let r = 0; r < rows; r++) {
    const m = mask ? mask[r]! : 1;
    for (let j = 0; j < H; j++) {
      const x = a[r * H + j]! * m, y = b[r * H + j]! * m;
      if (mode === 'concat') {
        out[r * 2 * H + j] = x;
        out[r * 2 * H + H + j] = y;
      } else out[r * H + j] = mode === 'sum' ? x + y : mode === 'mul' ? x * y : (x + y) / 2;
    }
  }
  return out;
}

/** Gradients of bidiMergeRef w.r.t. a and b for an output gradient dOut. */
export function bidiMergeBackwardRef(a: Float64Array, b: Float64Array, rows: number, H: number, mode: MergeMode, mask: Float64Array | null, dOut: Float64Array): { dA: Float64Array; dB: Float64Array } {
  const dA = new Float64Array(rows * H), dB = new Float64Array(rows * H);
  for (let r = 0; r < rows; r++) {
    const m = mask ? mask[r]! : 1;
    for (let j = 0; j < H; j++) {
      const i = r * H + j;
      let da: number, db: number;
      if (mode === 'concat') [da, db] = [dOut[r * 2 * H + j]!, dOut[r * 2 * H + H + j]!];
      else if (mode === 'sum') [da, db] = [dOut[i]!, dOut[i]!];
      else if (mode === 'mul') [da, db] = [dOut[i]! * b[i]! * m, dOut[i]! * a[i]! * m];
      else [da, db] = [dOut[i]! / 2, dOut[i]! / 2];
      dA[i] = da * m;
      dB[i] = db * m;
    }
  }
  return { dA, dB };
}

// ---------------------------------------------------------------- dropout masks

/** PCG-RXS-M-XS hash of shaders/rnn.wgsl (pcgHash), in uint32 arithmetic. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * The mask shaders/rnn.wgsl:dropoutMask draws: element i is 1/(1-rate) (rounded to f32) when
 * u_i >= rate (rate rounded to f32), else 0, with u_i = (hash >> 8) / 2^24 from (seed, stream,
 * counter, i). `counter` is the layer's training-step count (0 on the first step).
 */
export function dropoutMaskRef(n: number, rate: number, seed: number, stream: number, counter: number): Float64Array {
  const key = pcgHash((pcgHash((pcgHash(seed >>> 0) ^ Math.imul(stream, 0x9e3779b9)) >>> 0) + counter) >>> 0);
  const r32 = Math.fround(rate);
  const scale = Math.fround(1 / (1 - rate));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = (pcgHash((key ^ pcgHash(i)) >>> 0) >>> 8) / 16777216;
    out[i] = u >= r32 ? scale : 0;
  }
  return out;
}

// ---------------------------------------------------------------- Dense head + MSE

/**
 * pred = h·W + b (h [rows, H], W [H, K]); loss = mean((pred - y)²) over rows*K. Returns the
 * prediction and the gradients of the loss w.r.t. W, b and h.
 */
export function denseMseRef(h: Float64Array, W: Float64Array, bias: Float64Array, y: Float64Array, rows: number, H: number, K: number) {
  const pred = matmulRef(h, W, rows, H, K).map((p, i) => p + bias[i % K]!);
  const dPred = pred.map((p, i) => (2 * (p - y[i]!)) / (rows * K));
  const dW = matmulRef(h, dPred, H, rows, K, true, false);
  const db = new Float64Array(K);
  dPred.forEach((d, i) => (db[i % K]! += d));
  const dH = matmulRef(dPred, W, rows, K, H, false, true);
  return { pred, dW, db, dH };
}

// ---------------------------------------------------------------- layer-normalized SimpleRNN cell

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
