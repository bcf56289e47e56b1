/**
 * The demo's data rules without a browser (Playwright runs these in Node; they need no page):
 * date formats, frequency and seasonality, CSV reading (delimiters, decimal commas, quotes, line
 * numbers), cleaning (sort, de-duplicate, fill), the split, the baselines and the CSV export's
 * quoting. The browser specs check the same rules end to end on real files.
 */
import { test, expect } from '@playwright/test';
import { csvField, toCsv } from '../../demo/exports';
import { CsvError, parseCsv } from '../../demo/csv';
import { DAY, HOUR, detectDateFormat, inferFrequency, nextTimes, parseDate, seasonality } from '../../demo/dates';
import { baselineScores, buildSeries, minRows, split } from '../../demo/series';

const utc = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : `${s}Z`);

test('dates: formats are recognised per column and read as naive UTC', () => {
  expect(detectDateFormat(['2015-03-05', '2015-03-06'])).toBe('iso');
  expect(detectDateFormat(['2015/03/05 14:00:00', '2015/03/05 15:00:00'])).toBe('iso');
  expect(detectDateFormat(['2015-03', '2015-04'])).toBe('ym');
  expect(detectDateFormat(['Jan 1 2000', 'Feb 1 2000'])).toBe('named');
  expect(detectDateFormat(['13/01/2015', '14/01/2015'])).toBe('dmy'); // a first field above 12: day first
  expect(detectDateFormat(['01/13/2015', '01/14/2015'])).toBe('mdy');
  expect(detectDateFormat(['05/03/2015', '06/03/2015'])).toBe('mdy'); // ambiguous: month first, as pandas
  expect(detectDateFormat(['05.03.2015', '06.03.2015'])).toBe('dmy'); // dots: European
  expect(detectDateFormat(['12', '13'])).toBeNull();
  expect(detectDateFormat(['2024-01-0', '2024-01-32', '2024-01-05'])).toBeNull();
  expect(parseDate('2015-03-05', 'iso')).toBe(utc('2015-03-05'));
  expect(parseDate('2015-03-05T14:30:00', 'iso')).toBe(utc('2015-03-05T14:30:00'));
  expect(parseDate('2015-03-05T14:30:00+01:00', 'iso')).toBe(utc('2015-03-05T13:30:00'));
  expect(parseDate('2015-03-05 14:30:00.250Z', 'iso')).toBe(utc('2015-03-05T14:30:00') + 250);
  expect(parseDate('2016-02-29', 'iso')).toBe(utc('2016-02-29'));
  expect(parseDate('2015-02-29', 'iso')).toBeNaN();
  expect(parseDate('1 January 2000', 'named')).toBe(utc('2000-01-01'));
  expect(parseDate('01-Jan-2000', 'named')).toBe(utc('2000-01-01'));
  expect(parseDate('Janvier 1 2000', 'named')).toBeNaN();
  expect(new Date(parseDate('0099-12-31', 'iso')).getUTCFullYear()).toBe(99);
});

test('dates: frequency, seasonal period and the steps after the data', () => {
  const days = Array.from({ length: 30 }, (_, i) => utc('2020-01-01') + i * DAY);
  expect(inferFrequency(days)).toMatchObject({ kind: 'day', label: 'daily' });
  expect(seasonality(inferFrequency(days))).toEqual({ period: 7, label: '7-day' });
  const weekdays = days.filter((t) => ![0, 6].includes(new Date(t).getUTCDay()));
  const b = inferFrequency(weekdays);
  expect(b.kind).toBe('business-day');
  expect(seasonality(b)?.period).toBe(5);
  expect(nextTimes(utc('2020-01-03'), b, 2, DAY)).toEqual([utc('2020-01-06'), utc('2020-01-07')]); // Friday → Monday
  const hours = Array.from({ length: 50 }, (_, i) => utc('2020-01-01T00:00:00') + i * HOUR);
  expect(seasonality(inferFrequency(hours))).toEqual({ period: 24, label: '24-hour' });
  const months = Array.from({ length: 24 }, (_, i) => Date.UTC(2020, i, 1));
  const m = inferFrequency(months);
  expect(m.kind).toBe('month');
  expect(seasonality(m)?.period).toBe(12);
  expect(nextTimes(Date.UTC(2020, 0, 31), m, 2, 0)).toEqual([Date.UTC(2020, 1, 29), Date.UTC(2020, 2, 31)]);
});

test('CSV: delimiters, decimal commas, quotes with line breaks, BOM and the line numbers of problems', () => {
  const t = parseCsv('\uFEFFdate;value;note\r\n2020-01-01;1,5;"a; b"\r\n2020-01-02;2,5;"line\r\nbreak"\r\n\r\n2020-01-03;x;c\r\n2020-01-04;4;d\r\n2020-01-05;5;e\r\n', 'eu.csv');
  expect(t).toMatchObject({ delimiter: ';', decimalComma: true, hasHeader: true, columns: ['date', 'value', 'note'], rows: 5 });
  expect(Array.from(t.lines), 'the line each row starts on (a quoted line break, a blank line)').toEqual([2, 3, 6, 7, 8]);
  expect(t.numeric).toEqual([1]);
  expect(Array.from(t.numbers[1]!)).toEqual([1.5, 2.5, NaN, 4, 5]);
  expect(() => buildSeries(t, 0, 1)).toThrow(/"value" has 'x' on line 6/);
  expect(() => parseCsv('a,b\n1,2\n3\n', 'r.csv')).toThrow(/line 3 has 1 field/);
  expect(() => parseCsv('', 'e.csv')).toThrow(CsvError);
  const headerless = parseCsv('2020-01-01,1\n2020-01-02,2\n', 'h.csv');
  expect(headerless.hasHeader).toBe(false);
  expect(headerless.columns).toEqual(['column 1', 'column 2']);
  expect(headerless.dates.map((d) => d.column)).toEqual([0]);
  const years = parseCsv('year,temp\n1880,-0.17\n1881,-0.09\n1882,-0.1\n', 'g.csv');
  expect(years.dates.map((d) => d.format)).toEqual(['year']);
  expect(years.numeric).toEqual([1]);
});

test('cleaning: sorted and de-duplicated by date (first row kept), gaps interpolated, each said', () => {
  const t = parseCsv('d,v,w\n2020-01-03,3,a\n2020-01-01,1,a\n2020-01-03,3,a\n2020-01-02,2,a\n2020-01-02,9,b\n2020-01-05,5,a\n2020-01-06,6,a\n2020-01-08,8,a\n', 'x.csv');
  const s = buildSeries(t, 0, 1);
  expect(Array.from(s.values)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(s.facts).toMatchObject({ fileRows: 8, order: 'resorted', duplicates: 2, exactDuplicates: 1, filled: 2 });
  expect(s.notes[0]).toBe('8 daily values, 2020-01-01 → 2020-01-08 (from 8 rows of the file).');
  expect(s.notes).toContain('De-duplicated: dropped 2 rows whose date was already present (1 exact, 1 with different values); the first row of each date is kept.');
  expect(s.notes).toContain('Filled 2 missing days by linear interpolation between their neighbours.');
  // too many gaps: not filled, said
  const sparse = parseCsv('d,v\n2020-01-01,1\n2020-01-05,2\n2020-01-09,3\n2020-01-13,4\n2020-01-14,5\n2020-01-15,6\n2020-01-16,7\n', 's.csv');
  const ss = buildSeries(sparse, 0, 1);
  expect(ss.values.length).toBe(7);
  expect(ss.notes.join(' ')).toMatch(/9 days are missing \(56% of the span\) — too many to interpolate/);
  // dates off the grid of their usual spacing: used as they are, said
  const off = buildSeries(parseCsv('t,v\n2020-01-01 00:00,1\n2020-01-01 01:00,2\n2020-01-01 02:00,3\n2020-01-01 03:00,4\n2020-01-01 03:30,5\n2020-01-01 04:30,6\n', 'o.csv'), 0, 1);
  expect(off.values.length).toBe(6);
  expect(off.notes).toContain('Most dates are one hour apart, but not all fall on that grid: the rows are used as consecutive steps.');
  expect(() => buildSeries(parseCsv('d,v\n2020-01-01,2\n2020-01-02,2\n2020-01-03,2\n', 'c.csv'), 0, 1)).toThrow(/constant/);
});

test('split and baselines: the most recent 20% (at most 1,000) validate; naive and seasonal MAE', () => {
  expect(split(1461, 30, 1)).toEqual({ cut: 1169, validRows: 292, train: 1139, valid1: 292, valid10: 283 });
  expect(split(100_000, 30, 1).validRows).toBe(1000);
  expect(minRows(30, 1)).toBe(58);
  const v = Array.from({ length: 200 }, (_, i) => (i % 7) * 10 + i * 0.1); // weekly pattern + trend
  const b = baselineScores(v, split(200, 14, 1), 1, 1, 7);
  expect(b.seasonal!.mae1).toBeCloseTo(0.7, 6); // a week of trend
  expect(b.seasonal!.mae1).toBeLessThan(b.naive.mae1);
});

test('CSV export: fields quoted as RFC 4180 says, numbers without float noise', () => {
  expect(csvField('a,b')).toBe('"a,b"');
  expect(csvField('say "hi"')).toBe('"say ""hi"""');
  expect(csvField('two\nlines')).toBe('"two\nlines"');
  expect(csvField(0.1 + 0.2)).toBe('0.3');
  expect(csvField(NaN)).toBe('');
  expect(csvField(null)).toBe('');
  expect(toCsv(['a', 'b'], [[1, 'x']])).toBe('a,b\r\n1,x\r\n');
});
