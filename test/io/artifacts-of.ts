/**
 * The artifacts of a live model, for the format tests: the lead's modelToArtifacts once it is
 * there (src/model/serialize.ts), until then the same contract built here from the layers'
 * configs (serializeLayer), the functional graph's nodes and getWeights.
 */
import type * as rnn from '../../src/index';
import { serializeLayer, type Layer } from '../../src/layers/layer';
import type { SymbolicTensor } from '../../src/layers/symbolic';
import { FORMAT, FORMAT_VERSION, type LayerJSON, type ModelArtifacts, type TensorRef, type WeightEntry } from '../../src/io/artifacts';

type AnyModel = rnn.Sequential | rnn.Model;

const refOf = (t: SymbolicTensor): TensorRef => [t.node.layer.name, t.node.layer.nodes.indexOf(t.node), t.index];

export async function artifactsOf(model: AnyModel, withWeights = true): Promise<ModelArtifacts> {
  const topo = (model as unknown as { topology: { inputs: SymbolicTensor[]; outputs: SymbolicTensor[]; layers: Layer[] } | null }).topology;
  const isSeq = model.constructor.name === 'Sequential';
  const layers: Layer[] = isSeq ? [...(model as rnn.Sequential).layers] : [...topo!.inputs.map((t) => t.node.layer), ...topo!.layers];
  const json: LayerJSON[] = layers.map((l) => {
    const { className, config } = serializeLayer(l);
    if (className === 'InputLayer') delete config.inputShape;
    const j: LayerJSON = { className, name: l.name, trainable: l.trainable, config };
    if (!isSeq) j.inboundNodes = l.className === 'InputLayer' ? [] : l.nodes.map((n) => ({ inputs: n.inputs.map(refOf), ...(n.states.length ? { initialState: n.states.map(refOf) } : {}) }));
    return j;
  });
  const entries: WeightEntry[] = [];
  let weightData = new ArrayBuffer(0);
  if (withWeights) {
    const ws = await model.getWeights();
    const names = model.weightNames;
    const total = ws.reduce((n, w) => n + w.data.length, 0);
    const all = new Float32Array(total);
    let off = 0;
    ws.forEach((w, i) => {
      all.set(w.data, off);
      off += w.data.length;
      entries.push({ name: names[i]!, shape: [...w.shape], dtype: 'float32', group: 'model' });
    });
    weightData = all.buffer;
  }
  return {
    json: {
      format: FORMAT,
      formatVersion: FORMAT_VERSION,
      generatedBy: 'webgpu-rnn test',
      modelTopology: {
        className: isSeq ? 'Sequential' : 'Model',
        config: {
          name: model.name,
          seed: model.seed,
          layers: json,
          ...(isSeq ? { inputShape: layers[0]?.inputShape ? [...layers[0].inputShape] : null } : { inputLayers: topo!.inputs.map(refOf), outputLayers: topo!.outputs.map(refOf) }),
        },
      },
      weightsManifest: [{ paths: ['weights.bin'], weights: entries }],
    },
    weightData,
  };
}
