/**
 * Device limits checked up front (issue 16, reproducer 9): predict refused > 128 MiB of total
 * output although every batch fitted; an LSTM(4096) gave a raw GPU validation error; units: 1e6
 * gave "Invalid typed array length"; too-big weights were met with "use a smaller batch or
 * sequence length". Now predict gathers its output in chunks, and whatever cannot fit is refused
 * from the shapes alone — before any weight is initialised or any GPU work — naming the limit,
 * the tensor and what to change.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';
import { randomArray } from '../helpers/rng';

const host = (data: ArrayLike<number>, shape: readonly number[]): HostTensor => ({ data: Float32Array.from(data), shape: [...shape] });

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return 'did not throw';
}

describe('limits checked up front', () => {
  it('predict of more than maxStorageBufferBindingSize in all works (each batch fits): 8,300 rows × 4,096 outputs = 130 MiB', async () => {
    const N = 8300, U = 4096;
    const limit = (await rnn.getGpu()).device.limits.maxStorageBufferBindingSize;
    expect(N * U * 4).toBeGreaterThan(limit); // (on this adapter: 128 MiB)
    const m = rnn.sequential({ layers: [rnn.layers.dense({ units: U, inputShape: [1] })], seed: 3 });
    const x = host(randomArray(N, 2001), [N, 1]);
    const y = await m.predict(x, { batchSize: 512 });
    expect(y.shape).toEqual([N, U]);
    const [w, b] = await m.getWeights();
    for (const r of [0, 511, 512, 4097, N - 1]) {
      for (const c of [0, 7, U - 1]) expect(y.data[r * U + c]).toBeCloseTo(Math.fround(x.data[r]!) * w!.data[c]! + b!.data[c]!, 5);
    }
    m.dispose();
  });

  it('LSTM(4096): refused before its weights are made, naming the weight, the limit and "fewer units" (not the batch)', async () => {
    const m = rnn.sequential({ layers: [rnn.layers.lstm({ units: 4096, inputShape: [null, 1] })] });
    const t0 = performance.now();
    const msg = await message(m.predict(host([1, 2, 3], [1, 3, 1])));
    expect(performance.now() - t0).toBeLessThan(20_000); // no 16384 × 4096 orthogonal initialisation first
    expect(msg).toMatch(/lstm[_0-9]*\/recurrent_kernel \[4096, 16384\] is 256 MiB, over this device's maxStorageBufferBindingSize \(128 MiB\)/);
    expect(msg).toMatch(/fewer units/);
    expect(msg).not.toMatch(/use a smaller batch|shorter sequences/);
    expect(m.weightNames).toEqual([]); // nothing was built
  });

  it('units: 1e6 is refused with the same clear error (it was "Invalid typed array length")', async () => {
    const m = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 1e6, inputShape: [null, 1] })] });
    const msg = await message(m.predict(host([1, 2], [1, 2, 1])));
    expect(msg).toMatch(/simple_rnn[_0-9]*\/kernel \[1, 1000000\]|recurrent_kernel \[1000000, 1000000\]/);
    expect(msg).toMatch(/maxStorageBufferBindingSize/);
  });

  it("a batch whose tensors do not fit is refused before any GPU work, naming the tensor and the batch size that fits", async () => {
    const m = rnn.sequential({ layers: [rnn.layers.lstm({ units: 512, returnSequences: true, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 4 });
    m.compile({ optimizer: 'adam', loss: 'mse' });
    await m.build(); // weights fit: 512 units are fine
    const T = 4000, B = 64;
    const x = { data: new Float32Array(B * T), shape: [B, T, 1] };
    const msg = await message(m.predict(x, { batchSize: B }));
    // gates [64, 4000, 2048] = 2 GiB per batch; 128 MiB / (4000 · 2048 · 4 bytes) = 4 rows
    expect(msg).toMatch(/sequential\.predict: lstm[_0-9]*'s gates at every step for a batch of 64 is \[64, 4000, 2048\], 1\.95 GiB, over this device's maxStorageBufferBindingSize \(128 MiB\); use batchSize 4 or less, or shorter sequences/);
    const y = { data: new Float32Array(B * T), shape: [B, T, 1] };
    expect(await message(m.fit(x, y, { batchSize: B }))).toMatch(/sequential\.fit: .*use batchSize 4 or less/);
    // the model stays usable
    expect((await m.predict(host(randomArray(2 * 5, 7), [2, 5, 1]))).shape).toEqual([2, 5, 1]);
    m.dispose();
  });

  it('training binds all weights at once: refused when they do not fit one binding (inference still works)', async () => {
    // two Dense kernels of 72 MiB each: each fits a binding, both (144 MiB) do not
    const m = rnn.sequential({ layers: [rnn.layers.dense({ units: 6000, kernelInitializer: 'zeros', inputShape: [3000] }), rnn.layers.dense({ units: 3000, kernelInitializer: 'zeros' })], seed: 5 });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = host(randomArray(2 * 3000, 8), [2, 3000]);
    expect((await m.predict(x)).shape).toEqual([2, 3000]);
    const msg = await message(m.fit(x, host(new Float32Array(2 * 3000), [2, 3000])));
    expect(msg).toMatch(/sequential\.fit: training binds all 137 MiB of weights at once .*maxStorageBufferBindingSize \(128 MiB\); use fewer units/);
    m.dispose();
  });
});
