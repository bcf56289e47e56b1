/**
 * ONNX export checked by the real runtimes: onnx.checker (python3-onnx, full_check with shape
 * inference) accepts every exported model, and ONNX Runtime (onnxruntime-node, CPU) predicts what
 * our kernels predict within 1e-5 — for every batch size and sequence length from one file
 * (symbolic 'batch' and 'time' dimensions): LSTM, GRU resetAfter true and false, SimpleRNN, the
 * activations of the float64 reference grid, stacked and Bidirectional layers, sequence-to-sequence
 * and sequence-to-vector heads, masking (sequence_lens), goBackwards, initial and final states,
 * and the chapter's other layers (Flatten, BatchNormalization, LayerNormalization, RepeatVector…).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as rnn from '../../src/index';
import { decodeModelProto } from '../../src/io/onnx-graph';
import { TorchPeer } from './helpers/peer';
import { TMP, hostOf, padded, randomizeWeights, removeTmp } from './helpers/compare';
import { randomArray } from '../helpers/rng';

const TOL = 1e-5; // float32 kernels vs ONNX Runtime's float32 CPU kernels
type ST = rnn.SymbolicTensor;

interface Case {
  name: string;
  build: () => rnn.Model;
  /** Feature sizes of the inputs; a fixed time length where the model needs one. */
  inputs: { F: number; T?: number; extra?: number[] }[];
  lengths?: boolean;
  opset?: number;
}

const seq = (layers: rnn.Layer[]) => rnn.sequential({ layers });
const L = rnn.layers;

const CASES: Case[] = [
  { name: 'LSTM ×2 → TimeDistributed Dense (seq-to-seq, stacked)', inputs: [{ F: 2 }], build: () => seq([L.lstm({ units: 5, returnSequences: true, inputShape: [null, 2] }), L.lstm({ units: 4, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 3 }) })]) },
  { name: 'GRU resetAfter true → Dense (seq-to-vector)', inputs: [{ F: 3 }], build: () => seq([L.gru({ units: 6, inputShape: [null, 3] }), L.dense({ units: 1 })]) },
  { name: 'GRU resetAfter false, sequence out → Dense per step', inputs: [{ F: 2 }], build: () => seq([L.gru({ units: 4, resetAfter: false, returnSequences: true, inputShape: [null, 2] }), L.dense({ units: 2 })]) },
  { name: 'SimpleRNN ×2 → Dense (the chapter\'s deep RNN)', inputs: [{ F: 1 }], build: () => seq([L.simpleRNN({ units: 8, returnSequences: true, inputShape: [null, 1] }), L.simpleRNN({ units: 8 }), L.dense({ units: 1 })]) },
  { name: 'Bidirectional LSTM concat (sequence) → Bidirectional GRU sum (last) → Dense', inputs: [{ F: 2 }], build: () => seq([L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }), inputShape: [null, 2] }), L.bidirectional({ layer: L.gru({ units: 3 }), mergeMode: 'sum' }), L.dense({ units: 2 })]) },
  { name: 'Bidirectional SimpleRNN mul (sequence) → Bidirectional GRU resetAfter false ave (last)', inputs: [{ F: 2 }], build: () => seq([L.bidirectional({ layer: L.simpleRNN({ units: 3, returnSequences: true }), mergeMode: 'mul', inputShape: [null, 2] }), L.bidirectional({ layer: L.gru({ units: 2, resetAfter: false }), mergeMode: 'ave' })]) },
  { name: 'activations: LSTM relu / hardSigmoid, GRU resetAfter relu / tfjs\' hardSigmoid, Dense hardSigmoid', inputs: [{ F: 2 }], build: () => seq([L.lstm({ units: 3, activation: 'relu', recurrentActivation: 'hardSigmoid', returnSequences: true, inputShape: [null, 2] }), L.gru({ units: 3, activation: 'relu', recurrentActivation: 'hardSigmoidTfjs' }), L.dense({ units: 2, activation: 'hardSigmoid' })]) },
  { name: 'activations: SimpleRNN sigmoid, linear, hardSigmoid; GRU resetAfter false linear / hardSigmoid', inputs: [{ F: 2 }], build: () => seq([L.simpleRNN({ units: 3, activation: 'sigmoid', returnSequences: true, inputShape: [null, 2] }), L.simpleRNN({ units: 3, activation: 'linear', returnSequences: true }), L.simpleRNN({ units: 3, activation: 'hardSigmoid', returnSequences: true }), L.gru({ units: 2, resetAfter: false, activation: 'linear', recurrentActivation: 'hardSigmoid' })]) },
  { name: 'no bias; goBackwards with sequence out (processing order)', inputs: [{ F: 2 }], build: () => seq([L.lstm({ units: 3, useBias: false, returnSequences: true, inputShape: [null, 2] }), L.gru({ units: 3, goBackwards: true, returnSequences: true }), L.dense({ units: 1, activation: 'tanh' })]) },
  { name: 'Masking (padding at the end) → LSTM sequence → GRU last (sequence_lens)', inputs: [{ F: 2 }], lengths: true, build: () => seq([L.masking({ inputShape: [null, 2] }), L.lstm({ units: 4, returnSequences: true }), L.gru({ units: 3 }), L.dense({ units: 1 })]) },
  { name: 'Masking → Bidirectional LSTM sequence → SimpleRNN sequence → TimeDistributed Dense', inputs: [{ F: 3 }], lengths: true, build: () => seq([L.masking({ inputShape: [null, 3] }), L.bidirectional({ layer: L.lstm({ units: 3, returnSequences: true }) }), L.simpleRNN({ units: 2, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 2 }) })]) },
  {
    name: 'encoder–decoder: LSTM returnState → initialState of an LSTM decoder; two inputs, three outputs', inputs: [{ F: 1 }, { F: 2, T: 4 }],
    build: () => {
      const enc = rnn.input({ shape: [null, 1] });
      const dec = rnn.input({ shape: [4, 2] });
      const [, h, c] = L.lstm({ units: 5, returnState: true }).apply(enc) as ST[];
      const out = L.lstm({ units: 5, returnSequences: true, returnState: true }).apply(dec, { initialState: [h!, c!] }) as ST[];
      const y = L.timeDistributed({ layer: L.dense({ units: 1 }) }).apply(out[0]!) as ST;
      return rnn.model({ inputs: [enc, dec], outputs: [y, out[1]!, out[2]!] });
    },
  },
  {
    name: 'Bidirectional GRU with initial states and returnState; Concatenate, Add, Subtract, Multiply, Average', inputs: [{ F: 2, extra: [3, 3] }],
    build: () => {
      const x = rnn.input({ shape: [null, 2] });
      const h0 = rnn.input({ shape: [3] }), h1 = rnn.input({ shape: [3] });
      const [y, fh, bh] = L.bidirectional({ layer: L.gru({ units: 3, returnState: true }) }).apply(x, { initialState: [h0, h1] }) as ST[];
      const a = L.add().apply([fh!, bh!]) as ST, s = L.subtract().apply([fh!, h0]) as ST, m = L.multiply().apply([bh!, h1]) as ST;
      const v = L.average().apply([a, s, m]) as ST;
      return rnn.model({ inputs: [x, h0, h1], outputs: L.concatenate().apply([y!, v]) as ST });
    },
  },
  { name: 'Flatten → Dense (the chapter\'s linear model; fixed length)', inputs: [{ F: 1, T: 6 }], build: () => seq([L.flatten({ inputShape: [6, 1] }), L.dense({ units: 2 })]) },
  { name: 'SimpleRNN → BatchNormalization → SimpleRNN → LayerNormalization → Dropout → Dense (experiment I)', inputs: [{ F: 1 }], build: () => seq([L.simpleRNN({ units: 4, returnSequences: true, inputShape: [null, 1] }), L.batchNormalization(), L.simpleRNN({ units: 4, returnSequences: true }), L.layerNormalization(), L.dropout({ rate: 0.3 }), L.timeDistributed({ layer: L.dense({ units: 2 }) })]) },
  { name: 'the same with opset 14 (LayerNormalization as its formula)', opset: 14, inputs: [{ F: 1 }], build: () => seq([L.simpleRNN({ units: 4, returnSequences: true, inputShape: [null, 1] }), L.batchNormalization({ center: false }), L.layerNormalization({ scale: false }), L.dense({ units: 2 })]) },
  { name: 'vector-to-sequence: LSTM → RepeatVector → LSTM → Reshape → Dense', inputs: [{ F: 1 }], build: () => seq([L.lstm({ units: 4, inputShape: [null, 1] }), L.repeatVector({ n: 3 }), L.lstm({ units: 4, returnSequences: true }), L.reshape({ targetShape: [3, 2, 2] }), L.dense({ units: 1 })]) },
];

/** Batch sizes and sequence lengths each exported file is run with. */
const SIZES = [{ B: 1, T: 2 }, { B: 3, T: 5 }, { B: 2, T: 9 }];

let peer: TorchPeer;
const worst = { diff: 0, name: '' };
beforeAll(async () => {
  peer = new TorchPeer();
  await peer.ready;
});
afterAll(() => {
  peer?.close();
  removeTmp();
  console.log(`ONNX Runtime vs webgpu-rnn: largest difference ${worst.diff.toExponential(2)} (${worst.name})`);
});

describe('ONNX export: onnx.checker accepts it, ONNX Runtime predicts what we predict', () => {
  CASES.forEach((c, ci) => {
    it(c.name, async () => {
      const model = c.build();
      await randomizeWeights(model, 500 + 13 * ci, 0.7);
      const bytes = await rnn.io.toOnnx(model, c.opset ? { opset: c.opset } : {});
      const path = join(TMP, `case${ci}.onnx`);
      writeFileSync(path, bytes);
      const check = await peer.request<{ error: string | null }>('onnx_check', { path });
      expect(check.error, 'onnx.checker').toBeNull();
      const proto = (await decodeModelProto(bytes)) as { opset_import: { version: number }[]; graph: { input: { type: { tensor_type: { shape: { dim: { dim_param?: string; dim_value?: number }[] } } } }[] } };
      expect(proto.opset_import[0]!.version).toBe(c.opset ?? 17);
      const dims = proto.graph.input[0]!.type.tensor_type.shape.dim;
      expect(dims[0]!.dim_param, 'a symbolic batch dimension').toBe('batch');
      if (c.inputs[0]!.T === undefined) expect(dims[1]!.dim_param, 'a symbolic time dimension').toMatch(/time$/);
      const session = await ort.InferenceSession.create(bytes);
      for (const [si, { B, T }] of SIZES.entries()) {
        const seed = 40 * ci + si;
        const lengths = c.lengths ? Array.from({ length: B }, (_, b) => Math.max(1, T - ((b * 2) % T))) : undefined;
        const xs = c.inputs.flatMap((inp, k) => [
          padded(B, inp.T ?? T, inp.F, seed + 7 * k, k === 0 ? lengths : undefined),
          ...(inp.extra ?? []).map((n, j) => hostOf(randomArray(B * n, seed + 70 + j), [B, n])),
        ]);
        const ours = await model.predictAll(xs.length === 1 ? xs[0]! : xs);
        const feeds = Object.fromEntries(session.inputNames.map((n, k) => [n, new ort.Tensor('float32', xs[k]!.data, [...xs[k]!.shape])]));
        const theirs = await session.run(feeds);
        session.outputNames.forEach((n, k) => {
          const t = theirs[n]!;
          const o = ours[k]!;
          expect(t.dims, `${n}: shape at B=${B} T=${T}`).toEqual(o.shape);
          let d = 0;
          (t.data as Float32Array).forEach((v, i) => (d = Math.max(d, Math.abs(v - o.data[i]!))));
          if (d > worst.diff) Object.assign(worst, { diff: d, name: `${c.name}, B=${B} T=${T}` });
          expect(d, `${c.name}: output ${n} at B=${B} T=${T}`).toBeLessThanOrEqual(TOL);
        });
      }
      await session.release();
      model.dispose();
    });
  });
});
