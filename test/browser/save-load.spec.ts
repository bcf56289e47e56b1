/**
 * Whole models in a browser page (Chromium, WebGPU on SwiftShader): a trained model is saved to
 * IndexedDB, the page is reloaded, and the model loads — with rnn.loadModel on the page and with
 * trainer.loadModel in a Worker — and predicts bit-identical values; a model in a Worker saves
 * through the page; listModels and removeModel manage the stored models. Page:
 * test/browser/save-load-page.ts.
 */
import { test, expect, type Page } from '@playwright/test';

async function open(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('/test/browser/save-load.html');
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  return errors;
}

test('a model saved to IndexedDB loads after a reload and predicts the same bits; listModels and removeModel', async ({ page }) => {
  let errors = await open(page);
  const name = 'lstm forecaster';
  const saved = await page.evaluate((n) => (window as any).saveLoad.trainAndSave(n), name);
  console.log(`save-load: saved ${JSON.stringify(saved.saved)}`);
  expect(saved.saved).toMatchObject({ url: `indexeddb://${name}`, format: 'webgpu-rnn' });
  expect(saved.saved.files.map((f: { name: string }) => f.name).sort()).toEqual(['model.json', 'weights.bin']);
  expect(saved.y.length).toBeGreaterThanOrEqual(40); // the validation windows of 200 series
  expect(errors).toEqual([]);

  await page.reload();
  errors = await open(page);
  const r = await page.evaluate((n) => (window as any).saveLoad.loadAndPredict(n), name);
  console.log(`save-load: listed ${JSON.stringify(r.listed)}; from the Worker as tfjs: ${JSON.stringify(r.savedFromWorker)}`);
  expect(Object.keys(r.listed)).toContain(name);
  expect(r.listed[name]).toMatchObject({ format: 'webgpu-rnn', files: ['model.json', 'weights.bin'] });
  expect(r.listed[name].bytes).toBeGreaterThan(3 * 4 * 329); // LSTM(8) 320 and Dense 9 weights, Adam's two moments of each
  expect(Date.now() - Date.parse(r.listed[name].savedAt)).toBeLessThan(10 * 60_000);
  expect(r.summary).toContain('LSTM');
  expect(r.y, 'rnn.loadModel on the page: the same bits').toEqual(saved.y);
  expect(r.yWorker, 'trainer.loadModel in a Worker: the same bits').toEqual(saved.y);
  expect(r.yAgain, 'saved from the Worker (tfjs files), loaded on the page: the same bits').toEqual(saved.y);
  expect(r.loaded).toMatchObject({ url: `indexeddb://${name}`, format: 'webgpu-rnn', trainingState: true, metadata: null });
  expect(r.loaded.modelTopology.className).toBe('Sequential');
  expect(r.loaded.trainingConfig.optimizer.className).toMatch(/adam/i);
  expect(r.savedFromWorker.format).toBe('tfjs');
  expect(r.savedFromWorker.files.map((f: { name: string }) => f.name).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
  expect(r.missingTask).toMatch(/no task named 'nope'/);
  expect(r.missing).toMatch(/no-such-model/);

  const gone = await page.evaluate((n) => (window as any).saveLoad.remove(n), name);
  expect(Object.keys(gone.after)).not.toContain(name);
  expect(gone.again).toMatch(/no such model/);
  expect(gone.load).toMatch(/no model named/);
  expect(errors).toEqual([]);
});
