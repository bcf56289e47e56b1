/**
 * Custom recurrent cells (Keras `keras.layers.RNN(cell)`): a cell is a small user-composed graph of
 * the library's differentiable ops (`cellOps`) that maps (x_t, states) to (output, new states).
 *
 * `RNN` compiles the cell into fused kernels (src/ops/cell-rnn.ts): it traces `step` once on
 * symbolic tensors (every cellOps call records a node instead of dispatching), generates one
 * persistent time-loop WGSL kernel for the forward pass and one for BPTT from that op graph, and
 * runs the projections of x and the weight gradients of all steps as GEMMs — O(⌈T/64⌉) dispatches
 * per layer, like the built-in SimpleRNN / LSTM / GRU, with masking and dropout. A cell that does
 * anything else in `step` (an op outside cellOps, GPU commands) cannot be traced: it runs step by
 * step instead — for every t it slices x_t, records the cell's ops and writes the output into the
 * sequence (T × its ops dispatches, no masking or dropout) — and the layer says why once
 * (`layer.fusion`). Gradients through time then come from the tape.
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
import { activation, add, mul, sub, scale, biasAdd } from '../ops/elementwise';
import { layerNorm } from '../ops/normalization';
import { concat, slice, split } from '../ops/concat';
import { takeStep, putStep, dropoutMask, advanceRng } from '../ops/sequence';
import { parseActivation, type Activation } from '../ops/activations';
import { CellCompileError, isCellTracer } from '../ops/cell-graph';
import { cellRnn, compileCell, type CompiledCell } from '../ops/cell-rnn';
import { parseInitializer, type InitializerName } from './initializers';
import { StateStore, dropoutRate, type StatefulLayer } from './recurrent';
import { Layer, activationOption, initializerOption, positiveInt, type LayerArgs, type Shape, type WeightSpec } from './layer';
import { checkOptions, is } from '../options';
import { RandomStream } from './random-stream';

/**
 * The differentiable ops a custom cell may compose (all record their backward on the tape). Each
 * also works on the tracer that compiles a cell (then it records a node of the cell's op graph).
 * Row values are [B, n]; weights may be matmul's right operand, a bias, gamma or beta (or a slice
 * of one along its first axis).
 *
 * @example
 * ```ts
 * // a minimal cell: h_t = tanh(x_t·K + h_{t-1}·U + b)
 * const cell: rnn.RecurrentCell = {
 *   className: 'MyCell', stateSize: [8], outputSize: 8,
 *   weightSpecs: (inputSize) => [
 *     { name: 'kernel', shape: [inputSize, 8], init: 'glorotUniform' },
 *     { name: 'recurrent_kernel', shape: [8, 8], init: 'orthogonal' },
 *     { name: 'bias', shape: [8], init: 'zeros' },
 *   ],
 *   async step(g, x, [h], [k, u, b]) {
 *     const z = await rnn.cellOps.add(g, await rnn.cellOps.matmul(g, x, k, b), await rnn.cellOps.matmul(g, h, u));
 *     const y = await rnn.cellOps.activation(g, z, 'tanh');
 *     return { output: y, states: [y] };
 *   },
 *   getConfig: () => ({ units: 8 }),
 * };
 * const layer = rnn.layers.rnn({ cell, inputShape: [null, 1] });
 * ```
 */
export const cellOps = {
  /** a [B, K] · w [K, N] (+ bias [N]). */
  matmul: (g: Graph, a: Tensor, b: Tensor, bias: Tensor | null = null, name?: string): Promise<Tensor> =>
    isCellTracer(g) ? Promise.resolve(g.matmul(a, b, bias, name)) : matmul(g, a, b, bias, name),
  /** Elementwise sum (same shapes). */
  add: (g: Graph, a: Tensor, b: Tensor): Promise<Tensor> => (isCellTracer(g) ? Promise.resolve(g.binary('add', a, b)) : add(g, a, b)),
  /** Elementwise difference a − b (same shapes). */
  sub: (g: Graph, a: Tensor, b: Tensor): Promise<Tensor> => (isCellTracer(g) ? Promise.resolve(g.binary('sub', a, b)) : sub(g, a, b)),
  /** Elementwise product (same shapes). */
  mul: (g: Graph, a: Tensor, b: Tensor): Promise<Tensor> => (isCellTracer(g) ? Promise.resolve(g.binary('mul', a, b)) : mul(g, a, b)),
  /** x · factor + shift (scalars), e.g. 1 - z = scale(z, -1, 1). */
  scale: (g: Graph, x: Tensor, factor: number, shift = 0, name?: string): Promise<Tensor> =>
    isCellTracer(g) ? Promise.resolve(g.scale(x, factor, shift, name)) : scale(g, x, factor, shift, name),
  /** x [B, n] + bias [n]. */
  biasAdd: (g: Graph, x: Tensor, bias: Tensor): Promise<Tensor> => (isCellTracer(g) ? Promise.resolve(g.biasAdd(x, bias)) : biasAdd(g, x, bias)),
  /** An activation by name: 'tanh', 'sigmoid', 'relu', 'linear', … */
  activation: (g: Graph, x: Tensor, act: Activation): Promise<Tensor> => (isCellTracer(g) ? Promise.resolve(g.activation(x, act)) : activation(g, x, act)),
  /** Layer normalization over the features: (x − mean)/√(var + epsilon)·gamma + beta (gamma, beta optional). */
  layerNorm: (g: Graph, x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number, name?: string): Promise<Tensor> =>
    isCellTracer(g) ? Promise.resolve(g.layerNorm(x, gamma, beta, epsilon, name)) : layerNorm(g, x, gamma, beta, epsilon, name),
  /** Along the features (axis -1) in a fused cell. */
  concat: (g: Graph, xs: readonly Tensor[], axis = -1, name?: string): Promise<Tensor> =>
    isCellTracer(g) ? Promise.resolve(g.concat(xs, axis, name)) : concat(g, xs, axis, name),
  /** x[..., start:start+size] along `axis` (the features in a fused cell; a weight along its first axis). */
  slice: (g: Graph, x: Tensor, axis: number, start: number, size: number, name?: string): Promise<Tensor> =>
    isCellTracer(g) ? Promise.resolve(g.slice(x, axis, start, size, name)) : slice(g, x, axis, start, size, name),
  /** Splits x along `axis` into pieces of the given sizes (e.g. an LSTM's four gate blocks). */
  split: (g: Graph, x: Tensor, sizes: readonly number[], axis = -1, name?: string): Promise<Tensor[]> =>
    isCellTracer(g) ? Promise.resolve(g.split(x, sizes, axis, name)) : split(g, x, sizes, axis, name),
};

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
  /** Feature size of the output. */
  readonly outputSize: number;
  /** The cell's weights for an input feature size, in Keras order. */
  weightSpecs(inputSize: number): WeightSpec[];
  /** One step: x [B, I], states [B, stateSize[i]], weights in weightSpecs' order. */
  step(g: Graph, x: Tensor, states: readonly Tensor[], weights: readonly Tensor[]): Promise<CellStep>;
  /** Configuration (summary, serialisation). */
  getConfig(): Record<string, unknown>;
}

/** Options of `rnn.layers.rnn` (Keras `RNN`). */
export interface RNNArgs extends LayerArgs {
  /** The cell to run at every step, e.g. `rnn.layers.lnSimpleRNNCell({units: 20})` or your own {@link RecurrentCell}. */
  cell: RecurrentCell;
  /** Return the whole output sequence [B, T, outputSize] (default false: the last output). */
  returnSequences?: boolean;
  /** Fraction of the input features to drop in training, in [0, 1) (the same mask at every step; fused cells). */
  dropout?: number;
  /**
   * Fraction of each state's units to drop in training where the state enters a matmul
   * (`cellOps.matmul(states[i], U)`), in [0, 1); as the built-in layers' recurrentDropout (fused cells).
   */
  recurrentDropout?: number;
  /** Seed of the dropout masks (default: random). */
  seed?: number;
  /**
   * 'auto' (default): compile the cell into fused kernels when it can be traced, else run it step
   * by step; true: fused or throw (with the reason); false: always step by step.
   */
  fused?: boolean | 'auto';
}

function isCell(c: unknown): c is RecurrentCell {
  const k = c as Partial<RecurrentCell> | null;
  return !!k && typeof k.step === 'function' && typeof k.weightSpecs === 'function' && Array.isArray(k.stateSize) && typeof k.outputSize === 'number';
}

/** How an RNN layer runs its cell (after its first call): fused kernels, or step by step and why. */
export interface CellFusion {
  /** True when the cell runs as fused kernels. */
  fused: boolean;
  /** Why the cell runs step by step (null when fused). */
  reason: string | null;
}

/**
 * Keras `RNN(cell)`: runs a custom cell over the sequence — compiled into fused kernels when it
 * can be (see the file comment), else one recorded step per time step. Made by `rnn.layers.rnn`.
 *
 * @example
 * ```ts
 * // the chapter's layer-normalized RNN (experiment J)
 * rnn.sequential({ layers: [
 *   rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true, inputShape: [null, 1] }),
 *   rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 20 }), returnSequences: true }),
 *   rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 10 }) }),
 * ] });
 * ```
 */
export class RNN extends Layer implements StatefulLayer {
  readonly className = 'RNN';
  /** The cell run at every step. */
  readonly cell: RecurrentCell;
  /** Whether the output is the whole sequence. */
  readonly returnSequences: boolean;
  /** Input dropout rate in training. */
  readonly dropout: number;
  /** Recurrent-state dropout rate in training. */
  readonly recurrentDropout: number;
  /** Seed of the dropout masks. */
  readonly seed: number;
  /** The `fused` option: true, false or 'auto'. */
  readonly fusedOption: boolean | 'auto';
  /** How the cell ran in the last call (null before the first). */
  fusion: CellFusion | null = null;
  private stateStore: StateStore | null = null;
  private compiled = new Map<string, Promise<CompiledCell | CellCompileError>>();
  /** The dropout masks' random stream. @internal */
  readonly randomStream: RandomStream;
  private warned = false;

  constructor(args: RNNArgs) {
    if (!args || typeof args !== 'object') throw new TypeError('rnn: expected an options object like {cell: rnn.layers.lnSimpleRNNCell({units: 20})}');
    super(args, 'rnn', {
      cell: is.object, returnSequences: is.boolean, dropout: is.any, recurrentDropout: is.any, seed: is.seed, fused: is.oneOf(true, false, 'auto'),
    });
    if (!isCell(args.cell)) {
      throw new TypeError(`${this.name}: 'cell' must be a recurrent cell ({stateSize, outputSize, weightSpecs(), step()}), e.g. rnn.layers.lnSimpleRNNCell({units: 20})`);
    }
    this.cell = args.cell;
    this.randomStream = new RandomStream(`${this.name}/dropout rng`);
    for (const n of [...this.cell.stateSize, this.cell.outputSize]) positiveInt(`${this.name} (${this.cell.className})`, 'state and output sizes', n);
    this.returnSequences = args.returnSequences ?? false;
    this.dropout = dropoutRate(this.name, 'dropout', args.dropout);
    this.recurrentDropout = dropoutRate(this.name, 'recurrentDropout', args.recurrentDropout);
    if (args.seed !== undefined && !(Number.isInteger(args.seed) && args.seed >= 0 && args.seed <= 0xffffffff)) {
      throw new RangeError(`${this.name}: seed must be an integer in [0, 2^32-1], got ${JSON.stringify(args.seed)}`);
    }
    this.seed = args.seed ?? Math.floor(Math.random() * 0xffffffff);
    const f = args.fused ?? 'auto';
    if (f !== 'auto' && f !== true && f !== false) throw new RangeError(`${this.name}: fused must be true, false or 'auto', got ${JSON.stringify(args.fused)}`);
    this.fusedOption = f;
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

  /** The cell compiled for batch B and input width I (and the adapter kind), or why it cannot be (cached). */
  private compile(B: number, I: number, software: boolean): Promise<CompiledCell | CellCompileError> {
    const key = `${B}x${I}:${software}`;
    let c = this.compiled.get(key);
    if (!c) {
      const specs = this.cell.weightSpecs(I).map((w) => ({ name: w.name, shape: w.shape }));
      c = compileCell(this.cell as never, B, I, specs, { software }).catch((e: unknown) => {
        if (e instanceof CellCompileError) return e;
        this.compiled.delete(key);
        throw e instanceof RangeError ? new RangeError(`${this.name}: ${e.message}`) : e;
      });
      this.compiled.set(key, c);
    }
    return c;
  }

  async call(g: Graph, x: Tensor, w: readonly Tensor[]): Promise<Tensor> {
    if (x.shape.length !== 3) throw new RangeError(`${this.name}: expects [batch, timeSteps, features], got [${x.shape.join(', ')}]`);
    const [B, , I] = x.shape as [number, number, number];
    let reason = 'fused: false';
    if (this.fusedOption !== false) {
      const c = await this.compile(B, I, g.ctx.gpu.info.isFallbackAdapter);
      if (!(c instanceof CellCompileError)) {
        this.fusion = { fused: true, reason: null };
        return this.callFused(g, x, w, c);
      }
      reason = c.message;
      if (this.fusedOption === true) throw new Error(`${this.name}: fused: true, but ${c.message}`);
    }
    this.fusion = { fused: false, reason };
    if (this.fusedOption === 'auto' && !this.warned) {
      this.warned = true;
      console.warn(`${this.name}: ${this.cell.className} runs step by step (T × its ops dispatches), not as fused kernels: ${reason}`);
    }
    return this.callSteps(g, x, w, reason);
  }

  /** The fused kernels (src/ops/cell-rnn.ts), with dropout (training graphs), the input's mask and the stored state. */
  private async callFused(g: Graph, x: Tensor, w: readonly Tensor[], cc: CompiledCell): Promise<Tensor> {
    const [B, T, I] = x.shape as [number, number, number];
    const seqMask = x.mask;
    if (seqMask && seqMask.size !== B * T) throw new RangeError(`${this.name}: the input mask is [${seqMask.shape.join(', ')}], expected a [${B}, ${T}] mask for input [${B}, ${T}, ${I}]`);
    let inputMask: Tensor | null = null;
    const recurrentMasks: (Tensor | null)[] = this.cell.stateSize.map(() => null);
    const dropped = this.cell.stateSize.map((_, i) => cc.graph.nodes.some((n) => n.kind === 'stateDrop' && n.state === i));
    if (g.training && (this.dropout > 0 || (this.recurrentDropout > 0 && dropped.some(Boolean)))) {
      const rng = this.randomStream.buffer(g.ctx);
      if (this.dropout > 0) {
        inputMask = g.alloc([B, I], `${this.name}/dropout mask`);
        await dropoutMask(g, inputMask, this.dropout, this.seed, 0, rng);
      }
      if (this.recurrentDropout > 0) {
        for (const [i, n] of this.cell.stateSize.entries()) {
          if (!dropped[i]) continue;
          const m = g.alloc([B, n], `${this.name}/recurrent dropout mask ${i}`);
          await dropoutMask(g, m, this.recurrentDropout, this.seed, 1 + i, rng);
          recurrentMasks[i] = m;
        }
      }
      await advanceRng(g, rng);
    }
    const stored = g.statefulStep ? this.states.tensors(g.ctx, B) : null;
    const out = await cellRnn(g, cc, x, w, { inputMask, recurrentMasks, seqMask, initialStates: stored });
    if (stored) out.lastStates.forEach((s, i) => g.forward.copy(s, stored[i]!));
    if (!this.returnSequences) return out.lastOut;
    out.outSeq.mask = seqMask;
    return out.outSeq;
  }

  /** One recorded step per time step (cells that cannot be traced, or fused: false). */
  private async callSteps(g: Graph, x: Tensor, w: readonly Tensor[], reason: string): Promise<Tensor> {
    const why = `(it runs step by step: ${reason})`;
    if (x.mask) throw new Error(`${this.name}: masking needs the fused kernels; ${this.cell.className} ${why}`);
    if (g.training && (this.dropout > 0 || this.recurrentDropout > 0)) throw new Error(`${this.name}: dropout needs the fused kernels; ${this.cell.className} ${why}`);
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

  /** The layer's dropout RNG counter (a 16-byte GPU buffer, zero at creation). */

  // ---------------------------------------------------------------- state (StatefulLayer)

  private get states(): StateStore {
    return (this.stateStore ??= new StateStore(this.name, this.cell.stateSize.map((_, i) => (i === 0 ? 'h' : `state${i}`)), this.cell.stateSize));
  }

  /** @internal */
  beginStep(batch: number): void {
    this.states.begin(batch);
  }

  /** Zeros the stored state of streaming inference. */
  resetStates(): void {
    this.stateStore?.reset();
  }

  /** The stored state (one [batch, size] array per cell state), or null before any step. */
  getState(): Promise<HostTensor[] | null> {
    return this.states.get();
  }

  /** Sets the stored state (one [batch, size] array per cell state). */
  setState(...states: TensorLike[]): Promise<void> {
    return this.states.set(states);
  }

  /** @internal */
  disposeState(): void {
    this.stateStore?.dispose();
    this.randomStream.dispose();
  }

  getConfig(): Record<string, unknown> {
    return {
      returnSequences: this.returnSequences,
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      seed: this.seed,
      fused: this.fusedOption,
      cell: { className: this.cell.className, config: this.cell.getConfig() },
    };
  }
}

/** Options of `rnn.layers.lnSimpleRNNCell`. */
export interface LNSimpleRNNCellArgs {
  /** Hidden units (the state and output size). */
  units: number;
  /** Applied after the normalization (default tanh, as in the chapter). */
  activation?: Activation | 'hard_sigmoid' | null;
  /** LayerNormalization epsilon (Keras default 1e-3). */
  epsilon?: number;
  /** Initializer of the input kernel (default 'glorotUniform'). */
  kernelInitializer?: string;
  /** Initializer of the recurrent kernel (default 'orthogonal'). */
  recurrentInitializer?: string;
  /** Initializer of the bias (default 'zeros'). */
  biasInitializer?: string;
}

/**
 * The chapter's layer-normalized SimpleRNN cell (Géron, Hands-On ML, ch. 15 "LNSimpleRNNCell"):
 * activation(LayerNorm(x_t·K + b + h_{t-1}·U)); output = new state.
 */
export class LNSimpleRNNCell implements RecurrentCell {
  readonly className = 'LNSimpleRNNCell';
  /** Hidden units. */
  readonly units: number;
  /** The activation after the normalization. */
  readonly activation: Activation;
  /** LayerNormalization epsilon. */
  readonly epsilon: number;
  readonly stateSize: readonly number[];
  /** Equal to `units`. */
  readonly outputSize: number;
  private readonly inits: [InitializerName, InitializerName, InitializerName];

  constructor(args: LNSimpleRNNCellArgs) {
    checkOptions('lnSimpleRNNCell', args ?? null, {
      units: is.positiveInt, activation: activationOption, epsilon: is.number, kernelInitializer: initializerOption, recurrentInitializer: initializerOption, biasInitializer: initializerOption,
    }, '{units: 20}');
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

  /** Configuration: every option, as `lnSimpleRNNCell` takes them. */
  getConfig(): Record<string, unknown> {
    const [kernelInitializer, recurrentInitializer, biasInitializer] = this.inits;
    return { units: this.units, activation: this.activation, epsilon: this.epsilon, kernelInitializer, recurrentInitializer, biasInitializer };
  }
}
