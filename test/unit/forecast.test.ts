/**
 * Iterative multi-step forecasting: each prediction is fed back. Checked with models whose output
 * is known in closed form.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';

describe('iterativeForecast', () => {
  it('fixed-length model (Flatten → Dense): the window slides; y = mean of the last 2 values', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.flatten({ inputShape: [3, 1] }), rnn.layers.dense({ units: 1 })], seed: 1 });
    await model.setWeights([[[0], [0.5], [0.5]], [0]]);
    const out = await rnn.iterativeForecast(model, [[[1], [2], [4]], [[0], [0], [8]]], 3);
    expect(out.shape).toEqual([2, 3]);
    // row 0: (2+4)/2 = 3, (4+3)/2 = 3.5, (3+3.5)/2 = 3.25; row 1: 4, 6, 5
    expect(Array.from(out.data)).toEqual([3, 3.5, 3.25, 4, 6, 5]);
    model.dispose();
  });

  it('variable-length RNN: the whole growing sequence is fed; SimpleRNN(1) linear h = x + 0.5 h', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 1, activation: 'linear', inputShape: [null, 1] })], seed: 1 });
    await model.setWeights([[[1]], [[0.5]], [0]]);
    const out = await rnn.iterativeForecast(model, [[[2], [4]]], 2);
    // h over [2, 4] = 2, 5 → pred 5; over [2, 4, 5]: 2, 5, 7.5 → pred 7.5
    expect(Array.from(out.data)).toEqual([5, 7.5]);
    model.dispose();
  });

  it('rejects bad arguments clearly', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 1, inputShape: [null, 1] })], seed: 1 });
    await expect(rnn.iterativeForecast(model, [[[1]]], 0)).rejects.toThrow(/steps must be a positive integer/);
    await expect(rnn.iterativeForecast(model, [[1, 2]], 2)).rejects.toThrow(/x must be \[batch, time, 1\]/);
    model.dispose();
  });
});
