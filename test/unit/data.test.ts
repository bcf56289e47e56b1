// Data module: numpy-compatible MT19937, the chapter-15 series generator, splits, naive baselines
// and metrics. Fixtures are from shared docs/reference-results.md §1.1–1.2 (numpy legacy RNG).
import { describe, it, expect } from 'vitest';
import type { HostTensor } from '../../src/host';
import { MT19937 } from '../../src/data/mt19937';
import {
  chapterData,
  generateTimeSeries,
  lastTimeStepMse,
  mse,
  naiveForecast,
  seq2seqTargets,
  sliceRows,
  type ChapterData,
  type ChapterDataKind,
} from '../../src/data/synthetic';

/** Spacing of float32 values around x (1 ulp). */
function ulp32(x: number): number {
  const a = Math.abs(Math.fround(x));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

function expectWithinUlp32(actual: number, expected: number): void {
  const tol = ulp32(expected);
  expect(Math.abs(actual - expected), `actual ${actual} vs expected ${expected} (1 ulp = ${tol})`).toBeLessThanOrEqual(tol);
}

/**
 * Float64 sum and sum of squares of all (float32) elements, Neumaier-compensated.
 * NOTE: a plain left-to-right sum of squares over the 60-step set gives 87322.19228050763, which
 * rounds to ...281 at 6 decimals; the exact value (numpy's pairwise sum, math.fsum) is
 * 87322.19228049151. Each v*v is exact in float64, so compensation recovers it.
 */
function sums(t: HostTensor): { sum: number; sumSq: number } {
  const acc = (): { add(x: number): void; value(): number } => {
    let s = 0;
    let c = 0;
    return {
      add(x: number) {
        const n = s + x;
        c += Math.abs(s) >= Math.abs(x) ? s - n + x : x - n + s;
        s = n;
      },
      value: () => s + c,
    };
  };
  const sum = acc();
  const sumSq = acc();
  for (const v of t.data) {
    sum.add(v);
    sumSq.add(v * v);
  }
  return { sum: sum.value(), sumSq: sumSq.value() };
}

function at(t: HostTensor, ...idx: number[]): number {
  let flat = 0;
  idx.forEach((i, d) => (flat = flat * t.shape[d]! + i));
  return t.data[flat]!;
}

// The notebook's data sets are generated once per kind and shared by the tests below.
const cache = new Map<string, ChapterData>();
function data(kind: ChapterDataKind): ChapterData {
  let d = cache.get(kind);
  if (!d) cache.set(kind, (d = chapterData(kind)));
  return d;
}
let series51: HostTensor | undefined;
let series60: HostTensor | undefined;
const s51 = (): HostTensor => (series51 ??= generateTimeSeries(10000, 51, 42));
const s60 = (): HostTensor => (series60 ??= generateTimeSeries(10000, 60, 42));

describe('MT19937 (numpy legacy RandomState)', () => {
  it('np.random.seed(42); np.random.rand(5) exactly', () => {
    expect(Array.from(new MT19937(42).rand(5))).toEqual([
      0.3745401188473625, 0.9507143064099162, 0.7319939418114051, 0.5986584841970366, 0.15601864044243652,
    ]);
  });

  it('random() is the double built from two consecutive nextU32() outputs', () => {
    const a = new MT19937(7);
    const b = new MT19937(7);
    for (let i = 0; i < 700; i++) {
      const hi = b.nextU32() >>> 5;
      const lo = b.nextU32() >>> 6;
      expect(a.random()).toBe((hi * 67108864 + lo) / 9007199254740992);
    }
  });

  it('first parameter draws for B = 10000 sit at stream indices 0, B, 2B, 3B', () => {
    const u = new MT19937(42).rand(4 * 10000);
    expect([u[0], u[10000], u[20000], u[30000]]).toEqual([
      0.3745401188473625, 0.3736408184666985, 0.7299983109899704, 0.6381445683721739,
    ]);
  });

  it.each([[-1], [1.5], [2 ** 32], [Number.NaN]])('rejects seed %s', (seed) => {
    expect(() => new MT19937(seed)).toThrow(/seed must be an integer in \[0, 2\^32 - 1\]/);
  });
});

describe('generateTimeSeries fixtures (§1.1)', () => {
  it('51-step set: shape, series[0, :5, 0] and series[9999, 50, 0] within 1 float32 ulp', () => {
    const s = s51();
    expect(s.shape).toEqual([10000, 51, 1]);
    const first = [0.4596948027610779, 0.3148667812347412, 0.12497122585773468, -0.10391340404748917, -0.33817386627197266];
    first.forEach((v, t) => expectWithinUlp32(at(s, 0, t, 0), v));
    expectWithinUlp32(at(s, 9999, 50, 0), 0.050528232008218765);
  });

  it('51-step set: float64 sum / sum of squares', () => {
    const { sum, sumSq } = sums(s51());
    expect(sum.toFixed(6)).toBe('-0.322516');
    expect(sumSq.toFixed(6)).toBe('74248.643154');
  });

  it('60-step set: series[0, :3, 0], series[9999, 59, 0], sum / sum of squares', () => {
    const s = s60();
    expect(s.shape).toEqual([10000, 60, 1]);
    [0.4596948027610779, 0.33874455094337463, 0.18980233371257782].forEach((v, t) => expectWithinUlp32(at(s, 0, t, 0), v));
    expectWithinUlp32(at(s, 9999, 59, 0), 0.08325014263391495);
    const { sum, sumSq } = sums(s);
    expect(sum.toFixed(6)).toBe('-13.900674');
    expect(sumSq.toFixed(6)).toBe('87322.192280');
  });

  it('seed 43, generate_time_series(1, 60)[0, :3, 0]', () => {
    const s = generateTimeSeries(1, 60, 43);
    expect(s.shape).toEqual([1, 60, 1]);
    [-0.7143059372901917, -0.6040230393409729, -0.5031339526176453].forEach((v, t) => expectWithinUlp32(at(s, 0, t, 0), v));
  });

  it('a passed generator is advanced by 4·B + B·N draws', () => {
    const rng = new MT19937(42);
    const a = generateTimeSeries(3, 5, rng);
    const b = generateTimeSeries(3, 5, rng);
    const ref = new MT19937(42);
    ref.rand(4 * 3 + 3 * 5);
    expect(Array.from(a.data)).toEqual(Array.from(generateTimeSeries(3, 5, 42).data));
    expect(Array.from(b.data)).toEqual(Array.from(generateTimeSeries(3, 5, ref).data));
  });

  it.each([
    [0, 5, /batchSize must be a positive integer, got 0/],
    [2.5, 5, /batchSize must be a positive integer, got 2.5/],
    [3, -1, /nSteps must be a positive integer, got -1/],
    [3, Number.NaN, /nSteps must be a positive integer, got NaN/],
  ])('rejects batchSize=%s nSteps=%s', (b, n, msg) => {
    expect(() => generateTimeSeries(b, n, 42)).toThrow(msg);
  });

  it('rejects a bad seed', () => {
    expect(() => generateTimeSeries(2, 5, -3)).toThrow(/seed must be an integer/);
  });
});

describe('chapterData splits and layouts (§1.1 table)', () => {
  it.each([
    ['1-step', [50, 1], [1]],
    ['10-step', [50, 1], [10]],
    ['seq2seq', [50, 1], [50, 10]],
  ] as const)('%s: shapes of train / valid / test', (kind, xTail, yTail) => {
    const d = data(kind);
    for (const [split, n] of [['train', 7000], ['valid', 2000], ['test', 1000]] as const) {
      expect(d[split].x.shape).toEqual([n, ...xTail]);
      expect(d[split].y.shape).toEqual([n, ...yTail]);
    }
  });

  it('1-step: x = steps 0..49, y = step 50 of the 51-step set, rows [:7000] [7000:9000] [9000:]', () => {
    const d = data('1-step');
    const s = s51();
    for (const [split, row, b] of [['train', 0, 0], ['train', 6999, 6999], ['valid', 0, 7000], ['valid', 1999, 8999], ['test', 999, 9999]] as const) {
      expect(at(d[split].x, row, 0, 0)).toBe(at(s, b, 0, 0));
      expect(at(d[split].x, row, 49, 0)).toBe(at(s, b, 49, 0));
      expect(at(d[split].y, row, 0)).toBe(at(s, b, 50, 0));
    }
  });

  it('10-step: y = steps 50..59 of the 60-step set', () => {
    const d = data('10-step');
    const s = s60();
    for (const [split, row, b] of [['train', 3, 3], ['valid', 0, 7000], ['test', 999, 9999]] as const) {
      expect(at(d[split].x, row, 17, 0)).toBe(at(s, b, 17, 0));
      for (let k = 0; k < 10; k++) expect(at(d[split].y, row, k)).toBe(at(s, b, 50 + k, 0));
    }
  });

  it('seq2seq: Y[:, t, k-1] = series[:, t+k], and Y[:, 49, :] is the 10-step target', () => {
    const d = data('seq2seq');
    const s = s60();
    for (const [split, row, b] of [['train', 0, 0], ['train', 4321, 4321], ['valid', 5, 7005], ['test', 999, 9999]] as const) {
      for (const t of [0, 1, 25, 49]) {
        for (let k = 1; k <= 10; k++) expect(at(d[split].y, row, t, k - 1)).toBe(at(s, b, t + k, 0));
      }
      for (let k = 0; k < 10; k++) expect(at(d[split].y, row, 49, k)).toBe(at(data('10-step')[split].y, row, k));
    }
    expect(Array.from(d.valid.x.data)).toEqual(Array.from(data('10-step').valid.x.data));
  });

  it('seq2seqTargets on a small series', () => {
    const series: HostTensor = { data: Float32Array.from([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]), shape: [2, 5, 1] };
    const y = seq2seqTargets(series, 3, 2);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(Array.from(y.data)).toEqual([1, 2, 2, 3, 3, 4, 11, 12, 12, 13, 13, 14]);
    expect(() => seq2seqTargets(series, 4, 2)).toThrow(/nInputs \+ horizon = 6 exceeds the series length 5/);
    expect(() => seq2seqTargets({ data: new Float32Array(10), shape: [2, 5] }, 3, 2)).toThrow(/expected a series of shape \[B, N, 1\], got \[2, 5\]/);
  });

  it.each([
    [100, [70, 20, 10]],
    [10, [7, 2, 1]],
    [1000, [700, 200, 100]],
  ])('nSeries = %s scales the split to 70/20/10', (nSeries, sizes) => {
    const d = chapterData('1-step', { nSeries });
    expect([d.train.x.shape[0], d.valid.x.shape[0], d.test.x.shape[0]]).toEqual(sizes);
    // The first row is the first series of generateTimeSeries(nSeries, 51, 42).
    expect(at(d.train.x, 0, 3, 0)).toBe(at(generateTimeSeries(nSeries, 51, 42), 0, 3, 0));
  });

  it('an explicit split and seed are honoured', () => {
    const d = chapterData('10-step', { nSeries: 50, split: [10, 45], seed: 43 });
    expect([d.train.y.shape, d.valid.y.shape, d.test.y.shape]).toEqual([[10, 10], [35, 10], [5, 10]]);
    expect(at(d.test.y, 4, 9)).toBe(at(generateTimeSeries(50, 60, 43), 49, 59, 0));
  });

  it('rejects bad arguments with clear messages', () => {
    expect(() => chapterData('1-step', { nSeries: 3 })).toThrow(/split \[2, 3\] must be integers with 0 < trainEnd < validEnd < nSeries = 3 \(nSeries too small/);
    expect(() => chapterData('1-step', { nSeries: 100, split: [80, 70] })).toThrow(/split \[80, 70\] must be integers/);
    expect(() => chapterData('1-step', { nSeries: 100, split: [70, 100] })).toThrow(/validEnd < nSeries = 100/);
    expect(() => chapterData('1-step', { nSeries: 0 })).toThrow(/nSeries must be a positive integer, got 0/);
    expect(() => chapterData('2-step' as ChapterDataKind, { nSeries: 10 })).toThrow(/unknown kind 2-step/);
  });
});

describe('naive baselines (§1.2)', () => {
  // Printed values are float32 results (Keras); mse() accumulates in float64, so the printed value
  // is matched to float32 precision (relative 1e-7) and the float64 value (numpy, float64) tightly.
  it.each([
    ['1-step', 'valid', 1, 0.020211367, 0.020211366061621258],
    ['1-step', 'test', 1, 0.021811274, 0.02181127441441369],
    ['1-step', 'train', 1, 0.02078631, 0.020786310120171184],
    ['10-step', 'valid', 10, 0.25697407, 0.2569740560391331],
    ['10-step', 'test', 10, 0.26042542, 0.2604253993074096],
  ] as const)('%s %s MSE', (kind, split, horizon, printed, float64) => {
    const d = data(kind)[split];
    const pred = naiveForecast(d.x, horizon);
    expect(pred.shape).toEqual(d.y.shape);
    const v = mse(d.y, pred);
    expect(Math.abs(v - printed)).toBeLessThan(1e-7 * printed);
    expect(v).toBeCloseTo(float64, 13);
  });

  it('naiveForecast repeats the last value', () => {
    const x: HostTensor = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3, 1] };
    expect(naiveForecast(x, 3)).toEqual({ data: Float32Array.from([3, 3, 3, 6, 6, 6]), shape: [2, 3] });
    expect(naiveForecast(x)).toEqual({ data: Float32Array.from([3, 6]), shape: [2, 1] });
    expect(() => naiveForecast(x, 0)).toThrow(/horizon must be a positive integer/);
    expect(() => naiveForecast({ data: x.data, shape: [2, 3] })).toThrow(/\[B, N, 1\], got \[2, 3\]/);
  });

  it('lastTimeStepMse of seq2seq targets equals the 10-step naive MSE when only step 49 is naive', () => {
    const d = data('seq2seq').valid;
    const pred = { data: Float32Array.from(d.y.data), shape: d.y.shape };
    const naive = naiveForecast(d.x, 10);
    for (let b = 0; b < 2000; b++) pred.data.set(naive.data.subarray(b * 10, b * 10 + 10), (b * 50 + 49) * 10);
    expect(lastTimeStepMse(d.y, pred)).toBe(mse(data('10-step').valid.y, naive));
    expect(mse(d.y, pred)).toBeCloseTo(lastTimeStepMse(d.y, pred) / 50, 15);
  });
});

describe('metrics and slicing', () => {
  const a: HostTensor = { data: Float32Array.from([1, 2, 3, 4]), shape: [2, 2] };
  const b: HostTensor = { data: Float32Array.from([1, 0, 3, 8]), shape: [2, 2] };

  it('mse is the mean of squared differences', () => {
    expect(mse(a, b)).toBe((0 + 4 + 0 + 16) / 4);
  });

  it('mse names both shapes on mismatch', () => {
    expect(() => mse(a, { data: a.data, shape: [4] })).toThrow('mse: shape mismatch [2, 2] vs [4]');
    expect(() => mse(a, { data: a.data, shape: [2, 2, 1] })).toThrow('mse: shape mismatch [2, 2] vs [2, 2, 1]');
  });

  it('lastTimeStepMse uses [:, T-1, :] only', () => {
    const yTrue: HostTensor = { data: Float32Array.from([0, 0, 1, 1, 0, 0, 2, 2]), shape: [2, 2, 2] };
    const yPred: HostTensor = { data: Float32Array.from([9, 9, 1, 3, 9, 9, 2, 0]), shape: [2, 2, 2] };
    expect(lastTimeStepMse(yTrue, yPred)).toBe((0 + 4 + 0 + 4) / 4);
    expect(() => lastTimeStepMse(a, b)).toThrow(/\[B, T, K\] arrays of equal shape, got \[2, 2\] vs \[2, 2\]/);
    expect(() => lastTimeStepMse(yTrue, { data: yPred.data, shape: [2, 4, 1] })).toThrow(/got \[2, 2, 2\] vs \[2, 4, 1\]/);
  });

  it('sliceRows copies rows [start, end)', () => {
    const t: HostTensor = { data: Float32Array.from([0, 1, 2, 3, 4, 5]), shape: [3, 2, 1] };
    const s = sliceRows(t, 1, 3);
    expect(s).toEqual({ data: Float32Array.from([2, 3, 4, 5]), shape: [2, 2, 1] });
    s.data[0] = 99;
    expect(t.data[2]).toBe(2);
    expect(sliceRows(t, 2, 2).shape).toEqual([0, 2, 1]);
    expect(() => sliceRows(t, 2, 4)).toThrow('sliceRows: need integers 0 <= start <= end <= 3, got start=2, end=4');
    expect(() => sliceRows(t, -1, 1)).toThrow(/got start=-1, end=1/);
  });
});

describe('kerasMse: the notebook metric in float32, as printed', () => {
  it('naive 1-step valid MSE prints 0.020211367 and naive 10-step 0.25697407', async () => {
    const { chapterData, naiveForecast, kerasMse, float32String } = await import('../../src/data/synthetic');
    const d1 = chapterData('1-step');
    expect(float32String(kerasMse(d1.valid.y, naiveForecast(d1.valid.x)))).toBe('0.020211367');
    const d10 = chapterData('10-step');
    expect(float32String(kerasMse(d10.valid.y, naiveForecast(d10.valid.x, 10)))).toBe('0.25697407');
  });
});
