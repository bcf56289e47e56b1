/**
 * The demo's states on real data (the Seattle fixture), at 1400 px and at 800 px: idle (the file
 * loaded, the page saying what it did with the rows), training, finished (scores, verdict,
 * forecasts, the model saved in the browser) and the confirmation before loading a model (idle
 * and finished: the whole page; training and the confirmation: the screen as the user sees it). Runs in every test run (screenshots in the test
 * output folder); with UPDATE_DEMO_SCREENSHOTS=1 it also rewrites docs/demo-<state>-<width>.png,
 * which the README shows.
 */
import { test, expect } from '@playwright/test';
import { configure, id, loadFixture, open, shot, state } from './demo-helpers';

const docs = Boolean(process.env.UPDATE_DEMO_SCREENSHOTS);

for (const width of [1400, 800]) {
  test.describe(`${width} px`, () => {
    test.use({ viewport: { width, height: 1000 } });

    test(`idle, training, finished and load-confirmation states at ${width} px (the docs screenshots)`, async ({ page }, info) => {
      const errors = await open(page);
      await loadFixture(page);
      await configure(page, { window: '30', cell: 'lstm', units: '16', depth: '1', head: 'next', epochs: '12', seed: '42' });
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, info, `demo-idle-${width}`, docs);
      await id(page, 'start').click();
      const points = async () => Number(await id(page, 'loss-chart').getAttribute('data-points'));
      await expect.poll(points, { timeout: 120_000 }).toBeGreaterThanOrEqual(3);
      if ((await state(page).getAttribute('data-state')) === 'training') {
        // the screen as it is: at 800 px Train scrolled the run into view, with Stop at the bottom
        await page.mouse.move(0, 0);
        await page.screenshot({ path: info.outputPath(`demo-training-${width}.png`) });
        if (docs) await page.screenshot({ path: `docs/demo-training-${width}.png` });
      } else console.log(`demo screenshots: training ended before the training screenshot at ${width} px`);
      await expect(state(page)).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
      // Saved in the browser: the list shows it.
      await id(page, 'save').click();
      await expect(id(page, 'save-note')).toBeVisible();
      await page.waitForTimeout(500); // the forecast panels draw one per frame
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot(page, info, `demo-finished-${width}`, docs);
      // The confirmation before loading a model of another architecture.
      await configure(page, { cell: 'gru', units: '8' });
      await id(page, 'saved-list').locator('tbody tr').first().getByTestId('saved-load').click();
      await expect(id(page, 'load-dialog')).toBeVisible({ timeout: 30_000 });
      await page.screenshot({ path: info.outputPath(`demo-load-confirm-${width}.png`) });
      if (docs) await page.screenshot({ path: `docs/demo-load-confirm-${width}.png` });
      await id(page, 'load-cancel').click();
      expect(errors).toEqual([]);
    });
  });
}
