/**
 * Custom recurrent cells (src/layers/cells.ts: rnn.layers.rnn({ cell }) and LNSimpleRNNCell, the
 * chapter's layer-normalized SimpleRNN cell), stepped through time with the sequence ops
 * takeStep / putStep, on the real GPU against the float64 reference of test/reference/cells.ts
 * (finite-difference checked in test/reference/cells.test.ts): forward and every gradient through
 * time, chapter experiment J's model, and errors. Sizes are small: the software Vulkan driver is slow.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { lnCellForwardRef, lnCellBackwardRef, randomLnCellWeights } from '../reference/cells';

const host = (a: ArrayLike<number>, shape: readonly number[]) => ({ data: Float32Array.from(a as ArrayLike<number>), shape });

describe('custom cells: RNN(LNSimpleRNNCell), the chapter\'s layer-normalized cell', () => {
  const I = 3, H = 4, B = 2, T = 4;

  for (const returnSequences of [true, false]) {
    it(`returnSequences=${returnSequences}: forward and every gradient through time (x, kernel, recurrent kernel, bias, gamma, beta) match the reference`, async () => {
      const w = randomLnCellWeights(I, H, 131);
      const x = f32(randomArray(B * T * I, 132, -2, 2));
      const r = f32(randomArray((returnSequences ? B * T : B) * H, 133));
      const layer = rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: H }), returnSequences });
      expect(layer.weightSpecs([T, I]).map((s) => s.name)).toEqual(['simple_rnn_cell/kernel', 'simple_rnn_cell/recurrent_kernel', 'simple_rnn_cell/bias', 'layer_normalization/gamma', 'layer_normalization/beta']);
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, I], x, true, 'x');
      const ws = [input(g, [I, H], w.kernel, true), input(g, [H, H], w.recurrentKernel, true), input(g, [H], w.bias, true), input(g, [H], w.gamma, true), input(g, [H], w.beta, true)];
      const y = await layer.call(g, xt, ws);
      expect(y.shape).toEqual(returnSequences ? [B, T, H] : [B, H]);
      await g.backward(await weightedSum(g, y, r));
      const [out, dX, dK, dU, dB, dGamma, dBeta] = await run(g, y, g.grad(xt), ...ws.map((t) => g.grad(t)));
      g.dispose();
      const ref = lnCellForwardRef(w, x, B, T, I, H);
      let dHSeq = r;
      if (!returnSequences) {
        dHSeq = new Float64Array(B * T * H);
        for (let b = 0; b < B; b++) dHSeq.set(r.subarray(b * H, (b + 1) * H), (b * T + T - 1) * H);
      }
      const want = returnSequences ? ref.hSeq : Float64Array.from({ length: B * H }, (_, i) => ref.hSeq[(Math.floor(i / H) * T + T - 1) * H + (i % H)]!);
      expectClose(out!, want, FORWARD, 'outputs');
      const gr = lnCellBackwardRef(w, x, B, T, I, H, dHSeq);
      expectClose(dX!, gr.x, GRAD, 'dX');
      expectClose(dK!, gr.kernel, GRAD, 'dKernel');
      expectClose(dU!, gr.recurrentKernel, GRAD, 'dRecurrentKernel');
      expectClose(dB!, gr.bias, GRAD, 'dBias');
      expectClose(dGamma!, gr.gamma, GRAD, 'dGamma');
      expectClose(dBeta!, gr.beta, GRAD, 'dBeta');
    });
  }

  it('chapter experiment J: RNN(LN cell 20, seq) ×2 → TimeDistributed(Dense(10)) builds with Keras\'s parameter count, trains, and streams with predictStep', async () => {
    const T = 6, N = 8;
    const model = rnn.sequential({
      layers: [
        rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true, inputShape: [null, 1] }),
        rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true }),
        rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 10 }) }),
      ],
      seed: 42,
    });
    // per cell: kernel I·20 + recurrent 400 + bias 20 + gamma 20 + beta 20
    expect(model.countParams()).toBe(1 * 20 + 400 + 60 + (20 * 20 + 400 + 60) + (20 * 10 + 10));
    model.compile({ optimizer: 'adam', loss: 'mse' });
    const x = host(randomArray(N * T, 141), [N, T, 1]), y = host(randomArray(N * T * 10, 142), [N, T, 10]);
    const h = await model.fit(x, y, { epochs: 2, batchSize: 4 });
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    const xs = randomArray(2 * T, 143);
    const whole = await model.predict(host(xs, [2, T, 1]));
    for (let t = 0; t < T; t++) {
      const out = await model.predictStep(host([xs[t]!, xs[T + t]!], [2, 1]));
      for (let b = 0; b < 2; b++) expectClose(out.data.subarray(b * 10, (b + 1) * 10), whole.data.subarray((b * T + t) * 10, (b * T + t + 1) * 10), FORWARD, `step ${t} row ${b}`);
    }
    model.dispose();
  });

  it('bad input: not a cell, a cell returning the wrong shape, masking', async () => {
    expect(() => rnn.layers.rnn({ cell: rnn.layers.dense({ units: 2 }) as unknown as rnn.RecurrentCell, name: 'r1' })).toThrow(/r1: 'cell' must be a recurrent cell/);
    expect(() => rnn.layers.lnSimpleRNNCell({ units: 0 })).toThrow(/lnSimpleRNNCell: units must be a positive integer, got 0/);
    const bad: rnn.RecurrentCell = {
      className: 'BadCell', stateSize: [3], outputSize: 3,
      weightSpecs: () => [],
      step: async (_g, x, states) => ({ output: x, states: [...states] }),
      getConfig: () => ({}),
    };
    const m1 = rnn.sequential({ layers: [rnn.layers.rnn({ cell: bad, name: 'r2', inputShape: [null, 2] })] });
    await expect(m1.predict(host(new Float64Array(8), [2, 2, 2]))).rejects.toThrow(/r2: BadCell\.step returned an output of shape \[2, 2\], expected \[2, 3\]/);
    m1.dispose();
    const m2 = rnn.sequential({ layers: [rnn.layers.masking({ inputShape: [null, 1] }), rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 2 }), name: 'r3' })] });
    await expect(m2.predict(host(new Float64Array(4), [2, 2, 1]))).rejects.toThrow(/r3: custom cells \(LNSimpleRNNCell\) do not support masking/);
    m2.dispose();
  });
});
