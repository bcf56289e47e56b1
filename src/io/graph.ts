/**
 * A saved topology (src/io/artifacts.ts) as a graph of calls, from its JSON alone (no layer
 * classes): the model's inputs with their shapes, every layer call in an order where each call
 * comes after the calls whose outputs it reads, the tensors each call reads and makes, and the
 * model's outputs. A Sequential is its layers in a row (each reads the previous one's first
 * output). The exporters to PyTorch and ONNX walk this; errors name the layer.
 */
import { manifestEntries, shapeSize, type LayerJSON, type ModelArtifacts, type TensorRef, type TopologyJSON } from './artifacts';

/** One call of a layer. Tensor keys are 'layer:call:index'. */
export interface GraphCall {
  layer: LayerJSON;
  /** Which call of the layer (0 for the first). */
  node: number;
  inputs: string[];
  /** Recurrent layers: the initialState tensors. */
  states: string[];
  outputs: string[];
}

/** The model as calls. */
export interface ModelGraph {
  className: 'Sequential' | 'Model';
  name: string;
  inputs: { key: string; name: string; shape: (number | null)[] }[];
  calls: GraphCall[];
  outputs: string[];
  /** Every layer, by name (inputs included for functional models). */
  layers: Map<string, LayerJSON>;
}

/** Errors in a topology or in what a format can express; the message names the layer. */
export class InteropError extends Error {
  /** 'InteropError'. */
  override name = 'InteropError';
}

export const tensorKey = (r: TensorRef): string => `${r[0]}:${r[1]}:${r[2]}`;

/** A config's nested layer ({className, config}) of Bidirectional / TimeDistributed, or null. */
export function innerLayer(l: { config: Record<string, unknown> }): { className: string; config: Record<string, unknown> } | null {
  const inner = l.config.layer as { className?: unknown; config?: unknown } | undefined;
  if (!inner || typeof inner.className !== 'string' || typeof inner.config !== 'object' || inner.config === null) return null;
  return inner as { className: string; config: Record<string, unknown> };
}

const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'GRU']);

/** Whether a className is one of the fused recurrent layers. */
export const isRecurrent = (className: string): boolean => RECURRENT.has(className);

/** The recurrent part of a call: the recurrent layer (the inner one of a Bidirectional), its direction(s), the merge mode. */
export interface Recurrent {
  /** The recurrent layer's own config (the inner one for Bidirectional). */
  cell: { className: string; config: Record<string, unknown> };
  bidirectional: boolean;
  mergeMode: string;
}

/** The recurrent part of a call (a recurrent layer or a Bidirectional one), or null. */
export function recurrentOf(c: { layer: { className: string; config: Record<string, unknown> } }): Recurrent | null {
  const l = c.layer;
  if (isRecurrent(l.className)) return { cell: l, bidirectional: false, mergeMode: '' };
  if (l.className === 'Bidirectional') {
    const inner = innerLayer(l);
    if (inner && isRecurrent(inner.className)) return { cell: inner, bidirectional: true, mergeMode: String(l.config.mergeMode ?? 'concat') };
  }
  return null;
}

/** How many tensors one call of a layer makes (returnState adds the final states). */
export function outputCount(l: { className: string; config: Record<string, unknown> }): number {
  const states = (c: { className: string; config: Record<string, unknown> }) => (c.config.returnState ? (c.className === 'LSTM' ? 2 : 1) : 0);
  if (isRecurrent(l.className)) return 1 + states(l);
  if (l.className === 'Bidirectional') {
    const inner = innerLayer(l);
    return inner ? 1 + 2 * states(inner) : 1;
  }
  return 1;
}

function inputShapeOf(l: LayerJSON): (number | null)[] | null {
  const c = l.config;
  const s = (c.shape ?? c.inputShape) as (number | null)[] | undefined;
  if (Array.isArray(s)) return [...s];
  const b = (c.batchShape ?? c.batchInputShape) as (number | null)[] | undefined;
  return Array.isArray(b) ? b.slice(1) : null;
}

/** The topology as a graph of calls; `where` starts every error message. */
export function modelGraph(topo: TopologyJSON, where: string): ModelGraph {
  if (!topo || typeof topo !== 'object' || !topo.config || !Array.isArray(topo.config.layers)) {
    throw new InteropError(`${where}: not a model topology (expected {className, config: {layers: [...]}})`);
  }
  const layers = new Map<string, LayerJSON>();
  for (const l of topo.config.layers) {
    if (!l || typeof l.className !== 'string' || typeof l.name !== 'string' || !l.config || typeof l.config !== 'object') {
      throw new InteropError(`${where}: a layer entry must be {className, name, config}, got ${JSON.stringify(l)?.slice(0, 80)}`);
    }
    if (layers.has(l.name)) throw new InteropError(`${where}: two layers are named '${l.name}'`);
    layers.set(l.name, l);
  }
  const name = String(topo.config.name ?? 'model');
  if (topo.className === 'Sequential') return sequentialGraph(topo, layers, name, where);
  if (topo.className !== 'Model') throw new InteropError(`${where}: unknown model class '${String(topo.className)}' (expected Sequential or Model)`);
  return functionalGraph(topo, layers, name, where);
}

function sequentialGraph(topo: TopologyJSON, layers: Map<string, LayerJSON>, name: string, where: string): ModelGraph {
  const list = topo.config.layers.filter((l) => l.className !== 'InputLayer');
  if (!list.length) throw new InteropError(`${where}: the Sequential model has no layers`);
  const shape = topo.config.inputShape ?? inputShapeOf(topo.config.layers[0]!);
  if (!shape) throw new InteropError(`${where}: the Sequential model was never built (no input shape): call predict or fit once, or give the first layer an inputShape`);
  const inputKey = `${name}_input:0:0`;
  const calls: GraphCall[] = [];
  let prev = inputKey;
  for (const l of list) {
    const outputs = Array.from({ length: outputCount(l) }, (_, i) => `${l.name}:0:${i}`);
    calls.push({ layer: l, node: 0, inputs: [prev], states: [], outputs });
    prev = outputs[0]!;
  }
  return { className: 'Sequential', name, inputs: [{ key: inputKey, name: `${name}_input`, shape: [...shape] }], calls, outputs: [prev], layers };
}

function functionalGraph(topo: TopologyJSON, layers: Map<string, LayerJSON>, name: string, where: string): ModelGraph {
  const inputRefs = topo.config.inputLayers ?? [];
  const outputRefs = topo.config.outputLayers ?? [];
  if (!inputRefs.length || !outputRefs.length) throw new InteropError(`${where}: a functional model needs inputLayers and outputLayers`);
  const inputs = inputRefs.map((r) => {
    const l = layers.get(r[0]);
    const shape = l ? inputShapeOf(l) : null;
    if (!shape) throw new InteropError(`${where}: input '${r[0]}' has no shape (expected an InputLayer with config.shape)`);
    return { key: tensorKey(r), name: r[0], shape };
  });
  const known = new Set(inputs.map((i) => i.key));
  const pending: GraphCall[] = [];
  for (const l of layers.values()) {
    if (l.className === 'InputLayer') continue;
    const nodes = l.inboundNodes ?? [];
    if (!nodes.length) throw new InteropError(`${where}: layer '${l.name}' (${l.className}) is never called (no inboundNodes)`);
    nodes.forEach((n, k) => {
      if (!n || !Array.isArray(n.inputs)) throw new InteropError(`${where}: layer '${l.name}' call ${k}: expected {inputs: [[layer, node, index], ...]}`);
      pending.push({
        layer: l,
        node: k,
        inputs: n.inputs.map(tensorKey),
        states: (n.initialState ?? []).map(tensorKey),
        outputs: Array.from({ length: outputCount(l) }, (_, i) => `${l.name}:${k}:${i}`),
      });
    });
  }
  const calls: GraphCall[] = [];
  while (pending.length) {
    const i = pending.findIndex((c) => [...c.inputs, ...c.states].every((t) => known.has(t)));
    if (i < 0) {
      const c = pending[0]!;
      const missing = [...c.inputs, ...c.states].filter((t) => !known.has(t));
      throw new InteropError(`${where}: layer '${c.layer.name}' reads ${missing.join(', ')}, which no call of the graph makes (a cycle or a missing layer)`);
    }
    const c = pending.splice(i, 1)[0]!;
    c.outputs.forEach((t) => known.add(t));
    calls.push(c);
  }
  const outputs = outputRefs.map(tensorKey);
  for (const o of outputs) if (!known.has(o)) throw new InteropError(`${where}: output ${o} is not a tensor of the graph`);
  return { className: 'Model', name, inputs, calls, outputs, layers };
}

/** The calls that read a tensor (as input or initial state). */
export function consumersOf(g: ModelGraph, key: string): GraphCall[] {
  return g.calls.filter((c) => c.inputs.includes(key) || c.states.includes(key));
}

/** The Keras weights of `artifacts` (model group), by name. */
export function artifactWeights(artifacts: ModelArtifacts): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let offset = 0;
  for (const e of manifestEntries(artifacts.json)) {
    const n = shapeSize(e.shape, `weight '${e.name}'`);
    if (offset + 4 * n > artifacts.weightData.byteLength) throw new InteropError(`weight '${e.name}' runs past the end of weightData (${artifacts.weightData.byteLength} bytes)`);
    if ((e.group ?? 'model') === 'model') out.set(e.name, { shape: [...e.shape], data: new Float32Array(artifacts.weightData.slice(offset, offset + 4 * n)) });
    offset += 4 * n;
  }
  return out;
}

/** A layer's weights ('layer/…' entries of the manifest), in manifest order. */
export function layerWeightsOf(weights: Map<string, { shape: number[]; data: Float32Array }>, layer: string): { name: string; shape: number[]; data: Float32Array }[] {
  return [...weights].filter(([n]) => n.startsWith(`${layer}/`)).map(([name, w]) => ({ name, ...w }));
}
