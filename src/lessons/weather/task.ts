/**
 * The Danish weather lesson's task: Odense's temperature, wind speed and pressure 24 h ahead from
 * the 20 inputs (chronological 90/10 split, min-max scaling fitted on the training rows), the
 * random sub-sequence batches of the training generator, the persistence ("tomorrow = today")
 * baseline and the de-normalised per-signal forecast report.
 */
import type { HostTensor } from '../../host';
import { MinMaxScaler, maeRmse, randomSubsequences, rowsView, selectColumns, warmupMse, type SubsequenceBatch, type SubsequenceOptions } from '../../data/windows';
import { SHIFT_STEPS, TARGET_COLUMNS, TARGET_UNITS, WARMUP_STEPS } from './constants';
import type { WeatherTable } from './dataset';

/** Options of {@link weatherTask}. */
export interface WeatherTaskOptions {
  /** Forecast horizon in hourly steps; default {@link SHIFT_STEPS} (24). */
  readonly shiftSteps?: number;
  /** Fraction of rows used for training (chronological, first rows); default 0.9. */
  readonly trainSplit?: number;
  /** Target columns; default {@link TARGET_COLUMNS}. */
  readonly targets?: readonly string[];
}

/** The lesson's arrays: scaled inputs/targets per split and the scalers. */
export interface WeatherTask {
  /** Scaled `[numTrain, 20]` inputs (`x_train_scaled`). */
  readonly xTrain: HostTensor;
  /** Scaled `[numTrain, 3]` targets. */
  readonly yTrain: HostTensor;
  /** Scaled `[numTest, 20]` inputs. */
  readonly xTest: HostTensor;
  /** Scaled `[numTest, 3]` targets. */
  readonly yTest: HostTensor;
  /** Fitted on the raw training inputs. */
  readonly xScaler: MinMaxScaler;
  /** Fitted on the raw training targets; `yScaler.inverse(pred)` de-normalises predictions. */
  readonly yScaler: MinMaxScaler;
  /** The 20 input columns, in x's last-axis order (`City_Signal`). */
  readonly inputColumns: readonly string[];
  /** The target columns, in y's last-axis order. */
  readonly targetColumns: readonly string[];
  /** Input column holding the current value of each target (for persistence forecasts). */
  readonly targetInputIndex: readonly number[];
  /** Hours between an input row and its target. */
  readonly shiftSteps: number;
  /** Rows of the training split. */
  readonly numTrain: number;
  /** Rows of the test split. */
  readonly numTest: number;
  /** Time of each input row (`numTrain + numTest`); the target of row i is at `times[i] + shift` hours. */
  readonly times: Float64Array;
  /** Unscaled `x_data` `[N − shift, 20]` (a view of the table) and `y_data` `[N − shift, 3]`. */
  readonly raw: {
    /** Unscaled inputs. */
    readonly x: HostTensor;
    /** Unscaled targets. */
    readonly y: HostTensor;
  };
}

/**
 * The lesson's task (§3.2): targets = Odense `Temp, WindSpeed, Pressure` shifted by −24 steps
 * (`x_data = values[:-24]`, `y_data = targets[24:]`), chronological split `numTrain =
 * trunc(0.9 · (N − 24))`, `MinMaxScaler` fitted on the training rows separately for x and y
 * (constant columns get range 1).
 */
export function weatherTask(table: WeatherTable, opts: WeatherTaskOptions = {}): WeatherTask {
  const shift = opts.shiftSteps ?? SHIFT_STEPS;
  const trainSplit = opts.trainSplit ?? 0.9;
  const targets = opts.targets ?? TARGET_COLUMNS;
  const N = table.times.length;
  const F = table.columns.length;
  if (table.values.length !== N * F) throw new Error(`weatherTask: table has ${N} times and ${F} columns but ${table.values.length} values`);
  if (!Number.isInteger(shift) || shift < 1) throw new Error(`weatherTask: shiftSteps must be a positive integer, got ${shift}`);
  if (!(trainSplit > 0 && trainSplit < 1)) throw new Error(`weatherTask: trainSplit must be in (0, 1), got ${trainSplit}`);
  const missing = targets.filter((c) => !table.columns.includes(c));
  if (missing.length) {
    throw new Error(`weatherTask: missing column ${missing.map((c) => JSON.stringify(c)).join(', ')} in the table (columns: ${table.columns.join(', ')})`);
  }
  const targetInputIndex = targets.map((c) => table.columns.indexOf(c));
  const M = N - shift;
  const numTrain = Math.trunc(trainSplit * M);
  if (numTrain < 1 || numTrain >= M) {
    throw new Error(`weatherTask: ${N} rows leave ${M} samples after the ${shift}-step shift: too few for a ${trainSplit} train split`);
  }
  const all: HostTensor = { data: table.values, shape: [N, F] };
  const x = rowsView(all, 0, M);
  const y = selectColumns(rowsView(all, shift, N), targetInputIndex);
  const xTrainRaw = rowsView(x, 0, numTrain);
  const yTrainRaw = rowsView(y, 0, numTrain);
  const xScaler = MinMaxScaler.fit(xTrainRaw);
  const yScaler = MinMaxScaler.fit(yTrainRaw);
  return {
    xTrain: xScaler.transform(xTrainRaw),
    yTrain: yScaler.transform(yTrainRaw),
    xTest: xScaler.transform(rowsView(x, numTrain, M)),
    yTest: yScaler.transform(rowsView(y, numTrain, M)),
    xScaler,
    yScaler,
    inputColumns: table.columns,
    targetColumns: targets,
    targetInputIndex,
    shiftSteps: shift,
    numTrain,
    numTest: M - numTrain,
    times: table.times.subarray(0, M),
    raw: { x, y },
  };
}

/**
 * One batch of the lesson's training generator on a task: {@link randomSubsequences} of
 * `task.xTrain` / `task.yTrain` → x `[B, L, 20]`, y `[B, L, 3]`.
 */
export function weatherBatch(task: WeatherTask, opts: SubsequenceOptions): SubsequenceBatch {
  return randomSubsequences(task.xTrain, task.yTrain, opts);
}

/** Per-signal errors of a forecast, de-normalised. */
export interface ForecastReport {
  /** The target signals (Temp, WindSpeed, Pressure). */
  readonly signals: readonly string[];
  /** Their units (°C, m/s, hPa). */
  readonly units: readonly string[];
  /** Mean absolute error per signal, in the signal's unit. */
  readonly mae: readonly number[];
  /** Root-mean-square error per signal, in the signal's unit. */
  readonly rmse: readonly number[];
  /** MSE on min-max-scaled targets averaged over the signals: comparable with the lesson's loss. */
  readonly mseScaled: number;
  /** Time steps evaluated. */
  readonly count: number;
}

/**
 * Persistence baseline ("tomorrow = today"): predicts each target at t + shift by its current
 * value at t (`y_pred[t] = table[t, target]`), evaluated on the split's rows after the first
 * `warmup` steps (as the lesson's loss on the test set as one sequence).
 * @param opts `split` (default `'test'`), `warmup` (default {@link WARMUP_STEPS}).
 */
export function persistenceBaseline(task: WeatherTask, opts: { split?: 'train' | 'test'; warmup?: number } = {}): ForecastReport {
  const split = opts.split ?? 'test';
  const warmup = opts.warmup ?? WARMUP_STEPS;
  const [r0, r1] = split === 'train' ? [0, task.numTrain] : [task.numTrain, task.numTrain + task.numTest];
  if (!Number.isInteger(warmup) || warmup < 0 || r0 + warmup >= r1) {
    throw new Error(`persistenceBaseline: warmup ${warmup} leaves no step of the ${r1 - r0}-step ${split} split`);
  }
  const K = task.targetColumns.length;
  const F = task.inputColumns.length;
  const range = task.yScaler.range;
  const mae: number[] = [];
  const rmse: number[] = [];
  let sq = 0;
  for (let k = 0; k < K; k++) {
    const yt = new Float64Array(r1 - r0 - warmup);
    const yp = new Float64Array(yt.length);
    for (let r = r0 + warmup, i = 0; r < r1; r++, i++) {
      yt[i] = task.raw.y.data[r * K + k]!;
      yp[i] = task.raw.x.data[r * F + task.targetInputIndex[k]!]!;
    }
    const e = maeRmse(yt, yp);
    mae.push(e.mae);
    rmse.push(e.rmse);
    sq += (e.rmse / range[k]!) ** 2;
  }
  return {
    signals: task.targetColumns,
    units: task.targetColumns.map((c) => TARGET_UNITS[TARGET_COLUMNS.indexOf(c)] ?? ''),
    mae,
    rmse,
    mseScaled: sq / K,
    count: r1 - r0 - warmup,
  };
}

/**
 * De-normalised per-signal errors of scaled predictions against scaled targets, e.g. a model's
 * test predictions `[1, T, 3]` (or `[T, 3]`) against `task.yTest`; the first `warmup` steps of
 * every sequence are skipped.
 */
export function forecastReport(task: WeatherTask, yTrueScaled: HostTensor, yPredScaled: HostTensor, warmup = WARMUP_STEPS): ForecastReport {
  const K = task.targetColumns.length;
  const shape3 = (t: HostTensor): HostTensor => (t.shape.length === 2 ? { data: t.data, shape: [1, ...t.shape] } : t);
  const a = shape3(yTrueScaled);
  const b = shape3(yPredScaled);
  if (a.shape[2] !== K) throw new Error(`forecastReport: expected ${K} target signals on the last axis, got shape [${yTrueScaled.shape.join(', ')}]`);
  const mseScaled = warmupMse(a, b, warmup);
  const [B = 0, T = 0] = a.shape;
  const yt = task.yScaler.inverse(a).data;
  const yp = task.yScaler.inverse(b).data;
  const mae: number[] = [];
  const rmse: number[] = [];
  for (let k = 0; k < K; k++) {
    const t: number[] = [];
    const p: number[] = [];
    for (let s = 0; s < B; s++) {
      for (let i = warmup; i < T; i++) {
        t.push(yt[(s * T + i) * K + k]!);
        p.push(yp[(s * T + i) * K + k]!);
      }
    }
    const e = maeRmse(t, p);
    mae.push(e.mae);
    rmse.push(e.rmse);
  }
  return {
    signals: task.targetColumns,
    units: task.targetColumns.map((c) => TARGET_UNITS[TARGET_COLUMNS.indexOf(c)] ?? ''),
    mae,
    rmse,
    mseScaled,
    count: B * (T - warmup),
  };
}
