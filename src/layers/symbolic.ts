/**
 * The functional API's graph (Keras / tfjs): `rnn.input({shape})` makes a symbolic tensor,
 * `layer.apply(x)` records a Node (the layer, its input and initial-state tensors, its outputs)
 * and returns the outputs' symbolic tensors. No GPU work happens here: a model is built from
 * these nodes (src/model/topology.ts) and records real ops per plan. Shapes exclude the batch.
 */
import type { Layer, Shape } from './layer';

let nextId = 0;

/** A placeholder for a tensor of a model's graph: its shape (without batch) and where it comes from. */
export class SymbolicTensor {
  /** Unique id of the tensor (order of creation). */
  readonly id = nextId++;

  constructor(
    /** Shape without the batch dimension; null = any size (e.g. the sequence length). */
    readonly shape: Shape,
    /** The node that computes it (an Input node for model inputs). */
    readonly node: Node,
    /** Which of the node's outputs it is. */
    readonly index: number,
    /** Its name: the layer's, with the call and output index when there are several. */
    readonly name: string,
  ) {}

  /** `name (None, …shape)`, as Keras prints a symbolic tensor. */
  toString(): string {
    return `${this.name} (None, ${this.shape.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;
  }
}

/**
 * One call of a layer in a graph (a shared layer has several).
 * @internal
 */
export class Node {
  readonly outputs: SymbolicTensor[];

  constructor(
    readonly layer: Layer,
    /** The main inputs. */
    readonly inputs: readonly SymbolicTensor[],
    /** Recurrent layers: the initial state (Keras `initial_state`), else empty. */
    readonly states: readonly SymbolicTensor[],
    outputShapes: readonly Shape[],
  ) {
    const n = layer.nodes.length;
    this.outputs = outputShapes.map((s, i) => new SymbolicTensor(s, this, i, `${layer.name}${n ? `_${n}` : ''}${outputShapes.length > 1 ? `/out${i}` : ''}`));
  }

  /** Every tensor this node reads. */
  get reads(): readonly SymbolicTensor[] {
    return [...this.inputs, ...this.states];
  }
}

export function isSymbolic(v: unknown): v is SymbolicTensor {
  return v instanceof SymbolicTensor;
}
