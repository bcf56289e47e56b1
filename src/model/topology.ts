/**
 * A model's graph (the functional API's, or a Sequential's layers in a row): the nodes between its
 * input and output symbolic tensors in execution order, its layers (each once, in order of first
 * use: Keras's `model.layers` and the weights' order), checks done before any GPU work
 * (disconnected inputs or outputs, a graph that does not lead from the inputs to the outputs),
 * shape inference for concrete input shapes, and the forward pass a plan records.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { shapeToString, type Layer, type Shape } from '../layers/layer';
import { InputLayer } from '../layers/layer';
import { isSymbolic, type Node, type SymbolicTensor } from '../layers/symbolic';

export class Topology {
  /** The nodes in execution order (every node after the nodes whose outputs it reads). */
  readonly nodes: readonly Node[];
  /** The layers with weights or computation (not the inputs), each once, in order of first use. */
  readonly layers: readonly Layer[];
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];

  constructor(inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[], where: string) {
    if (!inputs.length) throw new RangeError(`${where}: a model needs at least one input (rnn.input({shape}))`);
    if (!outputs.length) throw new RangeError(`${where}: a model needs at least one output`);
    [...inputs, ...outputs].forEach((t, i) => {
      if (!isSymbolic(t)) throw new TypeError(`${where}: ${i < inputs.length ? `inputs[${i}]` : `outputs[${i - inputs.length}]`} is not a symbolic tensor (from rnn.input() or layer.apply())`);
    });
    for (const t of inputs) {
      if (!(t.node.layer instanceof InputLayer)) throw new RangeError(`${where}: input ${t.name} is not an rnn.input() tensor (it is an output of ${t.node.layer.name})`);
    }
    if (new Set(inputs).size !== inputs.length) throw new RangeError(`${where}: an input is listed twice`);
    this.inputs = inputs;
    this.outputs = outputs;
    this.nodes = sortNodes(inputs, outputs, where);
    const layers: Layer[] = [];
    for (const n of this.nodes) if (!(n.layer instanceof InputLayer) && !layers.includes(n.layer)) layers.push(n.layer);
    const names = new Map<string, Layer>();
    for (const l of [...layers, ...inputs.map((t) => t.node.layer)]) {
      const other = names.get(l.name);
      if (other && other !== l) throw new RangeError(`${where}: two layers are named '${l.name}'; layer names must be unique in a model`);
      names.set(l.name, l);
    }
    this.layers = layers;
  }

  /** Input names: the input layers'. */
  get inputNames(): string[] {
    return this.inputs.map((t) => t.node.layer.name);
  }

  /** Output names: the output layers' (`name_i` when one layer gives several outputs). */
  get outputNames(): string[] {
    const outs = this.outputs;
    return outs.map((t) => (outs.filter((o) => o.node.layer === t.node.layer).length > 1 ? `${t.node.layer.name}_${t.index}` : t.node.layer.name));
  }

  /** The shape (without batch) each layer's weights are made for: its first call's first input. */
  weightInput(layer: Layer): Shape {
    const n = this.nodes.find((x) => x.layer === layer);
    if (!n) throw new Error(`layer ${layer.name} is not in this model`);
    return n.inputs[0]!.shape;
  }

  /**
   * Every tensor's shape for concrete input shapes (null dimensions of the graph take the data's
   * sizes); throws naming the layer when a shape does not fit.
   */
  inferShapes(inputShapes: readonly Shape[]): Map<SymbolicTensor, Shape> {
    const shapes = new Map<SymbolicTensor, Shape>();
    this.inputs.forEach((t, i) => shapes.set(t, inputShapes[i]!));
    for (const n of this.nodes) {
      if (n.layer instanceof InputLayer) continue;
      const out = n.layer.nodeOutputShapes(n.inputs.map((t) => shapes.get(t)!), n.states.map((t) => shapes.get(t)!));
      n.outputs.forEach((t, i) => shapes.set(t, out[i]!));
    }
    return shapes;
  }

  /**
   * Records the forward pass: `xs` are the model inputs' tensors (in `inputs` order), `weights(l)`
   * a layer's weight tensors; returns the outputs' tensors. Keras mask propagation for one-input
   * layers that keep the [B, T] leading dimensions (Dense, TimeDistributed, normalization…): the
   * input's mask is passed on unless the layer set its own.
   */
  async forward(g: Graph, xs: readonly Tensor[], weights: (layer: Layer) => readonly Tensor[]): Promise<Tensor[]> {
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((t, i) => values.set(t, xs[i]!));
    for (const n of this.nodes) {
      if (n.layer instanceof InputLayer) continue;
      const ins = n.inputs.map((t) => values.get(t)!);
      const outs = await n.layer.callNode(g, ins, weights(n.layer), n.states.map((t) => values.get(t)!));
      const x = ins[0]!;
      const y = outs[0]!;
      if (ins.length === 1 && x.mask && !y.mask && y.shape.length === 3 && y.shape[0] === x.shape[0] && y.shape[1] === x.shape[1]) y.mask = x.mask;
      n.outputs.forEach((t, i) => values.set(t, outs[i]!));
    }
    return this.outputs.map((t) => values.get(t)!);
  }

  /** For summary(): the tensors a node reads, as 'layer[node][output]' names (Keras's "Connected to"). */
  connections(n: Node): string {
    return n.reads.map((t) => `${t.node.layer.name}[${t.node.layer.nodes.indexOf(t.node)}][${t.index}]`).join(', ');
  }
}

/**
 * The nodes between `inputs` and `outputs` in execution order (depth-first from the outputs, each
 * node after what it reads). Throws when an output depends on a tensor that is not computed from
 * the inputs, or an input does not reach any output.
 */
function sortNodes(inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[], where: string): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, 'visiting' | 'done'>();
  const inputSet = new Set(inputs);
  const used = new Set<SymbolicTensor>();
  const visit = (t: SymbolicTensor, path: string[]): void => {
    const n = t.node;
    if (n.layer instanceof InputLayer) {
      used.add(t);
      if (!inputSet.has(t)) {
        throw new RangeError(`${where}: graph disconnected — ${path.at(-1) ?? t.name} needs input '${t.node.layer.name}' ${shapeToString(t.shape)}, which is not in the model's inputs [${inputs.map((i) => i.node.layer.name).join(', ')}]`);
      }
      return; // a model input: placed first
    }
    const st = state.get(n);
    if (st === 'done') return;
    if (st === 'visiting') throw new RangeError(`${where}: the graph has a cycle through ${n.layer.name}`);
    state.set(n, 'visiting');
    for (const r of n.reads) visit(r, [...path, n.layer.name]);
    state.set(n, 'done');
    order.push(n);
  };
  // The model's inputs first, in their order (summary, and Keras's layer order), then the rest.
  for (const t of inputs) {
    state.set(t.node, 'done');
    order.push(t.node);
  }
  for (const t of outputs) visit(t, []);
  for (const t of inputs) {
    if (!used.has(t)) throw new RangeError(`${where}: input '${t.node.layer.name}' ${shapeToString(t.shape)} is not connected to any output`);
  }
  return order;
}
