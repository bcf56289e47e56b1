/**
 * The built demo on real data: the fixture is NOAA's daily Seattle weather (vega-datasets) with
 * its rows shuffled and 8 of them duplicated. The page must sort and de-duplicate by date and
 * say so, draw dates on the x-axes and data units on the y-axes (tick texts as drawn, none
 * clipped), score the model and the naive and 7-day seasonal baselines as MAE in °C (checked
 * against the same baselines computed here), say when the model loses, and export what it shows
 * as files that parse back.
 */
import { test, expect } from '@playwright/test';
import Papa from 'papaparse';
import { DATE_TICK, axesOf, baselines, cellNumber, configure, downloadOf, expectUnclipped, id, loadFixture, open, seattleTempMax, state, train, xTickTexts, yTicks } from './demo-helpers';

test.use({ viewport: { width: 1400, height: 1000 } });

const { dates, values } = seattleTempMax();
const expected = baselines(values);

test('a shuffled CSV with duplicate rows is sorted and de-duplicated by date, and the page says so', async ({ page }) => {
  const errors = await open(page);
  await loadFixture(page);
  await expect(id(page, 'csv-file')).toContainText('1,469 rows');
  const notes = id(page, 'data-notes');
  await expect(notes).toContainText('1,461 daily values, 2012-01-01 → 2015-12-31 (from 1,469 rows of the file)');
  await expect(notes).toContainText('Sorted by "date": the file\'s rows were not in date order');
  await expect(notes).toContainText('De-duplicated: dropped 8 rows whose date was already present (all exact copies)');
  const facts = JSON.parse((await notes.getAttribute('data-facts'))!) as Record<string, unknown>;
  expect(facts).toMatchObject({ fileRows: 1469, order: 'resorted', duplicates: 8, exactDuplicates: 8, filled: 0, gaps: 0 });
  await expect(id(page, 'date-column')).toHaveValue('0');

  // The whole series, by date, in °C: x ticks are dates 2012–2015, y ticks span the temperatures.
  const data = await axesOf(page, 'data-chart');
  expectUnclipped(data, 'data chart');
  const xt = xTickTexts(data);
  console.log(`demo real data: data chart x ticks ${JSON.stringify(xt)}, y ticks ${JSON.stringify(yTicks(data))}`);
  for (const t of xt) expect(t, 'a date tick').toMatch(DATE_TICK);
  expect(xt.join(' ')).toContain('2012');
  expect(xt.join(' ')).toContain('2015');
  expect(data.axes.find((a) => a.side === 3)!.label).toBe('temp_max');
  const yt = yTicks(data);
  expect(yt.every(Number.isFinite)).toBe(true);
  expect(Math.min(...yt), 'y ticks reach the coldest days (data units, not standardized)').toBeLessThanOrEqual(0);
  expect(Math.max(...yt), 'y ticks reach the hottest days').toBeGreaterThanOrEqual(30);

  // The baselines are known before any training: naive and 7-day seasonal MAE in °C.
  await expect(id(page, 'scores')).toContainText('seasonal naive: 7-day');
  await expect(id(page, 'scores')).toContainText('next-day MAE');
  const shown = { naive1: await cellNumber(page, 'naive-mae1'), naive10: await cellNumber(page, 'naive-mae10'), seasonal1: await cellNumber(page, 'seasonal-mae1'), seasonal10: await cellNumber(page, 'seasonal-mae10') };
  console.log(`demo real data: baselines shown ${JSON.stringify(shown)}, computed here ${JSON.stringify(expected)}`);
  for (const k of Object.keys(shown) as (keyof typeof shown)[]) expect(shown[k], k).toBeCloseTo(expected[k], 2);
  expect(errors).toEqual([]);
});

test('the bundled Seattle data goes through the same reading: in date order, temp_max, the same baselines', async ({ page }) => {
  const errors = await open(page);
  await id(page, 'dataset').selectOption('seattle');
  const notes = id(page, 'data-notes');
  await expect(notes).toContainText('1,461 daily values, 2012-01-01 → 2015-12-31.');
  await expect(notes).toContainText('Rows are in date order ("date", year-month-day).');
  await expect(id(page, 'csv-column')).toHaveValue('2'); // temp_max
  await expect(id(page, 'data-title')).toHaveText('Data: seattle-weather.csv · temp_max');
  expect(await cellNumber(page, 'naive-mae1')).toBeCloseTo(expected.naive1, 2);
  expect(await cellNumber(page, 'seasonal-mae10')).toBeCloseTo(expected.seasonal10, 2);
  expect(errors).toEqual([]);
});

test('pandas-style reading: semicolons, decimal commas, day-first dates, newest first, missing days interpolated', async ({ page }) => {
  const errors = await open(page);
  // The same days as a European export: "31.12.2015;8,3", newest first, five days missing
  // (in the training part, so the validation baselines stay those of the complete file).
  const removed = new Set([100, 101, 500, 900, 901]);
  const lines = dates.flatMap((d, i) => {
    if (removed.has(i)) return [];
    const [y, m, day] = d.split('-');
    return [`${day}.${m}.${y};${String(values[i]).replace('.', ',')};x`];
  });
  const text = `Datum;Tmax;Station\n${lines.reverse().join('\n')}\n`;
  await id(page, 'dataset').selectOption('csv');
  await id(page, 'csv-input').setInputFiles({ name: 'seattle-eu.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  const notes = id(page, 'data-notes');
  await expect(notes).toBeVisible();
  await expect(id(page, 'csv-file')).toContainText('1,456 rows, 1 numeric column, dates in "Datum"');
  await expect(notes).toContainText('1,461 daily values, 2012-01-01 → 2015-12-31 (from 1,456 rows of the file).');
  await expect(notes).toContainText('Read as separated by semicolons, with decimal commas (12,5 = 12.5).');
  await expect(notes).toContainText('Sorted by "Datum": the file lists the newest date first.');
  await expect(notes).toContainText('Filled 5 missing days by linear interpolation between their neighbours.');
  expect(JSON.parse((await notes.getAttribute('data-facts'))!)).toMatchObject({ fileRows: 1456, order: 'reversed', duplicates: 0, filled: 5 });
  const data = await axesOf(page, 'data-chart');
  expectUnclipped(data, 'data chart');
  expect(xTickTexts(data).join(' ')).toMatch(/2012[\s\S]*2015/);
  expect(Math.max(...yTicks(data))).toBeGreaterThanOrEqual(30);
  expect(await cellNumber(page, 'naive-mae1')).toBeCloseTo(expected.naive1, 2);
  expect(await cellNumber(page, 'seasonal-mae1')).toBeCloseTo(expected.seasonal1, 2);
  expect(errors).toEqual([]);
});

test('a trained model is scored in data units against the baselines, on date axes, and its results export as CSV and JSON', async ({ page }) => {
  const errors = await open(page);
  await loadFixture(page);
  await configure(page, { window: '30', cell: 'gru', units: '16', depth: '1', head: 'next', optimizer: 'adam', lr: '0.01', epochs: '3', 'batch-size': '32', seed: '7' });
  const t0 = Date.now();
  await train(page);
  console.log(`demo real data: GRU(16), 3 epochs, trained and evaluated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // Scores: MAE in °C for the model and both baselines, the loss scale beside them.
  const model = { mae1: await cellNumber(page, 'm-mae1'), mae10: await cellNumber(page, 'm-mae10'), mse: await cellNumber(page, 'm-val') };
  const naive1 = await cellNumber(page, 'naive-mae1'), seasonal1 = await cellNumber(page, 'seasonal-mae1');
  const naive10 = await cellNumber(page, 'naive-mae10'), seasonal10 = await cellNumber(page, 'seasonal-mae10');
  console.log(`demo real data: model MAE next day ${model.mae1} °C, 10 days ${model.mae10} °C (val MSE ${model.mse}); naive ${naive1} / ${naive10}; 7-day seasonal ${seasonal1} / ${seasonal10}`);
  for (const v of Object.values(model)) expect(v).toBeGreaterThan(0);
  expect(model.mae1, 'a next-day MAE in °C, not on the standardized scale').toBeGreaterThan(0.5);
  expect(model.mae1).toBeLessThan(10);
  // The verdict agrees with the numbers.
  const verdict = id(page, 'verdict');
  await expect(verdict).toBeVisible();
  const best1 = Math.min(naive1, seasonal1), best10 = Math.min(naive10, seasonal10);
  const kind = model.mae1 < best1 && model.mae10 < best10 ? 'beats' : model.mae1 >= best1 && model.mae10 >= best10 ? 'loses' : 'mixed';
  // (shown values are rounded to 3 digits: only check clear cases)
  if (Math.abs(model.mae1 - best1) > 0.02 && Math.abs(model.mae10 - best10) > 0.02) await expect(verdict).toHaveAttribute('data-verdict', kind);
  console.log(`demo real data: verdict: ${await verdict.innerText()}`);

  // Validation chart: dates of the validation period (the last 292 days: 2015-03-15 → 2015-12-31).
  const val = await axesOf(page, 'validation-chart');
  expectUnclipped(val, 'validation chart');
  const vx = xTickTexts(val);
  for (const t of vx) expect(t).toMatch(DATE_TICK);
  expect(vx.join(' ')).toContain('2015');
  expect(vx.join(' ')).not.toContain('2014');
  const vy = yTicks(val);
  expect(Math.max(...vy)).toBeGreaterThanOrEqual(25);
  // Every chart with ticks: nothing clipped.
  for (const testId of ['loss-chart', 'data-chart', 'future-chart']) expectUnclipped(await axesOf(page, testId), testId);
  const panels = id(page, 'forecast-chart').locator('[data-drawn=true]');
  await expect(panels).toHaveCount(3);
  for (let i = 0; i < 3; i++) {
    const a = JSON.parse((await panels.nth(i).getAttribute('data-axes'))!);
    expectUnclipped(a, `forecast panel ${i + 1}`);
    for (const t of xTickTexts(a)) expect(t).toMatch(DATE_TICK);
  }
  const future = await axesOf(page, 'future-chart');
  expect(xTickTexts(future).join(' '), 'the forecast after the data reaches into 2016').toContain('2016');

  // Exports: the forecasts as CSV.
  const fc = await downloadOf(page, 'export-forecast');
  expect(fc.name).toMatch(/\.csv$/);
  const parsed = Papa.parse<Record<string, string>>(fc.text, { header: true, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  expect(parsed.meta.fields).toEqual(['date', 'split', 'actual', 'model', 'naive', 'seasonal_7-day']);
  const validRows = parsed.data.filter((r) => r.split === 'validation');
  const futureRows = parsed.data.filter((r) => r.split === 'forecast');
  expect(validRows).toHaveLength(292);
  expect(futureRows).toHaveLength(10);
  expect(validRows[0]!.date).toBe('2015-03-15');
  expect(validRows.at(-1)!.date).toBe('2015-12-31');
  expect(futureRows.map((r) => r.date)).toEqual(Array.from({ length: 10 }, (_, k) => `2016-01-${String(k + 1).padStart(2, '0')}`));
  const byDate = new Map(dates.map((d, i) => [d, values[i]!]));
  let absErr = 0;
  for (const r of validRows) {
    expect(Number(r.actual), r.date).toBe(byDate.get(r.date!));
    expect(Number.isFinite(Number(r.model))).toBe(true);
    absErr += Math.abs(Number(r.model) - Number(r.actual));
  }
  for (const r of futureRows) {
    expect(r.actual).toBe('');
    expect(Number.isFinite(Number(r.model))).toBe(true);
  }
  expect(absErr / validRows.length, 'the MAE of the exported forecasts is the one shown').toBeCloseTo(model.mae1, 1);

  // Loss history as CSV and JSON: one row per epoch.
  const hc = await downloadOf(page, 'export-history-csv');
  const hist = Papa.parse<Record<string, string>>(hc.text, { header: true, skipEmptyLines: true });
  expect(hist.errors).toEqual([]);
  expect(hist.meta.fields).toEqual(['epoch', 'loss', 'val_loss', 'elapsed_s']);
  expect(hist.data.map((r) => Number(r.epoch))).toEqual([1, 2, 3]);
  const lossShown = JSON.parse((await id(page, 'loss-chart').getAttribute('data-val-loss'))!) as number[];
  hist.data.forEach((r, i) => {
    expect(Number(r.val_loss)).toBeCloseTo(lossShown[i]!, 5);
    expect(Number(r.elapsed_s)).toBeGreaterThan(0);
  });
  const hj = JSON.parse((await downloadOf(page, 'export-history-json')).text) as { format: string; epochs: { epoch: number; loss: number; val_loss: number }[] };
  expect(hj.format).toBe('webgpu-rnn-history');
  expect(hj.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
  expect(hj.epochs[2]!.val_loss).toBeCloseTo(lossShown[2]!, 5);

  // Run settings as JSON: the config, the data (with its cleaning) and the scores.
  const settings = JSON.parse((await downloadOf(page, 'export-settings')).text) as {
    format: string;
    config: Record<string, unknown>;
    data: Record<string, unknown>;
    scores: { model: { mae_next: number }; naive: { mae_next: number }; seasonal: { mae_next: number }; seasonalPeriod: string };
    epochsTrained: number;
  };
  expect(settings.format).toBe('webgpu-rnn-run');
  expect(settings.config).toMatchObject({ cell: 'gru', units: 16, depth: 1, head: 'next', window: 30, epochs: 3, seed: 7 });
  expect(settings.data).toMatchObject({ kind: 'series', name: 'seattle-weather-shuffled.csv', column: 'temp_max', dateColumn: 'date', rows: 1461, first: '2012-01-01', last: '2015-12-31', frequency: 'daily', validationFrom: '2015-03-15', validationTo: '2015-12-31' });
  expect(settings.scores.seasonalPeriod).toBe('7-day');
  expect(settings.scores.naive.mae_next).toBeCloseTo(expected.naive1, 4);
  expect(settings.scores.seasonal.mae_next).toBeCloseTo(expected.seasonal1, 4);
  expect(settings.scores.model.mae_next).toBeCloseTo(model.mae1, 1);
  expect(settings.epochsTrained).toBe(3);
  expect(errors).toEqual([]);
});

test('a model that loses to the baseline is said to', async ({ page }) => {
  const errors = await open(page);
  await loadFixture(page);
  // One unit, a tiny learning rate, one epoch: the model has learned next to nothing.
  await configure(page, { window: '14', cell: 'simpleRNN', units: '1', depth: '1', head: 'next', optimizer: 'adam', lr: '0.0001', epochs: '1', 'batch-size': '64', seed: '1' });
  await train(page);
  const verdict = id(page, 'verdict');
  await expect(verdict).toHaveAttribute('data-verdict', 'loses');
  await expect(verdict).toContainText('does not beat the baseline');
  await expect(verdict).toContainText('naive (last value)');
  const model = await cellNumber(page, 'm-mae1');
  expect(model).toBeGreaterThan(expected.naive1);
  await expect(verdict).toContainText(`vs ${expected.naive1.toPrecision(3)} temp_max`);
  console.log(`demo real data: losing model: ${await verdict.innerText()}`);
  await expect(state(page)).toHaveAttribute('data-state', 'done');
  expect(errors).toEqual([]);
});
