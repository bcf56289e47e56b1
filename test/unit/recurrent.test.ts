/**
 * The recurrent layers (src/layers/recurrent.ts, bidirectional.ts, masking.ts) with the training
 * toolkit of docs/rnn-features.md, in models on the real GPU against the float64 references
 * (test/reference/rnn.ts with its options, test/reference/sequence.ts for Bidirectional's merge
 * and the dropout masks, denseMseRef of test/reference/ops.ts for a Dense head): stateful /
 * streaming inference, Bidirectional (reversal inside the kernels), dropout and recurrent dropout,
 * and masking. The ops underneath are tested in rnn.test.ts and sequence.test.ts; custom cells in
 * cells.test.ts. Sizes are small: the software Vulkan driver is slow.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { gpuContext, input, f32, Graph } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD, EXACT } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, type RnnRefConfig, type RnnRefOptions } from '../reference/rnn';
import { denseMseRef } from '../reference/ops';
import { bidiMergeRef, bidiMergeBackwardRef, dropoutMaskRef, type MergeMode } from '../reference/sequence';
import { gateCount } from '../../src/ops/rnn';
import { VARIANTS, type Variant } from '../helpers/rnn-variants';

const host = (a: ArrayLike<number>, shape: readonly number[]) => ({ data: Float32Array.from(a as ArrayLike<number>), shape });

const refCfg = (v: Variant, I: number, H: number): RnnRefConfig => ({
  cell: v.cell, units: H, inputSize: I, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: true,
});
const makeLayer = (v: Variant, a: rnn.RecurrentArgs & { inputShape?: [number | null, number] }): rnn.RecurrentLayer =>
  v.cell === 'simpleRNN' ? rnn.layers.simpleRNN(a) : v.cell === 'lstm' ? rnn.layers.lstm(a) : rnn.layers.gru({ ...a, resetAfter: v.resetAfter });

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

// ---------------------------------------------------------------- stateful / streaming inference

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

// ---------------------------------------------------------------- Bidirectional

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

// ---------------------------------------------------------------- dropout and recurrent dropout

describe('dropout and recurrent dropout layers', () => {
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

// ---------------------------------------------------------------- masking

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
