/**
 * PyTorch and ONNX interop of a model (docs/pytorch-onnx.md): the model's saved form
 * (src/model/serialize.ts) handed to the pure converters of src/io/ — the safetensors state_dict
 * exchange (src/io/pytorch.ts) and the ONNX export (src/io/onnx.ts).
 */
import type { Model } from './model/model';
import { modelToArtifacts } from './model/serialize';
import { fromPyTorchSafetensors, toPyTorchSafetensors } from './io/pytorch';
import { toOnnxModel, type OnnxExportOptions } from './io/onnx';

export type { OnnxExportOptions } from './io/onnx';
export { InteropError } from './io/graph';
export { SafetensorsError, readSafetensors, writeSafetensors } from './io/safetensors';
export type { SafetensorsContents } from './io/safetensors';

/**
 * The model's weights as a PyTorch state_dict in the safetensors format, for the torch.nn.Module
 * that `python/webgpu_rnn_torch.py` builds from the same file (its topology is in the metadata):
 * SimpleRNN / LSTM / GRU as nn.RNN / nn.LSTM / nn.GRU (batch_first; stacked layers as one module,
 * `weight_ih_l0`, `weight_ih_l1`, …; Bidirectional as `_reverse`), Dense as nn.Linear. Throws,
 * naming the layer, for what PyTorch cannot express (GRU `resetAfter: false`, activations other
 * than PyTorch's, custom cells).
 *
 * @example
 * ```ts
 * writeFileSync('model.safetensors', await rnn.io.toPyTorch(model));
 * // python: model = webgpu_rnn_torch.load("model.safetensors")
 * ```
 */
export async function toPyTorch(model: Model): Promise<Uint8Array> {
  return toPyTorchSafetensors(await modelToArtifacts(model, { includeOptimizer: false }), `${model.name}.toPyTorch`);
}

/**
 * Sets the model's weights from a PyTorch state_dict in the safetensors format (e.g. written by
 * `webgpu_rnn_torch.save(model, path)` after training in PyTorch). Every key, shape and dtype is
 * checked before anything changes; an error names the key and its layer. Keys of a
 * DistributedDataParallel wrapper (`module.` prefix) are accepted; float64 / float16 / bfloat16
 * values are converted to float32. The optimizer's state restarts, as after `setWeights`.
 */
export async function fromPyTorch(model: Model, file: Uint8Array | ArrayBuffer | Blob): Promise<void> {
  const bytes = typeof Blob !== 'undefined' && file instanceof Blob ? new Uint8Array(await file.arrayBuffer()) : (file as Uint8Array | ArrayBuffer);
  const weights = fromPyTorchSafetensors(await modelToArtifacts(model, { includeOptimizer: false }), bytes, `${model.name}.fromPyTorch`);
  await model.setWeights(weights.map((w) => ({ data: w.data, shape: w.shape })));
}

/**
 * The model's inference graph (what `predict` computes) as an ONNX model (ModelProto bytes, opset
 * 17 by default, 14–17), with symbolic batch and time dimensions: for ONNX Runtime (CPU, WebGPU,
 * CUDA…) and every tool that reads ONNX. Throws, naming the layer, for what ONNX cannot express
 * (custom cells, stateful layers).
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(await rnn.io.toOnnx(model));
 * ```
 */
export async function toOnnx(model: Model, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  return toOnnxModel(await modelToArtifacts(model, { includeOptimizer: false }), options, `${model.name}.toOnnx`);
}
