/**
 * The BUILT browser demo (dist-demo/, served by `vite preview` on loopback: see the second
 * webServer in playwright.config.ts), driven like a user would: train a small LSTM in the
 * worker while the page stays responsive, CSV files (malformed and valid), Stop (also before the
 * model exists). Saving and loading models: demo-models.spec.ts and demo-weights.spec.ts; the
 * real-data, large-file, accessibility, CSP and screenshot checks are in the other demo-*.spec.ts files.
 */
import { test, expect, type Page } from '@playwright/test';
import { DEMO_URL, configure, id, open, shot } from './demo-helpers';

const VIEWPORT = { width: 1400, height: 1000 };

test.use({ viewport: VIEWPORT });

/**
 * Clicks the loss chart's log-scale checkbox inside the page, as a user would during training:
 * its handler updates a label at once (the chart redraws with the next frame). Returns the
 * click → label time and the time to the next animation frame (both in the page), and the round
 * trip seen from the test, which would grow if training blocked the page's main thread.
 */
async function probe(page: Page): Promise<{ changed: boolean; handlerMs: number; frameMs: number; roundTripMs: number }> {
  const t0 = performance.now();
  const r = await page.evaluate(async () => {
    const box = document.querySelector<HTMLInputElement>('[data-testid=log-scale]')!;
    const label = document.querySelector('[data-testid=y-scale-label]')!;
    const before = label.textContent;
    const t = performance.now();
    box.click();
    const changed = label.textContent !== before;
    const handlerMs = performance.now() - t;
    await new Promise((res) => requestAnimationFrame(() => res(null)));
    return { changed, handlerMs, frameMs: performance.now() - t };
  });
  return { ...r, roundTripMs: performance.now() - t0 };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const list = (a: number[]) => a.map((v) => v.toFixed(0)).join('/');

/** Non-transparent pixels of the canvases inside an element. */
async function inkedPixels(page: Page, testId: string): Promise<number> {
  return id(page, testId).evaluate((el) => {
    let n = 0;
    for (const c of el.querySelectorAll('canvas')) {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
    }
    return n;
  });
}

test('trains a small LSTM on the synthetic series in a worker while the page stays responsive', async ({ page }, info) => {
  const errors = await open(page);
  await shot(page, info, 'demo-idle');
  await configure(page, { dataset: 'synthetic', 'train-series': '300', window: '50', cell: 'lstm', units: '8', depth: '1', head: 'next', optimizer: 'adam', lr: '0.01', epochs: '2', 'batch-size': '32', seed: '42' });
  await expect(id(page, 'summary')).toContainText('LSTM');
  await expect(id(page, 'param-count')).toHaveText('329'); // LSTM(8) on 1 feature: 4·8·(1+8+1) = 320, Dense(1): 9
  await expect(id(page, 'start')).toBeEnabled();

  await page.evaluate(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask' });
  });
  const t0 = Date.now();
  await id(page, 'start').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'training');

  // Probe the page while the worker trains.
  const probes: Awaited<ReturnType<typeof probe>>[] = [];
  while ((await page.locator('body').getAttribute('data-state')) === 'training' && Date.now() - t0 < 120_000) {
    probes.push(await probe(page));
    await page.waitForTimeout(100);
  }
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const trainMs = Date.now() - t0;
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
  const roundTrips = probes.map((p) => p.roundTripMs);
  console.log(
    `demo: trained in ${(trainMs / 1000).toFixed(1)} s; ${probes.length} probes during training: click → label ${list(probes.map((p) => p.handlerMs))} ms, ` +
      `→ next frame ${list(probes.map((p) => p.frameMs))} ms, round trip from the test ${list(roundTrips)} ms (median ${median(roundTrips).toFixed(0)}); ` +
      `main-thread long tasks: ${longTasks.length ? `${list(longTasks)} ms` : 'none'}; throughput ${await id(page, 'throughput').innerText()}`,
  );
  expect(probes.length, 'the page was probed during training').toBeGreaterThanOrEqual(3);
  for (const p of probes) {
    expect(p.changed, 'the click handler updated the label').toBe(true);
    expect(p.handlerMs, 'click → label updated').toBeLessThan(200);
  }
  // The page answered the test within 200 ms. The median, because on a shared 2-core machine
  // the test runner itself is sometimes descheduled; training on the main thread would block
  // most probes, not a few.
  expect(median(roundTrips), 'median round trip of a click from the test (ms)').toBeLessThan(200);

  // Loss curve: two epochs, validation loss fell, below the naive baseline's reference line.
  const chart = id(page, 'loss-chart');
  await expect(chart).toHaveAttribute('data-points', '2');
  const val = JSON.parse((await chart.getAttribute('data-val-loss'))!) as number[];
  console.log(`demo: val_loss ${val.join(', ')}; naive ${await id(page, 'm-naive').innerText()}`);
  expect(val).toHaveLength(2);
  expect(val[1]!).toBeLessThan(val[0]!);
  expect(val[1]!).toBeLessThan(Number(await id(page, 'm-naive').innerText()));
  expect(await inkedPixels(page, 'loss-chart')).toBeGreaterThan(500);

  // Forecasts: three validation windows, drawn.
  const panels = id(page, 'forecast-chart').locator('[data-drawn=true]');
  await expect(panels).toHaveCount(3);
  expect(await inkedPixels(page, 'forecast-chart')).toBeGreaterThan(1500);
  await expect(id(page, 'm-mae10')).not.toHaveText('—');
  await expect(id(page, 'note')).toContainText('Trained 2 epochs');
  await expect(id(page, 'error')).toBeHidden();
  await shot(page, info, 'demo-finished');
  expect(errors).toEqual([]);
});

test('a malformed CSV shows a clear error and the page keeps working', async ({ page }) => {
  const errors = await open(page);
  await configure(page, { dataset: 'csv' });
  const input = id(page, 'csv-input');
  const dataError = id(page, 'data-error');
  const file = (name: string, text: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) });
  const cases: [string, string, RegExp][] = [
    ['ragged.csv', 'day,temp\n1,10.5\n2,11\n3\n4,12,7\n', /ragged rows.*line 4 has 1 field.*line 5 has 3 fields/],
    ['words.csv', 'city,weather\nSeattle,rain\nParis,sun\n', /no numeric column/],
    ['nan.csv', 'v\n' + Array.from({ length: 200 }, (_, i) => (i === 57 ? 'NaN' : String(Math.sin(i)))).join('\n'), /"v" has 'NaN' on line 59/],
    ['short.csv', 'v\n1\n2\n3\n4\n', /Too few rows/],
    ['empty.csv', '\n\n', /is empty/],
  ];
  for (const [name, text, message] of cases) {
    await input.setInputFiles(file(name, text));
    await expect(dataError, name).toBeVisible();
    await expect(dataError, name).toContainText(message);
    await expect(id(page, 'start'), name).toBeDisabled();
  }
  // A valid file clears the error; the page trains on it.
  const good = 'date,value,label\n' + Array.from({ length: 240 }, (_, i) => `2024-01-${i},${(Math.sin(i / 5) * 3 + 10).toFixed(3)},x`).join('\n');
  await input.setInputFiles(file('good.csv', good));
  await expect(dataError).toBeHidden();
  await expect(id(page, 'csv-column')).toBeEnabled();
  await expect(id(page, 'csv-column').locator('option')).toHaveText(['value']);
  await configure(page, { window: '20', cell: 'gru', units: '4', epochs: '1' });
  await expect(id(page, 'start')).toBeEnabled();
  await id(page, 'start').click();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(id(page, 'data-title')).toContainText('good.csv · value');
  await expect(id(page, 'data-notes')).toContainText('No date column found: rows are used in file order.');
  await expect(id(page, 'loss-chart')).toHaveAttribute('data-points', '1');
  expect(errors).toEqual([]);
});

test('Stop ends training after the current batch and keeps the weights', async ({ page }) => {
  const errors = await open(page);
  await configure(page, { dataset: 'synthetic', 'train-series': '1000', cell: 'simpleRNN', units: '8', depth: '1', head: 'next', epochs: '50' });
  await id(page, 'start').click();
  // Conditions, not intermediate states: fast epochs may go from 0 to 2 points between two polls.
  const points = async () => Number(await id(page, 'loss-chart').getAttribute('data-points'));
  await expect.poll(points, { timeout: 60_000, message: 'at least one epoch has ended' }).toBeGreaterThanOrEqual(1);
  // The epochs seen when Stop is clicked, read in the same task as the click.
  const before = await page.evaluate(() => {
    const n = Number(document.querySelector('[data-testid=loss-chart]')!.getAttribute('data-points'));
    document.querySelector<HTMLButtonElement>('[data-testid=stop]')!.click();
    return n;
  });
  const t0 = Date.now();
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  console.log(`demo: stop → done in ${Date.now() - t0} ms (incl. the forecasts); ${before} epoch(s) before Stop`);
  await expect(id(page, 'note')).toContainText('after you pressed Stop');
  const after = await points();
  // the epoch in progress ends with a point; if the worker was at an epoch's last batch when
  // the message arrived, that epoch's point and one for the next epoch's first batch
  expect(after, 'at most the epochs in progress are added after Stop').toBeLessThanOrEqual(before + 2);
  expect(after).toBeLessThan(50);
  await expect(id(page, 'save')).toBeEnabled();
  await expect(id(page, 'forecast-chart').locator('[data-drawn=true]')).toHaveCount(3);
  expect(errors).toEqual([]);
});

test('Stop pressed right after Train is not lost: nothing trains, the untrained model is scored', async ({ page }) => {
  const errors = await open(page);
  await configure(page, { dataset: 'synthetic', 'train-series': '300', window: '20', cell: 'lstm', units: '4', depth: '1', head: 'next', epochs: '50' });
  await expect(id(page, 'start')).toBeEnabled();
  // both clicks in one task: the model does not exist yet in the worker when Stop is pressed
  await page.evaluate(() => {
    document.querySelector<HTMLButtonElement>('[data-testid=start]')!.click();
    document.querySelector<HTMLButtonElement>('[data-testid=stop]')!.click();
  });
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(id(page, 'note')).toContainText('after you pressed Stop');
  await expect(id(page, 'loss-chart')).toHaveAttribute('data-points', '0');
  await expect(id(page, 'm-mae1')).not.toHaveText('—');
  await expect(id(page, 'forecast-chart').locator('[data-drawn=true]')).toHaveCount(3);
  expect(errors).toEqual([]);
});

test('without WebGPU the page says which browsers and settings enable it', async ({ page }) => {
  await page.addInitScript(() => {
    delete (Navigator.prototype as { gpu?: unknown }).gpu;
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(DEMO_URL);
  const banner = id(page, 'no-webgpu');
  await expect(banner).toBeVisible();
  for (const text of ['Chrome or Edge 113+', 'chrome://flags/#enable-unsafe-webgpu', 'Safari 26+', 'Firefox 141+ on Windows', 'https or from localhost']) await expect(banner).toContainText(text);
  await expect(id(page, 'gpu-status')).toHaveAttribute('data-gpu', 'none');
  await expect(id(page, 'start')).toBeDisabled();
  await expect(id(page, 'summary')).toContainText('LSTM'); // the model builder still works
  expect(errors).toEqual([]);
});
