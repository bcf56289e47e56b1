/**
 * The engine in Chromium (WebGPU on SwiftShader): a kernel chain against the float64 reference,
 * and a short training run whose validation loss must fall below the naive baseline.
 */
import { test, expect, type Page } from '@playwright/test';
import { matmulRef, biasAddRef, unaryRef } from '../reference/ops';
import { randomArray } from '../helpers/rng';

async function open(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/test/browser/harness.html');
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 60_000 });
  const hasGpu = await page.evaluate(() => 'gpu' in navigator);
  expect(hasGpu, 'navigator.gpu must exist (Chromium with --enable-unsafe-webgpu on localhost)').toBe(true);
  return errors;
}

test('WebGPU adapter is available in Chromium', async ({ page }) => {
  await open(page);
  const info = await page.evaluate(() => (window as any).harness.gpuInfo());
  expect(info.runtime).toBe('browser');
  console.log(`browser adapter: ${JSON.stringify(info)}`);
});

test('matmul + bias + tanh forward and backward match the float64 reference', async ({ page }) => {
  await open(page);
  const M = 5, K = 7, N = 3;
  const a = Array.from(randomArray(M * K, 1, -2, 2), Math.fround), b = Array.from(randomArray(K * N, 2), Math.fround), bias = Array.from(randomArray(N, 3), Math.fround);
  const got = await page.evaluate(([a, b, bias, M, K, N]) => (window as any).harness.matmulTanh(a, b, bias, M, K, N), [a, b, bias, M, K, N] as const);
  const pre = biasAddRef(matmulRef(Float64Array.from(a), Float64Array.from(b), M, K, N), Float64Array.from(bias), M, N);
  const y = unaryRef('tanh', pre);
  for (let i = 0; i < y.length; i++) expect(Math.abs(got.y[i] - y[i]!)).toBeLessThan(1e-5 + 1e-4 * Math.abs(y[i]!));
  // d/dA Σ tanh(AB + b) = (1 - y²) · Bᵀ
  const dz = y.map((v) => 1 - v * v);
  const dA = matmulRef(dz, Float64Array.from(b), M, N, K, false, true);
  for (let i = 0; i < dA.length; i++) expect(Math.abs(got.dA[i] - dA[i]!)).toBeLessThan(1e-4 + 1e-3 * Math.abs(dA[i]!));
});

test('a short training run in the page lowers the validation loss below the naive baseline', async ({ page }) => {
  const errors = await open(page);
  const r = await page.evaluate(() => (window as any).harness.trainLinear(3));
  console.log(`browser linear: val_loss ${r.valLoss.join(', ')} (naive ${r.naive})`);
  expect(r.valLoss.length).toBe(3);
  expect(r.valLoss[2]).toBeLessThan(r.valLoss[0]);
  expect(r.valLoss[2]).toBeLessThan(r.naive);
  expect(errors).toEqual([]);
});
