/**
 * The built demo for people who do not use it on a wide screen with a mouse: every control has a
 * name a screen reader can announce, charts and the status line have text alternatives, keyboard
 * focus is always visible, and at 800 px and at phone width (390 px) nothing overflows sideways,
 * the run's status comes into view when Train is pressed, Stop stays reachable, and the results
 * (scores, verdict, charts with unclipped ticks) are there after the run.
 */
import { test, expect, type Page } from '@playwright/test';
import { axesOf, configure, expectUnclipped, id, loadFixture, open, state } from './demo-helpers';

async function noSidewaysScroll(page: Page, what: string): Promise<void> {
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll, `${what}: the page is no wider than the viewport`).toBeLessThanOrEqual(width);
}

test.describe('wide screen', () => {
  test.use({ viewport: { width: 1400, height: 1000 } });

  test('every control has an accessible name; the status, charts and dialog have text alternatives', async ({ page }) => {
    const errors = await open(page);
    await loadFixture(page);
    // By role and name, as a screen reader user would find them.
    await expect(page.getByRole('combobox', { name: 'Data set' })).toHaveValue('csv');
    await expect(page.getByRole('combobox', { name: 'Date column' })).toHaveValue('0');
    await expect(page.getByRole('combobox', { name: 'Column to forecast' })).toBeEnabled();
    await expect(page.getByRole('spinbutton', { name: 'Window (input steps)' })).toHaveValue('30');
    await expect(page.getByRole('spinbutton', { name: 'Learning rate' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
    await expect(page.getByRole('button', { name: 'Stop' })).toBeDisabled();
    await expect(page.getByLabel(/Drop a model here/)).toBeAttached();
    await expect(page.getByLabel(/Drop a CSV file here/)).toBeAttached();
    await expect(page.getByRole('status').filter({ hasText: 'press Train' })).toBeVisible();
    await expect(page.getByRole('table', { name: /mean absolute error/i })).toBeVisible();
    await expect(page.getByRole('list', { name: 'What the page did with the data' })).toContainText('Sorted by "date"');
    // Every shown control (the file inputs are visually hidden but shown to assistive technology) has a name.
    const controls = page.locator('input, select, button, textarea');
    const n = await controls.count();
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = controls.nth(i);
      if (await c.evaluate((e) => !!e.closest('dialog'))) continue; // checked below, when open
      if (!(await c.isVisible())) continue; // in a hidden section (e.g. the synthetic data's options)
      await expect(c, `control #${i} (${await c.evaluate((e) => e.id || e.outerHTML.slice(0, 60))})`).toHaveAccessibleName(/\S/);
      names.push(await c.evaluate((e) => e.id));
    }
    console.log(`demo a11y: ${names.length} controls named: ${names.join(', ')}`);
    // Charts are images with a description of what they show.
    await expect(page.getByRole('img', { name: /Line chart of temp_max in seattle-weather-shuffled\.csv: 1,461 values from 2012-01-01 to 2015-12-31/ })).toBeVisible();
    await expect(page.getByRole('img', { name: /^Loss chart/ })).toBeVisible();
    await configure(page, { epochs: '1', units: '8' });
    await id(page, 'start').click();
    await expect(state(page)).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
    await expect(page.getByRole('img', { name: /^Loss chart: 1 epoch; last training loss/ })).toBeVisible();
    await expect(page.getByRole('img', { name: /^Line chart of the validation period, 292 dates/ })).toBeVisible();
    await expect(page.getByRole('img', { name: /^Line chart, after the data: the next 10 days/ })).toBeVisible();
    // The model panel's controls are named; the load confirmation is a modal dialog with a name, its buttons named.
    for (const name of ['Name', 'Save in this browser', 'Download .keras', 'Download TensorFlow.js model.json + .bin']) await expect(page.getByRole(name === 'Name' ? 'textbox' : 'button', { name, exact: true })).toBeVisible();
    const file = await Promise.all([page.waitForEvent('download'), id(page, 'download-keras').click()]).then(([d]) => d.path());
    await id(page, 'load-input').setInputFiles(file!);
    const dialog = page.getByRole('dialog', { name: 'Load this model?' });
    await expect(dialog).toBeVisible({ timeout: 30_000 });
    await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await expect(dialog.getByRole('button', { name: 'Load model' })).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    expect(errors).toEqual([]);
  });

  test('keyboard focus is always visible', async ({ page }) => {
    const errors = await open(page);
    await configure(page, { dataset: 'csv' });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.mouse.click(5, 5);
    const seen: string[] = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        if (!a || a === document.body) return null;
        // file inputs are visually hidden: their label shows the ring
        const shown = a instanceof HTMLInputElement && a.type === 'file' ? (a.closest('label') as HTMLElement) : a;
        const cs = getComputedStyle(shown);
        const r = shown.getBoundingClientRect();
        return { name: a.dataset.testid || a.id || a.tagName.toLowerCase(), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor, inView: r.bottom > 0 && r.top < innerHeight && r.width > 0 };
      });
      if (!f) continue;
      seen.push(f.name);
      expect(f.style, `${f.name}: focus ring style`).not.toBe('none');
      expect(f.width, `${f.name}: focus ring width`).toBeGreaterThanOrEqual(2);
      expect(f.inView, `${f.name}: the focused control is scrolled into view`).toBe(true);
    }
    console.log(`demo a11y: Tab visited ${new Set(seen).size} controls, each with a visible focus ring: ${[...new Set(seen)].join(', ')}`);
    for (const must of ['dataset', 'csv-input', 'window', 'cell', 'units', 'lr', 'epochs', 'load-input', 'log-scale']) expect(seen, `Tab reaches ${must}`).toContain(must);
    expect(errors).toEqual([]);
  });
});

for (const [label, viewport] of [
  ['800 px', { width: 800, height: 1000 }],
  ['phone width (390 px)', { width: 390, height: 844 }],
] as const) {
  test.describe(label, () => {
    test.use({ viewport, ...(viewport.width < 500 ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });

    test(`usable at ${label}: the run comes into view on Train, Stop stays reachable, results fit`, async ({ page }) => {
      const errors = await open(page);
      await loadFixture(page);
      await noSidewaysScroll(page, 'with the data loaded');
      expectUnclipped(await axesOf(page, 'data-chart'), 'data chart');
      await configure(page, { epochs: '3', units: '8', window: '30' });
      await id(page, 'start').click();
      // the status and the run's numbers are in view right away, not below the form
      await expect(id(page, 'status')).toBeInViewport({ timeout: 1000 });
      await expect(id(page, 'stats')).toBeInViewport();
      await expect(state(page)).toHaveAttribute('data-state', /training|stopping|evaluating|done/);
      if ((await state(page).getAttribute('data-state')) === 'training') await expect(id(page, 'stop'), 'Stop is reachable while training').toBeInViewport();
      await noSidewaysScroll(page, 'while training');
      await expect(state(page)).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
      await expect(id(page, 'status')).toBeInViewport();
      // The results: scores in °C, the verdict, charts whose ticks fit.
      await id(page, 'scores').scrollIntoViewIfNeeded();
      await expect(id(page, 'scores')).toBeInViewport();
      await expect(id(page, 'm-mae1')).not.toHaveText('—');
      await expect(id(page, 'verdict')).toBeVisible();
      const table = await id(page, 'scores').evaluate((t) => [t.scrollWidth, t.parentElement!.clientWidth]);
      expect(table[0], 'the scores table fits its panel').toBeLessThanOrEqual(table[1]! + 1);
      for (const c of ['loss-chart', 'validation-chart', 'future-chart']) expectUnclipped(await axesOf(page, c), `${label} ${c}`);
      await noSidewaysScroll(page, 'with the results');
      expect(errors).toEqual([]);
    });
  });
}
