/**
 * Windowing and scaling helpers shared by the weather data sets (Danish hourly weather,
 * Seattle daily weather): a min-max scaler matching scikit-learn's `MinMaxScaler`, row slicing,
 * sliding windows `[N, T, F]`, the Hvass-Labs lesson's random sub-sequence batches (numpy-legacy
 * `randint` on MT19937) and a warm-up-excluded host MSE. Pure (browser-safe).
 */
import type { HostTensor } from '../host';
import { MT19937 } from './mt19937';

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function assertPositiveInt(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${fn}: ${name} must be a positive integer, got ${v}`);
}

function assertMatrix(fn: string, name: string, t: HostTensor): [number, number] {
  const [rows, cols] = t.shape;
  if (t.shape.length !== 2 || rows === undefined || cols === undefined || t.data.length !== rows * cols) {
    throw new Error(`${fn}: ${name} must be a [rows, columns] tensor matching its data, got shape ${fmt(t.shape)} with ${t.data.length} values`);
  }
  return [rows, cols];
}

/**
 * Min-max scaling to [0, 1] per column (last axis), as scikit-learn's `MinMaxScaler()`:
 * `x' = (x − min) / (max − min)`, computed in float64, stored as float32. A constant column
 * (max = min) gets range 1, i.e. `x' = x − min` (sklearn's `_handle_zeros_in_scale`).
 * NaN values are ignored when fitting and stay NaN.
 */
export class MinMaxScaler {
  /**
   * @param min per-column minimum seen when fitting.
   * @param max per-column maximum seen when fitting.
   */
  constructor(
    readonly min: Float64Array,
    readonly max: Float64Array,
  ) {
    if (min.length !== max.length) throw new Error(`MinMaxScaler: min has ${min.length} columns, max ${max.length}`);
  }

  /** Number of columns. */
  get columns(): number {
    return this.min.length;
  }

  /** Per-column range `max − min`, 1 for constant columns. */
  get range(): Float64Array {
    return this.min.map((lo, j) => {
      const r = this.max[j]! - lo;
      return r === 0 ? 1 : r;
    });
  }

  /**
   * Fits on all rows of a tensor whose last axis is the feature axis (`[N, F]`, `[B, T, F]`).
   * @throws when a column has no finite value.
   */
  static fit(t: HostTensor): MinMaxScaler {
    const F = t.shape[t.shape.length - 1];
    if (F === undefined || F <= 0 || t.data.length % F !== 0) throw new Error(`MinMaxScaler.fit: bad shape ${fmt(t.shape)}`);
    const rows = t.data.length / F;
    if (rows === 0) throw new Error(`MinMaxScaler.fit: no rows to fit (shape ${fmt(t.shape)})`);
    const min = new Float64Array(F).fill(Infinity);
    const max = new Float64Array(F).fill(-Infinity);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < F; j++) {
        const v = t.data[r * F + j]!;
        if (v < min[j]!) min[j] = v;
        if (v > max[j]!) max[j] = v;
      }
    }
    for (let j = 0; j < F; j++) {
      if (!Number.isFinite(min[j]!) || !Number.isFinite(max[j]!)) throw new Error(`MinMaxScaler.fit: column ${j} has no finite value`);
    }
    return new MinMaxScaler(min, max);
  }

  private check(fn: string, t: HostTensor): number {
    const F = t.shape[t.shape.length - 1];
    if (F !== this.columns || t.data.length % F !== 0) {
      throw new Error(`MinMaxScaler.${fn}: expected last axis ${this.columns}, got shape ${fmt(t.shape)}`);
    }
    return F;
  }

  /** Scales a tensor (any rank, last axis = features); returns a new float32 tensor of the same shape. */
  transform(t: HostTensor): HostTensor {
    const F = this.check('transform', t);
    const range = this.range;
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < out.length; i++) {
      const j = i % F;
      out[i] = (t.data[i]! - this.min[j]!) / range[j]!;
    }
    return { data: out, shape: t.shape.slice() };
  }

  /** Undoes {@link transform} (e.g. de-normalises predictions); new float32 tensor, same shape. */
  inverse(t: HostTensor): HostTensor {
    const F = this.check('inverse', t);
    const range = this.range;
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < out.length; i++) {
      const j = i % F;
      out[i] = t.data[i]! * range[j]! + this.min[j]!;
    }
    return { data: out, shape: t.shape.slice() };
  }

  /** Inverse of one scaled value of column `j`, in float64. */
  inverseValue(v: number, j: number): number {
    const lo = this.min[j];
    if (lo === undefined) throw new Error(`MinMaxScaler.inverseValue: column ${j} out of range 0..${this.columns - 1}`);
    const r = this.max[j]! - lo;
    return v * (r === 0 ? 1 : r) + lo;
  }
}

/**
 * Rows `[start, end)` of a `[N, F]` tensor as a zero-copy view (`subarray`).
 * @throws on out-of-range bounds.
 */
export function rowsView(t: HostTensor, start: number, end: number): HostTensor {
  const [rows, cols] = assertMatrix('rowsView', 't', t);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > rows) {
    throw new Error(`rowsView: need integers 0 <= start <= end <= ${rows}, got start=${start}, end=${end}`);
  }
  return { data: t.data.subarray(start * cols, end * cols), shape: [end - start, cols] };
}

/**
 * Columns `cols` (in that order) of a `[N, F]` tensor, copied into a new `[N, cols.length]`.
 */
export function selectColumns(t: HostTensor, cols: readonly number[]): HostTensor {
  const [rows, F] = assertMatrix('selectColumns', 't', t);
  for (const c of cols) if (!Number.isInteger(c) || c < 0 || c >= F) throw new Error(`selectColumns: column ${c} out of range 0..${F - 1}`);
  const K = cols.length;
  const out = new Float32Array(rows * K);
  for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) out[r * K + k] = t.data[r * F + cols[k]!]!;
  return { data: out, shape: [rows, K] };
}

/**
 * Sliding windows over a `[N, F]` series: window `i` = rows `[starts[i], starts[i] + length)`.
 * @returns `[starts.length, length, F]`, copied.
 */
export function windowsAt(series: HostTensor, starts: ArrayLike<number>, length: number): HostTensor {
  const [N, F] = assertMatrix('windowsAt', 'series', series);
  assertPositiveInt('windowsAt', 'length', length);
  const B = starts.length;
  const out = new Float32Array(B * length * F);
  for (let b = 0; b < B; b++) {
    const s = starts[b]!;
    if (!Number.isInteger(s) || s < 0 || s + length > N) throw new Error(`windowsAt: window ${b} [${s}, ${s + length}) is outside 0..${N}`);
    out.set(series.data.subarray(s * F, (s + length) * F), b * length * F);
  }
  return { data: out, shape: [B, length, F] };
}

/**
 * numpy's legacy `np.random.randint(high)` (RandomState, int64) on an MT19937 stream:
 * masked rejection sampling on 32-bit outputs, so `new MT19937(s)` reproduces
 * `np.random.seed(s); np.random.randint(high)` for `high ≤ 2^32`.
 * @returns an integer in `[0, high)`.
 */
export function randint(rng: MT19937, high: number): number {
  if (!Number.isInteger(high) || high <= 0 || high > 2 ** 32) throw new Error(`randint: high must be an integer in [1, 2^32], got ${high}`);
  const max = high - 1;
  if (max === 0) return 0;
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  mask >>>= 0;
  for (;;) {
    const v = (rng.nextU32() & mask) >>> 0;
    if (v <= max) return v;
  }
}

/** Options of {@link randomSubsequences}. */
export interface SubsequenceOptions {
  /** Number of sub-sequences B. */
  readonly batchSize: number;
  /** Length L of each sub-sequence (the lesson: 1344 = 8 weeks of hours). */
  readonly sequenceLength: number;
  /**
   * Integer seed of a fresh MT19937, or a generator to continue (pass the same generator on
   * every call to get the stream of batches of one `np.random.seed` run).
   */
  readonly seed: number | MT19937;
}

/** A batch of aligned input/target sub-sequences. */
export interface SubsequenceBatch {
  /** `[B, L, F]`. */
  readonly x: HostTensor;
  /** `[B, L, K]`. */
  readonly y: HostTensor;
  /** Start row of each sub-sequence. */
  readonly starts: Int32Array;
}

/**
 * The lesson's `batch_generator`, one batch: for each of B sequences draw
 * `idx = randint(numTrain − L)` (so `0 ≤ idx < numTrain − L`) and copy rows `[idx, idx + L)` of
 * x and y. Draws are numpy-legacy `randint` on MT19937 (see {@link randint}). The lesson used
 * float16 batch arrays; these are float32.
 *
 * @param x `[numTrain, F]` scaled inputs.
 * @param y `[numTrain, K]` scaled targets (same rows).
 */
export function randomSubsequences(x: HostTensor, y: HostTensor, opts: SubsequenceOptions): SubsequenceBatch {
  const [N] = assertMatrix('randomSubsequences', 'x', x);
  const [Ny] = assertMatrix('randomSubsequences', 'y', y);
  if (N !== Ny) throw new Error(`randomSubsequences: x has ${N} rows but y has ${Ny}`);
  assertPositiveInt('randomSubsequences', 'batchSize', opts.batchSize);
  assertPositiveInt('randomSubsequences', 'sequenceLength', opts.sequenceLength);
  const L = opts.sequenceLength;
  if (N - L < 1) throw new Error(`randomSubsequences: sequenceLength ${L} must be smaller than the number of rows ${N}`);
  const rng = typeof opts.seed === 'number' ? new MT19937(opts.seed) : opts.seed;
  const starts = new Int32Array(opts.batchSize);
  for (let b = 0; b < starts.length; b++) starts[b] = randint(rng, N - L);
  return { x: windowsAt(x, starts, L), y: windowsAt(y, starts, L), starts };
}

/**
 * Host MSE ignoring the first `warmup` time steps: mean of `(yTrue − yPred)²` over
 * `[:, warmup:, :]` (the lesson's `loss_mse_warmup`), accumulated in float64.
 * @param yTrue `[B, T, K]`.
 * @param yPred `[B, T, K]`, same shape.
 * @param warmup steps to skip, `0 ≤ warmup < T`.
 */
export function warmupMse(yTrue: HostTensor, yPred: HostTensor, warmup: number): number {
  const same = yTrue.shape.length === yPred.shape.length && yTrue.shape.every((d, i) => d === yPred.shape[i]);
  if (yTrue.shape.length !== 3 || !same) {
    throw new Error(`warmupMse: expected two [B, T, K] tensors of equal shape, got ${fmt(yTrue.shape)} vs ${fmt(yPred.shape)}`);
  }
  const [B = 0, T = 0, K = 0] = yTrue.shape;
  if (!Number.isInteger(warmup) || warmup < 0 || warmup >= T) throw new Error(`warmupMse: warmup must be an integer in [0, ${T}), got ${warmup}`);
  let sum = 0;
  for (let b = 0; b < B; b++) {
    for (let i = (b * T + warmup) * K; i < (b + 1) * T * K; i++) {
      const d = yTrue.data[i]! - yPred.data[i]!;
      sum += d * d;
    }
  }
  const count = B * (T - warmup) * K;
  if (count === 0) throw new Error(`warmupMse: no elements after the warm-up (shape ${fmt(yTrue.shape)})`);
  return sum / count;
}

/** Mean absolute error and root-mean-square error of two equally long value lists (float64). */
export function maeRmse(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
): {
  /** Mean absolute error. */
  mae: number;
  /** Root mean squared error. */
  rmse: number;
  /** Number of pairs. */
  count: number;
} {
  if (yTrue.length !== yPred.length) throw new Error(`maeRmse: lengths differ (${yTrue.length} vs ${yPred.length})`);
  if (yTrue.length === 0) throw new Error('maeRmse: no values');
  let abs = 0;
  let sq = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = yTrue[i]! - yPred[i]!;
    abs += Math.abs(d);
    sq += d * d;
  }
  return { mae: abs / yTrue.length, rmse: Math.sqrt(sq / yTrue.length), count: yTrue.length };
}
