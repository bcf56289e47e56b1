/**
 * The per-step time loop at any sequence length (issue 16, reproducer 2): a SimpleRNN with
 * timeLoop 'step' at T = 20,000 trained, then predicted, used to kill the process (exit 139) —
 * every step's dispatch had its own bind group, ~65k of them alive, each holding a memory mapping
 * on lavapipe. Now a layer's per-step dispatches share one bind group per kernel (the step index
 * comes from a dynamic uniform offset), so bind groups do not grow with T.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';
import { randomArray } from '../helpers/rng';

const host = (data: ArrayLike<number>, shape: readonly number[]): HostTensor => ({ data: Float32Array.from(data), shape: [...shape] });

describe("timeLoop 'step' on long sequences", () => {
  it('SimpleRNN at T = 20,000: fit then predict (used to segfault); bind groups do not grow with T', async () => {
    const T = 20_000, B = 2;
    const dev = (await rnn.getGpu()).device;
    const proto = Object.getPrototypeOf(dev) as { createBindGroup: (...a: unknown[]) => unknown };
    const original = proto.createBindGroup;
    let bindGroups = 0;
    proto.createBindGroup = function (this: unknown, ...a: unknown[]) {
      bindGroups++;
      return original.apply(this, a);
    };
    try {
      const m = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 4, timeLoop: 'step', inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 5 });
      m.compile({ optimizer: 'adam', loss: 'mse' });
      const x = host(randomArray(B * T, 1701, -0.1, 0.1), [B, T, 1]);
      const y = host(randomArray(B, 1702), [B, 1]);
      const h = await m.fit(x, y, { epochs: 1, batchSize: B });
      expect(Number.isFinite(h.history.loss![0])).toBe(true);
      const p = await m.predict(x);
      expect(p.shape).toEqual([B, 1]);
      expect(p.data.every(Number.isFinite)).toBe(true);
      expect(bindGroups).toBeLessThan(200); // was > 80,000 (one per step and dispatch)
      m.dispose();
    } finally {
      proto.createBindGroup = original;
    }
  });
});
