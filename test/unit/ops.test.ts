/**
 * Every elementwise / matmul / reduce / loss entry point, run for real on the GPU (Dawn +
 * software Vulkan) against the float64 reference in test/reference/ops.ts.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD, EXACT } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import * as ref from '../reference/ops';
import { matmul, gemm, gemmEntry, directSide } from '../../src/ops/matmul';
import { activation, add, mul, biasAdd } from '../../src/ops/elementwise';
import { sum, mean } from '../../src/ops/reduce';
import { mse, accumulateScalar } from '../../src/ops/loss';
import type { Activation } from '../../src/ops/activations';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};


describe('matmul forward', () => {
  const cases: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [5, 3, 65], [33, 17, 31], [65, 40, 3]];
  for (const [M, K, N] of cases) {
    for (const withBias of [false, true]) {
      it(`M=${M} K=${K} N=${N} bias=${withBias}`, async () => {
        const ctx = await gpuContext();
        const g = new Graph(ctx, false);
        const a = randomArray(M * K, 1, -2, 2), b = randomArray(K * N, 2, -2, 2), bias = randomArray(N, 3);
        const at = input(g, [M, K], a), bt = input(g, [K, N], b), biasT = input(g, [N], bias);
        const c = await matmul(g, at, bt, withBias ? biasT : null);
        const [out] = await run(g, c);
        let want = ref.matmulRef(f32(a), f32(b), M, K, N);
        if (withBias) want = ref.biasAddRef(want, f32(bias), M, N);
        expectClose(out!, want, FORWARD, 'C');
        g.dispose();
      });
    }
  }
});

describe('matmul backward', () => {
  for (const [M, K, N] of [[3, 5, 2], [5, 3, 65], [34, 33, 5]] as [number, number, number][]) {
    it(`M=${M} K=${K} N=${N}: dA, dB, dBias`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const a = randomArray(M * K, 4, -2, 2), b = randomArray(K * N, 5, -2, 2), bias = randomArray(N, 6), r = randomArray(M * N, 7);
      const at = input(g, [M, K], a, true), bt = input(g, [K, N], b, true), biasT = input(g, [N], bias, true);
      const c = await matmul(g, at, bt, biasT);
      await g.backward(await weightedSum(g, c, r));
      const [dA, dB, dBias] = await run(g, g.grad(at), g.grad(bt), g.grad(biasT));
      const want = ref.matmulBackwardRef(f32(a), f32(b), f32(r), M, K, N);
      expectClose(dA!, want.dA, GRAD, 'dA');
      expectClose(dB!, want.dB, GRAD, 'dB');
      expectClose(dBias!, ref.biasAddBackwardRef(f32(r), M, N), GRAD, 'dBias');
      g.dispose();
    });
  }
});

describe('gemmEntry: the kernel chosen by shape and adapter', () => {
  it('GPUs: tiled for large products, direct 4x4 for skinny ones; CPUs: never tiled, 8x8 blocks for large products', () => {
    expect(gemmEntry(128, 512, 3136, false, false)).toBe('matmul');
    expect(gemmEntry(3200, 512, 8, true, false)).toBe('matmulDirectBias');
    expect(gemmEntry(20, 80, 1568, false, false)).toBe('matmulDirect');
    expect(gemmEntry(128, 512, 3136, false, true)).toBe('matmulDirect8x8'); // LSTM(128) dU on a CPU adapter
    expect(gemmEntry(3200, 512, 8, true, true)).toBe('matmulDirect8x8Bias'); // the LSTM(128) input projection
    expect(gemmEntry(8, 512, 3200, false, true)).toBe('matmulDirect'); // M < 64
    expect(gemmEntry(64, 128, 500, false, true)).toBe('matmulDirect'); // 2 workgroups: too few for the CPU's threads
    expect(gemmEntry(128, 128, 500, true, true)).toBe('matmulDirect8x8Bias');
  });

  it('direct 4x4 workgroups: 8x8 invocations, or 4x4 for small products on CPU adapters (enough workgroups for the threads)', () => {
    expect(directSide(20, 80, true)).toBe(4); // chapter LSTM(20) dU: 3 workgroups of 32x32 → 10 of 16x16
    expect(directSide(20, 80, false)).toBe(8);
    expect(directSide(1600, 20, true)).toBe(8); // 50 workgroups already
  });
});

const ENTRIES = [['matmul', 'matmulBias'], ['matmulDirect', 'matmulDirectBias'], ['matmulDirect8x8', 'matmulDirect8x8Bias']] as const;

for (const [plain, withBias] of ENTRIES) {
  describe(`gemm kernel ${plain}: transposes, bias, accumulate, row views`, () => {
    for (const [M, K, N] of [[1, 1, 1], [5, 3, 65], [33, 17, 31], [65, 40, 3], [130, 9, 71]] as [number, number, number][]) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
        it(`M=${M} K=${K} N=${N} transA=${transA} transB=${transB}, + bias, accumulate`, async () => {
          const ctx = await gpuContext();
          const g = new Graph(ctx, false);
          const a = randomArray(M * K, 41, -2, 2), b = randomArray(K * N, 42, -2, 2), bias = randomArray(N, 43), c0 = randomArray(M * N, 44);
          const at = input(g, transA ? [K, M] : [M, K], a), bt = input(g, transB ? [N, K] : [K, N], b);
          const biasT = input(g, [N], bias), ct = input(g, [M, N], c0);
          await gemm(g, g.forward, {
            M, N, K, transA, transB, accumulate: true, entry: withBias,
            a: { t: at, rowStride: transA ? M : K }, b: { t: bt, rowStride: transB ? K : N }, c: { t: ct, rowStride: N }, bias: { t: biasT },
          });
          const [got] = await run(g, ct);
          const prod = ref.matmulRef(f32(a), f32(b), M, K, N, transA, transB);
          const want = prod.map((v, i) => v + f32(bias)[i % N]! + f32(c0)[i]!);
          expectClose(got!, want, FORWARD, 'C');
          g.dispose();
        });
      }
    }

    it('sums over a strided [B, T, H] sub-sequence as one matrix (the RNN weight-gradient view)', async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, false);
      const B = 3, T = 5, H = 4, N = 6;
      const seq = randomArray(B * T * H, 8), dG = randomArray(B * T * N, 9);
      const st = input(g, [B, T, H], seq), dt = input(g, [B, T, N], dG);
      const out = g.alloc([H, N], 'dW');
      // dW[h, n] = Σ_{b, t>=1} seq[b, t-1, h] · dG[b, t, n]
      await gemm(g, g.forward, {
        M: H, N, K: B * (T - 1), transA: true, entry: plain,
        a: { t: st, off: 0, inner: T - 1, outer: T * H, rowStride: H },
        b: { t: dt, off: N, inner: T - 1, outer: T * N, rowStride: N },
        c: { t: out, rowStride: N },
      });
      const [got] = await run(g, out);
      const want = new Float64Array(H * N);
      const s32 = f32(seq), d32 = f32(dG);
      for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) for (let h = 0; h < H; h++) for (let n = 0; n < N; n++) {
        want[h * N + n]! += s32[(b * T + t - 1) * H + h]! * d32[(b * T + t) * N + n]!;
      }
      expectClose(got!, want, FORWARD, 'dW');
      g.dispose();
    });
  });
}

const ACTS: Activation[] = ['tanh', 'sigmoid', 'relu', 'hardSigmoid'];

describe('activations forward and backward', () => {
  for (const act of ACTS) {
    it(`${act}: 65 values incl. ±50, ±100, ±1e4`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const x = randomArray(65, 13, -4, 4);
      x.set([50, -50, 100, -100, 1e4, -1e4, 0.25, -0.25], 0);
      // keep inputs away from kinks (relu at 0, hardSigmoid at ±3)
      for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) < 1e-3 || Math.abs(Math.abs(x[i]!) - 3) < 1e-3) x[i] = 0.5;
      const r = randomArray(65, 14);
      const xt = input(g, [65], x, true);
      const y = await activation(g, xt, act);
      await g.backward(await weightedSum(g, y, r));
      const [yv, dx] = await run(g, y, g.grad(xt));
      const wantY = ref.unaryRef(act, f32(x));
      expectClose(yv!, wantY, FORWARD, `${act}(x)`);
      expectClose(dx!, ref.unaryBackwardRef(act, f32(x), wantY, f32(r)), GRAD, `d${act}`);
      expect(yv!.every(Number.isFinite) && dx!.every(Number.isFinite)).toBe(true);
      g.dispose();
    });
  }
});

describe('add, mul, biasAdd', () => {
  it('add and mul forward/backward, with a tensor used twice (x*x + x)', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const n = 67;
    const x = randomArray(n, 15, -3, 3), r = randomArray(n, 16);
    const xt = input(g, [n], x, true);
    const sq = await mul(g, xt, xt);
    const z = await add(g, sq, xt);
    await g.backward(await weightedSum(g, z, r));
    const [zv, dx] = await run(g, z, g.grad(xt));
    const x32 = f32(x);
    expectClose(zv!, ref.addRef(ref.mulRef(x32, x32), x32), FORWARD, 'x*x+x');
    // d/dx Σ r (x² + x) = r (2x + 1): the tape must ACCUMULATE three contributions into d(x)
    expectClose(dx!, x32.map((v, i) => f32(r)[i]! * (2 * v + 1)), GRAD, 'dx');
    g.dispose();
  });

  it('biasAdd forward/backward on [5, 3, 7]', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const x = randomArray(105, 17), bias = randomArray(7, 18), r = randomArray(105, 19);
    const xt = input(g, [5, 3, 7], x, true), bt = input(g, [7], bias, true);
    const z = await biasAdd(g, xt, bt);
    await g.backward(await weightedSum(g, z, r));
    const [zv, dx, db] = await run(g, z, g.grad(xt), g.grad(bt));
    expectClose(zv!, ref.biasAddRef(f32(x), f32(bias), 15, 7), FORWARD, 'z');
    expectClose(dx!, f32(r), GRAD, 'dx');
    expectClose(db!, ref.biasAddBackwardRef(f32(r), 15, 7), GRAD, 'dbias');
    g.dispose();
  });
});

describe('reductions', () => {
  for (const n of [1, 5, 257, 1000]) {
    it(`sum and mean of ${n} values, backward`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const x = randomArray(n, 20, -50, 50);
      const xt = input(g, [n], x, true);
      const s = await sum(g, xt);
      const m = await mean(g, xt);
      const total = await add(g, s, m);
      await g.backward(total);
      const [sv, mv, dx] = await run(g, s, m, g.grad(xt));
      expectClose(sv!, [ref.sumRef(f32(x))], FORWARD, 'sum');
      expectClose(mv!, [ref.meanRef(f32(x))], FORWARD, 'mean');
      const want = ref.sumBackwardRef(1, n).map((v, i) => v + ref.meanBackwardRef(1, n)[i]!);
      expectClose(dx!, want, GRAD, 'dx');
      g.dispose();
    });
  }
});

describe('mse loss', () => {
  it('full window on [7, 3]: forward and backward', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const p = randomArray(21, 21, -100, 100), y = randomArray(21, 22);
    const pt = input(g, [7, 3], p, true), yt = input(g, [7, 3], y);
    const l = await mse(g, pt, yt);
    await g.backward(l);
    const [lv, dp] = await run(g, l, g.grad(pt));
    expectClose(lv!, [ref.mseRef(f32(p), f32(y))], FORWARD, 'loss');
    expectClose(dp!, ref.mseBackwardRef(f32(p), f32(y)), GRAD, 'dPred');
    g.dispose();
  });

  it('time window [t0, t1) on [3, 5, 2] (last-time-step and warm-up losses)', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const B = 3, T = 5, F = 2, t0 = 2, t1 = 5;
    const p = randomArray(B * T * F, 23), y = randomArray(B * T * F, 24);
    const pt = input(g, [B, T, F], p, true), yt = input(g, [B, T, F], y);
    const l = await mse(g, pt, yt, [t0, t1]);
    await g.backward(l);
    const [lv, dp] = await run(g, l, g.grad(pt));
    const idx: number[] = [];
    for (let b = 0; b < B; b++) for (let t = t0; t < t1; t++) for (let f = 0; f < F; f++) idx.push((b * T + t) * F + f);
    const ps = Float64Array.from(idx, (i) => f32(p)[i]!), ys = Float64Array.from(idx, (i) => f32(y)[i]!);
    expectClose(lv!, [ref.mseRef(ps, ys)], FORWARD, 'loss');
    const want = new Float64Array(B * T * F);
    ref.mseBackwardRef(ps, ys).forEach((v, j) => (want[idx[j]!] = v));
    expectClose(dp!, want, GRAD, 'dPred (zero outside the window)');
    g.dispose();
  });

  it('accumulateScalar adds weight·loss into a running total', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const lt = input(g, [1], [0.25]);
    const totals = input(g, [2], [1, 0]);
    await accumulateScalar(g, lt, totals, 0, 4);
    await accumulateScalar(g, lt, totals, 1, 2);
    const [tv] = await run(g, totals);
    expectClose(tv!, [2, 0.5], EXACT, 'totals');
    g.dispose();
  });
});

export { dot };
