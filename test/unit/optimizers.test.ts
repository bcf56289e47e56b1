/**
 * Optimizers, gradient clipping, weight decay and learning-rate schedules on the real GPU
 * against the float64 references in test/reference/optimizers.ts (Keras 3 formulas):
 *   - three trainOnBatch steps of a Dense model for every optimizer / clipping / schedule variant;
 *   - the fused update run directly on an arena with multi-chunk variables and a non-trainable one;
 *   - dispatch counts (norms stay on the GPU), schedule values, and clear errors for bad options.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { ParamArena } from '../../src/gpu/arena';
import { upload, readback } from '../../src/gpu/io';
import { gpuContext } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, EXACT } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { adamStepRef, matmulRef } from '../reference/ops';
import * as ref from '../reference/optimizers';

const f32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a as ArrayLike<number>));
const I = 3, U = 2, B = 5;
const SIZES = [I * U, U]; // kernel, bias

function split(flat: Float64Array, sizes: number[]): Float64Array[] {
  let o = 0;
  return sizes.map((s) => flat.slice(o, (o += s)));
}
function cat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** d mse / d[W, b] for Dense(U) on x [B, I] (float64), flat [W (I·U), b (U)]. */
function denseMseGrad(x: Float64Array, y: Float64Array, p: Float64Array): Float64Array {
  const W = p.subarray(0, I * U), b = p.subarray(I * U);
  const pred = matmulRef(x, W, B, I, U);
  const g = new Float64Array(I * U + U);
  for (let r = 0; r < B; r++) {
    for (let u = 0; u < U; u++) {
      const d = (2 * (pred[r * U + u]! + b[u]! - y[r * U + u]!)) / (B * U);
      for (let k = 0; k < I; k++) g[k * U + u]! += d * x[r * I + k]!;
      g[I * U + u]! += d;
    }
  }
  return g;
}

interface Slots {
  m: Float64Array;
  v: Float64Array;
  mg: Float64Array;
}
type RefStep = (p: Float64Array, g: Float64Array, s: Slots, step: number) => void;

/** Three trainOnBatch steps vs the reference; returns the pre-clip gradients of step 1. */
async function threeSteps(opt: rnn.Optimizer, step: RefStep, what: string): Promise<Float64Array> {
  const x = f32(randomArray(B * I, 41)), y = f32(randomArray(B * U, 42, -2, 2));
  const p = f32(randomArray(I * U + U, 43));
  const model = rnn.sequential({ layers: [rnn.layers.dense({ units: U, inputShape: [I] })], seed: 1 });
  model.compile({ optimizer: opt, loss: 'mse' });
  await model.setWeights([{ data: Float32Array.from(p.subarray(0, I * U)), shape: [I, U] }, { data: Float32Array.from(p.subarray(I * U)), shape: [U] }]);
  const n = p.length;
  const s: Slots = { m: new Float64Array(n), v: new Float64Array(n), mg: new Float64Array(n) };
  let first: Float64Array | null = null;
  for (let k = 1; k <= 3; k++) {
    const g = denseMseGrad(x, y, p);
    first ??= g;
    step(p, g, s, k);
    await model.trainOnBatch({ data: Float32Array.from(x), shape: [B, I] }, { data: Float32Array.from(y), shape: [B, U] });
  }
  const [W, bias] = await model.getWeights();
  expectClose([...W!.data, ...bias!.data], p, FORWARD, `${what}: weights after 3 steps`);
  expect(opt.iterations).toBe(3);
  model.dispose();
  return first!;
}

describe('optimizers: three trainOnBatch steps match the Keras 3 float64 references', () => {
  it('SGD with momentum 0.9', async () => {
    await threeSteps(rnn.optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }), (p, g, s) => ref.sgdMomentumStepRef(p, g, s.m, { learningRate: 0.1, momentum: 0.9 }), 'sgd momentum');
  });

  it('SGD with Nesterov momentum 0.8', async () => {
    const o = { learningRate: 0.1, momentum: 0.8, nesterov: true };
    await threeSteps(rnn.optimizers.sgd(o), (p, g, s) => ref.sgdMomentumStepRef(p, g, s.m, o), 'sgd nesterov');
  });

  it('RMSprop with Keras defaults (rho 0.9, epsilon 1e-7 inside the root)', async () => {
    await threeSteps(rnn.optimizers.rmsprop({ learningRate: 0.01 }), (p, g, s) => ref.rmspropStepRef(p, g, s.v, s.m, s.mg, { learningRate: 0.01 }), 'rmsprop');
  });

  it('RMSprop centered with momentum 0.5 and a large epsilon', async () => {
    const o = { learningRate: 0.01, momentum: 0.5, centered: true, epsilon: 0.01, rho: 0.8 };
    await threeSteps(rnn.optimizers.rmsprop(o), (p, g, s) => ref.rmspropStepRef(p, g, s.v, s.m, s.mg, o), 'rmsprop centered');
  });

  it('AdamW (decoupled weight decay before the Adam update)', async () => {
    const o = { learningRate: 0.05, weightDecay: 0.5 };
    await threeSteps(rnn.optimizers.adamw(o), (p, g, s, k) => ref.adamwStepRef(p, g, s.m, s.v, k, o), 'adamw');
    expect(rnn.optimizers.adamw().weightDecay).toBe(0.004);
  });

  it('SGD with weightDecay (any optimizer accepts it, as in Keras)', async () => {
    await threeSteps(
      rnn.optimizers.sgd({ learningRate: 0.1, weightDecay: 0.3 }),
      (p, g) => {
        ref.weightDecayRef(p, 0.3, 0.1);
        ref.sgdMomentumStepRef(p, g, new Float64Array(p.length), { learningRate: 0.1 });
      },
      'sgd weight decay',
    );
  });

  it('Adam with per-variable clipnorm (g·c / max(‖g_var‖, c))', async () => {
    const c = 0.2;
    const g1 = await threeSteps(
      rnn.optimizers.adam({ learningRate: 0.01, clipnorm: c }),
      (p, g, s, k) => adamStepRef(p, cat(ref.clipByNormRef(split(g, SIZES), c)), s.m, s.v, k, { learningRate: 0.01 }),
      'adam clipnorm',
    );
    // meaningful: one variable is clipped and the other is not, so per-variable != global
    const norms = split(g1, SIZES).map((g) => ref.globalNormRef([g]));
    expect(norms.some((n) => n > c)).toBe(true);
  });

  it('SGD momentum with globalClipnorm (g·c / max(‖g‖_global, c))', async () => {
    const c = 0.3;
    const g1 = await threeSteps(
      rnn.optimizers.sgd({ learningRate: 0.1, momentum: 0.5, globalClipnorm: c }),
      (p, g, s) => ref.sgdMomentumStepRef(p, cat(ref.clipByGlobalNormRef(split(g, SIZES), c)), s.m, { learningRate: 0.1, momentum: 0.5 }),
      'sgd globalClipnorm',
    );
    expect(ref.globalNormRef([g1])).toBeGreaterThan(c);
  });

  it('RMSprop with clipvalue (elementwise clip to ±v)', async () => {
    const c = 0.1;
    const g1 = await threeSteps(
      rnn.optimizers.rmsprop({ learningRate: 0.01, clipvalue: c }),
      (p, g, s) => ref.rmspropStepRef(p, cat(ref.clipByValueRef([g], c)), s.v, s.m, s.mg, { learningRate: 0.01 }),
      'rmsprop clipvalue',
    );
    expect(Array.from(g1).some((v) => Math.abs(v) > c)).toBe(true);
  });

  it('SGD with an exponentialDecay schedule: lr(step) = 0.2·0.5^step, written per step', async () => {
    const sched = rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.2, decaySteps: 1, decayRate: 0.5 });
    const opt = rnn.optimizers.sgd({ learningRate: sched });
    await threeSteps(opt, (p, g, _s, k) => ref.sgdMomentumStepRef(p, g, new Float64Array(p.length), { learningRate: ref.exponentialDecayRef(k - 1, 0.2, 1, 0.5) }), 'sgd exponentialDecay');
    expect(opt.learningRate).toBeCloseTo(0.2 * 0.5 ** 3, 12);
  });

  it('Adam with a piecewiseConstantDecay schedule (bias correction uses the scheduled lr)', async () => {
    const boundaries = [0, 1], values = [0.05, 0.001, 0.02];
    const opt = rnn.optimizers.adam({ learningRate: rnn.optimizers.schedules.piecewiseConstantDecay({ boundaries, values }) });
    await threeSteps(opt, (p, g, s, k) => adamStepRef(p, g, s.m, s.v, k, { learningRate: ref.piecewiseConstantRef(k - 1, boundaries, values) }), 'adam piecewise');
  });
});

describe('the fused update on an arena: multi-chunk norms, non-trainable variables skipped', () => {
  // 'a' and 'b' span several 4096-element norm chunks; 'stat' is non-trainable and has a
  // non-zero "gradient" that must be ignored by the norm, the update and the weight decay.
  const specs = [
    { name: 'a', shape: [5000] },
    { name: 'stat', shape: [7], trainable: false },
    { name: 'b', shape: [90, 100] },
    { name: 'c', shape: [3] },
  ];
  async function run(
    opt: rnn.Optimizer,
    step: (p: Float64Array[], g: Float64Array[], k: number) => void,
    specList: { name: string; shape: number[]; trainable?: boolean }[] = specs,
  ): Promise<void> {
    const sizes = specList.map((sp) => sp.shape.reduce((a, b) => a * b, 1));
    const trainable = specList.flatMap((sp, i) => (sp.trainable === false ? [] : [i]));
    const ctx = await gpuContext();
    const dev = ctx.device;
    const arena = new ParamArena(ctx, specList);
    const p = sizes.map((s, i) => f32(randomArray(s, 60 + i)));
    p.forEach((v, i) => upload(dev, arena.vars[i]!.value, v));
    const state = await opt.build(ctx, arena);
    for (let k = 1; k <= 3; k++) {
      const g = sizes.map((s, i) => f32(randomArray(s, 100 * k + i, -0.5, 0.5)));
      g.forEach((v, i) => upload(dev, arena.vars[i]!.grad, v));
      step(trainable.map((i) => p[i]!), trainable.map((i) => g[i]!), k);
      const enc = dev.createCommandEncoder();
      state.program.encode(enc);
      state.prepareStep();
      dev.queue.submit([enc.finish()]);
      ctx.gpu.checkErrors();
    }
    const out = await readback(dev, ...arena.vars.map((v) => v.value));
    sizes.forEach((_, i) => expectClose(out[i]!, p[i]!, specList[i]!.trainable === false ? EXACT : FORWARD, `${opt.name}: ${specList[i]!.name}`));
    ctx.gpu.checkErrors();
    state.destroy();
    arena.destroy();
  }

  const sizes = [5000, 7, 9000, 3];
  const trainable = [0, 2, 3];

  it('SGD momentum + globalClipnorm + weight decay', async () => {
    const m = trainable.map((i) => new Float64Array(sizes[i]!));
    await run(rnn.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, globalClipnorm: 5, weightDecay: 0.1 }), (p, g) => {
      expect(ref.globalNormRef(g)).toBeGreaterThan(5);
      const cg = ref.clipByGlobalNormRef(g, 5);
      p.forEach((pv, j) => {
        ref.weightDecayRef(pv, 0.1, 0.1);
        ref.sgdMomentumStepRef(pv, cg[j]!, m[j]!, { learningRate: 0.1, momentum: 0.9 });
      });
    });
  });

  it('Adam + per-variable clipnorm (the 3-element variable stays unclipped)', async () => {
    const m = trainable.map((i) => new Float64Array(sizes[i]!)), v = trainable.map((i) => new Float64Array(sizes[i]!));
    await run(rnn.optimizers.adam({ learningRate: 0.01, clipnorm: 1 }), (p, g, k) => {
      const cg = ref.clipByNormRef(g, 1);
      p.forEach((pv, j) => adamStepRef(pv, cg[j]!, m[j]!, v[j]!, k, { learningRate: 0.01 }));
    });
  });

  it('RMSprop + clipvalue', async () => {
    const z = () => trainable.map((i) => new Float64Array(sizes[i]!));
    const v = z(), m = z(), mg = z();
    await run(rnn.optimizers.rmsprop({ learningRate: 0.01, clipvalue: 0.2 }), (p, g) => {
      const cg = ref.clipByValueRef(g, 0.2);
      p.forEach((pv, j) => ref.rmspropStepRef(pv, cg[j]!, v[j]!, m[j]!, mg[j]!, { learningRate: 0.01 }));
    });
  });

  it('globalClipnorm over more than 64 norm chunks (each update workgroup sums them all)', async () => {
    const big = [{ name: 'w', shape: [300, 1000] }, { name: 'stat', shape: [5], trainable: false }, { name: 'b', shape: [17] }];
    await run(
      rnn.optimizers.sgd({ learningRate: 0.01, globalClipnorm: 10 }),
      (p, g) => {
        const cg = ref.clipByGlobalNormRef(g, 10);
        p.forEach((pv, j) => ref.sgdMomentumStepRef(pv, cg[j]!, new Float64Array(0), { learningRate: 0.01 }));
      },
      big,
    );
  });

  it('dispatches per step: 1 update, +1 norm for globalClipnorm, +2 for clipnorm; clipvalue is fused', async () => {
    const ctx = await gpuContext();
    const arena = new ParamArena(ctx, specs);
    const count = async (o: rnn.Optimizer) => {
      const s = await o.build(ctx, arena);
      const n = s.program.dispatchCount;
      s.destroy();
      return n;
    };
    expect(await count(rnn.optimizers.adam())).toBe(1);
    expect(await count(rnn.optimizers.adam({ clipvalue: 1 }))).toBe(1);
    expect(await count(rnn.optimizers.adam({ globalClipnorm: 1 }))).toBe(2);
    expect(await count(rnn.optimizers.adam({ clipnorm: 1 }))).toBe(3);
    arena.destroy();
  });
});

describe('learning-rate schedules (Keras semantics, evaluated per step on the CPU)', () => {
  it('exponentialDecay, smooth and staircase', () => {
    const s = rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    const st = rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    for (const k of [0, 1, 9, 10, 15, 25]) {
      expect(s.call(k)).toBeCloseTo(ref.exponentialDecayRef(k, 0.1, 10, 0.5), 15);
      expect(st.call(k)).toBe(ref.exponentialDecayRef(k, 0.1, 10, 0.5, true));
    }
    expect(st.call(9)).toBe(0.1);
    expect(st.call(10)).toBe(0.05);
  });

  it('piecewiseConstantDecay: values[i] on (b[i-1], b[i]], boundaries inclusive on the right', () => {
    const boundaries = [100, 110], values = [1, 0.5, 0.1];
    const s = rnn.optimizers.schedules.piecewiseConstantDecay({ boundaries, values });
    for (const k of [0, 99, 100, 101, 110, 111, 1000]) expect(s.call(k)).toBe(ref.piecewiseConstantRef(k, boundaries, values));
    expect([s.call(100), s.call(101), s.call(110), s.call(111)]).toEqual([1, 0.5, 0.5, 0.1]);
  });

  it('serialized schedules resolve by class name', () => {
    const opt = rnn.optimizers.sgd({ learningRate: { className: 'ExponentialDecay', config: { initialLearningRate: 0.5, decaySteps: 2, decayRate: 0.1 } } });
    expect(opt.schedule?.className).toBe('ExponentialDecay');
    expect(opt.learningRate).toBe(0.5);
  });
});

describe('bad options give clear errors naming the option', () => {
  it('clipping', () => {
    expect(() => rnn.optimizers.sgd({ clipnorm: -1 })).toThrow(/sgd: clipnorm must be a finite number in \(0, ∞\), got -1/);
    expect(() => rnn.optimizers.adam({ globalClipnorm: 0 })).toThrow(/adam: globalClipnorm must be/);
    expect(() => rnn.optimizers.rmsprop({ clipvalue: NaN })).toThrow(/rmsprop: clipvalue must be .* got NaN/);
    expect(() => rnn.optimizers.adam({ clipnorm: 1, clipvalue: 1 })).toThrow(/only one of clipnorm, globalClipnorm and clipvalue can be set \(got clipnorm=1, clipvalue=1\)/);
    expect(() => rnn.optimizers.adamw({ clipnorm: 1, globalClipnorm: 2 })).toThrow(/adamw: only one of/);
  });

  it('hyper-parameters', () => {
    expect(() => rnn.optimizers.sgd({ momentum: 1 })).toThrow(/sgd: momentum must be a finite number in \[0, 1\), got 1/);
    expect(() => rnn.optimizers.sgd({ momentum: -0.1 })).toThrow(/momentum must be/);
    expect(() => rnn.optimizers.rmsprop({ momentum: 1.5 })).toThrow(/rmsprop: momentum must be/);
    expect(() => rnn.optimizers.rmsprop({ rho: 1 })).toThrow(/rmsprop: rho must be/);
    expect(() => rnn.optimizers.adam({ epsilon: 0 })).toThrow(/adam: epsilon must be/);
    expect(() => rnn.optimizers.rmsprop({ epsilon: -1e-7 })).toThrow(/rmsprop: epsilon must be/);
    expect(() => rnn.optimizers.adamw({ weightDecay: -0.1 })).toThrow(/adamw: weightDecay must be a finite number >= 0/);
    expect(() => rnn.optimizers.adam({ learningRate: Infinity })).toThrow(/adam: learningRate must be/);
  });

  it('schedules and names', () => {
    expect(() => rnn.optimizers.sgd({ learningRate: 'cosine' as unknown as number })).toThrow(/sgd: learningRate must be a number or a schedule .* got 'cosine'/);
    expect(() => rnn.optimizers.sgd({ learningRate: { className: 'CosineDecay', config: {} } })).toThrow(/unknown learning-rate schedule 'CosineDecay'/);
    expect(() => rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.9 })).toThrow(/decaySteps must be/);
    expect(() => rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: -1 })).toThrow(/decayRate must be/);
    expect(() => rnn.optimizers.schedules.piecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2] })).toThrow(/one more element/);
    expect(() => rnn.optimizers.schedules.piecewiseConstantDecay({ boundaries: [2, 2], values: [1, 2, 3] })).toThrow(/strictly increasing/);
    const sched = rnn.optimizers.adam({ learningRate: rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 }) });
    expect(() => (sched.learningRate = 0.01)).toThrow(/ExponentialDecay schedule .* cannot be set/);
    const plain = rnn.optimizers.sgd();
    plain.learningRate = 0.5;
    expect(plain.learningRate).toBe(0.5);
    expect(() => (plain.learningRate = -1)).toThrow(/sgd: learningRate must be/);

    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })] });
    expect(() => model.compile({ optimizer: 'nadam', loss: 'mse' })).toThrow(/unknown optimizer 'nadam' \(did you mean 'adam'\?\)/);
    expect(() => model.compile({ optimizer: 'lion', loss: 'mse' })).toThrow(/unknown optimizer 'lion' \(known: adam, adamw, sgd, rmsprop\)/);
    expect(() => model.compile({ optimizer: 'toString', loss: 'mse' })).toThrow(/unknown optimizer 'toString'/);
    model.compile({ optimizer: 'rmsprop', loss: 'mse' });
    expect(model.optimizer).toBeInstanceOf(rnn.RMSprop);
    model.compile({ optimizer: 'adamw', loss: 'mse' });
    expect(model.optimizer).toBeInstanceOf(rnn.AdamW);
    expect(model.optimizer!.getConfig()).toMatchObject({ learningRate: 0.001, weightDecay: 0.004, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  });
});
