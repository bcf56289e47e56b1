/**
 * Dates in CSV files, the way pandas reads them: a column of date strings is recognised by its
 * format (ISO `2015-03-05`, `2015/03/05 14:00:00`, `2015-03-05T14:00Z`, `2015-03`, and `5/3/2015`
 * or `5.3.2015` with the day/month order inferred from the column), parsed as naive UTC times
 * (milliseconds; an explicit offset is honoured), the series' frequency is inferred from the
 * spacing of its dates (pandas' `infer_freq`: minutes, hours, days, business days, weeks,
 * months, quarters, years) and the seasonal period of its baseline follows from it.
 * Pure functions: used by the worker (parsing) and the page (labels).
 */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/**
 * A column's date format: `mdy`/`dmy` are the numeric formats with the year last, `named` has an
 * English month name (`Jan 1 2000`, `1 January 2000`, `01-Jan-2000`), `year` is a column of years
 * (`1880`, only for a column named like one).
 */
export type DateFormat = 'iso' | 'ym' | 'mdy' | 'dmy' | 'named' | 'year';

const ISO = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const YM = /^(\d{4})-(\d{2})$/;
const YEAR_LAST = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const NAMED = /^(?:(\d{1,2})[ -])?([A-Za-z]{3,9})\.?[ -](?:(\d{1,2}),?[ -])?(\d{4})$/;
const MONTH_INDEX: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const YEAR = /^\d{4}$/;
/** Names of a column of years (a numeric column that is the time axis). */
export const YEAR_COLUMN = /^(year|yr|jahr|année|annee|anno|año|ano)$/i;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number) => (m === 2 && leap(y) ? 29 : MONTH_DAYS[m - 1]!);

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): no Date objects per cell. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return NaN;
  return daysFromCivil(y, mo, d) * DAY + h * HOUR + mi * MINUTE + s * 1000 + ms;
}

function offsetMs(z: string | undefined): number {
  if (!z || z.toUpperCase() === 'Z') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * HOUR + Number(digits.slice(2) || '0') * MINUTE);
}

const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
};

/** `2015-03-05`, `2015-03-05 14:00` and `2015-03-05T14:00:00` without a regex (the common cells of big files). */
function isoFast(s: string): number {
  const n = s.length;
  if ((n !== 10 && n !== 16 && n !== 19) || s[4] !== s[7] || (s[4] !== '-' && s[4] !== '/')) return NaN;
  const y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (n === 10) return utc(y, mo, d);
  if ((s[10] !== 'T' && s[10] !== ' ') || s[13] !== ':' || (n === 19 && s[16] !== ':')) return NaN;
  return utc(y, mo, d, digits(s, 11, 2), digits(s, 14, 2), n === 19 ? digits(s, 17, 2) : 0);
}

/** Parses one cell in a known format; NaN when it is not a valid date in that format. */
export function parseDate(cell: string, format: DateFormat): number {
  if (format === 'iso') {
    const fast = isoFast(cell);
    if (fast === fast) return fast; // not NaN
  }
  const s = cell.trim();
  if (format === 'iso') {
    const m = ISO.exec(s);
    if (!m) return NaN;
    const frac = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    const t = utc(+m[1]!, +m[2]!, +m[3]!, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0, frac);
    return t - offsetMs(m[8]);
  }
  if (format === 'ym') {
    const m = YM.exec(s);
    return m ? utc(+m[1]!, +m[2]!, 1) : NaN;
  }
  if (format === 'year') return YEAR.test(s) ? utc(+s, 1, 1) : NaN;
  if (format === 'named') {
    const m = NAMED.exec(s);
    if (!m || (m[1] !== undefined) === (m[3] !== undefined)) return NaN; // exactly one day field
    const name = m[2]!.toLowerCase();
    const mo = MONTH_INDEX[name.slice(0, 3)];
    const full = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'][(mo ?? 0) - 1];
    if (!mo || (name.length > 3 && name !== full && name !== 'sept')) return NaN;
    return utc(+m[4]!, mo, +(m[1] ?? m[3])!);
  }
  const m = YEAR_LAST.exec(s);
  if (!m) return NaN;
  const a = +m[1]!, b = +m[3]!;
  const [mo, d] = format === 'mdy' ? [a, b] : [b, a];
  return utc(+m[4]!, mo, d, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0, m[7] ? +m[7] : 0);
}

/**
 * The date format of a column from a sample of its cells, or null when the cells are not dates
 * (fewer than 95% of the non-empty ones parse). Day-first or month-first is decided like pandas
 * (`dayfirst=False`) unless a first field above 12 proves the day comes first, or the separator
 * is a dot (European dates).
 */
export function detectDateFormat(samples: readonly string[]): DateFormat | null {
  const cells = samples.map((s) => s.trim()).filter((s) => s !== '');
  if (cells.length === 0) return null;
  const ok = (f: DateFormat) => cells.filter((c) => Number.isFinite(parseDate(c, f))).length >= 0.95 * cells.length;
  if (ok('iso')) return 'iso';
  if (ok('ym')) return 'ym';
  if (ok('named')) return 'named';
  const yl = cells.map((c) => YEAR_LAST.exec(c)).filter((m): m is RegExpExecArray => m !== null);
  if (yl.length < 0.95 * cells.length) return null;
  const firstOver12 = yl.some((m) => +m[1]! > 12), secondOver12 = yl.some((m) => +m[3]! > 12);
  const dotted = yl.every((m) => m[2] === '.');
  const order: DateFormat = firstOver12 && !secondOver12 ? 'dmy' : secondOver12 && !firstOver12 ? 'mdy' : dotted ? 'dmy' : 'mdy';
  return ok(order) ? order : null;
}

export const FORMAT_LABEL: Record<DateFormat, string> = {
  iso: 'year-month-day',
  ym: 'year-month',
  mdy: 'month/day/year',
  dmy: 'day/month/year',
  named: 'month names',
  year: 'years',
};

// ------------------------------------------------------------------ frequency

export type FrequencyKind = 'second' | 'minute' | 'hour' | 'day' | 'business-day' | 'week' | 'month' | 'quarter' | 'year' | 'irregular';

export interface Frequency {
  kind: FrequencyKind;
  /** Step count of the unit (15 for 15-minute data); 1 for calendar kinds. */
  multiple: number;
  /** Fixed step in ms (0 for the calendar kinds month/quarter/year and irregular dates). */
  stepMs: number;
  /** "daily", "hourly", "15-minute", "business-daily", … */
  label: string;
  /** One step in words, plural form: "days", "hours", "15-minute steps", … */
  unitPlural: string;
  unitSingular: string;
}

export interface Seasonality {
  /** Period in steps of the series. */
  period: number;
  /** "7-day", "24-hour", "5-business-day (weekly)", "12-month", … */
  label: string;
}

function mode(values: number[]): { value: number; share: number } {
  const counts = new Map<number, number>();
  let best = 0, bestCount = 0;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    // ties go to the finer spacing
    if (c > bestCount || (c === bestCount && v < best)) [best, bestCount] = [v, c];
  }
  return { value: best, share: values.length ? bestCount / values.length : 0 };
}

const freq = (kind: FrequencyKind, multiple: number, stepMs: number, label: string, unitSingular: string, unitPlural: string): Frequency => ({ kind, multiple, stepMs, label, unitSingular, unitPlural });

/** pandas-like frequency of sorted, distinct times (ms). */
export function inferFrequency(times: ArrayLike<number>): Frequency {
  const n = times.length;
  const irregular = freq('irregular', 1, 0, 'irregular', 'row', 'rows');
  if (n < 3) return irregular;
  // The spacing that occurs most often (a sample of up to 20,000 gaps is plenty).
  const stride = Math.max(1, Math.floor((n - 1) / 20_000));
  const diffs: number[] = [];
  for (let i = 1; i < n; i += stride) diffs.push(times[i]! - times[i - 1]!);
  const { value: d } = mode(diffs);
  const dates = () => Array.from({ length: Math.min(n, 5000) }, (_, i) => new Date(times[Math.floor((i * (n - 1)) / Math.max(1, Math.min(n, 5000) - 1))]!));
  if (d >= 28 * DAY && d <= 31 * DAY) {
    const ds = dates();
    if (ds.every((t) => t.getUTCDate() === ds[0]!.getUTCDate() || t.getUTCDate() >= 28)) return freq('month', 1, 0, 'monthly', 'month', 'months');
  }
  if (d >= 89 * DAY && d <= 92 * DAY) return freq('quarter', 1, 0, 'quarterly', 'quarter', 'quarters');
  if (d === 365 * DAY || d === 366 * DAY) return freq('year', 1, 0, 'yearly', 'year', 'years');
  if (d === DAY) {
    const ds = dates();
    const weekend = ds.some((t) => t.getUTCDay() === 0 || t.getUTCDay() === 6);
    if (!weekend && n >= 10) return freq('business-day', 1, DAY, 'business-daily', 'business day', 'business days');
    return freq('day', 1, DAY, 'daily', 'day', 'days');
  }
  if (d > 0 && d % DAY === 0) {
    const k = d / DAY;
    if (k === 7) return freq('week', 1, d, 'weekly', 'week', 'weeks');
    return freq('day', k, d, `${k}-day`, `${k}-day step`, `${k}-day steps`);
  }
  if (d > 0 && d % HOUR === 0) {
    const k = d / HOUR;
    return k === 1 ? freq('hour', 1, d, 'hourly', 'hour', 'hours') : freq('hour', k, d, `${k}-hourly`, `${k}-hour step`, `${k}-hour steps`);
  }
  if (d > 0 && d % MINUTE === 0) {
    const k = d / MINUTE;
    return k === 1 ? freq('minute', 1, d, 'minutely', 'minute', 'minutes') : freq('minute', k, d, `${k}-minute`, `${k}-minute step`, `${k}-minute steps`);
  }
  if (d > 0 && d % 1000 === 0) return freq('second', d / 1000, d, `${d / 1000}-second`, 'step', 'steps');
  return irregular;
}

/** The seasonal period of the baseline: a week for daily data, a day for (sub-)hourly data, a year for weekly, monthly and quarterly data. */
export function seasonality(f: Frequency): Seasonality | null {
  switch (f.kind) {
    case 'day':
      return f.multiple === 1 ? { period: 7, label: '7-day' } : null;
    case 'business-day':
      return { period: 5, label: '5-business-day (weekly)' };
    case 'hour':
    case 'minute':
    case 'second':
      return DAY % f.stepMs === 0 && DAY / f.stepMs >= 2 && DAY / f.stepMs <= 1440 ? { period: DAY / f.stepMs, label: f.stepMs === HOUR ? '24-hour' : `daily (${DAY / f.stepMs}-step)` } : null;
    case 'week':
      return { period: 52, label: '52-week' };
    case 'month':
      return { period: 12, label: '12-month' };
    case 'quarter':
      return { period: 4, label: '4-quarter' };
    default:
      return null;
  }
}

/** `count` times after `last`, one step of `f` apart (business days skip weekends; months keep the day of month). */
export function nextTimes(last: number, f: Frequency, count: number, fallbackStepMs: number): number[] {
  const out: number[] = [];
  let t = last;
  for (let i = 0; i < count; i++) {
    if (f.kind === 'business-day') {
      do t += DAY;
      while ([0, 6].includes(new Date(t).getUTCDay()));
    } else if (f.kind === 'month' || f.kind === 'quarter' || f.kind === 'year') {
      const d = new Date(t);
      const months = f.kind === 'month' ? 1 : f.kind === 'quarter' ? 3 : 12;
      const base = new Date(last);
      const k = (i + 1) * months;
      const y = base.getUTCFullYear(), m = base.getUTCMonth() + k;
      const day = Math.min(base.getUTCDate(), daysIn(y + Math.floor(m / 12), (m % 12) + 1));
      d.setUTCFullYear(y + Math.floor(m / 12), m % 12, day);
      t = d.getTime();
    } else {
      t += f.stepMs || fallbackStepMs;
    }
    out.push(t);
  }
  return out;
}

// ------------------------------------------------------------------ formatting

const pad = (v: number, n = 2) => String(v).padStart(n, '0');

/** True when every time is midnight UTC (dates without a time of day). */
export function dateOnly(times: ArrayLike<number>): boolean {
  const n = times.length;
  const step = Math.max(1, Math.floor(n / 2000));
  for (let i = 0; i < n; i += step) if (times[i]! % DAY !== 0) return false;
  return n === 0 || times[n - 1]! % DAY === 0;
}

/** ISO 8601 without a zone (naive, like the file's): `2015-03-05` or `2015-03-05T14:00:00`. */
export function isoDate(t: number, withTime: boolean): string {
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const date = `${y < 0 ? '-' : ''}${pad(Math.abs(y), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (!withTime) return date;
  const s = d.getUTCSeconds(), ms = d.getUTCMilliseconds();
  return `${date}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(s)}${ms ? `.${pad(ms, 3)}` : ''}`;
}

/** A date as precise as the series' frequency: `1880` (yearly), `2015-03` (monthly, quarterly), else {@link shortDate}. */
export function dateFor(t: number, f: Frequency | null, withTime: boolean): string {
  if (f?.kind === 'year') return isoDate(t, false).slice(0, 4);
  if (f?.kind === 'month' || f?.kind === 'quarter') return isoDate(t, false).slice(0, 7);
  return shortDate(t, withTime);
}

/** A short human date for notes: `2015-03-05` or `2015-03-05 14:00`. */
export function shortDate(t: number, withTime: boolean): string {
  return withTime ? isoDate(t, true).replace('T', ' ').replace(/:00(\.000)?$/, '') : isoDate(t, false);
}
