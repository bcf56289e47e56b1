/**
 * The recurrent training toolkit (docs/rnn-features.md) on the real GPU against the float64
 * references of test/reference/rnn.ts (themselves finite-difference checked at the top of this
 * file): stateful / streaming inference, Bidirectional (reversal inside the kernels), dropout and
 * recurrent dropout, masking, and custom cells (the layer-normalized SimpleRNN cell). Sizes are
 * small: the software Vulkan driver is slow.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { numericGradient, expectGradClose } from '../helpers/gradcheck';
import { FORWARD, GRAD, EXACT } from '../helpers/tolerances';
import { randomArray, dropoutStyle } from '../helpers/rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, type RnnRefConfig, type RnnRefOptions } from '../reference/rnn';
import { rnn as rnnOp, gateCount, type RnnOpConfig } from '../../src/ops/rnn';
import { dropoutMask, advanceRng } from '../../src/ops/rnn';
import { bidiMergeRef, bidiMergeBackwardRef, dropoutMaskRef, denseMseRef, lnCellForwardRef, lnCellBackwardRef, type MergeMode, type LnCellWeights } from '../reference/rnn-features';
import { VARIANTS, type Variant } from '../helpers/rnn-variants';
import { runRnnCase, expectMatchesReference, type RnnCase } from '../helpers/rnn-case';

const host = (a: ArrayLike<number>, shape: readonly number[]) => ({ data: Float32Array.from(a as ArrayLike<number>), shape });

const refCfg = (v: Variant, I: number, H: number): RnnRefConfig => ({
  cell: v.cell, units: H, inputSize: I, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: true,
});
const makeLayer = (v: Variant, a: rnn.RecurrentArgs & { inputShape?: [number | null, number] }): rnn.RecurrentLayer =>
  v.cell === 'simpleRNN' ? rnn.layers.simpleRNN(a) : v.cell === 'lstm' ? rnn.layers.lstm(a) : rnn.layers.gru({ ...a, resetAfter: v.resetAfter });


// ---------------------------------------------------------------- float64 reference, gradchecked

describe('float64 reference with options: finite-difference gradient checks', () => {
  const B = 2, T = 4, I = 3, H = 3;
  for (const v of VARIANTS) {
    for (const [label, opts] of [
      ['reverse', { reverse: true }],
      ['input + recurrent dropout masks', { inputMask: dropoutStyle(B * I, 7, 0.3), recMask: dropoutStyle(B * H, 8, 0.4) }],
      ['sequence mask (padding and a gap)', { seqMask: Float64Array.from([1, 1, 0, 0, 0, 1, 0, 1]) }],
      ['everything together', { reverse: true, inputMask: dropoutStyle(B * I, 9, 0.3), recMask: dropoutStyle(B * H, 10, 0.3), seqMask: Float64Array.from([1, 0, 1, 1, 0, 1, 1, 0]) }],
    ] as [string, RnnRefOptions][]) {
      it(`${v.label}: ${label}`, () => {
        const cfg = refCfg(v, I, H);
        const w = randomRnnWeights(cfg, 31);
        const x = randomArray(B * T * I, 32);
        const h0 = randomArray(B * H, 33);
        const c0 = v.cell === 'lstm' ? randomArray(B * H, 34) : undefined;
        const rSeq = randomArray(B * T * H, 35), rLast = randomArray(B * H, 36), rC = randomArray(B * H, 37);
        const loss = () => {
          const f = rnnForwardRef(cfg, w, x, B, T, h0, c0, opts);
          let l = 0;
          f.hSeq.forEach((h, i) => (l += h * rSeq[i]!));
          f.hLast.forEach((h, i) => (l += h * rLast[i]!));
          f.cLast?.forEach((c, i) => (l += c * rC[i]!));
          return l;
        };
        const f = rnnForwardRef(cfg, w, x, B, T, h0, c0, opts);
        const g = rnnBackwardRef(cfg, w, x, B, T, h0, c0, f.cache, rSeq, rLast, c0 ? rC : null, opts);
        expectGradClose(g.dKernel, numericGradient(loss, w.kernel), 'dKernel');
        expectGradClose(g.dRecurrentKernel, numericGradient(loss, w.recurrentKernel), 'dRecurrentKernel');
        expectGradClose(g.dBias!, numericGradient(loss, w.bias!), 'dBias');
        expectGradClose(g.dX, numericGradient(loss, x), 'dX');
        expectGradClose(g.dH0, numericGradient(loss, h0), 'dH0');
        if (c0) expectGradClose(g.dC0!, numericGradient(loss, c0), 'dC0');
      });
    }
  }

  it('semantics: masked steps carry the state and output it; reverse = forward on the flipped sequence', () => {
    const v = VARIANTS[1]!;
    const cfg = refCfg(v, I, H);
    const w = randomRnnWeights(cfg, 41);
    const x = randomArray(B * T * I, 42);
    const seqMask = Float64Array.from([1, 0, 0, 1, 1, 1, 1, 1]);
    const f = rnnForwardRef(cfg, w, x, B, T, undefined, undefined, { seqMask });
    // row 0: steps 1, 2 masked -> output of steps 1 and 2 = output of step 0
    for (const t of [1, 2]) for (let j = 0; j < H; j++) expect(f.hSeq[t * H + j]).toBe(f.hSeq[j]);
    // masking steps = dropping them from the sequence (the final state is the same)
    const x0 = Float64Array.from([...x.subarray(0, I), ...x.subarray(3 * I, 4 * I)]);
    const short = rnnForwardRef(cfg, w, x0, 1, 2);
    for (let j = 0; j < H; j++) expect(f.hLast[j]).toBeCloseTo(short.hLast[j]!, 14);
  });
});

// ---------------------------------------------------------------- 4. stateful / streaming inference

describe('stateful streaming inference: predictStep, getState / setState, resetStates', () => {
  for (const v of [VARIANTS[1]!, VARIANTS[2]!]) {
    it(`${v.label}: predictStep over a sequence equals predict on the whole sequence (batch 3, trained with batch 4)`, async () => {
      const I = 2, H = 4, T = 5, B = 3;
      const model = rnn.sequential({
        layers: [makeLayer(v, { units: H, returnSequences: true, inputShape: [null, I] }), makeLayer(v, { units: 3, returnSequences: true }), rnn.layers.dense({ units: 2 })],
        seed: 5,
      });
      model.compile({ optimizer: 'sgd', loss: 'mse' });
      await model.trainOnBatch(host(randomArray(4 * T * I, 1), [4, T, I]), host(randomArray(4 * T * 2, 2), [4, T, 2]));
      const x = randomArray(B * T * I, 3, -2, 2);
      const whole = await model.predict(host(x, [B, T, I]));
      const steps: number[][] = [];
      for (let t = 0; t < T; t++) {
        const xt = new Float64Array(B * I);
        for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) xt[b * I + i] = x[(b * T + t) * I + i]!;
        const out = await model.predictStep(host(xt, [B, I]));
        expect(out.shape).toEqual([B, 2]);
        steps.push(Array.from(out.data));
      }
      const stitched = new Float64Array(B * T * 2);
      steps.forEach((s, t) => s.forEach((val, i) => (stitched[(Math.floor(i / 2) * T + t) * 2 + (i % 2)] = val)));
      expectClose(stitched, Float64Array.from(whole.data), FORWARD, 'predictStep vs predict');
      // resetStates: the next step starts from zeros again (same as the first step above)
      model.resetStates();
      const first = await model.predictStep(host(x.filter((_, i) => Math.floor(i / I) % T === 0), [B, I]));
      expectClose(first.data, steps[0]!, EXACT, 'first step after resetStates');
      model.dispose();
    });
  }

  it('LSTM: getState is the reference (h, c) after the steps; setState starts from a given state', async () => {
    const v = VARIANTS[1]!;
    const I = 3, H = 4, T = 3, B = 2;
    const layer = makeLayer(v, { units: H, returnSequences: true, inputShape: [null, I] });
    const model = rnn.sequential({ layers: [layer], seed: 8 });
    const cfg = refCfg(v, I, H);
    const w = randomRnnWeights(cfg, 51);
    await model.setWeights([host(w.kernel, [I, 4 * H]), host(w.recurrentKernel, [H, 4 * H]), host(w.bias!, [4 * H])]);
    const w32 = { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias!) };
    expect(await layer.getState()).toBeNull();
    const h0 = f32(randomArray(B * H, 52)), c0 = f32(randomArray(B * H, 53));
    await layer.setState(host(h0, [B, H]), host(c0, [B, H]));
    const x = f32(randomArray(B * T * I, 54));
    for (let t = 0; t < T; t++) {
      const xt = new Float64Array(B * I);
      for (let b = 0; b < B; b++) for (let i = 0; i < I; i++) xt[b * I + i] = x[(b * T + t) * I + i]!;
      await model.predictStep(host(xt, [B, I]));
    }
    const ref = rnnForwardRef(cfg, w32, x, B, T, h0, c0);
    const [h, c] = (await layer.getState())!;
    expect(h!.shape).toEqual([B, H]);
    expectClose(h!.data, ref.hLast, FORWARD, 'state h');
    expectClose(c!.data, ref.cLast!, FORWARD, 'state c');
    model.dispose();
  });

  it('bad input: setState shapes, a batch change without reset, a wrong step shape', async () => {
    const I = 2, H = 3;
    const lstm = rnn.layers.lstm({ units: H, name: 'enc', returnSequences: true, inputShape: [null, I] });
    const gru = rnn.layers.gru({ units: H, name: 'dec' });
    await expect(lstm.setState(host(new Float64Array(2 * H), [2, H]))).rejects.toThrow(/enc\.setState: expected 2 state arrays \(h \[batch, 3\], c \[batch, 3\]\), got 1/);
    await expect(lstm.setState(host(new Float64Array(2 * 4), [2, 4]), host(new Float64Array(2 * H), [2, H]))).rejects.toThrow(/enc\.setState: h must be \[2, 3\].*got \[2, 4\]/);
    await expect(lstm.setState(host(new Float64Array(2 * H), [2, H]), host(new Float64Array(3 * H), [3, H]))).rejects.toThrow(/enc\.setState: c must be \[2, 3\].*got \[3, 3\]/);
    await expect(gru.setState(host(new Float64Array(H), [1, H]), host(new Float64Array(H), [1, H]))).rejects.toThrow(/dec\.setState: expected 1 state array \(h \[batch, 3\]\), got 2/);
    const model = rnn.sequential({ layers: [lstm, gru, rnn.layers.dense({ units: 1 })], seed: 1 });
    await model.predictStep(host(new Float64Array(2 * I), [2, I]));
    await expect(model.predictStep(host(new Float64Array(3 * I), [3, I]))).rejects.toThrow(/enc: the stored state has batch size 2 but this step has 3 rows; call model\.resetStates\(\)/);
    await expect(model.predictStep(host(new Float64Array(3 * 4 * I), [3, 4, I]))).rejects.toThrow(/predictStep: x must be one time step \[batch, features\] with features = 2/);
    model.resetStates();
    const out = await model.predictStep(host(new Float64Array(3 * I), [3, I]));
    expect(out.shape).toEqual([3, 1]);
    model.dispose();
  });
});

// ---------------------------------------------------------------- the op with options vs the reference


const OP_CASES: RnnCase[] = [
  { name: 'reverse (walks time backwards inside the kernels)', B: 3, T: 5, I: 3, H: 4, reverse: true },
  { name: 'input and recurrent dropout masks', B: 3, T: 4, I: 3, H: 5, inputMask: true, recMask: true },
  { name: 'sequence mask', B: 4, T: 5, I: 2, H: 4, seqMask: true },
  { name: 'reverse + dropout + mask, T=70 (two chunks), B=9 H=13 (two workgroups)', B: 9, T: 70, I: 2, H: 13, reverse: true, inputMask: true, recMask: true, seqMask: true },
];

VARIANTS.forEach((v, vi) => {
  describe(`rnn op options vs the reference: ${v.label}`, () => {
    OP_CASES.forEach((c, ci) => it(c.name, async () => expectMatchesReference(await runRnnCase(v, c, 7000 + 100 * vi + 10 * ci))));
  });
});

describe('rnn op options: errors', () => {
  it('a mask of the wrong shape names the mask and the shapes', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const op: RnnOpConfig = { cell: 'lstm', units: 3, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, useBias: false };
    const x = input(g, [2, 4, 3], new Float64Array(24));
    const w = { kernel: input(g, [3, 12], new Float64Array(36)), recurrentKernel: input(g, [3, 12], new Float64Array(36)), bias: null };
    await expect(rnnOp(g, op, x, w, null, null, { seqMask: input(g, [2, 5], new Float64Array(10)) })).rejects.toThrow(/rnn: the sequence mask is \[2, 5\], expected \[2, 4\] for x \[2, 4, 3\]/);
    await expect(rnnOp(g, op, x, w, null, null, { recurrentMask: input(g, [2, 4], new Float64Array(8)) })).rejects.toThrow(/recurrent-dropout mask is \[2, 4\], expected \[2, 3\]/);
    g.dispose();
  });
});

// ---------------------------------------------------------------- 3. Bidirectional

/** Keras-layout weights for a layer of variant v (kernel, recurrent_kernel, bias) and their f32 copies. */
function layerWeights(v: Variant, I: number, H: number, seed: number) {
  const w = randomRnnWeights(refCfg(v, I, H), seed);
  const G = gateCount(v.cell);
  const shapes = [[I, G * H], [H, G * H], v.cell === 'gru' && v.resetAfter ? [2, G * H] : [G * H]];
  return {
    hosts: [host(w.kernel, shapes[0]!), host(w.recurrentKernel, shapes[1]!), host(w.bias!, shapes[2]!)],
    w32: { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias!) },
  };
}

describe('Bidirectional', () => {
  const cases: [Variant, MergeMode, boolean][] = [
    [VARIANTS[1]!, 'concat', true],
    [VARIANTS[1]!, 'concat', false],
    [VARIANTS[2]!, 'sum', true],
    [VARIANTS[0]!, 'mul', false],
    [VARIANTS[3]!, 'ave', true],
  ];
  for (const [v, mergeMode, returnSequences] of cases) {
    it(`${v.label}, mergeMode ${mergeMode}, returnSequences=${returnSequences}: outputs match forward + reversed reference`, async () => {
      const I = 2, H = 4, B = 3, T = 5;
      const model = rnn.sequential({ layers: [rnn.layers.bidirectional({ layer: makeLayer(v, { units: H, returnSequences, name: 'enc' }), mergeMode, inputShape: [null, I] })], seed: 3 });
      const fw = layerWeights(v, I, H, 61), bw = layerWeights(v, I, H, 62);
      await model.setWeights([...fw.hosts, ...bw.hosts]);
      expect(model.weightNames).toEqual(['bidirectional/forward_enc/kernel', 'bidirectional/forward_enc/recurrent_kernel', 'bidirectional/forward_enc/bias', 'bidirectional/backward_enc/kernel', 'bidirectional/backward_enc/recurrent_kernel', 'bidirectional/backward_enc/bias'].map((n) => n.replace('bidirectional/', `${model.layers[0]!.name}/`)));
      const x = f32(randomArray(B * T * I, 63, -2, 2));
      const out = await model.predict(host(x, [B, T, I]));
      const cfg = refCfg(v, I, H);
      const f = rnnForwardRef(cfg, fw.w32, x, B, T);
      const r = rnnForwardRef(cfg, bw.w32, x, B, T, undefined, undefined, { reverse: true });
      const rows = returnSequences ? B * T : B;
      const want = bidiMergeRef(returnSequences ? f.hSeq : f.hLast, returnSequences ? r.hSeq : r.hLast, rows, H, mergeMode);
      const D = mergeMode === 'concat' ? 2 * H : H;
      expect(out.shape).toEqual(returnSequences ? [B, T, D] : [B, D]);
      expectClose(out.data, want, FORWARD, 'bidirectional output');
      model.dispose();
    });
  }

  it('GRU, concat → Dense: one SGD step equals the float64 reference (both directions\' gradients)', async () => {
    const v = VARIANTS[2]!;
    const I = 2, H = 3, B = 4, T = 5, K = 2, lr = 0.1;
    const model = rnn.sequential({ layers: [rnn.layers.bidirectional({ layer: makeLayer(v, { units: H }), inputShape: [T, I] }), rnn.layers.dense({ units: K })], seed: 4 });
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: lr }), loss: 'mse' });
    const fw = layerWeights(v, I, H, 71), bw = layerWeights(v, I, H, 72);
    const W = f32(randomArray(2 * H * K, 73)), bD = f32(randomArray(K, 74));
    await model.setWeights([...fw.hosts, ...bw.hosts, host(W, [2 * H, K]), host(bD, [K])]);
    const x = f32(randomArray(B * T * I, 75, -2, 2)), y = f32(randomArray(B * K, 76));
    await model.trainOnBatch(host(x, [B, T, I]), host(y, [B, K]));
    const cfg = refCfg(v, I, H);
    const f = rnnForwardRef(cfg, fw.w32, x, B, T);
    const r = rnnForwardRef(cfg, bw.w32, x, B, T, undefined, undefined, { reverse: true });
    const merged = bidiMergeRef(f.hLast, r.hLast, B, H, 'concat');
    const head = denseMseRef(merged, W, bD, y, B, 2 * H, K);
    const { dA, dB } = bidiMergeBackwardRef(f.hLast, r.hLast, B, H, 'concat', null, head.dH);
    const gf = rnnBackwardRef(cfg, fw.w32, x, B, T, null, null, f.cache, null, dA, null);
    const gr = rnnBackwardRef(cfg, bw.w32, x, B, T, null, null, r.cache, null, dB, null, { reverse: true });
    const start = [fw.w32.kernel, fw.w32.recurrentKernel, fw.w32.bias, bw.w32.kernel, bw.w32.recurrentKernel, bw.w32.bias, W, bD];
    const grads = [gf.dKernel, gf.dRecurrentKernel, gf.dBias!, gr.dKernel, gr.dRecurrentKernel, gr.dBias!, head.dW, head.db];
    const after = await model.getWeights();
    after.forEach((t, i) => expectClose(t.data, start[i]!.map((p, j) => p - lr * grads[i]![j]!), GRAD, `${model.weightNames[i]} after one step`));
    model.dispose();
  });

  it('bad input: unknown mergeMode, a non-recurrent layer, predictStep', async () => {
    expect(() => rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 2 }), mergeMode: 'max' as 'sum', name: 'bi' })).toThrow(/bi: unknown mergeMode 'max' \(expected one of: concat, sum, mul, ave\)/);
    expect(() => rnn.layers.bidirectional({ layer: rnn.layers.dense({ units: 2 }) as unknown as rnn.RecurrentLayer, name: 'bi2' })).toThrow(/bi2: 'layer' must be a recurrent layer.*got Dense/);
    const model = rnn.sequential({ layers: [rnn.layers.bidirectional({ layer: rnn.layers.gru({ units: 2 }), inputShape: [null, 1] })] });
    await expect(model.predictStep(host([1, 2], [2, 1]))).rejects.toThrow(/predictStep cannot run a Bidirectional layer/);
    expect(model.countParams()).toBe(2 * (1 * 6 + 2 * 6 + 2 * 6));
    model.dispose();
  });
});

// ---------------------------------------------------------------- 1. dropout and recurrent dropout

describe('dropout and recurrent dropout', () => {
  it('GPU masks: values 0 or 1/(1-rate), the documented PCG hash, new masks after every step', async () => {
    const ctx = await gpuContext();
    const n = 4000, rate = 0.3, seed = 99;
    const rng = ctx.device.createBuffer({ size: 16, usage: 0x80 | 0x04 | 0x08 });
    const g = new Graph(ctx, false);
    const m0 = g.alloc([n], 'm0'), m1 = g.alloc([n], 'm1');
    await dropoutMask(g, m0, rate, seed, 0, rng);
    await dropoutMask(g, m1, rate, seed, 1, rng);
    await advanceRng(g, rng);
    const [a0, a1] = await run(g, m0, m1);
    const [b0] = await run(g, m0);
    g.dispose();
    rng.destroy();
    expectClose(a0!, dropoutMaskRef(n, rate, seed, 0, 0), EXACT, 'mask, stream 0, step 0');
    expectClose(a1!, dropoutMaskRef(n, rate, seed, 1, 0), EXACT, 'mask, stream 1, step 0');
    expectClose(b0!, dropoutMaskRef(n, rate, seed, 0, 1), EXACT, 'mask, stream 0, step 1');
    const zeros = a0!.filter((v) => v === 0).length;
    expect(Math.abs(zeros / n - rate)).toBeLessThan(0.03);
    expect(a0!.every((v) => v === 0 || v === Math.fround(1 / (1 - rate)))).toBe(true);
    expect(a0!.some((v, i) => v !== b0![i])).toBe(true);
    expect(a0!.some((v, i) => v !== a1![i])).toBe(true);
  });

  for (const v of [VARIANTS[1]!, VARIANTS[3]!]) {
    it(`${v.label}: two SGD steps with dropout 0.3 and recurrentDropout 0.4 equal the reference with the same masks`, async () => {
      const I = 3, H = 4, B = 3, T = 4, K = 2, lr = 0.1, seed = 1234;
      const layer = makeLayer(v, { units: H, dropout: 0.3, recurrentDropout: 0.4, seed, inputShape: [T, I] });
      const model = rnn.sequential({ layers: [layer, rnn.layers.dense({ units: K })], seed: 6 });
      model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: lr }), loss: 'mse' });
      const lw = layerWeights(v, I, H, 81);
      let W = f32(randomArray(H * K, 82)), bD = f32(randomArray(K, 83));
      await model.setWeights([...lw.hosts, host(W, [H, K]), host(bD, [K])]);
      let w = lw.w32;
      const cfg = refCfg(v, I, H);
      for (let step = 0; step < 2; step++) {
        const x = f32(randomArray(B * T * I, 84 + step, -2, 2)), y = f32(randomArray(B * K, 86 + step));
        await model.trainOnBatch(host(x, [B, T, I]), host(y, [B, K]));
        const opts: RnnRefOptions = { inputMask: dropoutMaskRef(B * I, 0.3, seed, 0, step), recMask: dropoutMaskRef(B * H, 0.4, seed, 1, step) };
        const f = rnnForwardRef(cfg, w, x, B, T, undefined, undefined, opts);
        const head = denseMseRef(f.hLast, W, bD, y, B, H, K);
        const gr = rnnBackwardRef(cfg, w, x, B, T, null, null, f.cache, null, head.dH, null, opts);
        const upd = (p: Float64Array, d: Float64Array) => p.map((q, j) => q - lr * d[j]!);
        w = { kernel: upd(w.kernel, gr.dKernel), recurrentKernel: upd(w.recurrentKernel, gr.dRecurrentKernel), bias: upd(w.bias, gr.dBias!) };
        W = upd(W, head.dW);
        bD = upd(bD, head.db);
      }
      const after = await model.getWeights();
      [w.kernel, w.recurrentKernel, w.bias, W, bD].forEach((want, i) => expectClose(after[i]!.data, want, GRAD, `${model.weightNames[i]} after two steps`));
      // inference uses no dropout: predict equals the no-dropout reference, twice
      const xp = f32(randomArray(B * T * I, 90));
      const p1 = await model.predict(host(xp, [B, T, I]));
      const p2 = await model.predict(host(xp, [B, T, I]));
      expectClose(p1.data, p2.data, EXACT, 'predict is deterministic');
      const ref = rnnForwardRef(cfg, { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias) }, xp, B, T);
      expectClose(p1.data, denseMseRef(ref.hLast, f32(W), f32(bD), new Float64Array(B * K), B, H, K).pred, FORWARD, 'predict without dropout');
      model.dispose();
    });
  }

  it('bad rates: clear errors naming the layer and the option', () => {
    expect(() => rnn.layers.lstm({ units: 2, dropout: 1, name: 'l1' })).toThrow(/l1: dropout must be a number in \[0, 1\), got 1/);
    expect(() => rnn.layers.gru({ units: 2, recurrentDropout: -0.1, name: 'g1' })).toThrow(/g1: recurrentDropout must be a number in \[0, 1\), got -0\.1/);
    expect(() => rnn.layers.simpleRNN({ units: 2, dropout: '0.5' as unknown as number, name: 's1' })).toThrow(/s1: dropout must be a number in \[0, 1\), got "0\.5"/);
    expect(() => rnn.layers.lstm({ units: 2, dropout: 0.2, seed: -1, name: 'l2' })).toThrow(/l2: seed must be an integer/);
  });
});

// ---------------------------------------------------------------- 2. masking

/** x [B, T, I] with the steps where mask = 0 set to `value` (padding). */
function padded(B: number, T: number, I: number, mask: Float64Array, seed: number, value = 0): Float64Array {
  const x = f32(randomArray(B * T * I, seed, -2, 2));
  for (let r = 0; r < B * T; r++) if (mask[r] === 0) x.fill(value, r * I, (r + 1) * I);
  return x;
}

describe('masking', () => {
  // right padding, a gap in the middle, and a row masked from the start
  const B = 3, T = 5;
  const mask = Float64Array.from([1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1]);

  for (const v of VARIANTS) {
    it(`${v.label}: Masking → ${v.label}(returnSequences) skips masked steps (state carried, previous output repeated)`, async () => {
      const I = 2, H = 4;
      const model = rnn.sequential({ layers: [rnn.layers.masking({ maskValue: 0, inputShape: [null, I] }), makeLayer(v, { units: H, returnSequences: true })], seed: 7 });
      const lw = layerWeights(v, I, H, 91);
      await model.setWeights(lw.hosts);
      const x = padded(B, T, I, mask, 92);
      const out = await model.predict(host(x, [B, T, I]));
      const ref = rnnForwardRef(refCfg(v, I, H), lw.w32, x, B, T, undefined, undefined, { seqMask: mask });
      expectClose(out.data, ref.hSeq, FORWARD, 'masked hSeq');
      // row 0, steps 3 and 4 repeat step 2's output
      for (const t of [3, 4]) expectClose(out.data.subarray(t * H, (t + 1) * H), out.data.subarray(2 * H, 3 * H), EXACT, `row 0 step ${t}`);
      model.dispose();
    });
  }

  it('LSTM: the mask passes through Dense and TimeDistributed; one SGD step of Masking → Dense → LSTM → Dense equals the reference', async () => {
    const v = VARIANTS[1]!;
    const I = 2, D = 3, H = 3, K = 2, lr = 0.1;
    const model = rnn.sequential({
      layers: [rnn.layers.masking({ maskValue: -1, inputShape: [T, I] }), rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: D }) }), makeLayer(v, { units: H }), rnn.layers.dense({ units: K })],
      seed: 8,
    });
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: lr }), loss: 'mse' });
    const W1 = f32(randomArray(I * D, 101)), b1 = f32(randomArray(D, 102));
    const lw = layerWeights(v, D, H, 103);
    const W2 = f32(randomArray(H * K, 104)), b2 = f32(randomArray(K, 105));
    await model.setWeights([host(W1, [I, D]), host(b1, [D]), ...lw.hosts, host(W2, [H, K]), host(b2, [K])]);
    const x = padded(B, T, I, mask, 106, -1), y = f32(randomArray(B * K, 107));
    await model.trainOnBatch(host(x, [B, T, I]), host(y, [B, K]));
    // reference: Masking zeroes masked steps; Dense per step; LSTM with the mask; Dense head
    const xm = x.map((val, i) => val * mask[Math.floor(i / I)]!);
    const dense = (a: Float64Array) => denseMseRef(a, W1, b1, new Float64Array(B * T * D), B * T, I, D);
    const z = dense(xm).pred;
    const cfg = refCfg(v, D, H);
    const f = rnnForwardRef(cfg, lw.w32, z, B, T, undefined, undefined, { seqMask: mask });
    const head = denseMseRef(f.hLast, W2, b2, y, B, H, K);
    const gr = rnnBackwardRef(cfg, lw.w32, z, B, T, null, null, f.cache, null, head.dH, null, { seqMask: mask });
    const dW1 = new Float64Array(I * D), db1 = new Float64Array(D);
    for (let r = 0; r < B * T; r++) for (let d = 0; d < D; d++) {
      db1[d]! += gr.dX[r * D + d]!;
      for (let i = 0; i < I; i++) dW1[i * D + d]! += xm[r * I + i]! * gr.dX[r * D + d]!;
    }
    const start = [W1, b1, lw.w32.kernel, lw.w32.recurrentKernel, lw.w32.bias, W2, b2];
    const grads = [dW1, db1, gr.dKernel, gr.dRecurrentKernel, gr.dBias!, head.dW, head.db];
    const after = await model.getWeights();
    after.forEach((t, i) => expectClose(t.data, start[i]!.map((p, j) => p - lr * grads[i]![j]!), GRAD, `${model.weightNames[i]} after one step`));
    model.dispose();
  });

  it('Masking zeroes masked steps; Bidirectional with returnSequences outputs zeros there (Keras zero_output_for_mask)', async () => {
    const v = VARIANTS[2]!;
    const I = 2, H = 3;
    const masking = rnn.sequential({ layers: [rnn.layers.masking({ maskValue: 7, inputShape: [null, I] })] });
    const x7 = padded(B, T, I, mask, 111, 7);
    const mo = await masking.predict(host(x7, [B, T, I]));
    expectClose(mo.data, x7.map((val, i) => val * mask[Math.floor(i / I)]!), EXACT, 'Masking output');
    masking.dispose();

    const model = rnn.sequential({ layers: [rnn.layers.masking({ inputShape: [null, I] }), rnn.layers.bidirectional({ layer: makeLayer(v, { units: H, returnSequences: true }), mergeMode: 'concat' })], seed: 9 });
    const fw = layerWeights(v, I, H, 112), bw = layerWeights(v, I, H, 113);
    await model.setWeights([...fw.hosts, ...bw.hosts]);
    const x = padded(B, T, I, mask, 114);
    const out = await model.predict(host(x, [B, T, I]));
    const cfg = refCfg(v, I, H);
    const f = rnnForwardRef(cfg, fw.w32, x, B, T, undefined, undefined, { seqMask: mask });
    const r = rnnForwardRef(cfg, bw.w32, x, B, T, undefined, undefined, { seqMask: mask, reverse: true });
    expectClose(out.data, bidiMergeRef(f.hSeq, r.hSeq, B * T, H, 'concat', mask), FORWARD, 'masked bidirectional');
    model.dispose();
  });

  it('a mask whose shape does not match the input: clear error naming the layer and the shapes', async () => {
    const ctx = await gpuContext();
    const layer = rnn.layers.gru({ units: 2, name: 'dec' });
    const g = new Graph(ctx, false);
    const x = input(g, [2, 4, 3], new Float64Array(24));
    x.mask = input(g, [2, 3], new Float64Array(6));
    const w = [input(g, [3, 6], new Float64Array(18)), input(g, [2, 6], new Float64Array(12)), input(g, [2, 6], new Float64Array(12))];
    await expect(layer.call(g, x, w)).rejects.toThrow(/dec: the input mask is \[2, 3\] but the input is \[2, 4, 3\]; expected a \[2, 4\] mask/);
    g.dispose();
    expect(() => rnn.layers.masking({ maskValue: Number.NaN, name: 'mk' })).toThrow(/mk: maskValue must be a finite number/);
  });
});

// ---------------------------------------------------------------- 5. custom cells

describe('custom cells: RNN(LNSimpleRNNCell), the chapter\'s layer-normalized cell', () => {
  const I = 3, H = 4, B = 2, T = 4;
  const lnWeights = (seed: number): LnCellWeights => ({
    kernel: f32(randomArray(I * H, seed, -0.6, 0.6)),
    recurrentKernel: f32(randomArray(H * H, seed + 1, -0.6, 0.6)),
    bias: f32(randomArray(H, seed + 2, -0.3, 0.3)),
    gamma: f32(randomArray(H, seed + 3, 0.5, 1.5)),
    beta: f32(randomArray(H, seed + 4, -0.3, 0.3)),
  });

  it('float64 reference: BPTT gradients match finite differences', () => {
    const w = lnWeights(121);
    const x = randomArray(B * T * I, 122);
    const r = randomArray(B * T * H, 123);
    const loss = () => lnCellForwardRef(w, x, B, T, I, H).hSeq.reduce((a, h, i) => a + h * r[i]!, 0);
    const g = lnCellBackwardRef(w, x, B, T, I, H, r);
    for (const k of ['kernel', 'recurrentKernel', 'bias', 'gamma', 'beta'] as const) expectGradClose(g[k], numericGradient(loss, w[k]), `d${k}`);
    expectGradClose(g.x, numericGradient(loss, x), 'dX');
  });

  for (const returnSequences of [true, false]) {
    it(`returnSequences=${returnSequences}: forward and every gradient through time (x, kernel, recurrent kernel, bias, gamma, beta) match the reference`, async () => {
      const w = lnWeights(131);
      const x = f32(randomArray(B * T * I, 132, -2, 2));
      const r = f32(randomArray((returnSequences ? B * T : B) * H, 133));
      const layer = rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: H }), returnSequences });
      expect(layer.weightSpecs([T, I]).map((s) => s.name)).toEqual(['simple_rnn_cell/kernel', 'simple_rnn_cell/recurrent_kernel', 'simple_rnn_cell/bias', 'layer_normalization/gamma', 'layer_normalization/beta']);
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, I], x, true, 'x');
      const ws = [input(g, [I, H], w.kernel, true), input(g, [H, H], w.recurrentKernel, true), input(g, [H], w.bias, true), input(g, [H], w.gamma, true), input(g, [H], w.beta, true)];
      const y = await layer.call(g, xt, ws);
      expect(y.shape).toEqual(returnSequences ? [B, T, H] : [B, H]);
      await g.backward(await weightedSum(g, y, r));
      const [out, dX, dK, dU, dB, dGamma, dBeta] = await run(g, y, g.grad(xt), ...ws.map((t) => g.grad(t)));
      g.dispose();
      const ref = lnCellForwardRef(w, x, B, T, I, H);
      let dHSeq = r;
      if (!returnSequences) {
        dHSeq = new Float64Array(B * T * H);
        for (let b = 0; b < B; b++) dHSeq.set(r.subarray(b * H, (b + 1) * H), (b * T + T - 1) * H);
      }
      const want = returnSequences ? ref.hSeq : Float64Array.from({ length: B * H }, (_, i) => ref.hSeq[(Math.floor(i / H) * T + T - 1) * H + (i % H)]!);
      expectClose(out!, want, FORWARD, 'outputs');
      const gr = lnCellBackwardRef(w, x, B, T, I, H, dHSeq);
      expectClose(dX!, gr.x, GRAD, 'dX');
      expectClose(dK!, gr.kernel, GRAD, 'dKernel');
      expectClose(dU!, gr.recurrentKernel, GRAD, 'dRecurrentKernel');
      expectClose(dB!, gr.bias, GRAD, 'dBias');
      expectClose(dGamma!, gr.gamma, GRAD, 'dGamma');
      expectClose(dBeta!, gr.beta, GRAD, 'dBeta');
    });
  }

  it('chapter experiment J: RNN(LN cell 20, seq) ×2 → TimeDistributed(Dense(10)) builds with Keras\'s parameter count, trains, and streams with predictStep', async () => {
    const T = 6, N = 8;
    const model = rnn.sequential({
      layers: [
        rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true, inputShape: [null, 1] }),
        rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true }),
        rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 10 }) }),
      ],
      seed: 42,
    });
    // per cell: kernel I·20 + recurrent 400 + bias 20 + gamma 20 + beta 20
    expect(model.countParams()).toBe(1 * 20 + 400 + 60 + (20 * 20 + 400 + 60) + (20 * 10 + 10));
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = host(randomArray(N * T, 141), [N, T, 1]), y = host(randomArray(N * T * 10, 142), [N, T, 10]);
    const h = await model.fit(x, y, { epochs: 2, batchSize: 4 });
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    const xs = randomArray(2 * T, 143);
    const whole = await model.predict(host(xs, [2, T, 1]));
    for (let t = 0; t < T; t++) {
      const out = await model.predictStep(host([xs[t]!, xs[T + t]!], [2, 1]));
      for (let b = 0; b < 2; b++) expectClose(out.data.subarray(b * 10, (b + 1) * 10), whole.data.subarray((b * T + t) * 10, (b * T + t + 1) * 10), FORWARD, `step ${t} row ${b}`);
    }
    model.dispose();
  });

  it('bad input: not a cell, a cell returning the wrong shape, masking', async () => {
    expect(() => rnn.layers.rnn({ cell: rnn.layers.dense({ units: 2 }) as unknown as rnn.RecurrentCell, name: 'r1' })).toThrow(/r1: 'cell' must be a recurrent cell/);
    expect(() => rnn.layers.lnSimpleRNNCell({ units: 0 })).toThrow(/lnSimpleRNNCell: units must be a positive integer, got 0/);
    const bad: rnn.RecurrentCell = {
      className: 'BadCell', stateSize: [3], outputSize: 3,
      weightSpecs: () => [],
      step: async (_g, x, states) => ({ output: x, states: [...states] }),
      getConfig: () => ({}),
    };
    const m1 = rnn.sequential({ layers: [rnn.layers.rnn({ cell: bad, name: 'r2', inputShape: [null, 2] })] });
    await expect(m1.predict(host(new Float64Array(8), [2, 2, 2]))).rejects.toThrow(/r2: BadCell\.step returned an output of shape \[2, 2\], expected \[2, 3\]/);
    m1.dispose();
    const m2 = rnn.sequential({ layers: [rnn.layers.masking({ inputShape: [null, 1] }), rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 2 }), name: 'r3' })] });
    await expect(m2.predict(host(new Float64Array(4), [2, 2, 1]))).rejects.toThrow(/r3: custom cells \(LNSimpleRNNCell\) do not support masking/);
    m2.dispose();
  });
});
