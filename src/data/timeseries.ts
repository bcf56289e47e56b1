/**
 * Keras's `timeseries_dataset_from_array` (keras/src/utils/timeseries_dataset_utils.py): sliding
 * windows over a series and their targets, with the same arguments and the same windows. Keras
 * returns a tf.data pipeline of batches; here the windows are arrays (for `model.fit(x, y)`) with
 * a batch view (for `model.fitDataset`). Host memory: n windows × sequenceLength rows are copied.
 */
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import { MT19937 } from './mt19937';
import { checkOptions, is } from '../options';

/** Options of `timeseriesDatasetFromArray` (Keras `timeseries_dataset_from_array`). */
export interface TimeseriesOptions {
  /** Steps per window. */
  sequenceLength: number;
  /** Steps between the starts of two windows (default 1). */
  sequenceStride?: number;
  /** Steps between two rows of a window (default 1: consecutive rows). */
  samplingRate?: number;
  /** Rows per batch of `batch(i)` (default 128). */
  batchSize?: number;
  /** Shuffle the windows (default false), seeded by `seed`. */
  shuffle?: boolean;
  /** Seed of the shuffling. */
  seed?: number;
  /** Only rows [startIndex, endIndex) of the data are used (default all). */
  startIndex?: number;
  /** See startIndex. */
  endIndex?: number;
}

/** The windows and their targets, and the same as batches. */
export interface TimeseriesDataset {
  /** [n, sequenceLength, ...features] */
  x: HostTensor;
  /** [n, ...target features], or null without targets. */
  y: HostTensor | null;
  /** Windows per batch and number of batches (the last may be partial). */
  batchSize: number;
  /** Number of batches. */
  batches: number;
  /** Batch i as views of x and y. */
  batch(i: number): {
    /** The batch's windows. */
    x: HostTensor;
    /** Their targets, or null. */
    y: HostTensor | null;
  };
}

function positiveInt(where: string, key: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${where}: ${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Sliding windows over `data` (axis 0 is time): window j starts at row startIndex + p_j, with
 * p_j = j·sequenceStride, and takes sequenceLength rows samplingRate apart; its target is
 * `targets[startIndex + p_j]` (Keras's convention: pass targets shifted by the forecast horizon,
 * e.g. `targets = series.slice(sequenceLength)`). Pass null targets for windows alone.
 *
 * @example
 * ```ts
 * // 56-day windows of a daily series, each with the next day as its target
 * const ds = rnn.utils.timeseriesDatasetFromArray(series.slice(0, -56), series.slice(56),
 *   { sequenceLength: 56, batchSize: 32, shuffle: true, seed: 42 });
 * await model.fit(ds.x, ds.y!, { batchSize: ds.batchSize, epochs: 20 });
 * ```
 */
export function timeseriesDatasetFromArray(data: TensorLike, targets: TensorLike | null, opts: TimeseriesOptions): TimeseriesDataset {
  const where = 'timeseriesDatasetFromArray';
  checkOptions(where, opts ?? null, {
    sequenceLength: is.number, sequenceStride: is.number, samplingRate: is.number, batchSize: is.number, shuffle: is.boolean, seed: is.number, startIndex: is.number, endIndex: is.number,
  }, '{sequenceLength: 30}');
  const d = toHostTensor(d1(data), `${where}: data`);
  const t = targets === null || targets === undefined ? null : toHostTensor(d1(targets), `${where}: targets`);
  const n = d.shape[0]!;
  const L = positiveInt(where, 'sequenceLength', opts.sequenceLength);
  const stride = positiveInt(where, 'sequenceStride', opts.sequenceStride ?? 1);
  const rate = positiveInt(where, 'samplingRate', opts.samplingRate ?? 1);
  const batchSize = positiveInt(where, 'batchSize', opts.batchSize ?? 128);
  const start = positiveInt(where, 'startIndex', opts.startIndex ?? 0, 0);
  const end = positiveInt(where, 'endIndex', opts.endIndex ?? n, 0);
  if (start >= n) throw new RangeError(`${where}: startIndex ${start} must be lower than the length of the data (${n})`);
  if (end > n || end <= start) throw new RangeError(`${where}: endIndex ${end} must be in (${start}, ${n}]`);
  if (rate >= n || stride >= n) throw new RangeError(`${where}: samplingRate (${rate}) and sequenceStride (${stride}) must be lower than the length of the data (${n})`);
  let count = end - start - (L - 1) * rate;
  if (t) count = Math.min(count, t.shape[0]! - start);
  if (count <= 0) throw new RangeError(`${where}: no window of ${L} steps (samplingRate ${rate}) fits rows [${start}, ${end}) of the data`);
  const starts: number[] = [];
  for (let p = 0; p < count; p += stride) starts.push(p);
  if (opts.shuffle) {
    const rng = new MT19937((opts.seed ?? Math.floor(Math.random() * 1e6)) >>> 0);
    for (let i = starts.length - 1; i > 0; i--) {
      const j = Math.floor(rng.random() * (i + 1));
      [starts[i], starts[j]] = [starts[j]!, starts[i]!];
    }
  }
  const row = d.data.length / n;
  const x = new Float32Array(starts.length * L * row);
  starts.forEach((p, w) => {
    for (let k = 0; k < L; k++) x.set(d.data.subarray((start + p + k * rate) * row, (start + p + k * rate + 1) * row), (w * L + k) * row);
  });
  const X: HostTensor = { data: x, shape: [starts.length, L, ...(d.shape.length > 1 ? d.shape.slice(1) : [1])] };
  let Y: HostTensor | null = null;
  if (t) {
    const trow = t.data.length / t.shape[0]!;
    const y = new Float32Array(starts.length * trow);
    starts.forEach((p, w) => y.set(t.data.subarray((start + p) * trow, (start + p + 1) * trow), w * trow));
    Y = { data: y, shape: [starts.length, ...(t.shape.length > 1 ? t.shape.slice(1) : [1])] };
  }
  const rows = (h: HostTensor, a: number, b: number): HostTensor => {
    const r = h.data.length / h.shape[0]!;
    return { data: h.data.subarray(a * r, b * r), shape: [b - a, ...h.shape.slice(1)] };
  };
  const batches = Math.ceil(starts.length / batchSize);
  return {
    x: X,
    y: Y,
    batchSize,
    batches,
    batch: (i) => {
      if (!Number.isInteger(i) || i < 0 || i >= batches) throw new RangeError(`${where}: batch ${i} is outside 0..${batches - 1}`);
      const a = i * batchSize, b = Math.min(starts.length, a + batchSize);
      return { x: rows(X, a, b), y: Y ? rows(Y, a, b) : null };
    },
  };
}

/** A plain list of numbers as a [n] series (Keras accepts 1-D arrays). */
function d1(v: TensorLike): TensorLike {
  return Array.isArray(v) && v.every((e) => typeof e === 'number') ? { data: v as number[], shape: [v.length] } : v;
}
