/**
 * Training data of a demo run, built in the worker, without materialising the training windows
 * (a 20 MB CSV has ~half a million of them): every window is an offset into one flat,
 * standardized Float32Array, and the batches are filled on demand (fitDataset).
 * - synthetic: the chapter's series (`rnn.data.generateTimeSeries`, seeded), W + 10 steps each;
 *   inputs are steps [0, W), targets step W (next) or steps [W, W+10) (vector head); about 2/7
 *   as many series validate;
 * - series (Seattle, CSV): one long series split chronologically (series.ts: the most recent 20%
 *   of the rows, at most 1,000, validate), standardized with the training part's mean and std.
 * Validation windows: one per validation row for the next-step forecast (valid1) and one per
 * origin with 10 future rows for the 10-step views (valid10).
 */
import * as rnn from '../src/index';
import type { HostTensor } from '../src/index';
import { isoDate } from './dates';
import { HORIZON, type DataInfo, type DataRef, type Head, type Scores } from './protocol';
import { baselineScores, meanStd, split, type CleanSeries } from './series';

export interface Prepared {
  /** The standardized values (all series end to end for synthetic data). */
  z: Float32Array;
  W: number;
  targetLen: number;
  /** Offsets in z of the training windows. */
  trainStarts: Int32Array;
  /** Offsets of the next-step and of the 10-step validation windows. */
  valid1Starts: Int32Array;
  valid10Starts: Int32Array;
  /** fit's validation data (valid1 for the Dense(1) head, valid10 for Dense(10)). */
  validation: { x: HostTensor; y: HostTensor };
  /** Data units = mean + std · z. */
  mean: number;
  std: number;
  /** The series (null for synthetic data). */
  series: CleanSeries | null;
  info: DataInfo;
}

/** Rows of synthetic validation series per training series (the chapter's 70/20 ratio). */
export function syntheticValidCount(nTrain: number): number {
  return Math.max(20, Math.round((nTrain * 2) / 7));
}

/** Inputs [n, W, 1] of the windows at `starts`. */
export function windowsX(z: Float32Array, starts: ArrayLike<number>, W: number): HostTensor {
  const n = starts.length;
  const x = new Float32Array(n * W);
  for (let r = 0; r < n; r++) x.set(z.subarray(starts[r]!, starts[r]! + W), r * W);
  return { data: x, shape: [n, W, 1] };
}

/** Targets [n, len] of the windows at `starts` (the `len` steps after the W inputs). */
export function windowsY(z: Float32Array, starts: ArrayLike<number>, W: number, len: number): HostTensor {
  const n = starts.length;
  const y = new Float32Array(n * len);
  for (let r = 0; r < n; r++) y.set(z.subarray(starts[r]! + W, starts[r]! + W + len), r * len);
  return { data: y, shape: [n, len] };
}

const ramp = (from: number, count: number, step = 1) => Int32Array.from({ length: Math.max(0, count) }, (_, i) => from + i * step);

export function prepareData(ref: DataRef, series: CleanSeries | null, W: number, head: Head): Prepared {
  const targetLen = head === 'next' ? 1 : HORIZON;
  if (ref.kind === 'synthetic') {
    const nTrain = ref.nTrain, nValid = syntheticValidCount(nTrain);
    const len = W + HORIZON;
    const z = rnn.data.generateTimeSeries(nTrain + nValid, len, ref.seed).data;
    const trainStarts = ramp(0, nTrain, len);
    const validStarts = ramp(nTrain * len, nValid, len);
    const validation = { x: windowsX(z, validStarts, W), y: windowsY(z, validStarts, W, targetLen) };
    // Naive: the last input repeated (the chapter's baseline); no seasonality in these series.
    let a1 = 0, a10 = 0, se = 0;
    for (const s of validStarts) {
      const last = z[s + W - 1]!;
      a1 += Math.abs(z[s + W]! - last);
      for (let k = 0; k < HORIZON; k++) {
        const e = z[s + W + k]! - last;
        a10 += Math.abs(e);
        if (k < targetLen) se += e * e;
      }
    }
    const naive: Scores = { mae1: a1 / nValid, mae10: a10 / (nValid * HORIZON), mseLoss: se / (nValid * targetLen) };
    return {
      z,
      W,
      targetLen,
      trainStarts,
      valid1Starts: validStarts,
      valid10Starts: validStarts,
      validation,
      mean: 0,
      std: 1,
      series: null,
      info: {
        descriptor: { kind: 'synthetic', name: 'Synthetic series (chapter, seeded)', column: null, dateColumn: null, rows: (nTrain + nValid) * len, first: null, last: null, frequency: null, mean: 0, std: 1 },
        nTrain,
        nValid1: nValid,
        nValid10: nValid,
        window: W,
        standardized: false,
        unit: '',
        naive,
        seasonal: null,
        seasonalLabel: null,
        validFrom: null,
        validTo: null,
        withTime: false,
        frequency: null,
      },
    };
  }
  if (!series) throw new Error('the data of this run is missing (choose the data again)');
  const v = series.values;
  const L = v.length;
  const s = split(L, W, targetLen);
  if (s.train < 1 || s.valid10 < 1) throw new Error(`${series.name}: ${L} values are too few for a window of ${W} steps. Use a shorter window.`);
  const { mean, std } = meanStd(v, s.cut);
  const z = Float32Array.from(v, (x) => (x - mean) / std);
  const trainStarts = ramp(0, s.train);
  const valid1Starts = ramp(s.cut - W, s.valid1);
  const valid10Starts = ramp(s.cut - W, s.valid10);
  const vStarts = head === 'next' ? valid1Starts : valid10Starts;
  const validation = { x: windowsX(z, vStarts, W), y: windowsY(z, vStarts, W, targetLen) };
  const b = baselineScores(v, s, std, targetLen, series.seasonal?.period ?? null);
  const t = series.times;
  return {
    z,
    W,
    targetLen,
    trainStarts,
    valid1Starts,
    valid10Starts,
    validation,
    mean,
    std,
    series,
    info: {
      descriptor: {
        kind: 'series',
        name: series.name,
        column: series.column,
        dateColumn: series.dateColumn,
        rows: L,
        first: t ? isoDate(t[0]!, series.withTime) : null,
        last: t ? isoDate(t[L - 1]!, series.withTime) : null,
        frequency: series.frequency?.label ?? null,
        mean,
        std,
      },
      nTrain: s.train,
      nValid1: s.valid1,
      nValid10: s.valid10,
      window: W,
      standardized: true,
      unit: series.column,
      naive: b.naive,
      seasonal: b.seasonal,
      seasonalLabel: b.seasonal ? series.seasonal!.label : null,
      validFrom: t ? t[s.cut]! : null,
      validTo: t ? t[L - 1]! : null,
      withTime: series.withTime,
      frequency: series.frequency,
    },
  };
}

/** A shuffled order of the training windows per epoch (seeded: the same seed gives the same run). */
export class Batches {
  private order: Int32Array;
  private epoch = -1;
  readonly count: number;
  private readonly x: Float32Array;
  private readonly y: Float32Array;

  constructor(private readonly d: Prepared, private readonly batchSize: number, private readonly seed: number) {
    this.order = Int32Array.from(d.trainStarts);
    this.count = Math.ceil(d.trainStarts.length / batchSize);
    this.x = new Float32Array(batchSize * d.W);
    this.y = new Float32Array(batchSize * d.targetLen);
  }

  batch(epoch: number, b: number): { x: HostTensor; y: HostTensor } {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      const rng = new rnn.MT19937((this.seed + 7919 * epoch) >>> 0);
      const o = this.order;
      for (let i = o.length - 1; i > 0; i--) {
        const j = Math.floor(rng.random() * (i + 1));
        const t = o[i]!;
        o[i] = o[j]!;
        o[j] = t;
      }
    }
    const { z, W, targetLen } = this.d;
    const from = b * this.batchSize, rows = Math.min(this.batchSize, this.order.length - from);
    // fresh arrays for a short last batch; the library copies the data on upload
    const x = rows === this.batchSize ? this.x : new Float32Array(rows * W);
    const y = rows === this.batchSize ? this.y : new Float32Array(rows * targetLen);
    for (let r = 0; r < rows; r++) {
      const s = this.order[from + r]!;
      x.set(z.subarray(s, s + W), r * W);
      y.set(z.subarray(s + W, s + W + targetLen), r * targetLen);
    }
    return { x: { data: x, shape: [rows, W, 1] }, y: { data: y, shape: [rows, targetLen] } };
  }
}
