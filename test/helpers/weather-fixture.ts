/**
 * A small `weather-denmark.tar.gz` in the identical format of the Hvass-Labs archive: a real
 * gzip (Node's zlib) of a ustar tar (hand-written below) holding `weather-denmark.pkl` (dummy
 * bytes) and `weather-denmark.csv` (header `City,DateTime,Temp,Pressure,WindSpeed,WindDir`,
 * pandas formatting, rows grouped by city and sorted by time).
 *
 * Data, 2016-12-30 00:20 .. 2017-01-02 ~11:50 (crosses a leap-year end: Dec 31 is day 366),
 * observations at :20 and :50 of every hour, with t = minutes since 2016-12-30 00:00:
 *   Temp      = TEMP_BASE[city] + t/200     (→ +0.3 per hour)
 *   Pressure  = 1000 + 2·cityIndex + t/1000 (→ +0.06 per hour)
 *   WindDir   = 100 + 10·cityIndex + t/100  (→ +0.6 per hour)
 *   WindSpeed = 2 at :20, 5 at :50          (Esbjerg: 3 always)
 * so the linear signals on the hourly grid follow the same formulas exactly, and WindSpeed at a
 * full hour between a :50 and a :20 observation is 5 + (2 − 5)·10/30 = 4. The irregularities,
 * and what they do to the result (worked out by hand in the comments of `EXPECTED`):
 * - Aalborg: an all-NA row (`999.0,9999.9,999.9,999`) at 12-29 23:50; extra observations at
 *   12-30 06:00 (WindSpeed 10) and 07:05 (WindSpeed 8); WindDir empty before 12-30 03:50;
 *   WindDir `999` at 12-31 12:20.
 * - Aarhus: starts 12-30 02:50; Temp empty at 12-31 03:20.
 * - Esbjerg: starts 12-30 01:20, last observation 01-02 11:20; Pressure only from 12-31 00:20.
 * - Odense: no observations 12-31 10:50 .. 13:20 (gap from 10:20 to 13:50); Temp `999` at
 *   01-01 05:20, Pressure `9999.9` at 01-01 05:50, WindSpeed `999.9` at 01-01 08:50; last real
 *   observation 01-02 10:50, then an all-NA row at 12:20 and an all-empty row at 13:20.
 * - Roskilde: starts 12-30 01:50; no observations 12-30 20:20 .. 21:50 (gap 19:50 → 22:20);
 *   Pressure only at :50 of 12-31 00..05.
 */
import { gzipSync } from 'node:zlib';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const FIXTURE_CITIES = ['Aalborg', 'Aarhus', 'Esbjerg', 'Odense', 'Roskilde'] as const;
type City = (typeof FIXTURE_CITIES)[number];

const T0 = Date.UTC(2016, 11, 30, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const TEMP_BASE: Record<City, number> = { Aalborg: 1, Aarhus: 2, Esbjerg: 3, Odense: 4, Roskilde: 5 };

/** ms of a fixture time `'MM-DD HH:MM'` (12-xx → 2016, 01-xx → 2017). */
export function at(s: string): number {
  const m = /^(\d\d)-(\d\d) (\d\d):(\d\d)$/.exec(s);
  if (!m) throw new Error(`at: bad time ${s}`);
  const month = Number(m[1]);
  return Date.UTC(month === 12 ? 2016 : 2017, month - 1, Number(m[2]), Number(m[3]), Number(m[4]));
}

/** Value of a linear signal at time t (ms) for a city: the formulas of the file header. */
export function linearSignal(city: City, signal: 'Temp' | 'Pressure' | 'WindDir', t: number): number {
  const minutes = (t - T0) / MIN;
  const ci = FIXTURE_CITIES.indexOf(city);
  switch (signal) {
    case 'Temp':
      return TEMP_BASE[city] + minutes / 200;
    case 'Pressure':
      return 1000 + 2 * ci + minutes / 1000;
    case 'WindDir':
      return 100 + 10 * ci + minutes / 100;
  }
}

/** pandas' float formatting: shortest repr, integers with `.0`. */
function num(x: number): string {
  const r = Number(x.toFixed(6));
  return Number.isInteger(r) ? `${r}.0` : String(r);
}

function stamp(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

type Cell = number | string; // string: written verbatim ('' = missing, '999' = NA marker)
interface Obs {
  t: number;
  cells: [Cell, Cell, Cell, Cell];
}

function regular(city: City, from: string, to: string, skip: (t: number) => boolean = () => false): Obs[] {
  const out: Obs[] = [];
  for (let t = at(from); t <= at(to); t += 30 * MIN) {
    if (skip(t)) continue;
    const m = new Date(t).getUTCMinutes();
    const ws = city === 'Esbjerg' ? 3 : m === 20 ? 2 : 5;
    out.push({ t, cells: [linearSignal(city, 'Temp', t), linearSignal(city, 'Pressure', t), ws, linearSignal(city, 'WindDir', t)] });
  }
  return out;
}

function full(city: City, t: number, ws: number): Obs {
  return { t, cells: [linearSignal(city, 'Temp', t), linearSignal(city, 'Pressure', t), ws, linearSignal(city, 'WindDir', t)] };
}

function setCell(obs: Obs[], t: number, k: number, v: Cell): void {
  const o = obs.find((x) => x.t === t);
  if (!o) throw new Error(`fixture: no observation at ${stamp(t)}`);
  o.cells[k] = v;
}

function observations(): Record<City, Obs[]> {
  const inRange = (a: string, b: string) => (t: number) => t >= at(a) && t <= at(b);

  const aalborg = regular('Aalborg', '12-30 00:20', '01-02 11:50');
  aalborg.unshift({ t: at('12-29 23:50'), cells: ['999.0', '9999.9', '999.9', '999'] });
  aalborg.push(full('Aalborg', at('12-30 06:00'), 10), full('Aalborg', at('12-30 07:05'), 8));
  for (const o of aalborg) if (o.t < at('12-30 03:50') && typeof o.cells[0] === 'number') o.cells[3] = '';
  setCell(aalborg, at('12-31 12:20'), 3, '999');
  aalborg.sort((a, b) => a.t - b.t);

  const aarhus = regular('Aarhus', '12-30 02:50', '01-02 11:50');
  setCell(aarhus, at('12-31 03:20'), 0, '');

  const esbjerg = regular('Esbjerg', '12-30 01:20', '01-02 11:20');
  for (const o of esbjerg) if (o.t < at('12-31 00:20')) o.cells[1] = '';

  const odense = regular('Odense', '12-30 00:20', '01-02 10:50', inRange('12-31 10:50', '12-31 13:20'));
  setCell(odense, at('01-01 05:20'), 0, '999');
  setCell(odense, at('01-01 05:50'), 1, '9999.9');
  setCell(odense, at('01-01 08:50'), 2, '999.9');
  odense.push({ t: at('01-02 12:20'), cells: ['999', '9999.9', '999.9', '999'] }, { t: at('01-02 13:20'), cells: ['', '', '', ''] });

  const roskilde = regular('Roskilde', '12-30 01:50', '01-02 11:50', inRange('12-30 20:20', '12-30 21:50'));
  for (const o of roskilde) {
    const keep = o.t >= at('12-31 00:50') && o.t <= at('12-31 05:50') && new Date(o.t).getUTCMinutes() === 50;
    if (!keep) o.cells[1] = '';
  }
  return { Aalborg: aalborg, Aarhus: aarhus, Esbjerg: esbjerg, Odense: odense, Roskilde: roskilde };
}

/** The fixture's `weather-denmark.csv` text (LF line ends, as pandas writes on Linux). */
export function fixtureCsv(): string {
  const obs = observations();
  const lines = ['City,DateTime,Temp,Pressure,WindSpeed,WindDir'];
  for (const c of FIXTURE_CITIES) {
    for (const o of obs[c]) lines.push([c, stamp(o.t), ...o.cells.map((v) => (typeof v === 'number' ? num(v) : v))].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Hand-derived expectations for the fixture. */
export const EXPECTED = {
  /** Data records in the CSV: see `recordCount()`; 12 NA-marker values (4 + 1 + 3 + 4). */
  naValues: 12,
  /** Aalborg 12-29 23:50, Odense 01-02 12:20 and 13:20. */
  droppedEmptyRows: 3,
  /**
   * Hourly rows per station: first full hour after its first observation .. hour of its last.
   * Aalborg 12-30 01:00..01-02 11:00 = 82 h → 83; Aarhus 03:00..11:00 → 81; Esbjerg
   * 02:00..11:00 → 82; Odense 01:00..01-02 10:00 → 82; Roskilde 02:00..11:00 → 82.
   */
  hoursPerCity: { Aalborg: 83, Aarhus: 81, Esbjerg: 82, Odense: 82, Roskilde: 82 },
  /** Inner join: 12-30 03:00 (Aarhus) .. 01-02 10:00 (Odense) = 79 h → 80 rows. */
  rowsJoined: 80,
  /** 12-30 03:00 has no Aalborg WindDir yet (its first one is at 03:50) → dropped. */
  droppedIncomplete: 1,
  rows: 79,
  firstTime: Date.UTC(2016, 11, 30, 4),
  lastTime: Date.UTC(2017, 0, 2, 10),
  /** After the 24 h shift: 79 − 24 = 55 samples; train = trunc(0.9 · 55) = 49, test 6. */
  samples: 55,
  numTrain: 49,
  numTest: 6,
  /** WindSpeed values at full hours, worked out by hand: [city, 'MM-DD HH:MM', value]. */
  windSpeed: [
    ['Aalborg', '12-30 05:00', 4], // 04:50 → 5, 05:20 → 2: 5 − 3·10/30
    ['Aalborg', '12-30 06:00', 10], // observation exactly on the hour
    ['Aalborg', '12-30 07:00', 7], // 06:50 → 5, 07:05 → 8: 5 + 3·10/15
    ['Aalborg', '12-30 08:00', 4],
    ['Odense', '12-31 10:00', 4],
    ['Odense', '12-31 11:00', 2 + (3 * 40) / 210], // gap 10:20 → 2 .. 13:50 → 5 (210 min)
    ['Odense', '12-31 12:00', 2 + (3 * 100) / 210],
    ['Odense', '12-31 13:00', 2 + (3 * 160) / 210],
    ['Odense', '12-31 14:00', 4],
    ['Odense', '01-01 08:00', 4],
    ['Odense', '01-01 09:00', 2], // 08:50 is 999.9 (NA): 08:20 → 2 .. 09:20 → 2
    ['Roskilde', '12-30 20:00', 4.8], // gap 19:50 → 5 .. 22:20 → 2 (150 min): 5 − 3·10/150
    ['Roskilde', '12-30 21:00', 3.6], // 5 − 3·70/150
    ['Roskilde', '12-30 22:00', 2.4], // 5 − 3·130/150
    ['Esbjerg', '12-31 12:00', 3],
  ] as [City, string, number][],
  /** Day of year: 2016-12-30 → 365, 12-31 → 366 (leap year), 2017-01-01 → 1, 01-02 → 2. */
  dayOfYear: [
    ['12-30 04:00', 365],
    ['12-31 23:00', 366],
    ['01-01 00:00', 1],
    ['01-02 10:00', 2],
  ] as [string, number][],
} as const;

/** Number of data records in the fixture CSV. */
export function recordCount(): number {
  return Object.values(observations()).reduce((a, o) => a + o.length, 0);
}

// ---------------------------------------------------------------------------------------------
// tar writer (ustar)

function writeString(h: Uint8Array, off: number, len: number, s: string): void {
  const b = new TextEncoder().encode(s);
  if (b.length > len) throw new Error(`tar: field too long: ${s}`);
  h.set(b, off);
}

function writeOctal(h: Uint8Array, off: number, len: number, v: number): void {
  writeString(h, off, len, `${v.toString(8).padStart(len - 1, '0')}\0`);
}

/** A ustar archive of regular files (with the two zero end blocks). */
export function makeTar(files: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const h = new Uint8Array(512);
    writeString(h, 0, 100, f.name);
    writeOctal(h, 100, 8, 0o644);
    writeOctal(h, 108, 8, 1000);
    writeOctal(h, 116, 8, 1000);
    writeOctal(h, 124, 12, f.data.length);
    writeOctal(h, 136, 12, 1519948800); // 2018-03-02
    h[156] = '0'.charCodeAt(0);
    writeString(h, 257, 6, 'ustar\0');
    writeString(h, 263, 2, '00');
    writeString(h, 265, 32, 'magnus');
    writeString(h, 297, 32, 'magnus');
    h.fill(32, 148, 156); // checksum field counts as spaces
    const sum = h.reduce((a, b) => a + b, 0);
    writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
    parts.push(h, f.data, new Uint8Array((512 - (f.data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** gzip with Node's zlib. */
export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** The fixture archive in memory: `.tar.gz` bytes, the tar and the CSV text. */
export function fixtureArchive(csv = fixtureCsv()): { targz: Uint8Array; tar: Uint8Array; csv: string } {
  const pkl = new Uint8Array(700).map((_, i) => (i * 37) & 0xff); // stands in for weather-denmark.pkl
  const tar = makeTar([
    { name: 'weather-denmark.pkl', data: pkl },
    { name: 'weather-denmark.csv', data: new TextEncoder().encode(csv) },
  ]);
  return { targz: gzip(tar), tar, csv };
}

/** Writes `weather-denmark.tar.gz` into `dir` (created) and returns its path and bytes. */
export async function writeWeatherFixture(dir: string): Promise<{ path: string; targz: Uint8Array; csv: string }> {
  const a = fixtureArchive();
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'weather-denmark.tar.gz');
  await writeFile(path, a.targz);
  return { path, targz: a.targz, csv: a.csv };
}

export { HOUR };
