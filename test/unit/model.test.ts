/**
 * Model-level tests on the real GPU: the optimizers against their float64 references, training
 * of the chapter's linear forecaster, weights in Keras layout, memory that does not grow, and
 * clear errors for bad input that leave the model usable.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { chapterData, naiveForecast, mse as hostMse, sliceRows } from '../../src/data/synthetic';
import { expectClose } from '../helpers/compare';
import { FORWARD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { adamStepRef, sgdStepRef, matmulRef } from '../reference/ops';

const f32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a as ArrayLike<number>));

/** A Dense(1) model on [B, 3] inputs with known weights. */
async function tinyDense(optimizer: rnn.Optimizer, w: Float64Array, b: number) {
  const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [3] })], seed: 1 });
  model.compile({ optimizer, loss: 'mse' });
  await model.setWeights([{ data: Float32Array.from(w), shape: [3, 1] }, { data: Float32Array.from([b]), shape: [1] }]);
  return model;
}

/** Float64 reference of one MSE gradient for Dense(1): returns [dW (3), db]. */
function denseMseGrad(x: Float64Array, y: Float64Array, p: Float64Array, B: number): Float64Array {
  const pred = matmulRef(x, p.subarray(0, 3), B, 3, 1).map((v) => v + p[3]!);
  const g = new Float64Array(4);
  for (let r = 0; r < B; r++) {
    const d = (2 * (pred[r]! - y[r]!)) / B;
    for (let k = 0; k < 3; k++) g[k]! += d * x[r * 3 + k]!;
    g[3]! += d;
  }
  return g;
}

describe('optimizers on the GPU vs float64 references', () => {
  for (const kind of ['adam', 'sgd'] as const) {
    it(`${kind}: three trainOnBatch steps match the reference update (bias correction from step 1)`, async () => {
      const B = 5;
      const x = f32(randomArray(B * 3, 31)), y = f32(randomArray(B, 32));
      const p = f32([...randomArray(3, 33), 0.3]);
      const opt = kind === 'adam' ? rnn.optimizers.adam({ learningRate: 0.01 }) : rnn.optimizers.sgd({ learningRate: 0.1 });
      const model = await tinyDense(opt, p.subarray(0, 3), p[3]!);
      const m = new Float64Array(4), v = new Float64Array(4);
      for (let step = 1; step <= 3; step++) {
        const g = denseMseGrad(x, y, p, B);
        if (kind === 'adam') adamStepRef(p, g, m, v, step, { learningRate: 0.01 });
        else sgdStepRef(p, g, 0.1);
        await model.trainOnBatch({ data: Float32Array.from(x), shape: [B, 3] }, { data: Float32Array.from(y), shape: [B, 1] });
      }
      const [W, bias] = await model.getWeights();
      expectClose([...W!.data, ...bias!.data], p, FORWARD, `${kind} weights after 3 steps`);
      model.dispose();
    });
  }
});

describe('linear forecaster (Flatten + Dense(1)) on the chapter series', () => {
  it('trains: validation MSE falls well below the naive baseline; pooled memory flat over 5 epochs', async () => {
    const data = chapterData('1-step', { nSeries: 3000 });
    rnn.setSeed(42);
    const model = rnn.sequential({ layers: [rnn.layers.flatten({ inputShape: [50, 1] }), rnn.layers.dense({ units: 1 })] });
    model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse' });
    const h1 = await model.fit(data.train.x, data.train.y, { epochs: 1, batchSize: 32, validationData: [data.valid.x, data.valid.y] });
    const bytesAfterFirst = model.pooledBytes;
    const h = await model.fit(data.train.x, data.train.y, { epochs: 5, batchSize: 32, validationData: [data.valid.x, data.valid.y] });
    expect(model.pooledBytes).toBe(bytesAfterFirst);
    const naive = hostMse(naiveForecast(data.valid.x), data.valid.y);
    const valLoss = h.history.val_loss!;
    expect(valLoss.length).toBe(5);
    expect(valLoss.at(-1)!).toBeLessThan(h1.history.val_loss![0]!);
    expect(valLoss.at(-1)!).toBeLessThan(naive / 2);
    // evaluate() and predict() agree with each other and with fit's val_loss
    const ev = (await model.evaluate(data.valid.x, data.valid.y)) as number;
    expect(ev).toBeCloseTo(valLoss.at(-1)!, 6);
    const pred = await model.predict(data.valid.x, { batchSize: 77 });
    expect(pred.shape).toEqual([data.valid.y.shape[0], 1]);
    expect(hostMse(pred, data.valid.y)).toBeCloseTo(ev, 5);
    const before = model.pooledBytes;
    model.dispose();
    expect(model.pooledBytes).toBeLessThan(before); // idle pooled buffers are freed
  });
});

describe('weights in Keras layout', () => {
  it('Dense kernel [in, out] then bias; predict computes x·W + b', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 2, inputShape: [3] })], seed: 3 });
    const W = [1, 2, 3, 4, 5, 6], b = [0.5, -1];
    await model.setWeights([{ data: Float32Array.from(W), shape: [3, 2] }, [0.5, -1]]);
    const ws = await model.getWeights();
    expect(ws.map((w) => w.shape)).toEqual([[3, 2], [2]]);
    expect(model.weightNames).toEqual([`${model.layers[0]!.name}/kernel`, `${model.layers[0]!.name}/bias`]);
    const out = await model.predict([[1, 0, -1], [2, 1, 0]]);
    expect(Array.from(out.data)).toEqual([1 - 5 + 0.5, 2 - 6 - 1, 2 + 3 + 0.5, 4 + 4 - 1]);
    expect(b.length).toBe(2);
    model.dispose();
  });

  it('glorot-uniform kernels within the limit and zero biases, reproducible from the seed', async () => {
    const mk = () => rnn.sequential({ layers: [rnn.layers.dense({ units: 30, inputShape: [20] })], seed: 7 });
    const a = mk(), b = mk();
    const [wa, ba] = await a.getWeights();
    const [wb] = await b.getWeights();
    const limit = Math.sqrt(6 / 50);
    expect(Array.from(wa!.data).every((v) => Math.abs(v) <= limit)).toBe(true);
    expect(Math.max(...Array.from(wa!.data, Math.abs))).toBeGreaterThan(limit * 0.9);
    expect(Array.from(ba!.data).every((v) => v === 0)).toBe(true);
    expect(Array.from(wa!.data)).toEqual(Array.from(wb!.data));
    a.dispose();
    b.dispose();
  });

  it('summary() lists layers, output shapes and parameter counts', () => {
    const model = rnn.sequential({ layers: [rnn.layers.flatten({ inputShape: [50, 1] }), rnn.layers.dense({ units: 1 })] });
    const s = model.summary(null);
    expect(s).toMatch(/Flatten\)\s+\(None, 50\)\s+0/);
    expect(s).toMatch(/Dense\)\s+\(None, 1\)\s+51/);
    expect(s).toMatch(/Total params: 51/);
  });
});

describe('bad input gives clear errors and leaves the model usable', () => {
  it('names the problem for each kind of bad input', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })], seed: 5 });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] };
    const y = { data: new Float32Array([1, 2]), shape: [2, 1] };
    await expect(model.fit(x, { data: new Float32Array(3), shape: [3, 1] })).rejects.toThrow(/x has 2 rows .* y has 3/);
    await expect(model.fit({ data: new Float32Array(6), shape: [2, 3] }, y)).rejects.toThrow(/input shape \(None, 3\) does not match .*\(None, 2\)/);
    await expect(model.fit({ data: new Float32Array(4), shape: [2, 2, 1] }, y)).rejects.toThrow(/does not match/);
    await expect(model.fit({ data: new Float32Array([1, NaN, 3, 4]), shape: [2, 2] }, y)).rejects.toThrow(/NaN .* index \[0, 1\]/);
    await expect(model.fit({ data: new Float32Array([1, Infinity, 3, 4]), shape: [2, 2] }, y)).rejects.toThrow(/Infinity/);
    await expect(model.fit({ data: new Float32Array(0), shape: [0, 2] }, y)).rejects.toThrow(/empty data/);
    await expect(model.fit([], y)).rejects.toThrow(/empty data/);
    await expect(model.fit(x, y, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(model.fit(x, { data: new Float32Array(4), shape: [2, 2] })).rejects.toThrow(/y has shape \[2, 2\] but the model outputs \(None, 1\)/);
    expect(() => model.compile({ optimizer: 'adam', loss: 'mape' as 'mse' })).toThrow(/unknown loss 'mape'/);
    expect(() => model.compile({ optimizer: 'adamax', loss: 'mse' })).toThrow(/unknown optimizer 'adamax'/);
    expect(() => rnn.optimizers.adam({ learningRate: -1 })).toThrow(/learningRate must be/);
    expect(() => rnn.layers.dense({ units: 0 })).toThrow(/units must be a positive integer/);
    await expect(model.setWeights([[1, 2]])).rejects.toThrow(/expected 2 arrays/);
    await expect(model.setWeights([[[1], [2], [3]], [0]])).rejects.toThrow(/kernel expects shape \[2, 1\], got \[3, 1\]/);
    // still usable after every error
    const h = await model.fit(x, y, { epochs: 2, batchSize: 2 });
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});
