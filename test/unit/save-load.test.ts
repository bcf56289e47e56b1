// Whole models as files (own format): every layer, wrapper and option survives save → load with
// bit-identical predictions, and a model saved with its training state continues fit exactly as
// the uninterrupted one does (weights bit-identical after one more epoch).
import { describe, expect, it } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';

const seqData = (n: number, T: number, F: number, k = 1) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: T }, (_, t) => Array.from({ length: F }, (_, f) => Math.sin(0.7 * i + 0.3 * t * k + f))));
const bits = (t: HostTensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
const list = (p: HostTensor | HostTensor[]) => (Array.isArray(p) ? p : [p]);

async function roundTrip(m: rnn.Model): Promise<rnn.Model> {
  const mem = rnn.io.memory();
  await m.save(mem);
  return rnn.loadModel(mem);
}

async function expectSamePredictions(a: rnn.Model, b: rnn.Model, x: rnn.ModelData): Promise<void> {
  const pa = list(await a.predict(x));
  const pb = list(await b.predict(x));
  expect(pb.length).toBe(pa.length);
  pa.forEach((t, i) => {
    expect(pb[i]!.shape).toEqual(t.shape);
    expect(bits(pb[i]!)).toEqual(bits(t));
  });
}

describe('save → load → predict is bit-identical, for every layer, wrapper and option', () => {
  const x3 = seqData(6, 7, 3);
  const cases: [string, () => rnn.Model, rnn.ModelData][] = [
    ['stacked LSTM with dropout, recurrentDropout, unitForgetBias false', () => rnn.sequential({ seed: 3, layers: [
      rnn.layers.lstm({ units: 5, returnSequences: true, dropout: 0.2, recurrentDropout: 0.1, unitForgetBias: false, inputShape: [null, 3] }),
      rnn.layers.lstm({ units: 4, recurrentActivation: 'hardSigmoid' }),
      rnn.layers.dense({ units: 2, activation: 'relu' }),
    ] }), x3],
    ['GRU resetAfter false and true, TimeDistributed(Dense)', () => rnn.sequential({ seed: 4, layers: [
      rnn.layers.gru({ units: 4, returnSequences: true, resetAfter: false, inputShape: [null, 3] }),
      rnn.layers.gru({ units: 3, returnSequences: true }),
      rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 2 }) }),
    ] }), x3],
    ['masking, SimpleRNN goBackwards, LayerNormalization, BatchNormalization', () => rnn.sequential({ seed: 5, layers: [
      rnn.layers.masking({ maskValue: 0, inputShape: [7, 3] }),
      rnn.layers.simpleRNN({ units: 4, returnSequences: true, goBackwards: true, activation: 'relu' }),
      rnn.layers.layerNormalization({ epsilon: 0.01 }),
      rnn.layers.batchNormalization({ momentum: 0.9 }),
      rnn.layers.flatten(),
      rnn.layers.dense({ units: 1 }),
    ] }), x3.map((s, i) => s.map((r, t) => (t < i % 3 ? r.map(() => 0) : r)))],
    ['Bidirectional LSTM (concat) and GRU (ave)', () => rnn.sequential({ seed: 6, layers: [
      rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 3, returnSequences: true }), inputShape: [null, 3] }),
      rnn.layers.bidirectional({ layer: rnn.layers.gru({ units: 2 }), mergeMode: 'ave' }),
      rnn.layers.dense({ units: 1 }),
    ] }), x3],
    ['the chapter LN cell in RNN(cell), fused and step by step', () => rnn.sequential({ seed: 7, layers: [
      rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 4 }), returnSequences: true, dropout: 0.1, inputShape: [null, 3] }),
      rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 3, epsilon: 0.01 }), fused: false }),
      rnn.layers.dense({ units: 1 }),
    ] }), x3],
    ['a Sequential built from its data (no inputShape)', () => rnn.sequential({ seed: 8, layers: [rnn.layers.simpleRNN({ units: 3 }), rnn.layers.dense({ units: 1 })] }), x3],
    ['functional encoder–decoder: states as initialState, RepeatVector, Concatenate, GaussianNoise', () => {
      const enc = rnn.input({ shape: [null, 3], name: 'enc_in' });
      const [, h, c] = rnn.layers.lstm({ units: 4, returnState: true, name: 'encoder' }).apply(enc) as rnn.SymbolicTensor[];
      const ctx = rnn.layers.repeatVector({ n: 5, name: 'ctx' }).apply(h!) as rnn.SymbolicTensor;
      const dec = rnn.input({ shape: [5, 2], name: 'dec_in' });
      const noisy = rnn.layers.gaussianNoise({ stddev: 0.1, seed: 1, name: 'noise' }).apply(dec) as rnn.SymbolicTensor;
      const both = rnn.layers.concatenate({ name: 'cat' }).apply([noisy, ctx]) as rnn.SymbolicTensor;
      const out = rnn.layers.lstm({ units: 4, returnSequences: true, name: 'decoder' }).apply(both, { initialState: [h!, c!] }) as rnn.SymbolicTensor;
      const y = rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 1 }), name: 'head' }).apply(out) as rnn.SymbolicTensor;
      return rnn.model({ inputs: [enc, dec], outputs: y, seed: 9, name: 'encdec' });
    }, [x3, seqData(6, 5, 2, 2)]],
    ['functional: several outputs, a shared layer, merges, Reshape', () => {
      const a = rnn.input({ shape: [4, 2], name: 'a' });
      const b = rnn.input({ shape: [4, 2], name: 'b' });
      const shared = rnn.layers.simpleRNN({ units: 3, returnSequences: true, name: 'shared' });
      const ya = shared.apply(a) as rnn.SymbolicTensor;
      const yb = shared.apply(b) as rnn.SymbolicTensor;
      const sum = rnn.layers.add({ name: 'sum' }).apply([ya, yb]) as rnn.SymbolicTensor;
      const diff = rnn.layers.subtract({ name: 'diff' }).apply([ya, yb]) as rnn.SymbolicTensor;
      const prod = rnn.layers.multiply({ name: 'prod' }).apply([sum, diff]) as rnn.SymbolicTensor;
      const avg = rnn.layers.average({ name: 'avg' }).apply([prod, ya]) as rnn.SymbolicTensor;
      const flat = rnn.layers.reshape({ targetShape: [-1], name: 'flat' }).apply(avg) as rnn.SymbolicTensor;
      const o1 = rnn.layers.dense({ units: 2, name: 'o1' }).apply(flat) as rnn.SymbolicTensor;
      const o2 = rnn.layers.gru({ units: 2, name: 'o2' }).apply(sum) as rnn.SymbolicTensor;
      return rnn.model({ inputs: [a, b], outputs: [o1, o2], seed: 10, name: 'multi' });
    }, [seqData(5, 4, 2), seqData(5, 4, 2, 3)]],
  ];
  it.each(cases)('%s', async (_name, make, x) => {
    const m = make();
    m.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse' });
    // train a step so the weights (and BatchNormalization's moving statistics) are not the initial ones
    const y = list(await m.predict(x)).map((t) => ({ data: t.data.map((v) => 0.5 - v), shape: t.shape }));
    await m.fit(x, y.length === 1 ? y[0]! : y, { epochs: 1, batchSize: 3 });
    const again = await roundTrip(m);
    expect(again.constructor).toBe(m.constructor);
    expect(again.name).toBe(m.name);
    expect(again.weightNames).toEqual(m.weightNames);
    expect(again.summary(null)).toBe(m.summary(null));
    await expectSamePredictions(m, again, x);
    m.dispose();
    again.dispose();
  });

  it('a stateful layer and the stored state: the same streaming steps after a reload', async () => {
    const m = rnn.sequential({ seed: 11, layers: [rnn.layers.lstm({ units: 3, stateful: true, returnSequences: true, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })] });
    const again = await roundTrip(m);
    for (const step of [[[0.1, 0.2]], [[0.3, -0.1]]]) {
      expect(bits((await again.predictStep(step)) as HostTensor)).toEqual(bits(await m.predictStep(step)));
    }
    m.dispose();
    again.dispose();
  });

  it('a frozen layer stays frozen; an uncompiled model loads uncompiled', async () => {
    const l = rnn.layers.lstm({ units: 2, inputShape: [3, 1] });
    const m = rnn.sequential({ seed: 12, layers: [l, rnn.layers.dense({ units: 1 })] });
    l.trainable = false;
    const again = await roundTrip(m);
    expect(again.layers[0]!.trainable).toBe(false);
    expect(again.layers[1]!.trainable).toBe(true);
    expect(again.optimizer).toBeNull();
    m.dispose();
    again.dispose();
  });
});

describe('with its training state, a reloaded model continues fit exactly', () => {
  const x = seqData(12, 6, 2);
  const y = x.map((s) => s.map((r) => [r[0]! - r[1]!]));
  const cases: [string, () => rnn.Optimizer][] = [
    ['Adam with clipnorm', () => rnn.optimizers.adam({ learningRate: 0.01, clipnorm: 1 })],
    ['SGD with Nesterov momentum and an ExponentialDecay schedule', () => rnn.optimizers.sgd({ learningRate: rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.05, decaySteps: 3, decayRate: 0.5 }), momentum: 0.9, nesterov: true })],
    ['RMSprop centered with momentum', () => rnn.optimizers.rmsprop({ learningRate: 0.01, centered: true, momentum: 0.5 })],
    ['AdamW (weight decay)', () => rnn.optimizers.adamw({ learningRate: 0.01 })],
  ];
  it.each(cases)('%s, dropout and a frozen layer', async (_name, opt) => {
    const make = () => {
      const frozen = rnn.layers.dense({ units: 2, name: 'frozen_in' });
      const m = rnn.sequential({ seed: 21, layers: [
        rnn.layers.timeDistributed({ layer: frozen, inputShape: [null, 2], name: 'td' }),
        rnn.layers.lstm({ units: 4, returnSequences: true, dropout: 0.25, recurrentDropout: 0.2, name: 'lstm_a' }),
        rnn.layers.gru({ units: 3, returnSequences: true, dropout: 0.1, name: 'gru_b' }),
        rnn.layers.dense({ units: 1, name: 'out' }),
      ] });
      frozen.trainable = false;
      m.compile({ optimizer: opt(), loss: 'mse', metrics: ['mae'] });
      return m;
    };
    const a = make();
    await a.fit(x, y, { epochs: 1, batchSize: 4 });
    const mem = rnn.io.memory();
    await a.save(mem);
    const b = await rnn.loadModel(mem);
    expect(b.optimizer!.getConfig()).toEqual(a.optimizer!.getConfig());
    expect(b.optimizer!.iterations).toBe(a.optimizer!.iterations);
    const ha = await a.fit(x, y, { epochs: 1, batchSize: 4 });
    const hb = await b.fit(x, y, { epochs: 1, batchSize: 4 });
    expect(hb.history).toEqual(ha.history);
    const wa = await a.getWeights();
    const wb = await b.getWeights();
    wa.forEach((w, i) => expect(bits(wb[i]!), a.weightNames[i]).toEqual(bits(w)));
    // without the training state the moments restart: the next epoch differs
    const fresh = rnn.io.memory();
    const c0 = make();
    await c0.fit(x, y, { epochs: 1, batchSize: 4 });
    await c0.save(fresh, { includeOptimizer: false });
    const c = await rnn.loadModel(fresh);
    await c.fit(x, y, { epochs: 1, batchSize: 4 });
    const wc = await c.getWeights();
    expect(wc.some((w, i) => bits(w).join() !== bits(wa[i]!).join())).toBe(true);
    for (const m of [a, b, c0, c]) m.dispose();
  });
});
