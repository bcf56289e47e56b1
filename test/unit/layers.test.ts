/**
 * Recurrent layers inside models, on the real GPU: weights set in Keras 3 layout give the float64
 * reference's outputs (the reference implements Keras's equations), a full training step of
 * LSTM → Dense matches the reference gradient, initializers follow Keras, variable sequence
 * lengths, long sequences without per-step readbacks, dispatch counts independent of T, and
 * clear errors for bad input.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, type RnnRefConfig } from '../reference/rnn';
import { matmulRef } from '../reference/ops';

const f32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a as ArrayLike<number>));
const host = (a: Float64Array, shape: readonly number[]) => ({ data: Float32Array.from(a), shape });

type Variant = { label: string; cell: RnnRefConfig['cell']; resetAfter: boolean; make: (a: { units: number; returnSequences: boolean; inputShape: [number | null, number] }) => rnn.Layer };
const VARIANTS: Variant[] = [
  { label: 'SimpleRNN', cell: 'simpleRNN', resetAfter: false, make: (a) => rnn.layers.simpleRNN(a) },
  { label: 'LSTM', cell: 'lstm', resetAfter: false, make: (a) => rnn.layers.lstm(a) },
  { label: 'GRU resetAfter', cell: 'gru', resetAfter: true, make: (a) => rnn.layers.gru(a) },
  { label: 'GRU resetAfter=false', cell: 'gru', resetAfter: false, make: (a) => rnn.layers.gru({ ...a, resetAfter: false }) },
];

const cfgOf = (v: Variant, I: number, H: number): RnnRefConfig => ({
  cell: v.cell, units: H, inputSize: I, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: true,
});

describe('recurrent layers: Keras-layout weights give the reference outputs', () => {
  for (const v of VARIANTS) {
    for (const returnSequences of [false, true]) {
      it(`${v.label}, returnSequences=${returnSequences}, variable T (3 then 7)`, async () => {
        const I = 2, H = 5, B = 3;
        const model = rnn.sequential({ layers: [v.make({ units: H, returnSequences, inputShape: [null, I] })], seed: 1 });
        const cfg = cfgOf(v, I, H);
        const w = randomRnnWeights(cfg, 11);
        const shapes = (await model.getWeights()).map((t) => t.shape);
        const G = v.cell === 'lstm' ? 4 : v.cell === 'gru' ? 3 : 1;
        expect(shapes).toEqual([[I, G * H], [H, G * H], v.cell === 'gru' && v.resetAfter ? [2, G * H] : [G * H]]);
        await model.setWeights([host(w.kernel, shapes[0]!), host(w.recurrentKernel, shapes[1]!), host(w.bias!, shapes[2]!)]);
        for (const T of [3, 7]) {
          const x = randomArray(B * T * I, 12 + T, -2, 2);
          const out = await model.predict(host(x, [B, T, I]));
          const ref = rnnForwardRef(cfg, { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias!) }, f32(x), B, T);
          expect(out.shape).toEqual(returnSequences ? [B, T, H] : [B, H]);
          expectClose(out.data, returnSequences ? ref.hSeq : ref.hLast, FORWARD, `${v.label} T=${T}`);
        }
        model.dispose();
      });
    }
  }
});

describe('a full training step through the model', () => {
  for (const v of VARIANTS) {
    it(`${v.label}(4) → Dense(2): one SGD step equals the float64 reference gradient step`, async () => {
      const I = 3, H = 4, B = 5, T = 6, K = 2, lr = 0.1;
      const model = rnn.sequential({ layers: [v.make({ units: H, returnSequences: false, inputShape: [T, I] }), rnn.layers.dense({ units: K })], seed: 2 });
      model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: lr }), loss: 'mse' });
      const cfg = cfgOf(v, I, H);
      const w = randomRnnWeights(cfg, 21);
      const W = f32(randomArray(H * K, 22)), bD = f32(randomArray(K, 23));
      const start = [f32(w.kernel), f32(w.recurrentKernel), f32(w.bias!), W, bD];
      const shapes = (await model.getWeights()).map((t) => t.shape);
      await model.setWeights(start.map((a, i) => host(a, shapes[i]!)));
      const x = f32(randomArray(B * T * I, 24, -2, 2)), y = f32(randomArray(B * K, 25));
      await model.trainOnBatch(host(x, [B, T, I]), host(y, [B, K]));
      // reference: pred = hLast·W + b; loss = mean (pred - y)²
      const rw = { kernel: start[0]!, recurrentKernel: start[1]!, bias: start[2]! };
      const fwd = rnnForwardRef(cfg, rw, x, B, T);
      const pred = matmulRef(fwd.hLast, W, B, H, K).map((p, i) => p + bD[i % K]!);
      const dPred = pred.map((p, i) => (2 * (p - y[i]!)) / (B * K));
      const dW = matmulRef(fwd.hLast, dPred, H, B, K, true, false);
      const db = new Float64Array(K);
      dPred.forEach((d, i) => (db[i % K]! += d));
      const dHLast = matmulRef(dPred, W, B, K, H, false, true);
      const back = rnnBackwardRef(cfg, rw, x, B, T, null, null, fwd.cache, null, dHLast, null);
      const grads = [back.dKernel, back.dRecurrentKernel, back.dBias!, dW, db];
      const after = await model.getWeights();
      after.forEach((t, i) => {
        const want = start[i]!.map((p, j) => p - lr * grads[i]![j]!);
        expectClose(t.data, want, GRAD, `${model.weightNames[i]} after one step`);
      });
      model.dispose();
    });
  }
});

describe('initializers follow Keras', () => {
  it('LSTM: glorot-uniform kernel, orthogonal recurrent kernel, unit forget bias', async () => {
    const I = 3, H = 6;
    const model = rnn.sequential({ layers: [rnn.layers.lstm({ units: H, inputShape: [null, I] })], seed: 9 });
    const [k, u, b] = await model.getWeights();
    const limit = Math.sqrt(6 / (I + 4 * H));
    expect(Array.from(k!.data).every((v) => Math.abs(v) <= limit)).toBe(true);
    // U [H, 4H] has orthonormal rows: U·Uᵀ = I
    const U = Float64Array.from(u!.data);
    const UUt = matmulRef(U, U, H, 4 * H, H, false, true);
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) expect(Math.abs(UUt[i * H + j]! - (i === j ? 1 : 0))).toBeLessThan(1e-5);
    expect(Array.from(b!.data)).toEqual([...Array(H).fill(0), ...Array(H).fill(1), ...Array(2 * H).fill(0)]);
    model.dispose();
  });

  it('GRU resetAfter has a [2, 3H] bias; resetAfter=false a [3H] bias', () => {
    const a = rnn.sequential({ layers: [rnn.layers.gru({ units: 4, inputShape: [null, 2] })] });
    const b = rnn.sequential({ layers: [rnn.layers.gru({ units: 4, resetAfter: false, inputShape: [null, 2] })] });
    expect(a.countParams()).toBe(2 * 12 + 4 * 12 + 2 * 12);
    expect(b.countParams()).toBe(2 * 12 + 4 * 12 + 12);
  });
});

describe('long sequences and the step structure', () => {
  it('T = 1344 (the weather lesson) trains with GRU(16), batch 4, reading back only once per epoch', async () => {
    const T = 1344, I = 3, B = 4;
    const model = rnn.sequential({ layers: [rnn.layers.gru({ units: 16, returnSequences: true, inputShape: [null, I] }), rnn.layers.dense({ units: 1 })], seed: 4 });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = host(randomArray(2 * B * T * I, 31), [2 * B, T, I]);
    const y = host(randomArray(2 * B * T, 32, 0, 1), [2 * B, T, 1]);
    const proto = Object.getPrototypeOf((await rnn.getGpu()).device.createBuffer({ size: 4, usage: 0x1 | 0x8 })) as { mapAsync: (...a: unknown[]) => Promise<void> };
    const original = proto.mapAsync;
    let maps = 0;
    proto.mapAsync = function (this: unknown, ...a: unknown[]) {
      maps++;
      return original.apply(this, a);
    };
    try {
      const h = await model.fit(x, y, { epochs: 2, batchSize: B });
      expect(h.history.loss!.every(Number.isFinite)).toBe(true);
      expect(maps).toBe(2); // one loss readback per epoch, none inside the 4 steps
    } finally {
      proto.mapAsync = original;
    }
    model.dispose();
  });

  it('dispatches per training step do not grow with T (persistent kernels) and saved bytes follow the formula', async () => {
    rnn.setSeed(1);
    const mk = () => {
      const m = rnn.sequential({ layers: [
        rnn.layers.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] }),
        rnn.layers.lstm({ units: 20, returnSequences: true }),
        rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 10 }) }),
      ] });
      m.compile({ optimizer: 'adam', loss: 'mse' });
      return m;
    };
    const m = mk();
    const a = await m.trainingStepInfo([32, 20, 1], [32, 20, 10]);
    const b = await m.trainingStepInfo([32, 50, 1], [32, 50, 10]);
    expect(a.dispatches).toBe(b.dispatches);
    expect(a.dispatches).toBeLessThan(40);
    expect(a.submits).toBe(1);
    // LSTM saves x, h, gates [4H], c per step: 4·B·T·(I + 6H) bytes per layer (src/ops/rnn.ts)
    const B = 32, T = 50, H = 20;
    const lstmBytes = 4 * B * T * (1 + 6 * H) + 4 * B * T * (H + 6 * H);
    expect(b.savedBytes).toBeGreaterThanOrEqual(lstmBytes);
    expect(b.savedBytes).toBeLessThan(lstmBytes * 1.2); // plus the Dense head's inputs/weights
    m.dispose();
  });
});

describe('memory over many training steps', () => {
  it('LSTM(8)×2 → Dense: 100 training steps allocate nothing after the first (pooled bytes and saved bytes flat)', async () => {
    const B = 4, T = 10, I = 2;
    const m = rnn.sequential({ layers: [
      rnn.layers.lstm({ units: 8, returnSequences: true, inputShape: [null, I] }),
      rnn.layers.lstm({ units: 8 }),
      rnn.layers.dense({ units: 1 }),
    ], seed: 5 });
    m.compile({ optimizer: 'adam', loss: 'mse' });
    const x = host(randomArray(B * T * I, 71), [B, T, I]);
    const y = host(randomArray(B, 72), [B, 1]);
    await m.trainOnBatch(x, y);
    const pooled = m.pooledBytes;
    const saved = (await m.trainingStepInfo([B, T, I], [B, 1])).savedBytes;
    const h = await m.fit(host(randomArray(100 * B * T * I, 73), [100 * B, T, I]), host(randomArray(100 * B, 74), [100 * B, 1]), { epochs: 1, batchSize: B, shuffle: false });
    expect(Number.isFinite(h.history.loss![0]!)).toBe(true);
    expect(m.pooledBytes).toBe(pooled);
    expect((await m.trainingStepInfo([B, T, I], [B, 1])).savedBytes).toBe(saved);
    m.dispose();
  });
});

describe('timeLoop: persistent or per-step kernels from the layer API', () => {
  it("'step' trains to the same weights as 'persistent' (one SGD step, LSTM and GRU), with T / 2T dispatches per layer", async () => {
    const B = 3, T = 6, I = 2;
    const x = host(randomArray(B * T * I, 61), [B, T, I]);
    const y = host(randomArray(B, 62), [B, 1]);
    for (const kind of ['lstm', 'gru'] as const) {
      const mk = (timeLoop: 'persistent' | 'step') => {
        const m = rnn.sequential({ layers: [rnn.layers[kind]({ units: 5, timeLoop, inputShape: [null, I] }), rnn.layers.dense({ units: 1 })], seed: 9 });
        m.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
        return m;
      };
      const p = mk('persistent');
      const st = mk('step');
      await st.setWeights(await p.getWeights());
      const dp = (await p.trainingStepInfo([B, T, I], [B, 1])).dispatches;
      const ds = (await st.trainingStepInfo([B, T, I], [B, 1])).dispatches;
      // persistent: 1 chunk each way plus the forward's copy of U by unit → step: T forward, 2T backward
      expect(ds - dp).toBe(T - 2 + (2 * T - 1));
      await p.fit(x, y, { epochs: 1, batchSize: B });
      await st.fit(x, y, { epochs: 1, batchSize: B });
      const [wp, ws] = [await p.getWeights(), await st.getWeights()];
      wp.forEach((w, i) => expectClose(f32(ws[i]!.data), f32(w.data), FORWARD, `${kind} weight ${i}`));
      p.dispose();
      st.dispose();
    }
  });

  it('bad values name the layer; GRU resetAfter=false has no per-step kernels', () => {
    expect(() => rnn.layers.lstm({ units: 2, timeLoop: 'fast' as 'step' })).toThrow(/timeLoop must be 'auto', 'persistent' or 'step', got "fast"/);
    expect(() => rnn.layers.gru({ units: 2, resetAfter: false, timeLoop: 'step' })).toThrow(/timeLoop 'step' has no kernels for resetAfter=false/);
    expect(rnn.layers.simpleRNN({ units: 2 }).timeLoop).toBe('auto');
  });
});

describe('bad input to recurrent layers', () => {
  it('gives clear errors naming the layer and shapes, and leaves the model usable', async () => {
    expect(() => rnn.layers.lstm({ units: 0 })).toThrow(/units must be a positive integer, got 0/);
    expect(() => rnn.layers.gru({ units: -3 })).toThrow(/units must be a positive integer/);
    expect(() => rnn.layers.simpleRNN({ units: 2, activation: 'swish' as 'tanh' })).toThrow(/unknown activation 'swish'/);
    expect(() => rnn.layers.lstm({ units: 2, inputShape: [5] })).toThrow(/inputShape must be \[timeSteps \| null, features\]/);
    const model = rnn.sequential({ layers: [rnn.layers.lstm({ units: 3, name: 'enc', inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })], seed: 3 });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const y = host(new Float64Array(4), [4, 1]);
    await expect(model.fit(host(new Float64Array(4 * 5 * 3), [4, 5, 3]), y)).rejects.toThrow(/input shape \(None, 5, 3\) does not match the model's input \(None, None, 2\) \(layer enc\)/);
    await expect(model.fit(host(new Float64Array(4 * 2), [4, 2]), y)).rejects.toThrow(/does not match/);
    await expect(model.fit({ data: new Float32Array(0), shape: [4, 0, 2] }, y)).rejects.toThrow(/empty data/);
    await expect(model.setWeights([[1]])).rejects.toThrow(/expected 5 arrays \(enc\/kernel, enc\/recurrent_kernel, enc\/bias/);
    const ws = await model.getWeights();
    await expect(model.setWeights([ws[1]!, ...ws.slice(1)])).rejects.toThrow(/enc\/kernel expects shape \[2, 12\], got \[3, 12\]/);
    const h = await model.fit(host(randomArray(4 * 5 * 2, 5), [4, 5, 2]), y, { epochs: 1, batchSize: 2 });
    expect(Number.isFinite(h.history.loss![0]!)).toBe(true);
    model.dispose();
  });
});
