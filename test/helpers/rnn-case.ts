/**
 * One recurrent-op case run on the GPU and in the float64 reference (test/reference/rnn.ts) with
 * the same data: every output and gradient, with the options the op takes (reverse, dropout masks,
 * sequence mask, h0 / c0 or zeros, loss on hSeq and/or the final state, the time-loop strategy).
 * Shared by the options tests (rnn-features) and the per-step kernel tests (rnn-step).
 */
import { expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from './gpu';
import { expectClose } from './compare';
import { FORWARD, GRAD } from './tolerances';
import { randomArray, binaryMask, dropoutStyle } from './rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, type RnnRefConfig, type RnnRefOptions } from '../reference/rnn';
import { rnn, gateCount, type RnnOpConfig, type RnnOptions } from '../../src/ops/rnn';
import { add } from '../../src/ops/elementwise';
import type { Tensor } from '../../src/tensor';
import type { Variant } from './rnn-variants';

export type LossOn = 'hSeq' | 'last' | 'both';

export interface RnnCase {
  name: string;
  B: number;
  T: number;
  I: number;
  H: number;
  lossOn?: LossOn;
  /** Random h0 (and c0) that require grad (default), or null (zeros). */
  initialState?: boolean;
  reverse?: boolean;
  inputMask?: boolean;
  recMask?: boolean;
  seqMask?: boolean;
  weightScale?: number;
}

export interface RnnCaseResult {
  names: string[];
  got: Float64Array[];
  ref: Float64Array[];
}



/**
 * Runs the recurrent op (forward + backward, loss Σ r ⊙ outputs) with `strategy` and the float64
 * reference on the same (f32-rounded) data; returns both, named, for expectMatchesReference.
 */
export async function runRnnCase(v: Variant, c: RnnCase, seed: number, strategy: RnnOptions['strategy'] = 'auto'): Promise<RnnCaseResult> {
  const { B, T, I, H } = c;
  const lstm = v.cell === 'lstm';
  const gruAfter = v.cell === 'gru' && v.resetAfter;
  const GH = gateCount(v.cell) * H;
  const lossOn = c.lossOn ?? 'both';
  const withInit = c.initialState ?? true;
  const op: RnnOpConfig = { cell: v.cell, units: H, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: true };
  const cfg: RnnRefConfig = { ...op, inputSize: I };

  const w = randomRnnWeights(cfg, seed, c.weightScale);
  const x = randomArray(B * T * I, seed + 10);
  const h0 = withInit ? randomArray(B * H, seed + 11) : null;
  const c0 = withInit && lstm ? randomArray(B * H, seed + 12) : null;
  const seqOn = lossOn !== 'last';
  const lastOn = lossOn !== 'hSeq';
  const rSeq = randomArray(B * T * H, seed + 13), rLast = randomArray(B * H, seed + 14), rC = randomArray(B * H, seed + 15);
  const inMask = c.inputMask ? dropoutStyle(B * I, seed + 16, 0.3) : null;
  const recMask = c.recMask ? dropoutStyle(B * H, seed + 17, 0.4) : null;
  const seqMask = c.seqMask ? binaryMask(B * T, seed + 18) : null;

  const ctx = await gpuContext();
  const g = new Graph(ctx, true);
  const xt = input(g, [B, T, I], x, true, 'x');
  const kt = input(g, [I, GH], w.kernel, true, 'kernel');
  const ut = input(g, [H, GH], w.recurrentKernel, true, 'recurrentKernel');
  const bt = input(g, gruAfter ? [2, GH] : [GH], w.bias!, true, 'bias');
  const h0t = h0 ? input(g, [B, H], h0, true, 'h0') : null;
  const c0t = c0 ? input(g, [B, H], c0, true, 'c0') : null;
  const out = await rnn(g, op, xt, { kernel: kt, recurrentKernel: ut, bias: bt }, h0t, c0t, {
    reverse: c.reverse ?? false,
    inputMask: inMask ? input(g, [B, I], inMask) : null,
    recurrentMask: recMask ? input(g, [B, H], recMask) : null,
    seqMask: seqMask ? input(g, [B, T], seqMask) : null,
    strategy,
  });
  const terms: Tensor[] = [];
  if (seqOn) terms.push(await weightedSum(g, out.hSeq, rSeq));
  if (lastOn) terms.push(await weightedSum(g, out.hLast, rLast));
  if (lastOn && out.cLast) terms.push(await weightedSum(g, out.cLast, rC));
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = await add(g, loss, t);
  await g.backward(loss);

  const names = ['hSeq', 'hLast', 'dX', 'dKernel', 'dRecurrentKernel', 'dBias'];
  const tensors: Tensor[] = [out.hSeq, out.hLast, g.grad(xt), g.grad(kt), g.grad(ut), g.grad(bt)];
  if (out.cLast) (names.push('cLast'), tensors.push(out.cLast));
  if (h0t) (names.push('dH0'), tensors.push(g.grad(h0t)));
  if (c0t) (names.push('dC0'), tensors.push(g.grad(c0t)));
  const got = await run(g, ...tensors);
  g.dispose();

  const w32 = { kernel: f32(w.kernel), recurrentKernel: f32(w.recurrentKernel), bias: f32(w.bias!) };
  const opts: RnnRefOptions = { reverse: c.reverse ?? false, inputMask: inMask && f32(inMask), recMask: recMask && f32(recMask), seqMask };
  const h032 = h0 ? f32(h0) : undefined, c032 = c0 ? f32(c0) : undefined;
  const fwd = rnnForwardRef(cfg, w32, f32(x), B, T, h032, c032, opts);
  const bwd = rnnBackwardRef(cfg, w32, f32(x), B, T, h032, c032 ?? null, fwd.cache,
    seqOn ? f32(rSeq) : null, lastOn ? f32(rLast) : null, lastOn && lstm ? f32(rC) : null, opts);
  const ref = [fwd.hSeq, fwd.hLast, bwd.dX, bwd.dKernel, bwd.dRecurrentKernel, bwd.dBias!];
  if (out.cLast) ref.push(fwd.cLast!);
  if (h0t) ref.push(bwd.dH0);
  if (c0t) ref.push(bwd.dC0!);
  return { names, got, ref };
}

export function expectMatchesReference(r: RnnCaseResult): void {
  r.names.forEach((name, i) => {
    expect(r.got[i]!.every(Number.isFinite), `${name} finite`).toBe(true);
    const tol = name === 'hSeq' || name === 'hLast' || name === 'cLast' ? FORWARD : GRAD;
    expectClose(r.got[i]!, r.ref[i]!, tol, name);
  });
}
