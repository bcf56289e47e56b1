/**
 * The per-step kernels (a dispatch per step forward, two backward; src/ops/rnn-step.ts and
 * shaders/rnn-step.wgsl, included by the cells' shaders), forced with RnnOptions.timeLoop =
 * 'step', run for real on the GPU (Dawn + software Vulkan) against the float64 reference of
 * test/reference/rnn.ts through the shared case runner (test/helpers/rnn-case.ts): forward outputs
 * (hSeq, hLast, cLast) and every gradient (x, kernel, recurrentKernel, bias, h0, c0) for
 * SimpleRNN, LSTM and GRU resetAfter=true, with shapes that leave partial tiles (H not a multiple
 * of the unit tiles 16 / 32 / 64, B not a multiple of the 8-row tile) and several K chunks
 * (H > 32 forward, G·H > 64 backward), and with every option (reverse, sequence mask, input /
 * recurrent dropout masks, h0 / c0 or zeros, loss on hSeq only or on the final state only). Also:
 * the per-step and the persistent kernels agree, and the dispatch counts (T forward / 2T backward
 * per layer). Which time loop a layer gets: rnn-tuning.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, Graph } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { rnn, gateCount, type RnnOpConfig, type RnnOptions } from '../../src/ops/rnn';
import { RNN_CHUNK } from '../../src/ops/rnn-tuning';
import { sum } from '../../src/ops/reduce';
import { VARIANTS } from '../helpers/rnn-variants';
import { runRnnCase, expectMatchesReference, type RnnCase } from '../helpers/rnn-case';

/** The cells with per-step kernels (GRU resetAfter=false stays persistent). */
const STEP_VARIANTS = VARIANTS.filter((v) => !(v.cell === 'gru' && !v.resetAfter));

// Tiles: forward 8 rows × 16 units (SimpleRNN 64), K chunks of 32; backward dh 8 rows × 32 units,
// dG-column chunks of 64. H = 37: 3 partial unit tiles, 2 K chunks; H = 70: 5 unit tiles
// (SimpleRNN 2), 3 K chunks, 3 dh tiles, LSTM 5 dG chunks; B = 5: one partial batch tile;
// B = 9 / 17: 2 / 3 batch tiles, the last holding 1 row.
const CASES: RnnCase[] = [
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
      it(c.name, async () => expectMatchesReference(await runRnnCase(v, { weightScale: 0.4, ...c }, 9000 + 100 * vi + 10 * ci, 'step')));
    });
  });
});

describe('per-step kernels: the same values as the persistent kernels', () => {
  STEP_VARIANTS.forEach((v, vi) => {
    it(`${v.label}: every output and gradient, with all options (H=37 B=9 T=6)`, async () => {
      const c: RnnCase = { name: '', weightScale: 0.4, B: 9, T: 6, I: 3, H: 37, reverse: true, seqMask: true, inputMask: true, recMask: true };
      const step = await runRnnCase(v, c, 9500 + 10 * vi, 'step');
      const persistent = await runRnnCase(v, c, 9500 + 10 * vi, 'persistent');
      // Same products summed in the same k order: bit-identical on lavapipe today; the tolerance
      // leaves room for FMA contraction (or a re-blocked persistent kernel) elsewhere.
      step.names.forEach((name, i) => expectClose(step.got[i]!, persistent.got[i]!, { atol: 1e-6, rtol: 1e-5 }, `${name}: step vs persistent`));
    });
  });
});

describe('per-step dispatch counts', () => {
  STEP_VARIANTS.forEach((v) => {
    it(`${v.label}: T dispatches forward and 2T backward per layer (2 layers, T = 70 vs ⌈70/${RNN_CHUNK}⌉ persistent chunks and one copy of U)`, async () => {
      const B = 3, T = 70, I = 2, H1 = 5, H2 = 4;
      const ctx = await gpuContext();
      const counts = async (timeLoop: RnnOptions['timeLoop']) => {
        const g = new Graph(ctx, true);
        let x = input(g, [B, T, I], new Float64Array(B * T * I), true, 'x');
        for (const [inF, H] of [[I, H1], [H1, H2]] as const) {
          const GH = gateCount(v.cell) * H;
          const op: RnnOpConfig = { cell: v.cell, units: H, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: false };
          const w = { kernel: input(g, [inF, GH], new Float64Array(inF * GH), true), recurrentKernel: input(g, [H, GH], new Float64Array(H * GH), true), bias: null };
          x = (await rnn(g, op, x, w, null, null, { timeLoop })).hSeq;
        }
        await g.backward(await sum(g, x));
        const n = { forward: g.forward.dispatchCount, backward: g.backwardProgram.dispatchCount };
        g.dispose();
        return n;
      };
      const step = await counts('step');
      const persistent = await counts('persistent');
      const chunks = Math.ceil(T / RNN_CHUNK);
      // the persistent forward also copies U by unit (gatesByUnit) once per layer
      expect(step.forward - persistent.forward).toBe(2 * (T - chunks - 1));
      expect(step.backward - persistent.backward).toBe(2 * (2 * T - chunks));
    });
  });
});
