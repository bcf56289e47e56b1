/**
 * Keras merge layers for functional graphs: Concatenate (along an axis), Add, Subtract, Multiply,
 * Average. They take a list of inputs (`rnn.layers.add().apply([a, b])`); the elementwise ones need
 * equal shapes. Masks (Keras masking) combine as Keras's Merge.compute_mask does: a step is kept
 * when every input that has a mask keeps it.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { add, mul, scale, sub } from '../ops/elementwise';
import { concat, normalizeAxis } from '../ops/concat';
import { Layer, shapeToString, type LayerArgs, type Shape } from './layer';
import { is } from '../options';

/** The combined [B, T] mask of the inputs (null when none has one). */
async function mergeMasks(g: Graph, inputs: readonly Tensor[]): Promise<Tensor | null> {
  const masks = inputs.map((t) => t.mask).filter((m): m is Tensor => m !== null);
  let m = masks[0] ?? null;
  for (const other of masks.slice(1)) if (other !== m) m = await mul(g, m!, other);
  return m;
}

abstract class Merge extends Layer {
  protected abstract readonly minInputs: number;

  override nodeOutputShapes(inputs: readonly Shape[], states: readonly Shape[]): Shape[] {
    if (states.length) throw new RangeError(`${this.name} (${this.className}): has no initialState`);
    if (inputs.length < this.minInputs) throw new RangeError(`${this.name} (${this.className}): needs at least ${this.minInputs} inputs as a list, got ${inputs.length}`);
    return [this.mergedShape(inputs)];
  }

  /** The output shape (without batch) of the inputs, or a clear error. */
  protected abstract mergedShape(inputs: readonly Shape[]): Shape;

  /** Sequential use (one input) is an error: merge layers need a list. */
  outputShape(input: Shape): Shape {
    throw new RangeError(`${this.name} (${this.className}): takes a list of inputs (functional API: .apply([a, b])); got one input ${shapeToString(input)}`);
  }

  async call(): Promise<Tensor> {
    throw new Error(`${this.name} (${this.className}): takes a list of inputs`);
  }

  override async callNode(g: Graph, inputs: readonly Tensor[]): Promise<Tensor[]> {
    const y = await this.merge(g, inputs);
    const m = await mergeMasks(g, inputs);
    if (m && y.shape.length >= 2 && y.shape[0] === m.shape[0] && y.shape[1] === m.shape[1]) y.mask = m;
    return [y];
  }

  protected abstract merge(g: Graph, inputs: readonly Tensor[]): Promise<Tensor>;

  getConfig(): Record<string, unknown> {
    return {};
  }
}

/** Elementwise merges: every input has the same shape. */
abstract class ElementwiseMerge extends Merge {
  protected readonly minInputs: number = 2;

  protected mergedShape(inputs: readonly Shape[]): Shape {
    const first = inputs[0]!;
    for (const s of inputs) {
      if (s.length !== first.length || s.some((d, i) => d !== first[i] && d !== null && first[i] !== null)) {
        throw new RangeError(`${this.name} (${this.className}): inputs must have the same shape, got ${inputs.map(shapeToString).join(', ')}`);
      }
    }
    return first.map((d, i) => d ?? inputs.find((s) => s[i] !== null)?.[i] ?? null);
  }
}

/** Keras Add: the sum of the inputs. */
export class Add extends ElementwiseMerge {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args, 'add');
  }
  protected async merge(g: Graph, xs: readonly Tensor[]): Promise<Tensor> {
    let y = xs[0]!;
    for (const x of xs.slice(1)) y = await add(g, y, x);
    return y;
  }
}

/** Keras Subtract: inputs[0] - inputs[1] (exactly two inputs). */
export class Subtract extends ElementwiseMerge {
  readonly className = 'Subtract';
  constructor(args: LayerArgs = {}) {
    super(args, 'subtract');
  }
  protected override mergedShape(inputs: readonly Shape[]): Shape {
    if (inputs.length !== 2) throw new RangeError(`${this.name} (Subtract): needs exactly 2 inputs, got ${inputs.length}`);
    return super.mergedShape(inputs);
  }
  protected merge(g: Graph, xs: readonly Tensor[]): Promise<Tensor> {
    return sub(g, xs[0]!, xs[1]!);
  }
}

/** Keras Multiply: the elementwise product of the inputs. */
export class Multiply extends ElementwiseMerge {
  readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super(args, 'multiply');
  }
  protected async merge(g: Graph, xs: readonly Tensor[]): Promise<Tensor> {
    let y = xs[0]!;
    for (const x of xs.slice(1)) y = await mul(g, y, x);
    return y;
  }
}

/** Keras Average: the elementwise mean of the inputs. */
export class Average extends ElementwiseMerge {
  readonly className = 'Average';
  constructor(args: LayerArgs = {}) {
    super(args, 'average');
  }
  protected async merge(g: Graph, xs: readonly Tensor[]): Promise<Tensor> {
    let y = xs[0]!;
    for (const x of xs.slice(1)) y = await add(g, y, x);
    return scale(g, y, 1 / xs.length, 0, this.name);
  }
}

/** Options of `rnn.layers.concatenate` (Keras `Concatenate`). */
export interface ConcatenateArgs extends LayerArgs {
  /** Axis to join along (Keras default -1, the features); counts the batch axis as 0. */
  axis?: number;
}

/** Keras Concatenate: joins the inputs along `axis`; all other dimensions must match. */
export class Concatenate extends Merge {
  readonly className = 'Concatenate';
  /** The axis the inputs are joined along (the batch axis counts as 0). */
  readonly axis: number;
  protected readonly minInputs: number = 1;

  constructor(args: ConcatenateArgs = {}) {
    super(args, 'concatenate', { axis: is.int });
    const axis = args.axis ?? -1;
    if (!Number.isInteger(axis)) throw new RangeError(`${this.name}: axis must be an integer, got ${JSON.stringify(args.axis)}`);
    if (axis === 0) throw new RangeError(`${this.name}: axis 0 is the batch axis; use -1 (features) or 1 (time)`);
    this.axis = axis;
  }

  protected mergedShape(inputs: readonly Shape[]): Shape {
    const rank = inputs[0]!.length + 1; // with the batch axis
    const ax = normalizeAxis(this.axis, rank, this.name) - 1;
    if (ax < 0) throw new RangeError(`${this.name}: axis ${this.axis} is the batch axis of inputs ${inputs.map(shapeToString).join(', ')}`);
    const bad = inputs.some((s) => s.length !== rank - 1 || s.some((d, i) => i !== ax && d !== null && inputs[0]![i] !== null && d !== inputs[0]![i]));
    if (bad) throw new RangeError(`${this.name}: inputs must match except on axis ${this.axis}, got ${inputs.map(shapeToString).join(', ')}`);
    const out = [...inputs[0]!];
    out[ax] = inputs.some((s) => s[ax] === null) ? null : inputs.reduce((n, s) => n + (s[ax] as number), 0);
    return out;
  }

  protected merge(g: Graph, xs: readonly Tensor[]): Promise<Tensor> {
    const ax = normalizeAxis(this.axis, xs[0]!.shape.length, this.name);
    if (ax === 1 && xs.some((x) => x.mask)) throw new Error(`${this.name}: cannot concatenate masked sequences along the time axis`);
    return xs.length === 1 ? Promise.resolve(xs[0]!) : concat(g, xs, this.axis, this.name);
  }

  /** Configuration (Keras names): `{axis}`. */
  override getConfig(): Record<string, unknown> {
    return { axis: this.axis };
  }
}
