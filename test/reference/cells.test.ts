/**
 * The float64 references of the custom cells (test/reference/cells.ts) against central
 * differences: the layer-normalized SimpleRNN cell's BPTT, which test/unit/cells.test.ts checks
 * the GPU against.
 */
import { describe, it } from 'vitest';
import { numericGradient, expectGradClose } from '../helpers/gradcheck';
import { randomArray } from '../helpers/rng';
import { lnCellForwardRef, lnCellBackwardRef, randomLnCellWeights } from './cells';

describe('LNSimpleRNNCell reference', () => {
  const I = 3, H = 4, B = 2, T = 4;

  it('float64 reference: BPTT gradients match finite differences', () => {
    const w = randomLnCellWeights(I, H, 121);
    const x = randomArray(B * T * I, 122);
    const r = randomArray(B * T * H, 123);
    const loss = () => lnCellForwardRef(w, x, B, T, I, H).hSeq.reduce((a, h, i) => a + h * r[i]!, 0);
    const g = lnCellBackwardRef(w, x, B, T, I, H, r);
    for (const k of ['kernel', 'recurrentKernel', 'bias', 'gamma', 'beta'] as const) expectGradClose(g[k], numericGradient(loss, w[k]), `d${k}`);
    expectGradClose(g.x, numericGradient(loss, x), 'dX');
  });
});
