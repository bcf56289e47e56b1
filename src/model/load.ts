/**
 * Saved-model artifacts back into a model: the layers rebuilt from their configs (the class
 * registry), a Sequential's layers in a row or a functional graph's calls replayed in dependency
 * order (each layer's calls in their saved order, so node indices match), the weights checked
 * against what the rebuilt model declares (names, shapes, count) and set, the compile
 * configuration applied, and the training state restored (optimizer moments and counters, random
 * streams). Nothing of a half-loaded model survives an error: it is disposed and the error names
 * the file's part that is wrong.
 */
import { manifestEntries, type LayerJSON, type ModelArtifacts, type TensorRef, type TopologyJSON } from '../io/artifacts';
import { deserializeLayer } from '../layers/registry';
import { InputLayer, type Layer } from '../layers/layer';
import type { SymbolicTensor } from '../layers/symbolic';
import { hasRandomStream } from '../layers/random-stream';
import { optimizerFromConfig } from '../optim/registry';
import type { MomentName, OptimizerSnapshot } from '../optim/optimizers';
import { Model } from './model';
import { Sequential } from './sequential';
import { layersWithin, tensorsByName, weightsFor } from './serialize';
import type { CompileArgs } from './types';
import { resolveHandler, type IOHandler } from '../io/handlers';
import { decodeArtifacts } from '../io/formats';
import { checkOptions } from '../options';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkRef(v: unknown, where: string): TensorRef {
  if (!Array.isArray(v) || v.length < 3 || typeof v[0] !== 'string' || !Number.isInteger(v[1]) || !Number.isInteger(v[2]) || (v[1] as number) < 0 || (v[2] as number) < 0) {
    throw new TypeError(`${where}: a tensor reference must be [layer name, node index, tensor index], got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return [v[0], v[1] as number, v[2] as number];
}

function buildLayer(l: unknown, i: number, where: string): { json: LayerJSON; layer: Layer } {
  const at = `${where}: layers[${i}]`;
  if (!isObject(l) || typeof l.className !== 'string' || !isObject(l.config)) throw new TypeError(`${at}: expected {className, name, config}`);
  const json = l as unknown as LayerJSON;
  const name = typeof json.name === 'string' ? json.name : json.config.name;
  const layer = deserializeLayer({ className: json.className, config: name !== undefined ? { ...json.config, name } : json.config }, `${at} (${String(name)})`);
  if (json.trainable !== undefined) {
    if (typeof json.trainable !== 'boolean') throw new TypeError(`${at}: trainable must be true or false`);
    layer.trainable = json.trainable;
  }
  return { json, layer };
}

/** Replays a functional graph's calls; returns the model's inputs and outputs. */
function replayGraph(topo: TopologyJSON, where: string): { inputs: SymbolicTensor[]; outputs: SymbolicTensor[] } {
  const cfg = topo.config;
  if (!Array.isArray(cfg.layers)) throw new TypeError(`${where}: modelTopology.config.layers must be a list`);
  const built = cfg.layers.map((l, i) => buildLayer(l, i, where));
  const byName = new Map<string, { json: LayerJSON; layer: Layer }>();
  for (const b of built) {
    if (byName.has(b.layer.name)) throw new RangeError(`${where}: two layers are named '${b.layer.name}'`);
    byName.set(b.layer.name, b);
  }
  const tensors = new Map<string, SymbolicTensor>();
  const key = (r: TensorRef) => `${r[0]}\u0000${r[1]}\u0000${r[2]}`;
  for (const b of built) if (b.layer instanceof InputLayer) tensors.set(key([b.layer.name, 0, 0]), b.layer.output);
  // Each layer's calls in order; a call runs once every tensor it reads exists.
  const next = new Map(built.map((b) => [b, 0]));
  let left = built.reduce((n, b) => n + (b.layer instanceof InputLayer ? 0 : (b.json.inboundNodes ?? []).length), 0);
  while (left > 0) {
    let progress = false;
    for (const b of built) {
      if (b.layer instanceof InputLayer) continue;
      const nodes = b.json.inboundNodes ?? [];
      if (!Array.isArray(nodes)) throw new TypeError(`${where}: layer '${b.layer.name}': inboundNodes must be a list`);
      const k = next.get(b)!;
      if (k >= nodes.length) continue;
      const at = `${where}: layer '${b.layer.name}' call ${k}`;
      const node = nodes[k];
      if (!isObject(node) || !Array.isArray(node.inputs)) throw new TypeError(`${at}: expected {inputs: [[layer, node, tensor], …]}`);
      const ins = node.inputs.map((r, j) => checkRef(r, `${at}.inputs[${j}]`));
      const sts = (node.initialState ?? []).map((r, j) => checkRef(r, `${at}.initialState[${j}]`));
      const ready = [...ins, ...sts].every((r) => tensors.has(key(r)));
      if (!ready) continue;
      const x = ins.map((r) => tensors.get(key(r))!);
      const out = b.layer.apply(x.length === 1 ? x[0]! : x, sts.length ? { initialState: sts.map((r) => tensors.get(key(r))!) } : {});
      (Array.isArray(out) ? out : [out]).forEach((t, j) => tensors.set(key([b.layer.name, k, j]), t));
      next.set(b, k + 1);
      left--;
      progress = true;
    }
    if (!progress) {
      const stuck = built.filter((b) => !(b.layer instanceof InputLayer) && next.get(b)! < (b.json.inboundNodes ?? []).length).map((b) => b.layer.name);
      throw new RangeError(`${where}: the graph cannot be connected: ${stuck.slice(0, 5).join(', ')} read tensors that no layer makes (or a cycle)`);
    }
  }
  const find = (v: unknown, what: string) => {
    const r = checkRef(v, what);
    const t = tensors.get(key(r));
    if (!t) throw new RangeError(`${what}: no tensor ${JSON.stringify(r)} in the graph`);
    return t;
  };
  if (!Array.isArray(cfg.inputLayers) || !Array.isArray(cfg.outputLayers)) throw new TypeError(`${where}: a functional model needs inputLayers and outputLayers`);
  return {
    inputs: cfg.inputLayers.map((r, i) => find(r, `${where}: inputLayers[${i}]`)),
    outputs: cfg.outputLayers.map((r, i) => find(r, `${where}: outputLayers[${i}]`)),
  };
}

/** The model of a topology (no weights yet, nothing on the GPU). */
export function modelFromTopology(topo: unknown, where: string): Model {
  if (!isObject(topo) || !isObject(topo.config)) throw new TypeError(`${where}: modelTopology must be {className, config}`);
  const t = topo as unknown as TopologyJSON;
  const name = typeof t.config.name === 'string' ? t.config.name : undefined;
  const seed = t.config.seed;
  const common = { ...(name !== undefined ? { name } : {}), ...(seed !== undefined ? { seed: seed as number } : {}) };
  if (t.className === 'Sequential') {
    if (!Array.isArray(t.config.layers)) throw new TypeError(`${where}: modelTopology.config.layers must be a list`);
    const layers = t.config.layers.map((l, i) => buildLayer(l, i, where).layer);
    return new Sequential({ ...common, layers });
  }
  if (t.className === 'Model') return new Model({ ...common, ...replayGraph(t, where) });
  throw new TypeError(`${where}: modelTopology.className must be 'Sequential' or 'Model', got ${JSON.stringify(t.className)}`);
}

/**
 * A model from artifacts: built, weights set, compiled and its training state restored as saved.
 * Throws (and frees the half-made model) naming what does not fit.
 */
export async function modelFromArtifacts(art: ModelArtifacts, where: string): Promise<Model> {
  const json = art.json;
  const model = modelFromTopology(json.modelTopology, `${where}: modelTopology`);
  try {
    const inputShape = json.modelTopology.className === 'Sequential' ? json.modelTopology.config.inputShape : undefined;
    if (inputShape !== undefined && inputShape !== null && !Array.isArray(inputShape)) throw new TypeError(`${where}: modelTopology.config.inputShape must be a list or null`);
    await model.build(inputShape ?? undefined);
    const all = manifestEntries(json);
    const tensors = tensorsByName(art, where);
    const modelEntries = all.filter((e) => (e.group ?? 'model') === 'model');
    await model.setWeights(weightsFor(model, modelEntries, tensors, where));
    if (json.trainingConfig) {
      const tc = json.trainingConfig;
      model.compile({ optimizer: optimizerFromConfig(tc.optimizer, `${where}: trainingConfig.optimizer`), loss: tc.loss, ...(tc.lossWeights !== undefined ? { lossWeights: tc.lossWeights } : {}), ...(tc.metrics !== undefined ? { metrics: tc.metrics } : {}) } as CompileArgs);
    }
    if (json.trainingState) await restoreTraining(model, json, tensors, where);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

async function restoreTraining(model: Model, json: ModelArtifacts['json'], tensors: Map<string, Float32Array>, where: string): Promise<void> {
  const ts = json.trainingState!;
  const at = `${where}: trainingState`;
  if (!isObject(ts) || !Number.isInteger(ts.iterations) || ts.iterations < 0 || !Number.isInteger(ts.slotStep) || ts.slotStep < 0 || !isObject(ts.rng)) {
    throw new TypeError(`${at} must be {iterations, slotStep, rng} with non-negative integer counters`);
  }
  if (!json.trainingConfig) throw new TypeError(`${at}: a training state needs the trainingConfig it was made with`);
  await model.restoreOptimizer(async (vars, moments) => {
    const snap: OptimizerSnapshot = { moments: {}, slotStep: ts.slotStep, iterations: ts.iterations };
    const slots = vars.reduce((n, v) => n + v.size, 0);
    for (const k of moments as readonly MomentName[]) {
      const buf = new Float32Array(slots);
      let off = 0;
      for (const v of vars) {
        const t = tensors.get(`optimizer/${v.name}/${k}`);
        if (!t) throw new RangeError(`${at}: the optimizer's '${k}' for ${v.name} is missing (saved for other trainable weights, or by another optimizer)`);
        if (t.length !== v.size) throw new RangeError(`${at}: optimizer/${v.name}/${k} has ${t.length} values, expected ${v.size}`);
        buf.set(t, off);
        off += v.size;
      }
      snap.moments[k] = buf;
    }
    return snap;
  });
  const streams = new Map(layersWithin(model.layers).map((x) => [x.key, x.layer]));
  for (const [k, words] of Object.entries(ts.rng)) {
    const l = streams.get(k);
    if (!l || !hasRandomStream(l)) throw new RangeError(`${at}.rng: no layer '${k}' with a random stream in the model`);
    if (!Array.isArray(words)) throw new TypeError(`${at}.rng['${k}'] must be 4 integers`);
    l.randomStream.restore(words as number[]);
  }
}

/**
 * Loads a saved model (tfjs `tf.loadLayersModel`, Keras `load_model`): its architecture, weights,
 * compile configuration and — when saved in the own format after training — its training state,
 * so that `fit` continues exactly. The format is recognised from the files: the own format,
 * TensorFlow.js layers models, Keras 3 `.keras`. `source`: `file://path` (Node),
 * `indexeddb://name`, `http(s)://…/model.json`, `rnn.io.browserFiles(files)`, `rnn.io.memory()`.
 *
 * @example
 * ```ts
 * const model = await rnn.loadModel('indexeddb://forecaster');
 * const y = await model.predict(x);
 * ```
 */
export async function loadModel(source: string | IOHandler, options: Record<string, never> = {}): Promise<Model> {
  checkOptions('loadModel', options, {});
  const handler = resolveHandler(source, 'loadModel');
  if (!handler.load) throw new TypeError(`loadModel: ${handler.url} can only be saved to, not loaded from`);
  const files = await handler.load();
  const art = await decodeArtifacts(files, handler.url);
  return modelFromArtifacts(art, handler.url);
}
