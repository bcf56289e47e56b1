/**
 * Shared steps of the demo specs (demo*.spec.ts): open the BUILT demo (dist-demo/, served by
 * `vite preview` on loopback: the second webServer in playwright.config.ts), fill the form, load
 * the real-data fixture, read downloads, and check the charts' axes from what they recorded in
 * `data-axes` (demo/charts.ts: tick texts, measured widths, positions).
 */
import { expect, type Download, type Page, type TestInfo } from '@playwright/test';
import { readFileSync } from 'node:fs';

export const DEMO_URL = 'http://127.0.0.1:5180/';
/** Vega-datasets' Seattle weather, rows shuffled, 8 duplicated (fixtures/make-seattle-shuffled.mjs). */
export const FIXTURE = 'test/browser/fixtures/seattle-weather-shuffled.csv';
export const FIXTURE_SOURCE = 'node_modules/vega-datasets/data/seattle-weather.csv';

export const id = (page: Page, testId: string) => page.getByTestId(testId);
export const state = (page: Page) => page.locator('body');

/** Opens the demo, waits for the worker's GPU report and returns the page errors seen later. */
export async function open(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('crash', () => errors.push('the page crashed'));
  await page.goto(DEMO_URL);
  const gpu = id(page, 'gpu-status');
  await expect(gpu, 'the worker must report a WebGPU adapter (Chromium with --enable-unsafe-webgpu on localhost)').toHaveAttribute('data-gpu', /^(ok|fallback)$/, { timeout: 60_000 });
  await expect(id(page, 'no-webgpu')).toBeHidden();
  return errors;
}

export async function configure(page: Page, cfg: Record<string, string>): Promise<void> {
  for (const [testId, value] of Object.entries(cfg)) {
    const el = id(page, testId);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
    else await el.fill(value);
  }
}

/** Loads the fixture as "your CSV file" and forecasts temp_max; returns when its series is ready. */
export async function loadFixture(page: Page): Promise<void> {
  await id(page, 'dataset').selectOption('csv');
  await id(page, 'csv-input').setInputFiles(FIXTURE);
  await expect(id(page, 'data-notes')).toBeVisible({ timeout: 30_000 });
  await id(page, 'csv-column').selectOption({ label: 'temp_max' });
  await expect(id(page, 'data-chart')).toHaveAttribute('aria-label', /temp_max/);
}

export async function train(page: Page, timeout = 180_000): Promise<void> {
  await expect(id(page, 'start')).toBeEnabled();
  await id(page, 'start').click();
  await expect(state(page)).toHaveAttribute('data-state', 'done', { timeout });
}

export async function shot(page: Page, info: TestInfo, name: string, docs = false): Promise<void> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.mouse.move(0, 0);
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
  if (docs) await page.screenshot({ path: `docs/${name}.png`, fullPage: true });
}

/** Clicks a button that saves a file; returns the file's name and text. */
export async function downloadOf(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [d]: [Download, void] = await Promise.all([page.waitForEvent('download'), id(page, testId).click()]);
  return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') };
}

export interface Tick {
  text: string;
  width: number;
  pos: number;
}
export interface AxisRecord {
  side: number;
  label: string;
  ticks: Tick[];
  size: number;
  labelSize: number;
  tickSize: number;
  gap: number;
}
export interface AxesRecord {
  width: number;
  height: number;
  plotLeft: number;
  plotTop: number;
  plotWidth: number;
  plotHeight: number;
  axes: AxisRecord[];
}

export async function axesOf(page: Page, testId: string): Promise<AxesRecord> {
  const el = id(page, testId);
  await expect(el).toHaveAttribute('data-axes', /ticks/);
  return JSON.parse((await el.getAttribute('data-axes'))!) as AxesRecord;
}

/**
 * Every tick label lies inside the chart's canvas and clear of the axis title: y labels are
 * right-aligned at (plot left - tick - gap) and must not reach into the title's band; x labels
 * are centred on their tick and must not leave the canvas.
 */
export function expectUnclipped(a: AxesRecord, what: string): void {
  for (const ax of a.axes) {
    expect(ax.ticks.length, `${what}: side ${ax.side} has tick labels`).toBeGreaterThan(0);
    for (const t of ax.ticks) {
      if (ax.side === 3) {
        const right = a.plotLeft - ax.tickSize - ax.gap;
        expect(right - t.width, `${what}: y tick "${t.text}" (${t.width.toFixed(1)} px) fits left of the plot, clear of the axis title (${ax.labelSize} px)`).toBeGreaterThanOrEqual(ax.labelSize - 0.5);
      } else if (ax.side === 2) {
        expect(t.pos - t.width / 2, `${what}: x tick "${t.text}" starts inside the canvas`).toBeGreaterThanOrEqual(-0.5);
        expect(t.pos + t.width / 2, `${what}: x tick "${t.text}" ends inside the canvas (${a.width} px)`).toBeLessThanOrEqual(a.width + 0.5);
      }
    }
    if (ax.side === 2) {
      // neighbouring x labels do not overlap
      const ticks = [...ax.ticks].sort((p, q) => p.pos - q.pos);
      for (let i = 1; i < ticks.length; i++) {
        const p = ticks[i - 1]!, q = ticks[i]!;
        expect(p.pos + p.width / 2, `${what}: x ticks "${p.text}" and "${q.text}" do not overlap`).toBeLessThanOrEqual(q.pos - q.width / 2 + 0.5);
      }
    }
  }
}

/** Numbers of a y axis's tick labels (thousands separators removed). */
export function yTicks(a: AxesRecord): number[] {
  const y = a.axes.find((ax) => ax.side === 3)!;
  return y.ticks.map((t) => Number(t.text.replace(/,/g, '')));
}

export function xTickTexts(a: AxesRecord): string[] {
  return a.axes.find((ax) => ax.side === 2)!.ticks.map((t) => t.text);
}

/** A date tick: `2015`, `Mar`, `Mar 5`, `14:00`, optionally with the year or date on a second line. */
export const DATE_TICK = /^(\d{4}|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( \d{1,2})?|\d{2}:\d{2})(\n(\d{4}|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}( \d{4})?))?$/;

/** temp_max of the original (sorted, unique) Seattle file. */
export function seattleTempMax(): { dates: string[]; values: number[] } {
  const lines = readFileSync(FIXTURE_SOURCE, 'utf8').trim().split(/\r?\n/).slice(1);
  return { dates: lines.map((l) => l.split(',')[0]!), values: lines.map((l) => Number(l.split(',')[2])) };
}

/**
 * The page's baselines, computed here independently: the last 20% of the rows validate (at most
 * 1,000); naive = the last value, seasonal = the value 7 days before (repeating the last week for
 * steps 8-10); MAE of the next step over every validation day, and over 10 steps from every
 * origin with 10 days ahead.
 */
export function baselines(v: number[], period = 7, H = 10): { naive1: number; naive10: number; seasonal1: number; seasonal10: number } {
  const L = v.length;
  const cut = L - Math.min(1000, Math.round(L * 0.2));
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const seasonal = (o: number, k: number) => v[o + k - period * Math.ceil(k / period)]!;
  const one = (f: (o: number, k: number) => number) => mean(Array.from({ length: L - cut }, (_, i) => Math.abs(f(cut + i - 1, 1) - v[cut + i]!)));
  const ten = (f: (o: number, k: number) => number) => {
    const e: number[] = [];
    for (let t = cut; t <= L - H; t++) for (let k = 1; k <= H; k++) e.push(Math.abs(f(t - 1, k) - v[t - 1 + k]!));
    return mean(e);
  };
  return { naive1: one((o) => v[o]!), naive10: ten((o) => v[o]!), seasonal1: one(seasonal), seasonal10: ten(seasonal) };
}

/** The number shown in a cell ("2.35", "1,013"). */
export async function cellNumber(page: Page, testId: string): Promise<number> {
  const t = await id(page, testId).innerText();
  return Number(t.replace(/,/g, ''));
}
