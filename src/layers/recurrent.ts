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
import type { Context } from '../gpu/context';
import { getContext } from '../gpu/context';
import { readback, upload } from '../gpu/io';
import { createStorageBuffer } from '../gpu/pool';
import type { HostTensor } from '../host';
import { toHostTensor, type TensorLike } from '../host';
import { Tensor } from '../tensor';
import { rnn, gateCount, type CellType, type RnnOutputs, type RnnWeights } from '../ops/rnn';
import { dropoutMask, advanceRng } from '../ops/sequence';
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

/**
 * A layer with a recurrent state that Sequential.predictStep advances one step at a time (the
 * state stays on the GPU between calls).
 */
export interface StatefulLayer {
  /** Validates the batch size of the coming step (called before every predictStep). */
  beginStep(batch: number): void;
  /** Zeros the stored state (and forgets its batch size). */
  resetStates(): void;
  /** The stored state as host arrays ([h] or [h, c], each [batch, units]); null when there is none. */
  getState(): Promise<HostTensor[] | null>;
  /** Sets the stored state from host arrays ([h] or [h, c], each [batch, units]). */
  setState(...states: TensorLike[]): Promise<void>;
  /** Frees the GPU buffers of the state (model.dispose()). */
  disposeState(): void;
}

export function isStatefulLayer(l: unknown): l is StatefulLayer {
  return typeof (l as Partial<StatefulLayer> | null)?.beginStep === 'function';
}

/**
 * The stored recurrent state of a layer: one set of GPU buffers per batch size (so cached step
 * plans keep valid bindings), of which one is active. New buffers are zero-filled.
 */
export class StateStore {
  private byBatch = new Map<number, Tensor[]>();
  private ctx: Context | null = null;
  /** Batch size of the state in use; null after a reset (the next step may use any batch size). */
  active: number | null = null;

  constructor(
    readonly owner: string,
    /** Names and feature sizes of the states, e.g. h [H] and c [H]. */
    readonly names: readonly string[],
    readonly sizes: readonly number[],
  ) {}

  /** The state tensors for `batch` (created zero-filled on first use). */
  tensors(ctx: Context, batch: number): Tensor[] {
    if (this.ctx && this.ctx !== ctx) throw new Error(`${this.owner}: the state belongs to another GPU device`);
    this.ctx = ctx;
    let t = this.byBatch.get(batch);
    if (!t) {
      t = this.sizes.map((n, i) => {
        const buf = createStorageBuffer(ctx.device, batch * n * 4, `${this.owner}/state ${this.names[i]}`);
        return new Tensor(buf, [batch, n], 0, false, `${this.owner}/${this.names[i]}`);
      });
      this.byBatch.set(batch, t);
    }
    return t;
  }

  begin(batch: number): void {
    if (this.active !== null && this.active !== batch) {
      throw new RangeError(`${this.owner}: the stored state has batch size ${this.active} but this step has ${batch} rows; call model.resetStates() (or setState with ${batch} rows) first`);
    }
    this.active = batch;
  }

  reset(): void {
    if (this.ctx) {
      for (const ts of this.byBatch.values()) for (const t of ts) upload(this.ctx.device, t, new Float32Array(t.size));
    }
    this.active = null;
  }

  async get(): Promise<HostTensor[] | null> {
    if (this.active === null || !this.ctx) return null;
    const ts = this.byBatch.get(this.active)!;
    const data = await readback(this.ctx.device, ...ts);
    return ts.map((t, i) => ({ data: Float32Array.from(data[i]!), shape: [...t.shape] }));
  }

  async set(states: TensorLike[]): Promise<void> {
    const want = this.names.map((n, i) => `${n} [batch, ${this.sizes[i]}]`).join(', ');
    if (states.length !== this.names.length) {
      throw new RangeError(`${this.owner}.setState: expected ${this.names.length} state array${this.names.length > 1 ? 's' : ''} (${want}), got ${states.length}`);
    }
    const hosts = states.map((s, i) => toHostTensor(s, `${this.owner}.setState: ${this.names[i]}`));
    const batch = hosts[0]!.shape[0]!;
    hosts.forEach((h, i) => {
      if (h.shape.length !== 2 || h.shape[1] !== this.sizes[i] || h.shape[0] !== batch) {
        throw new RangeError(`${this.owner}.setState: ${this.names[i]} must be [${batch}, ${this.sizes[i]}] (states: ${want}), got [${h.shape.join(', ')}]`);
      }
    });
    const ctx = this.ctx ?? (await getContext());
    const ts = this.tensors(ctx, batch);
    hosts.forEach((h, i) => upload(ctx.device, ts[i]!, h.data));
    this.active = batch;
  }

  dispose(): void {
    for (const ts of this.byBatch.values()) for (const t of ts) t.buffer.destroy();
    this.byBatch.clear();
    this.active = null;
  }
}

/** Checks a dropout rate option: a number in [0, 1). */
export function dropoutRate(where: string, key: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw new RangeError(`${where}: ${key} must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Shared implementation of the three recurrent layers. */
export abstract class RecurrentLayer extends Layer implements StatefulLayer {
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
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly seed: number;
  readonly timeLoop: 'auto' | 'persistent' | 'step';
  private stateStore: StateStore | null = null;
  private rng: { ctx: Context; buffer: GPUBuffer } | null = null;
  /** The options this layer was made with (Bidirectional re-creates it for the backward direction). */
  readonly initArgs: Readonly<GatedArgs>;

  constructor(args: GatedArgs, base: string) {
    if (!args || typeof args !== 'object') throw new TypeError(`${base}: expected an options object like {units: 20}`);
    super(args, base);
    this.initArgs = { ...args };
    this.units = positiveInt(this.name, 'units', args.units);
    this.activation = parseActivation(args.activation, this.name, 'tanh');
    this.recurrentActivation = parseActivation(args.recurrentActivation, this.name, 'sigmoid');
    this.returnSequences = Boolean(args.returnSequences ?? false);
    this.returnState = Boolean(args.returnState ?? false);
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
    const out = await this.runRecurrent(g, x, w, false);
    if (!this.returnSequences) return out.hLast;
    out.hSeq.mask = x.mask; // Keras: a returnSequences RNN passes its input mask on
    return out.hSeq;
  }

  /**
   * Records the recurrent op over x with this layer's weights, dropout (training graphs), the
   * input's mask and, in Sequential.predictStep's graphs, the stored state (read at the start,
   * written back at the end). `reverse`: Bidirectional's backward direction.
   */
  async runRecurrent(g: Graph, x: Tensor, w: readonly Tensor[], reverse: boolean): Promise<RnnOutputs> {
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    const [B, T, I] = x.shape as [number, number, number];
    const seqMask = x.mask;
    if (seqMask && (seqMask.shape.length !== 2 || seqMask.shape[0] !== B || seqMask.shape[1] !== T)) {
      throw new RangeError(`${this.name}: the input mask is [${seqMask.shape.join(', ')}] but the input is [${B}, ${T}, ${I}]; expected a [${B}, ${T}] mask`);
    }
    let inputMask: Tensor | null = null;
    let recurrentMask: Tensor | null = null;
    if (g.training && (this.dropout > 0 || this.recurrentDropout > 0)) {
      const rng = this.rngBuffer(g.ctx);
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
    const state = g.statefulStep ? this.states.tensors(g.ctx, B) : null;
    const out = await rnn(g, this.opConfig(), x, this.opWeights(w), state?.[0] ?? null, state?.[1] ?? null, {
      reverse,
      inputMask,
      recurrentMask,
      seqMask,
      timeLoop: this.timeLoop,
    });
    if (state) {
      g.forward.copy(out.hLast, state[0]!);
      if (out.cLast) g.forward.copy(out.cLast, state[1]!);
    }
    return out;
  }

  /**
   * A new layer of the same class and options, named `name` and without inputShape (Keras
   * Bidirectional re-creates its layers from the config); a given dropout seed is offset so the two
   * directions draw different masks.
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
  private rngBuffer(ctx: Context): GPUBuffer {
    if (!this.rng || this.rng.ctx !== ctx) {
      this.rng = { ctx, buffer: createStorageBuffer(ctx.device, 16, `${this.name}/dropout rng`) };
    }
    return this.rng.buffer;
  }

  // ---------------------------------------------------------------- state (StatefulLayer)

  private get states(): StateStore {
    return (this.stateStore ??= new StateStore(this.name, this.cell === 'lstm' ? ['h', 'c'] : ['h'], this.cell === 'lstm' ? [this.units, this.units] : [this.units]));
  }

  beginStep(batch: number): void {
    this.states.begin(batch);
  }

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

  disposeState(): void {
    this.stateStore?.dispose();
    this.rng?.buffer.destroy();
    this.rng = null;
  }

  getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      activation: this.activation,
      recurrentActivation: this.recurrentActivation,
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      useBias: this.useBias,
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
      timeLoop: this.timeLoop,
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
