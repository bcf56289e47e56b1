/**
 * The test helpers themselves (test/helpers/*): the seeded PRNG, central differences, and the
 * comparisons that report failures.
 */
import { describe, expect, it } from 'vitest';
import { expectGradClose, numericGradient } from './gradcheck';
import { makeRng, randomArray } from './rng';
import { expectClose } from './compare';

describe('test helpers', () => {
  it('makeRng is deterministic and in [0, 1)', () => {
    const a = makeRng(42);
    const b = makeRng(42);
    for (let i = 0; i < 1000; i++) {
      const v = a();
      expect(v).toBe(b());
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    expect(randomArray(5, 1)).toEqual(randomArray(5, 1));
    expect(randomArray(5, 1)).not.toEqual(randomArray(5, 2));
  });

  it('numericGradient restores x and matches a known gradient', () => {
    const x = Float64Array.from([0.3, -1.2, 2]);
    const copy = Float64Array.from(x);
    const g = numericGradient(() => (x[0] as number) ** 2 + 3 * (x[1] as number) * (x[2] as number), x);
    expect(x).toEqual(copy);
    expectGradClose(g, [0.6, 6, -3.6], 'known');
  });

  it('expectGradClose and expectClose report failures', () => {
    expect(() => expectGradClose([1, 2, 3], [1, 2.1, 3], 'bad')).toThrow(/bad: 1\/3.*index 1/);
    expect(() => expectGradClose([NaN], [0], 'nan')).toThrow(/nan/);
    expect(() => expectClose([1, 2], [1, 2.5], { atol: 1e-5, rtol: 1e-4 }, 'cmp')).toThrow(/max \|diff\| = 0.5 at index 1/);
    expect(() => expectClose([NaN], [1], { atol: 1, rtol: 1 }, 'cmpnan')).toThrow(/cmpnan/);
    expectClose([1, 2.00001], [1, 2], { atol: 1e-5, rtol: 1e-4 }, 'ok');
  });
});
