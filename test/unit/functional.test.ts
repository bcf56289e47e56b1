/**
 * Functional models on the real GPU (src/model/model.ts, src/model/topology.ts, layer.apply):
 * the lecture's encoder–decoder (state handed over with returnState / initialState, gradients
 * into it through the fused kernels) and vector-to-sequence models against the float64
 * references of test/reference/models.ts; functional versions of the chapter's models train to
 * bit-identical weights as their Sequential versions; stateful layers carry their state across
 * batches exactly; goBackwards and Bidirectional's states against the recurrent reference; the
 * training step's dispatches do not depend on T.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { flatWeights, seq2seqCases, seq2seqData, seq2seqRef } from '../reference/models';
import { randomRnnWeights, reverseTime, rnnBackwardRef, rnnForwardRef, type RnnRefConfig } from '../reference/rnn';

type ST = rnn.SymbolicTensor;
const host = (data: ArrayLike<number>, shape: number[]): HostTensor => ({ data: Float32Array.from(data), shape });
const f64 = (t: HostTensor): Float64Array => Float64Array.from(t.data);

/** The GPU model of a reference case: layers as the reference composes them. */
function buildSeq2Seq(c: ReturnType<typeof seq2seqCases>[number]['c']): rnn.Model {
  const layer = (cfg: RnnRefConfig, extra: Record<string, unknown>) =>
    cfg.cell === 'lstm' ? rnn.layers.lstm({ units: cfg.units, ...extra }) : rnn.layers.gru({ units: cfg.units, ...extra });
  const encIn = rnn.input({ shape: [c.Te, c.enc.inputSize], name: 'encoder_input' });
  const dense = rnn.layers.dense({ units: 1, name: 'head' });
  if (c.kind === 'encdec') {
    const decIn = rnn.input({ shape: [c.Td, c.dec.inputSize], name: 'decoder_input' });
    const [, ...state] = layer(c.enc, { returnState: true, name: 'encoder' }).apply(encIn) as ST[];
    const seq = layer(c.dec, { returnSequences: true, name: 'decoder' }).apply(decIn, { initialState: state }) as ST;
    const y = dense.apply(seq) as ST;
    return rnn.model({ inputs: [encIn, decIn], outputs: c.hLossWeight ? [y, state[0]!] : y });
  }
  const h = layer(c.enc, { name: 'encoder' }).apply(encIn) as ST;
  const rep = rnn.layers.repeatVector({ n: c.Td }).apply(h) as ST;
  const seq = layer(c.dec, { returnSequences: true, name: 'decoder' }).apply(rep) as ST;
  return rnn.model({ inputs: encIn, outputs: dense.apply(seq) as ST });
}

describe('encoder–decoder and vector-to-sequence: loss gradients vs the float64 reference', () => {
  for (const { name, c } of seq2seqCases()) {
    it(name, async () => {
      const { w, xEnc, xDec, y, hTarget } = seq2seqData(c, 7);
      const ref = seq2seqRef(c, w, xEnc, xDec, y, hTarget);
      const model = buildSeq2Seq(c);
      model.compile(c.hLossWeight ? { optimizer: 'sgd', loss: ['mse', 'mse'], lossWeights: [1, c.hLossWeight] } : { optimizer: 'sgd', loss: 'mse' });
      const shapes = (await model.getWeights()).map((t) => [...t.shape]);
      await model.setWeights(flatWeights(w).map((a, i) => host(a, shapes[i]!)));
      const x = [host(xEnc, [c.B, c.Te, c.enc.inputSize]), ...(xDec ? [host(xDec, [c.B, c.Td, c.dec.inputSize])] : [])];
      const yT = host(y, [c.B, c.Td, 1]);
      const targets = hTarget ? [yT, host(hTarget, [c.B, c.enc.units])] : yT;
      const grads = await model.gradients(x.length === 1 ? x[0]! : x, targets);
      const names = model.weightNames;
      grads.forEach((g, i) => expectClose(f64(g), ref.grads[i]!, GRAD, `${name}: ${names[i]}`));
      const logs = await model.evaluateLogs(x.length === 1 ? x[0]! : x, targets);
      expect(logs.loss).toBeCloseTo(ref.loss, 5);
      const out = (await model.predictAll(x.length === 1 ? x[0]! : x))[0]!;
      expectClose(f64(out), ref.out, FORWARD, `${name}: outputs`);
      model.dispose();
    });
  }

  it('the training step of an encoder–decoder has the same dispatches at T = 5 and T = 60 (one submit, no readback)', async () => {
    const c = seq2seqCases()[0]!.c;
    const model = buildSeq2Seq({ ...c, Te: 5, Td: 3 });
    const long = buildSeq2Seq({ ...c, Te: 60, Td: 30 });
    for (const m of [model, long]) m.compile({ optimizer: 'adam', loss: ['mse', 'mse'] });
    const a = await model.trainingStepInfo([[4, 5, 1], [4, 3, 1]], [[4, 3, 1], [4, 3]]);
    const b = await long.trainingStepInfo([[4, 60, 1], [4, 30, 1]], [[4, 30, 1], [4, 3]]);
    expect(a.dispatches).toBe(b.dispatches);
    expect(a.submits).toBe(1);
    model.dispose();
    long.dispose();
  });
});

describe('functional and Sequential versions of the chapter models train to bit-identical weights', () => {
  const L = rnn.layers;
  const T = 12;
  /** [name, layers factory, target shape per row]: the chapter's models, small. */
  const models: [string, () => rnn.Layer[], number[]][] = [
    ['linear: Flatten → Dense(1)', () => [L.flatten(), L.dense({ units: 1 })], [1]],
    ['SimpleRNN(1)', () => [L.simpleRNN({ units: 1 })], [1]],
    ['deep RNN + Dense', () => [L.simpleRNN({ units: 6, returnSequences: true }), L.simpleRNN({ units: 6 }), L.dense({ units: 1 })], [1]],
    ['sequence-to-vector: Dense(3) head', () => [L.simpleRNN({ units: 6, returnSequences: true }), L.simpleRNN({ units: 6 }), L.dense({ units: 3 })], [3]],
    ['sequence-to-sequence + BatchNormalization', () => [L.simpleRNN({ units: 5, returnSequences: true }), L.batchNormalization(), L.timeDistributed({ layer: L.dense({ units: 3 }) })], [T, 3]],
    ['LSTM(5)×2 sequence-to-sequence', () => [L.lstm({ units: 5, returnSequences: true }), L.lstm({ units: 5, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 3 }) })], [T, 3]],
    ['GRU(5)×2 sequence-to-sequence', () => [L.gru({ units: 5, returnSequences: true }), L.gru({ units: 5, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 3 }) })], [T, 3]],
    ['layer-normalized custom cell', () => [L.rnn({ cell: L.lnSimpleRNNCell({ units: 4 }), returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 3 }) })], [T, 3]],
  ];
  const N = 24;
  const x = host(randomArray(N * T, 5), [N, T, 1]);
  for (const [name, make, yRow] of models) {
    it(name, async () => {
      const y = host(randomArray(N * yRow.reduce((a, b) => a * b, 1), 6), [N, ...yRow]);
      const seq = rnn.sequential({ layers: make(), seed: 11 });
      const input = rnn.input({ shape: [T, 1] });
      let t: ST = input;
      for (const l of make()) t = l.apply(t) as ST;
      const fun = rnn.model({ inputs: input, outputs: t, seed: 11 });
      const runs: { history: Record<string, number[]>; weights: HostTensor[] }[] = [];
      for (const m of [seq, fun]) {
        m.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse', metrics: yRow.length === 2 ? ['lastTimeStepMse'] : ['mae'] });
        const h = await m.fit(x, y, { epochs: 2, batchSize: 10, validationData: [x, y] });
        runs.push({ history: h.history, weights: await m.getWeights() });
        m.dispose();
      }
      expect(runs[1]!.history).toEqual(runs[0]!.history);
      runs[0]!.weights.forEach((w, i) => expect(Array.from(runs[1]!.weights[i]!.data), `weight ${i}`).toEqual(Array.from(w.data)));
    });
  }
});

describe('stateful layers, goBackwards, Bidirectional states vs the reference', () => {
  const cfg = (cell: RnnRefConfig['cell'], units: number, inputSize: number): RnnRefConfig => ({ cell, units, inputSize, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, useBias: true });

  it('stateful LSTM: two half-length batches in sequence give the full batch\'s outputs, and the second half\'s gradients are the truncated-BPTT gradients from the carried state', async () => {
    const B = 3, T = 8, I = 2, H = 4;
    const c = cfg('lstm', H, I);
    const w = randomRnnWeights(c, 3, 0.5);
    const x = randomArray(B * T * I, 4);
    const full = rnnForwardRef(c, w, x, B, T);
    const half = (a: Float64Array, F: number, k: number) => {
      const out = new Float64Array(B * (T / 2) * F);
      for (let b = 0; b < B; b++) out.set(a.subarray((b * T + k * (T / 2)) * F, (b * T + (k + 1) * (T / 2)) * F), b * (T / 2) * F);
      return out;
    };
    const inp = rnn.input({ shape: [T / 2, I] });
    const seq = rnn.layers.lstm({ units: H, returnSequences: true, stateful: true, name: 'stateful_lstm' }).apply(inp) as ST;
    const model = rnn.model({ inputs: inp, outputs: seq });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.setWeights([host(w.kernel, [I, 4 * H]), host(w.recurrentKernel, [H, 4 * H]), host(w.bias!, [4 * H])]);
    const x0 = host(half(x, I, 0), [B, T / 2, I]), x1 = host(half(x, I, 1), [B, T / 2, I]);
    const out0 = (await model.predictAll(x0))[0]!;
    const out1 = (await model.predictAll(x1))[0]!;
    expectClose(f64(out0), half(full.hSeq, H, 0), FORWARD, 'first half');
    expectClose(f64(out1), half(full.hSeq, H, 1), FORWARD, 'second half from the carried state');
    // gradients of the second half from the state after the first
    model.resetStates();
    await model.predictAll(x0);
    const target = randomArray(B * (T / 2) * H, 9);
    const g = await model.gradients(x1, host(target, [B, T / 2, H]));
    const first = rnnForwardRef(c, w, half(x, I, 0), B, T / 2);
    const second = rnnForwardRef(c, w, half(x, I, 1), B, T / 2, first.hLast, first.cLast!);
    const dSeq = second.hSeq.map((v, i) => (2 * (v - target[i]!)) / target.length);
    const ref = rnnBackwardRef(c, w, half(x, I, 1), B, T / 2, first.hLast, first.cLast!, second.cache, dSeq, null, null);
    expectClose(f64(g[0]!), ref.dKernel, GRAD, 'dKernel');
    expectClose(f64(g[1]!), ref.dRecurrentKernel, GRAD, 'dRecurrentKernel');
    expectClose(f64(g[2]!), ref.dBias!, GRAD, 'dBias');
    await expect(model.predictAll(host(new Float32Array(2 * 4 * I), [2, 4, I]))).rejects.toThrow(/batch size 3 .* 2 rows/);
    model.dispose();
  });

  it('stateful fit: batches in order (shuffle: true is refused), fixed batch size', async () => {
    const inp = rnn.input({ shape: [4, 1] });
    const out = rnn.layers.dense({ units: 1 }).apply(rnn.layers.gru({ units: 3, stateful: true }).apply(inp) as ST) as ST;
    const model = rnn.model({ inputs: inp, outputs: out });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = host(randomArray(12 * 4, 2), [12, 4, 1]), y = host(randomArray(12, 3), [12, 1]);
    await expect(model.fit(x, y, { batchSize: 4, shuffle: true })).rejects.toThrow(/stateful .* shuffle must be false/);
    await expect(model.fit(x, y, { batchSize: 5 })).rejects.toThrow(/12 rows are not a multiple of batchSize 5/);
    const h = await model.fit(x, y, { batchSize: 4, epochs: 2 });
    expect(h.history.loss).toHaveLength(2);
    model.dispose();
  });

  it('goBackwards: the sequence processed from its end, outputs in processing order (Keras), and its gradients', async () => {
    const B = 2, T = 5, I = 2, H = 3;
    const c = cfg('gru', H, I);
    const w = randomRnnWeights(c, 8, 0.5);
    const x = randomArray(B * T * I, 9);
    const inp = rnn.input({ shape: [T, I] });
    const seq = rnn.layers.gru({ units: H, returnSequences: true, goBackwards: true }).apply(inp) as ST;
    const model = rnn.model({ inputs: inp, outputs: seq });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.setWeights([host(w.kernel, [I, 3 * H]), host(w.recurrentKernel, [H, 3 * H]), host(w.bias!, [2, 3 * H])]);
    const ref = rnnForwardRef(c, w, x, B, T, undefined, undefined, { reverse: true });
    const expected = reverseTime(ref.hSeq, B, T, H); // processing order
    const out = (await model.predictAll(host(x, [B, T, I])))[0]!;
    expectClose(f64(out), expected, FORWARD, 'goBackwards outputs');
    const target = randomArray(B * T * H, 10);
    const g = await model.gradients(host(x, [B, T, I]), host(target, [B, T, H]));
    const dOut = expected.map((v, i) => (2 * (v - target[i]!)) / target.length);
    const back = rnnBackwardRef(c, w, x, B, T, null, null, ref.cache, reverseTime(dOut, B, T, H), null, null, { reverse: true });
    expectClose(f64(g[0]!), back.dKernel, GRAD, 'dKernel');
    expectClose(f64(g[1]!), back.dRecurrentKernel, GRAD, 'dRecurrentKernel');
    model.dispose();
  });

  it('Bidirectional with returnState: [output, forward h, c, backward h, c] as in Keras', async () => {
    const B = 2, T = 4, I = 1, H = 3;
    const c = cfg('lstm', H, I);
    const inp = rnn.input({ shape: [T, I] });
    const outs = rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: H, returnState: true }) }).apply(inp) as ST[];
    expect(outs.map((o) => o.shape)).toEqual([[2 * H], [H], [H], [H], [H]]);
    const model = rnn.model({ inputs: inp, outputs: outs });
    const ws = await model.getWeights();
    const wf = { kernel: f64(ws[0]!), recurrentKernel: f64(ws[1]!), bias: f64(ws[2]!) };
    const wb = { kernel: f64(ws[3]!), recurrentKernel: f64(ws[4]!), bias: f64(ws[5]!) };
    const x = randomArray(B * T * I, 12);
    const got = await model.predictAll(host(x, [B, T, I]));
    const f = rnnForwardRef(c, wf, x, B, T);
    const b = rnnForwardRef(c, wb, x, B, T, undefined, undefined, { reverse: true });
    expectClose(f64(got[1]!), f.hLast, FORWARD, 'forward h');
    expectClose(f64(got[2]!), f.cLast!, FORWARD, 'forward c');
    expectClose(f64(got[3]!), b.hLast, FORWARD, 'backward h');
    expectClose(f64(got[4]!), b.cLast!, FORWARD, 'backward c');
    const concat = new Float64Array(B * 2 * H);
    for (let r = 0; r < B; r++) {
      concat.set(f.hLast.subarray(r * H, (r + 1) * H), r * 2 * H);
      concat.set(b.hLast.subarray(r * H, (r + 1) * H), r * 2 * H + H);
    }
    expectClose(f64(got[0]!), concat, FORWARD, 'merged output');
    model.dispose();
  });
});
