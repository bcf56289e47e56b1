/**
 * Synthetic time series of Hands-On ML (2nd ed.) chapter 15, reproduced bit for bit:
 * two sine waves with random frequencies/offsets plus uniform noise, drawn from numpy's legacy
 * MT19937 stream (`np.random.seed(42)`), computed in float64 and cast to float32 at the end.
 * Arrays are batch-major: a series batch is `[B, N, 1]`, targets `[B, K]` or `[B, T, K]`.
 * Also the chapter's data splits, the naive baselines and the two metrics it prints.
 * Spec: docs/reference-results.md §1.1–1.2 (shared docs).
 */
import type { HostTensor } from '../host';
import { MT19937 } from './mt19937';

/** Inputs and targets of one split. */
export interface SplitData {
  /** Inputs, `[n, 50, 1]`. */
  readonly x: HostTensor;
  /** Targets: `[n, 1]`, `[n, 10]` or `[n, 50, 10]` by the data set's kind. */
  readonly y: HostTensor;
}

/** The chapter's train / valid / test splits. */
export interface ChapterData {
  /** The first 70% of the series (7000 by default). */
  readonly train: SplitData;
  /** The next 20% (2000). */
  readonly valid: SplitData;
  /** The last 10% (1000). */
  readonly test: SplitData;
}

/** Which of the chapter's three data sets: see {@link chapterData}. */
export type ChapterDataKind = '1-step' | '10-step' | 'seq2seq';

/** Options of {@link chapterData}. */
export interface ChapterDataOptions {
  /** Seed of `np.random.seed`; default 42 (every cell of the notebook). */
  readonly seed?: number;
  /** Number of series generated; default 10000. */
  readonly nSeries?: number;
  /** Row boundaries `[trainEnd, validEnd]`; default `[7000, 9000]`, scaled 70/20/10 for other `nSeries`. */
  readonly split?: readonly [number, number];
}

const N_INPUTS = 50;
const HORIZON = 10;

function assertPositiveInt(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${fn}: ${name} must be a positive integer, got ${v}`);
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * `generate_time_series(batch_size, n_steps)` of the notebook.
 *
 * Draw order (numpy legacy stream): `rand(4, B, 1)` → freq1, freq2, offsets1, offsets2 (B each),
 * then `rand(B, N)` noise, row-major. `series[b,t] = 0.5·sin((time[t]−o1)·(10·f1+10))
 * + 0.2·sin((time[t]−o2)·(20·f2+20)) + 0.1·(u[b,t]−0.5)`, summed in that order in float64.
 *
 * @param batchSize number of series B.
 * @param nSteps length N of each series.
 * @param seed an integer seed (fresh generator, as after `np.random.seed(seed)`) or a generator
 *   to draw from (its stream advances by 4·B + B·N doubles).
 * @returns float32 tensor of shape `[B, N, 1]`.
 */
export function generateTimeSeries(batchSize: number, nSteps: number, seed: number | MT19937): HostTensor {
  assertPositiveInt('generateTimeSeries', 'batchSize', batchSize);
  assertPositiveInt('generateTimeSeries', 'nSteps', nSteps);
  const rng = typeof seed === 'number' ? new MT19937(seed) : seed;
  const B = batchSize;
  const params = rng.rand(4 * B); // (4, B, 1)
  const noise = rng.rand(B * nSteps); // (B, N)

  // NOTE: np.linspace computes t·step with step = 1/(N−1), last element forced to 1.0; the
  // quotient t/(N−1) differs in the last bit for some t.
  const time = new Float64Array(nSteps);
  if (nSteps > 1) {
    const step = 1 / (nSteps - 1);
    for (let t = 0; t < nSteps; t++) time[t] = t * step;
    time[nSteps - 1] = 1;
  }

  const data = new Float32Array(B * nSteps);
  for (let b = 0; b < B; b++) {
    const f1 = params[b]!;
    const f2 = params[B + b]!;
    const o1 = params[2 * B + b]!;
    const o2 = params[3 * B + b]!;
    const w1 = f1 * 10 + 10;
    const w2 = f2 * 20 + 20;
    for (let t = 0; t < nSteps; t++) {
      const i = b * nSteps + t;
      const tt = time[t]!;
      const wave = 0.5 * Math.sin((tt - o1) * w1) + 0.2 * Math.sin((tt - o2) * w2);
      data[i] = wave + 0.1 * (noise[i]! - 0.5); // Float32Array store = the float32 cast
    }
  }
  return { data, shape: [B, nSteps, 1] };
}

/**
 * Rows `[start, end)` along axis 0, copied.
 * @param t tensor of any rank ≥ 1.
 */
export function sliceRows(t: HostTensor, start: number, end: number): HostTensor {
  const rows = t.shape[0];
  if (rows === undefined) throw new Error('sliceRows: tensor has rank 0');
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > rows) {
    throw new Error(`sliceRows: need integers 0 <= start <= end <= ${rows}, got start=${start}, end=${end}`);
  }
  const rowSize = sizeOf(t.shape.slice(1));
  return { data: t.data.slice(start * rowSize, end * rowSize), shape: [end - start, ...t.shape.slice(1)] };
}

/** Columns `[from, to)` of a `[B, N, 1]` series as a `[B, to − from]` (or `[B, to − from, 1]`) tensor. */
function steps(series: HostTensor, from: number, to: number, keepFeatureAxis: boolean): HostTensor {
  const [B = 0, N = 0] = series.shape;
  const n = to - from;
  const data = new Float32Array(B * n);
  for (let b = 0; b < B; b++) data.set(series.data.subarray(b * N + from, b * N + to), b * n);
  return { data, shape: keepFeatureAxis ? [B, n, 1] : [B, n] };
}

function assertSeries(fn: string, series: HostTensor): void {
  if (series.shape.length !== 3 || series.shape[2] !== 1) {
    throw new Error(`${fn}: expected a series of shape [B, N, 1], got ${fmt(series.shape)}`);
  }
}

/**
 * Sequence-to-sequence targets: `Y[b, t, k−1] = series[b, t+k, 0]` for t < nInputs, k = 1..horizon.
 * @param series `[B, N, 1]` with N ≥ nInputs + horizon.
 * @returns `[B, nInputs, horizon]`.
 */
export function seq2seqTargets(series: HostTensor, nInputs: number, horizon: number): HostTensor {
  assertSeries('seq2seqTargets', series);
  assertPositiveInt('seq2seqTargets', 'nInputs', nInputs);
  assertPositiveInt('seq2seqTargets', 'horizon', horizon);
  const [B = 0, N = 0] = series.shape;
  if (nInputs + horizon > N) {
    throw new Error(`seq2seqTargets: nInputs + horizon = ${nInputs + horizon} exceeds the series length ${N}`);
  }
  const data = new Float32Array(B * nInputs * horizon);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < nInputs; t++) {
      for (let k = 1; k <= horizon; k++) {
        data[(b * nInputs + t) * horizon + k - 1] = series.data[b * N + t + k]!;
      }
    }
  }
  return { data, shape: [B, nInputs, horizon] };
}

/**
 * The chapter's data sets (seed 42, 10000 series, rows [:7000] / [7000:9000] / [9000:]):
 * - `'1-step'`: 51-step series; x = steps 0..49 `[n, 50, 1]`, y = step 50 `[n, 1]`.
 * - `'10-step'`: 60-step series; x `[n, 50, 1]`, y = steps 50..59 `[n, 10]`.
 * - `'seq2seq'`: 60-step series; x `[n, 50, 1]`, y `[n, 50, 10]` from {@link seq2seqTargets}.
 *
 * With a smaller `nSeries` (reduced budgets) the series are `generateTimeSeries(nSeries, …)`
 * (not a prefix of the full set) and the split scales to 70/20/10 unless `split` is given.
 */
export function chapterData(kind: ChapterDataKind, opts: ChapterDataOptions = {}): ChapterData {
  const seed = opts.seed ?? 42;
  const nSeries = opts.nSeries ?? 10000;
  assertPositiveInt('chapterData', 'nSeries', nSeries);
  const [trainEnd, validEnd] = opts.split ?? [Math.round((nSeries * 7) / 10), Math.round((nSeries * 9) / 10)];
  if (!Number.isInteger(trainEnd) || !Number.isInteger(validEnd) || !(0 < trainEnd && trainEnd < validEnd && validEnd < nSeries)) {
    throw new Error(
      `chapterData: split [${trainEnd}, ${validEnd}] must be integers with 0 < trainEnd < validEnd < nSeries = ${nSeries}` +
        (opts.split ? '' : ' (nSeries too small for a 70/20/10 split)'),
    );
  }

  let x: HostTensor;
  let y: HostTensor;
  switch (kind) {
    case '1-step': {
      const series = generateTimeSeries(nSeries, N_INPUTS + 1, seed);
      x = steps(series, 0, N_INPUTS, true);
      y = steps(series, N_INPUTS, N_INPUTS + 1, false);
      break;
    }
    case '10-step':
    case 'seq2seq': {
      const series = generateTimeSeries(nSeries, N_INPUTS + HORIZON, seed);
      x = steps(series, 0, N_INPUTS, true);
      y = kind === '10-step' ? steps(series, N_INPUTS, N_INPUTS + HORIZON, false) : seq2seqTargets(series, N_INPUTS, HORIZON);
      break;
    }
    default:
      kind satisfies never;
      throw new Error(`chapterData: unknown kind ${String(kind)}; expected '1-step', '10-step' or 'seq2seq'`);
  }
  const split = (a: number, b: number): SplitData => ({ x: sliceRows(x, a, b), y: sliceRows(y, a, b) });
  return { train: split(0, trainEnd), valid: split(trainEnd, validEnd), test: split(validEnd, nSeries) };
}

/**
 * Naive forecast: repeat the last input value `horizon` times.
 * @param x `[B, T, 1]` inputs.
 * @returns `[B, horizon]`.
 */
export function naiveForecast(x: HostTensor, horizon = 1): HostTensor {
  assertSeries('naiveForecast', x);
  assertPositiveInt('naiveForecast', 'horizon', horizon);
  const [B = 0, T = 0] = x.shape;
  const data = new Float32Array(B * horizon);
  for (let b = 0; b < B; b++) data.fill(x.data[b * T + T - 1]!, b * horizon, (b + 1) * horizon);
  return { data, shape: [B, horizon] };
}

/**
 * Mean squared error over all elements, accumulated in float64 (= the notebook's
 * `np.mean(keras.losses.mean_squared_error(a, b))`). Shapes must be identical.
 */
export function mse(a: HostTensor, b: HostTensor): number {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`mse: shape mismatch ${fmt(a.shape)} vs ${fmt(b.shape)}`);
  }
  const n = a.data.length;
  if (n === 0) throw new Error(`mse: empty tensors ${fmt(a.shape)}`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = a.data[i]! - b.data[i]!;
    sum += d * d;
  }
  return sum / n;
}

/**
 * numpy's float32 pairwise summation (`np.add.reduce` on a contiguous float32 array): blocks of up
 * to 128 summed with 8 running partials, larger ranges split in halves (multiples of 8).
 */
function pairwiseSumF32(a: Float32Array, start: number, n: number): number {
  const f = Math.fround;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + a[start + i]!);
    return res;
  }
  if (n <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => a[start + j]!);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f(r[j]! + a[start + i + j]!);
    let res = f(f(f(r[0]! + r[1]!) + f(r[2]! + r[3]!)) + f(f(r[4]! + r[5]!) + f(r[6]! + r[7]!)));
    for (; i < n; i++) res = f(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return f(pairwiseSumF32(a, start, n2) + pairwiseSumF32(a, start + n2, n - n2));
}

/**
 * The notebook's metric computed exactly as it printed it, in float32:
 * `np.mean(keras.losses.mean_squared_error(y_true, y_pred))` — per-row means of squared errors in
 * float32, then numpy's float32 pairwise mean over the rows. Gives the printed 0.020211367 for the
 * naive forecast, where a float64 mean gives 0.020211366 (see reference-results §1.2).
 * @param yTrue `[B, K]` (or any shape; the last axis is the per-row mean).
 */
export function kerasMse(yTrue: HostTensor, yPred: HostTensor): number {
  if (yTrue.shape.length !== yPred.shape.length || yTrue.shape.some((d, i) => d !== yPred.shape[i])) {
    throw new Error(`kerasMse: shape mismatch ${fmt(yTrue.shape)} vs ${fmt(yPred.shape)}`);
  }
  const K = yTrue.shape[yTrue.shape.length - 1]!;
  const rows = yTrue.data.length / K;
  if (!rows) throw new Error(`kerasMse: empty tensors ${fmt(yTrue.shape)}`);
  const sq = new Float32Array(K);
  const perRow = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      const d = Math.fround(yPred.data[r * K + k]! - yTrue.data[r * K + k]!);
      sq[k] = Math.fround(d * d);
    }
    perRow[r] = Math.fround(pairwiseSumF32(sq, 0, K) / K);
  }
  return Math.fround(pairwiseSumF32(perRow, 0, rows) / rows);
}

/** The shortest decimal that reads back as the same float32 (numpy's float32 repr). */
export function float32String(v: number): string {
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p)).toString();
    if (Math.fround(Number(s)) === f) return s;
  }
  return f.toString();
}

/**
 * The chapter's `last_time_step_mse`: MSE of `[:, T−1, :]` only.
 * @param yTrue `[B, T, K]`.
 * @param yPred `[B, T, K]`.
 */
export function lastTimeStepMse(yTrue: HostTensor, yPred: HostTensor): number {
  const same = yPred.shape.length === yTrue.shape.length && yPred.shape.every((d, i) => d === yTrue.shape[i]);
  if (yTrue.shape.length !== 3 || !same) {
    throw new Error(`lastTimeStepMse: expected two [B, T, K] arrays of equal shape, got ${fmt(yTrue.shape)} vs ${fmt(yPred.shape)}`);
  }
  const [B = 0, T = 0, K = 0] = yTrue.shape;
  const last = (t: HostTensor): HostTensor => {
    const data = new Float32Array(B * K);
    for (let b = 0; b < B; b++) data.set(t.data.subarray((b * T + T - 1) * K, (b * T + T) * K), b * K);
    return { data, shape: [B, K] };
  };
  return mse(last(yTrue), last(yPred));
}
