/**
 * PyTorch state_dict exchange in the safetensors format (src/io/pytorch-map.ts says which key
 * holds what). Export writes every entry of the generated torch module's state_dict (float32;
 * BatchNorm's num_batches_tracked int64) and, in the metadata, `format: 'pt'` and the model's
 * topology JSON (`webgpu_rnn_topology`), so python/webgpu_rnn_torch.py can build the module from the
 * file alone. Import checks the file against the model — missing and unexpected keys, shapes,
 * dtypes — before anything changes, each error naming the key and its layer.
 */
import type { ModelArtifacts } from './artifacts';
import { InteropError, artifactWeights } from './graph';
import { torchPlan, type TorchParam } from './pytorch-map';
import { decodeSafetensors, encodeSafetensors, entryToFloat32, type SafetensorsInput } from './safetensors';

/** The metadata key holding the topology JSON. */
export const TOPOLOGY_METADATA_KEY = 'webgpu_rnn_topology';

/** The state_dict of a model as torch-layout float32 arrays (key order of the torch module). */
export function toTorchTensors(artifacts: ModelArtifacts, where = 'toPyTorch'): { params: TorchParam[]; tensors: Map<string, SafetensorsInput> } {
  const plan = torchPlan(artifacts, where);
  const weights = artifactWeights(artifacts);
  const tensors = new Map<string, SafetensorsInput>();
  for (const p of plan.params) {
    if (p.mode === 'count') {
      tensors.set(p.key, { dtype: 'I64', shape: [], data: new BigInt64Array(1) });
      continue;
    }
    const src = weights.get(p.weight!)!.data;
    const data = new Float32Array(p.index!.length);
    if (p.mode === 'set') p.index!.forEach((k, i) => (data[i] = src[k]!));
    tensors.set(p.key, { dtype: 'F32', shape: p.shape, data });
  }
  return { params: plan.params, tensors };
}

/**
 * A model's weights as a PyTorch state_dict in safetensors bytes (with the topology in the
 * metadata), from its saved form.
 */
export function toPyTorchSafetensors(artifacts: ModelArtifacts, where = 'toPyTorch'): Uint8Array {
  const { tensors } = toTorchTensors(artifacts, where);
  return encodeSafetensors(Object.fromEntries(tensors), { format: 'pt', [TOPOLOGY_METADATA_KEY]: JSON.stringify(artifacts.json.modelTopology) });
}

/**
 * Reads a PyTorch state_dict (safetensors bytes) into the Keras-layout weights of `artifacts`'
 * model: returns the weights in manifest order (model group), ready for `setWeights`. Keys of a
 * DistributedDataParallel wrapper ('module.' in front of every key) are accepted. Throws, naming
 * the key and its layer, on missing or unexpected keys, a wrong shape or a non-float dtype.
 */
export function fromPyTorchSafetensors(artifacts: ModelArtifacts, file: Uint8Array | ArrayBuffer, where = 'fromPyTorch'): { name: string; shape: number[]; data: Float32Array }[] {
  const plan = torchPlan(artifacts, where);
  const { tensors } = decodeSafetensors(file);
  let keys = [...tensors.keys()];
  const expected = new Map(plan.params.map((p) => [p.key, p]));
  if (keys.length && keys.every((k) => k.startsWith('module.')) && !keys.some((k) => expected.has(k))) {
    for (const k of keys) tensors.set(k.slice('module.'.length), tensors.get(k)!), tensors.delete(k);
    keys = [...tensors.keys()];
  }
  const missing = plan.params.filter((p) => !tensors.has(p.key));
  const extra = keys.filter((k) => !expected.has(k));
  if (missing.length || extra.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.map((p) => `'${p.key}' (layer '${p.layer}')`).join(', ')}`);
    if (extra.length) parts.push(`unexpected keys: ${extra.map((k) => `'${k}'`).join(', ')}`);
    throw new InteropError(`${where}: the state_dict does not match the model: ${parts.join('; ')}. Expected keys: ${plan.params.map((p) => p.key).join(', ')}`);
  }
  const weights = artifactWeights(artifacts);
  const out = new Map([...weights].map(([n, w]) => [n, { name: n, shape: w.shape, data: new Float32Array(w.data.length) }]));
  const set = new Map<string, Uint8Array>();
  for (const mode of ['set', 'add', 'count'] as const) {
    for (const p of plan.params.filter((q) => q.mode === mode)) {
      const e = tensors.get(p.key)!;
      const what = `${where}: key '${p.key}' (layer '${p.layer}')`;
      if (e.shape.length !== p.shape.length || e.shape.some((d, i) => d !== p.shape[i])) {
        throw new InteropError(`${what}: shape [${e.shape.join(', ')}], but the model needs [${p.shape.join(', ')}]`);
      }
      if (mode === 'count') {
        if (!/^[IU]\d+$/.test(e.dtype)) throw new InteropError(`${what}: dtype ${e.dtype}, expected an integer counter (I64)`);
        continue;
      }
      const v = entryToFloat32(e);
      if (!v) throw new InteropError(`${what}: dtype ${e.dtype}, expected a floating-point tensor (F32; F64, F16 and BF16 are converted)`);
      const bad = v.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw new InteropError(`${what}: element ${bad} is ${v[bad]}`);
      const dst = out.get(p.weight!)!;
      const mark = set.get(p.weight!) ?? new Uint8Array(dst.data.length);
      set.set(p.weight!, mark);
      p.index!.forEach((k, i) => {
        if (mode === 'set') {
          dst.data[k] = v[i]!;
          mark[k] = 1;
        } else dst.data[k]! += v[i]!;
      });
    }
  }
  for (const [n, w] of out) {
    const mark = set.get(n);
    if (!mark || mark.some((m) => m === 0)) throw new InteropError(`${where}: weight '${n}' is not fully set by the state_dict (a mapping error)`);
    void w;
  }
  return [...out.values()];
}
