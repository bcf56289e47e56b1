// Seattle / New York daily weather from vega-datasets@3.2.1 (shared docs/reference-results.md §4):
// parsing, the next-day temp_max task (30-day windows, 6 features, train-fitted min-max scaling,
// chronological split) and the persistence baseline, checked against values computed here
// directly from the raw CSV text.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import {
  SEATTLE_FEATURES,
  loadSeattleWeather,
  loadVegaWeather,
  parseSeattle,
  parseWeatherCsv,
  readVegaDataset,
  seattleErrors,
  seattlePersistence,
  seattleTask,
  type DailyWeather,
  type SeattleTask,
} from '../../src/data/seattle';

const DAY = 86_400_000;

/** date → temp_max straight from the CSV lines (no parser of ours involved). */
function rawTempMax(text: string): Map<string, number> {
  const lines = text.trim().split('\n');
  const header = lines[0]!.split(',');
  const iDate = header.indexOf('date');
  const iMax = header.indexOf('temp_max');
  return new Map(lines.slice(1).map((l) => [l.split(',')[iDate]!, Number(l.split(',')[iMax])]));
}

function nextDate(d: string): string {
  return new Date(Date.parse(`${d}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
}

let csv: string;
let daily: DailyWeather;
let task: SeattleTask;

beforeAll(async () => {
  csv = await readFile('node_modules/vega-datasets/data/seattle-weather.csv', 'utf8');
  daily = await loadSeattleWeather();
  task = seattleTask(daily);
});

describe('vega-datasets weather files', () => {
  it('seattle-weather.csv: 1461 days 2012-01-01..2015-12-31 without gaps or missing values', async () => {
    expect(await readVegaDataset('seattle-weather.csv')).toBe(csv);
    expect(daily.location).toBe('Seattle');
    expect(daily.dates.length).toBe(1461);
    expect(daily.dates[0]).toBe('2012-01-01');
    expect(daily.dates[1460]).toBe('2015-12-31');
    for (let i = 1; i < 1461; i++) expect(daily.dates[i]).toBe(nextDate(daily.dates[i - 1]!));
    for (const a of [daily.precipitation, daily.tempMax, daily.tempMin, daily.wind]) expect(a.every(Number.isFinite)).toBe(true);
    expect([daily.precipitation[1], daily.tempMax[1], daily.tempMin[1], daily.wind[1], daily.weather[1]]).toEqual([10.9, 10.6, 2.8, 4.5, 'rain']);
    expect(new Set(daily.weather)).toEqual(new Set(['drizzle', 'rain', 'sun', 'snow', 'fog']));
  });

  it('weather.csv: Seattle (same as seattle-weather.csv) and New York, 1461 days each', async () => {
    const all = await loadVegaWeather();
    expect(Object.keys(all).sort()).toEqual(['New York', 'Seattle']);
    expect(all['New York']!.dates.length).toBe(1461);
    expect(all['New York']!.dates[0]).toBe('2012-01-01');
    const s = all.Seattle!;
    expect(s.dates).toEqual(daily.dates);
    expect(s.tempMax).toEqual(daily.tempMax);
    expect(s.precipitation).toEqual(daily.precipitation);
    expect(s.weather).toEqual(daily.weather);
    expect(seattleTask(all['New York']!).test.x.shape).toEqual([365, 30, 6]);
  });

  it('reports malformed text with the file and line', () => {
    const lines = csv.split('\n');
    const bad = (i: number, line: string) => {
      const l = lines.slice();
      l[i] = line;
      return l.join('\n');
    };
    expect(() => parseSeattle(bad(4, '2012-01-04,20.3,warm,5.6,4.7,rain'))).toThrow('seattle-weather.csv:5: column "temp_max": "warm" is not a number');
    expect(() => parseSeattle(bad(4, '2012-01-32,20.3,12.2,5.6,4.7,rain'))).toThrow('seattle-weather.csv:5: column "date": "2012-01-32" is not a date');
    expect(() => parseSeattle(bad(4, '2012-01-04,20.3,12.2,5.6,rain'))).toThrow('seattle-weather.csv:5: expected 6 fields as in the header, got 5');
    const noMin = lines.map((l) => l.split(',').filter((_, k) => k !== 3).join(',')).join('\n');
    expect(() => parseSeattle(noMin)).toThrow(
      'seattle-weather.csv:1: missing column "temp_min"; header is date,precipitation,temp_max,wind,weather',
    );
    expect(() => parseWeatherCsv(csv)).toThrow('weather.csv:1: missing column "location"');
    // A gap is not a parse error, but the task refuses it.
    const gap = parseSeattle(lines.filter((_, i) => i !== 100).join('\n'));
    expect(() => seattleTask(gap)).toThrow('seattleTask: Seattle is not a gap-free daily series: 2012-04-08 is followed by 2012-04-10');
    // CRLF line ends parse the same.
    expect(parseSeattle(csv.replace(/\n/g, '\r\n')).tempMax).toEqual(daily.tempMax);
  });
});

describe('next-day temp_max task', () => {
  it('windows the days chronologically: [n, 30, 6] → [n, 1]', () => {
    expect(task.features).toEqual(SEATTLE_FEATURES);
    expect(task.features).toEqual(['precipitation', 'temp_max', 'temp_min', 'wind', 'doy_sin', 'doy_cos']);
    // Targets 2012-01-31 .. 2013-12-31 (days 30..730), 2014 (731..1095), 2015 (1096..1460).
    expect(task.train.x.shape).toEqual([701, 30, 6]);
    expect(task.train.y.shape).toEqual([701, 1]);
    expect(task.valid.x.shape).toEqual([365, 30, 6]);
    expect(task.test.x.shape).toEqual([365, 30, 6]);
    expect(task.test.y.shape).toEqual([365, 1]);
    expect(daily.dates[task.train.targetDay[0]!]).toBe('2012-01-31');
    expect(daily.dates[task.train.targetDay[700]!]).toBe('2013-12-31');
    expect(daily.dates[task.valid.targetDay[0]!]).toBe('2014-01-01');
    expect(daily.dates[task.test.targetDay[0]!]).toBe('2015-01-01');
    expect(daily.dates[task.test.targetDay[364]!]).toBe('2015-12-31');
    const noValid = seattleTask(daily, { validStart: '2015-01-01', testStart: '2015-01-01' });
    expect([noValid.train.y.shape[0], noValid.valid.y.shape[0], noValid.test.y.shape[0]]).toEqual([1066, 0, 365]);
  });

  it('aligns windows: y[i] is the raw temp_max of the day after the window’s last day', () => {
    const raw = rawTempMax(csv);
    const W = 30;
    for (const split of [task.train, task.valid, task.test]) {
      const n = split.y.shape[0]!;
      for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
        const lastDay = daily.dates[split.targetDay[i]! - 1]!;
        const firstDay = daily.dates[split.targetDay[i]! - W]!;
        // x[i, W − 1, temp_max] is the last day's max; x[i, 0, ·] the first day's; y the next day's.
        const xLast = task.xScaler.inverseValue(split.x.data[(i * W + W - 1) * 6 + 1]!, 1);
        const xFirst = task.xScaler.inverseValue(split.x.data[i * W * 6 + 1]!, 1);
        const y = task.yScaler.inverseValue(split.y.data[i]!, 0);
        expect(xLast).toBeCloseTo(raw.get(lastDay)!, 4);
        expect(xFirst).toBeCloseTo(raw.get(firstDay)!, 4);
        expect(y).toBeCloseTo(raw.get(nextDate(lastDay))!, 4);
      }
    }
  });

  it('scales with min-max fitted on the training days only', () => {
    // Training days: 2012-01-01 .. 2013-12-31 (731 days). Per feature, the raw min/max there.
    const n = 731;
    const cols = [daily.precipitation, daily.tempMax, daily.tempMin, daily.wind];
    cols.forEach((c, k) => {
      const v = Array.from(c.subarray(0, n));
      // The features are float32, so the scaler holds float32-rounded extremes.
      expect(task.xScaler.min[k]).toBe(Math.fround(Math.min(...v)));
      expect(task.xScaler.max[k]).toBe(Math.fround(Math.max(...v)));
    });
    expect(task.yScaler.min[0]).toBe(task.xScaler.min[1]);
    expect(task.yScaler.max[0]).toBe(task.xScaler.max[1]);
    // Every value in the training windows and targets lies in [0, 1]; features 4, 5 (season) too.
    const lo = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.min(m, v), Infinity);
    const hi = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, v), -Infinity);
    for (const t of [task.train.x, task.train.y]) {
      expect(lo(t.data)).toBeGreaterThanOrEqual(0);
      expect(hi(t.data)).toBeLessThanOrEqual(1);
    }
    // Each feature reaches exactly 0 and 1 inside the training windows.
    for (let k = 0; k < 6; k++) {
      const vals = Array.from({ length: task.train.x.data.length / 6 }, (_, i) => task.train.x.data[i * 6 + k]!);
      expect(lo(vals), `feature ${k}`).toBe(0);
      expect(hi(vals), `feature ${k}`).toBe(1);
    }
    // Test data may leave [0, 1] (it is scaled with the training range).
    expect(task.test.x.data.every(Number.isFinite)).toBe(true);
  });

  it('encodes the day of the year as sin/cos with period 365.25 days', () => {
    const back = task.xScaler.inverse({ data: task.train.x.data.subarray(0, 30 * 6), shape: [30, 6] }).data;
    // Window 0 starts on 2012-01-01 (day 1): angle 0 → sin 0, cos 1; day 2: angle 2π/365.25.
    expect(back[4]).toBeCloseTo(0, 5);
    expect(back[5]).toBeCloseTo(1, 5);
    expect(back[6 + 4]).toBeCloseTo(Math.sin((2 * Math.PI) / 365.25), 5);
  });

  it('persistence baseline: MAE of "tomorrow’s max = today’s max" in °C, computed independently', () => {
    const raw = rawTempMax(csv);
    const split = (from: string, to: string) => {
      let abs = 0;
      let sq = 0;
      let n = 0;
      for (const [d, v] of raw) {
        if (d < from || d >= to) continue;
        const prev = new Date(Date.parse(`${d}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
        const p = raw.get(prev);
        if (p === undefined) continue;
        abs += Math.abs(v - p);
        sq += (v - p) ** 2;
        n++;
      }
      return { mae: abs / n, rmse: Math.sqrt(sq / n), count: n };
    };
    const test = seattlePersistence(task, 'test');
    const want = split('2015-01-01', '2016-01-01');
    expect(test.count).toBe(365);
    expect(test.mae).toBeCloseTo(want.mae, 10);
    expect(test.rmse).toBeCloseTo(want.rmse, 10);
    expect(test.mae).toBeCloseTo(2.239726027397264, 12); // Python's csv module on the same file
    expect(test.rmse).toBeCloseTo(2.9071428331, 9);
    const valid = seattlePersistence(task, 'valid');
    expect(valid.mae).toBeCloseTo(split('2014-01-01', '2015-01-01').mae, 10);
    // A model that predicted the scaled targets exactly has zero error.
    expect(seattleErrors(task, task.test.y).mae).toBeCloseTo(0, 4);
    expect(() => seattleErrors(task, { data: new Float32Array(3), shape: [3, 1] })).toThrow('3 predictions for 365 test windows');
  });

  it('rejects unusable options', () => {
    expect(() => seattleTask(daily, { validStart: '2012-01-15' })).toThrow('need more than windowDays = 30');
    expect(() => seattleTask(daily, { testStart: '2016-06-01' })).toThrow('no day on or after testStart');
    expect(() => seattleTask(daily, { validStart: '2014-01-01', testStart: '2013-01-01' })).toThrow('testStart must not be before validStart');
    expect(() => seattleTask(daily, { windowDays: 0 })).toThrow('windowDays must be a positive integer');
  });
});
