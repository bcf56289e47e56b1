/**
 * Custom recurrent cells (Keras `keras.layers.RNN(cell)`): a cell is a small user-composed graph of
 * the library's differentiable ops (`cellOps`) that maps (x_t, states) to (output, new states).
 * `RNN` runs it step by step: for every t it slices x_t, records the cell's ops and writes the
 * output into the sequence, so a training step has T × (the cell's ops) dispatches forward (and
 * about as many backward), against a handful for the fused SimpleRNN / LSTM / GRU kernels. That is
 * fine for experiments such as the chapter's layer-normalized cell; use the built-in layers where
 * speed matters. Gradients through time come from the tape (each op's backward), so any cell built
 * from differentiable ops trains.
 *
 * Shipped cell: `LNSimpleRNNCell` (chapter experiment J): z = x_t·K + b + h_{t-1}·U (SimpleRNNCell
 * without activation) → LayerNormalization (gamma, beta, epsilon 1e-3) → tanh; the normalized,
 * activated output is also the new state. Weights in Keras order: simple_rnn_cell/kernel,
 * simple_rnn_cell/recurrent_kernel, simple_rnn_cell/bias, layer_normalization/gamma,
 * layer_normalization/beta.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import type { HostTensor } from '../host';
import type { TensorLike } from '../host';
import { matmul } from '../ops/matmul';
import { activation, add, mul, biasAdd } from '../ops/elementwise';
import { layerNorm } from '../ops/normalization';
import { takeStep, putStep } from '../ops/sequence';
import { parseActivation, type Activation } from '../ops/activations';
import { parseInitializer, type InitializerName } from './initializers';
import { StateStore, type StatefulLayer } from './recurrent';
import { Layer, positiveInt, type LayerArgs, type Shape, type WeightSpec } from './layer';

/** The differentiable ops a custom cell may compose (all record their backward on the tape). */
export const cellOps = { matmul, add, mul, biasAdd, activation, layerNorm };

/** What one step of a cell returns. */
export interface CellStep {
  /** [B, outputSize] */
  output: Tensor;
  /** The new states, [B, stateSize[i]] each. */
  states: Tensor[];
}

/** A recurrent cell for `rnn.layers.rnn({cell})`. */
export interface RecurrentCell {
  /** Keras-style class name (summary, config). */
  readonly className: string;
  /** Feature size of each state (initial states are zeros). */
  readonly stateSize: readonly number[];
  readonly outputSize: number;
  /** The cell's weights for an input feature size, in Keras order. */
  weightSpecs(inputSize: number): WeightSpec[];
  /** One step: x [B, I], states [B, stateSize[i]], weights in weightSpecs' order. */
  step(g: Graph, x: Tensor, states: readonly Tensor[], weights: readonly Tensor[]): Promise<CellStep>;
  getConfig(): Record<string, unknown>;
}

export interface RNNArgs extends LayerArgs {
  cell: RecurrentCell;
  /** Return the whole output sequence [B, T, outputSize] (default false: the last output). */
  returnSequences?: boolean;
}

function isCell(c: unknown): c is RecurrentCell {
  const k = c as Partial<RecurrentCell> | null;
  return !!k && typeof k.step === 'function' && typeof k.weightSpecs === 'function' && Array.isArray(k.stateSize) && typeof k.outputSize === 'number';
}

/** Keras `RNN(cell)`: runs a custom cell over the sequence, one recorded step per time step. */
export class RNN extends Layer implements StatefulLayer {
  readonly className = 'RNN';
  readonly cell: RecurrentCell;
  readonly returnSequences: boolean;
  private stateStore: StateStore | null = null;

  constructor(args: RNNArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('rnn: expected an options object like {cell: rnn.layers.lnSimpleRNNCell({units: 20})}');
    super(args, 'rnn');
    if (!isCell(args.cell)) {
      throw new TypeError(`${this.name}: 'cell' must be a recurrent cell ({stateSize, outputSize, weightSpecs(), step()}), e.g. rnn.layers.lnSimpleRNNCell({units: 20})`);
    }
    this.cell = args.cell;
    for (const n of [...this.cell.stateSize, this.cell.outputSize]) positiveInt(`${this.name} (${this.cell.className})`, 'state and output sizes', n);
    this.returnSequences = Boolean(args.returnSequences ?? false);
    if (this.inputShape && this.inputShape.length !== 2) {
      throw new RangeError(`${this.name}: inputShape must be [timeSteps | null, features], got [${this.inputShape.join(', ')}]`);
    }
  }

  private features(input: Shape): number {
    const f = input[1];
    if (input.length !== 2 || f === null || f === undefined) {
      throw new RangeError(`${this.name}: expects input [batch, timeSteps, features] with known features, got [batch, ${input.join(', ')}]`);
    }
    return f;
  }

  outputShape(input: Shape): Shape {
    this.features(input);
    return this.returnSequences ? [input[0]!, this.cell.outputSize] : [this.cell.outputSize];
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    return this.cell.weightSpecs(this.features(input));
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    if (x.mask) throw new Error(`${this.name}: custom cells (${this.cell.className}) do not support masking; use SimpleRNN / LSTM / GRU after rnn.layers.masking`);
    const [B, T] = x.shape as [number, number, number];
    const stored = g.statefulStep ? this.states.tensors(g.ctx, B) : null;
    let states: Tensor[] = stored ?? this.cell.stateSize.map((n, i) => {
      const s = g.alloc([B, n], `${this.name}/initial state ${i}`);
      g.forward.clear(s);
      return s;
    });
    const seq = this.returnSequences ? g.alloc([B, T, this.cell.outputSize], `${this.name}/outputs`, true) : null;
    let last: Tensor | null = null;
    for (let t = 0; t < T; t++) {
      const xt = await takeStep(g, x, t);
      const r = await this.cell.step(g, xt, states, w);
      if (r.output.shape.length !== 2 || r.output.shape[0] !== B || r.output.shape[1] !== this.cell.outputSize) {
        throw new RangeError(`${this.name}: ${this.cell.className}.step returned an output of shape [${r.output.shape.join(', ')}], expected [${B}, ${this.cell.outputSize}]`);
      }
      if (r.states.length !== states.length || r.states.some((s, i) => s.size !== B * this.cell.stateSize[i]!)) {
        throw new RangeError(`${this.name}: ${this.cell.className}.step returned states [${r.states.map((s) => `[${s.shape.join(', ')}]`).join(', ')}], expected ${this.cell.stateSize.map((n) => `[${B}, ${n}]`).join(', ')}`);
      }
      if (seq) await putStep(g, r.output, seq, t);
      states = r.states;
      last = r.output;
    }
    if (stored) states.forEach((s, i) => g.forward.copy(s, stored[i]!));
    return seq ?? last!;
  }

  // ---------------------------------------------------------------- state (StatefulLayer)

  private get states(): StateStore {
    return (this.stateStore ??= new StateStore(this.name, this.cell.stateSize.map((_, i) => (i === 0 ? 'h' : `state${i}`)), this.cell.stateSize));
  }

  beginStep(batch: number): void {
    this.states.begin(batch);
  }

  resetStates(): void {
    this.stateStore?.reset();
  }

  getState(): Promise<HostTensor[] | null> {
    return this.states.get();
  }

  setState(...states: TensorLike[]): Promise<void> {
    return this.states.set(states);
  }

  disposeState(): void {
    this.stateStore?.dispose();
  }

  getConfig(): Record<string, unknown> {
    return { returnSequences: this.returnSequences, cell: { className: this.cell.className, config: this.cell.getConfig() } };
  }
}

export interface LNSimpleRNNCellArgs {
  units: number;
  /** Applied after the normalization (default tanh, as in the chapter). */
  activation?: Activation | 'hard_sigmoid' | null;
  /** LayerNormalization epsilon (Keras default 1e-3). */
  epsilon?: number;
  kernelInitializer?: string;
  recurrentInitializer?: string;
  biasInitializer?: string;
}

/**
 * The chapter's layer-normalized SimpleRNN cell (Géron, Hands-On ML, ch. 15 "LNSimpleRNNCell"):
 * activation(LayerNorm(x_t·K + b + h_{t-1}·U)); output = new state.
 */
export class LNSimpleRNNCell implements RecurrentCell {
  readonly className = 'LNSimpleRNNCell';
  readonly units: number;
  readonly activation: Activation;
  readonly epsilon: number;
  readonly stateSize: readonly number[];
  readonly outputSize: number;
  private readonly inits: [InitializerName, InitializerName, InitializerName];

  constructor(args: LNSimpleRNNCellArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('lnSimpleRNNCell: expected an options object like {units: 20}');
    this.units = positiveInt('lnSimpleRNNCell', 'units', args.units);
    this.activation = parseActivation(args.activation, 'lnSimpleRNNCell', 'tanh');
    const eps = args.epsilon ?? 1e-3;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps <= 0) throw new RangeError(`lnSimpleRNNCell: epsilon must be a finite number > 0, got ${eps}`);
    this.epsilon = eps;
    this.stateSize = [this.units];
    this.outputSize = this.units;
    this.inits = [
      parseInitializer(args.kernelInitializer, 'lnSimpleRNNCell', 'glorotUniform'),
      parseInitializer(args.recurrentInitializer, 'lnSimpleRNNCell', 'orthogonal'),
      parseInitializer(args.biasInitializer, 'lnSimpleRNNCell', 'zeros'),
    ];
  }

  weightSpecs(inputSize: number): WeightSpec[] {
    const H = this.units;
    return [
      { name: 'simple_rnn_cell/kernel', shape: [inputSize, H], init: this.inits[0] },
      { name: 'simple_rnn_cell/recurrent_kernel', shape: [H, H], init: this.inits[1] },
      { name: 'simple_rnn_cell/bias', shape: [H], init: this.inits[2] },
      { name: 'layer_normalization/gamma', shape: [H], init: 'ones' },
      { name: 'layer_normalization/beta', shape: [H], init: 'zeros' },
    ];
  }

  async step(g: Graph, x: Tensor, states: readonly Tensor[], w: readonly Tensor[]): Promise<CellStep> {
    const [kernel, recurrentKernel, bias, gamma, beta] = w as [Tensor, Tensor, Tensor, Tensor, Tensor];
    const z = await cellOps.add(g, await cellOps.matmul(g, x, kernel, bias, 'simple_rnn_cell'), await cellOps.matmul(g, states[0]!, recurrentKernel, null, 'simple_rnn_cell/recurrent'));
    const n = await cellOps.layerNorm(g, z, gamma, beta, this.epsilon, 'layer_normalization');
    const h = await cellOps.activation(g, n, this.activation);
    return { output: h, states: [h] };
  }

  getConfig(): Record<string, unknown> {
    return { units: this.units, activation: this.activation, epsilon: this.epsilon };
  }
}
