/**
 * Finite-difference gradient checking for the float64 reference implementations.
 *
 * numericGradient perturbs each element of `x` IN PLACE (x[i] ± h), calls the
 * scalar loss `f`, and restores x[i] exactly afterwards. `f` must read `x`
 * (closure over the same Float64Array) and be deterministic.
 */
import { expect } from 'vitest';
import { GRADCHECK_F64, GRADCHECK_STEP } from './tolerances';

const SHOW_PAIRS = 6;

/** Central differences: g[i] = (f(x + h e_i) - f(x - h e_i)) / 2h. */
export function numericGradient(f: () => number, x: Float64Array, h = GRADCHECK_STEP): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i] as number;
    x[i] = orig + h;
    const fPlus = f();
    x[i] = orig - h;
    const fMinus = f();
    x[i] = orig;
    g[i] = (fPlus - fMinus) / (2 * h);
  }
  return g;
}

/**
 * Asserts |a - n| <= rtol * max(1, |a|, |n|) element-wise (absolute near zero,
 * relative for large gradients). NaN anywhere fails.
 */
export function expectGradClose(
  analytic: ArrayLike<number>,
  numeric: ArrayLike<number>,
  name: string,
  rtol = GRADCHECK_F64,
): void {
  expect(analytic.length, `${name}: length mismatch (analytic ${analytic.length}, numeric ${numeric.length})`).toBe(
    numeric.length,
  );
  let failures = 0;
  let worst = -1; // index of the largest scaled error
  let worstScaled = -1;
  for (let i = 0; i < numeric.length; i++) {
    const a = analytic[i] as number;
    const n = numeric[i] as number;
    const scale = Math.max(1, Math.abs(a), Math.abs(n));
    const diff = Math.abs(a - n);
    const scaled = Number.isNaN(diff) ? Infinity : diff / scale;
    if (!(diff <= rtol * scale)) failures++;
    if (scaled > worstScaled) {
      worstScaled = scaled;
      worst = i;
    }
  }
  if (failures > 0) {
    const pairs: string[] = [];
    for (let i = 0; i < Math.min(SHOW_PAIRS, numeric.length); i++) pairs.push(`[${i}] ${analytic[i]} vs ${numeric[i]}`);
    const msg =
      `${name}: ${failures}/${numeric.length} gradient entries differ (rtol=${rtol}); ` +
      `max diff ${Math.abs((analytic[worst] as number) - (numeric[worst] as number))} at index ${worst} ` +
      `(analytic ${analytic[worst]}, numeric ${numeric[worst]}); first pairs (analytic vs numeric): ${pairs.join(', ')}`;
    expect(failures, msg).toBe(0);
  }
}

/** Σ r[i]·y[i]: the scalar loss of the gradient checks (its gradient w.r.t. y is r). */
export function dot(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < y.length; i++) acc += (r[i] as number) * (y[i] as number);
  return acc;
}
