/**
 * The recurrent op (src/ops/rnn.ts + shaders/rnn.wgsl), run for real on the GPU (Dawn + software
 * Vulkan) against the float64 reference in test/reference/rnn.ts: forward outputs (hSeq, hLast,
 * cLast) and every gradient (dKernel, dRecurrentKernel, dBias, dX, dH0, dC0) for SimpleRNN, LSTM
 * and GRU (resetAfter true and false), with the loss on hSeq, on the final state, or on both.
 * The loss is Σ r ⊙ y over the chosen outputs (r fixed random), so backward seeds dy = r.
 * Sizes are small: the software driver is slow.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, biasLength, type RnnRefConfig } from '../reference/rnn';
import { rnn, rnnSavedBytes, gateCount, RNN_CHUNK, recurrentConstants, rnnStaged, type RnnOpConfig, type RnnOptions } from '../../src/ops/rnn';
import { add } from '../../src/ops/elementwise';
import type { Activation } from '../../src/ops/activations';
import type { Tensor } from '../../src/tensor';
import { VARIANTS, type Variant } from '../helpers/rnn-variants';

/** Which outputs the loss reads: hSeq (returnSequences), the final state, both, or cLast alone. */
type LossOn = 'hSeq' | 'last' | 'both' | 'cLast';

interface Case {
  name: string;
  B: number;
  T: number;
  I: number;
  H: number;
  lossOn: LossOn;
  /** Random h0 (and c0) that require grad; false: null (zeros). Default true. */
  initialState?: boolean;
  useBias?: boolean;
  activation?: Activation;
  recurrentActivation?: Activation;
  /** Weights uniform in ±weightScale (default 0.5) and inputs in ±inputScale (default 1). */
  weightScale?: number;
  inputScale?: number;
  /** Saturation case: also require some |pre-activation| ≥ 100. */
  saturate?: boolean;
  /** Persistent-kernel layout (rows per workgroup, staging) instead of the adapter's default. */
  layout?: RnnOptions['persistentLayout'];
}

function casesFor(v: Variant): Case[] {
  const lstm = v.cell === 'lstm';
  const cases: Case[] = [
    { name: 'B=3 T=5 H=5: loss on hSeq only', B: 3, T: 5, I: 4, H: 5, lossOn: 'hSeq' },
    { name: `B=3 T=5 H=5: loss on hLast only${lstm ? ' and cLast' : ''}`, B: 3, T: 5, I: 4, H: 5, lossOn: 'last' },
    { name: 'B=3 T=5 H=5: loss on hSeq and the final state', B: 3, T: 5, I: 4, H: 5, lossOn: 'both' },
    { name: 'T=1 (no recurrent-weight GEMM over t≥1)', B: 3, T: 1, I: 3, H: 5, lossOn: 'both' },
    { name: 'B=65 H=5 (last workgroup partly filled)', B: 65, T: 3, I: 2, H: 5, lossOn: 'both' },
    { name: 'B=65 H=1 (64 rows per workgroup, second holds one)', B: 65, T: 4, I: 3, H: 1, lossOn: 'both' },
    { name: 'H=20 with zero initial state (h0/c0 null)', B: 4, T: 4, I: 3, H: 20, lossOn: 'both', initialState: false },
    { name: 'H=64 (one row per workgroup)', B: 2, T: 3, I: 3, H: 64, lossOn: 'both', weightScale: 0.2 },
    { name: 'H=130 (units span three invocation strides)', B: 2, T: 2, I: 2, H: 130, lossOn: 'both', weightScale: 0.1 },
    { name: 'H=520 (too wide to stage h in workgroup memory: the per-row path)', B: 2, T: 2, I: 2, H: 520, lossOn: 'both', weightScale: 0.05 },
    { name: 'B=37 T=6 H=20 (rows in blocks of 8, the last block partly filled)', B: 37, T: 6, I: 3, H: 20, lossOn: 'both', weightScale: 0.3 },
    { name: 'useBias=false', B: 3, T: 4, I: 3, H: 5, lossOn: 'both', useBias: false },
    { name: 'GPU layout: per-row path (no staging), 3 rows and 64 invocations per workgroup', B: 7, T: 4, I: 2, H: 6, lossOn: 'both', layout: { rowsPerGroup: 3, staged: false, workgroup: 64 } },
    { name: 'staged, 64 invocations per workgroup (the GPU size), H=70', B: 5, T: 3, I: 2, H: 70, lossOn: 'both', weightScale: 0.3, layout: { workgroup: 64, staged: true } },
    { name: '4 invocations per workgroup (one SIMD group on SwiftShader)', B: 6, T: 3, I: 2, H: 9, lossOn: 'both', layout: { workgroup: 4 } },
    { name: 'staged with 5 rows per workgroup (a padded 8-row block)', B: 11, T: 3, I: 2, H: 9, lossOn: 'both', layout: { rowsPerGroup: 5, staged: true } },
    {
      name: lstm || v.cell === 'gru' ? 'activation relu, recurrentActivation hardSigmoid' : 'activation relu',
      B: 3, T: 4, I: 3, H: 5, lossOn: 'both', activation: 'relu', recurrentActivation: 'hardSigmoid',
    },
    { name: `T=150 (three chunks of ≤${RNN_CHUNK} steps)`, B: 2, T: 150, I: 2, H: 3, lossOn: 'both' },
    { name: 'B=65 T=70 H=13 (many workgroups, two chunks)', B: 65, T: 70, I: 3, H: 13, lossOn: 'both', weightScale: 0.3 },
    {
      name: 'pre-activations of ±100: finite outputs and gradients',
      B: 3, T: 4, I: 4, H: 5, lossOn: 'both', weightScale: 20, inputScale: 5, saturate: true,
    },
  ];
  if (v.cell === 'simpleRNN') {
    // SimpleRNN has no recurrent activation; hardSigmoid as its activation instead.
    cases.push({ name: 'activation hardSigmoid', B: 3, T: 4, I: 3, H: 5, lossOn: 'both', activation: 'hardSigmoid' });
  }
  if (lstm) cases.push({ name: 'B=3 T=5 H=5: loss on cLast only', B: 3, T: 5, I: 4, H: 5, lossOn: 'cLast' });
  return cases;
}

function configs(v: Variant, c: Case): { op: RnnOpConfig; ref: RnnRefConfig } {
  const op: RnnOpConfig = {
    cell: v.cell,
    units: c.H,
    activation: c.activation ?? 'tanh',
    recurrentActivation: c.recurrentActivation ?? 'sigmoid',
    resetAfter: v.resetAfter,
    useBias: c.useBias ?? true,
  };
  return { op, ref: { ...op, inputSize: c.I } };
}


const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
};

async function runCase(v: Variant, c: Case, seed: number): Promise<void> {
  const { B, T, I, H } = c;
  const { op, ref } = configs(v, c);
  const lstm = v.cell === 'lstm';
  const gruAfter = v.cell === 'gru' && v.resetAfter;
  const GH = gateCount(v.cell) * H;
  const withInit = c.initialState ?? true;

  const w = randomRnnWeights(ref, seed, c.weightScale ?? 0.5);
  const inScale = c.inputScale ?? 1;
  const x = randomArray(B * T * I, seed + 10, -inScale, inScale);
  const h0 = withInit ? randomArray(B * H, seed + 11) : null;
  const c0 = withInit && lstm ? randomArray(B * H, seed + 12) : null;
  const seqOn = c.lossOn === 'hSeq' || c.lossOn === 'both';
  const hLastOn = c.lossOn === 'last' || c.lossOn === 'both';
  const cLastOn = lstm && (c.lossOn === 'last' || c.lossOn === 'both' || c.lossOn === 'cLast');
  const rSeq = randomArray(B * T * H, seed + 13);
  const rLast = randomArray(B * H, seed + 14);
  const rC = randomArray(B * H, seed + 15);

  const ctx = await gpuContext();
  const g = new Graph(ctx, true);
  const xt = input(g, [B, T, I], x, true, 'x');
  const kt = input(g, [I, GH], w.kernel, true, 'kernel');
  const ut = input(g, [H, GH], w.recurrentKernel, true, 'recurrentKernel');
  const bt = w.bias ? input(g, gruAfter ? [2, GH] : [GH], w.bias, true, 'bias') : null;
  const h0t = h0 ? input(g, [B, H], h0, true, 'h0') : null;
  const c0t = c0 ? input(g, [B, H], c0, true, 'c0') : null;
  const out = await rnn(g, op, xt, { kernel: kt, recurrentKernel: ut, bias: bt }, h0t, c0t, c.layout ? { persistentLayout: c.layout } : {});

  expect(out.hSeq.shape).toEqual([B, T, H]);
  expect(out.hLast.shape).toEqual([B, H]);
  expect(out.cLast?.shape ?? null).toEqual(lstm ? [B, H] : null);
  const terms: Tensor[] = [];
  if (seqOn) terms.push(await weightedSum(g, out.hSeq, rSeq));
  if (hLastOn) terms.push(await weightedSum(g, out.hLast, rLast));
  if (cLastOn) terms.push(await weightedSum(g, out.cLast!, rC));
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = await add(g, loss, t);
  await g.backward(loss);

  const wanted: Tensor[] = [out.hSeq, out.hLast, g.grad(xt), g.grad(kt), g.grad(ut)];
  if (out.cLast) wanted.push(out.cLast);
  if (bt) wanted.push(g.grad(bt));
  if (h0t) wanted.push(g.grad(h0t));
  if (c0t) wanted.push(g.grad(c0t));
  const got = await run(g, ...wanted);
  const [hSeq, hLast, dX, dK, dU] = got as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  let i = 5;
  const cLast = out.cLast ? got[i++]! : null;
  const dBias = bt ? got[i++]! : null;
  const dH0 = h0t ? got[i++]! : null;
  const dC0 = c0t ? got[i++]! : null;
  g.dispose();

  // Reference on exactly what the GPU received (f32-rounded).
  const w32 = { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: w.bias ? f32(w.bias) : null };
  const x32 = f32(x);
  const h032 = h0 ? f32(h0) : undefined;
  const c032 = c0 ? f32(c0) : undefined;
  const fwd = rnnForwardRef(ref, w32, x32, B, T, h032, c032);
  const bwd = rnnBackwardRef(
    ref, w32, x32, B, T, h032, c032, fwd.cache,
    seqOn ? f32(rSeq) : null, hLastOn ? f32(rLast) : null, cLastOn ? f32(rC) : null,
  );
  if (c.saturate) expect(maxAbs(fwd.cache.pre), 'largest |pre-activation|').toBeGreaterThanOrEqual(100);

  const all = [hSeq, hLast, dX, dK, dU, cLast, dBias, dH0, dC0];
  for (const a of all) if (a) expect(a.every(Number.isFinite), 'all outputs and gradients finite').toBe(true);

  expectClose(hSeq, fwd.hSeq, FORWARD, 'hSeq');
  expectClose(hLast, fwd.hLast, FORWARD, 'hLast');
  if (lstm) expectClose(cLast!, fwd.cLast!, FORWARD, 'cLast');
  expectClose(dK, bwd.dKernel, GRAD, 'dKernel');
  expectClose(dU, bwd.dRecurrentKernel, GRAD, 'dRecurrentKernel');
  if (dBias) {
    expect(dBias.length).toBe(biasLength(ref));
    expectClose(dBias, bwd.dBias!, GRAD, 'dBias');
  }
  expectClose(dX, bwd.dX, GRAD, 'dX');
  if (dH0) expectClose(dH0, bwd.dH0, GRAD, 'dH0');
  if (dC0) expectClose(dC0, bwd.dC0!, GRAD, 'dC0');
}

VARIANTS.forEach((v, vi) => {
  describe(`rnn op: ${v.label}`, () => {
    casesFor(v).forEach((c, ci) => {
      it(c.name, () => runCase(v, c, 1000 * (vi + 1) + 20 * ci));
    });

    it('stacked: layer 2 reads layer 1\'s hSeq, which also has a loss; gradients accumulate', async () => {
      const B = 3, T = 4, I = 2, H1 = 5, H2 = 4;
      const seed = 5000 + 100 * vi;
      const c1 = configs(v, { name: '', B, T, I, H: H1, lossOn: 'both' });
      const c2 = configs(v, { name: '', B, T, I: H1, H: H2, lossOn: 'both' });
      const G = gateCount(v.cell);
      const w1 = randomRnnWeights(c1.ref, seed), w2 = randomRnnWeights(c2.ref, seed + 3);
      const x = randomArray(B * T * I, seed + 6), r1 = randomArray(B * T * H1, seed + 7), r2 = randomArray(B * H2, seed + 8);
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, I], x, true, 'x');
      const weights = (w: typeof w1, In: number, H: number) => ({
        kernel: input(g, [In, G * H], w.kernel, true),
        recurrentKernel: input(g, [H, G * H], w.recurrentKernel, true),
        bias: input(g, [w.bias!.length], w.bias!, true),
      });
      const wt1 = weights(w1, I, H1), wt2 = weights(w2, H1, H2);
      const l1 = await rnn(g, c1.op, xt, wt1);
      const l2 = await rnn(g, c2.op, l1.hSeq, wt2);
      await g.backward(await add(g, await weightedSum(g, l1.hSeq, r1), await weightedSum(g, l2.hLast, r2)));
      const [dX, dK1, dU1, dK2] = await run(g, g.grad(xt), g.grad(wt1.kernel), g.grad(wt1.recurrentKernel), g.grad(wt2.kernel));
      g.dispose();

      const f32w = (w: typeof w1) => ({ kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias!) });
      const x32 = f32(x);
      const fwd1 = rnnForwardRef(c1.ref, f32w(w1), x32, B, T);
      const fwd2 = rnnForwardRef(c2.ref, f32w(w2), fwd1.hSeq, B, T);
      const bwd2 = rnnBackwardRef(c2.ref, f32w(w2), fwd1.hSeq, B, T, null, null, fwd2.cache, null, f32(r2), null);
      const dHSeq1 = f32(r1).map((r, i) => r + bwd2.dX[i]!);
      const bwd1 = rnnBackwardRef(c1.ref, f32w(w1), x32, B, T, null, null, fwd1.cache, dHSeq1, null, null);
      expectClose(dK2!, bwd2.dKernel, GRAD, 'dKernel (layer 2)');
      expectClose(dK1!, bwd1.dKernel, GRAD, 'dKernel (layer 1)');
      expectClose(dU1!, bwd1.dRecurrentKernel, GRAD, 'dRecurrentKernel (layer 1)');
      expectClose(dX!, bwd1.dX, GRAD, 'dX');
    });

    it('inference graph: no tape; only x requires grad: weights get no gradient', async () => {
      const B = 2, T = 3, I = 3, H = 4;
      const { op, ref } = configs(v, { name: '', B, T, I, H, lossOn: 'both' });
      const GH = gateCount(v.cell) * H;
      const w = randomRnnWeights(ref, 91);
      const x = randomArray(B * T * I, 92), r = randomArray(B * T * H, 93);
      const ctx = await gpuContext();
      const weightsOf = (g: Graph) => ({
        kernel: input(g, [I, GH], w.kernel),
        recurrentKernel: input(g, [H, GH], w.recurrentKernel),
        bias: input(g, [w.bias!.length], w.bias!),
      });
      const w32 = { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias!) };
      const fwd = rnnForwardRef(ref, w32, f32(x), B, T);

      const gi = new Graph(ctx, false);
      const out = await rnn(gi, op, input(gi, [B, T, I], x), weightsOf(gi));
      expect(gi.tape.length).toBe(0);
      const [hSeq] = await run(gi, out.hSeq);
      expectClose(hSeq!, fwd.hSeq, FORWARD, 'hSeq (inference)');
      gi.dispose();

      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, I], x, true);
      const wt = weightsOf(g);
      const o = await rnn(g, op, xt, wt);
      await g.backward(await weightedSum(g, o.hSeq, r));
      expect(g.gradIfAny(wt.kernel) ?? g.gradIfAny(wt.recurrentKernel) ?? g.gradIfAny(wt.bias)).toBeNull();
      const [dX] = await run(g, g.grad(xt));
      const bwd = rnnBackwardRef(ref, w32, f32(x), B, T, null, null, fwd.cache, f32(r), null, null);
      expectClose(dX!, bwd.dX, GRAD, 'dX');
      g.dispose();
    });

    it('rnnSavedBytes equals the bytes of the tensors recorded as saved', async () => {
      const B = 3, T = 7, I = 4, H = 6;
      const { op, ref } = configs(v, { name: '', B, T, I, H, lossOn: 'both' });
      const GH = gateCount(v.cell) * H;
      const w = randomRnnWeights(ref, 77);
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, I], randomArray(B * T * I, 78), true, 'x');
      const kt = input(g, [I, GH], w.kernel, true);
      const ut = input(g, [H, GH], w.recurrentKernel, true);
      const bt = input(g, [w.bias!.length], w.bias!, true);
      const h0t = input(g, [B, H], randomArray(B * H, 79), true);
      await rnn(g, op, xt, { kernel: kt, recurrentKernel: ut, bias: bt }, h0t, null);
      expect(g.tape.length).toBe(1);
      const savedBytes = g.tape.reduce((s, r) => s + r.saved.reduce((n, t) => n + t.bytes, 0), 0);
      expect(rnnSavedBytes(op, B, T, I)).toBe(savedBytes);
      expect(g.savedBytes()).toBe(savedBytes);
      g.dispose();
    });
  });
});

describe('pipeline constants of the recurrent kernels', () => {
  it('recurrentConstants sets every override the kernels declare; rnnStaged follows the 16 KB staging buffer', () => {
    const c = recurrentConstants(
      { cell: 'lstm', units: 8, activation: 'tanh', recurrentActivation: 'hardSigmoid', resetAfter: false, useBias: true },
      { hasH0: true, hasC0: false, hasRecBias: false, hasDHSeq: true, reverse: true, hasRecMask: false, hasSeqMask: true, staged: true, workgroup: 16 },
    );
    expect(c).toEqual({ ACT: 1, REC_ACT: 4, HAS_H0: 1, HAS_C0: 0, HAS_REC_BIAS: 0, HAS_DH_SEQ: 1, REVERSE: 1, HAS_REC_MASK: 0, HAS_SEQ_MASK: 1, STAGED: 1, WG: 16 });
    expect(rnnStaged(512, 8)).toBe(true); // 8 × 512 = 4096 floats
    expect(rnnStaged(520, 1)).toBe(false); // padded to 8 rows: 4160 floats
    expect(rnnStaged(128, 16)).toBe(true);
  });

  it('one pipeline per distinct set of constants; an unknown constant name and a missing one fail clearly', async () => {
    const ctx = await gpuContext();
    const base = recurrentConstants(
      { cell: 'lstm', units: 8, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, useBias: true },
      { hasH0: false, hasC0: false, hasRecBias: false, hasDHSeq: false, reverse: false, hasRecMask: false, hasSeqMask: false, staged: true, workgroup: 64 },
    );
    const a = await ctx.kernel('rnn', 'lstmForward', base);
    expect(a.invocations).toBe(64);
    expect((await ctx.kernel('rnn', 'lstmForward', { ...base, WG: 16 })).invocations).toBe(16); // override-sized workgroup
    expect(await ctx.kernel('rnn', 'lstmForward', { ...base })).toBe(a);
    expect(await ctx.kernel('rnn', 'lstmForward', { ...base, REVERSE: 1 })).not.toBe(a);
    await expect(ctx.kernel('rnn', 'lstmForward', { ...base, HAS_H00: 1 })).rejects.toThrow(/no override named HAS_H00/);
    const { ACT: _drop, ...noAct } = base;
    const g = new Graph(ctx, false);
    const op: RnnOpConfig = { cell: 'lstm', units: 600, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, useBias: false };
    const w = { kernel: input(g, [1, 2400], new Float64Array(2400)), recurrentKernel: input(g, [600, 2400], new Float64Array(600 * 2400)), bias: null };
    const x = input(g, [2, 3, 1], new Float64Array(6));
    await expect(rnn(g, op, x, w, null, null, { persistentLayout: { rowsPerGroup: 0 } })).rejects.toThrow(/rowsPerGroup must be a positive integer, got 0/);
    await expect(rnn(g, op, x, w, null, null, { persistentLayout: { workgroup: 1000 } })).rejects.toThrow(/workgroup must be an integer in \[1, 256\], got 1000/);
    await expect(rnn(g, op, x, w, null, null, { persistentLayout: { staged: true } })).rejects.toThrow(/1 rows of 600 units do not fit the 4096-float staging buffer/);
    g.dispose();
    await expect(ctx.kernel('rnn', 'lstmForward', noAct)).rejects.toThrow(/lstmForward: pipeline creation failed/);
  });
});
