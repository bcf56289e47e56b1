/**
 * The float64 references of the custom cells (test/reference/cells.ts) against central
 * differences: the layer-normalized SimpleRNN cell's BPTT, plain and with the RNN layer's input and
 * recurrent dropout masks, a sequence mask and a gradient on the last output — what
 * test/unit/cell-rnn.test.ts and cells.test.ts check the GPU against.
 */
import { describe, it, expect } from 'vitest';
import { numericGradient, expectGradClose } from '../helpers/gradcheck';
import { randomArray, dropoutStyle } from '../helpers/rng';
import { lnCellForwardRef, lnCellBackwardRef, randomLnCellWeights, type LnCellOptions } from './cells';

describe('LNSimpleRNNCell reference', () => {
  const I = 3, H = 4, B = 2, T = 4;
  const cases: [string, LnCellOptions][] = [
    ['plain', {}],
    ['input and recurrent dropout masks', { inputMask: dropoutStyle(B * I, 124, 0.3), recMask: dropoutStyle(B * H, 125, 0.4) }],
    ['a sequence mask (a gap, a masked first step) and dropout', { seqMask: Float64Array.from([1, 0, 1, 1, 0, 1, 0, 1]), inputMask: dropoutStyle(B * I, 126, 0.3), recMask: dropoutStyle(B * H, 127, 0.4) }],
  ];
  for (const [label, opts] of cases) {
    it(`float64 reference, ${label}: BPTT gradients (every output and the last one) match finite differences`, () => {
      const w = randomLnCellWeights(I, H, 121);
      const x = randomArray(B * T * I, 122);
      const r = randomArray(B * T * H, 123);
      const rLast = randomArray(B * H, 128);
      const loss = () => {
        const f = lnCellForwardRef(w, x, B, T, I, H, opts);
        return f.hSeq.reduce((a, h, i) => a + h * r[i]!, 0) + f.hLast.reduce((a, h, i) => a + h * rLast[i]!, 0);
      };
      const g = lnCellBackwardRef(w, x, B, T, I, H, r, { ...opts, dLast: rLast });
      for (const k of ['kernel', 'recurrentKernel', 'bias', 'gamma', 'beta'] as const) expectGradClose(g[k], numericGradient(loss, w[k]), `d${k}`);
      expectGradClose(g.x, numericGradient(loss, x), 'dX');
    });
  }

  it('masked steps: the state is carried and the output is the previous output (zeros before the first step)', () => {
    const w = randomLnCellWeights(I, H, 131);
    const x = randomArray(B * T * I, 132);
    const seqMask = Float64Array.from([0, 1, 0, 1, 1, 1, 1, 1]);
    const f = lnCellForwardRef(w, x, B, T, I, H, { seqMask });
    const row = (b: number, t: number) => [...f.hSeq.subarray((b * T + t) * H, (b * T + t + 1) * H)];
    expect(row(0, 0)).toEqual([0, 0, 0, 0]);
    expect(row(0, 2)).toEqual(row(0, 1));
    // step 3 of row 0 starts from step 1's state, as the unmasked sequence x0[1], x0[3] would
    const x2 = Float64Array.from([...x.subarray(3, 6), ...x.subarray(9, 12)]);
    const f2 = lnCellForwardRef(w, x2, 1, 2, I, H);
    expect(row(0, 3).map((v, j) => v - f2.hSeq[H + j]!).every((d) => Math.abs(d) < 1e-12)).toBe(true);
  });
});
