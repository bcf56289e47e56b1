/**
 * ModelArtifacts (src/io/artifacts.ts) of a model, made from its public API (layers, getConfig,
 * the functional graph's nodes, weightNames, getWeights) — the saved form the PyTorch and ONNX
 * exporters read. A stand-in for src/model/serialize.ts's modelToArtifacts in these tests.
 */
import * as rnn from '../../../src/index';
import type { LayerJSON, ModelArtifacts, TensorRef } from '../../../src/io/artifacts';
import type { SymbolicTensor } from '../../../src/layers/symbolic';

const ref = (t: SymbolicTensor): TensorRef => [t.node.layer.name, t.node.layer.nodes.indexOf(t.node), t.index];

function layerJson(l: rnn.Layer, functional: boolean): LayerJSON {
  const json: LayerJSON = { className: l.className, name: l.name, trainable: l.trainable, config: { name: l.name, ...l.getConfig() } };
  if (l.inputShape) json.config.inputShape = [...l.inputShape];
  if (functional) json.inboundNodes = l.nodes.map((n) => ({ inputs: n.inputs.map(ref), ...(n.states.length ? { initialState: n.states.map(ref) } : {}) }));
  return json;
}

/** The artifacts of a built model (call predict or getWeights first for a Sequential without inputShape). */
export async function artifactsOf(model: rnn.Model): Promise<ModelArtifacts> {
  const weights = await model.getWeights();
  const names = model.weightNames;
  const sequential = model instanceof rnn.Sequential;
  const layers: LayerJSON[] = [];
  if (!sequential) for (const t of model.inputs) layers.push({ className: 'InputLayer', name: t.node.layer.name, trainable: true, config: { name: t.node.layer.name, shape: [...t.shape] } });
  for (const l of model.layers) layers.push(layerJson(l, !sequential));
  const total = weights.reduce((a, w) => a + w.data.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const w of weights) data.set(w.data, at), (at += w.data.length);
  return {
    json: {
      format: 'webgpu-rnn',
      formatVersion: 1,
      generatedBy: 'webgpu-rnn test',
      modelTopology: {
        className: sequential ? 'Sequential' : 'Model',
        config: {
          name: model.name,
          seed: model.seed,
          layers,
          ...(sequential ? { inputShape: [...(model as rnn.Sequential).inputShape!] } : { inputLayers: model.inputs.map(ref), outputLayers: model.outputs.map(ref) }),
        },
      },
      weightsManifest: [{ paths: ['weights.bin'], weights: weights.map((w, i) => ({ name: names[i]!, shape: [...w.shape], dtype: 'float32' as const })) }],
    },
    weightData: data.buffer,
  };
}
