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
  type UnaryName,
} from './ops';
import { dot, expectGradClose, numericGradient } from '../helpers/gradcheck';
import { randomArray } from '../helpers/rng';
import { expectAllFinite } from '../helpers/compare';

const UNARY: UnaryName[] = ['tanh', 'sigmoid', 'relu', 'linear', 'hardSigmoid'];

/** Moves values within 0.05 of an activation kink (0 for relu, ±3 for hardSigmoid) away by 0.1. */
function awayFromKinks(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) {
    for (const k of [0, -3, 3]) {
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
