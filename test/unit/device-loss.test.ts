/**
 * Device loss (issue 16, reproducer 3: after `device.destroy()` every model, old or new, kept the
 * dead device and calls failed with an AbortError whose message was empty). Now: a fit stops with
 * a DeviceLostError within a bounded time; the weights of its last backup are readable; after
 * `rnn.recover()` the model runs on a new device and `fit({resume: true})` ends the run with the
 * losses and weights of an uninterrupted one; a model made after the loss gets the new device.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';
import { randomArray } from '../helpers/rng';

const host = (data: ArrayLike<number>, shape: readonly number[]): HostTensor => ({ data: Float32Array.from(data), shape: [...shape] });
const N = 64, T = 6, B = 4; // 16 batches per epoch: backups after steps 8 and 16 of each epoch
const x = host(randomArray(N * T, 1901), [N, T, 1]);
const y = host(randomArray(N, 1902), [N, 1]);
const valid = [host(randomArray(8 * T, 1903), [8, T, 1]), host(randomArray(8, 1904), [8, 1])] as [HostTensor, HostTensor];

/** A small LSTM with input dropout (so the random streams must survive too). */
function model() {
  const m = rnn.sequential({ layers: [rnn.layers.lstm({ units: 5, dropout: 0.2, seed: 5, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 19 });
  m.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae'] });
  return m;
}
const fitArgs = { epochs: 3, batchSize: B, validationData: valid };

async function destroyDevice(): Promise<void> {
  (await rnn.getGpu()).device.destroy();
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('device loss during fit', () => {
  it('fit stops with a clear error in < 5 s; the backup is readable; recover() + resume ends like the uninterrupted run', async () => {
    // the uninterrupted run, and its weights after epoch 2's 8th step (where the last backup will be)
    const ref = model();
    let atBackup: HostTensor[] = [];
    const want = await ref.fit(x, y, { ...fitArgs, callbacks: { onBatchEnd: async () => void (ref.optimizer!.iterations === 16 + 8 && (atBackup = await ref.getWeights())) } });
    const wantWeights = await ref.getWeights();
    ref.dispose();

    // the same run, its device destroyed after epoch 2's 14th step (its last backup: after step 8)
    const m = model();
    let lostAt = 0;
    const destroyAt14 = async () => {
      if (m.optimizer!.iterations !== 16 + 14 || lostAt) return;
      lostAt = performance.now();
      await destroyDevice();
    };
    const err = await rejection(m.fit(x, y, { ...fitArgs, callbacks: { onBatchEnd: destroyAt14 } }));
    const detected = performance.now() - lostAt;
    console.log(`device loss detected ${detected.toFixed(0)} ms after destroy(): ${err.message}`);
    expect(err).toBeInstanceOf(rnn.DeviceLostError);
    expect(err.message).toMatch(/sequential\.fit: GPU device lost \(destroyed\)/);
    expect(err.message).toMatch(/after step 8 of epoch 2/);
    expect(err.message).toMatch(/rnn\.recover\(\)/);
    expect(err.message).toMatch(/resume: true/);
    expect(detected).toBeLessThan(5000);

    // readable without a device: the weights of the last backup (after epoch 2's step 8)
    const kept = await m.getWeights();
    expect(atBackup.length).toBe(kept.length);
    kept.forEach((t, i) => expect(Array.from(t.data), `weight ${i}`).toEqual(Array.from(atBackup[i]!.data)));
    expect(await rejection(m.predict(x))).toBeInstanceOf(rnn.DeviceLostError);

    const r = await rnn.recover();
    expect(r.models).toBeGreaterThanOrEqual(1);
    const resumed = await m.fit(x, y, { ...fitArgs, resume: true });
    expect(resumed.epoch).toEqual([0, 1, 2]);
    for (const k of ['loss', 'mae', 'val_loss', 'val_mae']) {
      resumed.history[k]!.forEach((v, i) => expect(Math.abs(v - want.history[k]![i]!), `${k}[${i}]`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
    }
    const got = await m.getWeights();
    got.forEach((t, i) => t.data.forEach((v, j) => expect(Math.abs(v - wantWeights[i]!.data[j]!)).toBeLessThanOrEqual(1e-6)));
    m.dispose();
  });
});

describe('models after a device loss', () => {
  it('every call names the loss; getWeights reads the host copy; after recover() predict gives what it gave before', async () => {
    const m = model();
    await m.fit(x, y, { epochs: 1, batchSize: B });
    const before = await m.predict(x);
    const w = await m.getWeights();
    await destroyDevice();
    await new Promise((r) => setTimeout(r, 20)); // the device's lost promise settles
    for (const [name, call] of [['predict', () => m.predict(x)], ['evaluate', () => m.evaluate(x, y)], ['trainOnBatch', () => m.trainOnBatch(x, y)], ['setWeights', () => m.setWeights(w)]] as const) {
      const e = await rejection(call() as Promise<unknown>);
      expect(e, name).toBeInstanceOf(rnn.DeviceLostError);
      expect(e.message, name).toMatch(new RegExp(`sequential\\.${name}: GPU device lost \\(destroyed\\).*recover`));
    }
    const kept = await m.getWeights();
    kept.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(w[i]!.data)));
    await rnn.recover();
    const after = await m.predict(x);
    expect(Array.from(after.data)).toEqual(Array.from(before.data));
    m.dispose();
  });

  it('a model made after the loss trains on a new device without recover()', async () => {
    await destroyDevice();
    await new Promise((r) => setTimeout(r, 20));
    const m = model();
    const h = await m.fit(x, y, { epochs: 1, batchSize: B });
    expect(Number.isFinite(h.history.loss![0])).toBe(true);
    expect((await rnn.getGpu()).isLost).toBe(false);
    m.dispose();
  });

  it('resume: true without an interrupted run is refused', async () => {
    const m = model();
    await m.fit(x, y, { epochs: 1, batchSize: B });
    expect((await rejection(m.fit(x, y, { epochs: 1, batchSize: B, resume: true }))).message).toMatch(/no interrupted run to resume/);
    m.dispose();
  });
});
