/**
 * Keras 3 model configs (`config.json` of a `.keras` file) and the variable paths of its weights
 * file, following Keras 3.15's saving code (keras/src/saving/saving_lib.py, serialization_lib.py,
 * keras/src/models/functional.py, keras/src/ops/function.py):
 *
 *   config.json   serialize_keras_object(model): {module, class_name: 'Sequential' | 'Functional',
 *                 config: {name, trainable, dtype, layers, …}, registered_name, build_config,
 *                 compile_config}; each layer {module: 'keras.layers', class_name, config,
 *                 registered_name, build_config: {input_shape}}; a Sequential starts with its
 *                 InputLayer ({batch_shape}); a functional layer adds `name` and `inbound_nodes`:
 *                 [{args: [tensor | [tensors]], kwargs: {initial_state: [tensors]}}], a tensor
 *                 being {class_name: '__keras_tensor__', config: {shape, dtype, keras_history:
 *                 [layer, node, index]}}.
 *   weights       saving_lib._save_state walks the model: `layers` first (model.layers: a
 *                 Sequential's without its InputLayer, a functional model's in map_graph order,
 *                 InputLayers included), each addressed by _save_container_state as
 *                 naming.to_snake_case(class name) plus `_1`, `_2`… for repeats — never by the
 *                 layer's own name — then each layer's attributes that are layers themselves
 *                 (an RNN's `cell`, Bidirectional's `forward_layer` / `backward_layer`,
 *                 TimeDistributed's `layer`). Each saveable writes its own variables with
 *                 save_own_variables as datasets '0', '1', … of a `vars` group, which H5IOStore
 *                 creates with the attribute `name` (the saveable's name): e.g.
 *                 layers/lstm/cell/vars/0 (kernel), layers/bidirectional/forward_layer/cell/vars/1,
 *                 layers/time_distributed/layer/vars/0, and `vars` (the model's, empty).
 */
import type { LayerJSON, NodeJSON, TensorRef, TopologyJSON, TrainingConfigJSON } from './artifacts';
import { layerFromKeras, layerToKeras } from './keras-config';
import { topologyShapes, type TopologyShapes } from './shapes';
import type { Shape } from '../layers/layer';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const MERGES = new Set(['Concatenate', 'Add', 'Subtract', 'Multiply', 'Average']);
const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'GRU']);

/** keras/src/utils/naming.py to_snake_case. */
export function kerasSnake(name: string): string {
  return name.replace(/\W+/g, '').replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

// ------------------------------------------------------------------------------ layer order

/**
 * The order of `model.layers` Keras 3 gives a functional model (ops/function.py map_graph and
 * _build_map): a depth-first walk from the outputs numbers the layers, node depths are counted
 * back from the outputs, and layers come deepest first, ties in walk order.
 */
export function kerasLayerOrder(topo: TopologyJSON): LayerJSON[] {
  const layers = topo.config.layers;
  if (topo.className === 'Sequential') return layers.filter((l) => l.className !== 'InputLayer');
  const byName = new Map(layers.map((l) => [l.name, l]));
  const key = (r: TensorRef) => `${r[0]}#${r[1]}`;
  const parents = (r: TensorRef): TensorRef[] => {
    const l = byName.get(r[0])!;
    if (l.className === 'InputLayer') return [];
    const n = l.inboundNodes?.[r[1]];
    return n ? [...n.inputs, ...(n.initialState ?? [])] : [];
  };
  const finished = new Set<string>();
  const inProgress = new Set<string>();
  const order: TensorRef[] = [];
  const index = new Map<string, number>();
  const visit = (r: TensorRef) => {
    const k = key(r);
    if (finished.has(k)) return;
    if (inProgress.has(k)) throw new RangeError(`layer '${r[0]}' is part of a cycle`);
    if (!index.has(r[0])) index.set(r[0], index.size);
    inProgress.add(k);
    for (const p of parents(r)) visit(p);
    finished.add(k);
    inProgress.delete(k);
    order.push([r[0], r[1], 0]);
  };
  for (const o of topo.config.outputLayers ?? []) visit(o);
  const nodeDepth = new Map<string, number>();
  const layerDepth = new Map<string, number>();
  for (const n of [...order].reverse()) {
    const k = key(n);
    let depth = nodeDepth.get(k) ?? 0;
    depth = Math.max(depth, layerDepth.get(n[0]) ?? 0);
    layerDepth.set(n[0], depth);
    nodeDepth.set(k, depth);
    for (const p of parents(n)) {
      const pk = key(p);
      if (!finished.has(pk)) continue;
      nodeDepth.set(pk, Math.max(depth + 1, nodeDepth.get(pk) ?? 0));
    }
  }
  for (const i of topo.config.inputLayers ?? []) {
    if (!layerDepth.has(i[0])) {
      layerDepth.set(i[0], 0);
      index.set(i[0], -1);
    }
  }
  return [...layerDepth.keys()]
    .sort((a, b) => layerDepth.get(b)! - layerDepth.get(a)! || index.get(a)! - index.get(b)!)
    .map((n) => byName.get(n)!);
}

// ----------------------------------------------------------------------------- weight paths

/** A layer's HDF5 groups (each gets `vars` with attribute name) and its weights' dataset paths, in its weight order. */
export interface LayerPaths {
  layer: LayerJSON;
  /** [group path, saveable name] for every vars group Keras creates for this layer. */
  groups: [string, string][];
  /** Dataset paths of the layer's weights, in our weight order (model.weightNames). */
  datasets: string[];
}

function cellName(className: string): string {
  return `${kerasSnake(className)}_cell`;
}

/** The paths of every layer of `ordered` (Keras's model.layers) for `nWeights(layer)` weights each. */
export function kerasWeightPaths(ordered: LayerJSON[], nWeights: (l: LayerJSON) => number): LayerPaths[] {
  const used = new Map<string, number>();
  return ordered.map((l) => {
    const base = kerasSnake(l.className);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    const p = `layers/${n === undefined ? base : `${base}_${n + 1}`}`;
    const count = nWeights(l);
    const vars = (g: string, k: number, from = 0) => Array.from({ length: k }, (_, i) => `${g}/vars/${from + i}`);
    const groups: [string, string][] = [[p, l.name]];
    let datasets: string[];
    if (RECURRENT.has(l.className)) {
      groups.push([`${p}/cell`, cellName(l.className)]);
      datasets = vars(`${p}/cell`, count);
    } else if (l.className === 'Bidirectional') {
      const inner = l.config.layer as { className: string; config: Json };
      const innerName = String(inner.config.name);
      groups.push([`${p}/forward_layer`, `forward_${innerName}`], [`${p}/forward_layer/cell`, cellName(inner.className)]);
      groups.push([`${p}/backward_layer`, `backward_${innerName}`], [`${p}/backward_layer/cell`, cellName(inner.className)]);
      datasets = [...vars(`${p}/forward_layer/cell`, count / 2), ...vars(`${p}/backward_layer/cell`, count / 2)];
    } else if (l.className === 'TimeDistributed') {
      const inner = l.config.layer as { config: Json };
      groups.push([`${p}/layer`, String(inner.config.name)]);
      datasets = vars(`${p}/layer`, count);
    } else datasets = vars(p, count);
    return { layer: l, groups, datasets };
  });
}

// ---------------------------------------------------------------------------- config.json

const POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const batch = (s: Shape | readonly (number | null)[]) => [null, ...s];

function kerasTensor(ref: TensorRef, shapes: TopologyShapes): Json {
  const shape = shapes.byName.get(ref[0])?.nodeOutputs[ref[1]]?.[ref[2]];
  return { class_name: '__keras_tensor__', config: { shape: shape ? batch(shape) : null, dtype: 'float32', keras_history: [ref[0], ref[1], ref[2]] } };
}

/** Keras 3 config.json (as a JSON value) of a topology, its layers in `ordered` (Keras's) order. */
export function topologyToKeras(topo: TopologyJSON, ordered: LayerJSON[], tc: TrainingConfigJSON | null | undefined, where: string): Json {
  const shapes = topologyShapes(topo, where);
  const compile = tc ? compileConfigToKeras(tc) : null;
  const layerOut = (l: LayerJSON, i: number): Json => {
    const { inputShape: _drop, ...config } = l.config;
    const k = layerToKeras({ className: l.className, config }, 'keras', `${where}: layer ${i}`, l.trainable);
    const s = shapes.byName.get(l.name);
    const ins = s?.nodeInputs[0];
    if (ins && l.className !== 'InputLayer') {
      if (ins.states.length) k.build_config = { shapes_dict: { sequences_shape: batch(ins.inputs[0]!), initial_state_shape: ins.states.map(batch) } };
      else k.build_config = { input_shape: ins.inputs.length > 1 || MERGES.has(l.className) ? ins.inputs.map(batch) : batch(ins.inputs[0]!) };
    }
    return k;
  };
  if (topo.className === 'Sequential') {
    const inputShape = topo.config.inputShape ?? (topo.config.layers[0]?.config.inputShape as Shape | undefined) ?? null;
    const taken = new Set(topo.config.layers.map((l) => l.name));
    let inName = 'input_layer';
    for (let i = 1; taken.has(inName); i++) inName = `input_layer_${i}`;
    const layers: Json[] = [];
    if (inputShape) layers.push({ module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batch(inputShape), dtype: 'float32', sparse: false, ragged: false, name: inName, optional: false }, registered_name: null });
    ordered.forEach((l, i) => layers.push(layerOut(l, i)));
    return {
      module: 'keras',
      class_name: 'Sequential',
      config: { name: topo.config.name, trainable: true, dtype: POLICY, layers, ...(inputShape ? { build_input_shape: batch(inputShape) } : {}) },
      registered_name: null,
      ...(inputShape ? { build_config: { input_shape: batch(inputShape) } } : {}),
      compile_config: compile,
    };
  }
  const layers = ordered.map((l, i) => {
    if (l.className === 'InputLayer') {
      const shape = (l.config.shape ?? l.config.inputShape) as Shape;
      return { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: batch(shape), dtype: 'float32', sparse: false, ragged: false, name: l.name, optional: false }, registered_name: null, name: l.name, inbound_nodes: [] };
    }
    const k = layerOut(l, i);
    k.name = l.name;
    k.inbound_nodes = (l.inboundNodes ?? []).map((n) => {
      const ts = n.inputs.map((r) => kerasTensor(r, shapes));
      const args = MERGES.has(l.className) ? [ts] : ts;
      const kwargs: Json = n.initialState?.length ? { initial_state: n.initialState.map((r) => kerasTensor(r, shapes)) } : {};
      return { args, kwargs };
    });
    return k;
  });
  const io = (refs: TensorRef[] | undefined) => (refs && refs.length === 1 ? [...refs[0]!] : (refs ?? []).map((r) => [...r]));
  return {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: { name: topo.config.name, trainable: true, layers, input_layers: io(topo.config.inputLayers), output_layers: io(topo.config.outputLayers) },
    registered_name: 'Functional',
    build_config: { input_shape: null },
    compile_config: compile,
  };
}

/** Our topology of a Keras 3 config.json; layers in the file's order (Keras's model.layers order). */
export function topologyFromKeras(doc: unknown, at: string): { topology: TopologyJSON; trainingConfig: TrainingConfigJSON | null } {
  if (!isObj(doc) || typeof doc.class_name !== 'string' || !isObj(doc.config)) throw new TypeError(`${at}: not a Keras model config ({class_name, config})`);
  const c = doc.config;
  const name = typeof c.name === 'string' ? c.name : 'model';
  if (!Array.isArray(c.layers)) throw new TypeError(`${at}: config.layers must be a list`);
  const tc = isObj(doc.compile_config) ? compileConfigFromKeras(doc.compile_config) : null;
  if (doc.class_name === 'Sequential') {
    const layers: LayerJSON[] = [];
    let inputShape: (number | null)[] | null = null;
    for (const [i, raw] of c.layers.entries()) {
      const l = layerFromKeras(raw, 'keras', `${at}: layer ${i}`);
      if (l.className === 'InputLayer') {
        inputShape = l.config.shape as (number | null)[];
        continue;
      }
      const config = { ...l.config };
      delete config.inputShape;
      layers.push({ className: l.className, name: String(config.name ?? `layer_${i}`), trainable: l.trainable, config });
    }
    if (!inputShape && isObj(doc.build_config) && Array.isArray(doc.build_config.input_shape)) inputShape = (doc.build_config.input_shape as (number | null)[]).slice(1);
    if (!inputShape && Array.isArray(c.build_input_shape)) inputShape = (c.build_input_shape as (number | null)[]).slice(1);
    if (layers[0] && inputShape) layers[0].config.inputShape = inputShape;
    return { topology: { className: 'Sequential', config: { name, seed: 0, layers, inputShape } }, trainingConfig: tc };
  }
  if (doc.class_name !== 'Functional' && doc.class_name !== 'Model') {
    throw new RangeError(`${at}: model class '${doc.class_name}' is not supported (Sequential or Functional; a subclassed model has no config to rebuild)`);
  }
  const layers: LayerJSON[] = c.layers.map((raw: unknown, i: number) => {
    const l = layerFromKeras(raw, 'keras', `${at}: layer ${i}`);
    const layerName = isObj(raw) && typeof raw.name === 'string' ? raw.name : String(l.config.name);
    const config: Record<string, unknown> = { ...l.config, name: layerName };
    delete config.inputShape;
    const nodes = isObj(raw) && Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : [];
    const inboundNodes = nodes.map((n: unknown, k: number) => nodeFromKeras(n, `${at}: layer '${layerName}' inbound_nodes[${k}]`));
    return { className: l.className, name: layerName, trainable: l.trainable, config, inboundNodes };
  });
  return { topology: { className: 'Model', config: { name, seed: 0, layers, inputLayers: refList(c.input_layers, `${at}: input_layers`), outputLayers: refList(c.output_layers, `${at}: output_layers`) } }, trainingConfig: tc };
}

function tensorRef(t: unknown, at: string): TensorRef {
  const h = isObj(t) && t.class_name === '__keras_tensor__' && isObj(t.config) ? t.config.keras_history : Array.isArray(t) ? t : undefined;
  if (!Array.isArray(h) || typeof h[0] !== 'string' || !Number.isInteger(h[1]) || !Number.isInteger(h[2])) throw new TypeError(`${at}: expected a Keras tensor with keras_history [layer, node, index], got ${JSON.stringify(t)?.slice(0, 100)}`);
  return [h[0], h[1] as number, h[2] as number];
}

function nodeFromKeras(n: unknown, at: string): NodeJSON {
  if (Array.isArray(n)) return { inputs: n.map((r, i) => tensorRef(r, `${at}[${i}]`)) }; // Keras 2 style [[name, node, index, kwargs]]
  if (!isObj(n) || !Array.isArray(n.args)) throw new TypeError(`${at}: expected {args, kwargs}`);
  const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);
  const inputs = flat(n.args).map((t, i) => tensorRef(t, `${at}.args[${i}]`));
  const kw = isObj(n.kwargs) ? n.kwargs : {};
  for (const [k, v] of Object.entries(kw)) {
    if (k === 'initial_state' || v === null || v === false || k === 'training') continue;
    if (k === 'mask') throw new RangeError(`${at}: an explicit mask argument is not supported (use a Masking layer)`);
    throw new RangeError(`${at}: call argument '${k}' is not supported`);
  }
  const states = Array.isArray(kw.initial_state) ? kw.initial_state.map((t, i) => tensorRef(t, `${at}.kwargs.initial_state[${i}]`)) : [];
  return states.length ? { inputs, initialState: states } : { inputs };
}

function refList(v: unknown, at: string): TensorRef[] {
  if (!Array.isArray(v)) throw new TypeError(`${at}: expected a list of [layer, node, index]`);
  if (v.length === 3 && typeof v[0] === 'string') return [tensorRef(v, at)];
  return v.map((r, i) => tensorRef(r, `${at}[${i}]`));
}

// --------------------------------------------------------------------------- compile_config

const KERAS_LOSS: Record<string, string> = { mse: 'mean_squared_error', mae: 'mean_absolute_error', huber: 'huber' };
const LOSS_IN: Record<string, string> = {
  mse: 'mse', mean_squared_error: 'mse', MeanSquaredError: 'mse', mae: 'mae', mean_absolute_error: 'mae', MeanAbsoluteError: 'mae', huber: 'huber', Huber: 'huber',
};

function lossOut(loss: unknown): string | null {
  if (typeof loss === 'string') return Object.hasOwn(LOSS_IN, loss) ? KERAS_LOSS[LOSS_IN[loss]!]! : null;
  if (isObj(loss) && typeof loss.kind === 'string' && !loss.warmupSteps && (loss.kind !== 'huber' || (loss.delta ?? 1) === 1)) return KERAS_LOSS[loss.kind] ?? null;
  return null;
}

/** Keras 3 compile_config of ours; null when the loss or optimizer has no Keras form (the file then loads uncompiled). */
function compileConfigToKeras(tc: TrainingConfigJSON): Json | null {
  const loss = lossOut(tc.loss);
  const name = String(tc.optimizer.className).toLowerCase();
  const c = tc.optimizer.config;
  const className = ({ adam: 'Adam', adamw: 'AdamW', sgd: 'SGD', rmsprop: 'RMSprop' } as Record<string, string>)[name];
  if (!loss || !className || typeof c.learningRate !== 'number') return null;
  const common = {
    learning_rate: c.learningRate, weight_decay: (c.weightDecay as number | undefined) ?? null, clipnorm: c.clipnorm ?? null, global_clipnorm: c.globalClipnorm ?? null, clipvalue: c.clipvalue ?? null,
    use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null,
  };
  let opt: Json | null = null;
  if (className === 'Adam' || className === 'AdamW') opt = { name: className.toLowerCase(), ...common, beta_1: c.beta1 ?? 0.9, beta_2: c.beta2 ?? 0.999, epsilon: c.epsilon ?? 1e-7, amsgrad: false };
  else if (className === 'SGD') opt = { name: 'SGD', ...common, momentum: c.momentum ?? 0, nesterov: c.nesterov ?? false };
  else if (className === 'RMSprop') opt = { name: 'rmsprop', ...common, rho: c.rho ?? 0.9, momentum: c.momentum ?? 0, epsilon: c.epsilon ?? 1e-7, centered: c.centered ?? false };
  if (!opt) return null;
  if (className === 'AdamW') opt.weight_decay = c.weightDecay ?? 0.004;
  return {
    optimizer: { module: 'keras.optimizers', class_name: className, config: opt, registered_name: null },
    loss, loss_weights: null, metrics: null, weighted_metrics: null, run_eagerly: false, steps_per_execution: 1, jit_compile: true,
  };
}

function compileConfigFromKeras(cc: Json): TrainingConfigJSON | null {
  const loss = typeof cc.loss === 'string' && Object.hasOwn(LOSS_IN, cc.loss) ? LOSS_IN[cc.loss]! : null;
  const o = cc.optimizer;
  if (!loss || !isObj(o) || !isObj(o.config) || typeof o.config.learning_rate !== 'number') return null;
  const c = o.config;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const clip = { ...(num(c.clipnorm) !== undefined ? { clipnorm: c.clipnorm } : {}), ...(num(c.global_clipnorm) !== undefined ? { globalClipnorm: c.global_clipnorm } : {}), ...(num(c.clipvalue) !== undefined ? { clipvalue: c.clipvalue } : {}), ...(num(c.weight_decay) !== undefined ? { weightDecay: c.weight_decay } : {}) };
  const lr = c.learning_rate;
  if (o.class_name === 'Adam' || o.class_name === 'AdamW') {
    const cfg: Json = { learningRate: lr, beta1: num(c.beta_1) ?? 0.9, beta2: num(c.beta_2) ?? 0.999, epsilon: num(c.epsilon) ?? 1e-7, ...clip };
    if (o.class_name === 'AdamW') cfg.weightDecay = num(c.weight_decay) ?? 0.004;
    return { optimizer: { className: o.class_name.toLowerCase(), config: cfg }, loss };
  }
  if (o.class_name === 'SGD') return { optimizer: { className: 'sgd', config: { learningRate: lr, momentum: num(c.momentum) ?? 0, nesterov: c.nesterov === true, ...clip } }, loss };
  if (o.class_name === 'RMSprop') return { optimizer: { className: 'rmsprop', config: { learningRate: lr, rho: num(c.rho) ?? 0.9, momentum: num(c.momentum) ?? 0, epsilon: num(c.epsilon) ?? 1e-7, centered: c.centered === true, ...clip } }, loss };
  return null;
}
