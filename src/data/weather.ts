/**
 * The Danish weather data set of Hvass-Labs TensorFlow tutorial #23 (time-series prediction):
 * download + cache of `weather-denmark.tar.gz`, gzip/tar extraction of `weather-denmark.csv`,
 * the lesson's resampling to an hourly grid, the inner join of the 5 stations, the 20 input
 * columns, the 24-hour-ahead task with min-max scaling, the random sub-sequence batches, the
 * warm-up-excluded MSE and a persistence ("tomorrow = today") baseline.
 * Spec: docs/reference-results.md §3 (shared docs).
 *
 * Browser-safe: everything except {@link downloadWeatherDenmark} and the path form of
 * {@link loadWeatherDenmark} is pure. Node modules (`node:fs`, `node:zlib`, `node:crypto`) are
 * loaded lazily through a variable specifier, so bundlers never pull them in; in a browser,
 * gunzip uses `DecompressionStream`.
 */
import type { HostTensor } from '../host';
import { forEachCsvRecord, parseNumberField, requireColumns, CsvError } from './csv';
import { MinMaxScaler, maeRmse, randomSubsequences, rowsView, selectColumns, warmupMse, type SubsequenceBatch, type SubsequenceOptions } from './windows';

export { MinMaxScaler, randomSubsequences, warmupMse, randint } from './windows';
export type { SubsequenceOptions, SubsequenceBatch } from './windows';

// ---------------------------------------------------------------------------------------------
// Constants of the lesson

/** Where the lesson's `weather.py` downloads the archive (about 35 MB, non-commercial licence). */
export const WEATHER_DENMARK_URL = 'https://github.com/Hvass-Labs/weather-denmark/raw/master/weather-denmark.tar.gz';
/** File name of the archive in the cache directory. */
export const WEATHER_DENMARK_ARCHIVE = 'weather-denmark.tar.gz';
/** The CSV entry inside the archive (the cleaned, not yet resampled observations). */
export const WEATHER_DENMARK_CSV = 'weather-denmark.csv';
/** The 5 stations, in the lesson's order. */
export const CITIES = ['Aalborg', 'Aarhus', 'Esbjerg', 'Odense', 'Roskilde'] as const;
/** A station name. */
export type City = (typeof CITIES)[number];
/** Measured signals per station, in CSV (and join) order. */
export const SIGNALS = ['Temp', 'Pressure', 'WindSpeed', 'WindDir'] as const;
/** The CSV header columns the loader needs. */
export const CSV_COLUMNS = ['City', 'DateTime', ...SIGNALS] as const;
/** NCDC "not available" markers (`999, 999.0, 999.9, 9999.9`), matched numerically like pandas' `na_values`. */
export const NA_MARKERS: readonly number[] = [999, 999.9, 9999.9];
/** Columns the lesson drops after the join (long gaps): `('Esbjerg','Pressure')`, `('Roskilde','Pressure')`. */
export const DROPPED_COLUMNS = ['Esbjerg.Pressure', 'Roskilde.Pressure'] as const;
/**
 * The 20 input columns in the lesson's order (§3.1): `City.Signal` for the 18 kept station
 * columns, then `Various.Day` (day of year 1–366) and `Various.Hour` (0–23).
 */
export const WEATHER_COLUMNS: readonly string[] = [
  ...CITIES.flatMap((c) => SIGNALS.map((s) => `${c}.${s}`)).filter((n) => !(DROPPED_COLUMNS as readonly string[]).includes(n)),
  'Various.Day',
  'Various.Hour',
];
/** The lesson's targets: Odense `['Temp', 'WindSpeed', 'Pressure']`, in this order. */
export const TARGET_COLUMNS: readonly string[] = ['Odense.Temp', 'Odense.WindSpeed', 'Odense.Pressure'];
/** Units of {@link TARGET_COLUMNS}, for reports. */
export const TARGET_UNITS: readonly string[] = ['°C', 'm/s', 'hPa'];
/** Forecast horizon of the lesson: 24 hourly steps. */
export const SHIFT_STEPS = 24;
/** The lesson's loss ignores the first 50 time steps of every sequence (`warmup_steps`). */
export const WARMUP_STEPS = 50;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const NS = SIGNALS.length;

// ---------------------------------------------------------------------------------------------
// Node-only helpers (lazy, invisible to bundlers)

type NodeFs = typeof import('node:fs/promises');
type NodeZlib = typeof import('node:zlib');
type NodeCrypto = typeof import('node:crypto');
type NodePath = typeof import('node:path');

function isNode(): boolean {
  return !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
}

async function nodeImport<T>(name: string, what: string): Promise<T> {
  if (!isNode()) throw new Error(`${what} needs Node.js (${name}); in a browser pass the archive bytes instead`);
  return (await import(/* @vite-ignore */ name)) as T;
}

function errMsg(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const c = cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : '';
    return c && !e.message.includes(c) ? `${e.message}: ${c}` : e.message;
  }
  return String(e);
}

// ---------------------------------------------------------------------------------------------
// gzip + tar

/**
 * Decompresses gzip data (all members). Node: `zlib.gunzipSync`; browser: `DecompressionStream`.
 * @param source name used in error messages.
 * @param impl force one implementation (`'stream'` = `DecompressionStream`, also in Node 18+).
 * @throws a clear error for a non-gzip input and for a truncated or corrupt stream.
 */
export async function gunzip(bytes: Uint8Array, source = '<gzip>', impl: 'auto' | 'zlib' | 'stream' = 'auto'): Promise<Uint8Array> {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new Error(`${source}: not a gzip file (${bytes.length < 2 ? 'too short' : 'bad magic bytes'})`);
  }
  if (impl === 'zlib' || (impl === 'auto' && isNode())) {
    const zlib = await nodeImport<NodeZlib>('node:zlib', 'gunzip');
    try {
      const out = zlib.gunzipSync(bytes);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      const m = errMsg(e);
      throw new Error(`${source}: ${/unexpected end/i.test(m) ? 'truncated gzip stream' : 'corrupt gzip stream'} (${m})`);
    }
  }
  try {
    const ds = new DecompressionStream('gzip');
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(ds);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${source}: truncated or corrupt gzip stream (${errMsg(e)})`);
  }
}

/** One entry of a tar archive. */
export interface TarEntry {
  /** Full path (ustar prefix, GNU long name and pax `path` applied). */
  readonly name: string;
  /** Type flag: `'0'` regular file, `'5'` directory, … */
  readonly type: string;
  readonly size: number;
  /** Byte offset of the data in the archive. */
  readonly offset: number;
}

function cstr(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(start, end));
}

function octal(b: Uint8Array, start: number, len: number, what: string): number {
  if (b[start]! & 0x80) {
    // GNU base-256 (large files).
    let v = b[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`bad ${what} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

/**
 * Lists the entries of an (uncompressed) tar archive: ustar, GNU long names (`L`) and pax
 * headers (`x`: `path`, `size`) are understood.
 * @param source name used in error messages.
 * @throws on a bad header checksum, a header or data running past the end (truncated archive).
 */
export function listTar(tar: Uint8Array, source = '<tar>'): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | null = null;
  let pax: Record<string, string> = {};
  for (;;) {
    if (off === tar.length) break; // no end-of-archive blocks: tolerated when nothing is cut
    if (off + 512 > tar.length) {
      if (off === 0) throw new Error(`${source}: not a tar archive (${tar.length} bytes, less than one header)`);
      throw new Error(`${source}: truncated tar archive (a ${tar.length - off}-byte partial header at byte ${off})`);
    }
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break; // end-of-archive marker
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    let stored: number;
    let size: number;
    try {
      stored = octal(h, 148, 8, 'checksum');
      size = octal(h, 124, 12, 'size');
    } catch (e) {
      throw new Error(`${source}: not a tar archive or corrupt header at byte ${off} (${(e as Error).message})`);
    }
    if (stored !== sum) throw new Error(`${source}: not a tar archive or corrupt header at byte ${off} (checksum ${stored} ≠ ${sum})`);
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    if (pax.size !== undefined && type !== 'x' && type !== 'g' && type !== 'L') size = Number(pax.size); // pax overrides the size field
    const dataOff = off + 512;
    if (dataOff + size > tar.length) {
      const nm = longName ?? pax.path ?? cstr(h, 0, 100);
      throw new Error(`${source}: truncated tar archive: entry ${JSON.stringify(nm)} needs ${size} bytes at byte ${dataOff} but the archive ends at ${tar.length}`);
    }
    const data = tar.subarray(dataOff, dataOff + size);
    if (type === 'L') {
      longName = cstr(data, 0, data.length);
    } else if (type === 'x') {
      pax = parsePax(data);
    } else if (type !== 'g') {
      const magic = cstr(h, 257, 6);
      const prefix = magic.startsWith('ustar') ? cstr(h, 345, 155) : '';
      const base = cstr(h, 0, 100);
      const name = pax.path ?? longName ?? (prefix ? `${prefix}/${base}` : base);
      entries.push({ name, type, size, offset: dataOff });
      longName = null;
      pax = {};
    }
    off = dataOff + Math.ceil(size / 512) * 512;
    if (off > tar.length) off = tar.length; // last data block without padding
  }
  return entries;
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = new TextDecoder().decode(data);
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(' ', i);
    if (sp < 0) break;
    const len = parseInt(text.slice(i, sp), 10);
    if (!(len > 0)) break;
    const rec = text.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * The data of the regular file whose base name is `baseName` (e.g. `./weather-denmark.csv`
 * matches `weather-denmark.csv`), as a view into `tar`.
 * @throws when there is no such entry (the message lists the entries found).
 */
export function extractTarFile(tar: Uint8Array, baseName: string, source = '<tar>'): Uint8Array {
  const entries = listTar(tar, source);
  const hit = entries.find((e) => (e.type === '0' || e.type === '7') && (e.name.split('/').pop() ?? '') === baseName);
  if (!hit) {
    const names = entries.map((e) => e.name);
    throw new Error(`${source}: no entry ${JSON.stringify(baseName)} in the archive (found ${names.length ? names.join(', ') : 'no entries'})`);
  }
  return tar.subarray(hit.offset, hit.offset + hit.size);
}

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
 * The text of `weather-denmark.csv` from a `.tar.gz` (or `.tar`) archive, or the bytes of the
 * CSV itself.
 * @param source name for error messages.
 * @throws clear errors for non-gzip/tar/CSV input, truncated or corrupt archives and a missing entry.
 */
export async function extractWeatherCsv(bytes: Uint8Array, source = WEATHER_DENMARK_ARCHIVE): Promise<string> {
  let tar = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    tar = await gunzip(bytes, source);
  } else {
    const head = new TextDecoder().decode(bytes.subarray(0, 8)).replace(/^\uFEFF/, '');
    if (head.startsWith('City')) return new TextDecoder().decode(bytes);
    const magic = bytes.length >= 262 ? new TextDecoder().decode(bytes.subarray(257, 262)) : '';
    if (magic !== 'ustar') throw new Error(`${source}: not a .tar.gz, .tar or CSV file (${bytes.length} bytes, unknown format)`);
  }
  const csv = extractTarFile(tar, WEATHER_DENMARK_CSV, source);
  return new TextDecoder().decode(csv);
}

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

/** The subset of the Fetch API `Response` the downloader uses. */
export interface FetchResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `fetch`-compatible function (the global `fetch` fits). */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<FetchResponseLike>;

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes received so far. */
  readonly bytes: number;
  /** Expected size from `Content-Length`, when the server sends it. */
  readonly total?: number;
}

/** Options of {@link downloadWeatherDenmark}. */
export interface DownloadOptions {
  /** Directory of the cached archive (created if missing). */
  readonly cacheDir: string;
  /** Source URL; default {@link WEATHER_DENMARK_URL}. */
  readonly url?: string;
  /** Fetch implementation; default the global `fetch`. Inject one for tests or proxies. */
  readonly fetch?: FetchLike;
  /** Called after every received chunk. */
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Expected SHA-256 of the archive (hex); checked on download and on a cached file. */
  readonly expectedSha256?: string;
  /** Download again even when the archive is cached. */
  readonly force?: boolean;
  /** Aborts the download. */
  readonly signal?: AbortSignal;
}

/** Result of {@link downloadWeatherDenmark}. */
export interface DownloadResult {
  /** Path of the verified archive, `<cacheDir>/weather-denmark.tar.gz`. */
  readonly path: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Its SHA-256 (hex). */
  readonly sha256: string;
  /** True when the cached file was used and nothing was downloaded. */
  readonly cached: boolean;
}

/**
 * Downloads `weather-denmark.tar.gz` into `cacheDir` (Node only): streams to
 * `<cacheDir>/weather-denmark.tar.gz.part`, checks the size against `Content-Length`, the SHA-256
 * when `expectedSha256` is given, and the gzip/tar structure (the archive must hold
 * `weather-denmark.csv` with the expected header), then renames it atomically to
 * `weather-denmark.tar.gz`. On any failure the partial file is deleted and a clear error is
 * thrown (`offline: could not reach <url> …` when the network is unreachable). A cached archive
 * is reused (and re-downloaded if it fails `expectedSha256`).
 */
export async function downloadWeatherDenmark(opts: DownloadOptions): Promise<DownloadResult> {
  const what = 'downloadWeatherDenmark';
  const fs = await nodeImport<NodeFs>('node:fs/promises', what);
  const path = await nodeImport<NodePath>('node:path', what);
  const crypto = await nodeImport<NodeCrypto>('node:crypto', what);
  const url = opts.url ?? WEATHER_DENMARK_URL;
  const expected = opts.expectedSha256?.trim().toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new Error(`${what}: expectedSha256 must be 64 hex digits, got ${JSON.stringify(opts.expectedSha256)}`);
  }
  const final = path.join(opts.cacheDir, WEATHER_DENMARK_ARCHIVE);
  const part = `${final}.part`;
  await fs.mkdir(opts.cacheDir, { recursive: true });

  if (!opts.force) {
    const data = await fs.readFile(final).catch(() => null);
    if (data) {
      const sha = crypto.createHash('sha256').update(data).digest('hex');
      if (expected === undefined || sha === expected) return { path: final, bytes: data.length, sha256: sha, cached: true };
    }
  }

  const fetchFn: FetchLike | undefined = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (!fetchFn) throw new Error(`${what}: no fetch() available; pass opts.fetch`);
  let file: Awaited<ReturnType<NodeFs['open']>> | null = null;
  try {
    await fs.rm(part, { force: true });
    let res: FetchResponseLike;
    try {
      res = await fetchFn(url, opts.signal ? { signal: opts.signal } : undefined);
    } catch (e) {
      if (opts.signal?.aborted) throw new Error(`${what}: download of ${url} aborted`);
      throw new Error(`offline: could not reach ${url} (${errMsg(e)})`);
    }
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${res.statusText} from ${url}`);
    const len = Number(res.headers.get('content-length'));
    const total = Number.isFinite(len) && len > 0 ? len : undefined;
    const hash = crypto.createHash('sha256');
    file = await fs.open(part, 'w');
    let bytes = 0;
    const take = async (chunk: Uint8Array): Promise<void> => {
      for (let done = 0; done < chunk.length; ) done += (await file!.write(chunk, done, chunk.length - done)).bytesWritten;
      hash.update(chunk);
      bytes += chunk.length;
      opts.onProgress?.(total === undefined ? { bytes } : { bytes, total });
    };
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value?.length) await take(value);
        }
      } else {
        await take(new Uint8Array(await res.arrayBuffer()));
      }
    } catch (e) {
      if (opts.signal?.aborted) throw new Error(`${what}: download of ${url} aborted after ${bytes} bytes`);
      throw new Error(`${what}: download of ${url} interrupted after ${bytes} bytes (${errMsg(e)})`);
    }
    await file.close();
    file = null;
    if (total !== undefined && bytes !== total) throw new Error(`${what}: incomplete download of ${url}: got ${bytes} of ${total} bytes`);
    const sha = hash.digest('hex');
    if (expected !== undefined && sha !== expected) throw new Error(`${what}: checksum mismatch for ${url}: expected sha256 ${expected}, got ${sha}`);
    // Structure: gzip → tar → weather-denmark.csv with the expected header.
    const tar = await gunzip(new Uint8Array(await fs.readFile(part)), `${url} (downloaded)`);
    const csv = extractTarFile(tar, WEATHER_DENMARK_CSV, `${url} (downloaded)`);
    const firstLine = new TextDecoder().decode(csv.subarray(0, 512)).split(/\r?\n/)[0] ?? '';
    requireColumns(firstLine.replace(/^\uFEFF/, '').split(',').map((s) => s.trim()), CSV_COLUMNS, `${url} (downloaded)/${WEATHER_DENMARK_CSV}`);
    await fs.rename(part, final);
    return { path: final, bytes, sha256: sha, cached: false };
  } catch (e) {
    await file?.close().catch(() => undefined);
    await fs.rm(part, { force: true }).catch(() => undefined);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The task

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
  readonly inputColumns: readonly string[];
  readonly targetColumns: readonly string[];
  /** Input column holding the current value of each target (for persistence forecasts). */
  readonly targetInputIndex: readonly number[];
  readonly shiftSteps: number;
  readonly numTrain: number;
  readonly numTest: number;
  /** Time of each input row (`numTrain + numTest`); the target of row i is at `times[i] + shift` hours. */
  readonly times: Float64Array;
  /** Unscaled `x_data` `[N − shift, 20]` (a view of the table) and `y_data` `[N − shift, 3]`. */
  readonly raw: { readonly x: HostTensor; readonly y: HostTensor };
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
  readonly signals: readonly string[];
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
