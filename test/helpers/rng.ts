/**
 * Tiny seeded PRNG for deterministic test data.
 *
 * mulberry32: 32-bit state, period 2^32, good enough for test fixtures and
 * identical on every platform (pure 32-bit integer arithmetic).
 */

/** Returns a generator of uniform numbers in [0, 1), fully determined by `seed`. */
export function makeRng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` uniform values in [lo, hi), deterministic in `seed`. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const rng = makeRng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** A 0/1 mask of `n` values with zeros at rate `pZero` (deterministic in `seed`): sequence masks. */
export function binaryMask(n: number, seed: number, pZero = 0.35): Float64Array {
  return randomArray(n, seed, 0, 1).map((u) => (u < pZero ? 0 : 1));
}

/** A Keras dropout-style mask: 0 with probability `rate`, else 1/(1-rate). */
export function dropoutStyle(n: number, seed: number, rate: number): Float64Array {
  return randomArray(n, seed, 0, 1).map((u) => (u < rate ? 0 : 1 / (1 - rate)));
}
