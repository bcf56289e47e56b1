/**
 * Float64 reference of a fuzz case's whole model: the stack of recurrent layers (the
 * gradient-checked references of test/reference/rnn.ts; goBackwards in Keras's processing order,
 * Bidirectional's forward and backward copies and their merge) and Dense layers, the loss of
 * test/reference/ops.ts, and the optimizer steps of test/reference/{ops,optimizers}.ts with
 * clipping, weight decay and the schedule. Weights are in the model's getWeights order.
 *
 * Also reports how close the case is to a kink (relu at 0, hardSigmoid at ±3, |error| = 0 for
 * mae): there the float32 and float64 derivatives may legitimately take different sides, so the
 * fuzzer draws other data rather than compare.
 */
import { activationScalar, adamStepRef, matmulRef, regressionLossRef, unaryBackwardRef } from '../reference/ops';
import { gateCount, reverseTime, rnnBackwardRef, rnnForwardRef, type RnnRefCache, type RnnRefConfig, type RnnRefWeights } from '../reference/rnn';
import { adamwStepRef, clipByGlobalNormRef, clipByNormRef, clipByValueRef, exponentialDecayRef, rmspropStepRef, sgdMomentumStepRef, weightDecayRef } from '../reference/optimizers';
import type { Act, DenseSpec, OptCfg, RecSpec, ValidCase } from './valid-cases';

/** Expected weight shapes of a case, in getWeights order. */
export function weightShapes(c: ValidCase): number[][] {
  const out: number[][] = [];
  let F = c.I;
  for (const l of c.layers) {
    if (l.kind === 'dense') {
      out.push([F, l.units]);
      if (l.useBias) out.push([l.units]);
      F = l.units;
      continue;
    }
    const GH = gateCount(l.cell) * l.units;
    const one = [[F, GH], [l.units, GH], ...(l.useBias ? [l.cell === 'gru' && l.resetAfter ? [2, GH] : [GH]] : [])];
    out.push(...one, ...(l.bidi ? one : []));
    F = l.bidi === 'concat' ? 2 * l.units : l.units;
  }
  return out;
}

interface Value {
  data: Float64Array;
  /** Time steps (null: no time axis). */
  T: number | null;
  F: number;
}

type Saved =
  | { kind: 'dense'; x: Value; z: Float64Array; y: Float64Array; W: Float64Array; b: Float64Array | null; spec: DenseSpec }
  | { kind: 'rnn'; x: Value; spec: RecSpec; dirs: { cfg: RnnRefConfig; w: RnnRefWeights; cache: RnnRefCache; reverse: boolean; seq: Float64Array; last: Float64Array }[] };

const PIECEWISE: Partial<Record<Act, number[]>> = { relu: [0], hardSigmoid: [-3, 3] };

/** The smallest distance of any value to a kink of `acts`. */
function kinkDistance(values: ArrayLike<number>, acts: readonly Act[]): number {
  const kinks = acts.flatMap((a) => PIECEWISE[a] ?? []);
  let d = Infinity;
  if (!kinks.length) return d;
  // A value exactly at a kink is structural (e.g. c_0 = i·g = 0 when g = relu(z) = 0): float32
  // computes it exactly too and both sides take the flat derivative. Only near misses count.
  for (let i = 0; i < values.length; i++) for (const k of kinks) if (values[i] !== k) d = Math.min(d, Math.abs(values[i]! - k));
  return d;
}

/** Loss, gradients (getWeights order) and output of the model at weights `ws` on (x, y). */
export function modelRef(c: ValidCase, ws: readonly Float64Array[], x: Float64Array, y: Float64Array): { loss: number; grads: Float64Array[]; out: Float64Array; kink: number } {
  const { B } = c;
  let cur: Value = { data: x, T: c.T, F: c.I };
  let wi = 0;
  let kink = Infinity;
  const saved: Saved[] = [];
  for (const l of c.layers) {
    if (l.kind === 'dense') {
      const W = ws[wi++]!, b = l.useBias ? ws[wi++]! : null;
      const rows = B * (cur.T ?? 1);
      const z = matmulRef(cur.data, W, rows, cur.F, l.units);
      if (b) for (let i = 0; i < z.length; i++) z[i] = z[i]! + b[i % l.units]!;
      const out = z.map((v) => activationScalar(l.activation, v));
      kink = Math.min(kink, kinkDistance(z, [l.activation]));
      saved.push({ kind: 'dense', x: cur, z, y: out, W, b, spec: l });
      cur = { data: out, T: cur.T, F: l.units };
      continue;
    }
    const T = cur.T!;
    const cfg: RnnRefConfig = { cell: l.cell, units: l.units, inputSize: cur.F, activation: l.activation, recurrentActivation: l.recurrentActivation, resetAfter: l.resetAfter, useBias: l.useBias };
    const nDirs = l.bidi ? 2 : 1;
    const dirs = [];
    for (let d = 0; d < nDirs; d++) {
      const w: RnnRefWeights = { kernel: ws[wi++]!, recurrentKernel: ws[wi++]!, bias: l.useBias ? ws[wi++]! : null };
      const reverse = d === 1 || l.goBackwards;
      const r = rnnForwardRef(cfg, w, cur.data, B, T, undefined, undefined, { reverse });
      kink = Math.min(kink, kinkDistance(r.cache.pre, [l.activation, l.recurrentActivation]), r.cache.cSeq ? kinkDistance(r.cache.cSeq, [l.activation]) : Infinity);
      // Keras: goBackwards returns the sequence in processing order; Bidirectional flips its backward copy back.
      const seq = l.goBackwards ? reverseTime(r.hSeq, B, T, l.units) : r.hSeq;
      dirs.push({ cfg, w, cache: r.cache, reverse, seq, last: r.hLast });
    }
    saved.push({ kind: 'rnn', x: cur, spec: l, dirs });
    const outs = dirs.map((d) => (l.returnSequences ? d.seq : d.last));
    const Tout = l.returnSequences ? T : null;
    cur = { data: merge(l.bidi, outs, l.units), T: Tout, F: l.bidi === 'concat' ? 2 * l.units : l.units };
  }
  // loss over [B, steps, K]
  const steps = cur.T ?? 1;
  const window: [number, number] = [c.loss.warmupSteps, steps];
  const L = regressionLossRef(c.loss.kind, cur.data, y, B, steps, cur.F, { window, delta: c.loss.delta });
  if (c.loss.kind === 'mae') kink = Math.min(kink, kinkDistance(cur.data.map((p, i) => p - y[i]!), ['relu']));

  // backward
  const grads: Float64Array[] = new Array(ws.length);
  let d = L.dPred;
  for (let k = saved.length - 1; k >= 0; k--) {
    const s = saved[k]!;
    if (s.kind === 'dense') {
      const rows = B * (s.x.T ?? 1), K = s.spec.units;
      const dz = unaryBackwardRef(s.spec.activation, s.z, s.y, d);
      wi -= s.b ? 2 : 1;
      grads[wi] = matmulRef(s.x.data, dz, s.x.F, rows, K, true, false);
      if (s.b) {
        const db = new Float64Array(K);
        dz.forEach((v, i) => (db[i % K] = db[i % K]! + v));
        grads[wi + 1] = db;
      }
      d = matmulRef(dz, s.W, rows, K, s.x.F, false, true);
      continue;
    }
    const l = s.spec, T = s.x.T!, H = l.units;
    const dOuts = unmerge(l.bidi, d, s.dirs.map((q) => (l.returnSequences ? q.seq : q.last)), H);
    const dx = new Float64Array(s.x.data.length);
    const perDir = l.useBias ? 3 : 2;
    wi -= perDir * s.dirs.length;
    s.dirs.forEach((q, di) => {
      const dOut = dOuts[di]!;
      const dSeq = l.returnSequences ? (l.goBackwards ? reverseTime(dOut, B, T, H) : dOut) : null;
      const g = rnnBackwardRef(q.cfg, q.w, s.x.data, B, T, null, null, q.cache, dSeq, l.returnSequences ? null : dOut, null, { reverse: q.reverse });
      const at = wi + di * perDir;
      grads[at] = g.dKernel;
      grads[at + 1] = g.dRecurrentKernel;
      if (l.useBias) grads[at + 2] = g.dBias!;
      for (let i = 0; i < dx.length; i++) dx[i] = dx[i]! + g.dX[i]!;
    });
    d = dx;
  }
  return { loss: L.loss, grads, out: cur.data, kink };
}

function merge(mode: RecSpec['bidi'], outs: Float64Array[], H: number): Float64Array {
  if (!mode) return outs[0]!;
  const [a, b] = outs as [Float64Array, Float64Array];
  if (mode === 'concat') {
    const rows = a.length / H;
    const out = new Float64Array(2 * a.length);
    for (let r = 0; r < rows; r++) {
      out.set(a.subarray(r * H, (r + 1) * H), r * 2 * H);
      out.set(b.subarray(r * H, (r + 1) * H), r * 2 * H + H);
    }
    return out;
  }
  return a.map((v, i) => (mode === 'sum' ? v + b[i]! : mode === 'mul' ? v * b[i]! : (v + b[i]!) / 2));
}

function unmerge(mode: RecSpec['bidi'], d: Float64Array, outs: Float64Array[], H: number): Float64Array[] {
  if (!mode) return [d];
  const [a, b] = outs as [Float64Array, Float64Array];
  if (mode === 'concat') {
    const rows = a.length / H;
    const da = new Float64Array(a.length), db = new Float64Array(b.length);
    for (let r = 0; r < rows; r++) {
      da.set(d.subarray(r * 2 * H, r * 2 * H + H), r * H);
      db.set(d.subarray(r * 2 * H + H, (r + 1) * 2 * H), r * H);
    }
    return [da, db];
  }
  if (mode === 'sum') return [d, d];
  if (mode === 'ave') return [d.map((v) => v / 2), d.map((v) => v / 2)];
  return [d.map((v, i) => v * b[i]!), d.map((v, i) => v * a[i]!)];
}

/** Optimizer slots of the reference (per variable). */
export interface OptState {
  m: Float64Array[];
  v: Float64Array[];
  mg: Float64Array[];
}

export function newOptState(ws: readonly Float64Array[]): OptState {
  return { m: ws.map((w) => new Float64Array(w.length)), v: ws.map((w) => new Float64Array(w.length)), mg: ws.map((w) => new Float64Array(w.length)) };
}

/** One optimizer step (1-based `step`) of the case's optimizer, in place on copies of `ws`; returns the new weights. */
export function optimizerStepRef(o: OptCfg, ws: readonly Float64Array[], gradsIn: readonly Float64Array[], s: OptState, step: number): Float64Array[] {
  const lr = o.decay ? exponentialDecayRef(step - 1, o.lr, o.decay.decaySteps, o.decay.decayRate, o.decay.staircase) : o.lr;
  let grads: Float64Array[] = gradsIn.map((g) => Float64Array.from(g));
  if (o.clip?.kind === 'clipnorm') grads = clipByNormRef(grads, o.clip.value);
  else if (o.clip?.kind === 'clipvalue') grads = clipByValueRef(grads, o.clip.value);
  else if (o.clip?.kind === 'globalClipnorm') grads = clipByGlobalNormRef(grads, o.clip.value);
  return ws.map((w, i) => {
    const p = Float64Array.from(w), g = grads[i]!;
    if (o.name === 'adamw') {
      adamwStepRef(p, g, s.m[i]!, s.v[i]!, step, { learningRate: lr, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay });
      return p;
    }
    if (o.weightDecay) weightDecayRef(p, o.weightDecay, lr);
    if (o.name === 'sgd') sgdMomentumStepRef(p, g, s.m[i]!, { learningRate: lr, momentum: o.momentum, nesterov: o.nesterov });
    else if (o.name === 'adam') adamStepRef(p, g, s.m[i]!, s.v[i]!, step, { learningRate: lr, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon });
    else rmspropStepRef(p, g, s.v[i]!, s.m[i]!, s.mg[i]!, { learningRate: lr, rho: o.rho, momentum: o.momentum, epsilon: o.epsilon, centered: o.centered });
    return p;
  });
}
