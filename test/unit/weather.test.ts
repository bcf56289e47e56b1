// The Danish weather lesson's data pipeline (shared docs/reference-results.md §3) on a small
// fixture archive in the identical format (test/helpers/weather-fixture.ts): CSV parser, gzip/tar
// extraction, hourly resampling, inner join, the 24 h task, scaling, sub-sequence batches, the
// warm-up MSE, the persistence baseline, and clear errors for bad archives and downloads.
// Cross-check: pandas 1.5.3 running the lesson's `_resample` + inner join + column drops on the
// fixture CSV gives the same 79 × 20 table, bit for bit after the float32 cast (see PANDAS_*).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostTensor } from '../../src/host';
import { CsvError, forEachCsvRecord, parseCsv, parseNumberField, requireColumns } from '../../src/data/csv';
import { MT19937 } from '../../src/data/mt19937';
import { MinMaxScaler, randint, warmupMse } from '../../src/data/windows';
import {
  WARMUP_STEPS,
  WEATHER_COLUMNS,
  WEATHER_DENMARK_URL,
  buildWeatherTable,
  downloadWeatherDenmark,
  extractTarFile,
  forecastReport,
  gunzip,
  listTar,
  loadWeatherDenmark,
  parseDateTime,
  parseWeatherDenmarkCsv,
  persistenceBaseline,
  randomSubsequences,
  resampleHourly,
  weatherBatch,
  weatherTask,
  type FetchLike,
  type FetchResponseLike,
  type WeatherTable,
  type WeatherTask,
} from '../../src/lessons/weather/index';
import { EXPECTED, FIXTURE_CITIES, at, fixtureArchive, fixtureCsv, gzip, linearSignal, makeTar, recordCount, writeWeatherFixture } from '../helpers/weather-fixture';

const HOUR = 3_600_000;
/** fsum of the pandas table (float32-cast values) and of its Odense.WindSpeed column. */
const PANDAS_SUM = 320627.0455458164;
const PANDAS_ODENSE_WIND_SUM = 312.2857141494751;

function f32Close(actual: number, expected: number): void {
  const tol = Math.max(Math.abs(expected) * 2 ** -23, 1e-6);
  expect(Math.abs(actual - expected), `actual ${actual} vs expected ${expected}`).toBeLessThanOrEqual(tol);
}

function col(table: WeatherTable, name: string): number {
  const j = table.columns.indexOf(name);
  if (j < 0) throw new Error(`no column ${name}`);
  return j;
}

function cell(table: WeatherTable, time: number, name: string): number {
  const r = table.times.indexOf(time);
  if (r < 0) throw new Error(`no row at ${new Date(time).toISOString()}`);
  return table.values[r * table.columns.length + col(table, name)]!;
}

let dir: string;
let table: WeatherTable;
let task: WeatherTask;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weather-test-'));
  const f = await writeWeatherFixture(join(dir, 'fixture'));
  table = await loadWeatherDenmark(f.path);
  task = weatherTask(table);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('csv parser', () => {
  it('reads quoted fields, "" escapes, embedded newlines, CRLF, a BOM, blank lines, no final newline', () => {
    const text = '\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"multi\nline",\n3,,"z"';
    const t = parseCsv(text, { source: 'q.csv' });
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([
      ['1', 'x, y', 'say "hi"'],
      ['2', 'multi\nline', ''],
      ['3', '', 'z'],
    ]);
    expect(t.lines).toEqual([2, 4, 6]);
  });

  it('reports ragged rows, stray quotes, unterminated quotes and bad headers with file:line[:column]', () => {
    const err = (text: string): CsvError => {
      try {
        parseCsv(text, { source: 'bad.csv' });
      } catch (e) {
        expect(e).toBeInstanceOf(CsvError);
        return e as CsvError;
      }
      throw new Error('no error');
    };
    expect(err('a,b\n1,2\n3\n').message).toBe('bad.csv:3: expected 2 fields as in the header, got 1');
    expect(err('a,b\n1,2,3\n').message).toBe('bad.csv:2: expected 2 fields as in the header, got 3');
    expect(err('a,b\n1,x"y\n').message).toBe('bad.csv:2:4: unexpected quote inside an unquoted field');
    expect(err('a,b\n1,"x"y\n').message).toBe('bad.csv:2:6: unexpected character "y" after a closing quote');
    expect(err('a,b\n1,2\n3,"open\nmore\n').message).toBe('bad.csv:3:3: unterminated quoted field (no closing ")');
    expect(err('').message).toBe('bad.csv:1: empty CSV (no header line)');
    expect(err('a,a\n').message).toBe('bad.csv:1: duplicate header column "a"');
    expect(err('a,,c\n').message).toBe('bad.csv:1: header column 2 has an empty name');
    const e = err('a,b\n1,2\n3\n');
    expect([e.source, e.line]).toEqual(['bad.csv', 3]);
  });

  it('streams records and checks columns and numbers', () => {
    const seen: string[] = [];
    const r = forEachCsvRecord('x,y\n1,2\n3,4\n', (f, line) => seen.push(`${line}:${f.join('|')}`), {
      onHeader: (h) => seen.push(`h:${h.join('|')}`),
    });
    expect(seen).toEqual(['h:x|y', '2:1|2', '3:3|4']);
    expect(r.records).toBe(2);
    expect(requireColumns(['b', 'a'], ['a', 'b'])).toEqual([1, 0]);
    expect(() => requireColumns(['a'], ['a', 'b', 'c'], 'f.csv')).toThrow('f.csv:1: missing columns "b", "c"; header is a');
    const where = { source: 'f.csv', line: 7, column: 'Temp' };
    expect(parseNumberField(' -1.5e2 ', where)).toBe(-150);
    expect(parseNumberField('', where)).toBeNaN();
    expect(parseNumberField('NaN', where)).toBeNaN();
    // The fast decimal path agrees with Number() bit for bit.
    const rng = new MT19937(5);
    for (let i = 0; i < 20000; i++) {
      const mant = Math.floor(rng.random() * 10 ** Math.floor(rng.random() * 16));
      const text = `${rng.random() < 0.5 ? '-' : ''}${(mant / 10 ** Math.floor(rng.random() * 8)).toString()}`;
      expect(parseNumberField(text, where), text).toBe(Number(text));
    }
    for (const ok of ['1e3', '.5', '5.', '+7', '1.25E-2', '12345678901234567890.5', '0.1234567890123456789']) {
      expect(parseNumberField(ok, where)).toBe(Number(ok));
    }
    for (const bad of ['abc', '0x10', 'Infinity', '1.2.3', '--1', '.', '1e', '1e+', '- 1', '1 2', '1e400']) {
      expect(() => parseNumberField(bad, where)).toThrow(`f.csv:7: column "Temp": ${JSON.stringify(bad)} is not a number`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('weather table from the fixture archive', () => {
  it('has the 20 columns of the lesson in its order', () => {
    const lesson = [
      'Aalborg.Temp', 'Aalborg.Pressure', 'Aalborg.WindSpeed', 'Aalborg.WindDir',
      'Aarhus.Temp', 'Aarhus.Pressure', 'Aarhus.WindSpeed', 'Aarhus.WindDir',
      'Esbjerg.Temp', 'Esbjerg.WindSpeed', 'Esbjerg.WindDir',
      'Odense.Temp', 'Odense.Pressure', 'Odense.WindSpeed', 'Odense.WindDir',
      'Roskilde.Temp', 'Roskilde.WindSpeed', 'Roskilde.WindDir',
      'Various.Day', 'Various.Hour',
    ]; // prettier-ignore
    expect(table.columns).toEqual(lesson);
    expect(WEATHER_COLUMNS).toEqual(lesson);
  });

  it('counts rows as worked out by hand (drop all-NaN rows, hourly grid, inner join)', () => {
    expect(table.stats).toEqual({
      records: recordCount(),
      naValues: EXPECTED.naValues,
      droppedEmptyRows: EXPECTED.droppedEmptyRows,
      duplicateTimes: 0,
      hoursPerCity: EXPECTED.hoursPerCity,
      rowsJoined: EXPECTED.rowsJoined,
      droppedIncomplete: EXPECTED.droppedIncomplete,
    });
    expect(table.times.length).toBe(EXPECTED.rows);
    expect(table.values.length).toBe(EXPECTED.rows * 20);
    expect(table.times[0]).toBe(EXPECTED.firstTime);
    expect(table.times[table.times.length - 1]).toBe(EXPECTED.lastTime);
    for (let i = 1; i < table.times.length; i++) expect(table.times[i]! - table.times[i - 1]!).toBe(HOUR);
  });

  it('interpolates the linear signals exactly (NA markers and gaps do not bend them)', () => {
    for (let r = 0; r < table.times.length; r++) {
      const t = table.times[r]!;
      for (const c of FIXTURE_CITIES) {
        for (const s of ['Temp', 'Pressure', 'WindDir'] as const) {
          const name = `${c}.${s}`;
          if (!table.columns.includes(name)) continue;
          f32Close(table.values[r * 20 + col(table, name)]!, linearSignal(c, s, t));
        }
      }
    }
  });

  it('gives the hand-computed WindSpeed values (interpolation weights, exact-hour and irregular observations, NA)', () => {
    for (const [city, time, v] of EXPECTED.windSpeed) f32Close(cell(table, at(time), `${city}.WindSpeed`), v);
    const j = col(table, 'Esbjerg.WindSpeed');
    for (let r = 0; r < table.times.length; r++) expect(table.values[r * 20 + j]).toBe(3);
  });

  it('adds day-of-year (leap year: Dec 31 = 366) and hour', () => {
    for (const [time, doy] of EXPECTED.dayOfYear) expect(cell(table, at(time), 'Various.Day')).toBe(doy);
    for (let r = 0; r < table.times.length; r++) {
      expect(table.values[r * 20 + 19]).toBe(new Date(table.times[r]!).getUTCHours());
    }
  });

  it('matches pandas running the lesson code on the same CSV', () => {
    let sum = 0;
    let c = 0;
    let windSum = 0;
    const j = col(table, 'Odense.WindSpeed');
    // Neumaier sum ≈ math.fsum for these few values.
    for (let i = 0; i < table.values.length; i++) {
      const v = table.values[i]!;
      const t = sum + v;
      c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
      sum = t;
      if (i % 20 === j) windSum += v;
    }
    expect(sum + c).toBeCloseTo(PANDAS_SUM, 8);
    expect(windSum).toBeCloseTo(PANDAS_ODENSE_WIND_SUM, 9);
  });

  it('loads the same table from bytes, from the bare tar and from the CSV text', async () => {
    const a = fixtureArchive();
    for (const src of [a.targz, a.tar, new TextEncoder().encode(a.csv)]) {
      const t = await loadWeatherDenmark(src);
      expect(t.values).toEqual(table.values);
      expect(t.times).toEqual(table.times);
    }
    expect(listTar(a.tar).map((e) => [e.name, e.type])).toEqual([
      ['weather-denmark.pkl', '0'],
      ['weather-denmark.csv', '0'],
    ]);
    expect(new TextDecoder().decode(extractTarFile(a.tar, 'weather-denmark.csv'))).toBe(a.csv);
  });

  it('resamples like pandas: NaN before a signal starts, last value repeated after it ends', () => {
    const t0 = Date.UTC(2020, 0, 1, 0, 20);
    const N = Number.NaN;
    const r = resampleHourly({
      times: Float64Array.from([t0, t0 + 30 * 60_000, t0 + 120 * 60_000]), // 00:20, 00:50, 02:20
      values: Float64Array.from([N, 1, N, N, /**/ 10, N, N, N, /**/ N, 2, N, N]),
    });
    // Grid 00:00 (before the first observation → all NaN → dropped), 01:00, 02:00.
    expect(r.start).toBe(Date.UTC(2020, 0, 1, 1));
    expect(r.hours).toBe(2);
    const v = Array.from(r.values);
    // Temp (only at 00:50) held after it; Pressure interpolated 00:20 → 02:20 (120 min).
    expect(v[0]).toBe(10);
    expect(v[1]).toBeCloseTo(1 + (1 * 40) / 120, 14);
    expect(v.slice(2, 4)).toEqual([N, N]);
    expect(v[4]).toBe(10);
    expect(v[5]).toBeCloseTo(1 + (1 * 100) / 120, 14);
    expect(v.slice(6, 8)).toEqual([N, N]);
  });

  it('parses pandas timestamps as UTC and rejects malformed ones', () => {
    expect(parseDateTime('1980-03-01 11:00:00')).toBe(Date.UTC(1980, 2, 1, 11));
    expect(parseDateTime('2016-02-29T23:59')).toBe(Date.UTC(2016, 1, 29, 23, 59));
    expect(parseDateTime(' 2017-01-01 00:20:30.000 ')).toBe(Date.UTC(2017, 0, 1, 0, 20, 30));
    for (const bad of ['2017-02-29 00:00:00', '2017-13-01 00:00', '2017-01-01 24:00', '2017-01-01 10:60', '2017-01-01', '2017/01/01 00:00', '2017-01-01 00:00:0x']) {
      expect(parseDateTime(bad), bad).toBeNaN();
    }
  });

  it('sorts unsorted records and merges duplicate timestamps', () => {
    const lines = ['City,DateTime,Temp,Pressure,WindSpeed,WindDir'];
    for (const c of FIXTURE_CITIES) {
      lines.push(`${c},2020-01-01 02:20:00,3.0,1000.0,1.0,10.0`, `${c},2020-01-01 00:20:00,1.0,,1.0,10.0`, `${c},2020-01-01 00:20:00,9.0,1002.0,,`);
    }
    const obs = parseWeatherDenmarkCsv(lines.join('\n'), 'dup.csv');
    expect(obs.duplicateTimes).toBe(5);
    expect(Array.from(obs.cities.Odense.times)).toEqual([Date.UTC(2020, 0, 1, 0, 20), Date.UTC(2020, 0, 1, 2, 20)]);
    expect(Array.from(obs.cities.Odense.values)).toEqual([1, 1002, 1, 10, 3, 1000, 1, 10]);
    const t = buildWeatherTable(obs);
    expect(t.times.length).toBe(2); // 01:00, 02:00
    expect(cell(t, Date.UTC(2020, 0, 1, 1), 'Odense.Temp')).toBeCloseTo(1 + (2 * 40) / 120, 6);
  });
});

// ---------------------------------------------------------------------------------------------

describe('weather task', () => {
  it('has the lesson shapes: x (N, 20) → y (N, 3), chronological 90/10 split', () => {
    expect(task.raw.x.shape).toEqual([EXPECTED.samples, 20]);
    expect(task.raw.y.shape).toEqual([EXPECTED.samples, 3]);
    expect([task.numTrain, task.numTest]).toEqual([EXPECTED.numTrain, EXPECTED.numTest]);
    expect(task.xTrain.shape).toEqual([49, 20]);
    expect(task.yTrain.shape).toEqual([49, 3]);
    expect(task.xTest.shape).toEqual([6, 20]);
    expect(task.yTest.shape).toEqual([6, 3]);
    expect(task.targetColumns).toEqual(['Odense.Temp', 'Odense.WindSpeed', 'Odense.Pressure']);
    expect(task.targetInputIndex).toEqual([11, 13, 12]);
    expect(Array.from(task.times)).toEqual(Array.from(table.times.subarray(0, 55)));
  });

  it('shifts the targets by 24 hours: y[i] = Odense (Temp, WindSpeed, Pressure) at times[i] + 24 h', () => {
    for (let i = 0; i < EXPECTED.samples; i++) {
      const t = table.times[i]! + 24 * HOUR;
      expect(table.times[i + 24]).toBe(t);
      f32Close(task.raw.y.data[i * 3]!, linearSignal('Odense', 'Temp', t));
      f32Close(task.raw.y.data[i * 3 + 2]!, linearSignal('Odense', 'Pressure', t));
      expect(task.raw.y.data[i * 3 + 1]).toBe(cell(table, t, 'Odense.WindSpeed'));
      expect(Array.from(task.raw.x.data.subarray(i * 20, i * 20 + 20))).toEqual(Array.from(table.values.subarray(i * 20, i * 20 + 20)));
    }
  });

  it('min-max scales x and y on the training rows: [0, 1] per column, constant column → 0', () => {
    const check = (t: HostTensor, raw: HostTensor, rows: number, constant: number[]) => {
      const F = t.shape[1]!;
      for (let j = 0; j < F; j++) {
        let lo = Infinity;
        let hi = -Infinity;
        let rlo = Infinity;
        let rhi = -Infinity;
        for (let r = 0; r < rows; r++) {
          lo = Math.min(lo, t.data[r * F + j]!);
          hi = Math.max(hi, t.data[r * F + j]!);
          rlo = Math.min(rlo, raw.data[r * F + j]!);
          rhi = Math.max(rhi, raw.data[r * F + j]!);
        }
        if (constant.includes(j)) {
          expect([lo, hi], `column ${j}`).toEqual([0, 0]);
        } else {
          expect([lo, hi], `column ${j}`).toEqual([0, 1]);
        }
        for (let r = 0; r < rows; r++) {
          const want = (raw.data[r * F + j]! - rlo) / (rhi - rlo || 1);
          f32Close(t.data[r * F + j]!, want);
        }
      }
    };
    // WindSpeed is 4 at every training hour in Aarhus (no gap) and 3 in Esbjerg: constant columns.
    check(task.xTrain, task.raw.x, 49, [col(table, 'Aarhus.WindSpeed'), col(table, 'Esbjerg.WindSpeed')]);
    check(task.yTrain, task.raw.y, 49, []);
    // Test rows use the training scaler (may leave [0, 1]) and invert back to the raw values.
    const back = task.yScaler.inverse(task.yTest);
    for (let i = 0; i < back.data.length; i++) expect(Math.abs(back.data[i]! - task.raw.y.data[49 * 3 + i]!)).toBeLessThan(1e-3);
    const xb = task.xScaler.inverse(task.xTest);
    for (let i = 0; i < xb.data.length; i++) expect(Math.abs(xb.data[i]! - task.raw.x.data[49 * 20 + i]!)).toBeLessThan(1e-3);
    expect(task.xTest.data.some((v) => v > 1)).toBe(true); // temperatures keep rising in the fixture
  });

  it('rejects bad options clearly', () => {
    expect(() => weatherTask(table, { trainSplit: 1 })).toThrow('trainSplit must be in (0, 1)');
    expect(() => weatherTask(table, { shiftSteps: 79 })).toThrow('79 rows leave 0 samples after the 79-step shift');
    expect(() => weatherTask(table, { targets: ['Odense.Temp', 'Odense.Humidity'] })).toThrow('missing column "Odense.Humidity"');
  });

  it('MinMaxScaler follows sklearn (constant column → range 1) and inverts', () => {
    const s = MinMaxScaler.fit({ data: Float32Array.from([1, 5, 3, 5, 2, 5]), shape: [3, 2] });
    expect(Array.from(s.min)).toEqual([1, 5]);
    expect(Array.from(s.range)).toEqual([2, 1]);
    expect(Array.from(s.transform({ data: Float32Array.from([2, 6]), shape: [1, 2] }).data)).toEqual([0.5, 1]);
    expect(Array.from(s.inverse({ data: Float32Array.from([0.5, 1]), shape: [1, 2] }).data)).toEqual([2, 6]);
    expect(s.inverseValue(1, 0)).toBe(3);
  });
});

// ---------------------------------------------------------------------------------------------

describe('random sub-sequences (the lesson batch generator)', () => {
  it('draws starts like numpy legacy randint on MT19937', () => {
    // np.random.seed(s); [np.random.randint(high) for _ in range(6)]
    const draw = (seed: number, high: number) => {
      const rng = new MT19937(seed);
      return Array.from({ length: 6 }, () => randint(rng, high));
    };
    expect(draw(7, 1000)).toEqual([175, 196, 537, 502, 579, 211]);
    expect(draw(7, 299776 - 1344)).toEqual([61615, 189636, 49689, 10742, 235075, 79463]);
    expect(draw(0, 39)).toEqual([0, 3, 3, 9, 19, 21]);
  });

  it('returns aligned [B, L, 20] / [B, L, 3] windows of the training rows, starts in [0, numTrain − L)', () => {
    const b = weatherBatch(task, { batchSize: 6, sequenceLength: 10, seed: 0 });
    expect(b.x.shape).toEqual([6, 10, 20]);
    expect(b.y.shape).toEqual([6, 10, 3]);
    expect(Array.from(b.starts)).toEqual([0, 3, 3, 9, 19, 21]); // randint(49 − 10) with seed 0
    for (let k = 0; k < 6; k++) {
      const s = b.starts[k]!;
      expect(Array.from(b.x.data.subarray(k * 200, (k + 1) * 200))).toEqual(Array.from(task.xTrain.data.subarray(s * 20, (s + 10) * 20)));
      expect(Array.from(b.y.data.subarray(k * 30, (k + 1) * 30))).toEqual(Array.from(task.yTrain.data.subarray(s * 3, (s + 10) * 3)));
    }
    const many = randomSubsequences(task.xTrain, task.yTrain, { batchSize: 500, sequenceLength: 40, seed: 3 });
    expect(Math.min(...many.starts)).toBe(0);
    expect(Math.max(...many.starts)).toBe(8); // 49 − 40 − 1
  });

  it('is deterministic by seed, and a shared generator continues the stream', () => {
    const opts = { batchSize: 4, sequenceLength: 12 };
    const a = randomSubsequences(task.xTrain, task.yTrain, { ...opts, seed: 42 });
    const b = randomSubsequences(task.xTrain, task.yTrain, { ...opts, seed: 42 });
    const c = randomSubsequences(task.xTrain, task.yTrain, { ...opts, seed: 43 });
    expect(a.x.data).toEqual(b.x.data);
    expect(a.y.data).toEqual(b.y.data);
    expect(Array.from(c.starts)).not.toEqual(Array.from(a.starts));
    const rng = new MT19937(42);
    const first = randomSubsequences(task.xTrain, task.yTrain, { batchSize: 2, sequenceLength: 12, seed: rng });
    const second = randomSubsequences(task.xTrain, task.yTrain, { batchSize: 2, sequenceLength: 12, seed: rng });
    expect([...first.starts, ...second.starts]).toEqual(Array.from(a.starts));
  });

  it('rejects sequences as long as the training rows', () => {
    expect(() => randomSubsequences(task.xTrain, task.yTrain, { batchSize: 1, sequenceLength: 49, seed: 0 })).toThrow(
      'sequenceLength 49 must be smaller than the number of rows 49',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('warm-up MSE and baselines', () => {
  it('ignores the first warm-up steps', () => {
    expect(WARMUP_STEPS).toBe(50);
    // B = 2, T = 3, K = 2; errors at t = 0 are huge and must not count with warmup 1.
    const yTrue = { data: Float32Array.from([0, 0, 1, 1, 2, 2, /**/ 0, 0, 1, 1, 2, 2]), shape: [2, 3, 2] };
    const yPred = { data: Float32Array.from([99, -99, 1, 2, 2, 2, /**/ 50, 50, 0, 1, 2, 4]), shape: [2, 3, 2] };
    expect(warmupMse(yTrue, yPred, 1)).toBe((1 + 1 + 4) / 8);
    expect(warmupMse(yTrue, yPred, 0)).toBeGreaterThan(1000);
    expect(() => warmupMse(yTrue, yPred, 3)).toThrow('warmup must be an integer in [0, 3), got 3');
    expect(() => warmupMse(yTrue, { data: yPred.data, shape: [2, 6, 1] }, 1)).toThrow('equal shape');
  });

  it('persistence ("tomorrow = today") errors on the test split, de-normalised', () => {
    // Test rows are 01-01 05:00..10:00 → targets 01-02 05:00..10:00. Odense Temp rises 0.3 °C/h
    // → error 7.2 °C; Pressure 0.06 hPa/h → 1.44 hPa; WindSpeed is 4 at every such hour except
    // 01-01 09:00 (2, the NA at 08:50) → errors [0, 0, 0, 0, 2, 0].
    const p = persistenceBaseline(task, { warmup: 0 });
    expect(p.count).toBe(6);
    expect(p.signals).toEqual(['Odense.Temp', 'Odense.WindSpeed', 'Odense.Pressure']);
    expect(p.units).toEqual(['°C', 'm/s', 'hPa']);
    expect(p.mae[0]).toBeCloseTo(7.2, 4);
    expect(p.rmse[0]).toBeCloseTo(7.2, 4);
    expect(p.mae[1]).toBeCloseTo(2 / 6, 6);
    expect(p.rmse[1]).toBeCloseTo(Math.sqrt(4 / 6), 6);
    expect(p.mae[2]).toBeCloseTo(1.44, 3);
    // Scaled MSE: each signal's error divided by its training range of y.
    const range = [0, 1, 2].map((k) => {
      const v = Array.from({ length: 49 }, (_, r) => task.raw.y.data[r * 3 + k]!);
      return Math.max(...v) - Math.min(...v);
    });
    const want = ((7.2 / range[0]!) ** 2 + 4 / 6 / range[1]! ** 2 + (1.44 / range[2]!) ** 2) / 3;
    expect(p.mseScaled).toBeCloseTo(want, 5);
    expect(() => persistenceBaseline(task)).toThrow('warmup 50 leaves no step of the 6-step test split');
    const train = persistenceBaseline(task, { split: 'train', warmup: 10 });
    expect(train.count).toBe(39);
  });

  it('forecastReport de-normalises model predictions', () => {
    const y3 = { data: task.yTest.data, shape: [1, 6, 3] };
    const r = forecastReport(task, y3, y3, 2);
    expect(r.mae).toEqual([0, 0, 0]);
    expect(r.mseScaled).toBe(0);
    expect(r.count).toBe(4);
    const shifted = { data: task.yTest.data.map((v, i) => (i % 3 === 0 ? v + 0.1 : v)), shape: [6, 3] };
    const r2 = forecastReport(task, task.yTest, shifted, 0);
    expect(r2.mae[0]).toBeCloseTo(0.1 * task.yScaler.range[0]!, 4);
  });
});

// ---------------------------------------------------------------------------------------------

describe('malformed archives and CSVs', () => {
  const csv = fixtureCsv();
  const load = (bytes: Uint8Array) => loadWeatherDenmark(bytes, { source: 'w.tar.gz' });
  const archiveOf = (text: string) => fixtureArchive(text).targz;

  it('reports truncated and corrupt gzip streams, truncated tars, missing entries and unknown formats', async () => {
    const { targz, tar } = fixtureArchive();
    await expect(load(targz.subarray(0, targz.length - 100))).rejects.toThrow(/^w\.tar\.gz: truncated gzip stream/);
    const corrupt = targz.slice();
    corrupt.fill(0xab, 40, 80);
    await expect(load(corrupt)).rejects.toThrow(/^w\.tar\.gz: (corrupt|truncated) gzip stream/);
    await expect(load(gzip(tar.subarray(0, 3000)))).rejects.toThrow(
      'w.tar.gz: truncated tar archive: entry "weather-denmark.csv" needs 40463 bytes at byte 2048 but the archive ends at 3000',
    );
    // weather-denmark.pkl: header at 0, 700 bytes of data in 2 blocks; the CSV header at 1536.
    await expect(load(gzip(tar.subarray(0, 1100)))).rejects.toThrow('entry "weather-denmark.pkl" needs 700 bytes at byte 512 but the archive ends at 1100');
    await expect(load(gzip(tar.subarray(0, 1612)))).rejects.toThrow('w.tar.gz: truncated tar archive (a 76-byte partial header at byte 1536)');
    const noCsv = makeTar([{ name: 'weather-denmark.pkl', data: new Uint8Array(10) }]);
    await expect(load(gzip(noCsv))).rejects.toThrow('w.tar.gz: no entry "weather-denmark.csv" in the archive (found weather-denmark.pkl)');
    const badHeader = tar.slice();
    badHeader[0] = 'X'.charCodeAt(0);
    await expect(load(gzip(badHeader))).rejects.toThrow(/^w\.tar\.gz: not a tar archive or corrupt header at byte 0 \(checksum/);
    await expect(load(new TextEncoder().encode('<html>Not Found</html>'))).rejects.toThrow('w.tar.gz: not a .tar.gz, .tar or CSV file');
    await expect(load(gzip(new TextEncoder().encode('plain text, not a tar')))).rejects.toThrow('w.tar.gz: not a tar archive (21 bytes, less than one header)');
    await expect(load(gzip(new Uint8Array(600).fill(65)))).rejects.toThrow('w.tar.gz: not a tar archive or corrupt header at byte 0');
    // The browser path (DecompressionStream) gives the same bytes and the same kind of errors.
    expect(await gunzip(targz, 'w.tar.gz', 'stream')).toEqual(tar);
    await expect(gunzip(targz.subarray(0, targz.length - 100), 'w.tar.gz', 'stream')).rejects.toThrow(/^w\.tar\.gz: truncated or corrupt gzip stream/);
    await expect(gunzip(corrupt, 'w.tar.gz', 'stream')).rejects.toThrow(/^w\.tar\.gz: truncated or corrupt gzip stream/);
    await expect(loadWeatherDenmark(join(dir, 'nope.tar.gz'))).rejects.toThrow(/^loadWeatherDenmark: cannot read .*nope\.tar\.gz: ENOENT/);
  });

  it('names the file, line and column of CSV problems', async () => {
    const src = 'w.tar.gz/weather-denmark.csv';
    const lines = csv.split('\n');
    const noDir = lines.map((l) => l.split(',').slice(0, 5).join(',')).join('\n');
    await expect(load(archiveOf(noDir))).rejects.toThrow(`${src}:1: missing column "WindDir"; header is City,DateTime,Temp,Pressure,WindSpeed`);
    const ragged = lines.slice();
    ragged[6] = ragged[6]!.split(',').slice(0, 4).join(',');
    await expect(load(archiveOf(ragged.join('\n')))).rejects.toThrow(`${src}:7: expected 6 fields as in the header, got 4`);
    const word = lines.slice();
    word[9] = word[9]!.replace(/^(\w+,[^,]+,)[^,]+/, '$1warm');
    await expect(load(archiveOf(word.join('\n')))).rejects.toThrow(`${src}:10: column "Temp": "warm" is not a number`);
    const date = lines.slice();
    date[3] = date[3]!.replace(/2016-12-30 /, '2016-12-32 ');
    await expect(load(archiveOf(date.join('\n')))).rejects.toThrow(`${src}:4: column "DateTime": "2016-12-32 00:50:00" is not a timestamp`);
    const city = lines.slice();
    city[2] = city[2]!.replace(/^Aalborg/, 'Copenhagen');
    await expect(load(archiveOf(city.join('\n')))).rejects.toThrow(`${src}:3: column "City": unknown station "Copenhagen"`);
    const noOdense = lines.filter((l) => !l.startsWith('Odense')).join('\n');
    await expect(load(archiveOf(noOdense))).rejects.toThrow(`${src}: station Odense has no observation`);
    const quote = lines.slice();
    quote[5] = `${quote[5]!}"`;
    await expect(load(archiveOf(quote.join('\n')))).rejects.toThrow(`${src}:6:`);
  });
});

// ---------------------------------------------------------------------------------------------

describe('downloadWeatherDenmark', () => {
  const { targz } = fixtureArchive();
  const sha = createHash('sha256').update(targz).digest('hex');
  let n = 0;
  const freshDir = async () => {
    const d = join(dir, `cache-${n++}`);
    await mkdir(d, { recursive: true });
    return d;
  };

  /** A Response whose body arrives in 1000-byte chunks, optionally failing after `failAfter` bytes. */
  function response(bytes: Uint8Array, init: { status?: number; length?: number; failAfter?: number } = {}): FetchResponseLike {
    let off = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (init.failAfter !== undefined && off >= init.failAfter) {
          ctrl.error(new Error('socket hang up'));
          return;
        }
        if (off >= bytes.length) {
          ctrl.close();
          return;
        }
        ctrl.enqueue(bytes.slice(off, off + 1000));
        off += 1000;
      },
    });
    const headers = new Headers({ 'content-length': String(init.length ?? bytes.length) });
    const status = init.status ?? 200;
    return new Response(status === 200 ? body : 'Not Found', { status, statusText: status === 200 ? 'OK' : 'Not Found', headers });
  }
  const serve = (bytes: Uint8Array, init?: Parameters<typeof response>[1]) => {
    const calls: string[] = [];
    const fetch: FetchLike = async (url) => {
      calls.push(url);
      return response(bytes, init);
    };
    return { fetch, calls };
  };

  it('streams to .part, reports progress, verifies and renames; then serves from the cache', async () => {
    const cacheDir = await freshDir();
    const { fetch, calls } = serve(targz);
    const progress: { bytes: number; total?: number }[] = [];
    const r = await downloadWeatherDenmark({ cacheDir, fetch, onProgress: (p) => progress.push(p), expectedSha256: sha });
    expect(calls).toEqual([WEATHER_DENMARK_URL]);
    expect(r).toEqual({ path: join(cacheDir, 'weather-denmark.tar.gz'), bytes: targz.length, sha256: sha, cached: false });
    expect(await readdir(cacheDir)).toEqual(['weather-denmark.tar.gz', 'weather-denmark.tar.gz.sha256']);
    expect(progress.length).toBe(Math.ceil(targz.length / 1000));
    expect(progress.every((p, i) => p.total === targz.length && (i === 0 || p.bytes > progress[i - 1]!.bytes))).toBe(true);
    expect(progress[progress.length - 1]!.bytes).toBe(targz.length);
    const t = await loadWeatherDenmark(r.path);
    expect(t.times.length).toBe(EXPECTED.rows);
    const again = await downloadWeatherDenmark({ cacheDir, fetch });
    expect(again.cached).toBe(true);
    expect(calls.length).toBe(1);
  });

  it('replaces a stale .part and a cached archive that fails the checksum', async () => {
    const cacheDir = await freshDir();
    await writeFile(join(cacheDir, 'weather-denmark.tar.gz.part'), 'left over');
    await writeFile(join(cacheDir, 'weather-denmark.tar.gz'), 'old');
    const { fetch, calls } = serve(targz);
    const r = await downloadWeatherDenmark({ cacheDir, fetch, expectedSha256: sha.toUpperCase() });
    expect(r.cached).toBe(false);
    expect(calls.length).toBe(1);
    expect(await readdir(cacheDir)).toEqual(['weather-denmark.tar.gz', 'weather-denmark.tar.gz.sha256']);
  });

  const failures: [string, () => { fetch: FetchLike }, string | RegExp, { expectedSha256?: string }?][] = [
    [
      'offline (fetch throws)',
      () => ({
        fetch: async () => {
          throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND github.com') });
        },
      }),
      `offline: could not reach ${WEATHER_DENMARK_URL} (fetch failed: getaddrinfo ENOTFOUND github.com)`,
    ],
    ['HTTP 404', () => serve(targz, { status: 404 }), `downloadWeatherDenmark: HTTP 404 Not Found from ${WEATHER_DENMARK_URL}`],
    ['connection lost mid-way', () => serve(targz, { failAfter: 3000 }), `download of ${WEATHER_DENMARK_URL} interrupted after 3000 bytes (socket hang up)`],
    ['short body', () => serve(targz, { length: targz.length + 10 }), `got ${targz.length} of ${targz.length + 10} bytes`],
    ['checksum mismatch', () => serve(targz), /checksum mismatch .*expected sha256 0{64}, got [0-9a-f]{64}/, { expectedSha256: '0'.repeat(64) }],
    ['an HTML page instead of the archive', () => serve(new TextEncoder().encode('<!DOCTYPE html><html>rate limited</html>')), 'not a gzip file'],
    ['a truncated archive', () => serve(targz.subarray(0, targz.length - 50)), 'truncated gzip stream'],
    [
      'an archive without the CSV',
      () => serve(gzip(makeTar([{ name: 'weather-denmark.pkl', data: new Uint8Array(5) }]))),
      'no entry "weather-denmark.csv" in the archive (found weather-denmark.pkl)',
    ],
    [
      'a CSV with other columns',
      () => serve(gzip(makeTar([{ name: 'weather-denmark.csv', data: new TextEncoder().encode('City,Date,T\n') }]))),
      'missing columns "DateTime", "Temp", "Pressure", "WindSpeed", "WindDir"',
    ],
  ];
  for (const [what, make, message, extra] of failures) {
    it(`fails clearly and leaves nothing behind: ${what}`, async () => {
      const cacheDir = await freshDir();
      const progress: number[] = [];
      await expect(
        downloadWeatherDenmark({ cacheDir, ...make(), onProgress: (p) => progress.push(p.bytes), ...(extra ?? {}) }),
      ).rejects.toThrow(message);
      expect(await readdir(cacheDir)).toEqual([]);
    });
  }

  it('rejects a malformed expectedSha256 before downloading', async () => {
    const cacheDir = await freshDir();
    const { fetch, calls } = serve(targz);
    await expect(downloadWeatherDenmark({ cacheDir, fetch, expectedSha256: 'abc' })).rejects.toThrow('expectedSha256 must be 64 hex digits');
    expect(calls).toEqual([]);
  });
});
