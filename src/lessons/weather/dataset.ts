/**
 * The Danish weather lesson's data set: parsing `weather-denmark.csv` (NA markers, all-missing
 * rows, duplicate times), the lesson's resampling of every station to an hourly grid, the inner
 * join of the 5 stations, the dropped columns and the day/hour columns → the `[N, 20]` table;
 * {@link loadWeatherDenmark} goes from the archive (path or bytes) to that table.
 * Pure except the path form of {@link loadWeatherDenmark} (Node only).
 */
import type { HostTensor } from '../../host';
import { forEachCsvRecord, parseNumberField, requireColumns, CsvError } from '../../data/csv';
import { CITIES, CSV_COLUMNS, DROPPED_COLUMNS, NA_MARKERS, SIGNALS, WEATHER_COLUMNS, WEATHER_DENMARK_ARCHIVE, WEATHER_DENMARK_CSV, type City } from './constants';
import { errMsg, extractWeatherCsv, nodeImport, type NodeFs } from './archive';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const NS = SIGNALS.length;

// ---------------------------------------------------------------------------------------------
// CSV → observations

/** Irregular observations of one station, sorted by time, all-missing rows removed. */
export interface CityObservations {
  /** Observation times, ms since the epoch (the CSV's naive timestamps read as UTC). */
  readonly times: Float64Array;
  /** `[n, 4]` row-major in {@link SIGNALS} order; `NaN` = missing (empty field or NA marker). */
  readonly values: Float64Array;
}

/** Result of {@link parseWeatherDenmarkCsv}. */
export interface WeatherObservations {
  /** Each city's observations. */
  readonly cities: Readonly<Record<City, CityObservations>>;
  /** Data records read. */
  readonly records: number;
  /** Values equal to an NA marker (turned into NaN). */
  readonly naValues: number;
  /** Records whose 4 values were all missing (dropped, as the lesson's `dropna(how='all')`). */
  readonly droppedEmptyRows: number;
  /** Records with the same station and time as an earlier one (merged: first non-missing value per signal). */
  readonly duplicateTimes: number;
}

let lastDay = '';
let lastDayMs = Number.NaN;

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses a timestamp `YYYY-MM-DD HH:MM[:SS[.fff]]` (pandas' CSV format; `T` also accepted) as UTC.
 * @returns ms since the epoch, or NaN when malformed.
 */
export function parseDateTime(text: string): number {
  const s = text.length && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32) ? text.trim() : text;
  const n = s.length;
  if (n < 16 || (s[10] !== ' ' && s[10] !== 'T') || s[13] !== ':') return Number.NaN;
  // The date part repeats across consecutive rows: cache its value.
  const day = s.slice(0, 10);
  if (day !== lastDay) {
    const y = digits(s, 0, 4);
    const mo = digits(s, 5, 2);
    const d = digits(s, 8, 2);
    if (s[4] !== '-' || s[7] !== '-' || !(mo >= 1 && mo <= 12 && d >= 1)) return Number.NaN;
    const t = Date.UTC(y, mo - 1, d);
    if (new Date(t).getUTCDate() !== d) return Number.NaN; // e.g. 02-30
    lastDay = day;
    lastDayMs = t;
  }
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  let se = 0;
  if (n > 16) {
    if (s[16] !== ':' || n < 19) return Number.NaN;
    se = digits(s, 17, 2);
    if (n > 19 && (s[19] !== '.' || !/^\d*$/.test(s.slice(20)))) return Number.NaN;
  }
  if (!(h <= 23 && mi <= 59 && se <= 59)) return Number.NaN; // also rejects NaN
  return lastDayMs + ((h * 60 + mi) * 60 + se) * 1000;
}

/**
 * Parses `weather-denmark.csv` (header `City,DateTime,Temp,Pressure,WindSpeed,WindDir`; extra
 * columns are ignored). NA markers ({@link NA_MARKERS}) and empty fields become NaN; rows with
 * all 4 values missing are dropped; rows are sorted by time per station.
 * @param source file name for error messages.
 * @throws {CsvError} naming the line (and column) of a malformed record, an unknown station, a
 *   bad timestamp or a non-numeric value; an error when a station has no observation.
 */
export function parseWeatherDenmarkCsv(text: string, source = WEATHER_DENMARK_CSV): WeatherObservations {
  const times = new Map<string, number[]>(CITIES.map((c) => [c, []]));
  const vals = new Map<string, number[]>(CITIES.map((c) => [c, []]));
  let idx: number[] = [];
  let naValues = 0;
  let droppedEmptyRows = 0;
  const row = new Float64Array(NS);
  const where = { source, line: 0, column: '' }; // reused: no allocation per value
  const { records } = forEachCsvRecord(
    text,
    (f, line) => {
      const city = f[idx[0]!]!.trim();
      const t = times.get(city);
      const v = vals.get(city);
      if (!t || !v) throw new CsvError(source, line, 0, `column "City": unknown station ${JSON.stringify(city)} (expected one of ${CITIES.join(', ')})`);
      const time = parseDateTime(f[idx[1]!]!);
      if (Number.isNaN(time)) {
        throw new CsvError(source, line, 0, `column "DateTime": ${JSON.stringify(f[idx[1]!])} is not a timestamp YYYY-MM-DD HH:MM[:SS]`);
      }
      let valid = 0;
      where.line = line;
      for (let k = 0; k < NS; k++) {
        where.column = SIGNALS[k]!;
        let x = parseNumberField(f[idx[2 + k]!]!, where);
        if (NA_MARKERS.includes(x)) {
          naValues++;
          x = Number.NaN;
        }
        if (!Number.isNaN(x)) valid++;
        row[k] = x;
      }
      if (valid === 0) {
        droppedEmptyRows++;
        return;
      }
      t.push(time);
      for (let k = 0; k < NS; k++) v.push(row[k]!);
    },
    { source, onHeader: (h) => (idx = requireColumns(h, CSV_COLUMNS, source)) },
  );

  let duplicateTimes = 0;
  const cities = {} as Record<City, CityObservations>;
  for (const c of CITIES) {
    const t = times.get(c)!;
    const v = vals.get(c)!;
    if (t.length === 0) throw new Error(`${source}: station ${c} has no observation (every station ${CITIES.join(', ')} is needed)`);
    // Sort by time (stable) when the file is not sorted, then merge equal times.
    let order: number[] | null = null;
    for (let i = 1; i < t.length; i++) {
      if (t[i]! < t[i - 1]!) {
        order = t.map((_, k) => k).sort((a, b) => t[a]! - t[b]! || a - b);
        break;
      }
    }
    const outT: number[] = [];
    const outV: number[] = [];
    for (let i = 0; i < t.length; i++) {
      const src = order ? order[i]! : i;
      const time = t[src]!;
      if (outT.length && outT[outT.length - 1] === time) {
        duplicateTimes++;
        const base = outV.length - NS;
        for (let k = 0; k < NS; k++) if (Number.isNaN(outV[base + k]!)) outV[base + k] = v[src * NS + k]!;
        continue;
      }
      outT.push(time);
      for (let k = 0; k < NS; k++) outV.push(v[src * NS + k]!);
    }
    cities[c] = { times: Float64Array.from(outT), values: Float64Array.from(outV) };
  }
  return { cities, records, naValues, droppedEmptyRows, duplicateTimes };
}

// ---------------------------------------------------------------------------------------------
// Resampling and join

/** One station on the hourly grid. */
export interface HourlySeries {
  /** Time of row 0 (a full hour, ms). */
  readonly start: number;
  /** Number of hourly rows. */
  readonly hours: number;
  /** `[hours, 4]` in {@link SIGNALS} order; NaN where a signal has no observation yet. */
  readonly values: Float64Array;
}

/**
 * The lesson's `_resample` for one station: the value of each signal at every full hour from
 * the hour of the first observation to the hour of the last, interpolated linearly in time
 * between that signal's surrounding observations (pandas `interpolate(method='time')`).
 * Before a signal's first observation: NaN; after its last one: its last value (pandas' forward
 * interpolation repeats it). Hours where every signal is NaN (only possible at the start) are
 * dropped (`dropna(how='all')`). The data's timestamps are whole minutes; an observation with
 * seconds is used at its exact time (pandas' 1-minute `asfreq` grid would skip it).
 * @param obs sorted observations without all-missing rows (see {@link parseWeatherDenmarkCsv}).
 */
export function resampleHourly(obs: CityObservations): HourlySeries {
  const { times, values } = obs;
  const n = times.length;
  if (n === 0 || values.length !== n * NS) throw new Error(`resampleHourly: need ≥ 1 observation with ${NS} values each, got ${n} times and ${values.length} values`);
  const first = times[0]!;
  const h0 = Math.floor(first / HOUR_MS) * HOUR_MS;
  const h1 = Math.floor(times[n - 1]! / HOUR_MS) * HOUR_MS;
  const H = Math.round((h1 - h0) / HOUR_MS) + 1;
  const out = new Float64Array(H * NS).fill(Number.NaN);
  for (let k = 0; k < NS; k++) {
    const nextKnot = (from: number): number => {
      for (let i = from; i < n; i++) if (!Number.isNaN(values[i * NS + k]!)) return i;
      return -1;
    };
    let prev = -1;
    let next = nextKnot(0);
    for (let h = 0; h < H; h++) {
      const t = h0 + h * HOUR_MS;
      if (t < first) continue; // the 1-minute grid starts at the first observation
      while (next >= 0 && times[next]! <= t) {
        prev = next;
        next = nextKnot(next + 1);
      }
      if (prev < 0) continue; // before this signal's first observation
      const t0 = times[prev]!;
      const y0 = values[prev * NS + k]!;
      if (next < 0 || t0 === t) {
        out[h * NS + k] = y0;
      } else {
        // np.interp: slope · (x − x0) + y0
        const slope = (values[next * NS + k]! - y0) / (times[next]! - t0);
        out[h * NS + k] = slope * (t - t0) + y0;
      }
    }
  }
  let skip = 0;
  while (skip < H && out.subarray(skip * NS, (skip + 1) * NS).every(Number.isNaN)) skip++;
  return { start: h0 + skip * HOUR_MS, hours: H - skip, values: out.subarray(skip * NS) };
}

/** Day of the year (1–366) of a UTC time in ms, as pandas' `index.dayofyear`. */
export function dayOfYear(t: number): number {
  const d = new Date(t);
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

/** Counts gathered while building a {@link WeatherTable}. */
export interface WeatherStats {
  /** Data records in the CSV. */
  readonly records: number;
  /** Values equal to an NA marker. */
  readonly naValues: number;
  /** CSV records with all 4 signals missing (dropped). */
  readonly droppedEmptyRows: number;
  /** CSV records repeating a station's timestamp (merged). */
  readonly duplicateTimes: number;
  /** Hourly rows per station after resampling. */
  readonly hoursPerCity: Readonly<Record<City, number>>;
  /** Rows of the inner join (what pandas' `concat(join='inner')` yields). */
  readonly rowsJoined: number;
  /**
   * Joined rows dropped because a kept column is still NaN there (a signal of some station
   * starts later than the join). The lesson keeps such rows as NaN; the real data has none.
   */
  readonly droppedIncomplete: number;
}

/** The hourly input table of the lesson. */
export interface WeatherTable {
  /** Time of each row, ms since the epoch (UTC), hourly. */
  readonly times: Float64Array;
  /** The 20 column names, {@link WEATHER_COLUMNS}. */
  readonly columns: readonly string[];
  /** `[N, 20]` row-major float32. */
  readonly values: Float32Array;
  /** How the rows came about. */
  readonly stats: WeatherStats;
}

/**
 * Resamples every station ({@link resampleHourly}), inner-joins them on time, drops
 * {@link DROPPED_COLUMNS} and appends day-of-year and hour → the 20 {@link WEATHER_COLUMNS}.
 * @throws when the stations share no hour.
 */
export function buildWeatherTable(obs: WeatherObservations): WeatherTable {
  const hourly = {} as Record<City, HourlySeries>;
  const hoursPerCity = {} as Record<City, number>;
  for (const c of CITIES) {
    hourly[c] = resampleHourly(obs.cities[c]);
    hoursPerCity[c] = hourly[c].hours;
  }
  const start = Math.max(...CITIES.map((c) => hourly[c].start));
  const end = Math.min(...CITIES.map((c) => hourly[c].start + (hourly[c].hours - 1) * HOUR_MS));
  if (end < start) {
    throw new Error(
      `buildWeatherTable: the stations share no hour (${CITIES.map((c) => `${c} ${iso(hourly[c].start)}..${iso(hourly[c].start + (hourly[c].hours - 1) * HOUR_MS)}`).join('; ')})`,
    );
  }
  const rowsJoined = Math.round((end - start) / HOUR_MS) + 1;
  const kept: { city: City; k: number }[] = [];
  for (const c of CITIES) {
    SIGNALS.forEach((s, k) => {
      if (!(DROPPED_COLUMNS as readonly string[]).includes(`${c}.${s}`)) kept.push({ city: c, k });
    });
  }
  const F = kept.length + 2;
  const values = new Float32Array(rowsJoined * F);
  const times = new Float64Array(rowsJoined);
  let N = 0;
  for (let r = 0; r < rowsJoined; r++) {
    const t = start + r * HOUR_MS;
    const o = N * F;
    let complete = true;
    for (let j = 0; j < kept.length; j++) {
      const { city, k } = kept[j]!;
      const s = hourly[city];
      const v = s.values[Math.round((t - s.start) / HOUR_MS) * NS + k]!;
      if (Number.isNaN(v)) complete = false;
      values[o + j] = v;
    }
    if (!complete) continue;
    values[o + kept.length] = dayOfYear(t);
    values[o + kept.length + 1] = new Date(t).getUTCHours();
    times[N++] = t;
  }
  if (N === 0) throw new Error('buildWeatherTable: no joined hour has every kept column');
  return {
    times: times.slice(0, N),
    columns: WEATHER_COLUMNS,
    values: values.slice(0, N * F),
    stats: {
      records: obs.records,
      naValues: obs.naValues,
      droppedEmptyRows: obs.droppedEmptyRows,
      duplicateTimes: obs.duplicateTimes,
      hoursPerCity,
      rowsJoined,
      droppedIncomplete: rowsJoined - N,
    },
  };
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** `[N, 20]` tensor view of a table's values. */
export function weatherTensor(table: WeatherTable): HostTensor {
  return { data: table.values, shape: [table.times.length, table.columns.length] };
}

// ---------------------------------------------------------------------------------------------
// Loading

/**
 * Loads the lesson's hourly table from the archive (a file path in Node, or its bytes anywhere):
 * gunzip + tar → `weather-denmark.csv` → {@link parseWeatherDenmarkCsv} → {@link buildWeatherTable}.
 * The full data set gives 333,109 rows from 1980-03-01 11:00 to 2018-03-01 23:00 (§3.1).
 * @param src path to `weather-denmark.tar.gz` (Node only; a `.tar` or the `.csv` also work) or its bytes.
 * @param opts `source`: name used in error messages for byte input.
 */
export async function loadWeatherDenmark(src: string | Uint8Array, opts: { source?: string } = {}): Promise<WeatherTable> {
  let bytes: Uint8Array;
  let source: string;
  if (typeof src === 'string') {
    const fs = await nodeImport<NodeFs>('node:fs/promises', 'loadWeatherDenmark(path)');
    try {
      bytes = new Uint8Array(await fs.readFile(src));
    } catch (e) {
      throw new Error(`loadWeatherDenmark: cannot read ${src}: ${errMsg(e)}`);
    }
    source = src;
  } else {
    bytes = src;
    source = opts.source ?? WEATHER_DENMARK_ARCHIVE;
  }
  const text = await extractWeatherCsv(bytes, source);
  const csvSource = source.endsWith('.csv') ? source : `${source}/${WEATHER_DENMARK_CSV}`;
  return buildWeatherTable(parseWeatherDenmarkCsv(text, csvSource));
}
