/**
 * The functional-model API from the user's side (rnn.input / layer.apply / rnn.model, Keras and
 * tfjs style), on the real GPU with tiny models: clear errors before any GPU work; the losses
 * (mae, Huber), masking and sample weights against Keras 3's formulas computed here in float64;
 * metrics in fit's history against predict; several outputs with per-output losses, weights and
 * metrics; the model used from callbacks during fit (and refused from outside); a Keras-style
 * "CTA ridership" workflow with rnn.utils.timeseriesDatasetFromArray (itself checked against
 * Keras's documented windows); frozen layers; shared layers (weights once, gradients summed);
 * inference models that reuse a trained encoder–decoder's layers; summary's "Connected to".
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import type { HostTensor } from '../../src/host';
import { expectClose } from '../helpers/compare';
import { FORWARD } from '../helpers/tolerances';
import { randomArray, makeRng } from '../helpers/rng';

type ST = rnn.SymbolicTensor;

/** A host array: the values rounded to float32, as the GPU sees them. */
const host = (data: ArrayLike<number>, shape: readonly number[]): HostTensor => ({ data: Float32Array.from(data), shape: [...shape] });
/** The float32 values of `a` as float64 (what the reference computes with). */
const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(Float32Array.from(a));
/** One symbolic output (layer.apply of a one-output call). */
const one = (t: ST | ST[]): ST => {
  if (Array.isArray(t)) throw new Error(`expected one symbolic tensor, got ${t.length}`);
  return t;
};
/** Several symbolic outputs (returnState). */
const many = (t: ST | ST[]): ST[] => {
  if (!Array.isArray(t)) throw new Error('expected a list of symbolic tensors');
  return t;
};
/** The message of what `f` throws (fails when it does not throw). */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, none was thrown');
}
/** The message of the rejection of `p` (fails when it resolves). */
async function rejected(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection, the call succeeded');
}
const sameBits = (a: HostTensor, b: HostTensor) => a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Dense forward in float64: x [rows, inF] · W [inF, units] + b. */
function denseRef(x: Float64Array, rows: number, inF: number, W: Float64Array, b: Float64Array, units: number, act: 'linear' | 'tanh' = 'linear'): Float64Array {
  const y = new Float64Array(rows * units);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let s = b[u]!;
      for (let k = 0; k < inF; k++) s += x[r * inF + k]! * W[k * units + u]!;
      y[r * units + u] = act === 'tanh' ? Math.tanh(s) : s;
    }
  }
  return y;
}

/**
 * Keras 3 regression losses with the default sum_over_batch_size reduction, in float64: the
 * per-element error is averaged over the last axis (`feats`), then Σ w·l over the rows (and time
 * steps) divided by their count (weights default 1).
 */
function kerasLoss(kind: 'mse' | 'mae' | 'huber', pred: ArrayLike<number>, truth: ArrayLike<number>, feats: number, delta = 1, weights?: ArrayLike<number>): number {
  const n = pred.length / feats;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    let l = 0;
    for (let f = 0; f < feats; f++) {
      const d = pred[r * feats + f]! - truth[r * feats + f]!;
      const a = Math.abs(d);
      l += kind === 'mse' ? d * d : kind === 'mae' ? a : a <= delta ? 0.5 * d * d : delta * a - 0.5 * delta * delta;
    }
    sum += (weights ? weights[r]! : 1) * (l / feats);
  }
  return sum / n;
}

// =============================================================================================
describe('1. bad input: clear errors naming the layer and the shapes, before any GPU work', () => {
  it('graph errors at rnn.model: disconnected output, unconnected input, non-input tensors, duplicate names', () => {
    const a = rnn.input({ shape: [3], name: 'in_a' });
    const b = rnn.input({ shape: [3], name: 'in_b' });
    const sum = rnn.layers.add({ name: 'sum_ab' }).apply([a, b]) as ST;
    const out = one(rnn.layers.dense({ units: 1, name: 'head_ab' }).apply(sum));
    // the output needs in_b, which is not among the inputs
    const m1 = thrown(() => rnn.model({ inputs: a, outputs: out, name: 'disc' }));
    expect(m1).toMatch(/graph disconnected/);
    expect(m1).toContain('sum_ab');
    expect(m1).toContain("'in_b' (None, 3)");
    expect(m1).toContain('[in_a]');
    // an input that reaches no output
    const c = rnn.input({ shape: [4], name: 'in_c' });
    const m2 = thrown(() => rnn.model({ inputs: [a, b, c], outputs: out, name: 'unused' }));
    expect(m2).toMatch(/input 'in_c' \(None, 4\) is not connected to any output/);
    // an intermediate tensor as an input
    const m3 = thrown(() => rnn.model({ inputs: sum, outputs: out }));
    expect(m3).toMatch(/not an rnn\.input\(\) tensor.*sum_ab/);
    // the same input twice, a non-symbolic output
    expect(thrown(() => rnn.model({ inputs: [a, a, b], outputs: out }))).toMatch(/listed twice/);
    expect(thrown(() => rnn.model({ inputs: [a, b], outputs: { data: [1], shape: [1] } as unknown as ST }))).toMatch(/outputs\[0\] is not a symbolic tensor/);
    // two different layers with one name
    const x = rnn.input({ shape: [2] });
    const h = one(rnn.layers.dense({ units: 2, name: 'twin' }).apply(x));
    const y = one(rnn.layers.dense({ units: 1, name: 'twin' }).apply(h));
    expect(thrown(() => rnn.model({ inputs: x, outputs: y }))).toMatch(/two layers are named 'twin'/);
    // the valid model builds
    expect(rnn.model({ inputs: [a, b], outputs: out }).inputNames).toEqual(['in_a', 'in_b']);
  });

  it('shape errors at apply: merges, concatenate, initialState count and shape, repeatVector, non-symbolic input', () => {
    const x5 = rnn.input({ shape: [5] });
    const x4 = rnn.input({ shape: [4] });
    const d3 = one(rnn.layers.dense({ units: 3, name: 'd3' }).apply(x5)); // (None, 3)
    const add = rnn.layers.add({ name: 'add_34' });
    const e1 = thrown(() => add.apply([d3, x4]));
    expect(e1).toContain('add_34');
    expect(e1).toContain('(None, 3)');
    expect(e1).toContain('(None, 4)');
    expect(add.nodes.length).toBe(0); // a failed call leaves no node behind
    expect(thrown(() => rnn.layers.multiply({ name: 'mul_34' }).apply([d3, x4]))).toMatch(/mul_34.*\(None, 3\), \(None, 4\)/);
    expect(thrown(() => rnn.layers.subtract({ name: 'sub3' }).apply([d3, d3, d3]))).toMatch(/sub3.*exactly 2 inputs, got 3/);
    expect(thrown(() => rnn.layers.add({ name: 'add1' }).apply(d3))).toMatch(/add1.*at least 2 inputs/);
    // concatenate: the other axes must match
    const s52 = rnn.input({ shape: [5, 2] });
    const s43 = rnn.input({ shape: [4, 3] });
    const e2 = thrown(() => rnn.layers.concatenate({ name: 'cat_bad' }).apply([s52, s43]));
    expect(e2).toMatch(/cat_bad.*axis -1.*\(None, 5, 2\), \(None, 4, 3\)/);
    expect(thrown(() => rnn.layers.concatenate({ name: 'cat_rank' }).apply([s52, x4]))).toMatch(/cat_rank.*\(None, 5, 2\), \(None, 4\)/);
    expect(one(rnn.layers.concatenate({ axis: 1 }).apply([s52, rnn.input({ shape: [7, 2] })])).shape).toEqual([12, 2]);
    // initialState: count and shape
    const seq = rnn.input({ shape: [null, 2] });
    const h4 = rnn.input({ shape: [4] });
    const h5 = rnn.input({ shape: [5] });
    const lstm = rnn.layers.lstm({ units: 4, name: 'lstm_init' });
    const e3 = thrown(() => lstm.apply(seq, { initialState: [h4] }));
    expect(e3).toMatch(/lstm_init.*\[h, c\].*\(None, 4\); got 1: \(None, 4\)/);
    const e4 = thrown(() => lstm.apply(seq, { initialState: [h5, h5] }));
    expect(e4).toMatch(/lstm_init.*\(None, 4\); got 2: \(None, 5\), \(None, 5\)/);
    expect(thrown(() => rnn.layers.gru({ units: 4, name: 'gru_init' }).apply(seq, { initialState: [h4, h4] }))).toMatch(/gru_init.*\[h\].*got 2/);
    expect(thrown(() => rnn.layers.dense({ units: 1, name: 'dense_init' }).apply(x4, { initialState: [h4] }))).toMatch(/dense_init.*has no initialState/);
    expect(one(lstm.apply(seq, { initialState: [h4, h4] })).shape).toEqual([4]);
    // repeatVector needs a vector per sample
    expect(thrown(() => rnn.layers.repeatVector({ n: 3, name: 'rv3' }).apply(s52))).toMatch(/rv3.*\(None, 5, 2\)/);
    // a recurrent layer needs a sequence
    expect(thrown(() => rnn.layers.simpleRNN({ units: 2, name: 'rnn_vec' }).apply(x4))).toMatch(/rnn_vec/);
    // apply is for symbolic tensors only
    const e5 = thrown(() => rnn.layers.dense({ units: 1, name: 'dense_data' }).apply({ data: [1, 2], shape: [1, 2] } as unknown as ST));
    expect(e5).toMatch(/dense_data\.apply: input 0 is not a symbolic tensor/);
    expect(thrown(() => lstm.apply(seq, { initialState: [[0, 0, 0, 0]] as unknown as ST[] }))).toMatch(/initialState\[0\] is not a symbolic tensor/);
    // a shared layer must get inputs that give the same weights
    const shared = rnn.layers.dense({ units: 2, name: 'shared_shape' });
    shared.apply(x5);
    expect(thrown(() => shared.apply(x4))).toMatch(/shared_shape.*\(None, 5\).*\(None, 4\)/);
  });

  it('compile errors: unknown loss / metric names, per-output objects naming unknown outputs, lossWeights of the wrong length; the old config stays', async () => {
    const x = rnn.input({ shape: [3], name: 'cx' });
    const t = one(rnn.layers.dense({ units: 4, name: 'ctrunk' }).apply(x));
    const oa = one(rnn.layers.dense({ units: 1, name: 'c_out_a' }).apply(t));
    const ob = one(rnn.layers.dense({ units: 2, name: 'c_out_b' }).apply(t));
    const model = rnn.model({ inputs: x, outputs: [oa, ob], seed: 3 });
    const opt = () => rnn.optimizers.sgd({ learningRate: 0.01 });
    model.compile({ optimizer: opt(), loss: 'mse', metrics: ['mae'] });
    const bad: [unknown, RegExp][] = [
      [{ loss: 'nope' }, /unknown loss 'nope'/],
      [{ loss: 'mse', metrics: ['accuracy'] }, /unknown metric 'accuracy'/],
      [{ loss: { c_out_a: 'mse', c_out_x: 'mae' } }, /loss names unknown outputs c_out_x \(outputs: c_out_a, c_out_b\)/],
      [{ loss: { c_out_a: 'mse', c_out_b: 'crossentropy' } }, /output c_out_b.*unknown loss 'crossentropy'/],
      [{ loss: { c_out_a: 'mse' } }, /no loss for output c_out_b/],
      [{ loss: ['mse'] }, /loss has 1 entries for 2 outputs/],
      [{ loss: 'mse', metrics: { c_out_z: ['mae'] } }, /metrics names unknown outputs c_out_z/],
      [{ loss: 'mse', lossWeights: [1] }, /lossWeights has 1 entries for 2 outputs \(c_out_a, c_out_b\)/],
      [{ loss: 'mse', lossWeights: [1, 2, 3] }, /lossWeights has 3 entries for 2 outputs/],
      [{ loss: 'mse', lossWeights: { c_out_q: 2 } }, /lossWeights names unknown outputs c_out_q/],
      [{ loss: 'mse', lossWeights: [1, -1] }, /lossWeights for c_out_b must be a finite number >= 0/],
      [{ loss: { kind: 'huber', delta: 0, warmupSteps: 0 } }, /delta must be a positive number/],
    ];
    expect(() => rnn.losses.huber({ delta: 0 })).toThrow(/losses.huber: delta must be a positive number, got 0/);
    for (const [args, re] of bad) {
      expect(() => model.compile({ optimizer: opt(), ...(args as object) } as unknown as rnn.CompileArgs), JSON.stringify(args)).toThrow(re);
    }
    expect(model.pooledBytes).toBe(0); // nothing was built
    // a single-output model: a list of 2 losses or lossWeights is the wrong length
    const single = rnn.model({ inputs: x, outputs: oa });
    expect(() => single.compile({ optimizer: opt(), loss: ['mse', 'mae'] })).toThrow(/loss has 2 entries for 1 outputs/);
    expect(() => single.compile({ optimizer: opt(), loss: 'mse', lossWeights: [1, 2] })).toThrow(/lossWeights has 2 entries for 1 outputs/);
    // the failed compiles left the first one in place
    const xs = host(randomArray(8 * 3, 1), [8, 3]);
    const h = await model.fit(xs, [host(randomArray(8, 2), [8, 1]), host(randomArray(16, 3), [8, 2])], { epochs: 1, batchSize: 4 });
    expect(Object.keys(h.history).sort()).toEqual(['c_out_a_loss', 'c_out_a_mae', 'c_out_b_loss', 'c_out_b_mae', 'loss']);
    model.dispose();
  });

  it('data errors for a 2-input, 2-output model: x / y counts and names, shapes, rows; pooled memory unchanged, the model still trains', async () => {
    const a = rnn.input({ shape: [3], name: 'da' });
    const b = rnn.input({ shape: [null, 2], name: 'db' });
    const hb = one(rnn.layers.simpleRNN({ units: 3, name: 'd_rnn' }).apply(b));
    const cat = one(rnn.layers.concatenate({ name: 'd_cat' }).apply([a, hb]));
    const oa = one(rnn.layers.dense({ units: 1, name: 'd_out_a' }).apply(cat));
    const ob = one(rnn.layers.dense({ units: 2, name: 'd_out_b' }).apply(cat));
    const model = rnn.model({ inputs: [a, b], outputs: [oa, ob], seed: 4 });
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.01 }), loss: 'mse' });
    const N = 6;
    const xa = host(randomArray(N * 3, 5), [N, 3]);
    const xb = host(randomArray(N * 4 * 2, 6), [N, 4, 2]);
    const ya = host(randomArray(N, 7), [N, 1]);
    const yb = host(randomArray(N * 2, 8), [N, 2]);
    await model.predict([xa, xb]); // built: the checks below must not add GPU work
    const bytes = model.pooledBytes;
    expect(bytes).toBeGreaterThan(0);
    const cases: [Promise<unknown>, RegExp][] = [
      [model.fit([xa], [ya, yb]), /x must be 2 arrays \(da, db\), got 1/],
      [model.fit([xa, xb, xa], [ya, yb]), /x must be 2 arrays \(da, db\), got 3/],
      [model.fit({ da: xa, dz: xb }, [ya, yb]), /x names unknown dz \(expected: da, db\)/],
      [model.fit({ da: xa }, [ya, yb]), /x has no db/],
      [model.fit([xa, host(randomArray(N * 4 * 3, 9), [N, 4, 3])], [ya, yb]), /input db shape \(None, 4, 3\) does not match the model's input \(None, None, 2\) \(layer d_rnn\)/],
      [model.fit([host(randomArray(N * 2, 9), [N, 2]), xb], [ya, yb]), /input da shape \(None, 2\).*\(None, 3\) \(layer d_cat\)/],
      [model.fit([xa, host(randomArray(5 * 8, 9), [5, 4, 2])], [ya, yb]), /has 5 rows/],
      [model.fit([xa, xb], [ya]), /y must be 2 arrays \(d_out_a, d_out_b\), got 1/],
      [model.fit([xa, xb], { d_out_a: ya, d_out_c: yb }), /y names unknown d_out_c/],
      [model.fit([xa, xb], [ya, host(randomArray(N * 3, 9), [N, 3])]), /y d_out_b has shape \[6, 3\] but the model outputs \(None, 2\)/],
      [model.fit([xa, xb], [host(randomArray(4, 9), [4, 1]), yb]), /y d_out_a has 4/],
      [model.evaluate({ da: xa }, [ya, yb]), /x has no db/],
      [model.predict([xa]), /x must be 2 arrays/],
      [model.gradients([xa, xb], [yb, ya]), /y d_out_a has shape \[6, 2\] but the model outputs \(None, 1\)/],
      [model.trainOnBatch([xa, xb], [ya, yb], { sampleWeight: [1, 2] }), /sampleWeight must be \[6\]/],
    ];
    for (const [p, re] of cases) expect(await rejected(p)).toMatch(re);
    expect(model.pooledBytes).toBe(bytes);
    const h = await model.fit({ db: xb, da: xa }, { d_out_b: yb, d_out_a: ya }, { epochs: 2, batchSize: 3 });
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    model.dispose();
  });

  it('a single-output model: a wrong y shape names both shapes', async () => {
    const x = rnn.input({ shape: [null, 2] });
    const y = one(rnn.layers.dense({ units: 1, name: 'y_head' }).apply(one(rnn.layers.lstm({ units: 2, returnSequences: true }).apply(x))));
    const model = rnn.model({ inputs: x, outputs: y, seed: 1 });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const msg = await rejected(model.fit(host(randomArray(2 * 3 * 2, 1), [2, 3, 2]), host(randomArray(2 * 3, 2), [2, 3])));
    expect(msg).toMatch(/y has shape \[2, 3\] but the model outputs \(None, 3, 1\) for x of shape \[2, 3, 2\]/);
    expect(model.pooledBytes).toBe(0);
  });
});

// =============================================================================================
describe('2. losses at model level vs Keras 3 formulas (float64 here)', () => {
  /** One Dense(3) on [B, 4] with fixed weights; predictions in float64. */
  async function fixedDense(loss: rnn.CompileArgs['loss']) {
    const x = rnn.input({ shape: [4] });
    const model = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 3 }).apply(x)), seed: 2 });
    model.compile({ optimizer: 'sgd', loss });
    const W = f64(randomArray(12, 21)), b = f64(randomArray(3, 22, -0.5, 0.5));
    await model.setWeights([host(W, [4, 3]), host(b, [3])]);
    const B = 7;
    const xs = f64(randomArray(B * 4, 23));
    const ys = f64(randomArray(B * 3, 24, -2, 2)); // errors on both sides of delta 0.5 and 1
    return { model, xs: host(xs, [B, 4]), ys: host(ys, [B, 3]), pred: denseRef(xs, B, 4, W, b, 3), truth: ys };
  }

  const cases: [string, rnn.CompileArgs['loss'], 'mse' | 'mae' | 'huber', number][] = [
    ["'mae'", 'mae', 'mae', 1],
    ["'mean_absolute_error'", 'mean_absolute_error', 'mae', 1],
    ["'huber' (delta 1)", 'huber', 'huber', 1],
    ['rnn.losses.huber({delta: 0.5})', rnn.losses.huber({ delta: 0.5 }), 'huber', 0.5],
    ['rnn.losses.meanSquaredError()', rnn.losses.meanSquaredError(), 'mse', 1],
  ];
  for (const [label, loss, kind, delta] of cases) {
    it(`evaluate with loss ${label} equals the formula (1e-6)`, async () => {
      const { model, xs, ys, pred, truth } = await fixedDense(loss);
      const ref = kerasLoss(kind, pred, truth, 3, delta);
      if (kind === 'huber') {
        // the data reach both branches of Huber
        const d = pred.map((p, i) => Math.abs(p - truth[i]!));
        expect(d.some((v) => v <= delta) && d.some((v) => v > delta)).toBe(true);
      }
      const got = (await model.evaluate(xs, ys)) as number;
      expect(Math.abs(got - ref), `${label}: got ${got}, Keras ${ref}`).toBeLessThan(1e-6);
      expect(Math.abs((await model.evaluate(xs, ys, { batchSize: 3 })) as number - ref)).toBeLessThan(1e-6);
      model.dispose();
    });
  }

  it('masked loss: Masking → LSTM(returnSequences) → Dense on zero-padded sequences (pre and post) = the unpadded groups combined (1e-5)', async () => {
    const F = 2, T = 5, La = 3, Lb = 5, nA = 3, nB = 2;
    const inp = rnn.input({ shape: [null, F] });
    const masked = one(rnn.layers.masking().apply(inp));
    const seqOut = one(rnn.layers.lstm({ units: 4, returnSequences: true }).apply(masked));
    const out = one(rnn.layers.dense({ units: 1 }).apply(seqOut));
    const model = rnn.model({ inputs: inp, outputs: out, seed: 7 });
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const xA = randomArray(nA * La * F, 31, 0.1, 1), yA = randomArray(nA * La, 32);
    const xB = randomArray(nB * Lb * F, 33, -1, -0.1), yB = randomArray(nB * Lb, 34);
    const lA = await model.evaluateLogs(host(xA, [nA, La, F]), host(yA, [nA, La, 1]));
    const lB = await model.evaluateLogs(host(xB, [nB, Lb, F]), host(yB, [nB, Lb, 1]));
    const wA = nA * La, wB = nB * Lb; // unmasked steps of each group
    const want = { loss: (wA * lA.loss! + wB * lB.loss!) / (wA + wB), mae: (wA * lA.mae! + wB * lB.mae!) / (wA + wB) };
    for (const where of ['pre', 'post'] as const) {
      const x = new Float64Array((nA + nB) * T * F);
      const y = new Float64Array((nA + nB) * T).fill(100); // padded steps' targets must not count
      const off = where === 'pre' ? T - La : 0;
      for (let r = 0; r < nA; r++) {
        for (let t = 0; t < La; t++) {
          for (let f = 0; f < F; f++) x[(r * T + off + t) * F + f] = xA[(r * La + t) * F + f]!;
          y[r * T + off + t] = yA[r * La + t]!;
        }
      }
      x.set(xB, nA * T * F);
      y.set(yB, nA * T);
      const got = await model.evaluateLogs(host(x, [nA + nB, T, F]), host(y, [nA + nB, T, 1]));
      expect(Math.abs(got.loss! - want.loss), `${where}-padded loss ${got.loss} vs ${want.loss}`).toBeLessThan(1e-5);
      expect(Math.abs(got.mae! - want.mae), `${where}-padded mae ${got.mae} vs ${want.mae}`).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  it('sampleWeight: a zero weight removes a row (loss divided by all rows, Keras sum_over_batch_size; metrics by Σw); gradients and training follow', async () => {
    const mk = () => {
      const x = rnn.input({ shape: [3] });
      return rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1 }).apply(x)), seed: 11 });
    };
    const model = mk();
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.06 }), loss: 'mse', metrics: ['mae'] });
    const W = f64(randomArray(3, 41)), b = f64([0.25]);
    await model.setWeights([host(W, [3, 1]), host(b, [1])]);
    const N = 6, drop = 2;
    const xs = f64(randomArray(N * 3, 42)), ys = f64(randomArray(N, 43));
    ys[drop] = 50; // an outlier that the zero weight must remove
    const keep = [...Array(N).keys()].filter((r) => r !== drop);
    const x5 = host(keep.flatMap((r) => [...xs.subarray(r * 3, r * 3 + 3)]), [N - 1, 3]);
    const y5 = host(keep.map((r) => ys[r]!), [N - 1, 1]);
    const x6 = host(xs, [N, 3]), y6 = host(ys, [N, 1]);
    const sw = Array.from({ length: N }, (_, r) => (r === drop ? 0 : 1));
    const without = await model.evaluateLogs(x5, y5);
    const weighted = await model.evaluateLogs(x6, y6, { sampleWeight: sw });
    expect(Math.abs(weighted.loss! - (without.loss! * (N - 1)) / N)).toBeLessThan(1e-6); // divisor: all 6 rows
    expect(Math.abs(weighted.mae! - without.mae!)).toBeLessThan(1e-6); // metrics: Σ w l / Σ w
    // general weights against the formula
    const w = [2, 0.5, 0, 1, 3, 0.25];
    const pred = denseRef(xs, N, 3, W, b, 1);
    const got = await model.evaluateLogs(x6, y6, { sampleWeight: w });
    expect(Math.abs(got.loss! - kerasLoss('mse', pred, ys, 1, 1, w))).toBeLessThan(1e-5);
    const maeRef = pred.reduce((s, p, r) => s + w[r]! * Math.abs(p - ys[r]!), 0) / w.reduce((a, v) => a + v, 0);
    expect(Math.abs(got.mae! - maeRef)).toBeLessThan(1e-5);
    // gradients: (N-1)/N times the gradients without the row
    const gw = await model.gradients(x6, y6, { sampleWeight: sw });
    const g5 = await model.gradients(x5, y5);
    gw.forEach((g, i) => expectClose(g.data, Array.from(g5[i]!.data, (v) => (v * (N - 1)) / N), { atol: 1e-6, rtol: 1e-5 }, `gradient ${i}`));
    // training: lr 0.06 with the zero-weighted row = lr 0.05 without it (one full batch per step)
    await model.fit(x6, y6, { epochs: 3, batchSize: N, sampleWeight: sw, shuffle: false });
    const other = mk();
    other.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.05 }), loss: 'mse' });
    await other.setWeights([host(W, [3, 1]), host(b, [1])]);
    await other.fit(x5, y5, { epochs: 3, batchSize: N - 1, shuffle: false });
    const [wa, wb] = [await model.getWeights(), await other.getWeights()];
    wa.forEach((t, i) => expectClose(t.data, wb[i]!.data, { atol: 1e-6, rtol: 1e-5 }, `trained weight ${i}`));
    model.dispose();
    other.dispose();
  });

  it("fit's history: loss (mse), 'mae', 'rmse', 'lastTimeStepMse' equal the values computed from predict (weights frozen by a 1e-30 learning rate)", async () => {
    const N = 10, T = 4, F = 2, O = 2;
    const inp = rnn.input({ shape: [null, F] });
    const out = one(rnn.layers.dense({ units: O }).apply(one(rnn.layers.lstm({ units: 3, returnSequences: true }).apply(inp))));
    const model = rnn.model({ inputs: inp, outputs: out, seed: 13 });
    // Keras accepts learning_rate=0; here a learning rate must be > 0, so a negligible one is used
    expect(() => rnn.optimizers.sgd({ learningRate: 0 })).toThrow(/learningRate/);
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 1e-30 }), loss: 'mse', metrics: ['mae', 'rmse', 'lastTimeStepMse'] });
    const x = host(randomArray(N * T * F, 51), [N, T, F]);
    const y = host(randomArray(N * T * O, 52), [N, T, O]);
    const before = await model.getWeights();
    const h = await model.fit(x, y, { epochs: 2, batchSize: 4 }); // batches of 4, 4, 2
    const after = await model.getWeights();
    after.forEach((t, i) => expect(maxAbsDiff(t.data, before[i]!.data)).toBeLessThan(1e-20));
    const p = (await model.predict(x)) as HostTensor;
    const d = Array.from(p.data, (v, i) => v - y.data[i]!);
    const mse = d.reduce((s, v) => s + v * v, 0) / d.length;
    const mae = d.reduce((s, v) => s + Math.abs(v), 0) / d.length;
    let last = 0;
    for (let r = 0; r < N; r++) for (let o = 0; o < O; o++) last += d[(r * T + T - 1) * O + o]! ** 2;
    last /= N * O;
    expect(Object.keys(h.history).sort()).toEqual(['lastTimeStepMse', 'loss', 'mae', 'rmse']);
    for (let e = 0; e < 2; e++) {
      expect(Math.abs(h.history.loss![e]! - mse), `loss epoch ${e}`).toBeLessThan(1e-5);
      expect(Math.abs(h.history.mae![e]! - mae), `mae epoch ${e}`).toBeLessThan(1e-5);
      expect(Math.abs(h.history.rmse![e]! - Math.sqrt(mse)), `rmse epoch ${e}`).toBeLessThan(1e-5);
      expect(Math.abs(h.history.lastTimeStepMse![e]! - last), `lastTimeStepMse epoch ${e}`).toBeLessThan(1e-5);
    }
    // Keras spellings give the same logs under the canonical names
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 1e-30 }), loss: 'mean_squared_error', metrics: ['mean_absolute_error', 'root_mean_squared_error', 'last_time_step_mse'] });
    const logs = await model.evaluateLogs(x, y);
    expect(Math.abs(logs.mae! - mae)).toBeLessThan(1e-5);
    expect(Math.abs(logs.rmse! - Math.sqrt(mse))).toBeLessThan(1e-5);
    expect(Math.abs(logs.lastTimeStepMse! - last)).toBeLessThan(1e-5);
    model.dispose();
  });
});

// =============================================================================================
describe('3. several outputs', () => {
  it('per-output losses (object by name), lossWeights and metrics: history names, loss = Σ weight·output loss, predict gives a list', async () => {
    const x = rnn.input({ shape: [4], name: 'mo_in' });
    const trunk = one(rnn.layers.dense({ units: 5, activation: 'tanh', name: 'mo_trunk' }).apply(x));
    const oa = one(rnn.layers.dense({ units: 1, name: 'out_a' }).apply(trunk));
    const ob = one(rnn.layers.dense({ units: 2, name: 'out_b' }).apply(trunk));
    const model = rnn.model({ inputs: x, outputs: [oa, ob], seed: 17 });
    expect(model.outputNames).toEqual(['out_a', 'out_b']);
    model.compile({
      optimizer: rnn.optimizers.sgd({ learningRate: 0.05 }),
      loss: { out_a: 'mse', out_b: 'mae' },
      lossWeights: { out_a: 0.3, out_b: 2 },
      metrics: { out_a: ['mae'], out_b: ['mse', 'rmse'] },
    });
    const N = 12;
    const xs = host(randomArray(N * 4, 61), [N, 4]);
    const ya = host(randomArray(N, 62), [N, 1]);
    const yb = host(randomArray(N * 2, 63), [N, 2]);
    const h = await model.fit(xs, { out_a: ya, out_b: yb }, { epochs: 2, batchSize: 5, validationData: [xs, [ya, yb]] });
    const names = ['loss', 'out_a_loss', 'out_b_loss', 'out_a_mae', 'out_b_mse', 'out_b_rmse'];
    expect(Object.keys(h.history).sort()).toEqual([...names, ...names.map((n) => `val_${n}`)].sort());
    for (let e = 0; e < 2; e++) {
      for (const p of ['', 'val_']) {
        const total = 0.3 * h.history[`${p}out_a_loss`]![e]! + 2 * h.history[`${p}out_b_loss`]![e]!;
        expect(Math.abs(h.history[`${p}loss`]![e]! - total), `${p}loss epoch ${e}`).toBeLessThan(1e-5);
      }
    }
    const logs = await model.evaluateLogs(xs, [ya, yb]);
    expect(Object.keys(logs)).toEqual(names);
    // the epoch's validation ran on these weights after the last step: the same numbers
    for (const n of names) expect(Math.abs(logs[n]! - h.history[`val_${n}`]![1]!), n).toBeLessThan(1e-6);
    const preds = await model.predict(xs);
    expect(Array.isArray(preds)).toBe(true);
    const [pa, pb] = preds as HostTensor[];
    expect(pa!.shape).toEqual([N, 1]);
    expect(pb!.shape).toEqual([N, 2]);
    const aLoss = kerasLoss('mse', pa!.data, ya.data, 1);
    const bLoss = kerasLoss('mae', pb!.data, yb.data, 2);
    expect(Math.abs(logs.out_a_loss! - aLoss)).toBeLessThan(1e-6);
    expect(Math.abs(logs.out_b_loss! - bLoss)).toBeLessThan(1e-6);
    expect(Math.abs(logs.loss! - (0.3 * aLoss + 2 * bLoss))).toBeLessThan(1e-5);
    expect(Math.abs(logs.out_a_mae! - kerasLoss('mae', pa!.data, ya.data, 1))).toBeLessThan(1e-6);
    expect(Math.abs(logs.out_b_mse! - kerasLoss('mse', pb!.data, yb.data, 2))).toBeLessThan(1e-6);
    expect(Math.abs(logs.out_b_rmse! - Math.sqrt(kerasLoss('mse', pb!.data, yb.data, 2)))).toBeLessThan(1e-6);
    // evaluate: [loss, output losses, metrics] in that order (Keras)
    expect(await model.evaluate(xs, [ya, yb])).toEqual(names.map((n) => logs[n]));
    // the same configuration as lists in output order
    model.compile({ optimizer: 'sgd', loss: ['mse', 'mae'], lossWeights: [0.3, 2], metrics: [['mae'], ['mse', 'rmse']] });
    const logs2 = await model.evaluateLogs({ mo_in: xs }, { out_b: yb, out_a: ya });
    for (const n of names) expect(logs2[n], n).toBe(logs[n]);
    // one loss for every output, weights 1
    model.compile({ optimizer: 'sgd', loss: 'mae' });
    const logs3 = await model.evaluateLogs(xs, [ya, yb]);
    expect(Object.keys(logs3)).toEqual(['loss', 'out_a_loss', 'out_b_loss']);
    expect(Math.abs(logs3.loss! - (kerasLoss('mae', pa!.data, ya.data, 1) + bLoss))).toBeLessThan(1e-6);
    model.dispose();
  });
});

// =============================================================================================
describe('4. the model during fit', () => {
  const N = 24;
  const xs = host(randomArray(N * 3, 71), [N, 3]);
  const ys = host(randomArray(N, 72), [N, 1]);
  const xv = host(randomArray(8 * 3, 73), [8, 3]);
  const yv = host(randomArray(8, 74), [8, 1]);
  const mk = (seed = 19) => {
    const x = rnn.input({ shape: [3] });
    const y = one(rnn.layers.dense({ units: 1 }).apply(one(rnn.layers.dense({ units: 6, activation: 'tanh' }).apply(x))));
    const m = rnn.model({ inputs: x, outputs: y, seed });
    m.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse', metrics: ['mae'] });
    return m;
  };

  it('onEpochEnd may call predict and evaluate (no busy error); the epochs\' logs are the same as without the callback', async () => {
    const plain = mk();
    const hPlain = await plain.fit(xs, ys, { epochs: 3, batchSize: 8, validationData: [xv, yv] });
    const model = mk();
    const seen: { epoch: number; val: number; evalLoss: number; pred: HostTensor }[] = [];
    const batchPreds: number[] = [];
    const h = await model.fit(xs, ys, {
      epochs: 3, batchSize: 8, validationData: [xv, yv],
      callbacks: [{
        onBatchEnd: async (batch) => {
          if (batch === 1) batchPreds.push(((await model.predict(xv)) as HostTensor).shape[0]!);
        },
        onEpochEnd: async (epoch, logs) => {
          const pred = (await model.predict(xv, { batchSize: 3 })) as HostTensor;
          const ev = (await model.evaluate(xv, yv)) as number[];
          await model.evaluate(xs, ys, { batchSize: 5 });
          seen.push({ epoch, val: logs.val_loss!, evalLoss: ev[0]!, pred });
        },
      }],
    });
    expect(h).toEqual(hPlain); // bit for bit
    expect(seen.map((s) => s.epoch)).toEqual([0, 1, 2]);
    for (const s of seen) expect(s.evalLoss, `epoch ${s.epoch}`).toBe(s.val); // same weights, same data
    expect(batchPreds).toEqual([8, 8, 8]);
    const after = (await model.predict(xv, { batchSize: 3 })) as HostTensor;
    expect(sameBits(after, seen[2]!.pred)).toBe(true);
    plain.dispose();
    model.dispose();
  });

  it("earlyStopping({monitor: 'val_mae', patience: 1}) stops when val_mae stops improving", async () => {
    const x = rnn.input({ shape: [1] });
    const model = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1 }).apply(x)), seed: 23 });
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse', metrics: ['mae'] });
    await model.setWeights([[[0]], [0]]);
    const xt = randomArray(32, 81);
    // training learns y = 2x while the validation targets are -2x: val_mae grows from epoch 1 on
    const es = rnn.callbacks.earlyStopping({ monitor: 'val_mae', patience: 1 });
    const h = await model.fit(host(xt, [32, 1]), host(xt.map((v) => 2 * v), [32, 1]), {
      epochs: 10, batchSize: 8, validationData: [host(xt, [32, 1]), host(xt.map((v) => -2 * v), [32, 1])], callbacks: es,
    });
    const v = h.history.val_mae!;
    expect(h.epoch).toEqual([0, 1]);
    expect(v[1]!).toBeGreaterThan(v[0]!);
    expect(es.stoppedEpoch).toBe(1);
    expect(es.bestEpoch).toBe(0);
    model.dispose();
  });

  // Regression: fit's epoch loss is summed on the GPU; trainOnBatch / gradients from a callback
  // used to clear or add to those sums. Training calls are now refused inside fit (busy error).
  // Weights are held still (lr 1e-30) so fit's own epoch loss must equal evaluate's.
  for (const call of ['trainOnBatch', 'gradients'] as const) {
    it(`${call} inside onBatchEnd is refused or leaves the epoch's logged loss alone`, async () => {
      const x = rnn.input({ shape: [3] });
      const model = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1 }).apply(x)), seed: 27 });
      model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 1e-30 }), loss: 'mse' });
      const other = host(Array.from(ys.data, (v) => v + 10), [N, 1]);
      let refused = false;
      const h = await model.fit(xs, ys, {
        epochs: 1, batchSize: 8, shuffle: false,
        callbacks: {
          onBatchEnd: async () => {
            try {
              await (call === 'trainOnBatch' ? model.trainOnBatch(xs, other) : model.gradients(xs, other));
            } catch (e) {
              if (!/busy/.test((e as Error).message)) throw e;
              refused = true;
            }
          },
        },
      });
      if (!refused) {
        const ev = (await model.evaluate(xs, ys)) as number;
        expect(Math.abs(h.history.loss![0]! - ev), `epoch loss ${h.history.loss![0]} vs evaluate ${ev}`).toBeLessThan(1e-5);
      }
      model.dispose();
    });
  }

  it('a call from outside while fit runs is refused (busy), fit completes; compile and dispose inside a callback are refused', async () => {
    const model = mk(29);
    const errors: string[] = [];
    const fitting = model.fit(xs, ys, {
      epochs: 2, batchSize: 8,
      callbacks: {
        onEpochEnd: () => {
          errors.push(thrown(() => model.compile({ optimizer: 'adam', loss: 'mae' })));
          errors.push(thrown(() => model.dispose()));
        },
      },
    });
    // started right after fit, without awaiting it
    const outside = [model.predict(xs), model.evaluate(xs, ys), model.trainOnBatch(xs, ys), model.fit(xs, ys), model.gradients(xs, ys), model.setWeights([])];
    const syncErrors = [thrown(() => model.compile({ optimizer: 'sgd', loss: 'mse' })), thrown(() => model.dispose()), thrown(() => model.resetStates())];
    const msgs = await Promise.all(outside.map(rejected));
    for (const m of [...msgs, ...syncErrors]) expect(m).toMatch(/busy with fit/);
    expect(msgs[0]).toMatch(/predict: the model is busy with fit \(await it first\)/);
    expect(syncErrors[0]).toMatch(/compile: the model is busy with fit \(wait for it to finish\)/);
    const h = await fitting;
    expect(h.epoch).toEqual([0, 1]);
    expect(h.history.loss!.every(Number.isFinite)).toBe(true);
    expect(errors.length).toBe(4);
    expect(errors[0]).toMatch(/compile: the model is busy with fit \(wait for it to finish\)/);
    expect(errors[1]).toMatch(/dispose: the model is busy with fit \(wait for it to finish\)/);
    // still usable, with its first compile (mse + mae)
    const logs = await model.evaluateLogs(xs, ys);
    expect(Object.keys(logs)).toEqual(['loss', 'mae']);
    model.dispose();
    expect(await rejected(model.predict(xs))).toMatch(/disposed/);
  });
});

// =============================================================================================
describe('5. rnn.utils.timeseriesDatasetFromArray (Keras timeseries_dataset_from_array)', () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const windows = (ds: rnn.TimeseriesDataset) => {
    const [n, L] = ds.x.shape as [number, number];
    return range(n).map((w) => Array.from(ds.x.data.subarray(w * L, (w + 1) * L)));
  };

  it("Keras's documented example: indices 0..98, sequenceLength 10, samplingRate 2, sequenceStride 3", () => {
    const ds = rnn.utils.timeseriesDatasetFromArray(range(99), null, { sequenceLength: 10, samplingRate: 2, sequenceStride: 3 });
    const w = windows(ds);
    expect(ds.y).toBeNull();
    expect(ds.x.shape).toEqual([27, 10, 1]);
    expect(w[0]).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(w[1]).toEqual([3, 5, 7, 9, 11, 13, 15, 17, 19, 21]);
    expect(w[2]).toEqual([6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
    expect(w.at(-1)).toEqual([78, 80, 82, 84, 86, 88, 90, 92, 94, 96]);
  });

  it('targets: window j gets targets[startIndex + j·stride]; data[:-10] / data[10:] is next-step forecasting', () => {
    const data = range(100);
    const ds = rnn.utils.timeseriesDatasetFromArray(data.slice(0, -10), data.slice(10), { sequenceLength: 10 });
    expect(ds.x.shape).toEqual([81, 10, 1]);
    expect(ds.y!.shape).toEqual([81, 1]);
    expect(windows(ds)[0]).toEqual(range(10));
    expect(ds.y!.data[0]).toBe(10);
    expect(windows(ds)[80]).toEqual(range(10).map((i) => 80 + i));
    expect(ds.y!.data[80]).toBe(90);
    // samplingRate 2: window 0 = [0, 2, …, 18], its target targets[0]
    const t = range(100).map((i) => 1000 + i);
    const s2 = rnn.utils.timeseriesDatasetFromArray(data, t, { sequenceLength: 10, samplingRate: 2 });
    expect(windows(s2)[0]).toEqual(range(10).map((i) => 2 * i));
    expect(s2.y!.data[0]).toBe(1000);
    expect(s2.x.shape[0]).toBe(100 - 18);
    expect(s2.y!.data[5]).toBe(1005);
    // sequenceStride 4
    const s4 = rnn.utils.timeseriesDatasetFromArray(data, t, { sequenceLength: 5, sequenceStride: 4 });
    expect(windows(s4)[3]).toEqual([12, 13, 14, 15, 16]);
    expect(s4.y!.data[3]).toBe(1012);
    expect(s4.x.shape[0]).toBe(Math.ceil(96 / 4));
    // startIndex / endIndex: only rows [20, 50) are read; targets from targets[20]
    const se = rnn.utils.timeseriesDatasetFromArray(data, t, { sequenceLength: 5, startIndex: 20, endIndex: 50 });
    expect(se.x.shape[0]).toBe(26);
    expect(windows(se)[0]).toEqual([20, 21, 22, 23, 24]);
    expect(windows(se).at(-1)).toEqual([45, 46, 47, 48, 49]);
    expect(Array.from(se.y!.data.subarray(0, 2))).toEqual([1020, 1021]);
    expect(se.y!.data[25]).toBe(1045);
    // several features: [n, L, F]; batches as views
    const feats = { data: range(40), shape: [20, 2] };
    const sf = rnn.utils.timeseriesDatasetFromArray(feats, null, { sequenceLength: 3, batchSize: 5 });
    expect(sf.x.shape).toEqual([18, 3, 2]);
    expect(Array.from(sf.x.data.subarray(6, 12))).toEqual([2, 3, 4, 5, 6, 7]);
    expect(sf.batches).toBe(4);
    expect(sf.batch(3).x.shape).toEqual([3, 3, 2]);
    expect(() => sf.batch(4)).toThrow(/batch 4 is outside 0\.\.3/);
  });

  it('shuffle: a seeded permutation of the unshuffled windows, each with its own target', () => {
    const data = range(60);
    const t = data.map((v) => v * 10);
    const plain = rnn.utils.timeseriesDatasetFromArray(data, t, { sequenceLength: 4, sequenceStride: 2 });
    const sh = rnn.utils.timeseriesDatasetFromArray(data, t, { sequenceLength: 4, sequenceStride: 2, shuffle: true, seed: 42 });
    const again = rnn.utils.timeseriesDatasetFromArray(data, t, { sequenceLength: 4, sequenceStride: 2, shuffle: true, seed: 42 });
    const key = (w: number[]) => w.join(',');
    const a = windows(plain).map(key), b = windows(sh).map(key);
    expect(b).not.toEqual(a);
    expect([...b].sort()).toEqual([...a].sort());
    windows(sh).forEach((w, j) => expect(sh.y!.data[j]).toBe(w[0]! * 10));
    expect(Array.from(again.x.data)).toEqual(Array.from(sh.x.data));
  });

  it('errors for bad options', () => {
    const d = range(20);
    const f = (o: Partial<rnn.TimeseriesOptions>, targets: number[] | null = null) => () => rnn.utils.timeseriesDatasetFromArray(d, targets, o as rnn.TimeseriesOptions);
    expect(() => rnn.utils.timeseriesDatasetFromArray(d, null, undefined as unknown as rnn.TimeseriesOptions)).toThrow(/sequenceLength/);
    expect(f({ sequenceLength: 0 })).toThrow(/sequenceLength must be an integer >= 1, got 0/);
    expect(f({ sequenceLength: 2.5 })).toThrow(/sequenceLength/);
    expect(f({ sequenceLength: 3, samplingRate: 0 })).toThrow(/samplingRate/);
    expect(f({ sequenceLength: 3, samplingRate: 20 })).toThrow(/samplingRate \(20\).*lower than the length of the data \(20\)/);
    expect(f({ sequenceLength: 3, sequenceStride: 25 })).toThrow(/sequenceStride/);
    expect(f({ sequenceLength: 3, startIndex: 20 })).toThrow(/startIndex 20/);
    expect(f({ sequenceLength: 3, startIndex: -1 })).toThrow(/startIndex/);
    expect(f({ sequenceLength: 3, startIndex: 5, endIndex: 5 })).toThrow(/endIndex 5 must be in \(5, 20\]/);
    expect(f({ sequenceLength: 3, endIndex: 21 })).toThrow(/endIndex 21/);
    expect(f({ sequenceLength: 21 })).toThrow(/no window of 21 steps/);
    expect(f({ sequenceLength: 3, startIndex: 10, endIndex: 12 })).toThrow(/no window/);
    expect(f({ sequenceLength: 3, batchSize: 0 })).toThrow(/batchSize/);
    expect(f({ sequenceLength: 3 }, [1, 2, Number.NaN])).toThrow(/NaN/);
  });

  it('the "CTA ridership" workflow: daily series → 56-day windows → SimpleRNN(32) → Dense(1), huber, SGD momentum, earlyStopping(val_mae, restoreBestWeights)', async () => {
    // ~400 days: weekly seasonality (weekends low), a slow trend, noise; MinMax-scaled
    const days = 400;
    const rng = makeRng(2024);
    const weekly = [1.0, 1.02, 1.03, 1.01, 0.97, 0.55, 0.42];
    const raw = Array.from({ length: days }, (_, d) => 8e5 * weekly[d % 7]! * (1 + 0.0005 * d) + 4e4 * (rng() - 0.5));
    const scaler = rnn.MinMaxScaler.fit({ data: Float32Array.from(raw), shape: [days, 1] });
    const series = scaler.transform({ data: Float32Array.from(raw), shape: [days, 1] });
    const L = 56, split = 300;
    const targets = { data: series.data.slice(L), shape: [days - L, 1] };
    const train = rnn.utils.timeseriesDatasetFromArray(series, targets, { sequenceLength: L, batchSize: 32, shuffle: true, seed: 42, endIndex: split });
    const valid = rnn.utils.timeseriesDatasetFromArray(series, targets, { sequenceLength: L, batchSize: 32, startIndex: split });
    expect(train.x.shape).toEqual([split - L + 1, L, 1]);
    expect(valid.x.shape).toEqual([days - L - split, L, 1]);
    // each window's target is the next day
    expect(valid.y!.data[0]).toBe(series.data[split + L]);
    const inp = rnn.input({ shape: [L, 1], name: 'ridership' });
    const out = one(rnn.layers.dense({ units: 1 }).apply(one(rnn.layers.simpleRNN({ units: 32 }).apply(inp))));
    const model = rnn.model({ inputs: inp, outputs: out, seed: 42, name: 'cta' });
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.02, momentum: 0.9 }), loss: 'huber', metrics: ['mae'] });
    const es = rnn.callbacks.earlyStopping({ monitor: 'val_mae', patience: 3, restoreBestWeights: true });
    const h = await model.fit(train.x, train.y!, { epochs: 6, batchSize: train.batchSize, validationData: [valid.x, valid.y!], callbacks: es });
    const loss = h.history.loss!;
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss.at(-1)!).toBeLessThan(loss[0]!);
    const valMae = h.history.val_mae!;
    expect(valMae.length).toBe(h.epoch.length);
    // the best epoch's weights are back
    const best = Math.min(...valMae);
    expect(es.best).toBe(best);
    const logs = await model.evaluateLogs(valid.x, valid.y!);
    expect(Math.abs(logs.mae! - best), `mae ${logs.mae} vs best val_mae ${best}`).toBeLessThan(1e-6);
    model.dispose();
  });
});

// =============================================================================================
describe('6. frozen layers (layer.trainable = false)', () => {
  const slotsOf = (m: rnn.Model) => (m as unknown as { dev: { optState: { slots: number } | null } }).dev.optState?.slots;

  it('a frozen middle layer: bit-identical after fit, no optimizer slots, non-trainable in summary; gradients pass through it; unfreezing trains it again', async () => {
    const mk = () => {
      const x = rnn.input({ shape: [3] });
      const l0 = rnn.layers.dense({ units: 4, activation: 'tanh', name: 'fz_l0' });
      const mid = rnn.layers.dense({ units: 4, activation: 'tanh', name: 'fz_mid' });
      const head = rnn.layers.dense({ units: 1, name: 'fz_head' });
      const y = one(head.apply(one(mid.apply(one(l0.apply(x))))));
      const m = rnn.model({ inputs: x, outputs: y, seed: 31 });
      m.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.05 }), loss: 'mse' });
      return { m, mid };
    };
    const N = 16;
    const xs = host(randomArray(N * 3, 91), [N, 3]);
    const ys = host(randomArray(N, 92), [N, 1]);
    const ref = mk();
    const gAll = await ref.m.gradients(xs, ys);
    ref.m.dispose();
    const { m: model, mid } = mk();
    mid.trainable = false;
    const g = await model.gradients(xs, ys);
    // the frozen weights get zeros; the layers before and after get the same gradients as unfrozen
    expect(g[2]!.data.every((v) => v === 0) && g[3]!.data.every((v) => v === 0)).toBe(true);
    for (const i of [0, 1, 4, 5]) expectClose(g[i]!.data, gAll[i]!.data, { atol: 1e-7, rtol: 1e-6 }, `gradient ${model.weightNames[i]}`);
    const before = await model.getWeights();
    await model.fit(xs, ys, { epochs: 3, batchSize: 8 });
    const after = await model.getWeights();
    expect(sameBits(after[2]!, before[2]!) && sameBits(after[3]!, before[3]!)).toBe(true);
    for (const i of [0, 1, 4, 5]) expect(sameBits(after[i]!, before[i]!), model.weightNames[i]).toBe(false);
    expect(slotsOf(model)).toBe(16 + 5);
    const s = model.summary(null);
    expect(s).toMatch(/Total params: 41/);
    expect(s).toMatch(/Trainable params: 21/);
    expect(s).toMatch(/Non-trainable params: 20/);
    const info = await model.trainingStepInfo([8, 3], [8, 1]);
    // unfreeze: the next fit trains it, with slots for every weight
    mid.trainable = true;
    await model.fit(xs, ys, { epochs: 1, batchSize: 8 });
    const again = await model.getWeights();
    expect(sameBits(again[2]!, after[2]!)).toBe(false);
    expect(slotsOf(model)).toBe(41);
    expect(model.summary(null)).toMatch(/Non-trainable params: 0/);
    expect((await model.trainingStepInfo([8, 3], [8, 1])).dispatches).toBeGreaterThan(info.dispatches);
    model.dispose();
  });

  // Regression: train plans were cached by batch shape only, so gradients() reused a plan built
  // before `trainable` changed. A train plan's cache key now includes the trained variables.
  it('gradients() sees trainable changed after the train plan was built (zeros for the newly frozen layer)', async () => {
    const x = rnn.input({ shape: [3] });
    const l0 = rnn.layers.dense({ units: 2, name: 'fz2_l0' });
    const model = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1, name: 'fz2_head' }).apply(one(l0.apply(x)))), seed: 37 });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const xs = host(randomArray(6 * 3, 93), [6, 3]);
    const ys = host(randomArray(6, 94), [6, 1]);
    const g1 = await model.gradients(xs, ys);
    expect(g1[0]!.data.some((v) => v !== 0)).toBe(true);
    l0.trainable = false;
    const g2 = await model.gradients(xs, ys);
    expect(Array.from(g2[0]!.data), 'frozen kernel gradient').toEqual(new Array(6).fill(0));
    expectClose(g2[2]!.data, g1[2]!.data, { atol: 1e-7, rtol: 1e-6 }, 'head kernel gradient');
    model.dispose();
  });

  // Regression (same cause): unfreezing after gradients() ran with the layer frozen takes effect at
  // the next fit.
  it('unfreezing a layer after gradients() was called while it was frozen: the next fit trains it', async () => {
    const x = rnn.input({ shape: [3] });
    const l0 = rnn.layers.dense({ units: 2, name: 'fz3_l0' });
    const model = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1, name: 'fz3_head' }).apply(one(l0.apply(x)))), seed: 39 });
    model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
    const xs = host(randomArray(6 * 3, 97), [6, 3]);
    const ys = host(randomArray(6, 98), [6, 1]);
    l0.trainable = false;
    await model.gradients(xs, ys);
    l0.trainable = true;
    const before = await model.getWeights();
    await model.fit(xs, ys, { epochs: 2, batchSize: 6 });
    const after = await model.getWeights();
    expect(sameBits(after[2]!, before[2]!), 'the head trains').toBe(false);
    expect(sameBits(after[0]!, before[0]!), 'the unfrozen layer trains').toBe(false);
    model.dispose();
  });

  it('a frozen LSTM between two Dense layers: the first Dense still gets the full gradient through it', async () => {
    const mk = (freeze: boolean) => {
      const x = rnn.input({ shape: [4, 2] });
      const lstm = rnn.layers.lstm({ units: 3 });
      lstm.trainable = !freeze;
      const y = one(rnn.layers.dense({ units: 1 }).apply(one(lstm.apply(one(rnn.layers.dense({ units: 3, activation: 'tanh' }).apply(x))))));
      const m = rnn.model({ inputs: x, outputs: y, seed: 41 });
      m.compile({ optimizer: 'adam', loss: 'mse' });
      return m;
    };
    const xs = host(randomArray(5 * 4 * 2, 95), [5, 4, 2]);
    const ys = host(randomArray(5, 96), [5, 1]);
    const a = mk(false), b = mk(true);
    const ga = await a.gradients(xs, ys), gb = await b.gradients(xs, ys);
    for (const i of [2, 3, 4]) expect(gb[i]!.data.every((v) => v === 0), `frozen ${b.weightNames[i]}`).toBe(true);
    for (const i of [0, 1, 5, 6]) expectClose(gb[i]!.data, ga[i]!.data, { atol: 1e-6, rtol: 1e-5 }, b.weightNames[i]!);
    a.dispose();
    b.dispose();
  });
});

// =============================================================================================
describe('7. shared layers', () => {
  it('one Dense applied to two inputs: weights counted once; its gradient is the sum over both uses (hand computation)', async () => {
    const a = rnn.input({ shape: [3], name: 'sh_a' });
    const b = rnn.input({ shape: [3], name: 'sh_b' });
    const shared = rnn.layers.dense({ units: 2, name: 'sh_dense' });
    const head = rnn.layers.dense({ units: 1, name: 'sh_head' });
    const sum = one(rnn.layers.add({ name: 'sh_add' }).apply([one(shared.apply(a)), one(shared.apply(b))]));
    const model = rnn.model({ inputs: [a, b], outputs: one(head.apply(sum)), seed: 43 });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    expect(model.layers.map((l) => l.name)).toEqual(['sh_dense', 'sh_add', 'sh_head']);
    expect(model.countParams()).toBe(3 * 2 + 2 + 2 + 1);
    expect(shared.nodes.length).toBe(2);
    const W = f64(randomArray(6, 101)), bw = f64(randomArray(2, 102)), V = f64(randomArray(2, 103)), c = f64([0.1]);
    await model.setWeights([host(W, [3, 2]), host(bw, [2]), host(V, [2, 1]), host(c, [1])]);
    const ws = await model.getWeights();
    expect(ws.map((w) => w.shape)).toEqual([[3, 2], [2], [2, 1], [1]]);
    expect(model.weightNames).toEqual(['sh_dense/kernel', 'sh_dense/bias', 'sh_head/kernel', 'sh_head/bias']);
    const B = 5;
    const xa = f64(randomArray(B * 3, 104)), xb = f64(randomArray(B * 3, 105)), y = f64(randomArray(B, 106));
    // forward: h = (xa W + b) + (xb W + b); p = h V + c; loss = mean (p - y)²
    const h = denseRef(xa, B, 3, W, bw, 2).map((v, i) => v + denseRef(xb, B, 3, W, bw, 2)[i]!);
    const p = denseRef(h, B, 2, V, c, 1);
    const dp = p.map((v, r) => (2 * (v - y[r]!)) / B);
    const gW = new Float64Array(6), gb = new Float64Array(2), gV = new Float64Array(2);
    let gc = 0;
    for (let r = 0; r < B; r++) {
      gc += dp[r]!;
      for (let u = 0; u < 2; u++) {
        gV[u]! += dp[r]! * h[r * 2 + u]!;
        const dh = dp[r]! * V[u]!;
        gb[u]! += 2 * dh; // the bias is added once per use
        for (let k = 0; k < 3; k++) gW[k * 2 + u]! += dh * (xa[r * 3 + k]! + xb[r * 3 + k]!);
      }
    }
    const pred = (await model.predict([host(xa, [B, 3]), host(xb, [B, 3])])) as HostTensor;
    expectClose(pred.data, p, FORWARD, 'prediction');
    const g = await model.gradients([host(xa, [B, 3]), host(xb, [B, 3])], host(y, [B, 1]));
    expectClose(g[0]!.data, gW, { atol: 1e-6, rtol: 1e-5 }, 'shared kernel gradient');
    expectClose(g[1]!.data, gb, { atol: 1e-6, rtol: 1e-5 }, 'shared bias gradient');
    expectClose(g[2]!.data, gV, { atol: 1e-6, rtol: 1e-5 }, 'head kernel gradient');
    expectClose(g[3]!.data, [gc], { atol: 1e-6, rtol: 1e-5 }, 'head bias gradient');
    // one SGD step applies that summed gradient once
    await model.trainOnBatch([host(xa, [B, 3]), host(xb, [B, 3])], host(y, [B, 1]));
    const [W1] = await model.getWeights();
    expectClose(W1!.data, W.map((v, i) => v - 0.01 * gW[i]!), { atol: 1e-6, rtol: 1e-5 }, 'shared kernel after one step');
    model.dispose();
  });
});

// =============================================================================================
describe('8. inference models built from a trained model\'s layers share its weights', () => {
  it('encoder–decoder: the encoder model (→ [h, c]) and a decoder step model (x, h, c → [y, h, c]) decode teacher-forced as the training model predicts (1e-5)', async () => {
    const U = 6, Te = 7, Td = 4, N = 8;
    const encIn = rnn.input({ shape: [null, 1], name: 'enc_in' });
    const decIn = rnn.input({ shape: [null, 1], name: 'dec_in' });
    const encoder = rnn.layers.lstm({ units: U, returnState: true, name: 'enc_lstm' });
    const decoder = rnn.layers.lstm({ units: U, returnSequences: true, returnState: true, name: 'dec_lstm' });
    const head = rnn.layers.dense({ units: 1, name: 'dec_head' });
    const [, h, c] = many(encoder.apply(encIn));
    const [decSeq] = many(decoder.apply(decIn, { initialState: [h!, c!] }));
    const train = rnn.model({ inputs: [encIn, decIn], outputs: one(head.apply(decSeq!)), seed: 47, name: 'seq2seq' });
    train.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.02 }), loss: 'mse' });
    const t = (n: number, phase: number) => Array.from({ length: n }, (_, i) => Math.sin(0.5 * i + phase));
    const xe = host(Array.from({ length: N }, (_, r) => t(Te, r)).flat(), [N, Te, 1]);
    const target = Array.from({ length: N }, (_, r) => t(Td + 1, r + 0.5 * Te)).map((s) => s.slice(1));
    const xd = host(Array.from({ length: N }, (_, r) => [Math.sin(0.5 * Te + r - 0.5), ...target[r]!.slice(0, -1)]).flat(), [N, Td, 1]);
    const yd = host(target.flat(), [N, Td, 1]);
    const hist = await train.fit([xe, xd], yd, { epochs: 5, batchSize: 4 });
    expect(hist.history.loss!.at(-1)!).toBeLessThan(hist.history.loss![0]!);
    const want = (await train.predict([xe, xd])) as HostTensor;

    // inference models from the same layer objects
    const encModel = rnn.model({ inputs: encIn, outputs: [h!, c!], name: 'inf_encoder' });
    const stepIn = rnn.input({ shape: [1, 1], name: 'step_in' });
    const hIn = rnn.input({ shape: [U], name: 'h_in' });
    const cIn = rnn.input({ shape: [U], name: 'c_in' });
    const [stepSeq, h2, c2] = many(decoder.apply(stepIn, { initialState: [hIn, cIn] }));
    const stepModel = rnn.model({ inputs: [stepIn, hIn, cIn], outputs: [one(head.apply(stepSeq!)), h2!, c2!], name: 'inf_decoder' });
    expect(encModel.countParams() + stepModel.countParams()).toBe(train.countParams());
    // their weights are the trained model's (one arena)
    const trained = await train.getWeights();
    const encW = await encModel.getWeights();
    const stepW = await stepModel.getWeights();
    [...encW, ...stepW].forEach((w, i) => expect(sameBits(w, trained[i]!), `weight ${i}`).toBe(true));
    let [hs, cs] = (await encModel.predict(xe)) as HostTensor[];
    expect(hs!.shape).toEqual([N, U]);
    const got = new Float32Array(N * Td);
    for (let s = 0; s < Td; s++) {
      const xs = host(Array.from({ length: N }, (_, r) => xd.data[r * Td + s]!), [N, 1, 1]);
      const [y, hn, cn] = (await stepModel.predict([xs, hs!, cs!])) as HostTensor[];
      expect(y!.shape).toEqual([N, 1, 1]);
      for (let r = 0; r < N; r++) got[r * Td + s] = y!.data[r]!;
      hs = hn;
      cs = cn;
    }
    expectClose(got, want.data, { atol: 1e-5, rtol: 0 }, 'step-by-step decoding vs the training model');
    // further training moves the shared weights for every model; disposing an inference model leaves them
    await train.fit([xe, xd], yd, { epochs: 1, batchSize: 4 });
    const encW2 = await encModel.getWeights();
    expect(sameBits(encW2[0]!, encW[0]!)).toBe(false);
    expect(sameBits(encW2[0]!, (await train.getWeights())[0]!)).toBe(true);
    encModel.dispose();
    stepModel.dispose();
    const still = (await train.predict([xe, xd])) as HostTensor;
    expect(still.data.every(Number.isFinite)).toBe(true);
    train.dispose();
  });
});

// =============================================================================================
describe('8b. sharing built layers: limits and lifetime', () => {
  it('a model mixing layers built in one model with new layers is refused at build, naming them (no transfer-learning head)', async () => {
    const x = rnn.input({ shape: [null, 2] });
    const base = rnn.layers.lstm({ units: 3, name: 'tl_base' });
    const feat = one(base.apply(x));
    const trained = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1, name: 'tl_old_head' }).apply(feat)), seed: 51 });
    const xs = host(randomArray(4 * 5 * 2, 111), [4, 5, 2]);
    await trained.predict(xs);
    const fresh = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 2, name: 'tl_new_head' }).apply(feat)) });
    expect(await rejected(fresh.predict(xs))).toMatch(/layers tl_new_head are not built in the same model as tl_base/);
    // reusing only built layers works
    const features = rnn.model({ inputs: x, outputs: feat });
    expect(((await features.predict(xs)) as HostTensor).shape).toEqual([4, 3]);
    features.dispose();
    trained.dispose();
  });

  // Regression: disposing the model that built shared weights used to destroy them under the
  // models made from its layers; the weights now live until the last model using them is disposed.
  it('disposing the model that owns shared weights: a model sharing them keeps working or fails with a clear error', async () => {
    const x = rnn.input({ shape: [null, 2] });
    const lstm = rnn.layers.lstm({ units: 3, name: 'own_lstm' });
    const feat = one(lstm.apply(x));
    const owner = rnn.model({ inputs: x, outputs: one(rnn.layers.dense({ units: 1, name: 'own_head' }).apply(feat)), seed: 53 });
    const xs = host(randomArray(4 * 5 * 2, 112), [4, 5, 2]);
    await owner.predict(xs);
    const sharer = rnn.model({ inputs: x, outputs: feat });
    const first = (await sharer.predict(xs)) as HostTensor;
    owner.dispose();
    let again: HostTensor | null = null;
    let message = '';
    try {
      again = (await sharer.predict(xs)) as HostTensor;
    } catch (e) {
      message = (e as Error).message;
    }
    if (again) expect(sameBits(again, first)).toBe(true);
    else expect(message).toMatch(/dispos/);
    expect(message).not.toMatch(/GPUValidationError|destroyed/);
    sharer.dispose();
  });
});

// =============================================================================================
describe('9. summary()', () => {
  it('a functional graph lists "Connected to"; a shared layer\'s second call adds no parameters; Sequential has no such column', () => {
    const a = rnn.input({ shape: [3], name: 'sm_a' });
    const b = rnn.input({ shape: [3], name: 'sm_b' });
    const shared = rnn.layers.dense({ units: 2, name: 'sm_dense' });
    const cat = one(rnn.layers.concatenate({ name: 'sm_cat' }).apply([one(shared.apply(a)), one(shared.apply(b))]));
    const model = rnn.model({ inputs: [a, b], outputs: one(rnn.layers.dense({ units: 1, name: 'sm_head' }).apply(cat)), name: 'two_in' });
    const s = model.summary(null);
    const lines = s.split('\n');
    expect(lines[0]).toBe('Model: "two_in"');
    expect(lines[2]).toMatch(/^Layer \(type\)\s+Output Shape\s+Param #\s+Connected to$/);
    expect(s).toMatch(/sm_a \(InputLayer\)\s+\(None, 3\)\s+0/);
    const denseRows = lines.filter((l) => l.startsWith('sm_dense (Dense)'));
    expect(denseRows.length).toBe(2);
    expect(denseRows[0]).toMatch(/\(None, 2\)\s+8\s+sm_a\[0\]\[0\]$/);
    expect(denseRows[1]).toMatch(/\(None, 2\)\s+0\s+sm_b\[0\]\[0\]$/);
    expect(s).toMatch(/sm_cat \(Concatenate\)\s+\(None, 4\)\s+0\s+sm_dense\[0\]\[0\], sm_dense\[1\]\[0\]/);
    expect(s).toMatch(/sm_head \(Dense\)\s+\(None, 1\)\s+5\s+sm_cat\[0\]\[0\]/);
    expect(s).toMatch(/Total params: 13\n/);
    expect(model.countParams()).toBe(13);
    // initial states are connections too; several outputs as a list of shapes
    const x = rnn.input({ shape: [null, 1], name: 'sm_x' });
    const h0 = rnn.input({ shape: [4], name: 'sm_h0' });
    const [seq, hN] = many(rnn.layers.gru({ units: 4, returnSequences: true, returnState: true, name: 'sm_gru' }).apply(x, { initialState: [h0] }));
    const m2 = rnn.model({ inputs: [x, h0], outputs: [seq!, hN!] });
    expect(m2.summary(null)).toMatch(/sm_gru \(GRU\)\s+\[\(None, None, 4\), \(None, 4\)\]\s+\d+\s+sm_x\[0\]\[0\], sm_h0\[0\]\[0\]/);
    // Sequential: the Keras table without the column and without an input row
    const seqModel = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 3, inputShape: [null, 1], name: 'sq_rnn' }), rnn.layers.dense({ units: 1, name: 'sq_head' })], name: 'seq' });
    const ss = seqModel.summary(null);
    expect(ss).not.toMatch(/Connected to/);
    expect(ss).not.toMatch(/InputLayer/);
    expect(ss.split('\n')[2]).toMatch(/^Layer \(type\)\s+Output Shape\s+Param #$/);
    expect(ss).toMatch(/sq_rnn \(SimpleRNN\)\s+\(None, 3\)\s+15\n/);
    expect(ss).toMatch(/sq_head \(Dense\)\s+\(None, 1\)\s+4\n/);
    expect(ss).toMatch(/Total params: 19\nTrainable params: 19\nNon-trainable params: 0$/);
  });
});
