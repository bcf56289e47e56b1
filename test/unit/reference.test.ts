/**
 * Tests of the float64 reference implementations (test/reference/*) that the
 * GPU kernels are checked against: every backward is gradient-checked against
 * central differences (loss = Σ r·output for a fixed random r), the Adam
 * reference against hand-written arithmetic, and the RNN references against a
 * hand-computed LSTM step and full BPTT gradient checks.
 */
import { describe, expect, it } from 'vitest';
import {
  activationGradScalar,
  activationScalar,
  adamStepRef,
  addBackwardRef,
  addRef,
  biasAddBackwardRef,
  biasAddRef,
  matmulBackwardRef,
  matmulRef,
  meanBackwardRef,
  meanRef,
  mseBackwardRef,
  mseRef,
  mulBackwardRef,
  mulRef,
  sgdStepRef,
  sumBackwardRef,
  sumRef,
  unaryBackwardRef,
  unaryRef,
  type UnaryName,
} from '../reference/ops';
import {
  biasLength,
  gateCount,
  randomRnnWeights,
  rnnBackwardRef,
  rnnForwardRef,
  type Activation,
  type CellType,
  type RnnRefConfig,
  type RnnRefWeights,
} from '../reference/rnn';
import { expectGradClose, numericGradient } from '../helpers/gradcheck';
import { makeRng, randomArray } from '../helpers/rng';
import { expectClose } from '../helpers/compare';

const UNARY: UnaryName[] = ['tanh', 'sigmoid', 'relu', 'linear', 'hardSigmoid'];

/** Σ r[i]·y[i]: the scalar loss used by every gradient check. */
function dot(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < y.length; i++) acc += (r[i] as number) * (y[i] as number);
  return acc;
}

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

function expectAllFinite(a: ArrayLike<number> | null, name: string): void {
  if (!a) return;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i] as number)) expect.fail(`${name}[${i}] = ${a[i]} is not finite`);
  }
}

// ================================================================= helpers themselves

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

// ================================================================= ops

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

describe('adamStepRef', () => {
  it('matches hand-computed Keras 3 Adam for steps 1, 2, 3 (2 elements, defaults)', () => {
    const p = Float64Array.from([1, -2]);
    const m = new Float64Array(2);
    const v = new Float64Array(2);
    const eps = 1e-7;

    // ---- step 1, g = [0.5, -1]
    adamStepRef(p, Float64Array.from([0.5, -1]), m, v, 1);
    // alpha1 = 0.001 * sqrt(1 - 0.999^1) / (1 - 0.9^1) = 0.001 * sqrt(0.001) / 0.1
    const alpha1 = (0.001 * Math.sqrt(0.001)) / 0.1; // 3.1622776601683794e-4
    // m1 = 0 + (g - 0) * 0.1 = [0.05, -0.1];  v1 = 0 + (g^2 - 0) * 0.001 = [0.00025, 0.001]
    expect(m[0]).toBeCloseTo(0.05, 15);
    expect(m[1]).toBeCloseTo(-0.1, 15);
    expect(v[0]).toBeCloseTo(0.00025, 15);
    expect(v[1]).toBeCloseTo(0.001, 15);
    // p1 = p0 - alpha1 * m1 / (sqrt(v1) + eps)  ~=  p0 - 0.001 * sign(g)  (first Adam step has size ~lr)
    const p1 = [1 - (alpha1 * 0.05) / (Math.sqrt(0.00025) + eps), -2 - (alpha1 * -0.1) / (Math.sqrt(0.001) + eps)];
    expect(p[0]).toBeCloseTo(p1[0]!, 14);
    expect(p[1]).toBeCloseTo(p1[1]!, 14);
    expect(p[0]).toBeCloseTo(0.9990000063245154, 14);
    expect(p[1]).toBeCloseTo(-1.9990000031622677, 14);

    // ---- step 2, g = [0.1, 2]
    adamStepRef(p, Float64Array.from([0.1, 2]), m, v, 2);
    // alpha2 = 0.001 * sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.001 * sqrt(0.001999) / 0.19
    const alpha2 = (0.001 * Math.sqrt(0.001999)) / 0.19; // 2.3531672532745e-4
    // m2 = m1 + (g - m1) * 0.1 = [0.05 + 0.005, -0.1 + 0.21] = [0.055, 0.11]
    // v2 = v1 + (g^2 - v1) * 0.001 = [0.00025 + 0.00000975, 0.001 + 0.003999] = [0.00025975, 0.004999]
    expect(m[0]).toBeCloseTo(0.055, 15);
    expect(m[1]).toBeCloseTo(0.11, 15);
    expect(v[0]).toBeCloseTo(0.00025975, 15);
    expect(v[1]).toBeCloseTo(0.004999, 15);
    const p2 = [
      p1[0]! - (alpha2 * 0.055) / (Math.sqrt(0.00025975) + eps),
      p1[1]! - (alpha2 * 0.11) / (Math.sqrt(0.004999) + eps),
    ];
    expect(p[0]).toBeCloseTo(p2[0]!, 14);
    expect(p[1]).toBeCloseTo(p2[1]!, 14);
    expect(p[0]).toBeCloseTo(0.9981969703286983, 14);
    expect(p[1]).toBeCloseTo(-1.9993661061715038, 14);

    // ---- step 3, g = [-0.3, 0.4]
    adamStepRef(p, Float64Array.from([-0.3, 0.4]), m, v, 3);
    // alpha3 = 0.001 * sqrt(1 - 0.999^3) / (1 - 0.9^3) = 0.001 * sqrt(0.002997001) / 0.271
    const alpha3 = (0.001 * Math.sqrt(0.002997001)) / 0.271; // 2.020105974389679e-4
    // m3 = m2 + (g - m2) * 0.1 = [0.055 - 0.0355, 0.11 + 0.029] = [0.0195, 0.139]
    // v3 = v2 + (g^2 - v2) * 0.001 = [0.00025975 + 0.00008974025, 0.004999 + 0.000155001] = [0.00034949025, 0.005154001]
    expect(m[0]).toBeCloseTo(0.0195, 15);
    expect(m[1]).toBeCloseTo(0.139, 15);
    expect(v[0]).toBeCloseTo(0.00034949025, 15);
    expect(v[1]).toBeCloseTo(0.005154001, 15);
    const p3 = [
      p2[0]! - (alpha3 * 0.0195) / (Math.sqrt(0.00034949025) + eps),
      p2[1]! - (alpha3 * 0.139) / (Math.sqrt(0.005154001) + eps),
    ];
    expect(p[0]).toBeCloseTo(p3[0]!, 14);
    expect(p[1]).toBeCloseTo(p3[1]!, 14);
    expect(p[0]).toBeCloseTo(0.9979862585034396, 14);
    expect(p[1]).toBeCloseTo(-1.9997572316424943, 14);
  });

  it('an off-by-one step (bias correction) gives a different update', () => {
    const run = (step: number): number => {
      const p = Float64Array.from([1]);
      adamStepRef(p, Float64Array.from([0.5]), new Float64Array(1), new Float64Array(1), step);
      return p[0] as number;
    };
    expect(Math.abs(run(1) - run(2))).toBeGreaterThan(1e-4);
    expect(() => run(0)).toThrow(/1-based/);
  });

  it('honours custom hyper-parameters', () => {
    // lr=0.1, beta1=0.5, beta2=0.75, eps=0.01, step 1, g=2:
    // alpha = 0.1*sqrt(0.25)/0.5 = 0.1; m = 1; v = 1; p = 3 - 0.1*1/(1 + 0.01)
    const p = Float64Array.from([3]);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    adamStepRef(p, Float64Array.from([2]), m, v, 1, { learningRate: 0.1, beta1: 0.5, beta2: 0.75, epsilon: 0.01 });
    expect(m[0]).toBe(1);
    expect(v[0]).toBe(1);
    expect(p[0]).toBeCloseTo(3 - 0.1 / 1.01, 15);
  });
});

describe('sgdStepRef', () => {
  it('p -= lr * g', () => {
    const p = Float64Array.from([1, -2]);
    sgdStepRef(p, Float64Array.from([0.5, -4]), 0.25);
    expect(Array.from(p)).toEqual([0.875, -1]);
  });
});

// ================================================================= RNN references

function cfgOf(
  cell: CellType,
  units: number,
  inputSize: number,
  activation: Activation,
  recurrentActivation: Activation,
  resetAfter: boolean,
  useBias: boolean,
): RnnRefConfig {
  return { cell, units, inputSize, activation, recurrentActivation, resetAfter, useBias };
}

describe('rnn reference: shapes and hand-computed values', () => {
  it('gateCount and bias layouts', () => {
    expect(gateCount('simpleRNN')).toBe(1);
    expect(gateCount('lstm')).toBe(4);
    expect(gateCount('gru')).toBe(3);
    expect(biasLength(cfgOf('lstm', 5, 2, 'tanh', 'sigmoid', false, true))).toBe(20);
    expect(biasLength(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', true, true))).toBe(30);
    expect(biasLength(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', false, true))).toBe(15);
    expect(biasLength(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', true, false))).toBe(0);
    const w = randomRnnWeights(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', true, true), 1);
    expect([w.kernel.length, w.recurrentKernel.length, w.bias?.length]).toEqual([30, 75, 30]);
    expect(randomRnnWeights(cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, false), 1).bias).toBeNull();
    expect(randomRnnWeights(cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, true), 7)).toEqual(
      randomRnnWeights(cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, true), 7),
    );
  });

  it('LSTM H=1 I=1 T=1 hand-computed (gate order i, f, c, o)', () => {
    const cfg = cfgOf('lstm', 1, 1, 'tanh', 'sigmoid', false, true);
    const w: RnnRefWeights = {
      kernel: Float64Array.from([0.1, 0.2, 0.3, 0.4]), // [I=1, 4H]: i, f, c, o
      recurrentKernel: Float64Array.from([0.5, -0.6, 0.7, -0.8]),
      bias: Float64Array.from([0.01, 1.0, -0.02, 0.03]),
    };
    const x = 0.5;
    const h0 = 0.2;
    const c0 = -0.3;
    // z_i = 0.5*0.1 + 0.2*0.5 + 0.01 = 0.16;   i = sigmoid(0.16) = 0.5399148845555657
    // z_f = 0.5*0.2 - 0.2*0.6 + 1.0  = 0.98;   f = sigmoid(0.98) = 0.7271082163411295
    // z_c = 0.5*0.3 + 0.2*0.7 - 0.02 = 0.27;   g = tanh(0.27)    = 0.2636248354722033
    // z_o = 0.5*0.4 - 0.2*0.8 + 0.03 = 0.07;   o = sigmoid(0.07) = 0.5174928576663897
    // c = f*c0 + i*g = -0.21813246490233885 + 0.14233497261... = -0.07579749229238425
    // h = o * tanh(c) = -0.039149714497267014
    const out = rnnForwardRef(cfg, w, Float64Array.from([x]), 1, 1, Float64Array.from([h0]), Float64Array.from([c0]));
    expect(out.cLast![0]).toBeCloseTo(-0.07579749229238425, 14);
    expect(out.hLast[0]).toBeCloseTo(-0.039149714497267014, 14);
    expect(out.hSeq[0]).toBe(out.hLast[0]);
  });

  it('SimpleRNN H=1 I=1 T=2 hand-computed', () => {
    const cfg = cfgOf('simpleRNN', 1, 1, 'tanh', 'sigmoid', false, true);
    const w: RnnRefWeights = {
      kernel: Float64Array.from([0.5]),
      recurrentKernel: Float64Array.from([-1]),
      bias: Float64Array.from([0.1]),
    };
    // h1 = tanh(1*0.5 + 0*(-1) + 0.1) = tanh(0.6); h2 = tanh(2*0.5 - h1 + 0.1) = tanh(1.1 - tanh(0.6))
    const out = rnnForwardRef(cfg, w, Float64Array.from([1, 2]), 1, 2);
    expect(out.hSeq[0]).toBeCloseTo(Math.tanh(0.6), 15);
    expect(out.hSeq[1]).toBeCloseTo(Math.tanh(1.1 - Math.tanh(0.6)), 15);
    expect(out.cLast).toBeNull();
  });

  it('GRU H=1 I=1 T=1 hand-computed, resetAfter true and false (gate order z, r, h)', () => {
    const kernel = Float64Array.from([0.3, -0.2, 0.5]);
    const recurrentKernel = Float64Array.from([0.4, 0.6, -0.7]);
    const x = 0.8;
    const h0 = 0.5;
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));

    // resetAfter=true, bias [2, 3H] = [[0.1, 0.2, 0.3], [-0.1, 0.05, 0.2]]
    {
      const cfg = cfgOf('gru', 1, 1, 'tanh', 'sigmoid', true, true);
      const bias = Float64Array.from([0.1, 0.2, 0.3, -0.1, 0.05, 0.2]);
      const z = sig(x * 0.3 + 0.1 + h0 * 0.4 - 0.1);
      const r = sig(x * -0.2 + 0.2 + h0 * 0.6 + 0.05);
      const hh = Math.tanh(x * 0.5 + 0.3 + r * (h0 * -0.7 + 0.2));
      const out = rnnForwardRef(cfg, { kernel, recurrentKernel, bias }, Float64Array.from([x]), 1, 1, Float64Array.from([h0]));
      expect(out.hLast[0]).toBeCloseTo(z * h0 + (1 - z) * hh, 15);
    }
    // resetAfter=false, bias [3H] = [0.1, 0.2, 0.3]
    {
      const cfg = cfgOf('gru', 1, 1, 'tanh', 'sigmoid', false, true);
      const bias = Float64Array.from([0.1, 0.2, 0.3]);
      const z = sig(x * 0.3 + h0 * 0.4 + 0.1);
      const r = sig(x * -0.2 + h0 * 0.6 + 0.2);
      const hh = Math.tanh(x * 0.5 + r * h0 * -0.7 + 0.3);
      const out = rnnForwardRef(cfg, { kernel, recurrentKernel, bias }, Float64Array.from([x]), 1, 1, Float64Array.from([h0]));
      expect(out.hLast[0]).toBeCloseTo(z * h0 + (1 - z) * hh, 15);
    }
  });

  it('hSeq last step equals hLast; batch rows are independent', () => {
    const cfg = cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, true);
    const w = randomRnnWeights(cfg, 5);
    const B = 2;
    const T = 3;
    const x = randomArray(B * T * 2, 6);
    const out = rnnForwardRef(cfg, w, x, B, T);
    for (let b = 0; b < B; b++) {
      expect(Array.from(out.hSeq.slice((b * T + T - 1) * 3, (b * T + T) * 3))).toEqual(
        Array.from(out.hLast.slice(b * 3, b * 3 + 3)),
      );
      const single = rnnForwardRef(cfg, w, x.slice(b * T * 2, (b + 1) * T * 2), 1, T);
      expect(Array.from(single.hLast)).toEqual(Array.from(out.hLast.slice(b * 3, b * 3 + 3)));
    }
  });
});

type LossMode = 'sequence' | 'last' | 'both';

interface CellVariant {
  label: string;
  cell: CellType;
  activation: Activation;
  recurrentActivation: Activation;
  resetAfter: boolean;
  /** Weight scale; larger for hardSigmoid so some pre-activations land in the clipped region. */
  scale: number;
}

const VARIANTS: CellVariant[] = [
  { label: 'simpleRNN tanh', cell: 'simpleRNN', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN relu', cell: 'simpleRNN', activation: 'relu', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN sigmoid', cell: 'simpleRNN', activation: 'sigmoid', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN linear', cell: 'simpleRNN', activation: 'linear', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN hardSigmoid', cell: 'simpleRNN', activation: 'hardSigmoid', recurrentActivation: 'sigmoid', resetAfter: false, scale: 1.5 },
  { label: 'lstm tanh/sigmoid', cell: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'lstm relu/hardSigmoid', cell: 'lstm', activation: 'relu', recurrentActivation: 'hardSigmoid', resetAfter: false, scale: 1.5 },
  { label: 'gru resetAfter tanh/sigmoid', cell: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, scale: 0.5 },
  { label: 'gru resetAfter relu/hardSigmoid', cell: 'gru', activation: 'relu', recurrentActivation: 'hardSigmoid', resetAfter: true, scale: 1.5 },
  { label: 'gru resetBefore tanh/sigmoid', cell: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'gru resetBefore linear/hardSigmoid', cell: 'gru', activation: 'linear', recurrentActivation: 'hardSigmoid', resetAfter: false, scale: 1.5 },
];

interface RnnCase {
  name: string;
  variant: CellVariant;
  mode: LossMode;
  useBias: boolean;
  T: number;
  H: number;
  seed: number;
}

const RNN_CASES: RnnCase[] = [];
{
  let seed = 1000;
  for (const variant of VARIANTS) {
    for (const mode of ['sequence', 'last', 'both'] as const) {
      for (const useBias of [true, false]) {
        for (const T of [1, 4]) {
          for (const H of [1, 5]) {
            seed += 10;
            RNN_CASES.push({
              name: `${variant.label} loss=${mode} useBias=${useBias} T=${T} H=${H}`,
              variant,
              mode,
              useBias,
              T,
              H,
              seed,
            });
          }
        }
      }
    }
  }
}

describe('rnn reference: BPTT gradients vs central differences (B=3, I=2)', () => {
  it.each(RNN_CASES)('$name', ({ variant, mode, useBias, T, H, seed }) => {
    const B = 3;
    const I = 2;
    const cfg = cfgOf(variant.cell, H, I, variant.activation, variant.recurrentActivation, variant.resetAfter, useBias);
    const isLstm = cfg.cell === 'lstm';
    const w = randomRnnWeights(cfg, seed, variant.scale);
    const x = randomArray(B * T * I, seed + 3);
    const h0 = randomArray(B * H, seed + 4, -0.8, 0.8);
    const c0 = isLstm ? randomArray(B * H, seed + 5) : undefined;
    const useSeq = mode !== 'last';
    const useLast = mode !== 'sequence';
    const rSeq = useSeq ? randomArray(B * T * H, seed + 6) : null;
    const rLast = useLast ? randomArray(B * H, seed + 7) : null;
    const rC = useLast && isLstm ? randomArray(B * H, seed + 8) : null;

    const loss = (): number => {
      const out = rnnForwardRef(cfg, w, x, B, T, h0, c0);
      let l = 0;
      if (rSeq) l += dot(rSeq, out.hSeq);
      if (rLast) l += dot(rLast, out.hLast);
      if (rC) l += dot(rC, out.cLast!);
      return l;
    };

    const fwd = rnnForwardRef(cfg, w, x, B, T, h0, c0);
    const g = rnnBackwardRef(cfg, w, x, B, T, h0, c0, fwd.cache, rSeq, rLast, rC);

    expectGradClose(g.dKernel, numericGradient(loss, w.kernel), 'dKernel');
    expectGradClose(g.dRecurrentKernel, numericGradient(loss, w.recurrentKernel), 'dRecurrentKernel');
    if (useBias) expectGradClose(g.dBias!, numericGradient(loss, w.bias!), 'dBias');
    else expect(g.dBias).toBeNull();
    expectGradClose(g.dX, numericGradient(loss, x), 'dX');
    expectGradClose(g.dH0, numericGradient(loss, h0), 'dH0');
    if (isLstm) expectGradClose(g.dC0!, numericGradient(loss, c0!), 'dC0');
    else expect(g.dC0).toBeNull();
  });
});

describe('rnn reference: numerical safety', () => {
  const cases = VARIANTS.flatMap((v) => [100, 1e4].map((mag) => ({ name: `${v.label} |pre-activation| ~ ${mag}`, v, mag })));

  it.each(cases)('$name: finite forward and gradients', ({ v, mag }) => {
    const B = 2;
    const T = 4;
    const I = 2;
    const H = 3;
    const cfg = cfgOf(v.cell, H, I, v.activation, v.recurrentActivation, v.resetAfter, true);
    const w = randomRnnWeights(cfg, 77, 1);
    // x entries of size ~mag with weights of size ~1 give pre-activations of size ~mag.
    const x = randomArray(B * T * I, 78, -mag, mag);
    const h0 = randomArray(B * H, 79);
    const c0 = cfg.cell === 'lstm' ? randomArray(B * H, 80) : undefined;
    const out = rnnForwardRef(cfg, w, x, B, T, h0, c0);
    // the first step's pre-activations really are of the requested size
    let maxPre = 0;
    for (let k = 0; k < gateCount(cfg.cell) * H; k++) maxPre = Math.max(maxPre, Math.abs(out.cache.pre[k] as number));
    expect(maxPre).toBeGreaterThan(mag / 10);
    expectAllFinite(out.hSeq, 'hSeq');
    expectAllFinite(out.cLast, 'cLast');
    const g = rnnBackwardRef(
      cfg, w, x, B, T, h0, c0, out.cache,
      new Float64Array(B * T * H).fill(1), new Float64Array(B * H).fill(1),
      cfg.cell === 'lstm' ? new Float64Array(B * H).fill(1) : null,
    );
    expectAllFinite(g.dKernel, 'dKernel');
    expectAllFinite(g.dRecurrentKernel, 'dRecurrentKernel');
    expectAllFinite(g.dBias, 'dBias');
    expectAllFinite(g.dX, 'dX');
    expectAllFinite(g.dH0, 'dH0');
    expectAllFinite(g.dC0, 'dC0');
  });
});
