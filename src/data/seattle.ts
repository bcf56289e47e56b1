/**
 * Daily weather of Seattle (and New York) from the npm package `vega-datasets@3.2.1`
 * (`data/seattle-weather.csv`, `data/weather.csv`; U.S. Government work, public domain):
 * parsing, and a next-day forecast task for an RNN. Spec: docs/reference-results.md §4.
 *
 * Task: forecast tomorrow's `temp_max` from the past 30 days. Inputs per day (F = 6):
 * `precipitation`, `temp_max`, `temp_min`, `wind`, and the day of the year as
 * `sin(2π(doy − 1)/365.25)`, `cos(…)` — a smooth, wrap-around encoding of the season (day 365
 * and day 1 are neighbours, unlike a raw 1–366 day number), which a 30-day window cannot infer
 * from the measured signals alone. All 6 features are min-max scaled with a scaler fitted on the
 * training days only; the target is `temp_max` scaled with the same (training) range, so
 * `task.yScaler.inverse` turns predictions back into °C. Splits are chronological by the date of
 * the target day: train < 2014-01-01 ≤ valid < 2015-01-01 ≤ test (defaults). Baseline:
 * persistence (tomorrow's max = today's max), MAE in °C.
 *
 * Browser-safe except {@link readVegaDataset}, {@link loadSeattleWeather} and
 * {@link loadVegaWeather} (Node: they read the CSV files from `node_modules`). In the browser,
 * import the files as text (Vite: `?raw`) and call {@link parseSeattle} / {@link parseWeatherCsv}.
 */
import type { HostTensor } from '../host';
import { CsvError, parseCsv, parseNumberField, requireColumns } from './csv';
import { MinMaxScaler, maeRmse, windowsAt } from './windows';

/** Daily observations of one location. */
export interface DailyWeather {
  /** The station, e.g. 'Seattle'. */
  readonly location: string;
  /** `YYYY-MM-DD` per day. */
  readonly dates: readonly string[];
  /** UTC midnight of each day, ms. */
  readonly times: Float64Array;
  /** mm. */
  readonly precipitation: Float64Array;
  /** °C. */
  readonly tempMax: Float64Array;
  /** °C. */
  readonly tempMin: Float64Array;
  /** Documented as km/h upstream, but its range (0.4–9.5) looks like m/s. */
  readonly wind: Float64Array;
  /** `drizzle`, `rain`, `sun`, `snow`, `fog`. */
  readonly weather: readonly string[];
}

/** The numeric CSV columns, in feature order. */
export const DAILY_COLUMNS = ['precipitation', 'temp_max', 'temp_min', 'wind'] as const;
/** Model inputs of {@link seattleTask}, in order. */
export const SEATTLE_FEATURES: readonly string[] = ['precipitation', 'temp_max', 'temp_min', 'wind', 'doy_sin', 'doy_cos'];
/** Days of history per window. */
export const SEATTLE_WINDOW_DAYS = 30;

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(s: string, source: string, line: number): number {
  const m = DATE_RE.exec(s.trim());
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s.trim()) {
    throw new CsvError(source, line, 0, `column "date": ${JSON.stringify(s)} is not a date YYYY-MM-DD`);
  }
  return t;
}

function parseDaily(
  rows: readonly (readonly string[])[],
  lines: readonly number[],
  header: readonly string[],
  location: string,
  source: string,
): DailyWeather {
  const [iDate, iP, iMax, iMin, iW, iWeather] = requireColumns(header, ['date', ...DAILY_COLUMNS, 'weather'], source) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const n = rows.length;
  const out = {
    location,
    dates: [] as string[],
    times: new Float64Array(n),
    precipitation: new Float64Array(n),
    tempMax: new Float64Array(n),
    tempMin: new Float64Array(n),
    wind: new Float64Array(n),
    weather: [] as string[],
  };
  rows.forEach((r, i) => {
    const line = lines[i]!;
    out.times[i] = parseDate(r[iDate]!, source, line);
    out.dates.push(r[iDate]!.trim());
    out.precipitation[i] = parseNumberField(r[iP]!, { source, line, column: 'precipitation' });
    out.tempMax[i] = parseNumberField(r[iMax]!, { source, line, column: 'temp_max' });
    out.tempMin[i] = parseNumberField(r[iMin]!, { source, line, column: 'temp_min' });
    out.wind[i] = parseNumberField(r[iW]!, { source, line, column: 'wind' });
    out.weather.push(r[iWeather]!.trim());
  });
  return out;
}

/**
 * Parses `seattle-weather.csv` (`date,precipitation,temp_max,temp_min,wind,weather`).
 * Empty numeric fields become NaN (the file has none; {@link seattleTask} rejects them).
 * @param source file name for error messages.
 * @throws {CsvError} naming the line for malformed CSV, dates or numbers, and missing columns.
 */
export function parseSeattle(csvText: string, source = 'seattle-weather.csv'): DailyWeather {
  const t = parseCsv(csvText, { source });
  return parseDaily(t.rows, t.lines, t.header, 'Seattle', source);
}

/**
 * Parses `weather.csv` (`location,date,precipitation,temp_max,temp_min,wind,weather`) into one
 * {@link DailyWeather} per location (`'Seattle'`, `'New York'`), rows in file order.
 * @throws {CsvError} as {@link parseSeattle}, plus a missing `location` column.
 */
export function parseWeatherCsv(csvText: string, source = 'weather.csv'): Record<string, DailyWeather> {
  const t = parseCsv(csvText, { source });
  const [iLoc] = requireColumns(t.header, ['location'], source) as [number];
  const groups = new Map<string, { rows: (readonly string[])[]; lines: number[] }>();
  t.rows.forEach((r, i) => {
    const loc = r[iLoc]!.trim();
    if (loc === '') throw new CsvError(source, t.lines[i]!, 0, 'column "location" is empty');
    let g = groups.get(loc);
    if (!g) groups.set(loc, (g = { rows: [], lines: [] }));
    g.rows.push(r);
    g.lines.push(t.lines[i]!);
  });
  const out: Record<string, DailyWeather> = {};
  for (const [loc, g] of groups) out[loc] = parseDaily(g.rows, g.lines, t.header, loc, source);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Node: reading the files from the installed package

/**
 * Text of a file of the installed `vega-datasets` package, e.g. `'seattle-weather.csv'` (Node only).
 * @throws when the package is not installed or the file is missing.
 */
export async function readVegaDataset(file: string): Promise<string> {
  if (!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node) {
    throw new Error(`readVegaDataset: needs Node.js; in a browser import 'vega-datasets/data/${file}' as text and parse it`);
  }
  const names = ['node:module', 'node:path', 'node:fs/promises'];
  const [mod, path, fs] = (await Promise.all(names.map((n) => import(/* @vite-ignore */ n)))) as [
    typeof import('node:module'),
    typeof import('node:path'),
    typeof import('node:fs/promises'),
  ];
  let entry: string;
  try {
    entry = mod.createRequire(import.meta.url).resolve('vega-datasets');
  } catch (e) {
    throw new Error(`readVegaDataset: the package vega-datasets is not installed (npm install vega-datasets@3.2.1): ${(e as Error).message}`);
  }
  // The package root is the nearest folder above its entry point holding its package.json.
  let dir = path.dirname(entry);
  for (;;) {
    const pkg = await fs.readFile(path.join(dir, 'package.json'), 'utf8').catch(() => null);
    if (pkg && (JSON.parse(pkg) as { name?: string }).name === 'vega-datasets') break;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`readVegaDataset: cannot find the vega-datasets package root above ${entry}`);
    dir = up;
  }
  const file_ = path.join(dir, 'data', file);
  try {
    return await fs.readFile(file_, 'utf8');
  } catch (e) {
    throw new Error(`readVegaDataset: cannot read ${file_}: ${(e as Error).message}`);
  }
}

/** `vega-datasets/data/seattle-weather.csv`, parsed (Node only): 1,461 days 2012-01-01..2015-12-31. */
export async function loadSeattleWeather(): Promise<DailyWeather> {
  return parseSeattle(await readVegaDataset('seattle-weather.csv'), 'vega-datasets/data/seattle-weather.csv');
}

/** `vega-datasets/data/weather.csv`, parsed per location (Node only): Seattle and New York, 1,461 days each. */
export async function loadVegaWeather(): Promise<Record<string, DailyWeather>> {
  return parseWeatherCsv(await readVegaDataset('weather.csv'), 'vega-datasets/data/weather.csv');
}

// ---------------------------------------------------------------------------------------------
// The task

/** Day of the year (1–366) of a UTC midnight. */
function dayOfYear(t: number): number {
  const d = new Date(t);
  return Math.round((t - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

/** Options of {@link seattleTask}. */
export interface SeattleTaskOptions {
  /** Days of history per window; default 30. */
  readonly windowDays?: number;
  /** First target date of the validation split (`YYYY-MM-DD`); default `'2014-01-01'`. */
  readonly validStart?: string;
  /** First target date of the test split; default `'2015-01-01'`. Equal to `validStart` → no validation split. */
  readonly testStart?: string;
}

/** Windows of one split. */
export interface SeattleSplit {
  /** Scaled inputs `[n, windowDays, 6]`. */
  readonly x: HostTensor;
  /** Scaled next-day `temp_max` `[n, 1]`. */
  readonly y: HostTensor;
  /** Day index (into the daily series) of each window's target; the window covers `[t − windowDays, t)`. */
  readonly targetDay: Int32Array;
}

/** The next-day `temp_max` task. */
export interface SeattleTask {
  /** Windows whose target day is before `validStart`. */
  readonly train: SeattleSplit;
  /** Windows whose target day is in [validStart, testStart). */
  readonly valid: SeattleSplit;
  /** Windows whose target day is from `testStart` on. */
  readonly test: SeattleSplit;
  /** Fitted on the 6 features of the training days (days before `validStart`). */
  readonly xScaler: MinMaxScaler;
  /** `temp_max` range of the training days; `inverse` gives °C. */
  readonly yScaler: MinMaxScaler;
  /** The input features, in x's last-axis order. */
  readonly features: readonly string[];
  /** Days of history per window. */
  readonly windowDays: number;
  /** The daily data the windows were cut from. */
  readonly daily: DailyWeather;
}

/**
 * Builds the windows: for every day `t ≥ windowDays`, x = scaled features of days
 * `[t − windowDays, t)`, y = scaled `temp_max` of day t. The window goes to the split of its
 * target date; the scalers see only days before `validStart` (no look-ahead).
 * @throws when the series has a gap, is unsorted, has missing values, or a split is too small.
 */
export function seattleTask(daily: DailyWeather, opts: SeattleTaskOptions = {}): SeattleTask {
  const W = opts.windowDays ?? SEATTLE_WINDOW_DAYS;
  const n = daily.times.length;
  if (!Number.isInteger(W) || W < 1) throw new Error(`seattleTask: windowDays must be a positive integer, got ${W}`);
  for (let i = 1; i < n; i++) {
    if (daily.times[i]! - daily.times[i - 1]! !== DAY_MS) {
      throw new Error(`seattleTask: ${daily.location} is not a gap-free daily series: ${daily.dates[i - 1]} is followed by ${daily.dates[i]}`);
    }
  }
  const F = SEATTLE_FEATURES.length;
  const feats = new Float32Array(n * F);
  const cols = [daily.precipitation, daily.tempMax, daily.tempMin, daily.wind];
  for (let i = 0; i < n; i++) {
    cols.forEach((c, k) => {
      const v = c[i]!;
      if (Number.isNaN(v)) throw new Error(`seattleTask: ${daily.location} ${daily.dates[i]}: ${DAILY_COLUMNS[k]} is missing`);
      feats[i * F + k] = v;
    });
    const a = (2 * Math.PI * (dayOfYear(daily.times[i]!) - 1)) / 365.25;
    feats[i * F + 4] = Math.sin(a);
    feats[i * F + 5] = Math.cos(a);
  }
  const dayIndex = (iso: string, name: string): number => {
    const t = Date.parse(`${iso}T00:00:00Z`);
    if (Number.isNaN(t)) throw new Error(`seattleTask: ${name} ${JSON.stringify(iso)} is not a date YYYY-MM-DD`);
    return Math.min(n, Math.max(0, Math.ceil((t - (daily.times[0] ?? 0)) / DAY_MS)));
  };
  const v0 = dayIndex(opts.validStart ?? '2014-01-01', 'validStart');
  const t0 = dayIndex(opts.testStart ?? '2015-01-01', 'testStart');
  if (t0 < v0) throw new Error(`seattleTask: testStart must not be before validStart`);
  if (v0 <= W) throw new Error(`seattleTask: only ${v0} days before validStart; need more than windowDays = ${W} to train`);
  if (t0 >= n) throw new Error(`seattleTask: no day on or after testStart (the series ends ${daily.dates[n - 1]})`);

  const xScaler = MinMaxScaler.fit({ data: feats.subarray(0, v0 * F), shape: [v0, F] });
  const yScaler = new MinMaxScaler(xScaler.min.slice(1, 2), xScaler.max.slice(1, 2));
  const scaled = xScaler.transform({ data: feats, shape: [n, F] });
  const split = (from: number, to: number): SeattleSplit => {
    const lo = Math.max(from, W);
    const targetDay = new Int32Array(Math.max(0, to - lo)).map((_, i) => lo + i);
    const starts = targetDay.map((t) => t - W);
    const y = new Float32Array(targetDay.length);
    targetDay.forEach((t, i) => (y[i] = scaled.data[t * F + 1]!));
    return { x: windowsAt(scaled, starts, W), y: { data: y, shape: [targetDay.length, 1] }, targetDay };
  };
  return {
    train: split(0, v0),
    valid: split(v0, t0),
    test: split(t0, n),
    xScaler,
    yScaler,
    features: SEATTLE_FEATURES,
    windowDays: W,
    daily,
  };
}

/** Errors in °C. */
export interface CelsiusErrors {
  /** Mean absolute error, °C. */
  readonly mae: number;
  /** Root mean squared error, °C. */
  readonly rmse: number;
  /** Number of days compared. */
  readonly count: number;
}

/**
 * Persistence baseline on a split: tomorrow's `temp_max` = today's (the last day of the window),
 * from the raw data, in °C.
 */
export function seattlePersistence(task: SeattleTask, split: 'train' | 'valid' | 'test' = 'test'): CelsiusErrors {
  const s = task[split];
  const yt = Array.from(s.targetDay, (t) => task.daily.tempMax[t]!);
  const yp = Array.from(s.targetDay, (t) => task.daily.tempMax[t - 1]!);
  return maeRmse(yt, yp);
}

/**
 * Errors in °C of scaled predictions `[n, 1]` (e.g. `model.predict(task.test.x)`) on a split,
 * against the raw `temp_max`.
 */
export function seattleErrors(task: SeattleTask, yPredScaled: HostTensor, split: 'train' | 'valid' | 'test' = 'test'): CelsiusErrors {
  const s = task[split];
  if (yPredScaled.data.length !== s.targetDay.length) {
    throw new Error(`seattleErrors: ${yPredScaled.data.length} predictions for ${s.targetDay.length} ${split} windows`);
  }
  const yt = Array.from(s.targetDay, (t) => task.daily.tempMax[t]!);
  const yp = Array.from(yPredScaled.data, (v) => task.yScaler.inverseValue(v, 0));
  return maeRmse(yt, yp);
}
