/**
 * Custom recurrent cells (src/layers/cells.ts: rnn.layers.rnn({ cell }) and LNSimpleRNNCell, the
 * chapter's layer-normalized SimpleRNN cell) through the layer, on the real GPU: against the float64
 * reference of test/reference/cells.ts (finite-difference checked in test/reference/cells.test.ts),
 * chapter experiment J's model, the choice between fused kernels and the step-by-step fallback (and
 * its reason), a user-written GRU against the built-in GRU in training with dropout and masking, the
 * dispatch count against T and what a training step does not do. The compiler itself:
 * cell-rnn.test.ts. Sizes are small: the software Vulkan driver is slow.
 */
import { describe, it, expect, vi } from 'vitest';
import * as rnn from '../../src/index';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { lnCellForwardRef, lnCellBackwardRef, randomLnCellWeights } from '../reference/cells';
import { GRUFromOps, MGUFromOps, UntraceableCell } from '../helpers/custom-cells';

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

  it('bad input: not a cell, a cell returning the wrong shape, a bad fused option', async () => {
    expect(() => rnn.layers.rnn({ cell: rnn.layers.dense({ units: 2 }) as unknown as rnn.RecurrentCell, name: 'r1' })).toThrow(/r1: 'cell' must be a recurrent cell/);
    expect(() => rnn.layers.lnSimpleRNNCell({ units: 0 })).toThrow(/lnSimpleRNNCell: units must be a positive integer, got 0/);
    expect(() => rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 2 }), fused: 'yes' as never, name: 'r0' })).toThrow(/r0: fused must be/);
    expect(() => rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 2 }), dropout: 1, name: 'r0' })).toThrow(/r0: dropout must be a number in \[0, 1\)/);
    const bad: rnn.RecurrentCell = {
      className: 'BadCell', stateSize: [3], outputSize: 3,
      weightSpecs: () => [],
      step: async (_g, x, states) => ({ output: x, states: [...states] }),
      getConfig: () => ({}),
    };
    for (const fused of [true, false]) {
      const m1 = rnn.sequential({ layers: [rnn.layers.rnn({ cell: bad, name: 'r2', inputShape: [null, 2], fused })] });
      await expect(m1.predict(host(new Float64Array(8), [2, 2, 2]))).rejects.toThrow(/r2: BadCell\.step returned an output of shape \[2, 2\], expected \[2, 3\]/);
      m1.dispose();
    }
  });
});

describe('custom cells: fused kernels or step by step', () => {
  it('a cell outside cellOps runs step by step and says why (once); fused: true refuses it; masking and dropout need the fused kernels', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const layer = rnn.layers.rnn({ cell: new UntraceableCell(3), returnSequences: true, inputShape: [null, 2], name: 'slow' });
      const m = rnn.sequential({ layers: [layer], seed: 3 });
      const out = await m.predict(host(randomArray(8, 151), [2, 2, 2]));
      expect(out.shape).toEqual([2, 2, 3]);
      await m.predict(host(randomArray(8, 152), [2, 2, 2]));
      expect(layer.fusion).toEqual({ fused: false, reason: expect.stringMatching(/UntraceableCell\.step calls an op outside rnn\.cellOps/) });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/slow: UntraceableCell runs step by step \(T × its ops dispatches\), not as fused kernels: UntraceableCell\.step calls an op outside rnn\.cellOps/);
      m.dispose();
      const forced = rnn.sequential({ layers: [rnn.layers.rnn({ cell: new UntraceableCell(3), inputShape: [null, 2], name: 'forced', fused: true })] });
      await expect(forced.predict(host(randomArray(8, 153), [2, 2, 2]))).rejects.toThrow(/forced: fused: true, but UntraceableCell\.step calls an op outside rnn\.cellOps/);
      forced.dispose();
      const masked = rnn.sequential({ layers: [rnn.layers.masking({ inputShape: [null, 2] }), rnn.layers.rnn({ cell: new UntraceableCell(3), name: 'm3' })] });
      await expect(masked.predict(host(randomArray(8, 154), [2, 2, 2]))).rejects.toThrow(/m3: masking needs the fused kernels; UntraceableCell \(it runs step by step: UntraceableCell\.step calls an op outside rnn\.cellOps/);
      masked.dispose();
    } finally {
      warn.mockRestore();
    }
  });

  it('a minimal gated unit (concat, sub, scale, x_t inside the step, a matmul of a computed value, a sliced output): fused kernels equal its ops step by step, forward and every gradient', async () => {
    const I = 3, H = 4, B = 3, T = 5;
    const x = f32(randomArray(B * T * I, 161, -1.5, 1.5));
    const cell = new MGUFromOps(H);
    const specs = cell.weightSpecs(I);
    const wv = specs.map((s, i) => f32(randomArray(s.shape.reduce((a, b) => a * b, 1), 162 + i, -0.7, 0.7)));
    const ctx = await gpuContext();
    const results: Float64Array[][] = [];
    for (const fused of [true, false]) {
      const layer = rnn.layers.rnn({ cell, returnSequences: true, fused });
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, I], x, true, 'x');
      const ws = specs.map((s, i) => input(g, [...s.shape], wv[i]!, true, s.name));
      const y = await layer.call(g, xt, ws);
      expect(y.shape).toEqual([B, T, H / 2]);
      expect(layer.fusion?.fused).toBe(fused);
      await g.backward(await weightedSum(g, y, f32(randomArray(y.size, 170))));
      results.push(await run(g, y, g.grad(xt), ...ws.map((t) => g.grad(t))));
      g.dispose();
    }
    const names = ['outputs', 'dX', ...specs.map((s) => `d${s.name}`)];
    results[0]!.forEach((a, i) => expectClose(a, results[1]![i]!, i === 0 ? FORWARD : GRAD, `${names[i]} (fused vs step by step)`));
  });

  it('a GRU written from cellOps trains like the built-in GRU: same masks drawn for dropout, same weights after 3 SGD steps with masking', async () => {
    const I = 2, H = 5, B = 4, T = 6;
    const make = (custom: boolean) => {
      const common = { returnSequences: true, dropout: 0.25, recurrentDropout: 0.3, seed: 77 };
      const rec = custom ? rnn.layers.rnn({ cell: new GRUFromOps(H), ...common }) : rnn.layers.gru({ units: H, ...common });
      const m = rnn.sequential({ layers: [rnn.layers.masking({ maskValue: 0, inputShape: [null, I] }), rec, rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 1 }) })], seed: 5 });
      m.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
      return m;
    };
    const xs = randomArray(3 * B * T * I, 181);
    for (const i of [2, 3, 14, 15, 40, 41, 66, 67, 100, 101]) xs[i] = 0; // masked steps
    const x = host(xs, [3 * B, T, I]), y = host(randomArray(3 * B * T, 182), [3 * B, T, 1]);
    const custom = make(true), builtin = make(false);
    await builtin.build([null, I]);
    await custom.build([null, I]);
    await custom.setWeights(await builtin.getWeights());
    await custom.fit(x, y, { epochs: 1, batchSize: B, shuffle: false });
    await builtin.fit(x, y, { epochs: 1, batchSize: B, shuffle: false });
    const [a, b] = [await custom.getWeights(), await builtin.getWeights()];
    a.forEach((w, i) => expectClose(w.data, b[i]!.data, GRAD, `weight ${i} after training`));
    custom.dispose();
    builtin.dispose();
  });

  it('the chapter\'s LN model: dispatches per training step do not grow with T within a 64-step chunk, and a step creates no pipeline or bind group and reads nothing back', async () => {
    const model = (fused: boolean) => {
      const m = rnn.sequential({
        layers: [
          rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true, inputShape: [null, 1], fused }),
          rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true, fused }),
          rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 10 }) }),
        ],
        seed: 9,
      });
      m.compile({ optimizer: 'adam', loss: 'mse' });
      return m;
    };
    const m = model(true);
    const steps = async (T: number) => (await m.trainingStepInfo([32, T, 1], [32, T, 10])).dispatches;
    const [d20, d50, d70] = [await steps(20), await steps(50), await steps(70)];
    expect(d20).toBe(d50);
    expect(d70).toBe(d50 + 4); // one more chunk of steps forward and backward, in each of the 2 layers
    const slow = model(false);
    expect((await slow.trainingStepInfo([32, 20, 1], [32, 20, 10])).dispatches).toBeGreaterThan(20 * d20); // step by step: T × the ops
    slow.dispose();
    const B = 4, T = 12;
    const x = host(randomArray(3 * B * T, 191), [3 * B, T, 1]), y = host(randomArray(3 * B * T * 10, 192), [3 * B, T, 10]);
    await m.fit(x, y, { epochs: 1, batchSize: B }); // builds the plan, compiles the pipelines
    const dev = (await rnn.getGpu()).device;
    const counts = { pipelines: 0, bindGroups: 0, maps: 0 };
    const wrap = (proto: Record<string, unknown>, method: string, key: keyof typeof counts) => {
      const orig = proto[method] as (...a: unknown[]) => unknown;
      proto[method] = function (this: unknown, ...a: unknown[]) {
        counts[key]++;
        return orig.apply(this, a);
      };
      return () => (proto[method] = orig);
    };
    const devProto = Object.getPrototypeOf(dev) as Record<string, unknown>;
    const bufProto = Object.getPrototypeOf(dev.createBuffer({ size: 4, usage: 0x1 | 0x8 })) as Record<string, unknown>;
    const restore = [wrap(devProto, 'createComputePipeline', 'pipelines'), wrap(devProto, 'createComputePipelineAsync', 'pipelines'), wrap(devProto, 'createBindGroup', 'bindGroups'), wrap(bufProto, 'mapAsync', 'maps')];
    try {
      const h = await m.fit(x, y, { epochs: 1, batchSize: B }); // 3 training steps
      expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    } finally {
      restore.forEach((r) => r());
    }
    expect(counts).toEqual({ pipelines: 0, bindGroups: 0, maps: 1 }); // the epoch's one loss readback
    m.dispose();
  });
});
