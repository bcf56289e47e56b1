/**
 * Plain float64 reference implementations of the elementwise / linear-algebra
 * ops and optimizers. Every GPU kernel is tested against these.
 *
 * Layouts (all row-major, flat Float64Array):
 *   matmul:   A [M,K] (or [K,M] when transA), B [K,N] (or [N,K] when transB), C [M,N]
 *   biasAdd:  x [rows, cols], bias [cols] broadcast over rows
 *   elementwise ops: any shape, same length in and out
 *   reductions (sum, mean, mse): over ALL elements, result is a scalar number
 *
 * Backward functions take the upstream gradient dY (same shape as the output)
 * and return gradients w.r.t. the inputs (same shapes as the inputs).
 *
 * Activations follow Keras 3 definitions and are written to stay finite for
 * |x| up to (at least) 1e4. Keras 3's regression losses (mse, mae, huber) with a time window,
 * masking and sample weights (regressionLossRef). Also a Dense head with the MSE loss
 * (denseMseRef), what a one-step training test needs around a layer. Gradient checks:
 * test/reference/ops.test.ts (Adam and SGD: test/reference/optimizers.test.ts).
 */

export type UnaryName = 'tanh' | 'sigmoid' | 'relu' | 'linear' | 'hardSigmoid' | 'hardSigmoidTfjs';

// ---------------------------------------------------------------- matmul

/** C[M,N] = op(A)·op(B); op(A) is [M,K], op(B) is [K,N]. */
export function matmulRef(
  a: Float64Array,
  b: Float64Array,
  M: number,
  K: number,
  N: number,
  transA = false,
  transB = false,
): Float64Array {
  if (a.length !== M * K) throw new Error(`matmulRef: a has ${a.length} elements, expected ${M}*${K}`);
  if (b.length !== K * N) throw new Error(`matmulRef: b has ${b.length} elements, expected ${K}*${N}`);
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const aik = transA ? (a[k * M + m] as number) : (a[m * K + k] as number);
        const bkj = transB ? (b[n * K + k] as number) : (b[k * N + n] as number);
        acc += aik * bkj;
      }
      c[m * N + n] = acc;
    }
  }
  return c;
}

/** Gradients of C = A·B (A [M,K], B [K,N], no transposes): dA = dC·Bᵀ [M,K], dB = Aᵀ·dC [K,N]. */
export function matmulBackwardRef(
  a: Float64Array,
  b: Float64Array,
  dC: Float64Array,
  M: number,
  K: number,
  N: number,
): { dA: Float64Array; dB: Float64Array } {
  const dA = matmulRef(dC, b, M, N, K, false, true);
  const dB = matmulRef(a, dC, K, M, N, true, false);
  return { dA, dB };
}

// ---------------------------------------------------------------- bias

/** y[r,c] = x[r,c] + bias[c]. */
export function biasAddRef(x: Float64Array, bias: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c] as number) + (bias[c] as number);
  }
  return y;
}

/** dBias[c] = Σ_r dy[r,c]. (dX is dy itself.) */
export function biasAddBackwardRef(dy: Float64Array, rows: number, cols: number): Float64Array {
  const dBias = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) dBias[c] = (dBias[c] as number) + (dy[r * cols + c] as number);
  }
  return dBias;
}

// ---------------------------------------------------------------- activations (scalar)

/** Numerically safe logistic sigmoid: never evaluates exp of a positive argument. */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Keras 3 activation applied to one value. */
export function activationScalar(name: UnaryName, x: number): number {
  switch (name) {
    case 'tanh':
      return Math.tanh(x); // saturates to ±1, never overflows
    case 'sigmoid':
      return sigmoidScalar(x);
    case 'relu':
      return x > 0 ? x : 0;
    case 'linear':
      return x;
    case 'hardSigmoid':
      // Keras 3: relu6(x + 3) / 6 = clip((x + 3) / 6, 0, 1)
      return Math.min(Math.max((x + 3) / 6, 0), 1);
    case 'hardSigmoidTfjs':
      // tfjs-layers backend hardSigmoid (Keras 2): clip(0.2x + 0.5, 0, 1)
      return Math.min(Math.max(0.2 * x + 0.5, 0), 1);
  }
}

/**
 * d act(x) / dx, given the input x and the output y = act(x).
 * tanh and sigmoid use y (as the GPU kernels will); relu and hardSigmoid use x.
 * At kinks (relu at 0, hardSigmoid at ±3) the derivative of the flat side is used (0).
 */
export function activationGradScalar(name: UnaryName, x: number, y: number): number {
  switch (name) {
    case 'tanh':
      return 1 - y * y;
    case 'sigmoid':
      return y * (1 - y);
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'linear':
      return 1;
    case 'hardSigmoid':
      return x > -3 && x < 3 ? 1 / 6 : 0;
    case 'hardSigmoidTfjs':
      return x > -2.5 && x < 2.5 ? 0.2 : 0;
  }
}

// ---------------------------------------------------------------- elementwise

/** y = act(x) element-wise. */
export function unaryRef(name: UnaryName, x: Float64Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = activationScalar(name, x[i] as number);
  return y;
}

/** dx = dy * act'(x), with act' expressed through x and/or y = act(x). */
export function unaryBackwardRef(name: UnaryName, x: Float64Array, y: Float64Array, dy: Float64Array): Float64Array {
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    dx[i] = (dy[i] as number) * activationGradScalar(name, x[i] as number, y[i] as number);
  }
  return dx;
}

/** y = a + b element-wise (same shapes). */
export function addRef(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new Error('addRef: length mismatch');
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = (a[i] as number) + (b[i] as number);
  return y;
}

/** Gradients of y = a + b: dA = dy, dB = dy (copies). */
export function addBackwardRef(dy: Float64Array): { dA: Float64Array; dB: Float64Array } {
  return { dA: Float64Array.from(dy), dB: Float64Array.from(dy) };
}

/** y = a * b element-wise (same shapes). */
export function mulRef(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new Error('mulRef: length mismatch');
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = (a[i] as number) * (b[i] as number);
  return y;
}

/** Gradients of y = a * b: dA = dy * b, dB = dy * a. */
export function mulBackwardRef(
  a: Float64Array,
  b: Float64Array,
  dy: Float64Array,
): { dA: Float64Array; dB: Float64Array } {
  return { dA: mulRef(dy, b), dB: mulRef(dy, a) };
}

/** y = a - b element-wise (same shapes). */
export function subRef(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new Error('subRef: length mismatch');
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = (a[i] as number) - (b[i] as number);
  return y;
}

/** Gradients of y = a - b: dA = dy, dB = -dy. */
export function subBackwardRef(dy: Float64Array): { dA: Float64Array; dB: Float64Array } {
  return { dA: Float64Array.from(dy), dB: dy.map((v) => -v) };
}

/** y = x · factor + shift element-wise (scalars factor, shift). */
export function scaleRef(x: Float64Array, factor: number, shift: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = (x[i] as number) * factor + shift;
  return y;
}

/** Gradient of y = x · factor + shift: dx = dy · factor. */
export function scaleBackwardRef(dy: Float64Array, factor: number): Float64Array {
  return dy.map((v) => v * factor);
}

// ---------------------------------------------------------------- losses and reductions

/** mean((pred - target)^2) over all N elements. */
export function mseRef(pred: Float64Array, target: Float64Array): number {
  if (pred.length !== target.length) throw new Error('mseRef: length mismatch');
  let acc = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = (pred[i] as number) - (target[i] as number);
    acc += d * d;
  }
  return acc / pred.length;
}

/** d mse / d pred = 2 (pred - target) / N. */
export function mseBackwardRef(pred: Float64Array, target: Float64Array): Float64Array {
  const n = pred.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = (2 * ((pred[i] as number) - (target[i] as number))) / n;
  return d;
}

/** Σ x over all elements. */
export function sumRef(x: Float64Array): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i] as number;
  return acc;
}

/** Gradient of sum: dOut broadcast to n elements. */
export function sumBackwardRef(dOut: number, n: number): Float64Array {
  return new Float64Array(n).fill(dOut);
}

/** mean of all elements. */
export function meanRef(x: Float64Array): number {
  return sumRef(x) / x.length;
}

/** Gradient of mean: dOut / n broadcast to n elements. */
export function meanBackwardRef(dOut: number, n: number): Float64Array {
  return new Float64Array(n).fill(dOut / n);
}

// ---------------------------------------------------------------- regression losses (Keras 3)

export type LossKind = 'mse' | 'mae' | 'huber';

export interface LossRefOptions {
  /** Time steps [t0, t1) that count (default all). */
  window?: [number, number];
  /** Huber's threshold (default 1, as Keras). */
  delta?: number;
  /** [rows, steps] Keras mask (1 keep, 0 skip). */
  mask?: Float64Array | null;
  /** [rows] sample weights. */
  sampleWeight?: Float64Array | null;
}

export interface LossRefResult {
  loss: number;
  /** [Σ w·l, den, Σ w, 0]: the running sums of a Keras Mean metric, and the loss's divisor. */
  stats: [number, number, number, number];
  /** d(dLoss · loss) / d pred. */
  dPred: Float64Array;
}

/** Keras 3's per-element loss e(d) of the error d = pred - truth. */
export function elementLossRef(kind: LossKind, d: number, delta = 1): number {
  const a = Math.abs(d);
  if (kind === 'mse') return d * d;
  if (kind === 'mae') return a;
  return a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
}

/** d e(d) / d d (sign(0) = 0 for mae; at |d| = delta Huber's two sides agree). */
export function elementGradRef(kind: LossKind, d: number, delta = 1): number {
  if (kind === 'mse') return 2 * d;
  if (kind === 'mae') return Math.sign(d);
  return Math.abs(d) <= delta ? d : delta * Math.sign(d);
}

/**
 * The regression losses of Keras 3 (keras/src/losses/losses.py: mean_squared_error,
 * mean_absolute_error, huber; reduction "sum_over_batch_size" with the mask folded into the
 * sample weights, keras/src/losses/loss.py apply_mask) on pred, target [rows, steps, feats]:
 *   l[r, t] = mean over feats of e(pred - target)
 *   w[r, t] = mask[r, t] (1 without) · sampleWeight[r] (1 without), for t0 <= t < t1
 *   loss = Σ w·l / den, den = Σ_{t0 <= t < t1} mask + 1e-7 with a mask, else rows·(t1 - t0)
 * and dPred = dLoss · w · e'(pred - target) / (feats · den) inside the window, 0 outside it.
 */
export function regressionLossRef(
  kind: LossKind,
  pred: Float64Array,
  target: Float64Array,
  rows: number,
  steps: number,
  feats: number,
  opts: LossRefOptions = {},
  dLoss = 1,
): LossRefResult {
  if (pred.length !== rows * steps * feats || target.length !== pred.length) throw new Error('regressionLossRef: length mismatch');
  const [t0, t1] = opts.window ?? [0, steps];
  const delta = opts.delta ?? 1;
  const mask = opts.mask ?? null, sw = opts.sampleWeight ?? null;
  let swl = 0, sm = 0, sumW = 0;
  for (let r = 0; r < rows; r++) {
    for (let t = t0; t < t1; t++) {
      let l = 0;
      for (let f = 0; f < feats; f++) {
        const i = (r * steps + t) * feats + f;
        l += elementLossRef(kind, pred[i]! - target[i]!, delta);
      }
      l /= feats;
      const m = mask ? mask[r * steps + t]! : 1;
      const w = m * (sw ? sw[r]! : 1);
      swl += w * l;
      sm += m;
      sumW += w;
    }
  }
  const den = mask ? sm + 1e-7 : rows * (t1 - t0);
  const dPred = new Float64Array(pred.length);
  for (let r = 0; r < rows; r++) {
    for (let t = t0; t < t1; t++) {
      const w = (mask ? mask[r * steps + t]! : 1) * (sw ? sw[r]! : 1);
      for (let f = 0; f < feats; f++) {
        const i = (r * steps + t) * feats + f;
        dPred[i] = (dLoss * w * elementGradRef(kind, pred[i]! - target[i]!, delta)) / (feats * den);
      }
    }
  }
  return { loss: swl / den, stats: [swl, den, sumW, 0], dPred };
}

/**
 * Moves pred (in place) so that no error |pred - target| is within `margin` of a loss kink (0
 * for mae and huber, delta for huber): finite differences and f32 rounding then see one side.
 */
export function awayFromLossKinks(pred: Float64Array, target: Float64Array, delta = 1, margin = 0.05): Float64Array {
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i]! - target[i]!;
    for (const k of [0, delta, -delta]) {
      if (Math.abs(d - k) < margin) pred[i] = target[i]! + k + (k < 0 ? -2 : 2) * margin;
    }
  }
  return pred;
}

// ---------------------------------------------------------------- optimizers

export interface AdamRefOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/**
 * One Adam step, exactly as Keras 3 (keras/src/optimizers/adam.py, amsgrad=false):
 *   alpha = lr * sqrt(1 - beta2^step) / (1 - beta1^step)      (step is 1-based)
 *   m += (g - m) * (1 - beta1)
 *   v += (g*g - v) * (1 - beta2)
 *   p -= alpha * m / (sqrt(v) + epsilon)
 * Mutates p, m and v in place. Note epsilon is added to sqrt(v) of the
 * UNcorrected v (Keras folds the bias correction into alpha).
 */
export function adamStepRef(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  step: number,
  opts: AdamRefOptions = {},
): void {
  const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = opts;
  if (!(step >= 1)) throw new Error(`adamStepRef: step is 1-based, got ${step}`);
  const alpha = (learningRate * Math.sqrt(1 - Math.pow(beta2, step))) / (1 - Math.pow(beta1, step));
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] as number;
    const mi = (m[i] as number) + (gi - (m[i] as number)) * (1 - beta1);
    const vi = (v[i] as number) + (gi * gi - (v[i] as number)) * (1 - beta2);
    m[i] = mi;
    v[i] = vi;
    p[i] = (p[i] as number) - (alpha * mi) / (Math.sqrt(vi) + epsilon);
  }
}

/** Plain SGD: p -= lr * g, in place. */
export function sgdStepRef(p: Float64Array, g: Float64Array, lr: number): void {
  for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) - lr * (g[i] as number);
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
