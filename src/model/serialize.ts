/**
 * A model as saved-model artifacts (src/io/artifacts.ts): the topology JSON (a Sequential's
 * layers in a row; a functional model's layers with the calls that connect them, Keras-style
 * [layer, node, tensor] references), the compile configuration, the weights in getWeights' order
 * and — with `includeOptimizer` — the training state: the optimizer's moment slots (as tensors of
 * group 'optimizer' named `optimizer/<weight>/<moment>`), its step counters, and the counters of
 * the layers' random streams (dropout, noise), so that a resumed fit continues exactly.
 */
import { FORMAT, FORMAT_VERSION, manifestEntries, shapeSize, type LayerJSON, type ModelArtifacts, type ModelJSON, type TensorRef, type TopologyJSON, type WeightEntry } from '../io/artifacts';
import { resolveHandler, targetFormat, type IOHandler, type SaveResult } from '../io/handlers';
import { checkFormat, decodeWeightsFor, encodeArtifacts, type FormatName } from '../io/formats';
import { checkOptions, is } from '../options';
import type { TensorLike } from '../host';
import { InputLayer, serializeLayer, type Layer } from '../layers/layer';
import type { Node, SymbolicTensor } from '../layers/symbolic';
import { hasRandomStream } from '../layers/random-stream';
import type { OptimizerState } from '../optim/optimizers';
import type { Topology } from './topology';

/** The library's name and version, written as `generatedBy`. */
export const GENERATED_BY = 'webgpu-rnn 0.1.0';

/** What serializing needs from a model (Model implements it; kept narrow so this file stays testable). */
export interface Serializable {
  readonly name: string;
  readonly seed: number;
  readonly weightNames: string[];
  readonly weightShapes: number[][];
  getWeights(): Promise<{ data: Float32Array; shape: readonly number[] }[]>;
  setWeights(weights: TensorLike[]): Promise<void>;
  build(): Promise<void>;
  /** @internal */
  readonly savedForm: { kind: 'Sequential'; layers: readonly Layer[]; inputShape: (number | null)[] | null } | { kind: 'Model'; graph: Topology };
  /** @internal */
  readonly trainingConfigJSON: ModelJSON['trainingConfig'];
  /** @internal */
  readonly optimizerStateForSave: OptimizerState | null;
}

/** A layer and the layers inside it (Bidirectional's two directions, TimeDistributed's layer), with paths. */
export function layersWithin(layers: readonly Layer[]): { key: string; layer: Layer }[] {
  const out: { key: string; layer: Layer }[] = [];
  const walk = (l: Layer, key: string) => {
    out.push({ key, layer: l });
    const inner = l as Partial<{ forwardLayer: Layer; backwardLayer: Layer; layer: Layer }>;
    if (inner.forwardLayer && inner.backwardLayer) {
      walk(inner.forwardLayer, `${key}/${inner.forwardLayer.name}`);
      walk(inner.backwardLayer, `${key}/${inner.backwardLayer.name}`);
    } else if (inner.layer && l.className === 'TimeDistributed') {
      walk(inner.layer, `${key}/${inner.layer.name}`);
    }
  };
  for (const l of layers) walk(l, l.name);
  return out;
}

function layerJSON(l: Layer): LayerJSON {
  if (l instanceof InputLayer) return { className: 'InputLayer', name: l.name, trainable: true, config: { name: l.name, shape: [...l.inputShape!] } };
  const { className, config } = serializeLayer(l);
  return { className, name: l.name, trainable: l.trainable, config };
}

/** The topology JSON of a model. */
export function topologyJSON(model: Serializable): TopologyJSON {
  const form = model.savedForm;
  if (form.kind === 'Sequential') {
    return { className: 'Sequential', config: { name: model.name, seed: model.seed, layers: form.layers.map(layerJSON), inputShape: form.inputShape } };
  }
  const g = form.graph;
  const inGraph = new Set<Node>(g.nodes);
  // A layer's node index counts only its calls in this model (a layer may be used in others too).
  const nodesOf = (l: Layer) => l.nodes.filter((n) => inGraph.has(n));
  const ref = (t: SymbolicTensor): TensorRef => [t.node.layer.name, nodesOf(t.node.layer).indexOf(t.node), t.index];
  const inputLayers = g.inputs.map((t) => t.node.layer);
  const layers = [...inputLayers.map(layerJSON), ...g.layers.map((l) => ({
    ...layerJSON(l),
    inboundNodes: nodesOf(l).map((n) => ({ inputs: n.inputs.map(ref), ...(n.states.length ? { initialState: n.states.map(ref) } : {}) })),
  }))];
  return { className: 'Model', config: { name: model.name, seed: model.seed, layers, inputLayers: g.inputs.map(ref), outputLayers: g.outputs.map(ref) } };
}

/** Options of `model.save`. */
export interface SaveOptions {
  /**
   * Also save the training state (optimizer moments and step counters, dropout/noise streams) so
   * that `fit` continues exactly after loading. Default true for the own format once the model
   * has trained; other formats keep weights only.
   */
  includeOptimizer?: boolean;
  /** Free-form JSON kept with the model (`userDefinedMetadata`). */
  metadata?: Record<string, unknown>;
  /** 'webgpu-rnn' (default: everything), 'tfjs', 'keras' or 'keras-weights'; a `.keras` / `.weights.h5` file target implies its format. */
  format?: FormatName;
}

/** The model as artifacts (reads its weights and, with includeOptimizer, its training state back). */
export async function modelToArtifacts(model: Serializable, opts: SaveOptions = {}): Promise<ModelArtifacts> {
  const topology = topologyJSON(model);
  const weights = await model.getWeights();
  const names = model.weightNames;
  const entries: WeightEntry[] = weights.map((w, i) => ({ name: names[i]!, shape: [...w.shape], dtype: 'float32', group: 'model' }));
  const parts: Float32Array[] = weights.map((w) => w.data);
  let trainingState: ModelJSON['trainingState'] = null;
  const st = model.optimizerStateForSave;
  if ((opts.includeOptimizer ?? true) && st) {
    const snap = await st.exportState();
    for (const k of st.moments) {
      let off = 0;
      for (const v of st.vars) {
        entries.push({ name: `optimizer/${v.name}/${k}`, shape: [...v.shape], dtype: 'float32', group: 'optimizer' });
        parts.push(snap.moments[k]!.subarray(off, off + v.size));
        off += v.size;
      }
    }
    const rng: Record<string, number[]> = {};
    const layers = model.savedForm.kind === 'Sequential' ? model.savedForm.layers : model.savedForm.graph.layers;
    for (const { key, layer } of layersWithin(layers)) {
      if (!hasRandomStream(layer)) continue;
      const words = await layer.randomStream.read();
      if (words) rng[key] = words;
    }
    trainingState = { iterations: snap.iterations, slotStep: snap.slotStep, rng };
  }
  const weightData = new ArrayBuffer(parts.reduce((n, p) => n + p.byteLength, 0));
  const view = new Float32Array(weightData);
  let off = 0;
  for (const p of parts) {
    view.set(p, off);
    off += p.length;
  }
  const json: ModelJSON = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    generatedBy: GENERATED_BY,
    modelTopology: topology,
    trainingConfig: model.trainingConfigJSON ?? null,
    trainingState,
    weightsManifest: [{ paths: ['weights.bin'], weights: entries }],
    ...(opts.metadata ? { userDefinedMetadata: opts.metadata } : {}),
  };
  return { json, weightData };
}

/** model.save: checks, builds, encodes in the format and hands the files to the target. */
export async function saveModel(model: Serializable, target: string | IOHandler, options: SaveOptions): Promise<SaveResult> {
  const where = `${model.name}.save`;
  checkOptions(where, options, { format: is.string, includeOptimizer: is.boolean, metadata: is.object }, "{format: 'keras'}");
  const handler = resolveHandler(target, where);
  if (!handler.save) throw new TypeError(`${where}: ${handler.url} can only be loaded from, not saved to`);
  const format = options.format !== undefined ? checkFormat(options.format, where) : (targetFormat(handler) ?? 'webgpu-rnn');
  await model.build();
  const art = await modelToArtifacts(model, { ...options, includeOptimizer: format === 'webgpu-rnn' && (options.includeOptimizer ?? true) });
  const files = await encodeArtifacts(art, format, handler.baseName);
  return handler.save(files, format);
}

/** The tensors of artifacts by name (views into weightData). */
export function tensorsByName(art: ModelArtifacts, where: string): Map<string, Float32Array> {
  const data = new Float32Array(art.weightData);
  const tensors = new Map<string, Float32Array>();
  let off = 0;
  for (const e of manifestEntries(art.json)) {
    const n = shapeSize(e.shape, `${where}: weight '${e.name}'`);
    if (off + n > data.length) throw new RangeError(`${where}: the weights end before '${e.name}'`);
    tensors.set(e.name, data.subarray(off, off + n));
    off += n;
  }
  return tensors;
}

/** The model group's tensors in the model's weight order, checked by name and shape. */
export function weightsFor(model: Serializable, entries: readonly { name: string; shape: number[] }[], tensors: Map<string, Float32Array>, where: string): { data: Float32Array; shape: number[] }[] {
  const names = model.weightNames;
  const have = new Map(entries.map((e) => [e.name, e]));
  const missing = names.filter((n) => !have.has(n));
  if (missing.length) throw new RangeError(`${where}: the file has no weight(s) ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''} that the model needs (it has ${entries.length}: ${entries.slice(0, 6).map((e) => e.name).join(', ')}${entries.length > 6 ? ', …' : ''})`);
  const extra = entries.filter((e) => !names.includes(e.name));
  if (extra.length) throw new RangeError(`${where}: the file has weight(s) ${extra.slice(0, 6).map((e) => e.name).join(', ')} that no layer of the model declares`);
  const shapes = model.weightShapes;
  return names.map((n, i) => {
    const e = have.get(n)!;
    const want = shapes[i]!;
    if (e.shape.length !== want.length || e.shape.some((d, j) => d !== want[j])) {
      throw new RangeError(`${where}: weight '${n}' has shape [${e.shape.join(', ')}] in the file, but the model's is [${want.join(', ')}]`);
    }
    return { data: tensors.get(n)!, shape: [...want] };
  });
}

/** model.loadWeights: the source's weights, checked against the model, then set. */
export async function loadWeightsInto(model: Serializable, source: string | IOHandler): Promise<void> {
  const where = `${model.name}.loadWeights`;
  const handler = resolveHandler(source, where);
  if (!handler.load) throw new TypeError(`${where}: ${handler.url} cannot be loaded from`);
  await model.build();
  const files = await handler.load();
  const at = `${where}(${handler.url})`;
  const art = await decodeWeightsFor(files, (await modelToArtifacts(model, { includeOptimizer: false })).json, at);
  const entries = manifestEntries(art.json).filter((e) => (e.group ?? 'model') === 'model');
  await model.setWeights(weightsFor(model, entries, tensorsByName(art, at), at));
}
