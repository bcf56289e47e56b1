/**
 * Shapes of a saved topology without a GPU: every layer rebuilt from its `{className, config}`
 * (src/layers/registry.ts) and its calls' shapes worked out in graph order with the layers' own
 * `nodeOutputShapes`, so a converter knows each layer's input shape, the weights it declares
 * (`weightSpecs`: names, shapes and order exactly as the model will have them) and the shape of
 * every tensor of a functional graph (Keras 3's `__keras_tensor__` entries need them).
 */
import type { Layer, Shape } from '../layers/layer';
import { deserializeLayer } from '../layers/registry';
import type { LayerJSON, TensorRef, TopologyJSON } from './artifacts';

/** A layer of the topology, rebuilt, with the shapes of its calls. */
export interface LayerShapes {
  json: LayerJSON;
  layer: Layer;
  /** Per call: its input shapes (without batch), then its initial states' shapes. */
  nodeInputs: { inputs: Shape[]; states: Shape[] }[];
  /** Per call: its output shapes. */
  nodeOutputs: Shape[][];
}

/** The topology's layers rebuilt, in its order, with their shapes. */
export interface TopologyShapes {
  layers: LayerShapes[];
  byName: Map<string, LayerShapes>;
  /** Whether the shapes are known (a Sequential saved before it was built has none). */
  built: boolean;
}

/** The weights a layer declares for the shape of its first call: 'layer/weight' names and shapes, in model order. */
export function layerWeights(l: LayerShapes): { name: string; shape: number[] }[] {
  const first = l.nodeInputs[0];
  if (!first) return [];
  return l.layer.weightSpecs(first.inputs[0]!).map((s) => ({ name: `${l.layer.name}/${s.name}`, shape: [...s.shape] }));
}

/** Rebuilds the layers of `topo` and infers every call's shapes; errors name `where` and the layer. */
export function topologyShapes(topo: TopologyJSON, where: string): TopologyShapes {
  const layers: LayerShapes[] = [];
  const byName = new Map<string, LayerShapes>();
  for (const [i, json] of topo.config.layers.entries()) {
    const at = `${where}: layer ${i} ('${json.name}')`;
    // an InputLayer takes {name, shape} (tolerate a serialized inputShape beside it)
    const config = json.className === 'InputLayer' ? { name: json.config.name ?? json.name, shape: json.config.shape ?? json.config.inputShape } : json.config;
    const layer = deserializeLayer({ className: json.className, config }, at);
    if (byName.has(json.name)) throw new RangeError(`${at}: two layers are named '${json.name}'`);
    const l: LayerShapes = { json, layer, nodeInputs: [], nodeOutputs: [] };
    layers.push(l);
    byName.set(json.name, l);
  }
  if (topo.className === 'Sequential') {
    let shape: Shape | null = (topo.config.inputShape as Shape | null | undefined) ?? layers[0]?.layer.inputShape ?? null;
    if (!shape) return { layers, byName, built: false };
    for (const l of layers) {
      if (l.layer.className === 'InputLayer') continue;
      const out = shapeCall(l, [shape], [], where);
      shape = out[0]!;
    }
    return { layers, byName, built: true };
  }
  // Functional: resolve calls whose inputs are known until none is left (a graph order).
  const pending: { l: LayerShapes; node: number; inputs: TensorRef[]; states: TensorRef[] }[] = [];
  for (const l of layers) {
    if (l.layer.className === 'InputLayer') {
      const s = l.layer.inputShape!;
      l.nodeInputs.push({ inputs: [s], states: [] });
      l.nodeOutputs.push([s]);
      continue;
    }
    const nodes = l.json.inboundNodes ?? [];
    if (!nodes.length) throw new RangeError(`${where}: layer '${l.json.name}' (${l.json.className}) is never called in the functional graph (no inbound nodes)`);
    nodes.forEach((n, k) => pending.push({ l, node: k, inputs: n.inputs, states: n.initialState ?? [] }));
  }
  const shapeOf = (ref: TensorRef, at: string): Shape | undefined => {
    if (!Array.isArray(ref) || ref.length < 3) throw new TypeError(`${at}: a tensor reference must be [layer, node, tensor], got ${JSON.stringify(ref)}`);
    const src = byName.get(ref[0]);
    if (!src) throw new RangeError(`${at}: refers to an unknown layer '${ref[0]}'`);
    return src.nodeOutputs[ref[1]]?.[ref[2]];
  };
  let progress = true;
  while (pending.length && progress) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      if (p.l.nodeOutputs.length !== p.node) continue; // calls of a layer in order
      const at = `${where}: layer '${p.l.json.name}' call ${p.node}`;
      const ins = p.inputs.map((r) => shapeOf(r, at));
      const sts = p.states.map((r) => shapeOf(r, at));
      if (ins.some((s) => !s) || sts.some((s) => !s)) continue;
      shapeCall(p.l, ins as Shape[], sts as Shape[], where);
      pending.splice(i--, 1);
      progress = true;
    }
  }
  if (pending.length) {
    const p = pending[0]!;
    throw new RangeError(`${where}: the functional graph cannot be resolved: layer '${p.l.json.name}' reads ${JSON.stringify([...p.inputs, ...p.states])}, which no layer call produces (a cycle or a missing node)`);
  }
  const check = (refs: TensorRef[] | undefined, what: string) => {
    for (const r of refs ?? []) if (!shapeOf(r, `${where}: ${what}`)) throw new RangeError(`${where}: ${what} ${JSON.stringify(r)} is not a tensor of the graph`);
  };
  check(topo.config.inputLayers, 'input');
  check(topo.config.outputLayers, 'output');
  return { layers, byName, built: true };
}

function shapeCall(l: LayerShapes, inputs: Shape[], states: Shape[], where: string): Shape[] {
  let out: Shape[];
  try {
    out = l.layer.nodeOutputShapes(inputs, states);
  } catch (e) {
    const err = e as Error;
    throw new RangeError(`${where}: layer '${l.json.name}' (${l.json.className}) does not fit its input ${inputs.map(fmt).join(', ')}: ${err.message}`);
  }
  l.nodeInputs.push({ inputs, states });
  l.nodeOutputs.push(out);
  return out;
}

const fmt = (s: Shape) => `(None, ${s.map((d) => (d === null ? 'None' : d)).join(', ')})`;
