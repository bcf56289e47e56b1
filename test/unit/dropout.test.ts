// The Dropout layer: the documented GPU mask (dropoutMaskRef) times the input in training, a new
// mask every step, the gradient through the same mask, identity at inference; saved and loaded
// with its random stream.
import { describe, expect, it } from 'vitest';
import * as rnn from '../../src/index';
import { dropoutMaskRef } from '../reference/sequence';

const B = 4, F = 3, rate = 0.4, seed = 7;
const xs = Array.from({ length: B }, (_, b) => Array.from({ length: F }, (_, f) => Math.fround(0.3 * b - 0.2 * f + 0.1)));

function make(): rnn.Model {
  const inp = rnn.input({ shape: [F] });
  const d = rnn.layers.dropout({ rate, seed, name: 'drop' }).apply(inp) as rnn.SymbolicTensor;
  const y = rnn.layers.dense({ units: 1, useBias: false, kernelInitializer: 'ones', name: 'sum' }).apply(d) as rnn.SymbolicTensor;
  const m = rnn.model({ inputs: inp, outputs: y });
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  return m;
}

/** d loss / d kernel for y = (x ⊙ mask)·1, loss = mean_b y_b² (float64). */
function expectedGrad(counter: number): number[] {
  const mask = dropoutMaskRef(B * F, rate, seed, 0, counter);
  const xd = xs.flatMap((r, b) => r.map((v, f) => v * mask[b * F + f]!));
  const y = Array.from({ length: B }, (_, b) => xd.slice(b * F, b * F + F).reduce((a, v) => a + v, 0));
  return Array.from({ length: F }, (_, f) => (2 / B) * y.reduce((a, yb, b) => a + yb * xd[b * F + f]!, 0));
}

describe('Dropout', () => {
  it('training: the reference mask, a new one every step, gradient through it; inference: identity', async () => {
    const m = make();
    const g0 = (await m.gradients(xs, Array(B).fill([0])))[0]!;
    const g1 = (await m.gradients(xs, Array(B).fill([0])))[0]!;
    const e0 = expectedGrad(0), e1 = expectedGrad(1);
    g0.data.forEach((v, i) => expect(v).toBeCloseTo(e0[i]!, 6));
    g1.data.forEach((v, i) => expect(v).toBeCloseTo(e1[i]!, 6));
    expect(Array.from(g0.data)).not.toEqual(Array.from(g1.data));
    const p = (await m.predict(xs)) as rnn.HostTensor;
    expect(Array.from(p.data)).toEqual(xs.map((r) => Math.fround(r.reduce((a, v) => a + v, 0))));
    m.dispose();
  });

  it('options are checked; rate 0 is the identity even in training', async () => {
    expect(() => rnn.layers.dropout({ rate: 1 })).toThrow(/dropout: rate must be a number in \[0, 1\), got 1/);
    expect(() => rnn.layers.dropout({ rate: 0.1, noiseShape: [1, 2] } as never)).toThrow(/noiseShape is not supported/);
    expect(() => rnn.layers.dropout({ rat: 0.1 } as never)).toThrow(/unknown option 'rat' \(did you mean 'rate'\?\)/);
  });

  it('a saved model resumes with the same masks', async () => {
    const a = make();
    await a.gradients(xs, Array(B).fill([0])); // one step: the stream's counter is 1
    const mem = rnn.io.memory();
    await a.fit(xs, Array(B).fill([0]), { epochs: 1, batchSize: B });
    await a.save(mem);
    const b = await rnn.loadModel(mem);
    const ga = (await a.gradients(xs, Array(B).fill([0])))[0]!;
    const gb = (await b.gradients(xs, Array(B).fill([0])))[0]!;
    expect(Array.from(gb.data)).toEqual(Array.from(ga.data));
    a.dispose();
    b.dispose();
  });
});
