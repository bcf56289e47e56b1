/**
 * Bad input to the PyTorch and ONNX interop, each a clear error naming the key or the layer:
 * state_dicts with missing or unexpected keys, wrong shapes, non-float dtypes or non-finite
 * values; layers PyTorch cannot express (GRU resetAfter false, other activations, custom cells)
 * and layers ONNX cannot (custom cells, stateful layers, a reversed masked sequence). Built from
 * saved topologies directly (no GPU); the PyTorch module's own errors through the Python peer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayerJSON, ModelArtifacts } from '../../src/io/artifacts';
import { fromPyTorchSafetensors, toPyTorchSafetensors, toTorchTensors } from '../../src/io/pytorch';
import { encodeSafetensors, type SafetensorsInput } from '../../src/io/safetensors';
import { toOnnxModel } from '../../src/io/onnx';
import { TorchPeer } from './helpers/peer';

type Spec = { className: string; name: string; config: Record<string, unknown>; weights: [string, number[]][] };

/** A Sequential's artifacts from layers and their weight shapes (values i·0.01). */
function artifacts(layers: Spec[], inputShape: (number | null)[] = [null, 2]): ModelArtifacts {
  const entries = layers.flatMap((l) => l.weights.map(([n, shape]) => ({ name: `${l.name}/${n}`, shape, dtype: 'float32' as const })));
  const total = entries.reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  return {
    json: {
      format: 'webgpu-rnn', formatVersion: 1, generatedBy: 'test',
      modelTopology: { className: 'Sequential', config: { name: 'm', seed: 1, inputShape, layers: layers.map((l): LayerJSON => ({ className: l.className, name: l.name, trainable: true, config: l.config })) } },
      weightsManifest: [{ paths: ['w.bin'], weights: entries }],
    },
    weightData: Float32Array.from({ length: total }, (_, i) => i * 0.01).buffer,
  };
}

const lstm = (name = 'lstm', I = 2, H = 3, config: Record<string, unknown> = {}): Spec => ({ className: 'LSTM', name, config: { units: H, ...config }, weights: [['kernel', [I, 4 * H]], ['recurrent_kernel', [H, 4 * H]], ['bias', [4 * H]]] });
const gru = (config: Record<string, unknown> = {}): Spec => ({ className: 'GRU', name: 'gru', config: { units: 3, ...config }, weights: [['kernel', [2, 9]], ['recurrent_kernel', [3, 9]], ['bias', config.resetAfter === false ? [9] : [2, 9]]] });
const dense: Spec = { className: 'Dense', name: 'dense', config: { units: 1 }, weights: [['kernel', [3, 1]], ['bias', [1]]] };
const base = artifacts([lstm(), dense]);

/** The exported state_dict of `base` with some entries changed. */
function stateDict(edit: (t: Map<string, SafetensorsInput>) => void): Uint8Array {
  const { tensors } = toTorchTensors(base);
  edit(tensors);
  return encodeSafetensors(Object.fromEntries(tensors));
}

describe('fromPyTorch: a state_dict that does not fit the model names the key', () => {
  it('round trip: the exported state_dict reads back to the same weights', () => {
    const back = fromPyTorchSafetensors(base, toPyTorchSafetensors(base));
    const flat = new Float32Array(base.weightData);
    let at = 0;
    for (const w of back) {
      expect(Array.from(w.data)).toEqual(Array.from(flat.subarray(at, at + w.data.length)));
      at += w.data.length;
    }
  });
  it('missing keys', () => {
    expect(() => fromPyTorchSafetensors(base, stateDict((t) => t.delete('lstm.bias_hh_l0')))).toThrow(/missing keys: 'lstm\.bias_hh_l0' \(layer 'lstm'\)/);
  });
  it('unexpected keys', () => {
    expect(() => fromPyTorchSafetensors(base, stateDict((t) => t.set('lstm.weight_ih_l1', { dtype: 'F32', shape: [12, 3], data: new Float32Array(36) })))).toThrow(/unexpected keys: 'lstm\.weight_ih_l1'/);
  });
  it('a wrong shape', () => {
    expect(() => fromPyTorchSafetensors(base, stateDict((t) => t.set('dense.weight', { dtype: 'F32', shape: [3, 1], data: new Float32Array(3) })))).toThrow(/key 'dense\.weight' \(layer 'dense'\): shape \[3, 1\], but the model needs \[1, 3\]/);
  });
  it('a non-float dtype', () => {
    expect(() => fromPyTorchSafetensors(base, stateDict((t) => t.set('dense.bias', { dtype: 'I64', shape: [1], data: new BigInt64Array(1) })))).toThrow(/key 'dense\.bias' \(layer 'dense'\): dtype I64, expected a floating-point tensor/);
  });
  it('a non-finite value', () => {
    expect(() => fromPyTorchSafetensors(base, stateDict((t) => t.set('dense.bias', { dtype: 'F32', shape: [1], data: Float32Array.of(NaN) })))).toThrow(/key 'dense\.bias' \(layer 'dense'\): element 0 is NaN/);
  });
  it('float64 is converted; a DistributedDataParallel prefix (module.) is accepted', () => {
    const sd = stateDict((t) => {
      for (const [k, v] of [...t]) {
        t.delete(k);
        t.set(`module.${k}`, { dtype: 'F64', shape: v.shape, data: Float64Array.from(v.data as Float32Array) });
      }
    });
    expect(fromPyTorchSafetensors(base, sd).map((w) => w.name)).toEqual(['lstm/kernel', 'lstm/recurrent_kernel', 'lstm/bias', 'dense/kernel', 'dense/bias']);
  });
  it('a file that is not safetensors', () => {
    expect(() => fromPyTorchSafetensors(base, new TextEncoder().encode('PK\u0003\u0004 a pickle zip'))).toThrow(/safetensors/);
  });
});

describe('toPyTorch: what torch.nn cannot express names the layer', () => {
  it('GRU with resetAfter false', () => {
    expect(() => toPyTorchSafetensors(artifacts([gru({ resetAfter: false })]))).toThrow(/layer 'gru' \(GRU\): resetAfter false .* torch\.nn\.GRU/);
  });
  it('LSTM / GRU activations other than tanh and sigmoid', () => {
    expect(() => toPyTorchSafetensors(artifacts([lstm('lstm', 2, 3, { activation: 'relu' })]))).toThrow(/layer 'lstm' \(LSTM\): torch\.nn\.LSTM has tanh and sigmoid only; .*activation 'relu'/);
    expect(() => toPyTorchSafetensors(artifacts([gru({ recurrentActivation: 'hardSigmoid' })]))).toThrow(/layer 'gru' \(GRU\).*recurrentActivation 'hardSigmoid'/);
  });
  it('SimpleRNN activations other than tanh and relu', () => {
    const rnnLayer: Spec = { className: 'SimpleRNN', name: 'simple_rnn', config: { units: 3, activation: 'sigmoid' }, weights: [['kernel', [2, 3]], ['recurrent_kernel', [3, 3]], ['bias', [3]]] };
    expect(() => toPyTorchSafetensors(artifacts([rnnLayer]))).toThrow(/layer 'simple_rnn' \(SimpleRNN\): activation 'sigmoid' has no torch\.nn\.RNN equivalent/);
  });
  it('a custom cell (RNN layer)', async () => {
    const custom: Spec = { className: 'RNN', name: 'rnn', config: { cell: { className: 'LNSimpleRNNCell', config: { units: 3 } } }, weights: [['kernel', [2, 3]]] };
    expect(() => toPyTorchSafetensors(artifacts([custom]))).toThrow(/layer 'rnn' \(RNN with the custom cell LNSimpleRNNCell\) has no torch\.nn counterpart/);
    await expect(toOnnxModel(artifacts([custom]))).rejects.toThrow(/layer 'rnn' \(RNN\): the custom cell LNSimpleRNNCell/);
  });
  it('a LayerNormalization with a scale but no shift', () => {
    const ln: Spec = { className: 'LayerNormalization', name: 'ln', config: { scale: true, center: false }, weights: [['gamma', [2]]] };
    expect(() => toPyTorchSafetensors(artifacts([ln]))).toThrow(/layer 'ln' \(LayerNormalization\): torch\.nn\.LayerNorm learns both/);
  });
});

describe('toOnnx: what an ONNX graph cannot express names the layer', () => {
  it('a stateful layer', async () => {
    await expect(toOnnxModel(artifacts([lstm('lstm', 2, 3, { stateful: true })]))).rejects.toThrow(/layer 'lstm' \(LSTM\): a stateful layer/);
  });
  it('goBackwards on a masked sequence', async () => {
    const masking: Spec = { className: 'Masking', name: 'masking', config: { maskValue: 0 }, weights: [] };
    await expect(toOnnxModel(artifacts([masking, lstm('lstm', 2, 3, { goBackwards: true })]))).rejects.toThrow(/layer 'lstm' \(LSTM\): goBackwards on a masked sequence/);
  });
  it('an opset outside 14–17', async () => {
    await expect(toOnnxModel(base, { opset: 12 })).rejects.toThrow(/opset must be an integer from 14 to 17, got 12/);
  });
});

describe('python/webgpu_rnn_torch.py refuses the same layers, naming them', () => {
  let peer: TorchPeer;
  beforeAll(() => void (peer = new TorchPeer()));
  afterAll(() => peer?.close());
  it('GRU resetAfter false, LSTM relu, a custom cell', async () => {
    const err = async (a: ModelArtifacts) => (await peer.request<{ error: string | null }>('build_error', { topology: a.json.modelTopology })).error;
    expect(await err(artifacts([gru({ resetAfter: false })]))).toMatch(/layer 'gru' \(GRU\): resetAfter false/);
    expect(await err(artifacts([lstm('lstm', 2, 3, { activation: 'relu' })]))).toMatch(/layer 'lstm' \(LSTM\): torch\.nn\.LSTM has tanh and sigmoid only/);
    const custom = artifacts([{ className: 'RNN', name: 'rnn', config: { cell: { className: 'LNSimpleRNNCell', config: {} } }, weights: [] }]);
    expect(await err(custom)).toMatch(/layer 'rnn' \(RNN with the custom cell LNSimpleRNNCell\)/);
    expect(await err(base)).toBeNull();
  });
});

describe('rnn.io.fromPyTorch on a model: an error names the key, and the weights stay as they were', () => {
  it('a state_dict of another model', async () => {
    const rnn = await import('../../src/index');
    const model = rnn.sequential({ name: 'forecaster', layers: [rnn.layers.gru({ units: 4, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })] });
    const other = rnn.sequential({ layers: [rnn.layers.gru({ units: 5, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })] });
    const before = await model.getWeights();
    const names = model.layers.map((l) => l.name);
    await expect(rnn.io.fromPyTorch(model, await rnn.io.toPyTorch(other))).rejects.toThrow(new RegExp(`forecaster\\.fromPyTorch: the state_dict does not match the model: missing keys: '${names[0]}\\.weight_ih_l0'`));
    const after = await model.getWeights();
    after.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(before[i]!.data)));
    model.dispose();
    other.dispose();
  });
});
