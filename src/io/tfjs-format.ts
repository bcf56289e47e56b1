/**
 * The TensorFlow.js layers format (what `tf.LayersModel.save` writes and `tf.loadLayersModel`
 * reads; checked against @tensorflow/tfjs 4.22 in test/io/tfjs-format.test.ts): `model.json`
 * with
 *   modelTopology  Keras JSON, snake_case: {class_name: 'Sequential' | 'Model', config: {name,
 *                  layers, input_layers?, output_layers?}, keras_version, backend}; a Sequential
 *                  keeps its input shape on the first layer (`batch_input_shape`), a functional
 *                  layer lists its calls as `inbound_nodes: [[[layer, node, tensor, {}], …]]`
 *                  (a recurrent layer's initial states follow its input in the same call)
 *   format         'layers-model', generatedBy, convertedBy
 *   weightsManifest [{paths: ['group1-shard1of1.bin'], weights: [{name, shape, dtype}]}]: tfjs
 *                  matches weights by name, 'layer/weight' ('bidirectional/forward_lstm/kernel',
 *                  a TimeDistributed's weights under its own name) — the same names as here
 *   trainingConfig  {loss, metrics, optimizer_config: {class_name, config}} (tfjs writes it with
 *                  includeOptimizer; written here when the loss and optimizer exist in tfjs)
 * and the float32 little-endian weights in the listed files. Layer configs: keras-config.ts.
 */
import type { LayerJSON, ModelArtifacts, NamedFile, NodeJSON, TensorRef, TopologyJSON, TrainingConfigJSON } from './artifacts';
import { shapeSize } from './artifacts';
import { layerFromKeras, layerToKeras } from './keras-config';
import { modelWeights, parseJsonFile, assembleArtifacts, type ReadWeight } from './weights-data';

/** The weights file name tfjs' converter uses for one shard. */
export const TFJS_WEIGHTS_FILE = 'group1-shard1of1.bin';
/** The tfjs-layers version whose files these are (modelTopology.keras_version). */
const TFJS_LAYERS_VERSION = 'tfjs-layers 4.22.0';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'GRU', 'Bidirectional', 'RNN']);

// -------------------------------------------------------------------------------------- encode

/** Writes artifacts as tfjs' `model.json` and one weights file (model weights only; optimizer state stays in the own format). */
export function encodeTfjs(art: ModelArtifacts, options: { generatedBy?: string } = {}): NamedFile[] {
  const where = 'tfjs format';
  const topo = art.json.modelTopology;
  const layers = topo.config.layers;
  const kerasLayers: Json[] = [];
  if (topo.className === 'Sequential') {
    const shape = topo.config.inputShape ?? (layers[0]?.config.inputShape as (number | null)[] | undefined) ?? null;
    let first = true;
    for (const [i, l] of layers.entries()) {
      if (l.className === 'InputLayer') continue;
      const { inputShape: _drop, ...config } = l.config;
      const k = layerToKeras({ className: l.className, config }, 'tfjs', `${where}: layer ${i}`, l.trainable);
      if (first && shape) Object.assign(k.config as Json, { batch_input_shape: [null, ...shape], dtype: 'float32' });
      first = false;
      kerasLayers.push(k);
    }
  } else {
    for (const [i, l] of layers.entries()) {
      if (l.className === 'InputLayer') {
        const shape = (l.config.shape ?? l.config.inputShape) as (number | null)[];
        kerasLayers.push({ name: l.name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], dtype: 'float32', sparse: false, name: l.name }, inbound_nodes: [] });
        continue;
      }
      const { inputShape: _drop, ...config } = l.config;
      const k = layerToKeras({ className: l.className, config }, 'tfjs', `${where}: layer ${i}`, l.trainable);
      const nodes = (l.inboundNodes ?? []).map((n) => [...n.inputs, ...(n.initialState ?? [])].map((r) => [r[0], r[1], r[2], {}]));
      kerasLayers.push({ name: l.name, class_name: k.class_name, config: k.config, inbound_nodes: nodes });
    }
  }
  const config: Json = { name: topo.config.name, layers: kerasLayers };
  if (topo.className === 'Model') {
    config.input_layers = topo.config.inputLayers ?? [];
    config.output_layers = topo.config.outputLayers ?? [];
  }
  const weights = modelWeights(art, where);
  const bin = new Uint8Array(weights.reduce((n, w) => n + w.data.byteLength, 0));
  let off = 0;
  for (const w of weights) {
    bin.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), off);
    off += w.data.byteLength;
  }
  const modelJson: Json = {
    modelTopology: { class_name: topo.className, config, keras_version: TFJS_LAYERS_VERSION, backend: 'tensor_flow.js' },
    format: 'layers-model',
    generatedBy: options.generatedBy ?? art.json.generatedBy,
    convertedBy: null,
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: weights.map((w) => ({ name: w.entry.name, shape: w.entry.shape, dtype: 'float32' })) }],
  };
  const tc = art.json.trainingConfig ? trainingConfigToTfjs(art.json.trainingConfig) : null;
  if (tc) modelJson.trainingConfig = tc;
  if (art.json.userDefinedMetadata) modelJson.userDefinedMetadata = art.json.userDefinedMetadata;
  return [
    { name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(modelJson)) },
    { name: TFJS_WEIGHTS_FILE, bytes: bin },
  ];
}

const LOSS_TO_TFJS: Record<string, string> = { mse: 'meanSquaredError', mae: 'meanAbsoluteError' };
const LOSS_FROM_TFJS: Record<string, string> = {
  meanSquaredError: 'mse', mean_squared_error: 'mse', mse: 'mse', MSE: 'mse',
  meanAbsoluteError: 'mae', mean_absolute_error: 'mae', mae: 'mae', MAE: 'mae',
};
const LOSS_NAMES: Record<string, string> = { meanSquaredError: 'mse', mean_squared_error: 'mse', meanAbsoluteError: 'mae', mean_absolute_error: 'mae', mse: 'mse', mae: 'mae' };

function lossName(loss: unknown): string | null {
  if (typeof loss === 'string') return Object.hasOwn(LOSS_NAMES, loss) ? LOSS_NAMES[loss]! : null;
  if (isObj(loss) && typeof loss.kind === 'string' && !loss.warmupSteps) return loss.kind;
  return null;
}

/** tfjs' trainingConfig for ours, or null when tfjs has no such loss or optimizer (tfjs then loads the model uncompiled). */
function trainingConfigToTfjs(tc: TrainingConfigJSON): Json | null {
  const loss = lossName(tc.loss);
  const tfLoss = loss ? LOSS_TO_TFJS[loss] : undefined;
  if (!tfLoss) return null;
  const className = String(tc.optimizer.className).toLowerCase();
  const c = tc.optimizer.config;
  const set = (v: unknown) => v !== undefined && v !== null;
  if (typeof c.learningRate !== 'number' || set(c.clipnorm) || set(c.clipvalue) || set(c.globalClipnorm) || set(c.weightDecay)) return null;
  let optimizer: Json | null = null;
  if (className === 'adam') optimizer = { class_name: 'Adam', config: { learning_rate: c.learningRate, beta1: c.beta1 ?? 0.9, beta2: c.beta2 ?? 0.999, epsilon: c.epsilon ?? 1e-7 } };
  else if (className === 'sgd' && !c.momentum) optimizer = { class_name: 'SGD', config: { learning_rate: c.learningRate } };
  else if (className === 'rmsprop') optimizer = { class_name: 'RMSProp', config: { learning_rate: c.learningRate, decay: c.rho ?? 0.9, momentum: c.momentum ?? 0, epsilon: c.epsilon ?? 1e-7, centered: c.centered ?? false } };
  if (!optimizer) return null;
  return { loss: tfLoss, metrics: [], optimizer_config: optimizer };
}

function trainingConfigFromTfjs(tc: unknown): TrainingConfigJSON | null {
  if (!isObj(tc) || !isObj(tc.optimizer_config)) return null;
  const loss = typeof tc.loss === 'string' && Object.hasOwn(LOSS_FROM_TFJS, tc.loss) ? LOSS_FROM_TFJS[tc.loss]! : null;
  const o = tc.optimizer_config;
  const c = isObj(o.config) ? o.config : {};
  if (!loss || typeof c.learning_rate !== 'number') return null;
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
  if (o.class_name === 'Adam') return { optimizer: { className: 'adam', config: { learningRate: c.learning_rate, beta1: num(c.beta1, 0.9), beta2: num(c.beta2, 0.999), epsilon: num(c.epsilon, 1e-7) } }, loss };
  if (o.class_name === 'SGD') return { optimizer: { className: 'sgd', config: { learningRate: c.learning_rate } }, loss };
  if (o.class_name === 'RMSProp') return { optimizer: { className: 'rmsprop', config: { learningRate: c.learning_rate, rho: num(c.decay, 0.9), momentum: num(c.momentum, 0), epsilon: num(c.epsilon, 1e-7), centered: c.centered === true } }, loss };
  return null;
}

// -------------------------------------------------------------------------------------- decode

/** The model.json of a set of files: 'model.json' if present, else the only .json file. */
function findModelJson(files: readonly NamedFile[], where: string): NamedFile {
  const jsons = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  const m = jsons.find((f) => f.name === 'model.json') ?? (jsons.length === 1 ? jsons[0] : undefined);
  if (!m) throw new RangeError(`${where}: ${jsons.length ? `several JSON files (${jsons.map((f) => f.name).join(', ')}) and none is model.json` : `no model.json among the files (${files.map((f) => f.name).join(', ') || 'none'})`}`);
  return m;
}

const basename = (p: string) => p.replace(/^.*[\\/]/, '');

/** Reads a model saved by TensorFlow.js (`model.json` and its weight files) as artifacts of this library. */
export function decodeTfjs(files: readonly NamedFile[], where = 'tfjs model'): ModelArtifacts {
  const mf = findModelJson(files, where);
  const doc = parseJsonFile(mf, 'a TensorFlow.js model.json');
  const at = `${where}: ${mf.name}`;
  if (!isObj(doc)) throw new TypeError(`${at}: expected a JSON object, got ${Array.isArray(doc) ? 'an array' : typeof doc}`);
  if (doc.format === 'graph-model') throw new RangeError(`${at}: a TensorFlow.js graph model (a converted SavedModel) has no layers to rebuild; only layers models ('layers-model') can be loaded`);
  if (doc.format !== undefined && doc.format !== 'layers-model') throw new RangeError(`${at}: format '${String(doc.format)}' is not a TensorFlow.js layers model`);
  let mt = doc.modelTopology;
  if (isObj(mt) && isObj(mt.model_config)) mt = mt.model_config; // Keras 2 .h5 converted by tfjs-converter
  if (!isObj(mt) || typeof mt.class_name !== 'string' || !isObj(mt.config)) throw new TypeError(`${at}: no modelTopology {class_name, config}: not a TensorFlow.js layers model`);
  const topology = topologyFromTfjs(mt, at);
  const found = readTfjsWeights(doc.weightsManifest, files, at);
  const tc = trainingConfigFromTfjs(doc.trainingConfig ?? (isObj(doc.modelTopology) ? doc.modelTopology.training_config : undefined));
  return assembleArtifacts(topology, found, at, {
    generatedBy: typeof doc.generatedBy === 'string' ? doc.generatedBy : 'TensorFlow.js',
    trainingConfig: tc,
    ...(isObj(doc.userDefinedMetadata) ? { userDefinedMetadata: doc.userDefinedMetadata } : {}),
  });
}

function topologyFromTfjs(mt: Json, at: string): TopologyJSON {
  const cls = mt.class_name;
  const c = mt.config as Json;
  // tfjs 0.x / Keras 1 Sequential: config is the layer list itself
  const rawLayers = Array.isArray(c) ? c : c.layers;
  if (!Array.isArray(rawLayers)) throw new TypeError(`${at}: modelTopology.config.layers must be a list`);
  const name = typeof c.name === 'string' ? c.name : 'model';
  if (cls === 'Sequential') {
    const layers: LayerJSON[] = [];
    let inputShape: (number | null)[] | null = null;
    for (const [i, raw] of rawLayers.entries()) {
      const l = layerFromKeras(raw, 'tfjs', `${at}: layer ${i}`);
      if (l.className === 'InputLayer') {
        inputShape = l.config.shape as (number | null)[];
        continue;
      }
      if (!inputShape && l.batchShape) inputShape = l.batchShape.slice(1);
      const config = { ...l.config };
      if (!layers.length && inputShape) config.inputShape = inputShape;
      else delete config.inputShape;
      layers.push({ className: l.className, name: String(config.name ?? `layer_${i}`), trainable: l.trainable, config });
    }
    return { className: 'Sequential', config: { name, seed: 0, layers, inputShape } };
  }
  if (cls !== 'Model' && cls !== 'Functional') throw new RangeError(`${at}: model class '${String(cls)}' is not supported (Sequential or Model)`);
  const layers: LayerJSON[] = rawLayers.map((raw: unknown, i: number) => {
    const l = layerFromKeras(raw, 'tfjs', `${at}: layer ${i}`);
    const layerName = isObj(raw) && typeof raw.name === 'string' ? raw.name : String(l.config.name);
    const config: Record<string, unknown> = { ...l.config, name: layerName };
    delete config.inputShape;
    const nodes = isObj(raw) && Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : [];
    const inboundNodes: NodeJSON[] = nodes.map((n: unknown, k: number) => nodeFromTfjs(n, RECURRENT.has(l.className), `${at}: layer '${layerName}' inbound_nodes[${k}]`));
    return { className: l.className, name: layerName, trainable: l.trainable, config, inboundNodes };
  });
  return { className: 'Model', config: { name, seed: 0, layers, inputLayers: refs(c.input_layers, `${at}: input_layers`), outputLayers: refs(c.output_layers, `${at}: output_layers`) } };
}

function ref(v: unknown, at: string): TensorRef {
  if (!Array.isArray(v) || v.length < 3 || typeof v[0] !== 'string' || !Number.isInteger(v[1]) || !Number.isInteger(v[2])) {
    throw new TypeError(`${at}: expected [layer, node, tensor], got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return [v[0], v[1] as number, v[2] as number];
}

function refs(v: unknown, at: string): TensorRef[] {
  if (!Array.isArray(v)) throw new TypeError(`${at}: expected a list of [layer, node, tensor]`);
  if (v.length >= 3 && typeof v[0] === 'string') return [ref(v, at)]; // a single tensor, unnested
  return v.map((r, i) => ref(r, `${at}[${i}]`));
}

function nodeFromTfjs(n: unknown, recurrent: boolean, at: string): NodeJSON {
  if (!Array.isArray(n) || !n.length) throw new TypeError(`${at}: expected a list of [layer, node, tensor, kwargs]`);
  const all = n.map((r, i) => ref(r, `${at}[${i}]`));
  if (recurrent && all.length > 1) return { inputs: [all[0]!], initialState: all.slice(1) };
  return { inputs: all };
}

/** The weights a tfjs manifest lists, read from the files it names; sizes checked before anything is copied. */
function readTfjsWeights(manifest: unknown, files: readonly NamedFile[], at: string): Map<string, ReadWeight> {
  const found = new Map<string, ReadWeight>();
  if (manifest === undefined) return found;
  if (!Array.isArray(manifest)) throw new TypeError(`${at}: weightsManifest must be a list of {paths, weights}`);
  for (const [g, group] of manifest.entries()) {
    const gat = `${at}: weightsManifest[${g}]`;
    if (!isObj(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new TypeError(`${gat}: expected {paths: [...], weights: [...]}`);
    const parts = group.paths.map((p) => {
      const f = typeof p === 'string' ? files.find((x) => x.name === basename(p)) : undefined;
      if (!f) throw new RangeError(`${gat}: the weights file '${String(p)}' is missing (files given: ${files.map((x) => x.name).join(', ')})`);
      return f;
    });
    const total = parts.reduce((n, f) => n + f.bytes.byteLength, 0);
    let need = 0;
    const specs = group.weights.map((w, i) => {
      const wat = `${gat}.weights[${i}]`;
      if (!isObj(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) throw new TypeError(`${wat}: expected {name, shape, dtype}`);
      if (w.quantization !== undefined) throw new RangeError(`${wat} ('${w.name}'): quantized weights are not supported; save the model without quantization`);
      if ((w.dtype ?? 'float32') !== 'float32') throw new RangeError(`${wat} ('${w.name}'): dtype ${String(w.dtype)} is not supported (float32 only)`);
      const n = shapeSize(w.shape as number[], `${wat} ('${w.name}')`);
      need += n * 4;
      return { name: w.name, shape: w.shape as number[], n, group: w.group };
    });
    if (need !== total) {
      throw new RangeError(`${gat}: ${parts.map((f) => f.name).join(' + ')} ${parts.length > 1 ? 'have' : 'has'} ${total} bytes but the manifest's weights need ${need}${total < need ? ' (truncated?)' : ''}`);
    }
    const bytes = parts.length === 1 ? parts[0]!.bytes : concat(parts.map((f) => f.bytes), total);
    let off = 0;
    for (const s of specs) {
      const data = new Float32Array(s.n);
      new Uint8Array(data.buffer).set(bytes.subarray(off, off + s.n * 4));
      off += s.n * 4;
      if (s.group === 'optimizer') continue; // tfjs' optimizer weights (includeOptimizer): not read
      if (found.has(s.name)) throw new RangeError(`${gat}: weight '${s.name}' is listed twice`);
      found.set(s.name, { shape: s.shape, data, source: `${parts[0]!.name}` });
    }
  }
  return found;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
