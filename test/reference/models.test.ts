/**
 * The float64 references of whole functional models (test/reference/models.ts): encoder–decoder
 * (LSTM and GRU; the loss also on the encoder's returned state) and vector-to-sequence, every
 * weight's gradient against central differences. test/unit/functional.test.ts checks the GPU
 * models against these.
 */
import { describe, it } from 'vitest';
import { flatWeights, seq2seqCases, seq2seqData, seq2seqRef } from './models';
import { expectGradClose, numericGradient } from '../helpers/gradcheck';

describe('functional model references vs central differences', () => {
  for (const { name, c } of seq2seqCases()) {
    it(name, () => {
      const { w, xEnc, xDec, y, hTarget } = seq2seqData(c, 7);
      const { grads } = seq2seqRef(c, w, xEnc, xDec, y, hTarget);
      const names = ['encoder kernel', 'encoder recurrent kernel', 'encoder bias', 'decoder kernel', 'decoder recurrent kernel', 'decoder bias', 'dense kernel', 'dense bias'];
      flatWeights(w).forEach((p, i) => {
        const numeric = numericGradient(() => seq2seqRef(c, w, xEnc, xDec, y, hTarget).loss, p);
        expectGradClose(grads[i]!, numeric, `${name}: ${names[i]}`);
      });
    });
  }
});
