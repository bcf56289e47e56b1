/**
 * Device loss in Chromium (WebGPU on SwiftShader), issue 16: a fit whose device is destroyed
 * part-way stops with a DeviceLostError in < 5 s, the weights of its last backup are readable,
 * and after rnn.recover() fit({resume: true}) ends with the losses and weights of an uninterrupted
 * run. Also the startup self-test on the browser's adapter (its time is printed).
 */
import { test, expect, type Page } from '@playwright/test';

async function open(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/test/browser/reliability.html');
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  expect(await page.evaluate(() => 'gpu' in navigator), 'navigator.gpu must exist').toBe(true);
  return errors;
}

test('device destroyed mid-fit: clear error in < 5 s, backup readable, recover() + resume ends like the uninterrupted run', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => (window as any).reliability.deviceLossRun());
  console.log(`Chromium device loss: detected in ${r.detectedMs.toFixed(0)} ms; ${r.error.name}: ${r.error.message}`);
  console.log(`resumed losses ${r.loss.map((v: number) => v.toFixed(6)).join(', ')}; max |Δloss| ${r.lossDiff}, |Δval_loss| ${r.valDiff}, |Δweights| ${r.weightDiff}`);
  expect(r.error.name).toBe('DeviceLostError');
  expect(r.error.message).toMatch(/sequential\.fit: GPU device lost.*after step 8 of epoch 2.*rnn\.recover\(\).*resume: true/s);
  expect(r.detectedMs).toBeLessThan(5000);
  expect(r.keptDiff).toBe(0); // the backup is the uninterrupted run's weights after that step, exactly
  expect(r.models).toBeGreaterThanOrEqual(1);
  expect(r.epochs).toEqual([0, 1, 2]);
  expect(r.lossDiff).toBeLessThanOrEqual(1e-6);
  expect(r.valDiff).toBeLessThanOrEqual(1e-6);
  expect(r.weightDiff).toBeLessThanOrEqual(1e-6);
  expect(errors).toEqual([]);
});

test('startup self-test passes on the browser adapter', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(() => (window as any).reliability.selfTestRun());
  console.log(`Chromium self-test on ${r.adapter}: ${r.firstMs.toFixed(1)} ms first (compiling), ${r.againMs.toFixed(1)} ms again`);
  expect(r.failures).toEqual([]);
  expect(r.worst).toBeLessThan(1);
});
