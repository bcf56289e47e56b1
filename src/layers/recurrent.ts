/**
 * Recurrent layers SimpleRNN, LSTM and GRU with Keras 3 semantics, defaults and weight layouts:
 *   kernel [I, G·H], recurrent_kernel [H, G·H], bias [G·H] (GRU with resetAfter: [2, 3H]);
 *   gate blocks LSTM i, f, c, o; GRU z, r, h (G = 1, 4, 3).
 * Input [B, T, I] (batch-major, T may vary between calls when inputShape is [null, I]); output
 * [B, T, H] with returnSequences, else [B, H]. The time loop runs in the fused WGSL kernels of
 * src/ops/rnn.ts (one input-projection GEMM, a persistent recurrent kernel, BPTT on the GPU).
 *
 * Training toolkit (docs/rnn-features.md):
 *   dropout / recurrentDropout  Keras masks (one per sample, fixed over the sequence, scaled by
 *                               1/(1-rate)), drawn on the GPU every training step; none at inference
 *   masking                     a [B, T] mask on the input tensor (rnn.layers.masking) skips steps
 *   state                       getState / setState / resetStates and Sequential.predictStep
 *                               (streaming inference from a state kept on the GPU)
 */
import type { Graph } from '../autograd/tape';
import type { HostTensor, TensorLike } from '../host';
import type { Tensor } from '../tensor';
import { rnn, gateCount, type CellType, type RnnOutputs, type RnnWeights } from '../ops/rnn';
import { dropoutMask, advanceRng, reverseTime } from '../ops/sequence';
import { parseActivation, type Activation } from '../ops/activations';
import { initialize, parseInitializer, type InitializerName } from './initializers';
import { Layer, activationOption, initializerOption, positiveInt, type LayerArgs, type Shape, type WeightSpec } from './layer';
import { is, type OptionSpec } from '../options';
import { RandomStream } from './random-stream';
import { StateStore } from './state-store';

export { StateStore } from './state-store';

/** Options of `rnn.layers.simpleRNN` (Keras `SimpleRNN`), shared by LSTM and GRU. */
export interface RecurrentArgs extends LayerArgs {
  /** Hidden units H. */
  units: number;
  /** Output/candidate activation (default tanh). */
  activation?: Activation | 'hard_sigmoid' | null;
  /** Return the whole sequence [B, T, H] (default false: the last output [B, H]). */
  returnSequences?: boolean;
  /**
   * Keras's return_state: `layer.apply(x)` returns [output, h] (LSTM [output, h, c]), the final
   * state to feed e.g. a decoder's `initialState`. A Sequential model passes only the output on.
   */
  returnState?: boolean;
  /**
   * Keras's go_backwards: process the sequence from its last step to its first; with
   * returnSequences the outputs come in that (reversed) order, as in Keras.
   */
  goBackwards?: boolean;
  /**
   * Keras's stateful: the final state of a batch is the initial state of the next one (kept on the
   * GPU) until `model.resetStates()`; every batch must then have the same size (fit does not
   * shuffle a model with stateful layers). For training on long sequences cut into consecutive
   * pieces (char-RNN style).
   */
  stateful?: boolean;
  /** Add biases (default true). */
  useBias?: boolean;
  /** Initializer of the input kernel [I, G·H] (default 'glorotUniform'). */
  kernelInitializer?: string;
  /** Initializer of the recurrent kernel [H, G·H] (default 'orthogonal'). */
  recurrentInitializer?: string;
  /** Initializer of the bias (default 'zeros'). */
  biasInitializer?: string;
  /** Fraction of the input units to drop in training, in [0, 1) (Keras `dropout`, default 0). */
  dropout?: number;
  /** Fraction of the recurrent state's units to drop in training, in [0, 1) (default 0). */
  recurrentDropout?: number;
  /** Seed of the dropout masks (default: random). */
  seed?: number;
  /**
   * How the time loop runs on the GPU (docs/design.md §6.1): 'persistent' — one dispatch per
   * chunk of up to 64 steps, a workgroup owning batch rows; 'step' — one dispatch per step
   * forward and two backward, tiled over rows × units (for wide layers on GPUs; not for GRU
   * resetAfter=false); 'auto' (default) — chosen per layer by size and adapter.
   */
  timeLoop?: 'auto' | 'persistent' | 'step';
}

/** Options of the gated layers (LSTM, GRU): a SimpleRNN's and the gates' activation. */
export interface GatedArgs extends RecurrentArgs {
  /** Gate activation (default sigmoid). 'hardSigmoid' is Keras 3's relu6(x+3)/6; 'hardSigmoidTfjs' is TensorFlow.js' default, clip(0.2x+0.5, 0, 1) (models loaded from tfjs files use it). */
  recurrentActivation?: Activation | 'hard_sigmoid' | null;
}

/** Options of `rnn.layers.lstm` (Keras `LSTM`). */
export interface LSTMArgs extends GatedArgs {
  /** Add 1 to the forget-gate bias at initialisation (Keras default true). */
  unitForgetBias?: boolean;
}

/** Options of `rnn.layers.gru` (Keras `GRU`). */
export interface GRUArgs extends GatedArgs {
  /** Apply the reset gate after the recurrent matmul (Keras 3 / cuDNN default true). */
  resetAfter?: boolean;
}

/**
 * A layer with a recurrent state that Sequential.predictStep advances one step at a time (the
 * state stays on the GPU between calls).
 */
export interface StatefulLayer {
  /** Validates the batch size of the coming step (called before every predictStep). @internal */
  beginStep(batch: number): void;
  /** Zeros the stored state (and forgets its batch size). */
  resetStates(): void;
  /** The stored state as host arrays ([h] or [h, c], each [batch, units]); null when there is none. */
  getState(): Promise<HostTensor[] | null>;
  /** Sets the stored state from host arrays ([h] or [h, c], each [batch, units]). */
  setState(...states: TensorLike[]): Promise<void>;
  /** Frees the GPU buffers of the state (model.dispose()). @internal */
  disposeState(): void;
}

/** Checks a layer's initial-state shapes at `apply` time: `count` tensors of [units] (names them for errors). */
export function checkInitialState(where: string, states: readonly Shape[], count: number, units: number, names: string): void {
  if (!states.length) return;
  const got = states.map((s) => `(None, ${s.map((d) => (d === null ? 'None' : d)).join(', ')})`).join(', ');
  if (states.length !== count || states.some((s) => s.length !== 1 || s[0] !== units)) {
    throw new RangeError(`${where}: initialState must be ${names}, ${count} tensor(s) of shape (None, ${units}); got ${states.length}: ${got}`);
  }
}

export function isStatefulLayer(l: unknown): l is StatefulLayer {
  return typeof (l as Partial<StatefulLayer> | null)?.beginStep === 'function';
}

/** The options of SimpleRNN (LSTM and GRU add theirs). */
export const SIMPLE_RNN_OPTIONS: OptionSpec = {
  units: is.positiveInt, activation: activationOption, returnSequences: is.boolean, returnState: is.boolean,
  goBackwards: is.boolean, stateful: is.boolean, useBias: is.boolean, kernelInitializer: initializerOption,
  recurrentInitializer: initializerOption, biasInitializer: initializerOption, dropout: is.any,
  recurrentDropout: is.any, seed: is.number, timeLoop: is.string,
};
const GATED_OPTIONS: OptionSpec = { ...SIMPLE_RNN_OPTIONS, recurrentActivation: activationOption };
const LSTM_OPTIONS: OptionSpec = { ...GATED_OPTIONS, unitForgetBias: is.boolean };
const GRU_OPTIONS: OptionSpec = { ...GATED_OPTIONS, resetAfter: is.boolean };

/** Checks a dropout rate option: a number in [0, 1). */
export function dropoutRate(where: string, key: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new RangeError(`${where}: ${key} must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * What SimpleRNN, LSTM and GRU share: their options (as read-only properties), the Keras 3 weight
 * layouts and the stored state of streaming inference (`getState` / `setState` / `resetStates`).
 */
export abstract class RecurrentLayer extends Layer implements StatefulLayer {
  /** Which cell: 'simpleRNN', 'lstm' or 'gru'. */
  abstract readonly cell: CellType;
  /** Hidden units H. */
  readonly units: number;
  /** Output/candidate activation. */
  readonly activation: Activation;
  /** Gate activation (LSTM, GRU). */
  readonly recurrentActivation: Activation;
  /** Whether the output is the whole sequence [B, T, H] (else the last step [B, H]). */
  readonly returnSequences: boolean;
  /** Whether `apply` also returns the final state. */
  readonly returnState: boolean;
  /** Whether the sequence is processed from its last step to its first. */
  readonly goBackwards: boolean;
  /** Whether the final state of a batch is the initial state of the next. */
  readonly stateful: boolean;
  /** Whether the layer has biases. */
  readonly useBias: boolean;
  /** The input kernel's initializer. */
  readonly kernelInitializer: InitializerName;
  /** The recurrent kernel's initializer. */
  readonly recurrentInitializer: InitializerName;
  /** The bias's initializer. */
  readonly biasInitializer: InitializerName;
  /** Input dropout rate in training. */
  readonly dropout: number;
  /** Recurrent-state dropout rate in training. */
  readonly recurrentDropout: number;
  /** Seed of the dropout masks. */
  readonly seed: number;
  /** How the time loop runs on the GPU ('auto' chooses per layer). */
  readonly timeLoop: 'auto' | 'persistent' | 'step';
  private stateStore: StateStore | null = null;
  /** The dropout masks' random stream. @internal */
  readonly randomStream: RandomStream;
  /** The options this layer was made with (Bidirectional re-creates it for the backward direction). @internal */
  readonly initArgs: Readonly<GatedArgs>;

  /** Made by the subclasses (SimpleRNN, LSTM, GRU) with their own options' spec. @internal */
  constructor(args: GatedArgs, base: string, spec: OptionSpec) {
    if (!args || typeof args !== 'object') throw new TypeError(`${base}: expected an options object like {units: 20}`);
    super(args, base, spec);
    this.initArgs = { ...args };
    this.randomStream = new RandomStream(`${this.name}/dropout rng`);
    this.units = positiveInt(this.name, 'units', args.units);
    this.activation = parseActivation(args.activation, this.name, 'tanh');
    this.recurrentActivation = parseActivation(args.recurrentActivation, this.name, 'sigmoid');
    this.returnSequences = args.returnSequences ?? false;
    this.returnState = args.returnState ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.stateful = args.stateful ?? false;
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = parseInitializer(args.kernelInitializer, this.name, 'glorotUniform');
    this.recurrentInitializer = parseInitializer(args.recurrentInitializer, this.name, 'orthogonal');
    this.biasInitializer = parseInitializer(args.biasInitializer, this.name, 'zeros');
    this.dropout = dropoutRate(this.name, 'dropout', args.dropout);
    this.recurrentDropout = dropoutRate(this.name, 'recurrentDropout', args.recurrentDropout);
    if (args.seed !== undefined && !(Number.isInteger(args.seed) && args.seed >= 0 && args.seed <= 0xffffffff)) {
      throw new RangeError(`${this.name}: seed must be an integer in [0, 2^32-1], got ${JSON.stringify(args.seed)}`);
    }
    this.seed = args.seed ?? Math.floor(Math.random() * 0xffffffff);
    const loop = args.timeLoop ?? 'auto';
    if (loop !== 'auto' && loop !== 'persistent' && loop !== 'step') {
      throw new RangeError(`${this.name}: timeLoop must be 'auto', 'persistent' or 'step', got ${JSON.stringify(args.timeLoop)}`);
    }
    this.timeLoop = loop;
    if (this.inputShape && this.inputShape.length !== 2) {
      throw new RangeError(`${this.name}: inputShape must be [timeSteps | null, features], got [${this.inputShape.join(', ')}]`);
    }
  }

  protected get gates(): number {
    return gateCount(this.cell);
  }

  /** GRU: whether the reset gate applies after the recurrent matmul (false for the other cells). */
  get resetAfter(): boolean {
    return false;
  }

  private features(input: Shape): number {
    if (input.length !== 2) {
      throw new RangeError(`${this.name}: expects input [batch, timeSteps, features], got ${input.length + 1}-D input [batch, ${input.join(', ')}]`);
    }
    const f = input[1];
    if (f === null || f === undefined) throw new RangeError(`${this.name}: the feature dimension must be known, got [batch, ${input.join(', ')}]`);
    return f;
  }

  outputShape(input: Shape): Shape {
    this.features(input);
    if (input[0] === 0) throw new RangeError(`${this.name}: sequence length 0`);
    return this.returnSequences ? [input[0]!, this.units] : [this.units];
  }

  override weightSpecs(input: Shape): WeightSpec[] {
    const I = this.features(input);
    const H = this.units;
    const GH = this.gates * H;
    const specs: WeightSpec[] = [
      { name: 'kernel', shape: [I, GH], init: this.kernelInitializer },
      { name: 'recurrent_kernel', shape: [H, GH], init: this.recurrentInitializer },
    ];
    if (this.useBias) specs.push(this.biasSpec(H));
    return specs;
  }

  protected biasSpec(H: number): WeightSpec {
    return { name: 'bias', shape: [this.gates * H], init: this.biasInitializer };
  }

  /** Number of state tensors: [h] or, for LSTM, [h, c]. */
  get stateCount(): number {
    return this.cell === 'lstm' ? 2 : 1;
  }

  /** [output] or, with returnState, [output, h] / [output, h, c]; initialState must be stateCount [units] tensors. @internal */
  override nodeOutputShapes(inputs: readonly Shape[], states: readonly Shape[]): Shape[] {
    if (inputs.length !== 1) throw new RangeError(`${this.name}: takes one input sequence, got ${inputs.length}`);
    checkInitialState(this.name, states, this.stateCount, this.units, this.cell === 'lstm' ? '[h, c]' : '[h]');
    const out = this.outputShape(inputs[0]!);
    return this.returnState ? [out, ...Array.from({ length: this.stateCount }, () => [this.units] as Shape)] : [out];
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    return (await this.callNode(g, [x], w, []))[0]!;
  }

  override async callNode(g: Graph, inputs: readonly Tensor[], w: readonly Tensor[], states: readonly Tensor[]): Promise<Tensor[]> {
    const x = inputs[0]!;
    const out = await this.runRecurrent(g, x, w, this.goBackwards, states);
    let main = out.hLast;
    if (this.returnSequences) {
      // Keras: the output sequence comes in processing order (reversed with goBackwards); the
      // input mask is passed on unchanged (as Keras's RNN.compute_mask does).
      main = this.goBackwards ? await reverseTime(g, out.hSeq) : out.hSeq;
      main.mask = x.mask;
    }
    if (!this.returnState) return [main];
    return out.cLast ? [main, out.hLast, out.cLast] : [main, out.hLast];
  }

  /**
   * Records the recurrent op over x with this layer's weights, dropout (training graphs), the
   * input's mask and its initial state: `init` (from `initialState`), or the stored state in
   * predictStep plans and for `stateful` layers (read at the start, written back at the end), else
   * zeros. `reverse`: walk time backwards (goBackwards, Bidirectional's backward direction).
   * @internal
   */
  async runRecurrent(g: Graph, x: Tensor, w: readonly Tensor[], reverse: boolean, init: readonly Tensor[] = []): Promise<RnnOutputs> {
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    const [B, T, I] = x.shape as [number, number, number];
    const seqMask = x.mask;
    if (seqMask && (seqMask.shape.length !== 2 || seqMask.shape[0] !== B || seqMask.shape[1] !== T)) {
      throw new RangeError(`${this.name}: the input mask is [${seqMask.shape.join(', ')}] but the input is [${B}, ${T}, ${I}]; expected a [${B}, ${T}] mask`);
    }
    if (init.length && (init.length !== this.stateCount || init.some((t) => t.shape.length !== 2 || t.shape[0] !== B || t.shape[1] !== this.units))) {
      throw new RangeError(`${this.name}: initialState must be ${this.stateCount} tensor(s) of [${B}, ${this.units}], got ${init.map((t) => `[${t.shape.join(', ')}]`).join(', ')}`);
    }
    let inputMask: Tensor | null = null;
    let recurrentMask: Tensor | null = null;
    if (g.training && (this.dropout > 0 || this.recurrentDropout > 0)) {
      const rng = this.randomStream.buffer(g.ctx);
      if (this.dropout > 0) {
        inputMask = g.alloc([B, I], `${this.name}/dropout mask`);
        await dropoutMask(g, inputMask, this.dropout, this.seed, 0, rng);
      }
      if (this.recurrentDropout > 0) {
        recurrentMask = g.alloc([B, this.units], `${this.name}/recurrent dropout mask`);
        await dropoutMask(g, recurrentMask, this.recurrentDropout, this.seed, 1, rng);
      }
      await advanceRng(g, rng);
    }
    // The stored state (predictStep, stateful): copied into graph tensors first, because the op's
    // backward reads its initial state after the forward has written the new one back.
    const stored = !init.length && (g.statefulStep || this.stateful) ? this.states.tensors(g.ctx, B) : null;
    const start = stored ? stored.map((s, i) => {
      const t = g.alloc([B, this.units], `${this.name}/stored state ${i}`);
      g.forward.copy(s, t);
      return t;
    }) : init;
    const out = await rnn(g, this.opConfig(), x, this.opWeights(w), start[0] ?? null, start[1] ?? null, {
      reverse,
      inputMask,
      recurrentMask,
      seqMask,
      timeLoop: this.timeLoop,
    });
    if (stored) {
      g.forward.copy(out.hLast, stored[0]!);
      if (out.cLast) g.forward.copy(out.cLast, stored[1]!);
    }
    return out;
  }

  /**
   * A new layer of the same class and options, named `name` and without inputShape (Keras
   * Bidirectional re-creates its layers from the config); a given dropout seed is offset so the two
   * directions draw different masks.
   * @internal
   */
  recreate(name: string, seedOffset: number): RecurrentLayer {
    const Ctor = this.constructor as new (a: GatedArgs) => RecurrentLayer;
    const { inputShape: _ignored, ...rest } = this.initArgs;
    return new Ctor({ ...rest, name, seed: (this.seed + seedOffset) >>> 0 });
  }

  protected opConfig() {
    return {
      cell: this.cell,
      units: this.units,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      resetAfter: this.resetAfter,
      useBias: this.useBias,
    };
  }

  protected opWeights(w: readonly Tensor[]): RnnWeights {
    return { kernel: w[0]!, recurrentKernel: w[1]!, bias: this.useBias ? w[2]! : null };
  }

  /** The layer's dropout RNG counter (a 16-byte GPU buffer, zero at creation). */

  // ---------------------------------------------------------------- state (StatefulLayer)

  private get states(): StateStore {
    return (this.stateStore ??= new StateStore(this.name, this.cell === 'lstm' ? ['h', 'c'] : ['h'], this.cell === 'lstm' ? [this.units, this.units] : [this.units]));
  }

  /** @internal */
  beginStep(batch: number): void {
    this.states.begin(batch);
  }

  /** Zeros the stored state of streaming inference (Keras `layer.reset_states()`). */
  resetStates(): void {
    this.stateStore?.reset();
  }

  /** The stored state ([h] or, for LSTM, [h, c]; each [batch, units]), or null before any step. */
  getState(): Promise<HostTensor[] | null> {
    return this.states.get();
  }

  /** Sets the stored state: h [batch, units] (and c [batch, units] for LSTM). */
  setState(...states: TensorLike[]): Promise<void> {
    return this.states.set(states);
  }

  /** @internal */
  disposeState(): void {
    this.stateStore?.dispose();
    this.randomStream.dispose();
  }

  /** Configuration: every option the layer was made with (defaults filled in), as its factory takes them. */
  getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      activation: this.activation,
      ...(this.cell === 'simpleRNN' ? {} : { recurrentActivation: this.recurrentActivation }),
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      recurrentInitializer: this.recurrentInitializer,
      biasInitializer: this.biasInitializer,
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
      timeLoop: this.timeLoop,
    };
  }
}

/** Keras `SimpleRNN`, a fully connected RNN: h_t = activation(x_t·W + h_{t-1}·U + b). Made by `rnn.layers.simpleRNN`. */
export class SimpleRNN extends RecurrentLayer {
  readonly className = 'SimpleRNN';
  readonly cell = 'simpleRNN' as const;
  constructor(args: RecurrentArgs) {
    super(args, 'simple_rnn', SIMPLE_RNN_OPTIONS);
  }
}

/** Keras `LSTM` (Hochreiter & Schmidhuber) with Keras 3 gate order i, f, c, o and weight layout. Made by `rnn.layers.lstm`. */
export class LSTM extends RecurrentLayer {
  readonly className = 'LSTM';
  readonly cell = 'lstm' as const;
  /** Whether the forget gate's bias starts at 1. */
  readonly unitForgetBias: boolean;
  constructor(args: LSTMArgs) {
    super(args, 'lstm', LSTM_OPTIONS);
    this.unitForgetBias = args.unitForgetBias ?? true;
  }

  protected override biasSpec(H: number): WeightSpec {
    const spec = super.biasSpec(H);
    if (!this.unitForgetBias) return spec;
    // Keras: bias = [init(H), ones(H), init(2H)] (forget gate block starts at 1).
    return {
      ...spec,
      initValues: (rng) => {
        const v = new Float32Array(4 * H);
        v.set(initialize(this.biasInitializer, [H], rng), 0);
        v.fill(1, H, 2 * H);
        v.set(initialize(this.biasInitializer, [2 * H], rng), 2 * H);
        return v;
      },
    };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), unitForgetBias: this.unitForgetBias };
  }
}

/** Keras `GRU` with Keras 3 gate order z, r, h; `resetAfter` true (default, cuDNN-compatible) or false. Made by `rnn.layers.gru`. */
export class GRU extends RecurrentLayer {
  readonly className = 'GRU';
  readonly cell = 'gru' as const;
  private readonly _resetAfter: boolean;
  constructor(args: GRUArgs) {
    super(args, 'gru', GRU_OPTIONS);
    this._resetAfter = args.resetAfter ?? true;
    if (!this._resetAfter && this.timeLoop === 'step') {
      throw new RangeError(`${this.name}: timeLoop 'step' has no kernels for resetAfter=false (use 'auto' or 'persistent')`);
    }
  }

  override get resetAfter(): boolean {
    return this._resetAfter;
  }

  protected override biasSpec(H: number): WeightSpec {
    // resetAfter: separate input and recurrent biases, [2, 3H]
    return this._resetAfter ? { name: 'bias', shape: [2, 3 * H], init: this.biasInitializer } : super.biasSpec(H);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), resetAfter: this._resetAfter };
  }
}
