/**
 * A model's lifecycle (issue 16, reproducers 1 and 7): a disposed model — and the layers whose
 * weights it freed — refuse every call with an error that says so (never fresh random weights),
 * and calls that would change a model while fit runs are refused as busy, or, between steps (from
 * callbacks), take effect at the next step without corrupting the run.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';
import { randomArray } from '../helpers/rng';
import { expectClose } from '../helpers/compare';
import { FORWARD } from '../helpers/tolerances';

const host = (data: ArrayLike<number>, shape: readonly number[]): HostTensor => ({ data: Float32Array.from(data), shape: [...shape] });
const B = 4, T = 5;
const x = host(randomArray(4 * B * T, 1601), [4 * B, T, 1]);
const y = host(randomArray(4 * B, 1602), [4 * B, 1]);

function tiny(seed = 7) {
  const m = rnn.sequential({ layers: [rnn.layers.lstm({ units: 3, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed });
  m.compile({ optimizer: 'adam', loss: 'mse' });
  return m;
}

async function message(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return (e as Error).message;
  }
  return 'did not throw';
}

describe('a disposed model', () => {
  it('refuses every call with a clear error (reproducer 1: it used to come back with fresh random weights)', async () => {
    const m = tiny();
    await m.fit(x, y, { epochs: 3, batchSize: B });
    const w = await m.getWeights();
    m.dispose();
    m.dispose(); // a second dispose does nothing
    const calls: [string, () => unknown][] = [
      ['predict', () => m.predict(x)],
      ['fit', () => m.fit(x, y, { epochs: 1 })],
      ['evaluate', () => m.evaluate(x, y)],
      ['evaluateLogs', () => m.evaluateLogs(x, y)],
      ['getWeights', () => m.getWeights()],
      ['setWeights', () => m.setWeights(w)],
      ['trainOnBatch', () => m.trainOnBatch(x, y)],
      ['gradients', () => m.gradients(x, y)],
      ['predictStep', () => m.predictStep(host([1, 2, 3, 4], [4, 1]))],
      ['trainingStepInfo', () => m.trainingStepInfo([B, T, 1], [B, 1])],
      ['build', () => m.build()],
      ['compile', () => m.compile({ optimizer: 'sgd', loss: 'mse' })],
      ['resetStates', () => m.resetStates()],
      ['fitDataset', () => m.fitDataset(() => ({ x, y }), { batchesPerEpoch: 1 })],
    ];
    for (const [name, call] of calls) expect(await message(call), name).toMatch(new RegExp(`sequential\\.${name.replace('Logs', '')}: the model was disposed`));
  });

  it('its layers refuse to be built again (no silent fresh weights) and their stored state is gone', async () => {
    const m = tiny();
    await m.predictStep(host([0.1, 0.2, 0.3, 0.4], [4, 1]));
    const lstm = m.layers[0] as rnn.LSTM;
    m.dispose();
    const again = rnn.sequential({ layers: m.layers as rnn.Layer[] });
    expect(await message(again.predict(x))).toMatch(/lstm.*disposed.*create new layers/);
    expect(await message(lstm.getState())).toMatch(/disposed/);
    expect(await message(lstm.setState(host([0, 0, 0], [1, 3]), host([0, 0, 0], [1, 3])))).toMatch(/disposed/);
  });

  it('an inference model sharing the weights keeps them alive until it is disposed too', async () => {
    const m = tiny();
    await m.fit(x, y, { epochs: 1, batchSize: B });
    const w = await m.getWeights();
    const inference = rnn.sequential({ layers: m.layers as rnn.Layer[] });
    await inference.predict(x);
    m.dispose();
    const kept = await inference.getWeights();
    kept.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(w[i]!.data)));
    inference.dispose();
    expect(await message(rnn.sequential({ layers: m.layers as rnn.Layer[] }).getWeights())).toMatch(/disposed/);
  });
});

describe('calls during fit (reproducer 7)', () => {
  it('compile, dispose and a training call from a callback are refused as busy; fit finishes and the model stays usable', async () => {
    const m = tiny();
    const seen: Record<string, string> = {};
    const h = await m.fit(x, y, {
      epochs: 2,
      batchSize: B,
      callbacks: {
        onBatchEnd: async (b) => {
          if (b !== 1 || seen.compile) return;
          seen.compile = await message(() => m.compile({ optimizer: 'sgd', loss: 'mse' }));
          seen.dispose = await message(() => m.dispose());
          seen.trainOnBatch = await message(m.trainOnBatch(x, y));
          seen.fit = await message(m.fit(x, y));
        },
      },
    });
    for (const k of ['compile', 'dispose', 'trainOnBatch', 'fit']) expect(seen[k], k).toMatch(new RegExp(`sequential\\.${k}: the model is busy with fit`));
    expect(h.history.loss!.length).toBe(2);
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    expect((await m.predict(x)).data.every(Number.isFinite)).toBe(true);
    m.dispose();
  });

  it('setWeights, compile and dispose from outside while a step runs are refused as busy; nothing changes', async () => {
    const m = tiny();
    await m.build();
    const w0 = await m.getWeights();
    const zeros = w0.map((t) => host(new Float32Array(t.data.length), t.shape));
    const run = m.fit(x, y, { epochs: 2, batchSize: B });
    expect(await message(m.setWeights(zeros))).toMatch(/setWeights: the model is busy with fit/);
    expect(await message(() => m.compile({ optimizer: 'sgd', loss: 'mse' }))).toMatch(/compile: the model is busy with fit/);
    expect(await message(() => m.dispose())).toMatch(/dispose: the model is busy with fit/);
    await run;
    const after = await m.getWeights();
    expect(after.some((t) => t.data.some((v) => v !== 0))).toBe(true);
    // the run equals an undisturbed one with the same seed
    const ref = tiny();
    await ref.fit(x, y, { epochs: 2, batchSize: B });
    const want = await ref.getWeights();
    after.forEach((t, i) => expectClose(t.data, want[i]!.data, FORWARD, `weight ${i}`));
    m.dispose();
    ref.dispose();
  });

  it('setWeights from a callback between steps takes effect at the next step (same as stopping, setting and fitting again)', async () => {
    const set = (ws: HostTensor[]) => ws.map((t, i) => host(t.data.map((v, j) => 0.1 * Math.sin(i + j) + v * 0.5), t.shape));
    const a = tiny(11);
    await a.build();
    const w0 = set(await a.getWeights());
    await a.fit(x, y, { epochs: 2, batchSize: B, shuffle: false, callbacks: { onEpochEnd: async (e) => (e === 0 ? a.setWeights(w0) : undefined) } });
    const b = tiny(11);
    await b.fit(x, y, { epochs: 1, batchSize: B, shuffle: false });
    await b.setWeights(w0);
    await b.fit(x, y, { epochs: 1, batchSize: B, shuffle: false });
    const [wa, wb] = [await a.getWeights(), await b.getWeights()];
    wa.forEach((t, i) => expectClose(t.data, wb[i]!.data, FORWARD, `weight ${i}`));
    a.dispose();
    b.dispose();
  });
});
