/**
 * Whole models in the demo (the library's model.save / loadModel through its Worker helper):
 * saved in the browser's IndexedDB, listed, loaded after a page reload and deleted; downloaded as
 * a Keras `.keras` zip and as a TensorFlow.js model.json + .bin (files checked here), and loaded
 * back by the file picker — each giving the same forecasts as the trained model; a weights file
 * of an older demo still loads; damaged files give an error next to the Load control and leave
 * the current model as it was.
 */
import { test, expect, type Download, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { configure, downloadOf, id, open, state, train } from './demo-helpers';

test.use({ viewport: { width: 1400, height: 1000 } });

/** A small LSTM stack with the Dense(10) head on the synthetic series (trains in seconds). */
const SMALL = { dataset: 'synthetic', 'train-series': '100', window: '20', cell: 'lstm', units: '6', depth: '2', head: 'vector10', epochs: '1', seed: '7' };

/** Everything a load could change, and the forecasts (the exported CSV: 7 significant digits). */
async function snapshot(page: Page): Promise<Record<string, string | null>> {
  const s: Record<string, string | null> = {};
  for (const f of ['cell', 'units', 'depth', 'head', 'window', 'seed']) s[f] = await id(page, f).inputValue();
  for (const t of ['scores', 'note', 'status']) s[t] = await id(page, t).innerText();
  s.state = await state(page).getAttribute('data-state');
  s.forecast = (await downloadOf(page, 'export-forecast')).text;
  return s;
}

async function files(page: Page, testId: string, count: number): Promise<{ name: string; bytes: Buffer }[]> {
  const seen: Download[] = [];
  const all = new Promise<void>((resolve) => {
    const on = (d: Download) => {
      seen.push(d);
      if (seen.length === count) {
        page.off('download', on);
        resolve();
      }
    };
    page.on('download', on);
  });
  await id(page, testId).click();
  await all;
  return Promise.all(seen.map(async (d) => ({ name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) })));
}

async function confirmLoad(page: Page, lead: RegExp | string): Promise<void> {
  await expect(id(page, 'load-dialog')).toBeVisible({ timeout: 60_000 });
  await expect(id(page, 'load-lead')).toContainText(lead);
  await id(page, 'load-confirm').click();
  await expect(state(page)).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(id(page, 'note')).toContainText('Loaded');
}

test('a model saved in IndexedDB survives a reload, loads with the same forecasts, and can be deleted', async ({ page }) => {
  let errors = await open(page);
  await configure(page, SMALL);
  await train(page);
  const trained = await snapshot(page);
  await id(page, 'save-name').fill('small lstm 100%');
  await id(page, 'save').click();
  await expect(id(page, 'save-note')).toContainText('Saved "small lstm 100%" in this browser');
  const row = id(page, 'saved-list').locator('tr[data-name="small lstm 100%"]');
  await expect(row).toContainText('webgpu-rnn');
  expect(errors).toEqual([]);

  await page.reload();
  errors = await open(page);
  await expect(row).toBeVisible();
  const cells = await row.locator('td').allInnerTexts();
  console.log(`demo models: saved row after reload: ${cells.slice(0, 4).join(' | ')}`);
  expect(cells[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  expect(cells[2]).toMatch(/KB|bytes/);
  // the data of the run (the model's settings come from the file)
  await configure(page, { dataset: 'synthetic', 'train-series': '100' });
  await row.getByTestId('saved-load').click();
  await confirmLoad(page, '"small lstm 100%" (saved in this browser) holds an LSTM(6) ×2 → Dense(10) model with');
  await expect(id(page, 'load-lead')).toContainText('trained for 1 epoch on the synthetic series');
  const loaded = await snapshot(page);
  expect(loaded.forecast, 'the same forecasts after save → reload → load').toBe(trained.forecast);
  for (const f of ['cell', 'units', 'depth', 'head', 'window', 'seed']) expect(loaded[f], f).toBe(trained[f]);

  await row.getByTestId('saved-delete').click();
  await expect(row).toHaveCount(0);
  await expect(id(page, 'saved-list')).toContainText('none yet');
  expect(await page.evaluate(() => indexedDB.databases().then((d) => d.map((x) => x.name)))).toContain('webgpu-rnn');
  expect(errors).toEqual([]);
});

test('downloads as .keras and TensorFlow.js, loads them back by the file picker; damaged files leave the model as it was', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = await open(page);
  await configure(page, SMALL);
  await train(page);
  const trained = await snapshot(page);

  // .keras: a zip with Keras 3's three files.
  const [keras] = await files(page, 'download-keras', 1);
  expect(keras!.name).toBe('webgpu-rnn-lstm-6x2-vector10.keras');
  const zip = unzipSync(new Uint8Array(keras!.bytes));
  expect(Object.keys(zip).sort()).toEqual(['config.json', 'metadata.json', 'model.weights.h5']);
  const config = JSON.parse(Buffer.from(zip['config.json']!).toString('utf8')) as { class_name: string; config: { layers: { class_name: string }[] } };
  expect(config.class_name).toBe('Sequential');
  expect(config.config.layers.map((l) => l.class_name)).toEqual(['InputLayer', 'LSTM', 'LSTM', 'Dense']);
  expect([...zip['model.weights.h5']!.subarray(0, 8)]).toEqual([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  await expect(id(page, 'save-note')).toContainText('Downloaded webgpu-rnn-lstm-6x2-vector10.keras');

  // TensorFlow.js: model.json (its manifest names the .bin) and the weights.
  const tfjs = await files(page, 'download-tfjs', 2);
  const json = tfjs.find((f) => f.name.endsWith('.json'))!, bin = tfjs.find((f) => f.name.endsWith('.bin'))!;
  const doc = JSON.parse(json.bytes.toString('utf8')) as { format: string; modelTopology: { class_name: string }; weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[]; userDefinedMetadata?: { demo?: { epochs: number } } };
  expect(doc.format).toBe('layers-model');
  expect(doc.modelTopology.class_name).toBe('Sequential');
  expect(doc.weightsManifest[0]!.paths).toEqual([bin.name]);
  const weights = doc.weightsManifest.flatMap((g) => g.weights);
  expect(weights.map((w) => w.name)).toEqual(['lstm/kernel', 'lstm/recurrent_kernel', 'lstm/bias', 'lstm_1/kernel', 'lstm_1/recurrent_kernel', 'lstm_1/bias', 'dense/kernel', 'dense/bias']);
  expect(bin.bytes.length).toBe(4 * weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0));
  expect(doc.userDefinedMetadata?.demo?.epochs).toBe(1);

  // Back in, each after a confirmation, from a form set to another model: the same forecasts.
  const input = id(page, 'load-input');
  await configure(page, { cell: 'gru', units: '3', depth: '1', head: 'next' });
  await input.setInputFiles({ name: keras!.name, mimeType: 'application/octet-stream', buffer: keras!.bytes });
  await confirmLoad(page, `${keras!.name} (Keras .keras) holds an LSTM(6) ×2 → Dense(10) model`);
  expect((await snapshot(page)).forecast, 'the .keras file forecasts as the trained model').toBe(trained.forecast);
  await configure(page, { cell: 'gru', units: '3', depth: '1', head: 'next' });
  await input.setInputFiles(tfjs.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: f.bytes })));
  await confirmLoad(page, 'holds an LSTM(6) ×2 → Dense(10) model');
  await expect(id(page, 'load-lead')).toContainText('(TensorFlow.js)');
  const fromTfjs = await snapshot(page);
  expect(fromTfjs.forecast, 'the TensorFlow.js files forecast as the trained model').toBe(trained.forecast);

  // A weights file of an earlier demo (version 1 JSON) still loads.
  const data = new Float32Array(bin.bytes.buffer.slice(bin.bytes.byteOffset, bin.bytes.byteOffset + bin.bytes.length));
  let off = 0;
  const old = {
    format: 'webgpu-rnn-weights',
    version: 1,
    config: { cell: 'lstm', resetAfter: true, units: 6, depth: 2, head: 'vector10', optimizer: 'adam', learningRate: 0.01, clipping: 'none', clipValue: 1, epochs: 1, batchSize: 32, window: 20, seed: 7 },
    weights: weights.map((w) => {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const part = data.slice(off, (off += n));
      return { name: w.name, shape: w.shape, data: Buffer.from(part.buffer).toString('base64') };
    }),
  };
  await input.setInputFiles({ name: 'old-weights.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(old, null, 1)) });
  await confirmLoad(page, 'old-weights.json (weights of an earlier demo) holds an LSTM(6) ×2 → Dense(10) model');
  const fromOld = await snapshot(page);
  expect(fromOld.forecast, 'an old weights file forecasts as the trained model').toBe(trained.forecast);

  // Damaged files: an error next to Load, no dialog, the current model and its results unchanged.
  const before = fromOld;
  const half = keras!.bytes.subarray(0, Math.floor(keras!.bytes.length / 2));
  const badBin = Buffer.from(bin.bytes.subarray(0, bin.bytes.length - 8));
  // A valid TensorFlow.js model the demo cannot run: its head made Dense(3) (kernel [6, 3], bias [3]).
  const dense3 = JSON.parse(json.bytes.toString('utf8')) as { modelTopology: { config: { layers: { class_name: string; config: { units?: number } }[] } }; weightsManifest: { weights: { name: string; shape: number[] }[] }[] };
  dense3.modelTopology.config.layers.at(-1)!.config.units = 3;
  const ws = dense3.weightsManifest[0]!.weights;
  const headAt = weights.slice(0, -2).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const kernel = Array.from({ length: 6 * 3 }, (_, i) => data[headAt + Math.floor(i / 3) * 10 + (i % 3)]!);
  const bias = Array.from(data.subarray(headAt + 60, headAt + 63));
  ws.at(-2)!.shape = [6, 3];
  ws.at(-1)!.shape = [3];
  const dense3Bin = Buffer.from(new Float32Array([...data.subarray(0, headAt), ...kernel, ...bias]).buffer);
  const cases: [string, { name: string; buffer: Buffer }[], RegExp][] = [
    ['a model the demo cannot run', [{ name: 'dense3.json', buffer: Buffer.from(JSON.stringify(dense3)) }, { name: bin.name, buffer: dense3Bin }], new RegExp(`dense3\\.json \\+ ${bin.name.replace(/\./g, '\\.')} \\(TensorFlow\\.js\\) holds a model this demo cannot run: it ends in Dense\\(3\\)`)],
    ['truncated .keras', [{ name: 'broken.keras', buffer: Buffer.from(half) }], /broken\.keras/],
    ['weights too short', [{ name: json.name, buffer: json.bytes }, { name: bin.name, buffer: badBin }], /bytes|short|end/i],
    ['.json without its .bin', [{ name: json.name, buffer: json.bytes }], new RegExp(bin.name.replace('.', '\\.'))],
    ['not a model', [{ name: 'notes.json', buffer: Buffer.from('{"hello": 1}') }], /notes\.json/],
    ['not JSON', [{ name: 'model.json', buffer: Buffer.from('{ not json') }], /model\.json/],
  ];
  for (const [what, fs, message] of cases) {
    await input.setInputFiles(fs.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
    await expect(id(page, 'load-error'), what).toBeVisible({ timeout: 30_000 });
    await expect(id(page, 'load-error'), what).toContainText(message);
    console.log(`demo models: ${what}: ${await id(page, 'load-error').innerText()}`);
    await expect(id(page, 'load-dialog'), what).toBeHidden();
    await expect(id(page, 'error'), `${what}: nothing in the run's error line`).toBeHidden();
  }
  expect(await snapshot(page), 'the current model and its results are unchanged').toEqual(before);
  // and it still saves
  const again = await files(page, 'download-keras', 1);
  expect(again[0]!.bytes.length).toBeGreaterThan(1000);
  expect(errors).toEqual([]);
});
