/**
 * Training data of a demo run, built in the worker from a {@link DataSpec}:
 * - synthetic: the chapter's series (`rnn.data.generateTimeSeries`, seeded), window W + 10 steps
 *   each; inputs are steps [0, W), targets step W (next) or steps [W, W+10) (vector head);
 * - series (Seattle, CSV): one long series split chronologically (first 80% train), standardized
 *   with the training part's mean and std, cut into overlapping windows of W steps.
 * Validation windows always have 10 future steps, for the 10-step forecast views.
 * Layout: x [n, W, 1], y [n, 1] or [n, 10], y10 [n, 10] (batch-major, as the library takes).
 */
import * as rnn from '../src/index';
import type { HostTensor } from '../src/index';
import { HORIZON, type DataInfo, type DataSpec, type Head } from './protocol';

export interface Prepared {
  train: { x: HostTensor; y: HostTensor };
  valid: { x: HostTensor; y: HostTensor; y10: HostTensor };
  /** Data units = mean + std · (loss-scale value). */
  mean: number;
  std: number;
  info: DataInfo;
}

/** Fraction of a series used for training (chronological split); the rest validates. */
export const TRAIN_FRACTION = 0.8;
/** Minimum numbers of training and validation windows of a series. */
export const MIN_TRAIN_WINDOWS = 10;
export const MIN_VALID_WINDOWS = 3;

/** Smallest series length giving enough training and validation windows for `window`. */
export function minRows(window: number, targetLen: number): number {
  for (let L = 1; L < 1e7; L++) {
    const cut = Math.floor(L * TRAIN_FRACTION);
    if (cut - window - targetLen + 1 >= MIN_TRAIN_WINDOWS && L - HORIZON - cut + 1 >= MIN_VALID_WINDOWS) return L;
  }
  return Infinity;
}

/** Rows of synthetic validation series per training series (the chapter's 70/20 ratio). */
export function syntheticValidCount(nTrain: number): number {
  return Math.max(20, Math.round((nTrain * 2) / 7));
}

function windows(v: Float64Array | Float32Array, starts: number[], W: number, len: number, at: number, mean: number, std: number): { x: Float32Array; y: Float32Array } {
  const n = starts.length;
  const x = new Float32Array(n * W), y = new Float32Array(n * len);
  starts.forEach((s, r) => {
    for (let t = 0; t < W; t++) x[r * W + t] = (v[s + t]! - mean) / std;
    for (let k = 0; k < len; k++) y[r * len + k] = (v[s + at + k]! - mean) / std;
  });
  return { x, y };
}

const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);

export function prepareData(spec: DataSpec, W: number, head: Head): Prepared {
  const targetLen = head === 'next' ? 1 : HORIZON;
  if (spec.kind === 'synthetic') {
    const nValid = syntheticValidCount(spec.nTrain);
    const n = spec.nTrain + nValid;
    const s = rnn.data.generateTimeSeries(n, W + HORIZON, spec.seed);
    const all = Array.from({ length: n }, (_, i) => i * (W + HORIZON));
    const flat = s.data;
    const tr = windows(flat, all.slice(0, spec.nTrain), W, targetLen, W, 0, 1);
    const va = windows(flat, all.slice(spec.nTrain), W, targetLen, W, 0, 1);
    const va10 = windows(flat, all.slice(spec.nTrain), W, HORIZON, W, 0, 1);
    return finish('Synthetic series (chapter, seeded)', tr, va, va10, W, targetLen, 0, 1, false, '');
  }
  const v = spec.values;
  const L = v.length;
  const cut = Math.floor(L * TRAIN_FRACTION);
  const trainStarts = range(0, cut - W - targetLen);
  const validStarts = range(cut - W, L - W - HORIZON);
  if (trainStarts.length < MIN_TRAIN_WINDOWS || validStarts.length < MIN_VALID_WINDOWS) {
    throw new Error(`${spec.name}: ${L} values are too few for a window of ${W} steps (need at least ${minRows(W, targetLen)}). Use a shorter window.`);
  }
  let mean = 0;
  for (let i = 0; i < cut; i++) mean += v[i]!;
  mean /= cut;
  let varSum = 0;
  for (let i = 0; i < cut; i++) varSum += (v[i]! - mean) ** 2;
  const std = Math.sqrt(varSum / cut) || 1;
  const tr = windows(v, trainStarts, W, targetLen, W, mean, std);
  const va = windows(v, validStarts, W, targetLen, W, mean, std);
  const va10 = windows(v, validStarts, W, HORIZON, W, mean, std);
  return finish(`${spec.name} — ${spec.column}`, tr, va, va10, W, targetLen, mean, std, true, spec.column);
}

function finish(
  name: string,
  tr: { x: Float32Array; y: Float32Array },
  va: { x: Float32Array; y: Float32Array },
  va10: { x: Float32Array; y: Float32Array },
  W: number,
  targetLen: number,
  mean: number,
  std: number,
  standardized: boolean,
  unit: string,
): Prepared {
  const nTrain = tr.x.length / W, nValid = va.x.length / W;
  const valid = { x: { data: va.x, shape: [nValid, W, 1] }, y: { data: va.y, shape: [nValid, targetLen] }, y10: { data: va10.y, shape: [nValid, HORIZON] } };
  const naive = rnn.data.naiveForecast(valid.x, targetLen);
  return {
    train: { x: { data: tr.x, shape: [nTrain, W, 1] }, y: { data: tr.y, shape: [nTrain, targetLen] } },
    valid,
    mean,
    std,
    info: { name, nTrain, nValid, window: W, naiveMse: rnn.data.mse(naive, valid.y), standardized, unit },
  };
}
