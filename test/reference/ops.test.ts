/**
 * The float64 references of the elementwise / linear-algebra ops (test/reference/ops.ts) that the
 * GPU kernels are checked against (test/unit/ops.test.ts): hand-computed values, and every
 * backward against central differences (loss = Σ r·output for a fixed random r).
 */
import { describe, expect, it } from 'vitest';
import {
  activationGradScalar,
  activationScalar,
  addBackwardRef,
  addRef,
  biasAddBackwardRef,
  biasAddRef,
  denseMseRef,
  matmulBackwardRef,
  matmulRef,
  meanBackwardRef,
  meanRef,
  mseBackwardRef,
  mseRef,
  mulBackwardRef,
  mulRef,
  sumBackwardRef,
  sumRef,
  unaryBackwardRef,
  unaryRef,
  subRef,
  subBackwardRef,
  scaleRef,
  scaleBackwardRef,
  regressionLossRef,
  elementLossRef,
  awayFromLossKinks,
  type LossKind,
  type LossRefOptions,
  type UnaryName,
} from './ops';
import { dot, expectGradClose, numericGradient } from '../helpers/gradcheck';
import { randomArray } from '../helpers/rng';
import { expectAllFinite } from '../helpers/compare';

const UNARY: UnaryName[] = ['tanh', 'sigmoid', 'relu', 'linear', 'hardSigmoid', 'hardSigmoidTfjs'];

/** Moves values within 0.05 of an activation kink (0 for relu, ±3 for hardSigmoid) away by 0.1. */
function awayFromKinks(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) {
    for (const k of [0, -3, 3, -2.5, 2.5]) {
      if (Math.abs((x[i] as number) - k) < 0.05) x[i] = k + 0.1;
    }
  }
  return x;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c] as number;
  return t;
}

describe('matmulRef', () => {
  it('hand-computed 2x2', () => {
    const c = matmulRef(Float64Array.from([1, 2, 3, 4]), Float64Array.from([5, 6, 7, 8]), 2, 2, 2);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });

  const shapes = [
    [1, 1, 1],
    [2, 3, 4],
    [5, 1, 3],
    [3, 7, 2],
  ] as const;

  describe.each(shapes)('M=%i K=%i N=%i', (M, K, N) => {
    const a = randomArray(M * K, 11 + M);
    const b = randomArray(K * N, 23 + N);

    it.each([
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ])('transA=%s transB=%s equals the plain product of explicit transposes', (tA, tB) => {
      const aStored = tA ? transpose(a, M, K) : a;
      const bStored = tB ? transpose(b, K, N) : b;
      const c = matmulRef(aStored, bStored, M, K, N, tA, tB);
      const expected = new Float64Array(M * N);
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++)
          for (let k = 0; k < K; k++) expected[m * N + n]! += (a[m * K + k] as number) * (b[k * N + n] as number);
      expectGradClose(c, expected, 'C', 1e-14);
    });

    it('backward matches central differences', () => {
      const r = randomArray(M * N, 99);
      const loss = (): number => dot(r, matmulRef(a, b, M, K, N));
      const { dA, dB } = matmulBackwardRef(a, b, r, M, K, N);
      expectGradClose(dA, numericGradient(loss, a), 'dA');
      expectGradClose(dB, numericGradient(loss, b), 'dB');
    });
  });
});

describe('biasAddRef', () => {
  it('hand-computed', () => {
    const y = biasAddRef(Float64Array.from([1, 2, 3, 4, 5, 6]), Float64Array.from([10, 20, 30]), 2, 3);
    expect(Array.from(y)).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(biasAddBackwardRef(Float64Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([5, 7, 9]);
  });

  it.each([
    [1, 1],
    [4, 3],
    [2, 8],
  ])('rows=%i cols=%i backward matches central differences', (rows, cols) => {
    const x = randomArray(rows * cols, 3);
    const bias = randomArray(cols, 4);
    const r = randomArray(rows * cols, 5);
    const loss = (): number => dot(r, biasAddRef(x, bias, rows, cols));
    expectGradClose(biasAddBackwardRef(r, rows, cols), numericGradient(loss, bias), 'dBias');
    expectGradClose(r, numericGradient(loss, x), 'dX (identity)');
  });
});

describe('unaryRef', () => {
  it('hand-computed values (Keras 3 definitions)', () => {
    const x = Float64Array.from([-4, -1, 0, 0.5, 3.5]);
    expect(Array.from(unaryRef('relu', x))).toEqual([0, 0, 0, 0.5, 3.5]);
    expect(Array.from(unaryRef('linear', x))).toEqual([-4, -1, 0, 0.5, 3.5]);
    // hardSigmoid = clip((x + 3) / 6, 0, 1)
    expect(Array.from(unaryRef('hardSigmoid', x))).toEqual([0, 2 / 6, 0.5, 3.5 / 6, 1]);
    // tfjs' hardSigmoid = clip(0.2x + 0.5, 0, 1)
    expect(Array.from(unaryRef('hardSigmoidTfjs', x))).toEqual([0, 0.5 - 0.2, 0.5, 0.5 + 0.2 * 0.5, 1]);
    const s = unaryRef('sigmoid', x);
    const t = unaryRef('tanh', x);
    x.forEach((v, i) => {
      expect(s[i]).toBeCloseTo(1 / (1 + Math.exp(-v)), 15);
      expect(t[i]).toBeCloseTo(Math.tanh(v), 15);
    });
  });

  it.each(UNARY)('%s backward matches central differences', (name) => {
    const x = awayFromKinks(randomArray(40, 7, -5, 5));
    const r = randomArray(40, 8);
    const loss = (): number => dot(r, unaryRef(name, x));
    const dx = unaryBackwardRef(name, x, unaryRef(name, x), r);
    expectGradClose(dx, numericGradient(loss, x), `d${name}`);
  });

  it.each(UNARY)('%s is finite with finite gradient at ±100 and ±1e4', (name) => {
    const x = Float64Array.from([-1e4, -100, -99.5, 99.5, 100, 1e4]);
    const y = unaryRef(name, x);
    const dx = unaryBackwardRef(name, x, y, new Float64Array(x.length).fill(1));
    expectAllFinite(y, `${name}(x)`);
    expectAllFinite(dx, `${name}'(x)`);
  });

  it('saturating activations hit their exact limits without NaN', () => {
    expect(activationScalar('sigmoid', -1e4)).toBe(0);
    expect(activationScalar('sigmoid', 1e4)).toBe(1);
    expect(activationScalar('sigmoid', -800)).toBe(0); // exp(800) would overflow in the naive form
    expect(activationScalar('tanh', 1e4)).toBe(1);
    expect(activationScalar('tanh', -1e4)).toBe(-1);
    expect(activationGradScalar('sigmoid', 1e4, 1)).toBe(0);
    expect(activationGradScalar('hardSigmoid', 5, 1)).toBe(0);
    expect(activationGradScalar('hardSigmoid', 1, 4 / 6)).toBe(1 / 6);
  });
});

describe('addRef / mulRef', () => {
  const n = 17;
  const a = randomArray(n, 31);
  const b = randomArray(n, 32);
  const r = randomArray(n, 33);

  it('add backward matches central differences', () => {
    const loss = (): number => dot(r, addRef(a, b));
    const { dA, dB } = addBackwardRef(r);
    expectGradClose(dA, numericGradient(loss, a), 'dA');
    expectGradClose(dB, numericGradient(loss, b), 'dB');
  });

  it('mul backward matches central differences', () => {
    const loss = (): number => dot(r, mulRef(a, b));
    const { dA, dB } = mulBackwardRef(a, b, r);
    expectGradClose(dA, numericGradient(loss, a), 'dA');
    expectGradClose(dB, numericGradient(loss, b), 'dB');
  });

  it('hand-computed', () => {
    expect(Array.from(addRef(Float64Array.from([1, 2]), Float64Array.from([3, -5])))).toEqual([4, -3]);
    expect(Array.from(mulRef(Float64Array.from([1, 2]), Float64Array.from([3, -5])))).toEqual([3, -10]);
  });
});

describe('subRef / scaleRef', () => {
  const n = 17;
  const a = randomArray(n, 34);
  const b = randomArray(n, 35);
  const r = randomArray(n, 36);

  it('hand-computed', () => {
    expect(Array.from(subRef(Float64Array.from([1, 2]), Float64Array.from([3, -5])))).toEqual([-2, 7]);
    expect(Array.from(scaleRef(Float64Array.from([1, -2, 0]), -2.5, 0.75))).toEqual([-1.75, 5.75, 0.75]);
  });

  it('sub backward matches central differences', () => {
    const loss = (): number => dot(r, subRef(a, b));
    const { dA, dB } = subBackwardRef(r);
    expectGradClose(dA, numericGradient(loss, a), 'dA');
    expectGradClose(dB, numericGradient(loss, b), 'dB');
  });

  it.each([
    [-2.5, 0.75],
    [0, 3],
    [1e-3, -1],
  ])('scale factor=%f shift=%f backward matches central differences', (factor, shift) => {
    const loss = (): number => dot(r, scaleRef(a, factor, shift));
    expectGradClose(scaleBackwardRef(r, factor), numericGradient(loss, a), 'dx');
  });
});

describe('regressionLossRef (Keras 3 mse / mae / huber)', () => {
  // pred [[1, 2], [3, 5]], truth [[0, 2], [3, 1]]: errors d = [[1, 0], [0, 4]]; 2-D outputs are
  // [rows, 1 step, feats]. Keras: per row the mean over features, then the mean over rows.
  const pred = Float64Array.from([1, 2, 3, 5]), truth = Float64Array.from([0, 2, 3, 1]);

  it('hand-computed: mse ((1 + 0)/2 + (0 + 16)/2)/2 = 4.25, mae ((1 + 0)/2 + (0 + 4)/2)/2 = 1.25, huber', () => {
    const mse = regressionLossRef('mse', pred, truth, 2, 1, 2);
    expect(mse.loss).toBe(4.25);
    expect(mse.stats).toEqual([8.5, 2, 2, 0]);
    expect(Array.from(mse.dPred)).toEqual([0.5, 0, 0, 2]); // 2d / (feats · rows)
    expect(regressionLossRef('mae', pred, truth, 2, 1, 2).loss).toBe(1.25);
    // delta 1: ((0.5·1² + 0)/2 + (0 + 1·(4 − 0.5))/2)/2 = (0.25 + 1.75)/2
    expect(regressionLossRef('huber', pred, truth, 2, 1, 2).loss).toBe(1);
    // delta 2: ((0.5 + 0)/2 + (0 + 2·(4 − 1))/2)/2 = (0.25 + 3)/2
    expect(regressionLossRef('huber', pred, truth, 2, 1, 2, { delta: 2 }).loss).toBe(1.625);
    // delta 4: |d| <= delta everywhere, so half the mse
    expect(regressionLossRef('huber', pred, truth, 2, 1, 2, { delta: 4 }).loss).toBe(2.125);
    expect(Array.from(regressionLossRef('huber', pred, truth, 2, 1, 2).dPred)).toEqual([0.25, 0, 0, 0.25]);
    expect(Array.from(regressionLossRef('mae', pred, truth, 2, 1, 2).dPred)).toEqual([0.25, 0, 0, 0.25]);
  });

  it('hand-computed: sample weights [0.5, 2] weigh rows, the divisor stays rows (sum_over_batch_size)', () => {
    const r = regressionLossRef('mse', pred, truth, 2, 1, 2, { sampleWeight: Float64Array.from([0.5, 2]) });
    expect(r.loss).toBe((0.5 * 0.5 + 2 * 8) / 2);
    expect(r.stats).toEqual([16.25, 2, 2.5, 0]);
  });

  it('hand-computed: a mask over 2 steps divides by the unmasked steps (+ 1e-7)', () => {
    // one sequence of 2 steps: step 0 errors [1, 0], step 1 errors [0, 4]
    const only0 = regressionLossRef('mse', pred, truth, 1, 2, 2, { mask: Float64Array.from([1, 0]) });
    expect(only0.loss).toBe(0.5 / (1 + 1e-7));
    expect(only0.stats).toEqual([0.5, 1 + 1e-7, 1, 0]);
    expect(Array.from(only0.dPred.slice(2))).toEqual([0, 0]);
    expect(regressionLossRef('mae', pred, truth, 1, 2, 2, { mask: Float64Array.from([0, 1]) }).loss).toBe(2 / (1 + 1e-7));
    expect(regressionLossRef('mse', pred, truth, 1, 2, 2, { mask: Float64Array.from([1, 1]) }).loss).toBe(8.5 / (2 + 1e-7));
    const none = regressionLossRef('huber', pred, truth, 1, 2, 2, { mask: Float64Array.from([0, 0]) });
    expect([none.loss, ...none.stats]).toEqual([0, 0, 1e-7, 0, 0]);
    // mask and sample weight: w = mask · weight, divisor Σ mask
    const both = regressionLossRef('mse', pred, truth, 1, 2, 2, { mask: Float64Array.from([1, 1]), sampleWeight: Float64Array.from([3]) });
    expect(both.loss).toBe((3 * 0.5 + 3 * 8) / (2 + 1e-7));
    expect(both.stats[2]).toBe(6);
  });

  it('a window counts only its steps', () => {
    const p = randomArray(3 * 4 * 2, 71), y = randomArray(3 * 4 * 2, 72);
    const w = regressionLossRef('mae', p, y, 3, 4, 2, { window: [1, 3] });
    let s = 0;
    for (let r = 0; r < 3; r++) for (let t = 1; t < 3; t++) for (let f = 0; f < 2; f++) s += Math.abs(p[(r * 4 + t) * 2 + f]! - y[(r * 4 + t) * 2 + f]!);
    expect(w.loss).toBeCloseTo(s / 2 / 6, 14);
    expect(w.dPred.slice(0, 2).every((v) => v === 0) && w.dPred.slice(6, 10).every((v) => v === 0)).toBe(true);
  });

  it('element losses: Huber is continuous at |d| = delta, equal to half of d² below it', () => {
    for (const delta of [0.5, 1, 2]) {
      expect(elementLossRef('huber', delta, delta)).toBeCloseTo(elementLossRef('huber', delta + 1e-12, delta), 9);
      expect(elementLossRef('huber', -delta / 2, delta)).toBe(0.5 * (delta / 2) ** 2);
      expect(elementLossRef('huber', -3 * delta, delta)).toBe(delta * (3 * delta - 0.5 * delta));
    }
  });

  const rows = 3, steps = 4, feats = 5;
  const mask = Float64Array.from([1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0]);
  const sampleWeight = Float64Array.from([0.5, 2, 1.25]);
  const VARIANTS: [string, LossRefOptions][] = [
    ['no mask', {}],
    ['mask', { mask }],
    ['sample weights', { sampleWeight }],
    ['mask and sample weights', { mask, sampleWeight }],
    ['window [1, 3)', { window: [1, 3] }],
    ['window [1, 4), mask and sample weights', { window: [1, 4], mask, sampleWeight }],
  ];
  const KINDS: [LossKind, number][] = [['mse', 1], ['mae', 1], ['huber', 1], ['huber', 0.4]];
  for (const [kind, delta] of KINDS) {
    for (const [label, opts] of VARIANTS) {
      it(`${kind}${kind === 'huber' ? ` delta ${delta}` : ''}, ${label}: dPred matches central differences (away from the kinks)`, () => {
        const y = randomArray(rows * steps * feats, 81, -2, 2);
        const p = awayFromLossKinks(randomArray(rows * steps * feats, 82, -2, 2), y, delta);
        const o = { ...opts, delta };
        const dLoss = 0.7;
        const r = regressionLossRef(kind, p, y, rows, steps, feats, o, dLoss);
        expect(r.loss).toBeCloseTo(r.stats[0] / r.stats[1], 14);
        const loss = (): number => dLoss * regressionLossRef(kind, p, y, rows, steps, feats, o).loss;
        expectGradClose(r.dPred, numericGradient(loss, p), 'dPred');
      });
    }
  }
});

describe('mseRef', () => {
  it('hand-computed: mean over all elements', () => {
    // ((1-0)^2 + (2-4)^2 + (-1-(-1))^2 + (0.5-0)^2) / 4 = (1 + 4 + 0 + 0.25) / 4
    const pred = Float64Array.from([1, 2, -1, 0.5]);
    const target = Float64Array.from([0, 4, -1, 0]);
    expect(mseRef(pred, target)).toBe(5.25 / 4);
    expect(Array.from(mseBackwardRef(pred, target))).toEqual([0.5, -1, 0, 0.25]);
  });

  it.each([1, 6, 24])('n=%i backward matches central differences', (n) => {
    const pred = randomArray(n, 41);
    const target = randomArray(n, 42);
    const loss = (): number => mseRef(pred, target);
    expectGradClose(mseBackwardRef(pred, target), numericGradient(loss, pred), 'dPred');
  });
});

describe('sumRef / meanRef', () => {
  it.each([1, 5, 32])('n=%i backward matches central differences', (n) => {
    const x = randomArray(n, 51);
    const r = 0.7; // dOut for the scalar output
    expect(sumRef(Float64Array.from([1, 2, 3.5]))).toBe(6.5);
    expect(meanRef(Float64Array.from([1, 2, 3.5]))).toBe(6.5 / 3);
    expectGradClose(sumBackwardRef(r, n), numericGradient(() => r * sumRef(x), x), 'dSum');
    expectGradClose(meanBackwardRef(r, n), numericGradient(() => r * meanRef(x), x), 'dMean');
  });
});

describe('denseMseRef', () => {
  it('rows=4 H=3 K=2: dW, db, dH match central differences of the MSE loss', () => {
    const rows = 4, H = 3, K = 2;
    const h = randomArray(rows * H, 61), W = randomArray(H * K, 62), b = randomArray(K, 63), y = randomArray(rows * K, 64);
    const r = denseMseRef(h, W, b, y, rows, H, K);
    expectGradClose(r.pred, matmulRef(h, W, rows, H, K).map((p, i) => p + b[i % K]!), 'pred', 1e-14);
    const loss = (): number => mseRef(denseMseRef(h, W, b, y, rows, H, K).pred, y);
    expectGradClose(r.dW, numericGradient(loss, W), 'dW');
    expectGradClose(r.db, numericGradient(loss, b), 'db');
    expectGradClose(r.dH, numericGradient(loss, h), 'dH');
  });
});
