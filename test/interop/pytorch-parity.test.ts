/**
 * PyTorch as a third implementation: the same weights (exported with toPyTorch, loaded into the
 * module python/webgpu_rnn_torch.py builds, run in float64) give the same outputs and the same
 * gradients of the loss as our kernels, over the float64 reference tests' grid where PyTorch has
 * the feature: every cell it has (SimpleRNN tanh / relu, LSTM, GRU resetAfter), sequence and last
 * outputs, with and without bias, T = 1 and 4, H = 1 to 16, the initial state in and the final
 * state out, goBackwards, masking (padding at the end), Bidirectional, stacked layers.
 * Outputs within 1e-5; gradients within 1e-4 of PyTorch's largest value of each weight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as rnn from '../../src/index';
import { TorchPeer } from './helpers/peer';
import { TMP, compareWithTorch, hostOf, padded, randomizeWeights, removeTmp } from './helpers/compare';
import { join } from 'node:path';
import { modelToArtifacts } from '../../src/model/serialize';
import { toTorchTensors } from '../../src/io/pytorch';
import { randomArray } from '../helpers/rng';

const OUTPUT_TOL = 1e-5; // float32 kernels vs float64 PyTorch on O(1) values
const GRAD_TOL = 1e-4; // relative to the largest gradient of the weight: float32 sums over B·T terms

type Make = (o: Record<string, unknown>) => rnn.RecurrentLayer;
const CELLS: { label: string; make: Make; states: number }[] = [
  { label: 'SimpleRNN tanh', make: (o) => rnn.layers.simpleRNN({ units: 1, ...o }), states: 1 },
  { label: 'SimpleRNN relu', make: (o) => rnn.layers.simpleRNN({ units: 1, activation: 'relu', ...o }), states: 1 },
  { label: 'LSTM', make: (o) => rnn.layers.lstm({ units: 1, ...o }), states: 2 },
  { label: 'GRU resetAfter', make: (o) => rnn.layers.gru({ units: 1, ...o }), states: 1 },
];

interface Variant {
  name: string;
  B: number;
  T: number;
  I: number;
  lengths?: number[];
  /** state_dict keys the module must have (stacks as l0, l1, …; the backward direction as _reverse). */
  keys?: RegExp[];
  /** The model and its extra inputs' shapes (after x). */
  build: (make: Make, states: number) => { model: rnn.Model; extra: number[][] };
}

const seqModel = (layers: rnn.Layer[]) => ({ model: rnn.sequential({ layers }), extra: [] });

const VARIANTS: Variant[] = [
  { name: 'sequence out, bias, T=4 H=5, Dense head', B: 3, T: 4, I: 2, build: (m) => seqModel([m({ units: 5, returnSequences: true, inputShape: [null, 2] }), rnn.layers.dense({ units: 2 })]) },
  { name: 'last output, no bias, T=1 H=1', B: 3, T: 1, I: 2, build: (m) => seqModel([m({ units: 1, useBias: false, inputShape: [null, 2] })]) },
  { name: 'last output, bias, T=4 H=1', B: 3, T: 4, I: 2, build: (m) => seqModel([m({ units: 1, inputShape: [null, 2] })]) },
  { name: 'goBackwards, sequence out, T=4 H=3', B: 3, T: 4, I: 2, build: (m) => seqModel([m({ units: 3, returnSequences: true, goBackwards: true, inputShape: [null, 2] })]) },
  {
    name: 'initial state in, final state out (returnState), T=4 H=3', B: 3, T: 4, I: 2,
    build: (m, n) => {
      const x = rnn.input({ shape: [null, 2] });
      const init = Array.from({ length: n }, () => rnn.input({ shape: [3] }));
      const outs = m({ units: 3, returnSequences: true, returnState: true }).apply(x, { initialState: init }) as rnn.SymbolicTensor[];
      return { model: rnn.model({ inputs: [x, ...init], outputs: outs }), extra: init.map(() => [3]) };
    },
  },
  {
    name: 'masking (padding at the end) → last output → Dense, T=4 H=4', B: 3, T: 4, I: 2, lengths: [4, 2, 3],
    build: (m) => seqModel([rnn.layers.masking({ inputShape: [null, 2] }), m({ units: 4 }), rnn.layers.dense({ units: 1 })]),
  },
  { name: 'Bidirectional concat, sequence out, T=4 H=3', B: 3, T: 4, I: 2, keys: [/^bidirectional\w*\.weight_hh_l0_reverse$/], build: (m) => seqModel([rnn.layers.bidirectional({ layer: m({ units: 3, returnSequences: true }), inputShape: [null, 2] })]) },
  { name: 'Bidirectional ave, last output, T=4 H=3', B: 3, T: 4, I: 2, build: (m) => seqModel([rnn.layers.bidirectional({ layer: m({ units: 3 }), mergeMode: 'ave', inputShape: [null, 2] })]) },
  {
    name: 'stacked ×3 (one torch module, l0–l2) → Dense, T=4 H=4', B: 3, T: 4, I: 2, keys: [/^\w+\.weight_ih_l2$/, /^dense\w*\.weight$/],
    build: (m) => seqModel([m({ units: 4, returnSequences: true, inputShape: [null, 2] }), m({ units: 4, returnSequences: true }), m({ units: 4 }), rnn.layers.dense({ units: 1 })]),
  },
  { name: 'B=4 T=12 H=16, sequence out', B: 4, T: 12, I: 3, build: (m) => seqModel([m({ units: 16, returnSequences: true, inputShape: [null, 3] })]) },
];

const measured: { name: string; outputs: number; grads: number }[] = [];
let peer: TorchPeer;
beforeAll(async () => {
  peer = new TorchPeer();
  await peer.ready;
});
afterAll(() => {
  peer?.close();
  removeTmp();
  if (measured.length) {
    const worst = (k: 'outputs' | 'grads') => measured.reduce((a, m) => (m[k] > a[k] ? m : a));
    console.log(`PyTorch parity over ${measured.length} models: largest output difference ${worst('outputs').outputs.toExponential(2)} (${worst('outputs').name}), largest relative gradient difference ${worst('grads').grads.toExponential(2)} (${worst('grads').name})`);
  }
});

async function check(name: string, model: rnn.Model, xs: rnn.HostTensor[], seed: number, lossMasks?: (rnn.HostTensor | null)[], keys: RegExp[] = []): Promise<void> {
  model.compile({ optimizer: 'sgd', loss: model.outputs.map(() => 'mse' as const) });
  await randomizeWeights(model, seed);
  const outs = model.outputShapes(xs.map((x) => x.shape.slice(1)));
  const targets = outs.map((s, i) => {
    const shape = [xs[0]!.shape[0]!, ...(s as number[])];
    return hostOf(randomArray(shape.reduce((a, d) => a * d, 1), seed + 100 + i), shape);
  });
  const m = await compareWithTorch(peer, model, xs, targets, name, lossMasks);
  measured.push({ name, outputs: m.outputs, grads: m.grads });
  for (const k of keys) expect(m.keys.some((key) => k.test(key)), `${name}: a state_dict key like ${k} in ${m.keys.join(', ')}`).toBe(true);
  expect(m.outputs, `${name}: largest output difference`).toBeLessThanOrEqual(OUTPUT_TOL);
  expect(m.grads, `${name}: largest relative gradient difference`).toBeLessThanOrEqual(GRAD_TOL);
  model.dispose();
}

CELLS.forEach((cell, ci) => {
  describe(`${cell.label} against torch.nn (float64)`, () => {
    VARIANTS.forEach((v, vi) => {
      it(v.name, async () => {
        const seed = 1000 * (ci + 1) + 10 * vi;
        const { model, extra } = v.build(cell.make, cell.states);
        const xs = [padded(v.B, v.T, v.I, seed, v.lengths), ...extra.map((s, i) => hostOf(randomArray(v.B * s[0]!, seed + 50 + i), [v.B, ...s]))];
        await check(`${cell.label}: ${v.name}`, model, xs, seed, undefined, v.keys);
      });
    });
  });
});

describe('mixed models against torch.nn (float64)', () => {
  it('masked, stacked Bidirectional LSTM (one bidirectional torch module, 2 layers) → TimeDistributed Dense, loss over the kept steps', async () => {
    const model = rnn.sequential({
      layers: [
        rnn.layers.masking({ inputShape: [null, 3] }),
        rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 4, returnSequences: true }) }),
        rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 4, returnSequences: true }) }),
        rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 2 }) }),
      ],
    });
    const lengths = [5, 3, 1];
    const mask = hostOf(lengths.flatMap((n) => Array.from({ length: 5 }, (_, t) => (t < n ? 1 : 0))), [3, 5]);
    await check('masked stacked Bidirectional LSTM', model, [padded(3, 5, 3, 77, lengths)], 77, [mask], [/^bidirectional\w*\.weight_ih_l1_reverse$/]);
  });

  it('the lecture\'s encoder–decoder: a GRU encoder\'s final state starts a GRU decoder (teacher forcing) → TimeDistributed Dense', async () => {
    const enc = rnn.input({ shape: [null, 1] });
    const dec = rnn.input({ shape: [4, 1] });
    const [, h] = rnn.layers.gru({ units: 5, returnState: true }).apply(enc) as rnn.SymbolicTensor[];
    const seq = rnn.layers.gru({ units: 5, returnSequences: true }).apply(dec, { initialState: [h!] }) as rnn.SymbolicTensor;
    const y = rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 1 }) }).apply(seq) as rnn.SymbolicTensor;
    const model = rnn.model({ inputs: [enc, dec], outputs: y });
    await check('encoder–decoder', model, [padded(3, 6, 1, 88), padded(3, 4, 1, 89)], 88);
  });
});

describe('a model saved with model.save (its model.json) builds the module the export fills', () => {
  it('webgpu_rnn_torch.build_model(\'…/model.json\') has exactly the exported state_dict keys and shapes', async () => {
    const x = rnn.input({ shape: [null, 3], name: 'series' });
    const seq = rnn.layers.bidirectional({ layer: rnn.layers.gru({ units: 4, returnSequences: true }) }).apply(x) as rnn.SymbolicTensor;
    const norm = rnn.layers.layerNormalization().apply(seq) as rnn.SymbolicTensor;
    const last = rnn.layers.lstm({ units: 3 }).apply(norm) as rnn.SymbolicTensor;
    const model = rnn.model({ inputs: x, outputs: rnn.layers.dense({ units: 2 }).apply(last) as rnn.SymbolicTensor });
    const dir = join(TMP, 'saved');
    await model.save(`file://${dir}`);
    const built = await peer.request<{ keys: Record<string, number[]> }>('keys', { topology: join(dir, 'model.json') });
    const { tensors } = toTorchTensors(await modelToArtifacts(model, { includeOptimizer: false }));
    expect(built.keys).toEqual(Object.fromEntries([...tensors].map(([k, t]) => [k, [...t.shape]])));
    model.dispose();
  });
});
