/**
 * Training in a Web Worker from the library (rnn.worker) in Chromium (WebGPU on SwiftShader):
 * the chapter's LSTM trains in the Worker while the page keeps answering input; stop() ends a
 * fit after the current batch; the Worker's logs and weights are the page's own for the same
 * seed; errors cross back with their messages. Page: test/browser/worker-page.ts.
 */
import { test, expect, type Page } from '@playwright/test';

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
};

async function open(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('/test/browser/worker.html');
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return errors;
}

test('the chapter LSTM trains in the Worker while the main thread answers input (median delay < 50 ms)', async ({ page }) => {
  const errors = await open(page);
  await page.locator('#probe').focus();
  const run = page.evaluate(() => (window as any).workerHarness.trainChapterLstm(1000, 2));
  let done = false;
  void run.finally(() => (done = true));
  // While it trains: a key press every 100 ms (its handler records how late it ran) and a
  // round trip to the page's main thread.
  const roundTrips: number[] = [];
  while (!done) {
    await page.keyboard.press('a');
    const t0 = Date.now();
    await page.evaluate(() => 0);
    roundTrips.push(Date.now() - t0);
    await page.waitForTimeout(100);
  }
  const r = await run;
  const delays: number[] = r.inputDelays;
  console.log(`worker training: ${r.adapter}; ${(r.trainMs / 1000).toFixed(1)} s for 2 epochs of 22 batches; ` +
    `input delay median ${median(delays).toFixed(1)} ms (max ${Math.max(...delays).toFixed(1)}, n ${delays.length}); ` +
    `round trip median ${median(roundTrips)} ms (max ${Math.max(...roundTrips)}); val_lastTimeStepMse ${r.history.val_lastTimeStepMse}`);
  expect(r.summary).toContain('LSTM');
  expect(r.params).toBe(5250); // Keras: LSTM 1760 + LSTM 3280 + Dense 210
  expect(r.history.loss).toHaveLength(2);
  expect(r.history.val_lastTimeStepMse[1]).toBeLessThan(r.history.val_lastTimeStepMse[0]);
  // the page's callbacks got the epochs' logs, the same as the history
  expect(r.epochLogs.map((l: Record<string, number>) => l.val_loss)).toEqual(r.history.val_loss);
  expect(r.progress).toBeGreaterThan(2);
  expect(r.lastProgress).toMatchObject({ kind: 'epoch', epoch: 1, epochs: 2, batch: 22, batches: 22 });
  // transfer: true moved the training inputs to the Worker
  expect(r.transferred.before).toBeGreaterThan(0);
  expect(r.transferred.after).toBe(0);
  expect(delays.length).toBeGreaterThan(10);
  expect(median(delays)).toBeLessThan(50);
  expect(median(roundTrips)).toBeLessThan(50);
  expect(errors).toEqual([]);
});

test('stop() ends the fit after the current batch', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => (window as any).workerHarness.stopAfterBatch(3));
  console.log(`stop: asked when batch ${r.stoppedAt} had ended, reached the worker after ${r.reached} batches, last batch ${r.lastBatch}, fit resolved ${r.endMs.toFixed(0)} ms later`);
  expect(r.stoppedAt).toBe(3);
  expect(r.epochs).toBe(1); // of 50
  // The worker runs ahead of the page's callbacks (batches are submitted to the GPU without
  // waiting), so the stop reaches it a few batches later; from there the batch in progress
  // finishes and training ends.
  expect(r.reached).toBeGreaterThan(r.stoppedAt);
  expect(r.lastBatch + 1 - r.reached).toBeLessThanOrEqual(1);
  expect(r.endMs).toBeLessThan(5000);
  expect(errors).toEqual([]);
});

test('the Worker gives the same logs and weights as training on the page; errors come back with their messages', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => (window as any).workerHarness.sameAsPage());
  expect(r.worker).toEqual(r.page);
  expect(r.workerLogs).toEqual(r.pageLogs);
  expect(r.workerWeights).toEqual(r.pageWeights);
  expect(r.weightNames).toHaveLength(5);
  expect(r.forecastShape).toEqual([60, 4]);
  const messages: string[] = await page.evaluate(() => (window as any).workerHarness.errors());
  expect(messages[0]).toMatch(/TypeError: sequential: layers\[0\]: unknown type 'lstmm' \(known: .*lstm/);
  expect(messages[1]).toMatch(/compile/);
  expect(errors).toEqual([]);
});

test("the app's own worker module: a model built with code (custom cell), a dataset made in the worker, and the app's messages on the same Worker", async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => (window as any).workerHarness.customWorker());
  expect(r.summary).toContain('rnn (RNN)');
  expect(r.weightNames).toHaveLength(7); // the cell's 5 + Dense's 2
  expect(r.loss).toHaveLength(1);
  expect(Number.isFinite(r.loss[0])).toBe(true);
  // fitDataset: batches from the worker's own data (140 training windows, batches of 32)
  expect(r.datasetHistory.loss).toHaveLength(2);
  expect(r.datasetHistory.val_loss).toHaveLength(2);
  expect(r.lastProgress).toMatchObject({ kind: 'epoch', epoch: 1, epochs: 2, batch: 5, batches: 5 });
  expect(r.pongs).toEqual([{ type: 'pong', echo: 1 }, { type: 'pong', echo: 2 }]);
  expect(r.missing).toMatch(/no model named 'nope' in this worker \(serve\(\{models\}\) has: lnRnn\)/);
  // stop() sent while the worker was still making the dataset: the fit ended after its first batch
  console.log(`worker: stop before training began: ${r.earlyStop.loss.length} epoch(s), batch progress ${JSON.stringify(r.earlyBatches)}`);
  expect(r.earlyStop.loss).toHaveLength(1);
  expect(r.earlyBatches).toEqual([1]);
  expect(errors).toEqual([]);
});
