/**
 * The sequence ops around the recurrent op (src/ops/sequence.ts, shaders/sequence.wgsl) on the
 * real GPU against their float64 references (test/reference/sequence.ts, gradient-checked in
 * test/reference/sequence.test.ts): the dropout masks (the documented PCG hash, bit for bit), the
 * broadcast mask multiply (maskMulInto, applyMask) and its backward, Keras Masking's step mask,
 * Bidirectional's merge in every mode (with and without a step mask) and its backward, and the
 * single time steps of custom cells (takeStep, putStep), each the other's backward, the time
 * reversal of go_backwards outputs (reverseTime) and Keras RepeatVector (repeatSteps). Small sizes
 * (B=3 T=4 F=5); the layers that use these ops are tested in recurrent.test.ts and cells.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD, EXACT } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import {
  bidiMergeRef,
  bidiMergeBackwardRef,
  dropoutMaskRef,
  gaussianNoiseRef,
  maskMulRef,
  maskMulBackwardRef,
  stepMaskRef,
  takeStepRef,
  putStepRef,
  reverseTimeRef,
  repeatStepsRef,
  repeatStepsBackwardRef,
  type MergeMode,
} from '../reference/sequence';
import * as rnn from '../../src/index';
import { gaussianNoise, dropoutMask, advanceRng, maskMulInto, applyMask, stepMask, bidirectionalMerge, takeStep, putStep, reverseTime, repeatSteps } from '../../src/ops/sequence';
import { add } from '../../src/ops/elementwise';
import type { Tensor } from '../../src/tensor';

const B = 3, T = 4, F = 5;

/** The sum of the loss terms (at least one). */
async function total(g: Graph, terms: Tensor[]): Promise<Tensor> {
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = await add(g, loss, t);
  return loss;
}

describe('dropout masks', () => {
  it('GPU masks: values 0 or 1/(1-rate), the documented PCG hash, new masks after every step', async () => {
    const ctx = await gpuContext();
    const n = 4000, rate = 0.3, seed = 99;
    const rng = ctx.device.createBuffer({ size: 16, usage: 0x80 | 0x04 | 0x08 });
    const g = new Graph(ctx, false);
    const m0 = g.alloc([n], 'm0'), m1 = g.alloc([n], 'm1');
    await dropoutMask(g, m0, rate, seed, 0, rng);
    await dropoutMask(g, m1, rate, seed, 1, rng);
    await advanceRng(g, rng);
    const [a0, a1] = await run(g, m0, m1);
    const [b0] = await run(g, m0);
    g.dispose();
    rng.destroy();
    expectClose(a0!, dropoutMaskRef(n, rate, seed, 0, 0), EXACT, 'mask, stream 0, step 0');
    expectClose(a1!, dropoutMaskRef(n, rate, seed, 1, 0), EXACT, 'mask, stream 1, step 0');
    expectClose(b0!, dropoutMaskRef(n, rate, seed, 0, 1), EXACT, 'mask, stream 0, step 1');
    const zeros = a0!.filter((v) => v === 0).length;
    expect(Math.abs(zeros / n - rate)).toBeLessThan(0.03);
    expect(a0!.every((v) => v === 0 || v === Math.fround(1 / (1 - rate)))).toBe(true);
    expect(a0!.some((v, i) => v !== b0![i])).toBe(true);
    expect(a0!.some((v, i) => v !== a1![i])).toBe(true);
  });
});

describe('mask multiply', () => {
  for (const per of ['step', 'feature'] as const) {
    it(`applyMask per ${per}: y = x ⊙ mask, and dx accumulates dy ⊙ mask onto x's other gradient`, async () => {
      const x = f32(randomArray(B * T * F, 1, -2, 2));
      const mask = f32(randomArray(per === 'step' ? B * T : B * F, 2, 0, 2));
      const r1 = f32(randomArray(B * T * F, 3)), r2 = f32(randomArray(B * T * F, 4));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, T, F], x, true, 'x');
      const y = await applyMask(g, xt, input(g, per === 'step' ? [B, T] : [B, F], mask), per);
      expect(y.shape).toEqual([B, T, F]);
      // loss = Σ r1 ⊙ applyMask(x) + Σ r2 ⊙ x: dx = r1 ⊙ mask + r2
      await g.backward(await total(g, [await weightedSum(g, y, r1), await weightedSum(g, xt, r2)]));
      const [yo, dx] = await run(g, y, g.grad(xt));
      g.dispose();
      expectClose(yo!, maskMulRef(x, mask, B, T, F, per), FORWARD, 'y');
      expectClose(dx!, maskMulBackwardRef(r1, mask, B, T, F, per).map((d, i) => d + r2[i]!), GRAD, 'dx');
    });
  }

  it('maskMulInto with accumulate: out += x ⊙ mask (the [B, F] input-dropout layout)', async () => {
    const x = f32(randomArray(B * T * F, 11, -2, 2)), mask = f32(randomArray(B * F, 12, 0, 2)), out0 = f32(randomArray(B * T * F, 13));
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const out = input(g, [B, T, F], out0, false, 'out');
    await maskMulInto(g, g.forward, input(g, [B, T, F], x), input(g, [B, F], mask), out, { T, F, sB: F, sT: 0, sF: 1 }, true);
    const [o] = await run(g, out);
    await expect(maskMulInto(g, g.forward, input(g, [B, T, F], x), input(g, [B, F], mask), g.alloc([B, T], 'small'), { T, F, sB: F, sT: 0, sF: 1 }, false)).rejects.toThrow(/maskMul: input has 60 elements, small has 12/);
    g.dispose();
    expectClose(o!, maskMulRef(x, mask, B, T, F, 'feature').map((v, i) => v + out0[i]!), FORWARD, 'out');
  });

  it('bad masks: clear errors naming the shapes', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const x = input(g, [B, T, F], new Float64Array(B * T * F));
    await expect(applyMask(g, x, input(g, [B, F], new Float64Array(B * F)), 'step')).rejects.toThrow(/applyMask: mask is \[3, 5\], expected \[3, 4\] for input \[3, 4, 5\]/);
    await expect(applyMask(g, input(g, [B, F], new Float64Array(B * F)), x, 'feature', 'drop')).rejects.toThrow(/drop: expects \[batch, time, features\], got \[3, 5\]/);
    g.dispose();
  });
});

describe('step mask (Keras Masking)', () => {
  it('1 where any feature differs from maskValue, else 0 (rows all equal, partly equal, none equal)', async () => {
    const maskValue = -0.5;
    const x = f32(randomArray(B * T * F, 21, -2, 2));
    for (const r of [1, 4, 5, 11]) x.fill(maskValue, r * F, (r + 1) * F); // fully masked steps
    x.fill(maskValue, 2 * F, 2 * F + F - 1); // all but the last feature
    x[7 * F + 2] = maskValue; // one feature
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const m = await stepMask(g, input(g, [B, T, F], x), maskValue);
    expect(m.shape).toEqual([B, T]);
    const [mo] = await run(g, m);
    await expect(stepMask(g, input(g, [B, T], new Float64Array(B * T)), 0)).rejects.toThrow(/stepMask: expects \[batch, time, features\], got \[3, 4\]/);
    g.dispose();
    const want = stepMaskRef(x, B, T, F, maskValue);
    expect(Array.from(want)).toEqual([1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0]);
    expectClose(mo!, want, EXACT, 'step mask');
  });
});

describe('Bidirectional merge', () => {
  const H = F;
  const rows = B * T;
  const MODES: MergeMode[] = ['concat', 'sum', 'mul', 'ave'];
  for (const mode of MODES) {
    for (const masked of [false, true]) {
      it(`${mode}${masked ? ' with a step mask' : ''}: the merged output and both gradients`, async () => {
        const a = f32(randomArray(rows * H, 31, -2, 2)), b = f32(randomArray(rows * H, 32, -2, 2));
        const mask = masked ? Float64Array.from([1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0]) : null;
        const r = f32(randomArray((mode === 'concat' ? 2 : 1) * rows * H, 33));
        const ctx = await gpuContext();
        const g = new Graph(ctx, true);
        const at = input(g, [B, T, H], a, true, 'a'), bt = input(g, [B, T, H], b, true, 'b');
        const y = await bidirectionalMerge(g, at, bt, mode, mask ? input(g, [B, T], mask) : null);
        expect(y.shape).toEqual(mode === 'concat' ? [B, T, 2 * H] : [B, T, H]);
        await g.backward(await weightedSum(g, y, r));
        const [yo, da, db] = await run(g, y, g.grad(at), g.grad(bt));
        g.dispose();
        expectClose(yo!, bidiMergeRef(a, b, rows, H, mode, mask), FORWARD, 'merged');
        const want = bidiMergeBackwardRef(a, b, rows, H, mode, mask, r);
        expectClose(da!, want.dA, GRAD, 'dA');
        expectClose(db!, want.dB, GRAD, 'dB');
      });
    }
  }

  it('only one side needs a gradient (scratch stands in for the other); mismatched shapes and masks: clear errors', async () => {
    const a = f32(randomArray(B * H, 41)), b = f32(randomArray(B * H, 42)), r = f32(randomArray(B * H, 43));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const bt = input(g, [B, H], b, true, 'b');
    const y = await bidirectionalMerge(g, input(g, [B, H], a), bt, 'mul', null);
    await g.backward(await weightedSum(g, y, r));
    const [db] = await run(g, g.grad(bt));
    expectClose(db!, bidiMergeBackwardRef(a, b, B, H, 'mul', null, r).dB, GRAD, 'dB');
    await expect(bidirectionalMerge(g, input(g, [B, H], a), input(g, [B, H + 1], new Float64Array(B * (H + 1))), 'sum', null, 'bi')).rejects.toThrow(/bi: forward output \[3, 5\] and backward output \[3, 6\] differ/);
    await expect(bidirectionalMerge(g, input(g, [B, H], a), bt, 'sum', input(g, [B + 1], new Float64Array(B + 1)), 'bi')).rejects.toThrow(/bi: mask is \[4\], expected 3 elements for outputs \[3, 5\]/);
    g.dispose();
  });
});

describe('single time steps (custom cells)', () => {
  it('takeStep at steps 0, 2 and T-1: each step exactly; dx sums the steps\' gradients in place', async () => {
    const x = f32(randomArray(B * T * F, 51, -2, 2));
    const steps = [0, 2, T - 1];
    const rs = steps.map((t) => f32(randomArray(B * F, 52 + t)));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [B, T, F], x, true, 'x');
    const ys: Tensor[] = [], terms: Tensor[] = [];
    for (const [i, t] of steps.entries()) {
      ys.push(await takeStep(g, xt, t));
      expect(ys[i]!.shape).toEqual([B, F]);
      terms.push(await weightedSum(g, ys[i]!, rs[i]!));
    }
    await g.backward(await total(g, terms));
    const [dx, ...outs] = await run(g, g.grad(xt), ...ys);
    await expect(takeStep(g, xt, T)).rejects.toThrow(/takeStep: step 4 of \[3, 4, 5\]/);
    g.dispose();
    steps.forEach((t, i) => expectClose(outs[i]!, takeStepRef(x, B, T, F, t), EXACT, `x[:, ${t}]`));
    let want = new Float64Array(B * T * F);
    steps.forEach((t, i) => {
      const di = putStepRef(new Float64Array(B * T * F), rs[i]!, B, T, F, t);
      want = want.map((w, j) => w + di[j]!);
    });
    expectClose(dx!, want, GRAD, 'dx');
  });

  it('putStep writes every step of a sequence; dh_t = dseq[:, t] (added to h_t\'s other gradient)', async () => {
    const hs = Array.from({ length: T }, (_, t) => f32(randomArray(B * F, 61 + t, -2, 2)));
    const r = f32(randomArray(B * T * F, 66)), r1 = f32(randomArray(B * F, 67));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const ht = hs.map((h, t) => input(g, [B, F], h, true, `h${t}`));
    const seq = g.alloc([B, T, F], 'seq', true);
    for (let t = 0; t < T; t++) await putStep(g, ht[t]!, seq, t);
    // loss = Σ r ⊙ seq + Σ r1 ⊙ h_1
    await g.backward(await total(g, [await weightedSum(g, seq, r), await weightedSum(g, ht[1]!, r1)]));
    const [so, ...dh] = await run(g, seq, ...ht.map((h) => g.grad(h)));
    await expect(putStep(g, input(g, [B, F - 1], new Float64Array(B * (F - 1))), seq, 0)).rejects.toThrow(/putStep: cannot write \[3, 4\] at step 0 of \[3, 4, 5\]/);
    g.dispose();
    let want: Float64Array = new Float64Array(B * T * F);
    hs.forEach((h, t) => (want = putStepRef(want, h, B, T, F, t)));
    expectClose(so!, want, EXACT, 'seq');
    for (let t = 0; t < T; t++) {
      const d = takeStepRef(r, B, T, F, t);
      expectClose(dh[t]!, t === 1 ? d.map((v, i) => v + r1[i]!) : d, GRAD, `dh${t}`);
    }
  });
});

describe('time reversal (go_backwards outputs)', () => {
  for (const [b, t, f] of [[B, T, F], [2, 1, 3], [1, 7, 1], [B, 65, 1]] as const) {
    it(`[${b}, ${t}, ${f}]: y[:, t] = x[:, T-1-t] exactly; dx = reversed dy, added to x's other gradient`, async () => {
      const x = f32(randomArray(b * t * f, 71, -2, 2));
      const r = f32(randomArray(b * t * f, 72)), r2 = f32(randomArray(b * t * f, 73));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [b, t, f], x, true, 'x');
      const y = await reverseTime(g, xt);
      expect(y.shape).toEqual([b, t, f]);
      await g.backward(await total(g, [await weightedSum(g, y, r), await weightedSum(g, xt, r2)]));
      const [yo, dx] = await run(g, y, g.grad(xt));
      g.dispose();
      expectClose(yo!, reverseTimeRef(x, b, t, f), EXACT, 'y');
      expectClose(dx!, reverseTimeRef(r, b, t, f).map((v, i) => v + r2[i]!), GRAD, 'dx');
    });
  }

  it('reversed twice is x again, and the gradient goes back through both reversals', async () => {
    const x = f32(randomArray(B * T * F, 74, -2, 2)), r = f32(randomArray(B * T * F, 75));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [B, T, F], x, true, 'x');
    const y = await reverseTime(g, await reverseTime(g, xt));
    await g.backward(await weightedSum(g, y, r));
    const [yo, dx] = await run(g, y, g.grad(xt));
    g.dispose();
    expectClose(yo!, x, EXACT, 'y');
    expectClose(dx!, r, GRAD, 'dx');
  });

  it('not [batch, time, features]: a clear error', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    await expect(reverseTime(g, input(g, [B, F], new Float64Array(B * F)))).rejects.toThrow(/reverseTime: expects \[batch, time, features\], got \[3, 5\]/);
    await expect(reverseTime(g, input(g, [2, B, T, F], new Float64Array(2 * B * T * F)), 'back')).rejects.toThrow(/back: expects \[batch, time, features\], got \[2, 3, 4, 5\]/);
    g.dispose();
  });
});

describe('repeated steps (RepeatVector)', () => {
  for (const n of [1, T, 7]) {
    it(`[${B}, ${F}] over ${n} steps: y[:, t] = x exactly; dx = Σ_t dy[:, t], added to x's other gradient`, async () => {
      const x = f32(randomArray(B * F, 81, -2, 2));
      const r = f32(randomArray(B * n * F, 82 + n)), r2 = f32(randomArray(B * F, 83));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, [B, F], x, true, 'x');
      const y = await repeatSteps(g, xt, n);
      expect(y.shape).toEqual([B, n, F]);
      await g.backward(await total(g, [await weightedSum(g, y, r), await weightedSum(g, xt, r2)]));
      const [yo, dx] = await run(g, y, g.grad(xt));
      g.dispose();
      expectClose(yo!, repeatStepsRef(x, B, n, F), EXACT, 'y');
      expectClose(dx!, repeatStepsBackwardRef(r, B, n, F).map((v, i) => v + r2[i]!), GRAD, 'dx');
    });
  }

  it('one feature, many steps ([2, 1] over 300 steps): the step sum', async () => {
    const n = 300;
    const x = f32(randomArray(2, 84, -2, 2)), r = f32(randomArray(2 * n, 85));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [2, 1], x, true, 'x');
    const y = await repeatSteps(g, xt, n);
    await g.backward(await weightedSum(g, y, r));
    const [yo, dx] = await run(g, y, g.grad(xt));
    g.dispose();
    expectClose(yo!, repeatStepsRef(x, 2, n, 1), EXACT, 'y');
    expectClose(dx!, repeatStepsBackwardRef(r, 2, n, 1), GRAD, 'dx');
  });

  it('bad inputs and step counts: clear errors', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const x = input(g, [B, F], new Float64Array(B * F));
    await expect(repeatSteps(g, input(g, [B, T, F], new Float64Array(B * T * F)), 2)).rejects.toThrow(/repeatSteps: expects \[batch, features\], got \[3, 4, 5\]/);
    await expect(repeatSteps(g, x, 0)).rejects.toThrow(/repeatSteps: n must be a positive integer, got 0/);
    await expect(repeatSteps(g, x, 2.5, 'repeat')).rejects.toThrow(/repeat: n must be a positive integer, got 2.5/);
    g.dispose();
  });
});

describe('Gaussian noise (GaussianNoise layer)', () => {
  it('the documented hash and Box–Muller, new noise every step, N(0, stddev²) statistics, dx = dy', async () => {
    const ctx = await gpuContext();
    const n = 6000, stddev = 0.3, seed = 1234;
    const rng = ctx.device.createBuffer({ size: 16, usage: 0x80 | 0x04 | 0x08 });
    const g = new Graph(ctx, true);
    const xData = randomArray(n, 21);
    const x = input(g, [n], xData, true, 'x');
    const y = await gaussianNoise(g, x, stddev, seed, rng);
    await advanceRng(g, rng);
    const r = randomArray(n, 22);
    await g.backward(await weightedSum(g, y, r));
    const [y0, dx] = await run(g, y, g.grad(x));
    const [y1] = await run(g, y);
    g.dispose();
    rng.destroy();
    // f32 log/cos on the GPU vs float64: a few ulps of z, times stddev
    expectClose(y0!, gaussianNoiseRef(f32(xData), stddev, seed, 0), { atol: 2e-6, rtol: 1e-5 }, 'noise, step 0');
    expectClose(y1!, gaussianNoiseRef(f32(xData), stddev, seed, 1), { atol: 2e-6, rtol: 1e-5 }, 'noise, step 1');
    const z = y0!.map((v, i) => (v - f32(xData)[i]!) / stddev);
    const mean = z.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
    expectClose(dx!, f32(r), EXACT, 'dx = dy');
  });

  it('the layer adds noise in training only; errors name the option', async () => {
    expect(() => rnn.layers.gaussianNoise({ stddev: -1 })).toThrow(/stddev must be a finite number >= 0/);
    const inp = rnn.input({ shape: [4, 2] });
    const model = rnn.model({ inputs: inp, outputs: rnn.layers.gaussianNoise({ stddev: 0.5, seed: 3 }).apply(inp) as rnn.SymbolicTensor });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const xs = { data: Float32Array.from(randomArray(3 * 8, 5)), shape: [3, 4, 2] };
    const p = (await model.predictAll(xs))[0]!;
    expect(Array.from(p.data)).toEqual(Array.from(xs.data)); // inference: identity
    const l0 = await model.evaluate(xs, xs);
    expect(l0).toBe(0);
    const loss = await model.trainOnBatch(xs, xs); // training: noise of variance 0.25 → mse ≈ 0.25
    expect(loss).toBeGreaterThan(0.05);
    model.dispose();
  });
});
