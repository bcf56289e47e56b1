/**
 * The per-step ("Strategy A", hidden-sliced) recurrent kernels (src/ops/rnn-step.ts and the
 * per-step section of shaders/rnn.wgsl), forced with RnnOptions.strategy = 'step', run for real
 * on the GPU (Dawn + software Vulkan) against the float64 reference of test/reference/rnn.ts:
 * forward outputs (hSeq, hLast, cLast) and every gradient (x, kernel, recurrentKernel, bias, h0,
 * c0) for SimpleRNN, LSTM and GRU resetAfter=true, with shapes that leave partial tiles (H not a
 * multiple of the unit tiles 16 / 32 / 64, B not a multiple of the 8-row tile) and several K
 * chunks (H > 32 forward, G·H > 64 backward), and with every option (reverse, sequence mask,
 * input / recurrent dropout masks, h0 / c0 or zeros, loss on hSeq only or on the final state
 * only). Also: 'step' and 'persistent' agree, the automatic selector, and the dispatch counts
 * (T forward / 2T backward per layer).
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray, binaryMask, dropoutStyle } from '../helpers/rng';
import { rnnForwardRef, rnnBackwardRef, randomRnnWeights, type RnnRefConfig, type RnnRefOptions } from '../reference/rnn';
import { rnn, rnnStrategy, gateCount, RNN_CHUNK, type RnnOpConfig, type RnnOptions } from '../../src/ops/rnn';
import { add } from '../../src/ops/elementwise';
import { sum } from '../../src/ops/reduce';
import type { Tensor } from '../../src/tensor';
import { VARIANTS, type Variant } from '../helpers/rnn-variants';

/** The cells with per-step kernels (GRU resetAfter=false stays persistent). */
const STEP_VARIANTS = VARIANTS.filter((v) => !(v.cell === 'gru' && !v.resetAfter));

type LossOn = 'hSeq' | 'last' | 'both';

interface Case {
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

interface Result {
  names: string[];
  got: Float64Array[];
  ref: Float64Array[];
}



/** Runs the op (forward + backward) with `strategy` and the float64 reference on the same data. */
async function runCase(v: Variant, c: Case, seed: number, strategy: RnnOptions['strategy']): Promise<Result> {
  const { B, T, I, H } = c;
  const lstm = v.cell === 'lstm';
  const gruAfter = v.cell === 'gru' && v.resetAfter;
  const GH = gateCount(v.cell) * H;
  const lossOn = c.lossOn ?? 'both';
  const withInit = c.initialState ?? true;
  const op: RnnOpConfig = { cell: v.cell, units: H, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: true };
  const cfg: RnnRefConfig = { ...op, inputSize: I };

  const w = randomRnnWeights(cfg, seed, c.weightScale ?? 0.4);
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

function expectMatchesReference(r: Result): void {
  r.names.forEach((name, i) => {
    expect(r.got[i]!.every(Number.isFinite), `${name} finite`).toBe(true);
    const tol = name === 'hSeq' || name === 'hLast' || name === 'cLast' ? FORWARD : GRAD;
    expectClose(r.got[i]!, r.ref[i]!, tol, name);
  });
}

// Tiles: forward 8 rows × 16 units (SimpleRNN 64), K chunks of 32; backward dh 8 rows × 32 units,
// dG-column chunks of 64. H = 37: 3 partial unit tiles, 2 K chunks; H = 70: 5 unit tiles
// (SimpleRNN 2), 3 K chunks, 3 dh tiles, LSTM 5 dG chunks; B = 5: one partial batch tile;
// B = 9 / 17: 2 / 3 batch tiles, the last holding 1 row.
const CASES: Case[] = [
  { name: 'H=37 B=5 T=5: loss on hSeq and the final state, random h0 / c0', B: 5, T: 5, I: 3, H: 37 },
  { name: 'H=70 B=5 T=4: loss on hSeq only', B: 5, T: 4, I: 4, H: 70, lossOn: 'hSeq', weightScale: 0.25 },
  { name: 'H=37 B=5 T=6: loss on the final state only (hLast, cLast)', B: 5, T: 6, I: 3, H: 37, lossOn: 'last' },
  { name: 'H=20 B=3 T=4: zero initial state (h0 / c0 null)', B: 3, T: 4, I: 3, H: 20, initialState: false },
  { name: 'B=17 H=5 T=3: three batch tiles, tiny H', B: 17, T: 3, I: 2, H: 5 },
  { name: 'T=1', B: 5, T: 1, I: 3, H: 37 },
  { name: 'reverse, H=37 B=5 T=5', B: 5, T: 5, I: 3, H: 37, reverse: true },
  { name: 'sequence mask, H=37 B=5 T=7', B: 5, T: 7, I: 3, H: 37, seqMask: true },
  { name: 'input and recurrent dropout masks, H=37 B=5 T=4', B: 5, T: 4, I: 3, H: 37, inputMask: true, recMask: true },
  {
    name: 'everything: reverse + sequence mask + dropout masks, H=70 B=9 T=5',
    B: 9, T: 5, I: 3, H: 70, reverse: true, seqMask: true, inputMask: true, recMask: true, weightScale: 0.25,
  },
  { name: 'sequence mask, loss on the final state only, H=37 B=5 T=6', B: 5, T: 6, I: 2, H: 37, seqMask: true, lossOn: 'last' },
];

STEP_VARIANTS.forEach((v, vi) => {
  describe(`per-step kernels vs the reference: ${v.label}`, () => {
    CASES.forEach((c, ci) => {
      it(c.name, async () => expectMatchesReference(await runCase(v, c, 9000 + 100 * vi + 10 * ci, 'step')));
    });
  });
});

describe('per-step kernels: the same values as the persistent kernels', () => {
  STEP_VARIANTS.forEach((v, vi) => {
    it(`${v.label}: every output and gradient, with all options (H=37 B=9 T=6)`, async () => {
      const c: Case = { name: '', B: 9, T: 6, I: 3, H: 37, reverse: true, seqMask: true, inputMask: true, recMask: true };
      const step = await runCase(v, c, 9500 + 10 * vi, 'step');
      const persistent = await runCase(v, c, 9500 + 10 * vi, 'persistent');
      // Same products summed in the same k order: bit-identical on lavapipe today; the tolerance
      // leaves room for FMA contraction (or a re-blocked persistent kernel) elsewhere.
      step.names.forEach((name, i) => expectClose(step.got[i]!, persistent.got[i]!, { atol: 1e-6, rtol: 1e-5 }, `${name}: step vs persistent`));
    });
  });
});

describe('strategy selection', () => {
  const cfg = (cell: RnnOpConfig['cell'], resetAfter = true, units = 8): RnnOpConfig => ({
    cell, units, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter, useBias: true,
  });

  it('software adapters always get the persistent kernels; GRU resetAfter=false always does', () => {
    for (const H of [1, 64, 128, 256, 1024]) {
      for (const B of [1, 8, 64, 512]) {
        for (const c of [cfg('simpleRNN'), cfg('lstm'), cfg('gru', true)]) expect(rnnStrategy(c, H, B, true)).toBe('persistent');
        expect(rnnStrategy(cfg('gru', false), H, B, false)).toBe('persistent');
        expect(rnnStrategy(cfg('gru', false), H, B, true)).toBe('persistent');
      }
    }
  });

  it('GPUs: per-step from 256 units, or from 128 units with a small persistent grid', () => {
    for (const c of [cfg('simpleRNN'), cfg('lstm'), cfg('gru', true)]) {
      expect(rnnStrategy(c, 256, 512, false)).toBe('step');
      expect(rnnStrategy(c, 1024, 1, false)).toBe('step');
      expect(rnnStrategy(c, 128, 8, false)).toBe('step'); // 8 workgroups
      expect(rnnStrategy(c, 128, 64, false)).toBe('persistent'); // 64 workgroups
      expect(rnnStrategy(c, 64, 1, false)).toBe('persistent');
      expect(rnnStrategy(c, 20, 64, false)).toBe('persistent');
    }
  });

  it("'auto' on this (software) adapter runs the persistent kernels; a forced 'step' on GRU resetAfter=false throws", async () => {
    const ctx = await gpuContext();
    expect(ctx.gpu.info.isFallbackAdapter, 'the tests run on a software adapter').toBe(true);
    const B = 2, T = 3, I = 2, H = 300;
    const counts = async (strategy: RnnOptions['strategy']) => {
      const g = new Graph(ctx, false);
      const op = cfg('lstm', false, H);
      const x = input(g, [B, T, I], new Float64Array(B * T * I));
      const w = { kernel: input(g, [I, 4 * H], new Float64Array(I * 4 * H)), recurrentKernel: input(g, [H, 4 * H], new Float64Array(4 * H * H)), bias: null };
      await rnn(g, { ...op, useBias: false }, x, w, null, null, { strategy });
      const n = g.forward.dispatchCount;
      g.dispose();
      return n;
    };
    expect(await counts('auto')).toBe(await counts('persistent'));
    expect(await counts('step')).toBe((await counts('persistent')) + T - 1);

    const g = new Graph(ctx, false);
    const op = cfg('gru', false, 3);
    const x = input(g, [2, 4, 2], new Float64Array(16));
    const w = { kernel: input(g, [2, 9], new Float64Array(18)), recurrentKernel: input(g, [3, 9], new Float64Array(27)), bias: null };
    await expect(rnn(g, { ...op, useBias: false }, x, w, null, null, { strategy: 'step' })).rejects.toThrow(/strategy 'step' has no kernels for GRU resetAfter=false/);
    g.dispose();
  });
});

describe('per-step dispatch counts', () => {
  STEP_VARIANTS.forEach((v) => {
    it(`${v.label}: T dispatches forward and 2T backward per layer (2 layers, T = 70 vs ⌈70/${RNN_CHUNK}⌉ persistent chunks)`, async () => {
      const B = 3, T = 70, I = 2, H1 = 5, H2 = 4;
      const ctx = await gpuContext();
      const counts = async (strategy: RnnOptions['strategy']) => {
        const g = new Graph(ctx, true);
        let x = input(g, [B, T, I], new Float64Array(B * T * I), true, 'x');
        for (const [inF, H] of [[I, H1], [H1, H2]] as const) {
          const GH = gateCount(v.cell) * H;
          const op: RnnOpConfig = { cell: v.cell, units: H, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: false };
          const w = { kernel: input(g, [inF, GH], new Float64Array(inF * GH), true), recurrentKernel: input(g, [H, GH], new Float64Array(H * GH), true), bias: null };
          x = (await rnn(g, op, x, w, null, null, { strategy })).hSeq;
        }
        await g.backward(await sum(g, x));
        const n = { forward: g.forward.dispatchCount, backward: g.backwardProgram.dispatchCount };
        g.dispose();
        return n;
      };
      const step = await counts('step');
      const persistent = await counts('persistent');
      const chunks = Math.ceil(T / RNN_CHUNK);
      expect(step.forward - persistent.forward).toBe(2 * (T - chunks));
      expect(step.backward - persistent.backward).toBe(2 * (2 * T - chunks));
    });
  });
});
