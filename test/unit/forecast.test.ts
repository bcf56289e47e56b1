/**
 * Iterative multi-step forecasting: each prediction is fed back. Checked with models whose output
 * is known in closed form.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';

describe('iterativeForecast', () => {
  it('fixed-length model (Flatten → Dense): the window slides; y = mean of the last 2 values', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.flatten({ inputShape: [3, 1] }), rnn.layers.dense({ units: 1 })], seed: 1 });
    await model.setWeights([[[0], [0.5], [0.5]], [0]]);
    const out = await rnn.iterativeForecast(model, [[[1], [2], [4]], [[0], [0], [8]]], 3);
    expect(out.shape).toEqual([2, 3]);
    // row 0: (2+4)/2 = 3, (4+3)/2 = 3.5, (3+3.5)/2 = 3.25; row 1: 4, 6, 5
    expect(Array.from(out.data)).toEqual([3, 3.5, 3.25, 4, 6, 5]);
    model.dispose();
  });

  it('variable-length RNN: the whole growing sequence is fed; SimpleRNN(1) linear h = x + 0.5 h', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 1, activation: 'linear', inputShape: [null, 1] })], seed: 1 });
    await model.setWeights([[[1]], [[0.5]], [0]]);
    const out = await rnn.iterativeForecast(model, [[[2], [4]]], 2);
    // h over [2, 4] = 2, 5 → pred 5; over [2, 4, 5]: 2, 5, 7.5 → pred 7.5
    expect(Array.from(out.data)).toEqual([5, 7.5]);
    model.dispose();
  });

  it('rejects bad arguments clearly', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 1, inputShape: [null, 1] })], seed: 1 });
    await expect(rnn.iterativeForecast(model, [[[1]]], 0)).rejects.toThrow(/steps must be a positive integer/);
    await expect(rnn.iterativeForecast(model, [[1, 2]], 2)).rejects.toThrow(/x must be \[batch, time, 1\]/);
    model.dispose();
  });
});

/** The forecast as it was computed before streaming: predict on the whole growing sequence, `steps` times. */
async function growingForecast(model: rnn.Sequential, x: rnn.HostTensor, steps: number): Promise<Float32Array> {
  const [B, T] = x.shape as [number, number, number];
  const out = new Float32Array(B * steps);
  let cur = x.data;
  for (let k = 0; k < steps; k++) {
    const t = T + k;
    const pred = await model.predict({ data: cur, shape: [B, t, 1] });
    const next = new Float32Array(B * (t + 1));
    for (let b = 0; b < B; b++) {
      next.set(cur.subarray(b * t, (b + 1) * t), b * (t + 1));
      next[b * (t + 1) + t] = pred.data[b]!;
      out[b * steps + k] = pred.data[b]!;
    }
    cur = next;
  }
  return out;
}

/** Counts compute dispatches (GPUComputePassEncoder.dispatchWorkgroups) while `body` runs. */
async function countDispatches<T>(body: () => Promise<T>): Promise<{ result: T; dispatches: number }> {
  await rnn.getGpu();
  const proto = (globalThis as unknown as { GPUComputePassEncoder: { prototype: { dispatchWorkgroups: (...a: unknown[]) => void } } }).GPUComputePassEncoder.prototype;
  const original = proto.dispatchWorkgroups;
  let dispatches = 0;
  proto.dispatchWorkgroups = function (this: unknown, ...a: unknown[]) {
    dispatches++;
    return original.apply(this, a);
  };
  try {
    return { result: await body(), dispatches };
  } finally {
    proto.dispatchWorkgroups = original;
  }
}

function lstmForecaster(timeLoop: 'auto' | 'step', seed = 7): rnn.Sequential {
  return rnn.sequential({
    layers: [
      rnn.layers.lstm({ units: 20, returnSequences: true, inputShape: [null, 1], timeLoop }),
      rnn.layers.lstm({ units: 20, timeLoop }),
      rnn.layers.dense({ units: 1 }),
    ],
    seed,
  });
}

describe('iterativeForecast at streaming cost', () => {
  const { valid } = rnn.data.chapterData('10-step', { nSeries: 60 }); // windows of 50 steps
  const x: rnn.HostTensor = { data: valid.x.data.slice(0, 12 * valid.x.shape[1]!), shape: [12, valid.x.shape[1]!, 1] };

  it.each(['auto', 'step'] as const)('LSTM(20, 20) → Dense(1), timeLoop %s: the same values as re-running the growing sequence', async (timeLoop) => {
    const model = lstmForecaster(timeLoop);
    const want = await growingForecast(model, x, 10);
    const got = await rnn.iterativeForecast(model, x, 10);
    expect(got.shape).toEqual([12, 10]);
    expect(Array.from(got.data)).toEqual(Array.from(want));
    // in chunks of 5 rows (two plans plus a partial chunk): the same values
    const chunked = await rnn.iterativeForecast(model, x, 10, { batchSize: 5 });
    expect(Array.from(chunked.data)).toEqual(Array.from(got.data));
    model.dispose();
  });

  it('O(steps) work: dispatches grow by one step per extra prediction, independent of the window (timeLoop step: a dispatch per time step)', async () => {
    const model = lstmForecaster('step');
    await rnn.iterativeForecast(model, x, 2); // builds the plans (pipelines compile outside the counts)
    const T = x.shape[1]!;
    const d1 = (await countDispatches(() => rnn.iterativeForecast(model, x, 1))).dispatches; // the window: T steps
    const d10 = (await countDispatches(() => rnn.iterativeForecast(model, x, 10))).dispatches;
    const d20 = (await countDispatches(() => rnn.iterativeForecast(model, x, 20))).dispatches;
    const perStep = (d20 - d10) / 10;
    expect(Number.isInteger(perStep)).toBe(true);
    expect(d10).toBe(d1 + 9 * perStep);
    // a prediction step is a handful of dispatches (per layer its input projection and one time
    // step, then the Dense head), the window T time steps of them
    expect(perStep).toBeLessThanOrEqual(6);
    expect(d1).toBeGreaterThanOrEqual(2 * T);
    // re-running the growing sequence: every prediction re-runs all T + k steps (T = 50: 1120 vs 148)
    const growing = (await countDispatches(() => growingForecast(model, x, 10))).dispatches;
    expect(growing).toBeGreaterThan(7 * d10);
    model.dispose();
  });

  it('keeps a predictStep stream where it was', async () => {
    const model = lstmForecaster('auto');
    const xs = [[0.1], [0.2], [0.3]];
    const a = await model.predictStep(xs);
    await rnn.iterativeForecast(model, x, 3);
    const b = await model.predictStep(xs);
    const fresh = lstmForecaster('auto');
    await fresh.predictStep(xs);
    expect(Array.from(b.data)).toEqual(Array.from((await fresh.predictStep(xs)).data));
    expect(Array.from(b.data)).not.toEqual(Array.from(a.data));
    model.dispose();
    fresh.dispose();
  });

  it('a Bidirectional model re-runs the sequence (it cannot stream); a sequence output is rejected', async () => {
    const bi = rnn.sequential({ layers: [rnn.layers.bidirectional({ layer: rnn.layers.simpleRNN({ units: 3 }), inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 3 });
    expect(Array.from((await rnn.iterativeForecast(bi, x, 3)).data)).toEqual(Array.from(await growingForecast(bi, x, 3)));
    bi.dispose();
    const seq = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 2, returnSequences: true, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 3 });
    await expect(rnn.iterativeForecast(seq, x, 3)).rejects.toThrow(/output \[batch, 1\]/);
    // the model stays usable
    expect((await seq.predict(x)).shape).toEqual([12, 50, 1]);
    seq.dispose();
  });
});
