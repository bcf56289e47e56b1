/**
 * Keras 3 `Bidirectional` wrapper for SimpleRNN / LSTM / GRU: a forward copy and a backward copy
 * of the wrapped layer (re-created from its options, named forward_<name> / backward_<name>), each
 * with its own weights, in Keras order: the forward layer's kernel, recurrent_kernel, bias, then
 * the backward layer's. The backward direction runs the same fused kernels with `reverse`: they
 * walk time from T-1 down to 0 and store each output at its own time index, so no reversed copy of
 * the sequence is made and its output is already aligned with the input (what Keras gets after
 * flipping the backward layer's output).
 *
 * Output: merge(forward, backward) with mergeMode 'concat' (default, [..., 2H]), 'sum', 'mul' or
 * 'ave'. With returnSequences the outputs are [B, T, ·] (masked steps output zeros, as Keras
 * forces zero_output_for_mask inside Bidirectional); otherwise each direction's final state
 * (the backward one has read the whole sequence from the end) is merged, [B, ·].
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { bidirectionalMerge, type MergeMode } from '../ops/sequence';
import { RecurrentLayer, checkInitialState } from './recurrent';
import { Layer, serializeLayer, type LayerArgs, type Shape, type WeightSpec } from './layer';
import { is } from '../options';

/** Options of `rnn.layers.bidirectional` (Keras `Bidirectional`). */
export interface BidirectionalArgs extends LayerArgs {
  /** The recurrent layer to run in both directions (its options are copied; it is not used itself). */
  layer: RecurrentLayer;
  /** How the two directions' outputs are combined (default 'concat'). */
  mergeMode?: MergeMode;
}

const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave'];

/**
 * Keras `Bidirectional`: runs a copy of a recurrent layer forwards and one backwards over the
 * sequence and merges their outputs. Made by `rnn.layers.bidirectional`.
 *
 * @example
 * ```ts
 * rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 32, returnSequences: true }), inputShape: [null, 8] });
 * ```
 */
export class Bidirectional extends Layer {
  readonly className = 'Bidirectional';
  /** The forward copy (`forward_<name>`). */
  readonly forwardLayer: RecurrentLayer;
  /** The backward copy (`backward_<name>`). */
  readonly backwardLayer: RecurrentLayer;
  /** The layer it was made from (its options; it is not used itself). */
  readonly layer: RecurrentLayer;
  /** How the two outputs are combined: 'concat', 'sum', 'mul' or 'ave'. */
  readonly mergeMode: MergeMode;

  constructor(args: BidirectionalArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('bidirectional: expected an options object like {layer: rnn.layers.lstm({units: 10})}');
    super(args, 'bidirectional', { layer: is.object, mergeMode: is.string });
    if (!(args.layer instanceof RecurrentLayer)) {
      throw new TypeError(`${this.name}: 'layer' must be a recurrent layer (rnn.layers.simpleRNN / lstm / gru), got ${(args.layer as { className?: string } | undefined)?.className ?? typeof args.layer}`);
    }
    const mode = args.mergeMode ?? 'concat';
    if (!MERGE_MODES.includes(mode)) {
      throw new RangeError(`${this.name}: unknown mergeMode '${String(mode)}' (expected one of: ${MERGE_MODES.join(', ')})`);
    }
    this.mergeMode = mode;
    const inner = args.layer;
    this.layer = inner;
    this.forwardLayer = inner.recreate(`forward_${inner.name}`, 0);
    this.backwardLayer = inner.recreate(`backward_${inner.name}`, 1);
    if (inner.stateful) throw new RangeError(`${this.name}: a stateful layer cannot run inside Bidirectional (its backward direction restarts at every sequence's end)`);
    if (inner.goBackwards) throw new RangeError(`${this.name}: give the inner layer without goBackwards (Bidirectional runs one direction of each)`);
    if (this.inputShape && this.inputShape.length !== 2) {
      throw new RangeError(`${this.name}: inputShape must be [timeSteps | null, features], got [${this.inputShape.join(', ')}]`);
    }
  }

  /** Whether the output is the whole sequence (the inner layer's `returnSequences`). */
  get returnSequences(): boolean {
    return this.forwardLayer.returnSequences;
  }

  outputShape(input: Shape): Shape {
    const s = this.forwardLayer.outputShape(input);
    return this.mergeMode === 'concat' ? [...s.slice(0, -1), 2 * (s[s.length - 1] as number)] : s;
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    const prefix = (l: RecurrentLayer) => l.weightSpecs(input).map((s) => ({ ...s, name: `${l.name}/${s.name}` }));
    return [...prefix(this.forwardLayer), ...prefix(this.backwardLayer)];
  }

  /** Keras: [output] or, with the inner layer's returnState, [output, forward states…, backward states…]. */
  override nodeOutputShapes(inputs: readonly Shape[], states: readonly Shape[]): Shape[] {
    if (inputs.length !== 1) throw new RangeError(`${this.name}: takes one input sequence, got ${inputs.length}`);
    const n = this.forwardLayer.stateCount;
    const names = this.forwardLayer.cell === 'lstm' ? '[forward h, forward c, backward h, backward c]' : '[forward h, backward h]';
    checkInitialState(this.name, states, 2 * n, this.forwardLayer.units, names);
    const out = this.outputShape(inputs[0]!);
    if (!this.forwardLayer.returnState) return [out];
    return [out, ...Array.from({ length: 2 * n }, () => [this.forwardLayer.units] as Shape)];
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    return (await this.callNode(g, [x], w, []))[0]!;
  }

  override async callNode(g: Graph, inputs: readonly Tensor[], w: readonly Tensor[], states: readonly Tensor[]): Promise<Tensor[]> {
    const x = inputs[0]!;
    if (g.statefulStep) {
      throw new Error(`${this.name}: predictStep cannot run a Bidirectional layer (its backward direction needs the whole sequence); use predict`);
    }
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    const n = this.forwardLayer.weightSpecs(x.shape.slice(1)).length;
    const k = this.forwardLayer.stateCount;
    const fwd = await this.forwardLayer.runRecurrent(g, x, w.slice(0, n), false, states.slice(0, k));
    const bwd = await this.backwardLayer.runRecurrent(g, x, w.slice(n), true, states.slice(k));
    const seq = this.returnSequences;
    const y = await bidirectionalMerge(g, seq ? fwd.hSeq : fwd.hLast, seq ? bwd.hSeq : bwd.hLast, this.mergeMode, seq ? x.mask : null, this.name);
    if (seq) y.mask = x.mask;
    if (!this.forwardLayer.returnState) return [y];
    const st = (o: typeof fwd) => (o.cLast ? [o.hLast, o.cLast] : [o.hLast]);
    return [y, ...st(fwd), ...st(bwd)];
  }

  /** Frees the two directions' GPU-side state (dropout RNG counters); called by model.dispose(). */
  disposeState(): void {
    this.forwardLayer.disposeState();
    this.backwardLayer.disposeState();
  }

  getConfig(): Record<string, unknown> {
    return { mergeMode: this.mergeMode, layer: serializeLayer(this.layer) };
  }
}
