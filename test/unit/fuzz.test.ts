/**
 * The short fuzz run inside `npm test` (issue 16): 200 random valid models trained two steps
 * through the public API and checked against the float64 reference, and 200 random invalid uses
 * that must fail with a clear error before any GPU work (test/fuzz/, seed fixed so a failure is
 * reproducible: `npm run fuzz -- --seed 16 --variety palette --only N`). The valid cases use the
 * kernel palette (test/fuzz/valid-cases.ts): what a case costs on a software adapter is compiling
 * new kernel variants, and the palette bounds them; the long run (`npm run fuzz -- --cases 1000`)
 * draws from every variant.
 */
import { describe, it, expect } from 'vitest';
import { runFuzz, summarize, type FuzzReport } from '../fuzz/fuzz';

const SEED = 16;
const VALID = 200;
const INVALID = 200;
/** Chunks of valid cases, each its own test (own timeout, and a failure names its chunk). */
const CHUNK = 25;
/**
 * A chunk's time limit: compiling a new kernel variant takes seconds on lavapipe, and up to ~30 s
 * each with a cold shader cache while both cores are busy; a chunk compiles at most a few dozen.
 */
const CHUNK_TIMEOUT = 900_000;

function expectClean(r: FuzzReport): void {
  expect(r.failures, summarize(r)).toEqual([]);
}

describe(`fuzz: ${VALID} valid configurations, two steps each, against the float64 reference (seed ${SEED})`, () => {
  let skipped = 0;
  for (let start = 0; start < VALID; start += CHUNK) {
    const only = Array.from({ length: Math.min(CHUNK, VALID - start) }, (_, i) => start + i);
    it(`cases ${start}–${only.at(-1)}`, async () => {
      const r = await runFuzz({ seed: SEED, valid: VALID, invalid: 0, only, variety: 'palette' });
      expect(r.valid.run).toBe(only.length);
      skipped += r.valid.skipped;
      expectClean(r);
    }, CHUNK_TIMEOUT);
  }
  it('few cases were skipped for sitting on a kink (relu at 0, hardSigmoid at ±3, mae at 0)', () => {
    expect(skipped).toBeLessThanOrEqual(VALID / 20);
  });
});

describe(`fuzz: ${INVALID} invalid uses fail clearly before any GPU work (seed ${SEED})`, () => {
  it('every invalid case throws a clear error, changes nothing on the GPU and leaves the model usable', async () => {
    const r = await runFuzz({ seed: SEED, valid: 0, invalid: INVALID });
    expect(r.invalid.run).toBe(INVALID);
    expect(Object.keys(r.families).length, 'the families drawn').toBeGreaterThan(40);
    expectClean(r);
  }, CHUNK_TIMEOUT);
});
