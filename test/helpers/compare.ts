/**
 * Element-wise comparison of a computed array (e.g. read back from the GPU)
 * against a float64 reference, in the style of numpy.allclose:
 *   |gpu[i] - ref[i]| <= atol + rtol * |ref[i]|
 * NaN or Infinity in either array fails (unless both are the same infinity).
 */
import { expect } from 'vitest';
import type { Tolerance } from './tolerances';

const SHOW_PAIRS = 8;

export function expectClose(
  gpu: ArrayLike<number>,
  ref: ArrayLike<number>,
  tol: Tolerance,
  name: string,
): void {
  expect(gpu.length, `${name}: length mismatch (got ${gpu.length}, reference ${ref.length})`).toBe(ref.length);
  let failures = 0;
  let firstFail = -1;
  let maxDiff = -1; // NaN differences count as +Infinity
  let maxIdx = -1;
  for (let i = 0; i < ref.length; i++) {
    const g = gpu[i] as number;
    const r = ref[i] as number;
    const diff = g === r ? 0 : Math.abs(g - r); // g === r handles equal infinities
    const ok = diff <= tol.atol + tol.rtol * Math.abs(r); // false for NaN
    if (!ok) {
      failures++;
      if (firstFail < 0) firstFail = i;
    }
    const d = Number.isNaN(diff) ? Infinity : diff;
    if (d > maxDiff) {
      maxDiff = d;
      maxIdx = i;
    }
  }
  if (failures > 0) {
    const pairs: string[] = [];
    for (let i = 0; i < Math.min(SHOW_PAIRS, ref.length); i++) pairs.push(`[${i}] ${gpu[i]} vs ${ref[i]}`);
    const msg =
      `${name}: ${failures}/${ref.length} elements outside atol=${tol.atol} rtol=${tol.rtol}; ` +
      `max |diff| = ${Number.isFinite(maxDiff) ? maxDiff : 'NaN/Inf'} at index ${maxIdx} (got ${gpu[maxIdx]}, reference ${ref[maxIdx]}); ` +
      `first failing index ${firstFail}; first pairs (got vs reference): ${pairs.join(', ')}`;
    expect(failures, msg).toBe(0);
  }
}

/** Fails on the first element of `a` that is NaN or ±Infinity (a null array passes). */
export function expectAllFinite(a: ArrayLike<number> | null, name: string): void {
  if (!a) return;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i] as number)) expect.fail(`${name}[${i}] = ${a[i]} is not finite`);
  }
}
