/**
 * The one RNN case runner: a recurrent-op case run on the GPU and in the float64 reference
 * (test/reference/rnn.ts) with the same (f32-rounded) data, every output and gradient compared.
 * A case sets the shapes and any of the op's options: reverse, dropout masks, sequence mask, h0 /
 * c0 or zeros, the loss on hSeq, the final state, both or cLast alone, bias or none, the
 * activations, the data scales, the persistent kernels' layout; the time loop is an argument.
 * Used by test/unit/rnn.test.ts (the op and its options) and test/unit/rnn-step.test.ts (the
 * per-step kernels).
 */
import { expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from './gpu';
import { expectClose } from './compare';
import { FORWARD, GRAD } from './tolerances';
import { randomArray, binaryMask, dropoutStyle } from './rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, biasLength, type RnnRefConfig, type RnnRefOptions } from '../reference/rnn';
import { rnn, gateCount, type RnnOpConfig, type RnnOptions } from '../../src/ops/rnn';
import { add } from '../../src/ops/elementwise';
import type { Activation } from '../../src/ops/activations';
import type { Tensor } from '../../src/tensor';
import type { Variant } from './rnn-variants';

/** Which outputs the loss reads: hSeq (returnSequences), the final state (hLast, and cLast for LSTM), both, or cLast alone. */
export type LossOn = 'hSeq' | 'last' | 'both' | 'cLast';

export interface RnnCase {
  name: string;
  B: number;
  T: number;
  I: number;
  H: number;
  /** Default 'both'. */
  lossOn?: LossOn;
  /** Random h0 (and c0) that require grad (default), or null (zeros). */
  initialState?: boolean;
  reverse?: boolean;
  /** A [B, I] input-dropout mask (rate 0.3). */
  inputMask?: boolean;
  /** A [B, H] recurrent-dropout mask (rate 0.4). */
  recMask?: boolean;
  /** A [B, T] 0/1 sequence mask. */
  seqMask?: boolean;
  /** Default true; false: no bias tensor (and no dBias). */
  useBias?: boolean;
  /** Default tanh. */
  activation?: Activation;
  /** Default sigmoid. */
  recurrentActivation?: Activation;
  /** Weights uniform in ±weightScale (default 0.5) and inputs in ±inputScale (default 1). */
  weightScale?: number;
  inputScale?: number;
  /** Saturation case: also require some |pre-activation| ≥ 100 in the reference. */
  saturate?: boolean;
  /** Persistent-kernel layout (rows per workgroup, staging, workgroup size) instead of the adapter's default. */
  persistentLayout?: RnnOptions['persistentLayout'];
}

export interface RnnCaseResult {
  names: string[];
  got: Float64Array[];
  ref: Float64Array[];
}

/** The op's and the reference's configuration of a case. */
export function caseConfigs(v: Variant, c: Pick<RnnCase, 'I' | 'H' | 'useBias' | 'activation' | 'recurrentActivation'>): { op: RnnOpConfig; ref: RnnRefConfig } {
  const op: RnnOpConfig = {
    cell: v.cell,
    units: c.H,
    activation: c.activation ?? 'tanh',
    recurrentActivation: c.recurrentActivation ?? 'sigmoid',
    resetAfter: v.resetAfter,
    useBias: c.useBias ?? true,
  };
  return { op, ref: { ...op, inputSize: c.I } };
}

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
};

/**
 * Runs the recurrent op (forward + backward, loss Σ r ⊙ outputs) with `timeLoop` and the float64
 * reference on the same (f32-rounded) data; checks the output shapes (and, for `saturate`, the
 * size of the pre-activations) and returns both results, named, for expectMatchesReference.
 */
export async function runRnnCase(v: Variant, c: RnnCase, seed: number, timeLoop: RnnOptions['timeLoop'] = 'auto'): Promise<RnnCaseResult> {
  const { B, T, I, H } = c;
  const { op, ref: cfg } = caseConfigs(v, c);
  const lstm = v.cell === 'lstm';
  const gruAfter = v.cell === 'gru' && v.resetAfter;
  const GH = gateCount(v.cell) * H;
  const lossOn = c.lossOn ?? 'both';
  const withInit = c.initialState ?? true;

  const w = randomRnnWeights(cfg, seed, c.weightScale ?? 0.5);
  const inScale = c.inputScale ?? 1;
  const x = randomArray(B * T * I, seed + 10, -inScale, inScale);
  const h0 = withInit ? randomArray(B * H, seed + 11) : null;
  const c0 = withInit && lstm ? randomArray(B * H, seed + 12) : null;
  const seqOn = lossOn === 'hSeq' || lossOn === 'both';
  const hLastOn = lossOn === 'last' || lossOn === 'both';
  const cLastOn = lstm && (lossOn === 'last' || lossOn === 'both' || lossOn === 'cLast');
  const rSeq = randomArray(B * T * H, seed + 13), rLast = randomArray(B * H, seed + 14), rC = randomArray(B * H, seed + 15);
  const inMask = c.inputMask ? dropoutStyle(B * I, seed + 16, 0.3) : null;
  const recMask = c.recMask ? dropoutStyle(B * H, seed + 17, 0.4) : null;
  const seqMask = c.seqMask ? binaryMask(B * T, seed + 18) : null;

  const ctx = await gpuContext();
  const g = new Graph(ctx, true);
  const xt = input(g, [B, T, I], x, true, 'x');
  const kt = input(g, [I, GH], w.kernel, true, 'kernel');
  const ut = input(g, [H, GH], w.recurrentKernel, true, 'recurrentKernel');
  const bt = w.bias ? input(g, gruAfter ? [2, GH] : [GH], w.bias, true, 'bias') : null;
  const h0t = h0 ? input(g, [B, H], h0, true, 'h0') : null;
  const c0t = c0 ? input(g, [B, H], c0, true, 'c0') : null;
  const out = await rnn(g, op, xt, { kernel: kt, recurrentKernel: ut, bias: bt }, h0t, c0t, {
    reverse: c.reverse ?? false,
    inputMask: inMask ? input(g, [B, I], inMask) : null,
    recurrentMask: recMask ? input(g, [B, H], recMask) : null,
    seqMask: seqMask ? input(g, [B, T], seqMask) : null,
    timeLoop,
    ...(c.persistentLayout ? { persistentLayout: c.persistentLayout } : {}),
  });
  expect(out.hSeq.shape).toEqual([B, T, H]);
  expect(out.hLast.shape).toEqual([B, H]);
  expect(out.cLast?.shape ?? null).toEqual(lstm ? [B, H] : null);
  const terms: Tensor[] = [];
  if (seqOn) terms.push(await weightedSum(g, out.hSeq, rSeq));
  if (hLastOn) terms.push(await weightedSum(g, out.hLast, rLast));
  if (cLastOn) terms.push(await weightedSum(g, out.cLast!, rC));
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = await add(g, loss, t);
  await g.backward(loss);

  const names = ['hSeq', 'hLast', 'dX', 'dKernel', 'dRecurrentKernel'];
  const tensors: Tensor[] = [out.hSeq, out.hLast, g.grad(xt), g.grad(kt), g.grad(ut)];
  if (bt) (names.push('dBias'), tensors.push(g.grad(bt)));
  if (out.cLast) (names.push('cLast'), tensors.push(out.cLast));
  if (h0t) (names.push('dH0'), tensors.push(g.grad(h0t)));
  if (c0t) (names.push('dC0'), tensors.push(g.grad(c0t)));
  const got = await run(g, ...tensors);
  g.dispose();

  // Reference on exactly what the GPU received (f32-rounded).
  const w32 = { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: w.bias ? f32(w.bias) : null };
  const opts: RnnRefOptions = { reverse: c.reverse ?? false, inputMask: inMask && f32(inMask), recMask: recMask && f32(recMask), seqMask };
  const x32 = f32(x), h032 = h0 ? f32(h0) : undefined, c032 = c0 ? f32(c0) : undefined;
  const fwd = rnnForwardRef(cfg, w32, x32, B, T, h032, c032, opts);
  const bwd = rnnBackwardRef(cfg, w32, x32, B, T, h032, c032 ?? null, fwd.cache,
    seqOn ? f32(rSeq) : null, hLastOn ? f32(rLast) : null, cLastOn ? f32(rC) : null, opts);
  if (c.saturate) expect(maxAbs(fwd.cache.pre), 'largest |pre-activation|').toBeGreaterThanOrEqual(100);
  const ref = [fwd.hSeq, fwd.hLast, bwd.dX, bwd.dKernel, bwd.dRecurrentKernel];
  if (bt) {
    expect(got[names.indexOf('dBias')]!.length).toBe(biasLength(cfg));
    ref.push(bwd.dBias!);
  }
  if (out.cLast) ref.push(fwd.cLast!);
  if (h0t) ref.push(bwd.dH0);
  if (c0t) ref.push(bwd.dC0!);
  return { names, got, ref };
}

/** Every output and gradient finite and within FORWARD (outputs) or GRAD (gradients) of the reference. */
export function expectMatchesReference(r: RnnCaseResult): void {
  r.names.forEach((name, i) => {
    expect(r.got[i]!.every(Number.isFinite), `${name} finite`).toBe(true);
    const tol = name === 'hSeq' || name === 'hLast' || name === 'cLast' ? FORWARD : GRAD;
    expectClose(r.got[i]!, r.ref[i]!, tol, name);
  });
}
