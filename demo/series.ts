/**
 * One forecastable series from a parsed CSV table, cleaned the way a pandas user would:
 * rows without a valid date dropped, rows sorted by date (stable), rows whose date was already
 * seen dropped (the first is kept, `drop_duplicates(subset=date)`), missing steps of a regular
 * series filled by linear interpolation (`asfreq` + `interpolate`) — and every one of these
 * steps reported in plain words, so the page can say what it did.
 *
 * Also the chronological split shared by the worker and the page, and the baselines every model
 * is judged against: naive (the last value repeated) and seasonal naive (the value one season
 * earlier: a week for daily data), as MAE in data units and as MSE on the loss's scale.
 * Pure functions (no DOM, no GPU).
 */
import { CsvError, sameRow, type ParsedTable } from './csv';
import { dateFor, dateOnly, inferFrequency, seasonality, FORMAT_LABEL, type Frequency, type Seasonality } from './dates';
import { HORIZON, type Scores } from './protocol';

/** Share of the rows kept for validation (the most recent ones)… */
export const VALID_FRACTION = 0.2;
/** …but at most this many, so evaluation and forecasts stay quick on long series. */
export const MAX_VALID_ROWS = 1000;
/** Minimum numbers of training windows and of 10-step validation windows. */
export const MIN_TRAIN_WINDOWS = 10;
export const MIN_VALID_WINDOWS = 3;
/** Missing steps of a regular series are interpolated when they are at most this share of it. */
export const MAX_FILL_FRACTION = 0.25;

export interface CleanSeries {
  /** File (or data set) name and the column forecast. */
  name: string;
  column: string;
  values: Float64Array;
  /** Times in ms (UTC-naive) or null when the rows have no dates. */
  times: Float64Array | null;
  /** Date column name, or null. */
  dateColumn: string | null;
  frequency: Frequency | null;
  seasonal: Seasonality | null;
  /** True when the dates have a time of day (hourly data…). */
  withTime: boolean;
  /** What was done to the rows, one sentence each (shown on the page). */
  notes: string[];
  /** The same facts as numbers (tests and the run settings export). */
  facts: SeriesFacts;
}

export interface SeriesFacts {
  fileRows: number;
  invalidDates: number;
  /** 'sorted' (already in order), 'reversed' (newest first), 'resorted' or 'none' (no dates). */
  order: 'sorted' | 'reversed' | 'resorted' | 'none';
  duplicates: number;
  exactDuplicates: number;
  filled: number;
  /** Missing steps not filled (too many, or dates off the grid). */
  gaps: number;
}

const int = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${int(n)} ${n === 1 ? one : many}`;

/** The series of `column` (ordered by `dateColumn` when given). Throws CsvError with a message for the user. */
export function buildSeries(t: ParsedTable, dateColumn: number | null, column: number): CleanSeries {
  const name = t.columns[column];
  if (name === undefined || !t.numeric.includes(column)) throw new CsvError(`Column ${column + 1} is not a numeric column.`);
  const dc = dateColumn === null ? null : t.dates.find((d) => d.column === dateColumn);
  if (dateColumn !== null && !dc) throw new CsvError(`Column ${dateColumn + 1} is not a date column.`);
  const notes: string[] = [];
  const facts: SeriesFacts = { fileRows: t.rows, invalidDates: 0, order: 'none', duplicates: 0, exactDuplicates: 0, filled: 0, gaps: 0 };
  const nums = t.numbers[column]!;

  // Rows in order (indices into the table).
  let rows: Int32Array;
  if (!dc) {
    rows = Int32Array.from({ length: t.rows }, (_, i) => i);
  } else {
    const times = dc.times;
    const valid: number[] = [];
    const invalidLines: number[] = [];
    for (let i = 0; i < t.rows; i++) {
      if (Number.isFinite(times[i]!)) valid.push(i);
      else if (invalidLines.length < 3) invalidLines.push(t.lines[i]!);
    }
    facts.invalidDates = t.rows - valid.length;
    if (facts.invalidDates) notes.push(`Dropped ${plural(facts.invalidDates, 'row')} without a valid date in "${t.columns[dc.column]}" (line ${invalidLines.join(', ')}${facts.invalidDates > 3 ? ', …' : ''}).`);
    let up = true, down = true;
    for (let k = 1; k < valid.length; k++) {
      const a = times[valid[k - 1]!]!, b = times[valid[k]!]!;
      if (b < a) up = false;
      if (b > a) down = false;
    }
    if (up) {
      facts.order = 'sorted';
      rows = Int32Array.from(valid);
    } else {
      facts.order = down ? 'reversed' : 'resorted';
      // stable: among rows of the same date the file's first stays first
      rows = Int32Array.from(valid);
      stableByTime(rows, times);
    }
    // Drop rows whose date was already seen (keep the first, in file order).
    const kept: number[] = [];
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!;
      const prev = kept.length ? kept[kept.length - 1]! : -1;
      if (prev >= 0 && times[prev] === times[i]) {
        facts.duplicates++;
        if (sameRow(t, prev, i)) facts.exactDuplicates++;
      } else kept.push(i);
    }
    rows = Int32Array.from(kept);
  }

  // The values; a missing or non-numeric cell is the user's to fix (we name the line).
  const values = new Float64Array(rows.length);
  let badRow = -1;
  for (let k = 0; k < rows.length; k++) {
    const v = nums[rows[k]!]!;
    if (!Number.isFinite(v) && (badRow < 0 || rows[k]! < badRow)) badRow = rows[k]!;
    values[k] = v;
  }
  if (badRow >= 0) {
    const cell = t.badCells[column]!.find((b) => b.row === badRow)?.text;
    const what = cell === undefined ? 'a cell that is not a number' : cell === '' ? 'an empty cell' : `'${cell}'`;
    throw new CsvError(`Column "${name}" has ${what} on line ${t.lines[badRow]} where a number is expected (NaN and missing values are not allowed). Fix or remove that row, or pick another column.`);
  }

  if (t.delimiter !== ',' || t.decimalComma) {
    const sep = t.delimiter === '\t' ? 'tabs' : t.delimiter === ';' ? 'semicolons' : `"${t.delimiter}"`;
    notes.push(`Read as ${t.delimiter !== ',' ? `separated by ${sep}` : ''}${t.delimiter !== ',' && t.decimalComma ? ', with ' : ''}${t.decimalComma ? 'decimal commas (12,5 = 12.5)' : ''}.`);
  }
  let times: Float64Array | null = null;
  let frequency: Frequency | null = null;
  let out: Float64Array = values;
  if (dc) {
    times = Float64Array.from(rows, (i) => dc.times[i]!);
    const dateName = t.columns[dc.column]!;
    if (facts.order === 'sorted') notes.push(`Rows are in date order ("${dateName}", ${FORMAT_LABEL[dc.format]}).`);
    else if (facts.order === 'reversed') notes.push(`Sorted by "${dateName}": the file lists the newest date first.`);
    else notes.push(`Sorted by "${dateName}": the file's rows were not in date order.`);
    if (facts.duplicates) {
      const conflicting = facts.duplicates - facts.exactDuplicates;
      const kinds = conflicting === 0 ? (facts.duplicates === 1 ? 'an exact copy' : 'all exact copies') : facts.exactDuplicates === 0 ? `with different values` : `${int(facts.exactDuplicates)} exact, ${int(conflicting)} with different values`;
      notes.push(`De-duplicated: dropped ${plural(facts.duplicates, 'row')} whose date was already present (${kinds}); the first row of each date is kept.`);
      // Many dates with different rows: probably several series in one file (one per city, per symbol…).
      if (conflicting >= 0.1 * t.rows) {
        const text = t.columns.filter((_, c) => !t.numeric.includes(c) && c !== dc.column);
        notes.push(`Many dates appear more than once with different values: the file may hold several series${text.length ? ` (one per "${text[0]}"?)` : ''}. The demo forecasts one series: keep the rows of one of them in the file.`);
      }
    }
    frequency = inferFrequency(times);
    const filled = fillGaps(times, out, frequency);
    if (filled) {
      facts.filled = filled.filled;
      facts.gaps = filled.gaps;
      const missing = (n: number) => plural(n, frequency!.unitSingular, frequency!.unitPlural);
      if (filled.filled) {
        times = filled.times;
        out = filled.values;
        notes.push(`Filled ${plural(filled.filled, `missing ${frequency.unitSingular}`, `missing ${frequency.unitPlural}`)} by linear interpolation between their neighbours.`);
      } else if (filled.gaps && filled.calendar) {
        notes.push(`${missing(filled.gaps)} ${filled.gaps === 1 ? 'has' : 'have'} no row${frequency.kind === 'business-day' ? ' (holidays?)' : ''}; the rows are used as consecutive steps.`);
      } else if (filled.offGrid) {
        notes.push(`Most dates are ${frequency.unitSingular === 'day' ? 'a day' : `one ${frequency.unitSingular}`} apart, but not all fall on that grid: the rows are used as consecutive steps.`);
      } else if (filled.gaps) {
        const share = Math.round((100 * filled.gaps) / (filled.gaps + out.length));
        notes.push(`${missing(filled.gaps)} ${filled.gaps === 1 ? 'is' : 'are'} missing (${share}% of the span) — too many to interpolate; the rows are used as consecutive steps.`);
      }
    }
    if (frequency.kind === 'irregular') notes.push('The dates are irregular: the rows are used as consecutive steps.');
  } else {
    notes.push(t.dates.length ? 'No date column chosen: rows are used in file order.' : 'No date column found: rows are used in file order.');
  }

  let min = Infinity, max = -Infinity;
  for (const v of out) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) throw new CsvError(`Column "${name}" is constant (${min}); there is nothing to forecast.`);
  const withTime = times ? !dateOnly(times) : false;
  const seasonal = frequency ? seasonality(frequency) : null;
  if (times && times.length) {
    notes.unshift(`${int(out.length)} ${frequency && frequency.kind !== 'irregular' ? `${frequency.label} values` : 'values'}, ${dateFor(times[0]!, frequency, withTime)} → ${dateFor(times[times.length - 1]!, frequency, withTime)}${t.rows !== out.length || facts.duplicates || facts.invalidDates || facts.filled ? ` (from ${plural(t.rows, 'row')} of the file)` : ''}.`);
  } else {
    notes.unshift(`${int(out.length)} values.`);
  }
  return { name: t.fileName, column: name, values: out, times, dateColumn: dc ? t.columns[dc.column]! : null, frequency, seasonal, withTime, notes, facts };
}

/** Sorts row indices by time, ties by index (file order): a stable sort. */
function stableByTime(rows: Int32Array, times: Float64Array): void {
  const idx = Array.from(rows);
  idx.sort((a, b) => times[a]! - times[b]! || a - b);
  rows.set(idx);
}

/** Missing steps of a regular series: interpolated when few (returns the filled arrays), else only counted. */
function fillGaps(times: Float64Array, values: Float64Array, f: Frequency): { filled: number; gaps: number; calendar?: boolean; offGrid?: boolean; times: Float64Array; values: Float64Array } | null {
  const n = times.length;
  if (n < 3) return null;
  if (f.kind === 'month' || f.kind === 'quarter' || f.kind === 'year' || f.kind === 'business-day') {
    // calendar steps: count the missing ones, fill none
    let gaps = 0;
    if (f.kind === 'business-day') {
      for (let i = 1; i < n; i++) {
        for (let t = times[i - 1]! + 86_400_000; t < times[i]!; t += 86_400_000) {
          const wd = new Date(t).getUTCDay();
          if (wd !== 0 && wd !== 6) gaps++;
        }
      }
    } else {
      const months = f.kind === 'month' ? 1 : f.kind === 'quarter' ? 3 : 12;
      const m = (t: number) => new Date(t).getUTCFullYear() * 12 + new Date(t).getUTCMonth();
      for (let i = 1; i < n; i++) gaps += Math.max(0, Math.round((m(times[i]!) - m(times[i - 1]!)) / months) - 1);
    }
    return { filled: 0, gaps, calendar: true, times, values };
  }
  const step = f.stepMs;
  if (!step) return null;
  const t0 = times[0]!;
  for (let i = 0; i < n; i++) if ((times[i]! - t0) % step !== 0) return { filled: 0, gaps: 0, offGrid: true, times, values };
  const expected = Math.round((times[n - 1]! - t0) / step) + 1;
  const gaps = expected - n;
  if (gaps <= 0) return { filled: 0, gaps: 0, times, values };
  if (gaps > MAX_FILL_FRACTION * expected || expected > 5_000_000) return { filled: 0, gaps, times, values };
  const T = new Float64Array(expected), V = new Float64Array(expected);
  let j = 0;
  for (let k = 0; k < expected; k++) {
    const t = t0 + k * step;
    T[k] = t;
    while (times[j]! < t) j++;
    if (times[j] === t) V[k] = values[j]!;
    else {
      // between j-1 and j
      const ta = times[j - 1]!, tb = times[j]!;
      V[k] = values[j - 1]! + ((values[j]! - values[j - 1]!) * (t - ta)) / (tb - ta);
    }
  }
  return { filled: gaps, gaps, times: T, values: V };
}

// ------------------------------------------------------------------ split and windows

export interface Split {
  /** Index of the first validation row: training uses rows [0, cut), validation targets [cut, L). */
  cut: number;
  validRows: number;
  /** Training windows (inputs and targets inside [0, cut)). */
  train: number;
  /** One-step validation windows: one per validation row. */
  valid1: number;
  /** Ten-step validation windows: one per origin with ten future rows. */
  valid10: number;
}

/** The chronological split of a series of L rows for windows of W steps. */
export function split(L: number, W: number, targetLen: number): Split {
  const validRows = Math.min(MAX_VALID_ROWS, Math.round(L * VALID_FRACTION));
  const cut = L - validRows;
  const ok = cut >= W;
  return { cut, validRows, train: Math.max(0, cut - W - targetLen + 1), valid1: ok ? validRows : 0, valid10: ok ? Math.max(0, validRows - HORIZON + 1) : 0 };
}

export function enoughRows(L: number, W: number, targetLen: number): boolean {
  const s = split(L, W, targetLen);
  return s.train >= MIN_TRAIN_WINDOWS && s.valid10 >= MIN_VALID_WINDOWS;
}

/** Smallest series length with enough training and validation windows for `window`. */
export function minRows(window: number, targetLen: number): number {
  let lo = 1, hi = 1;
  while (!enoughRows(hi, window, targetLen)) {
    lo = hi;
    hi *= 2;
    if (hi > 1e8) return Infinity;
  }
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (enoughRows(mid, window, targetLen)) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

// ------------------------------------------------------------------ baselines and scores

/** Forecast of step k (1-based) from origin o by the seasonal naive method with period m. */
export const seasonalIndex = (o: number, k: number, m: number) => o + k - m * Math.ceil(k / m);

/** The naive and seasonal-naive baselines on the validation part of a series. */
export function baselineScores(v: ArrayLike<number>, s: Split, std: number, targetLen: number, period: number | null): { naive: Scores; seasonal: Scores | null } {
  const L = v.length;
  const score = (forecast: (o: number, k: number) => number): Scores => {
    let a1 = 0, n1 = 0, a10 = 0, n10 = 0, se = 0, nse = 0;
    for (let t = s.cut; t < L; t++) {
      const e = forecast(t - 1, 1) - v[t]!;
      a1 += Math.abs(e);
      n1++;
      if (targetLen === 1) {
        se += e * e;
        nse++;
      }
    }
    for (let t = s.cut; t <= L - HORIZON; t++) {
      for (let k = 1; k <= HORIZON; k++) {
        const e = forecast(t - 1, k) - v[t - 1 + k]!;
        a10 += Math.abs(e);
        n10++;
        if (targetLen === HORIZON) {
          se += e * e;
          nse++;
        }
      }
    }
    return { mae1: a1 / n1, mae10: a10 / n10, mseLoss: se / nse / (std * std) };
  };
  const naive = score((o) => v[o]!);
  const seasonal = period && s.cut - 1 - period >= 0 ? score((o, k) => v[seasonalIndex(o, k, period)]!) : null;
  return { naive, seasonal };
}

/** Mean and standard deviation (population) of v[0, n). */
export function meanStd(v: ArrayLike<number>, n: number): { mean: number; std: number } {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i]!;
  mean /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(s / n) || 1 };
}

/** Evenly spaced min/max buckets of a long series for drawing (at most ~2·buckets points). */
export function downsample(times: ArrayLike<number> | null, values: ArrayLike<number>, buckets: number): { x: number[]; y: number[] } {
  const n = values.length;
  const xAt = (i: number) => (times ? times[i]! : i);
  if (n <= 2 * buckets) return { x: Array.from({ length: n }, (_, i) => xAt(i)), y: Array.from(values) };
  const x: number[] = [], y: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const a = Math.floor((b * n) / buckets), e = Math.floor(((b + 1) * n) / buckets);
    let lo = a, hi = a;
    for (let i = a; i < e; i++) {
      if (values[i]! < values[lo]!) lo = i;
      if (values[i]! > values[hi]!) hi = i;
    }
    for (const i of lo < hi ? [lo, hi] : lo > hi ? [hi, lo] : [lo]) {
      x.push(xAt(i));
      y.push(values[i]!);
    }
  }
  return { x, y };
}
