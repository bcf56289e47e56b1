/**
 * Loading a saved model never changes the model or the data silently: the page shows what it
 * holds (architecture, training settings, the data it was trained on) next to what is set now,
 * and changes nothing until the user confirms. The model here is saved in the browser
 * (IndexedDB) and loaded from the list; model files: demo-models.spec.ts.
 */
import { test, expect, type Page } from '@playwright/test';
import { configure, id, loadFixture, open, state, train } from './demo-helpers';

test.use({ viewport: { width: 1400, height: 1000 } });

const FORM = ['dataset', 'date-column', 'csv-column', 'window', 'cell', 'units', 'depth', 'head', 'optimizer', 'lr', 'clipping', 'epochs', 'batch-size', 'seed'];

/** Everything a load could change: the form, the model summary, the scores, the charts' data, the notes. */
async function snapshot(page: Page): Promise<Record<string, string | null>> {
  const s: Record<string, string | null> = {};
  for (const f of FORM) s[f] = await id(page, f).inputValue();
  for (const t of ['summary', 'param-count', 'scores', 'verdict', 'note', 'status', 'data-notes', 'epoch']) s[t] = await id(page, t).innerText();
  s.valLoss = await id(page, 'loss-chart').getAttribute('data-val-loss');
  s.points = await id(page, 'loss-chart').getAttribute('data-points');
  s.validation = await id(page, 'validation-chart').getAttribute('aria-label');
  s.state = await state(page).getAttribute('data-state');
  return s;
}

/** The demo's description saved with a model in IndexedDB (its model.json's userDefinedMetadata.demo). */
async function storedMetadata(page: Page, name: string): Promise<{ data: Record<string, unknown>; epochs: number; config: Record<string, unknown> }> {
  return page.evaluate(
    (n) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('webgpu-rnn');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const get = req.result.transaction('models').objectStore('models').get(n);
          get.onsuccess = () => {
            const rec = get.result as { files: { name: string; bytes: ArrayBuffer }[] };
            const json = JSON.parse(new TextDecoder().decode(rec.files.find((f) => f.name === 'model.json')!.bytes));
            req.result.close();
            resolve(json.userDefinedMetadata.demo);
          };
        };
      }),
    name,
  );
}

test('loading a model of another architecture shows what it holds and changes nothing until confirmed', async ({ page }) => {
  const errors = await open(page);
  await loadFixture(page);
  // The saved model: a 2-layer GRU with the Dense(10) head, window 20.
  await configure(page, { window: '20', cell: 'gru', units: '4', depth: '2', head: 'vector10', epochs: '1', seed: '3' });
  await train(page);
  const gruVal = Number(await id(page, 'm-val').innerText());
  await expect(id(page, 'save-name')).toHaveValue('gru-4x2-vector10-seattle-weather-shuffled-temp_max');
  await id(page, 'save-name').fill('gru file');
  await id(page, 'save').click();
  await expect(id(page, 'save-note')).toContainText('Saved "gru file"');
  const meta = await storedMetadata(page, 'gru file');
  expect(meta.data).toMatchObject({ kind: 'series', name: 'seattle-weather-shuffled.csv', column: 'temp_max', rows: 1461, first: '2012-01-01', last: '2015-12-31', frequency: 'daily' });
  expect(meta.epochs).toBe(1);
  expect(meta.config).toMatchObject({ cell: 'gru', units: 4, depth: 2, head: 'vector10', window: 20, seed: 3 });

  // Now: an LSTM(3) trained on the same data.
  await configure(page, { window: '30', cell: 'lstm', units: '3', depth: '1', head: 'next', epochs: '1', seed: '42' });
  await train(page);
  const before = await snapshot(page);
  const load = async () => id(page, 'saved-list').locator('tr[data-name="gru file"]').getByTestId('saved-load').click();

  // The confirmation: what the file holds, what changes.
  await load();
  const dialog = id(page, 'load-dialog');
  await expect(dialog).toBeVisible({ timeout: 30_000 });
  await expect(id(page, 'load-lead')).toContainText('"gru file" (saved in this browser) holds a GRU(4) ×2 → Dense(10) model with');
  await expect(id(page, 'load-lead')).toContainText('trained for 1 epoch on seattle-weather-shuffled.csv · temp_max (1,461 daily values, 2012-01-01 → 2015-12-31)');
  await expect(id(page, 'load-warning')).toContainText('The architecture changes: now LSTM(3) → Dense(1), in the file GRU(4) ×2 → Dense(10).');
  await expect(id(page, 'load-data')).toContainText('evaluated on the current data: seattle-weather-shuffled.csv · temp_max');
  const changed = await id(page, 'load-diff').locator('tr[data-changed=true]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')));
  expect(changed.sort()).toEqual(['cell', 'depth', 'head', 'seed', 'units', 'window']);
  await expect(id(page, 'load-cancel')).toBeFocused();
  expect(await snapshot(page), 'nothing changes while the confirmation is open').toEqual(before);

  // Cancel (button), then Escape: still nothing changed.
  await id(page, 'load-cancel').click();
  await expect(dialog).toBeHidden();
  expect(await snapshot(page), 'nothing changes after Cancel').toEqual(before);
  await load();
  await expect(dialog).toBeVisible({ timeout: 30_000 });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(await snapshot(page), 'nothing changes after Escape').toEqual(before);

  // Confirm: the file's model and settings, evaluated on the same data, as trained.
  await load();
  await id(page, 'load-confirm').click();
  await expect(state(page)).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await expect(id(page, 'note')).toContainText('Loaded "gru file" (saved in this browser)');
  for (const [f, v] of Object.entries({ cell: 'gru', units: '4', depth: '2', head: 'vector10', window: '20', seed: '3' })) await expect(id(page, f), f).toHaveValue(v);
  await expect(id(page, 'csv-column')).toHaveValue(before['csv-column']!);
  expect(Number(await id(page, 'm-val').innerText())).toBeCloseTo(gruVal, 2);

  // Another data set: the dialog says the model was trained elsewhere; Cancel keeps the data set.
  await configure(page, { dataset: 'synthetic' });
  await load();
  await expect(dialog).toBeVisible({ timeout: 30_000 });
  await expect(id(page, 'load-warning')).toContainText('The file was trained on seattle-weather-shuffled.csv · temp_max');
  await expect(id(page, 'load-warning')).toContainText('not on the current data');
  await expect(id(page, 'load-data')).toContainText('the synthetic series');
  await id(page, 'load-cancel').click();
  await expect(id(page, 'dataset')).toHaveValue('synthetic');
  expect(errors).toEqual([]);
});
