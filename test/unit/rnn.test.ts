/**
 * The recurrent op (src/ops/rnn.ts: rnnForward / rnnBackward, the cell table of
 * src/ops/rnn-cells.ts; kernels in shaders/simple-rnn-cell.wgsl, lstm-cell.wgsl, gru-cell.wgsl and
 * gru-reset-before-cell.wgsl over the shared time loops of rnn-common.wgsl, rnn-persistent.wgsl,
 * rnn-persistent-tiles.wgsl and rnn-step.wgsl), run for real on the GPU (Dawn + software Vulkan)
 * against the float64 reference in test/reference/rnn.ts (finite-difference checked in
 * test/reference/rnn.test.ts): forward outputs (hSeq, hLast, cLast) and every gradient (dKernel,
 * dRecurrentKernel, dBias, dX, dH0, dC0) for SimpleRNN, LSTM and GRU (resetAfter true and false),
 * with the loss on hSeq, on the final state, or on both; layouts of the persistent kernels; the
 * op's options (reverse, dropout masks, sequence mask) and their errors. Every case goes through
 * the one case runner, test/helpers/rnn-case.ts. The per-step kernels: rnn-step.test.ts; the
 * time-loop choice and pipeline constants: rnn-tuning.test.ts. Sizes are small: the software
 * driver is slow.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights } from '../reference/rnn';
import { rnn, rnnSavedBytes, gateCount, type RnnOpConfig } from '../../src/ops/rnn';
import { RNN_CHUNK } from '../../src/ops/rnn-tuning';
import { add } from '../../src/ops/elementwise';
import { VARIANTS, type Variant } from '../helpers/rnn-variants';
import { runRnnCase, expectMatchesReference, caseConfigs, type RnnCase } from '../helpers/rnn-case';

function casesFor(v: Variant): RnnCase[] {
  const lstm = v.cell === 'lstm';
  const cases: RnnCase[] = [
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
    { name: 'GPU layout: per-row path (no staging), 3 rows and 64 invocations per workgroup', B: 7, T: 4, I: 2, H: 6, lossOn: 'both', persistentLayout: { rowsPerGroup: 3, staged: false, workgroup: 64 } },
    { name: 'staged, 64 invocations per workgroup (the GPU size), H=70', B: 5, T: 3, I: 2, H: 70, lossOn: 'both', weightScale: 0.3, persistentLayout: { workgroup: 64, staged: true } },
    // Staged, 3 rows per workgroup (2 workgroups): H=9 is 3 tasks of ≤4 units on 4 invocations
    // (several units per invocation, one invocation idle, the last task one unit wide). The run
    // itself takes milliseconds; what this case costs is compiling its own forward and backward
    // pipelines (the workgroup size is a pipeline constant): ≈5 s on lavapipe with a cold Mesa
    // shader cache on an idle machine, ≈11 s with both cores busy, ≈0.1 s with a warm cache.
    { name: '4 invocations per workgroup (one SIMD group on SwiftShader)', B: 6, T: 3, I: 2, H: 9, lossOn: 'both', persistentLayout: { workgroup: 4 } },
    { name: 'staged with 5 rows per workgroup (a padded 8-row block)', B: 11, T: 3, I: 2, H: 9, lossOn: 'both', persistentLayout: { rowsPerGroup: 5, staged: true } },
    // lavapipe's layout is 16-row blocks, SwiftShader's 8: each is forced here on whichever adapter runs
    { name: 'staged in a 16-row block holding 11 rows (padded), masked steps', B: 23, T: 4, I: 2, H: 9, lossOn: 'both', seqMask: true, persistentLayout: { rowsPerGroup: 11, rowBlock: 16 } },
    { name: 'staged in 8-row blocks with 16 rows per workgroup (the SwiftShader layout)', B: 37, T: 4, I: 3, H: 20, lossOn: 'both', weightScale: 0.3, persistentLayout: { rowBlock: 8 } },
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
  // TensorFlow.js' default gate activation (models loaded from tfjs files): clip(0.2x + 0.5, 0, 1)
  if (v.cell !== 'simpleRNN') cases.push({ name: 'recurrentActivation hardSigmoidTfjs', B: 3, T: 4, I: 3, H: 5, lossOn: 'both', recurrentActivation: 'hardSigmoidTfjs' });
  return cases;
}

VARIANTS.forEach((v, vi) => {
  describe(`rnn op: ${v.label}`, () => {
    casesFor(v).forEach((c, ci) => {
      it(c.name, async () => expectMatchesReference(await runRnnCase(v, c, 1000 * (vi + 1) + 20 * ci)));
    });

    it('stacked: layer 2 reads layer 1\'s hSeq, which also has a loss; gradients accumulate', async () => {
      const B = 3, T = 4, I = 2, H1 = 5, H2 = 4;
      const seed = 5000 + 100 * vi;
      const c1 = caseConfigs(v, { I, H: H1 });
      const c2 = caseConfigs(v, { I: H1, H: H2 });
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
      const { op, ref } = caseConfigs(v, { I, H });
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
      const { op, ref } = caseConfigs(v, { I, H });
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

// ---------------------------------------------------------------- the op's options vs the reference

const OPTION_CASES: RnnCase[] = [
  { name: 'reverse (walks time backwards inside the kernels)', B: 3, T: 5, I: 3, H: 4, reverse: true },
  { name: 'input and recurrent dropout masks', B: 3, T: 4, I: 3, H: 5, inputMask: true, recMask: true },
  { name: 'sequence mask', B: 4, T: 5, I: 2, H: 4, seqMask: true },
  { name: 'reverse + dropout + mask, T=70 (two chunks), B=9 H=13 (two workgroups)', B: 9, T: 70, I: 2, H: 13, reverse: true, inputMask: true, recMask: true, seqMask: true },
];

VARIANTS.forEach((v, vi) => {
  describe(`rnn op options vs the reference: ${v.label}`, () => {
    OPTION_CASES.forEach((c, ci) => it(c.name, async () => expectMatchesReference(await runRnnCase(v, c, 7000 + 100 * vi + 10 * ci))));
  });
});

describe('rnn op options: errors', () => {
  it('a mask of the wrong shape names the mask and the shapes', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const op: RnnOpConfig = { cell: 'lstm', units: 3, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, useBias: false };
    const x = input(g, [2, 4, 3], new Float64Array(24));
    const w = { kernel: input(g, [3, 12], new Float64Array(36)), recurrentKernel: input(g, [3, 12], new Float64Array(36)), bias: null };
    await expect(rnn(g, op, x, w, null, null, { seqMask: input(g, [2, 5], new Float64Array(10)) })).rejects.toThrow(/rnn: the sequence mask is \[2, 5\], expected \[2, 4\] for x \[2, 4, 3\]/);
    await expect(rnn(g, op, x, w, null, null, { recurrentMask: input(g, [2, 4], new Float64Array(8)) })).rejects.toThrow(/recurrent-dropout mask is \[2, 4\], expected \[2, 3\]/);
    g.dispose();
  });
});
