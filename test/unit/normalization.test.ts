/**
 * LayerNormalization and BatchNormalization: the WGSL kernels (forward, dx, dgamma, dbeta, moving
 * statistics, inference) on the real GPU against the float64 references of
 * test/reference/normalization.ts (checked against central differences in
 * test/reference/normalization.test.ts) for 2-D and 3-D inputs, and the layers inside a model
 * (Keras weight order, non-trainable moving statistics untouched by the optimizer, predict using
 * the moving statistics, summary counts, clear errors).
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { matmulRef, mseBackwardRef } from '../reference/ops';
import * as ref from '../reference/normalization';
import { layerNorm, batchNorm } from '../../src/ops/normalization';

const EPS = 1e-3;

describe('layerNorm kernels vs the reference', () => {
  const cases: { shape: number[]; scale: boolean; center: boolean }[] = [
    { shape: [4, 6], scale: true, center: true },
    { shape: [3, 5, 7], scale: true, center: true },
    { shape: [2, 3, 4], scale: false, center: true },
    { shape: [5, 3], scale: true, center: false },
  ];
  for (const { shape, scale, center } of cases) {
    it(`[${shape.join(', ')}] scale=${scale} center=${center}: y, dx, dgamma, dbeta`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const F = shape.at(-1)!, n = shape.reduce((a, b) => a * b, 1), R = n / F;
      const x = f32(randomArray(n, 11, -2, 2)), gamma = f32(randomArray(F, 12, 0.5, 1.5)), beta = f32(randomArray(F, 13)), r = f32(randomArray(n, 14));
      const xt = input(g, shape, x, true);
      const gt = scale ? input(g, [F], gamma, true, 'gamma') : null;
      const bt = center ? input(g, [F], beta, true, 'beta') : null;
      const y = await layerNorm(g, xt, gt, bt, EPS);
      await g.backward(await weightedSum(g, y, r));
      const outs = await run(g, y, g.grad(xt), ...(gt ? [g.grad(gt)] : []), ...(bt ? [g.grad(bt)] : []));
      const gRef = scale ? gamma : new Float64Array(F).fill(1), bRef = center ? beta : new Float64Array(F);
      expectClose(outs[0]!, ref.layerNormRef(x, gRef, bRef, R, F, EPS).y, FORWARD, 'y');
      const want = ref.layerNormBackwardRef(x, gRef, r, R, F, EPS);
      expectClose(outs[1]!, want.dx, GRAD, 'dx');
      let k = 2;
      if (scale) expectClose(outs[k++]!, want.dgamma, GRAD, 'dgamma');
      if (center) expectClose(outs[k++]!, want.dbeta, GRAD, 'dbeta');
      g.dispose();
    });
  }
});

describe('batchNorm kernels vs the reference', () => {
  for (const shape of [[6, 5], [2, 4, 3]]) {
    it(`[${shape.join(', ')}] training: y, dx, dgamma, dbeta and the moving-statistics update`, async () => {
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const F = shape.at(-1)!, n = shape.reduce((a, b) => a * b, 1), R = n / F, momentum = 0.9;
      const x = f32(randomArray(n, 21, -2, 3)), gamma = f32(randomArray(F, 22, 0.5, 1.5)), beta = f32(randomArray(F, 23)), r = f32(randomArray(n, 24));
      const mm = f32(randomArray(F, 25)), mv = f32(randomArray(F, 26, 0.5, 2));
      const xt = input(g, shape, x, true), gt = input(g, [F], gamma, true, 'gamma'), bt = input(g, [F], beta, true, 'beta');
      const mmT = input(g, [F], mm, false, 'movingMean'), mvT = input(g, [F], mv, false, 'movingVar');
      const y = await batchNorm(g, xt, gt, bt, mmT, mvT, { epsilon: EPS, momentum });
      await g.backward(await weightedSum(g, y, r));
      const [yo, dx, dgamma, dbeta, mmo, mvo] = await run(g, y, g.grad(xt), g.grad(gt), g.grad(bt), mmT, mvT);
      const fw = ref.batchNormTrainRef(x, gamma, beta, R, F, EPS);
      expectClose(yo!, fw.y, FORWARD, 'y');
      const want = ref.batchNormBackwardRef(x, gamma, r, R, F, EPS);
      expectClose(dx!, want.dx, GRAD, 'dx');
      expectClose(dgamma!, want.dgamma, GRAD, 'dgamma');
      expectClose(dbeta!, want.dbeta, GRAD, 'dbeta');
      expectClose(mmo!, ref.movingAverageRef(mm, fw.mean, momentum), FORWARD, 'moving mean');
      expectClose(mvo!, ref.movingAverageRef(mv, fw.variance, momentum), FORWARD, 'moving variance');
      g.dispose();
    });
  }

  it('inference graphs use the moving statistics and leave them unchanged', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const shape = [3, 4, 5], F = 5, n = 60;
    const x = f32(randomArray(n, 31, -2, 2)), gamma = f32(randomArray(F, 32, 0.5, 1.5)), beta = f32(randomArray(F, 33));
    const mm = f32(randomArray(F, 34)), mv = f32(randomArray(F, 35, 0.5, 2));
    const mmT = input(g, [F], mm), mvT = input(g, [F], mv);
    const y = await batchNorm(g, input(g, shape, x), input(g, [F], gamma), input(g, [F], beta), mmT, mvT, { epsilon: EPS, momentum: 0.99 });
    const [yo, mmo, mvo] = await run(g, y, mmT, mvT);
    expectClose(yo!, ref.batchNormInferenceRef(x, gamma, beta, mm, mv, n / F, F, EPS), FORWARD, 'y (inference)');
    expect(Array.from(mmo!)).toEqual(Array.from(mm));
    expect(Array.from(mvo!)).toEqual(Array.from(mv));
    g.dispose();
  });
});

describe('normalization layers in a model', () => {
  const B = 6, I = 4, U = 3;
  const x = f32(randomArray(B * I, 41, -2, 2)), t = f32(randomArray(B * U, 42));
  const W = f32(randomArray(I * U, 43)), b = f32(randomArray(U, 44));
  const gamma = f32(randomArray(U, 45, 0.5, 1.5)), beta = f32(randomArray(U, 46));
  const host = (d: Float64Array, shape: number[]) => ({ data: Float32Array.from(d), shape });

  async function denseBn(optimizer: rnn.Optimizer) {
    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: U, inputShape: [I] }), rnn.layers.batchNormalization({ momentum: 0.9 })], seed: 2 });
    model.compile({ optimizer, loss: 'mse' });
    await model.setWeights([host(W, [I, U]), host(b, [U]), host(gamma, [U]), host(beta, [U]), host(new Float64Array(U), [U]), host(new Float64Array(U).fill(1), [U])]);
    return model;
  }

  /** One SGD step of Dense → BatchNorm (training statistics) → MSE, in float64. */
  function reference(lr: number) {
    const h = matmulRef(x, W, B, I, U).map((v, i) => v + b[i % U]!);
    const fw = ref.batchNormTrainRef(h, gamma, beta, B, U, EPS);
    const bw = ref.batchNormBackwardRef(h, gamma, mseBackwardRef(fw.y, t), B, U, EPS);
    const dW = matmulRef(x, bw.dx, I, B, U, true);
    const db = new Float64Array(U).map((_, u) => bw.dx.filter((_, i) => i % U === u).reduce((a, c) => a + c, 0));
    const step = (p: Float64Array, d: Float64Array) => p.map((v, i) => v - lr * d[i]!);
    return {
      W: step(W, dW),
      b: step(b, db),
      gamma: step(gamma, bw.dgamma),
      beta: step(beta, bw.dbeta),
      movingMean: ref.movingAverageRef(new Float64Array(U), fw.mean, 0.9),
      movingVar: ref.movingAverageRef(new Float64Array(U).fill(1), fw.variance, 0.9),
    };
  }

  it('Dense → BatchNorm: one SGD step matches the reference (weights and moving statistics); predict uses the moving statistics', async () => {
    const model = await denseBn(rnn.optimizers.sgd({ learningRate: 0.1 }));
    expect(model.weightNames.map((s) => s.split('/')[1])).toEqual(['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance']);
    await model.trainOnBatch(host(x, [B, I]), host(t, [B, U]));
    const want = reference(0.1);
    const ws = await model.getWeights();
    const names = ['W', 'b', 'gamma', 'beta', 'movingMean', 'movingVar'] as const;
    names.forEach((k, i) => expectClose(ws[i]!.data, want[k], FORWARD, k));
    const pred = await model.predict(host(x, [B, I]));
    const h = matmulRef(x, want.W, B, I, U).map((v, i) => v + want.b[i % U]!);
    expectClose(pred.data, ref.batchNormInferenceRef(h, want.gamma, want.beta, want.movingMean, want.movingVar, B, U, EPS), FORWARD, 'predict');
    model.dispose();
  });

  it('AdamW with weight decay and globalClipnorm never touches the moving statistics', async () => {
    const model = await denseBn(rnn.optimizers.adamw({ learningRate: 0.1, weightDecay: 0.5, globalClipnorm: 0.01 }));
    await model.trainOnBatch(host(x, [B, I]), host(t, [B, U]));
    const ws = await model.getWeights();
    const want = reference(0.1);
    expectClose(ws[4]!.data, want.movingMean, FORWARD, 'moving mean');
    expectClose(ws[5]!.data, want.movingVar, FORWARD, 'moving variance');
    model.dispose();
  });

  it('LayerNormalization on sequences: predict matches the reference; summary counts non-trainable parameters', async () => {
    const T = 5, F = 4;
    const model = rnn.sequential({ layers: [rnn.layers.layerNormalization({ inputShape: [T, F] }), rnn.layers.batchNormalization()], seed: 3 });
    const xs = f32(randomArray(2 * T * F, 51, -3, 3)), g1 = f32(randomArray(F, 52)), b1 = f32(randomArray(F, 53));
    await model.setWeights([host(g1, [F]), host(b1, [F]), host(new Float64Array(F).fill(1), [F]), host(new Float64Array(F), [F]), host(new Float64Array(F), [F]), host(new Float64Array(F).fill(1), [F])]);
    const out = await model.predict(host(xs, [2, T, F]));
    const ln = ref.layerNormRef(xs, g1, b1, 2 * T, F, EPS).y;
    const bn = ref.batchNormInferenceRef(ln, new Float64Array(F).fill(1), new Float64Array(F), new Float64Array(F), new Float64Array(F).fill(1), 2 * T, F, EPS);
    expectClose(out.data, bn, FORWARD, 'LN → BN (inference)');
    const s = model.summary(null);
    expect(s).toMatch(/LayerNormalization\)\s+\(None, 5, 4\)\s+8/);
    expect(s).toMatch(/BatchNormalization\)\s+\(None, 5, 4\)\s+16/);
    expect(s).toMatch(/Total params: 24\nTrainable params: 16\nNon-trainable params: 8/);
    model.dispose();
  });

  it('bad options give clear errors naming the option', () => {
    expect(() => rnn.layers.layerNormalization({ epsilon: 0 })).toThrow(/epsilon must be a finite number > 0, got 0/);
    expect(() => rnn.layers.batchNormalization({ epsilon: -1 })).toThrow(/epsilon must be/);
    expect(() => rnn.layers.batchNormalization({ momentum: 1 })).toThrow(/momentum must be a finite number in \[0, 1\), got 1/);
    expect(() => rnn.layers.batchNormalization({ momentum: -0.5 })).toThrow(/momentum must be/);
    expect(() => rnn.layers.layerNormalization({ axis: 1, inputShape: [5, 4] })).toThrow(/only the last axis can be normalised .* got axis 1/);
    expect(() => rnn.layers.layerNormalization({ axis: 0.5 })).toThrow(/axis must be an integer/);
    expect(rnn.layers.layerNormalization({ axis: 2, inputShape: [5, 4] }).outputShape([5, 4])).toEqual([5, 4]);
    expect(() => rnn.layers.layerNormalization({ betaInitializer: 'nope' })).toThrow(/unknown initializer 'nope'/);
  });
});
