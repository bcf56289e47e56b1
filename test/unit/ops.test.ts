/**
 * Every elementwise / matmul / reduce / loss entry point, run for real on the GPU (Dawn +
 * software Vulkan) against the float64 reference in test/reference/ops.ts; the regression losses
 * (Keras 3 mse / mae / huber with windows, masks and sample weights) also against hand-computed
 * values and against the same sequences without their padded steps.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD, EXACT } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import * as ref from '../reference/ops';
import { matmul, gemm, gemmEntry, directSide, direct8x8Workgroup, vecReadable, transposeInto, gatesByUnitInto } from '../../src/ops/matmul';
import { activation, add, mul, sub, scale, biasAdd } from '../../src/ops/elementwise';
import { sum, mean } from '../../src/ops/reduce';
import { mse, accumulateScalar, accumulateMetric, regressionLoss, type LossKind } from '../../src/ops/loss';
import type { Tensor } from '../../src/tensor';
import type { Activation } from '../../src/ops/activations';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};


describe('layout copies of a recurrent kernel (the RNN kernels read U through them)', () => {
  it('transposeInto: Uᵀ with rows padded (the padding left alone), and unpadded', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const rows = 5, cols = 12, stride = 8;
    const u = randomArray(rows * cols, 11);
    const ut = input(g, [rows, cols], u);
    const padded = input(g, [cols, stride], new Float64Array(cols * stride).fill(-7));
    const plain = g.alloc([cols, rows], 'plain');
    await transposeInto(g, g.forward, ut, rows, cols, padded, stride);
    await transposeInto(g, g.forward, ut, rows, cols, plain);
    const [p, q] = await run(g, padded, plain);
    const want = new Float64Array(cols * stride).fill(-7);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) want[c * stride + r] = f32(u)[r * cols + c]!;
    expectClose(p!, want, EXACT, 'padded Uᵀ');
    expectClose(q!, want.filter((_, i) => i % stride < rows), EXACT, 'Uᵀ');
    await expect(transposeInto(g, g.forward, ut, rows, cols, plain, rows - 1)).rejects.toThrow(/not 5×12 and 12×4/);
    g.dispose();
  });

  for (const G of [1, 2, 3, 4]) {
    it(`gatesByUnitInto, ${G} gate block(s): element (k*H + j)*4 + g = U[k, g*H + j], 0 past the gates`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, false);
      const rows = 3, H = 5;
      const u = randomArray(rows * G * H, 20 + G);
      const out = g.alloc([rows, H, 4], 'byUnit');
      await gatesByUnitInto(g, g.forward, input(g, [rows, G * H], u), rows, G, H, out);
      const [got] = await run(g, out);
      const want = new Float64Array(rows * H * 4);
      for (let k = 0; k < rows; k++) for (let j = 0; j < H; j++) for (let q = 0; q < G; q++) want[(k * H + j) * 4 + q] = f32(u)[k * G * H + q * H + j]!;
      expectClose(got!, want, EXACT, 'U by unit');
      g.dispose();
    });
  }
});

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
  it('GPUs: tiled for large products, direct 4x4 for skinny ones; CPUs: never tiled, 8x8 blocks unless M or N < 8', () => {
    expect(gemmEntry(128, 512, 3136, false, false)).toBe('matmul');
    expect(gemmEntry(3200, 512, 8, true, false)).toBe('matmulDirectBias');
    expect(gemmEntry(20, 80, 1568, false, false)).toBe('matmulDirect');
    expect(gemmEntry(128, 512, 3136, false, true)).toBe('matmulDirect8x8'); // LSTM(128) dU on a CPU adapter
    expect(gemmEntry(3200, 512, 8, true, true)).toBe('matmulDirect8x8Bias'); // the LSTM(128) input projection
    expect(gemmEntry(20, 80, 1568, false, true)).toBe('matmulDirect8x8'); // chapter LSTM(20) dU
    expect(gemmEntry(1600, 20, 80, false, true)).toBe('matmulDirect8x8'); // ... its dX
    expect(gemmEntry(1, 80, 1600, false, true)).toBe('matmulDirect'); // M < 8: an 8x8 block would be 7/8 idle
    expect(gemmEntry(32, 1, 20, true, true)).toBe('matmulDirectBias'); // N < 8
    expect(gemmEntry(128, 128, 500, true, true)).toBe('matmulDirect8x8Bias');
  });

  it('8x8 workgroups: at most 64 invocations, blocks split evenly, ≥ 8 workgroups when the product has the blocks', () => {
    expect(direct8x8Workgroup(128, 512)).toEqual([8, 8]); // LSTM(128) dU: 16 workgroups of 64x64
    expect(direct8x8Workgroup(20, 80)).toEqual([5, 1]); // 10 blocks along N as 2 × 5, not 8 + 2
    expect(direct8x8Workgroup(1600, 20)).toEqual([3, 20]);
    expect(direct8x8Workgroup(1600, 80)).toEqual([5, 12]);
    for (const M of [8, 9, 20, 64, 100, 333, 1600]) {
      for (const N of [8, 20, 64, 80, 130, 512]) {
        const [gx, gy] = direct8x8Workgroup(M, N);
        const bx = Math.ceil(N / 8), by = Math.ceil(M / 8);
        const groups = Math.ceil(bx / gx) * Math.ceil(by / gy);
        expect(gx * gy, `${M}x${N}`).toBeLessThanOrEqual(64);
        expect(gx, `${M}x${N}`).toBeLessThanOrEqual(8);
        expect(gx * Math.ceil(bx / gx) - bx, `${M}x${N}: idle columns of invocations`).toBeLessThan(Math.ceil(bx / gx));
        if (gy > 1) expect(groups, `${M}x${N}`).toBeGreaterThanOrEqual(8);
      }
    }
  });

  it('direct 4x4 workgroups: 8x8 invocations, or 4x4 for small products on CPU adapters (enough workgroups for the threads)', () => {
    expect(directSide(20, 80, true)).toBe(4); // 3 workgroups of 32x32 → 10 of 16x16 (CPU adapters now take 8x8 blocks for this shape; 4x4 serves M or N < 8)
    expect(directSide(20, 80, false)).toBe(8);
    expect(directSide(1600, 20, true)).toBe(8); // 50 workgroups already
  });

  it('vecReadable: vec4 reads only for aligned, consecutive, in-bounds blocks', () => {
    const t = (size: number) => ({ size }) as never;
    expect(vecReadable({ t: t(64), rowStride: 8 }, 8, 8, 8, true)).toBe(true);
    expect(vecReadable({ t: t(64), rowStride: 8 }, 8, 8, 8, false)).toBe(false); // the block runs across rows
    expect(vecReadable({ t: t(60), rowStride: 6 }, 10, 6, 4, true)).toBe(false); // rows not 4-aligned
    expect(vecReadable({ t: t(64), rowStride: 8 }, 8, 12, 8, true)).toBe(false); // a block would straddle the edge
    expect(vecReadable({ t: t(66), rowStride: 8, off: 2 }, 8, 8, 8, true)).toBe(false); // offset not 4-aligned
    expect(vecReadable({ t: t(64), rowStride: 8, off: 4 }, 8, 4, 4, true)).toBe(true); // last vec4 ends at 64
    expect(vecReadable({ t: t(67), rowStride: 8, off: 4 }, 8, 8, 4, true)).toBe(false); // past the last whole vec4 (64)
    // the [B, T, H] weight-gradient view: rows (b, t) at b*outer + t*rowStride
    expect(vecReadable({ t: t(3 * 5 * 8), off: 8, inner: 4, outer: 40, rowStride: 8 }, 12, 8, 8, true)).toBe(true);
    expect(vecReadable({ t: t(3 * 5 * 6), off: 6, inner: 4, outer: 30, rowStride: 6 }, 12, 6, 4, true)).toBe(false);
  });
});

const ENTRIES = [['matmul', 'matmulBias'], ['matmulDirect', 'matmulDirectBias'], ['matmulDirect8x8', 'matmulDirect8x8Bias']] as const;

for (const [plain, withBias] of ENTRIES) {
  describe(`gemm kernel ${plain}: transposes, bias, accumulate, row views`, () => {
    // M and N divisible by 8: the direct kernels read op(A) (transA) and op(B) (!transB) as vec4s
    for (const [M, K, N] of [[1, 1, 1], [5, 3, 65], [33, 17, 31], [65, 40, 3], [130, 9, 71], [8, 6, 16], [24, 5, 40], [20, 37, 80], [100, 9, 20]] as [number, number, number][]) {
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

    // N = 6: scalar loads of dG; N = 8: both operands read as vec4s (aligned rows, H and N divisible by 4)
    for (const N of [6, 8]) it(`sums over a strided [B, T, H] sub-sequence as one matrix (the RNN weight-gradient view), N=${N}`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, false);
      const B = 3, T = 5, H = 8;
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

const ACTS: Activation[] = ['tanh', 'sigmoid', 'relu', 'hardSigmoid', 'hardSigmoidTfjs'];

describe('activations forward and backward', () => {
  for (const act of ACTS) {
    it(`${act}: 65 values incl. ±50, ±100, ±1e4`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const x = randomArray(65, 13, -4, 4);
      x.set([50, -50, 100, -100, 1e4, -1e4, 0.25, -0.25], 0);
      // keep inputs away from kinks (relu at 0, hardSigmoid at ±3)
      for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) < 1e-3 || Math.abs(Math.abs(x[i]!) - 3) < 1e-3 || Math.abs(Math.abs(x[i]!) - 2.5) < 1e-3) x[i] = 0.5;
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

/** The sum of the loss terms (at least one). */
async function total(g: Graph, terms: Tensor[]): Promise<Tensor> {
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = await add(g, loss, t);
  return loss;
}

describe('sub and scale', () => {
  const B = 3, T = 4, F = 5, n = B * T * F;

  it('sub forward/backward on [3, 4, 5]: dA = dy, dB = -dy (added to their other gradients)', async () => {
    const a = f32(randomArray(n, 401, -2, 2)), b = f32(randomArray(n, 402, -2, 2));
    const r = f32(randomArray(n, 403)), ra = f32(randomArray(n, 404)), rb = f32(randomArray(n, 405));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const at = input(g, [B, T, F], a, true, 'a'), bt = input(g, [B, T, F], b, true, 'b');
    const z = await sub(g, at, bt);
    expect(z.shape).toEqual([B, T, F]);
    await g.backward(await total(g, [await weightedSum(g, z, r), await weightedSum(g, at, ra), await weightedSum(g, bt, rb)]));
    const [zv, da, db] = await run(g, z, g.grad(at), g.grad(bt));
    g.dispose();
    expectClose(zv!, ref.subRef(a, b), FORWARD, 'a - b');
    const want = ref.subBackwardRef(r);
    expectClose(da!, want.dA.map((v, i) => v + ra[i]!), GRAD, 'dA');
    expectClose(db!, want.dB.map((v, i) => v + rb[i]!), GRAD, 'dB');
  });

  it('x - x is 0 with no gradient; only the subtrahend needs one: d(b) = -dy', async () => {
    const x = f32(randomArray(n, 411, -2, 2)), a = f32(randomArray(n, 412)), r = f32(randomArray(n, 413)), r2 = f32(randomArray(n, 414));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [n], x, true, 'x'), at = input(g, [n], a, false, 'a');
    const zero = await sub(g, xt, xt);
    const z = await sub(g, at, xt); // d(x) gets -r2
    await g.backward(await total(g, [await weightedSum(g, zero, r), await weightedSum(g, z, r2)]));
    const [zv, z2, dx] = await run(g, zero, z, g.grad(xt));
    expect(g.gradIfAny(at)).toBeNull();
    g.dispose();
    expectClose(zv!, new Float64Array(n), EXACT, 'x - x');
    expectClose(z2!, ref.subRef(a, x), FORWARD, 'a - x');
    expectClose(dx!, ref.subBackwardRef(r2).dB, GRAD, 'dx (the x - x terms cancel)');
  });

  for (const [factor, shift] of [[-2.5, 0.75], [0, 3], [1, 0], [1e-3, -1]] as [number, number][]) {
    it(`scale factor ${factor} shift ${shift} on [3, 4, 5]: y = x·factor + shift, dx = dy·factor (+ x's other gradient)`, async () => {
      const x = f32(randomArray(n, 421, -3, 3)), r = f32(randomArray(n, 422)), r2 = f32(randomArray(n, 423));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, F], x, true, 'x');
      const y = await scale(g, xt, factor, shift);
      expect(y.shape).toEqual([B, T, F]);
      await g.backward(await total(g, [await weightedSum(g, y, r), await weightedSum(g, xt, r2)]));
      const [yv, dx] = await run(g, y, g.grad(xt));
      g.dispose();
      const f = Math.fround(factor), s = Math.fround(shift);
      expectClose(yv!, ref.scaleRef(x, f, s), FORWARD, 'y');
      expectClose(dx!, ref.scaleBackwardRef(r, f).map((v, i) => v + r2[i]!), GRAD, 'dx');
    });
  }

  it('scale twice (the default shift is 0): dx = dy·f1·f2', async () => {
    const x = f32(randomArray(n, 431)), r = f32(randomArray(n, 432));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [n], x, true, 'x');
    const y = await scale(g, await scale(g, xt, 2), -0.5, 1);
    await g.backward(await weightedSum(g, y, r));
    const [yv, dx] = await run(g, y, g.grad(xt));
    g.dispose();
    expectClose(yv!, ref.scaleRef(x, -1, 1), FORWARD, 'y');
    expectClose(dx!, ref.scaleBackwardRef(r, -1), GRAD, 'dx');
  });

  it('bad shapes and scalars: clear errors', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const a = input(g, [B, T, F], new Float64Array(n)), b = input(g, [B, T * F], new Float64Array(n));
    await expect(sub(g, a, b)).rejects.toThrow(/sub: shapes \[3, 4, 5\] and \[3, 20\] differ/);
    await expect(scale(g, a, NaN)).rejects.toThrow(/scale: scale NaN and shift 0 must be finite/);
    await expect(scale(g, a, 1, Infinity, 'norm')).rejects.toThrow(/norm: scale 1 and shift Infinity must be finite/);
    g.dispose();
  });
});

describe('regression losses (Keras 3): hand-computed values', () => {
  // pred [[1, 2], [3, 5]], truth [[0, 2], [3, 1]]: errors [[1, 0], [0, 4]]
  const P = [1, 2, 3, 5], Y = [0, 2, 3, 1];
  const cases: [string, LossKind, number, number[] | null, number, number[]][] = [
    // label, kind, delta, sample weights, loss, stats
    ['mse = ((1 + 0)/2 + (0 + 16)/2)/2', 'mse', 1, null, 4.25, [8.5, 2, 2, 0]],
    ['mae = ((1 + 0)/2 + (0 + 4)/2)/2', 'mae', 1, null, 1.25, [2.5, 2, 2, 0]],
    ['huber delta 1 = ((0.5 + 0)/2 + (0 + (4 − 0.5))/2)/2', 'huber', 1, null, 1, [2, 2, 2, 0]],
    ['huber delta 2 = ((0.5 + 0)/2 + (0 + 2·(4 − 1))/2)/2', 'huber', 2, null, 1.625, [3.25, 2, 2, 0]],
    ['mse with sample weights [0.5, 2] = (0.5·0.5 + 2·8)/2', 'mse', 1, [0.5, 2], 8.125, [16.25, 2, 2.5, 0]],
  ];
  for (const [label, kind, delta, sw, want, stats] of cases) {
    it(label, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const pt = input(g, [2, 2], P, true, 'pred');
      const { loss, stats: st } = await regressionLoss(g, kind, pt, input(g, [2, 2], Y), { delta, sampleWeight: sw ? input(g, [2], sw) : null });
      expect(loss.shape).toEqual([1]);
      expect(st.shape).toEqual([4]);
      await g.backward(loss);
      const [lv, sv, dp] = await run(g, loss, st, g.grad(pt));
      g.dispose();
      expectClose(lv!, [want], FORWARD, 'loss');
      expectClose(sv!, stats, FORWARD, 'stats');
      const r = ref.regressionLossRef(kind, Float64Array.from(P), Float64Array.from(Y), 2, 1, 2, { delta, sampleWeight: sw && Float64Array.from(sw) });
      expect(r.loss).toBe(want);
      expectClose(dp!, r.dPred, GRAD, 'dPred');
    });
  }
});

describe('regression losses (Keras 3) against the reference: kinds × mask / sample weights / window', () => {
  const B = 3, T = 4, F = 5, n = B * T * F;
  const mask = Float64Array.from([1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0]);
  const sampleWeight = f32(Float64Array.from([0.5, 2, 1.25]));
  const VARIANTS: [string, { window?: [number, number]; mask?: boolean; sw?: boolean }][] = [
    ['no mask', {}],
    ['mask', { mask: true }],
    ['sample weights', { sw: true }],
    ['mask and sample weights', { mask: true, sw: true }],
    ['window [1, 3)', { window: [1, 3] }],
    ['window [T-1, T) (last time step)', { window: [T - 1, T] }],
    ['window [1, 4), mask and sample weights', { window: [1, 4], mask: true, sw: true }],
  ];
  const KINDS: [LossKind, number][] = [['mse', 1], ['mae', 1], ['huber', 1], ['huber', 0.4]];
  for (const [kind, delta] of KINDS) {
    for (const [label, v] of VARIANTS) {
      it(`${kind}${kind === 'huber' ? ` delta ${delta}` : ''}, ${label}: loss, stats and dPred (dLoss = 0.7)`, async () => {
        const y = f32(randomArray(n, 501, -2, 2));
        const p = f32(ref.awayFromLossKinks(randomArray(n, 502, -2, 2), y, delta));
        const ctx = await gpuContext();
        const g = new Graph(ctx, true);
        const pt = input(g, [B, T, F], p, true, 'pred');
        const opts = { window: v.window, delta, mask: v.mask ? input(g, [B, T], mask) : null, sampleWeight: v.sw ? input(g, [B], sampleWeight) : null };
        const { loss, stats } = await regressionLoss(g, kind, pt, input(g, [B, T, F], y), opts);
        await g.backward(await weightedSum(g, loss, Float64Array.from([0.7])));
        const [lv, sv, dp] = await run(g, loss, stats, g.grad(pt));
        g.dispose();
        const want = ref.regressionLossRef(kind, p, y, B, T, F, { window: v.window, delta: Math.fround(delta), mask: v.mask ? mask : null, sampleWeight: v.sw ? sampleWeight : null }, Math.fround(0.7));
        expectClose(lv!, [want.loss], FORWARD, 'loss');
        expectClose(sv!, want.stats, FORWARD, 'stats');
        expectClose(dp!, want.dPred, GRAD, 'dPred');
      });
    }
  }

  it('2-D outputs [rows, feats] with sample weights (one step per row)', async () => {
    const rows = 7, feats = 3;
    const y = f32(randomArray(rows * feats, 511, -2, 2)), p = f32(ref.awayFromLossKinks(randomArray(rows * feats, 512, -2, 2), y));
    const sw = f32(randomArray(rows, 513, 0, 2));
    for (const kind of ['mse', 'mae', 'huber'] as const) {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const pt = input(g, [rows, feats], p, true, 'pred');
      const { loss, stats } = await regressionLoss(g, kind, pt, input(g, [rows, feats], y), { sampleWeight: input(g, [rows], sw) });
      await g.backward(loss);
      const [lv, sv, dp] = await run(g, loss, stats, g.grad(pt));
      g.dispose();
      const want = ref.regressionLossRef(kind, p, y, rows, 1, feats, { sampleWeight: sw });
      expectClose(lv!, [want.loss], FORWARD, `${kind} loss`);
      expectClose(sv!, want.stats, FORWARD, `${kind} stats`);
      expectClose(dp!, want.dPred, GRAD, `${kind} dPred`);
    }
  });

  it('more (row, step) pairs than the 256 threads of the reduction: [40, 9, 2], window [2, 9), mask and sample weights; 1-D outputs', async () => {
    const rows = 40, steps = 9, feats = 2, m = rows * steps * feats;
    const y = f32(randomArray(m, 551, -2, 2)), p = f32(ref.awayFromLossKinks(randomArray(m, 552, -2, 2), y));
    const mk = Float64Array.from(randomArray(rows * steps, 553), (u) => (u < -0.4 ? 0 : 1));
    const sw = f32(randomArray(rows, 554, 0, 2));
    for (const kind of ['mse', 'mae', 'huber'] as const) {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const pt = input(g, [rows, steps, feats], p, true, 'pred'), p1 = input(g, [m], p, true, 'pred1d');
      const a = await regressionLoss(g, kind, pt, input(g, [rows, steps, feats], y), { window: [2, steps], mask: input(g, [rows, steps], mk), sampleWeight: input(g, [rows], sw) });
      const b = await regressionLoss(g, kind, p1, input(g, [m], y)); // 1-D: m rows of one feature
      await g.backward(await add(g, a.loss, b.loss));
      const [la, sa, da, lb, sb, db] = await run(g, a.loss, a.stats, g.grad(pt), b.loss, b.stats, g.grad(p1));
      g.dispose();
      const wa = ref.regressionLossRef(kind, p, y, rows, steps, feats, { window: [2, steps], mask: mk, sampleWeight: sw });
      const wb = ref.regressionLossRef(kind, p, y, m, 1, 1);
      expectClose(la!, [wa.loss], FORWARD, `${kind} loss`);
      expectClose(sa!, wa.stats, FORWARD, `${kind} stats`);
      expectClose(da!, wa.dPred, GRAD, `${kind} dPred`);
      expectClose(lb!, [wb.loss], FORWARD, `${kind} 1-D loss`);
      expectClose(sb!, wb.stats, FORWARD, `${kind} 1-D stats`);
      expectClose(db!, wb.dPred, GRAD, `${kind} 1-D dPred`);
    }
  });

  it('every step masked: loss 0, stats [0, 1e-7, 0, 0], dPred 0 (no NaN)', async () => {
    const y = f32(randomArray(n, 521)), p = f32(randomArray(n, 522));
    for (const kind of ['mse', 'mae', 'huber'] as const) {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const pt = input(g, [B, T, F], p, true, 'pred');
      const { loss, stats } = await regressionLoss(g, kind, pt, input(g, [B, T, F], y), { mask: input(g, [B, T], new Float64Array(B * T)) });
      await g.backward(loss);
      const [lv, sv, dp] = await run(g, loss, stats, g.grad(pt));
      g.dispose();
      expectClose(lv!, [0], EXACT, `${kind} loss`);
      expectClose(sv!, [0, Math.fround(1e-7), 0, 0], EXACT, `${kind} stats`);
      expectClose(dp!, new Float64Array(n), EXACT, `${kind} dPred`);
    }
  });

  it('the loss of a padded, masked batch equals the loss of the same sequences without their padded steps', async () => {
    // sequences of lengths 4, 2 and 3 padded to T = 4 with garbage (±1000)
    const lengths = [4, 2, 3];
    const m = Float64Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)]! ? 1 : 0));
    const y = f32(randomArray(n, 531, -2, 2));
    const p = f32(ref.awayFromLossKinks(randomArray(n, 532, -2, 2), y));
    const sw = f32(Float64Array.from([0.5, 2, 1.25]));
    const valid: number[] = []; // the (b, t) rows that are not padding
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        if (m[b * T + t]) valid.push(b * T + t);
        else for (let f = 0; f < F; f++) [p[(b * T + t) * F + f], y[(b * T + t) * F + f]] = [1000, -1000];
      }
    }
    const pick = (a: Float64Array) => Float64Array.from(valid.flatMap((r) => Array.from(a.subarray(r * F, (r + 1) * F))));
    const swValid = Float64Array.from(valid, (r) => sw[Math.floor(r / T)]!);
    for (const kind of ['mse', 'mae', 'huber'] as const) {
      for (const weighted of [false, true]) {
        const ctx = await gpuContext();
        const g = new Graph(ctx, true);
        const pt = input(g, [B, T, F], p, true, 'padded');
        const packed = input(g, [valid.length, F], pick(p), true, 'unpadded');
        const a = await regressionLoss(g, kind, pt, input(g, [B, T, F], y), { mask: input(g, [B, T], m), sampleWeight: weighted ? input(g, [B], sw) : null });
        const c = await regressionLoss(g, kind, packed, input(g, [valid.length, F], pick(y)), { sampleWeight: weighted ? input(g, [valid.length], swValid) : null });
        await g.backward(await add(g, a.loss, c.loss));
        const [la, lc, sa, sc, da, dc] = await run(g, a.loss, c.loss, a.stats, c.stats, g.grad(pt), g.grad(packed));
        g.dispose();
        const what = `${kind}${weighted ? ' weighted' : ''}`;
        expect(Number.isFinite(la![0]!)).toBe(true);
        expectClose(la!, lc!, FORWARD, `${what}: masked loss vs unpadded loss`);
        expectClose([sa![0]!, sa![2]!], [sc![0]!, sc![2]!], FORWARD, `${what}: Σ w·l and Σ w`);
        expectClose(pick(da!), dc!, GRAD, `${what}: dPred at the valid steps`);
        expectClose(da!.filter((_, i) => !m[Math.floor(i / F)]), new Float64Array(n - valid.length * F), EXACT, `${what}: dPred at the padded steps`);
      }
    }
  });

  it('bad shapes, windows, deltas, masks and weights: clear errors naming the loss', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const p = input(g, [B, T, F], new Float64Array(n), true), y = input(g, [B, T, F], new Float64Array(n));
    const p2 = input(g, [B, F], new Float64Array(B * F));
    await expect(regressionLoss(g, 'mse', p, input(g, [B, T, F - 1], new Float64Array(B * T * (F - 1))))).rejects.toThrow(/mse: prediction shape \[3, 4, 5\] and target shape \[3, 4, 4\] differ/);
    await expect(regressionLoss(g, 'mae', p, y, { window: [0, T + 1] })).rejects.toThrow(/mae: time window \[0, 5\) is outside 0\.\.4/);
    await expect(regressionLoss(g, 'mae', p, y, { window: [2, 2] })).rejects.toThrow(/mae: time window \[2, 2\) is outside 0\.\.4/);
    await expect(regressionLoss(g, 'mse', p, y, { window: [0.5, 2] }, 'val_mse')).rejects.toThrow(/val_mse: time window \[0\.5, 2\) is outside 0\.\.4/);
    await expect(regressionLoss(g, 'huber', p, y, { delta: 0 })).rejects.toThrow(/huber: delta must be a positive number, got 0/);
    await expect(regressionLoss(g, 'huber', p, y, { delta: NaN })).rejects.toThrow(/huber: delta must be a positive number, got NaN/);
    await expect(regressionLoss(g, 'mse', p, y, { mask: input(g, [B, T - 1], new Float64Array(B * (T - 1))) })).rejects.toThrow(/mse: a mask \[3, 3\] needs \[batch, time, \.\.\.\] outputs with \[3, 4\] steps, got \[3, 4, 5\]/);
    await expect(regressionLoss(g, 'mse', p2, p2, { mask: input(g, [B, 1], new Float64Array(B)) })).rejects.toThrow(/mse: a mask \[3, 1\] needs \[batch, time, \.\.\.\] outputs .*got \[3, 5\]/);
    await expect(regressionLoss(g, 'mae', p, y, { sampleWeight: input(g, [B + 1], new Float64Array(B + 1)) })).rejects.toThrow(/mae: sample weights \[4\] for 3 rows/);
    g.dispose();
  });

  it('mse() is regressionLoss(\'mse\')\'s loss', async () => {
    const y = f32(randomArray(n, 541)), p = f32(randomArray(n, 542));
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const pt = input(g, [B, T, F], p), yt = input(g, [B, T, F], y);
    const a = await mse(g, pt, yt, [1, 3]);
    const b = (await regressionLoss(g, 'mse', pt, yt, { window: [1, 3] })).loss;
    const [av, bv] = await run(g, a, b);
    g.dispose();
    expectClose(av!, bv!, EXACT, 'mse');
    expectClose(av!, [ref.regressionLossRef('mse', p, y, B, T, F, { window: [1, 3] }).loss], FORWARD, 'mse');
  });
});

describe('accumulateMetric', () => {
  it('totals[slot] += Σ w·l, totals[slot + 1] += Σ w, nothing else; running sums over steps', async () => {
    const B = 3, T = 4, F = 5, n = B * T * F;
    const y = f32(randomArray(n, 601)), p = f32(randomArray(n, 602));
    const mask = Float64Array.from([1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1]), sw = f32(Float64Array.from([0.25, 1.5, 2]));
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const totals = input(g, [5], [5, 1, 2, 7, -3]);
    const { stats } = await regressionLoss(g, 'mae', input(g, [B, T, F], p), input(g, [B, T, F], y), { mask: input(g, [B, T], mask), sampleWeight: input(g, [B], sw) });
    await accumulateMetric(g, input(g, [4], [1.5, 9, 2.5, 0]), totals, 0);
    await accumulateMetric(g, stats, totals, 2);
    const [t1] = await run(g, totals);
    const [t2] = await run(g, totals); // a second step adds the same again
    g.dispose();
    const s = ref.regressionLossRef('mae', p, y, B, T, F, { mask, sampleWeight: sw }).stats;
    expectClose(t1!, [6.5, 3.5, 2 + s[0], 7 + s[2], -3], FORWARD, 'totals after one step');
    expectClose(t2!, [8, 6, 2 + 2 * s[0], 7 + 2 * s[2], -3], FORWARD, 'totals after two steps');
  });
});

export { dot };
