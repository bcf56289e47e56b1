/**
 * Float64 references of the sequence ops around the recurrent op (src/ops/sequence.ts,
 * shaders/sequence.wgsl), as plain loops over batch-major [B, T, F] arrays:
 *   - the dropout masks the GPU draws (the same PCG hash, in JS integer arithmetic)
 *   - the broadcast mask multiply (input dropout, Keras Masking's output) and its backward
 *   - Keras Masking's step mask
 *   - Bidirectional's merge (concat / sum / mul / ave, masked steps zeroed) and its backward
 *   - one time step of a sequence (takeStep) and writing one (putStep), each the other's backward
 *   - the time axis reversed (reverseTime, Keras go_backwards), its own backward
 *   - a vector repeated over steps (repeatSteps, Keras RepeatVector), whose backward sums the steps
 * Gradient checks: test/reference/sequence.test.ts; the GPU tests: test/unit/sequence.test.ts.
 */

// ---------------------------------------------------------------- dropout masks

/** PCG-RXS-M-XS hash of shaders/sequence.wgsl (pcgHash), in uint32 arithmetic. */
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * The mask shaders/sequence.wgsl:dropoutMask draws: element i is 1/(1-rate) (rounded to f32) when
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

// ---------------------------------------------------------------- mask multiply, step mask

/**
 * y = x ⊙ broadcast(mask) for x [B, T, F]: `per` 'step' reads a [B, T] mask (the same for every
 * feature), 'feature' a [B, F] mask (the same at every step). Linear in x, so its backward is
 * the same product applied to dy (maskMulBackwardRef).
 */
export function maskMulRef(x: Float64Array, mask: Float64Array, B: number, T: number, F: number, per: 'step' | 'feature'): Float64Array {
  const y = new Float64Array(B * T * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let f = 0; f < F; f++) {
        const m = per === 'step' ? mask[b * T + t]! : mask[b * F + f]!;
        y[(b * T + t) * F + f] = x[(b * T + t) * F + f]! * m;
      }
    }
  }
  return y;
}

/** dx of maskMulRef for an output gradient dy. */
export function maskMulBackwardRef(dy: Float64Array, mask: Float64Array, B: number, T: number, F: number, per: 'step' | 'feature'): Float64Array {
  return maskMulRef(dy, mask, B, T, F, per);
}

/** Keras Masking's step mask of x [B, T, F]: [B, T], 1 where any feature differs from maskValue, else 0. */
export function stepMaskRef(x: Float64Array, B: number, T: number, F: number, maskValue: number): Float64Array {
  const m = new Float64Array(B * T);
  for (let r = 0; r < B * T; r++) {
    for (let f = 0; f < F; f++) if (x[r * F + f] !== maskValue) m[r] = 1;
  }
  return m;
}

// ---------------------------------------------------------------- Bidirectional merge

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

// ---------------------------------------------------------------- single time steps

/** Step t of x [B, T, F], as [B, F]. Its backward is putStepRef of dy into zeros. */
export function takeStepRef(x: Float64Array, B: number, T: number, F: number, t: number): Float64Array {
  const y = new Float64Array(B * F);
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) y[b * F + f] = x[(b * T + t) * F + f]!;
  return y;
}

/** seq [B, T, F] with step t replaced by h [B, F] (a copy; seq is not changed). Its backward in h is takeStepRef. */
export function putStepRef(seq: Float64Array, h: Float64Array, B: number, T: number, F: number, t: number): Float64Array {
  const out = Float64Array.from(seq);
  for (let b = 0; b < B; b++) for (let f = 0; f < F; f++) out[(b * T + t) * F + f] = h[b * F + f]!;
  return out;
}

// ---------------------------------------------------------------- time reversal, repeated steps

/** x [B, T, F] with its time axis reversed: y[b, t] = x[b, T-1-t]. Its own backward (dx = reverseTimeRef(dy)). */
export function reverseTimeRef(x: Float64Array, B: number, T: number, F: number): Float64Array {
  const y = new Float64Array(B * T * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let f = 0; f < F; f++) y[(b * T + t) * F + f] = x[(b * T + T - 1 - t) * F + f]!;
    }
  }
  return y;
}

/** x [B, F] repeated over n steps (Keras RepeatVector): y [B, n, F], y[b, t] = x[b]. */
export function repeatStepsRef(x: Float64Array, B: number, n: number, F: number): Float64Array {
  const y = new Float64Array(B * n * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < n; t++) {
      for (let f = 0; f < F; f++) y[(b * n + t) * F + f] = x[b * F + f]!;
    }
  }
  return y;
}

/** dx of repeatStepsRef for an output gradient dy [B, n, F]: dx[b, f] = Σ_t dy[b, t, f]. */
export function repeatStepsBackwardRef(dy: Float64Array, B: number, n: number, F: number): Float64Array {
  const dx = new Float64Array(B * F);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < n; t++) {
      for (let f = 0; f < F; f++) dx[b * F + f]! += dy[(b * n + t) * F + f]!;
    }
  }
  return dx;
}

/**
 * The noise shaders/sequence.wgsl:gaussianNoise adds: x_i + stddev·z_i, z_i by Box–Muller from
 * two 24-bit uniforms hashed from (seed, counter, 2i) and (…, 2i + 1); u1 in (0, 1], u2 in [0, 1).
 */
export function gaussianNoiseRef(x: Float64Array, stddev: number, seed: number, counter: number): Float64Array {
  const key = pcgHash((pcgHash((seed ^ 0x6d2b79f5) >>> 0) + counter) >>> 0);
  return x.map((v, i) => {
    const h1 = pcgHash((key ^ pcgHash(2 * i)) >>> 0);
    const h2 = pcgHash((key ^ pcgHash(2 * i + 1)) >>> 0);
    const u1 = ((h1 >>> 8) + 1) / 16777216;
    const u2 = (h2 >>> 8) / 16777216;
    return v + stddev * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  });
}
