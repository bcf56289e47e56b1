/**
 * Recurrent layers SimpleRNN, LSTM and GRU with Keras 3 semantics, defaults and weight layouts:
 *   kernel [I, G·H], recurrent_kernel [H, G·H], bias [G·H] (GRU with resetAfter: [2, 3H]);
 *   gate blocks LSTM i, f, c, o; GRU z, r, h (G = 1, 4, 3).
 * Input [B, T, I] (batch-major, T may vary between calls when inputShape is [null, I]); output
 * [B, T, H] with returnSequences, else [B, H]. The time loop runs in the fused WGSL kernels of
 * src/ops/rnn.ts (one input-projection GEMM, a persistent recurrent kernel, BPTT on the GPU).
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { rnn, gateCount, type CellType } from '../ops/rnn';
import { parseActivation, type Activation } from '../ops/activations';
import { initialize, parseInitializer, type InitializerName } from './initializers';
import { Layer, positiveInt, type LayerArgs, type Shape, type WeightSpec } from './layer';

export interface RecurrentArgs extends LayerArgs {
  /** Hidden units H. */
  units: number;
  /** Output/candidate activation (default tanh). */
  activation?: Activation | 'hard_sigmoid' | null;
  /** Return the whole sequence [B, T, H] (default false: the last output [B, H]). */
  returnSequences?: boolean;
  /**
   * Keras's return_state. A Sequential model passes only the main output on, so this matters for
   * `layer.apply()` users; it is validated and recorded in the config.
   */
  returnState?: boolean;
  useBias?: boolean;
  kernelInitializer?: string;
  recurrentInitializer?: string;
  biasInitializer?: string;
}

export interface GatedArgs extends RecurrentArgs {
  /** Gate activation (default sigmoid; tfjs's default hardSigmoid is available). */
  recurrentActivation?: Activation | 'hard_sigmoid' | null;
}

export interface LSTMArgs extends GatedArgs {
  /** Add 1 to the forget-gate bias at initialisation (Keras default true). */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends GatedArgs {
  /** Apply the reset gate after the recurrent matmul (Keras 3 / cuDNN default true). */
  resetAfter?: boolean;
}

/** Shared implementation of the three recurrent layers. */
export abstract class RecurrentLayer extends Layer {
  abstract readonly cell: CellType;
  readonly units: number;
  readonly activation: Activation;
  readonly recurrentActivation: Activation;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerName;
  readonly recurrentInitializer: InitializerName;
  readonly biasInitializer: InitializerName;

  constructor(args: GatedArgs, base: string) {
    if (!args || typeof args !== 'object') throw new TypeError(`${base}: expected an options object like {units: 20}`);
    super(args, base);
    this.units = positiveInt(this.name, 'units', args.units);
    this.activation = parseActivation(args.activation, this.name, 'tanh');
    this.recurrentActivation = parseActivation(args.recurrentActivation, this.name, 'sigmoid');
    this.returnSequences = Boolean(args.returnSequences ?? false);
    this.returnState = Boolean(args.returnState ?? false);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = parseInitializer(args.kernelInitializer, this.name, 'glorotUniform');
    this.recurrentInitializer = parseInitializer(args.recurrentInitializer, this.name, 'orthogonal');
    this.biasInitializer = parseInitializer(args.biasInitializer, this.name, 'zeros');
    if (this.inputShape && this.inputShape.length !== 2) {
      throw new RangeError(`${this.name}: inputShape must be [timeSteps | null, features], got [${this.inputShape.join(', ')}]`);
    }
  }

  protected get gates(): number {
    return gateCount(this.cell);
  }

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

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    const out = await rnn(
      g,
      {
        cell: this.cell,
        units: this.units,
        activation: this.activation,
        recurrentActivation: this.recurrentActivation,
        resetAfter: this.resetAfter,
        useBias: this.useBias,
      },
      x,
      { kernel: w[0]!, recurrentKernel: w[1]!, bias: this.useBias ? w[2]! : null },
    );
    return this.returnSequences ? out.hSeq : out.hLast;
  }

  getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      useBias: this.useBias,
    };
  }
}

/** Fully connected RNN: h_t = activation(x_t·W + h_{t-1}·U + b). */
export class SimpleRNN extends RecurrentLayer {
  readonly className = 'SimpleRNN';
  readonly cell = 'simpleRNN' as const;
  constructor(args: RecurrentArgs) {
    super(args, 'simple_rnn');
  }
}

/** LSTM (Hochreiter & Schmidhuber) with Keras 3 gate order i, f, c, o. */
export class LSTM extends RecurrentLayer {
  readonly className = 'LSTM';
  readonly cell = 'lstm' as const;
  readonly unitForgetBias: boolean;
  constructor(args: LSTMArgs) {
    super(args, 'lstm');
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

/** GRU with Keras 3 gate order z, r, h; resetAfter true (default, cuDNN-compatible) or false. */
export class GRU extends RecurrentLayer {
  readonly className = 'GRU';
  readonly cell = 'gru' as const;
  private readonly _resetAfter: boolean;
  constructor(args: GRUArgs) {
    super(args, 'gru');
    this._resetAfter = args.resetAfter ?? true;
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
