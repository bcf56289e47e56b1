/**
 * Optimizers (shaders/optim.wgsl): ONE fused update dispatch over the whole parameter arena per
 * training step, with Keras 3 gradient clipping and weight decay fused in. Options, defaults and
 * formulas follow Keras 3 (`keras.optimizers.Adam`, `AdamW`, `SGD`, `RMSprop`, and the base
 * class's `clipnorm` / `global_clipnorm` / `clipvalue` / `weight_decay`); the exact formulas are
 * in the header of shaders/optim.wgsl.
 *
 * A training step records [clip norms (0–2 dispatches), update (1 dispatch)]. Values that change
 * per step (the learning rate from a schedule, Adam's bias-corrected step size) are computed on
 * the CPU in float64 from the step counters kept here and written once per step by
 * `OptimizerState.prepareStep()` (queue.writeBuffer) before the step is submitted; nothing is
 * read back.
 */
import type { Context } from '../gpu/context';
import { Program } from '../gpu/program';
import type { ParamArena, Variable } from '../gpu/arena';
import { Tensor } from '../tensor';
import { createStorageBuffer } from '../gpu/pool';
import { readback } from '../gpu/io';
import { CLIP_CODES, OPTIM_LAYOUT } from '../gpu/wgsl-constants';
import { LearningRateSchedule, resolveLearningRate, type LearningRateLike } from './schedules';
import { checkOptions, is, type OptionSpec } from '../options';
import type { AdamConfig, AdamWConfig, ClipConfig, OptimizerConfig, OptimizerState, RmspropConfig, SgdConfig } from './types';

export type { AdamConfig, AdamWConfig, ClipConfig, OptimizerConfig, OptimizerState, RmspropConfig, SgdConfig, MomentName, OptimizerSnapshot } from './types';

const nullableNumber = is.either(is.number, (v) => (v === null ? null : 'must be null'));
/** Options every optimizer takes. */
const BASE_OPTIONS: OptionSpec = { learningRate: is.any, weightDecay: nullableNumber, clipnorm: nullableNumber, globalClipnorm: nullableNumber, clipvalue: nullableNumber };
const ADAM_OPTIONS: OptionSpec = { ...BASE_OPTIONS, beta1: is.number, beta2: is.number, epsilon: is.number };
const SGD_OPTIONS: OptionSpec = { ...BASE_OPTIONS, momentum: is.number, nesterov: is.boolean };
const RMSPROP_OPTIONS: OptionSpec = { ...BASE_OPTIONS, rho: is.number, momentum: is.number, epsilon: is.number, centered: is.boolean };


/** Throws unless v is a finite number in (0, max). */
function positive(where: string, key: string, v: number, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v >= max) {
    throw new RangeError(`${where}: ${key} must be a finite number in (0, ${max === Infinity ? '∞' : max}), got ${v}`);
  }
  return v;
}

/** Throws unless v is a finite number in [0, 1). */
function unitInterval(where: string, key: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) {
    throw new RangeError(`${where}: ${key} must be a finite number in [0, 1), got ${v}`);
  }
  return v;
}

/** The clip option of each mode → its code in optim.wgsl (CLIP_* of src/gpu/wgsl-constants.ts). */
const CLIP_MODES = { none: CLIP_CODES.none, clipvalue: CLIP_CODES.value, clipnorm: CLIP_CODES.norm, globalClipnorm: CLIP_CODES.globalNorm } as const;

/** Static uniform fields of optim.wgsl's Params an optimizer sets (the rest are zero). */
interface UpdateParams {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  rho?: number;
  momentum?: number;
  nesterov?: boolean;
  centered?: boolean;
}

/**
 * Base class: learning rate (number or schedule), clipping and weight decay, validated in the
 * constructor with Keras's rules, and the generic build of the fused update. Optimizers are made
 * by `rnn.optimizers.*` and given to `model.compile`.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.001, clipnorm: 1 }), loss: 'mse' });
 * model.optimizer!.learningRate = 0.0005; // between epochs, as reduceLROnPlateau does
 * ```
 */
export abstract class Optimizer {
  /** The optimizer's name ('adam', 'adamw', 'sgd', 'rmsprop'). */
  abstract readonly name: string;
  /** Each variable's gradient norm is clipped to this, or null. */
  readonly clipnorm: number | null;
  /** The global gradient norm is clipped to this, or null. */
  readonly globalClipnorm: number | null;
  /** Gradients are clipped elementwise to ±clipvalue, or null. */
  readonly clipvalue: number | null;
  /** Decoupled weight decay factor, or null. */
  readonly weightDecay: number | null;
  /**
   * Updates applied since the optimizer was built for a model (Keras `optimizer.iterations`);
   * schedules are evaluated at this count (0 for the first update).
   */
  iterations = 0;
  private lr: number | LearningRateSchedule;

  constructor(where: string, cfg: OptimizerConfig, defaultLr: number) {
    if (cfg === null || typeof cfg !== 'object') throw new TypeError(`${where}: expected an options object, got ${cfg === null ? 'null' : typeof cfg}`);
    this.lr = resolveLearningRate(where, cfg.learningRate ?? defaultLr);
    const set = (['clipnorm', 'globalClipnorm', 'clipvalue'] as const).filter((k) => cfg[k] !== undefined && cfg[k] !== null);
    if (set.length > 1) {
      throw new RangeError(`${where}: only one of clipnorm, globalClipnorm and clipvalue can be set (got ${set.map((k) => `${k}=${cfg[k]}`).join(', ')})`);
    }
    const clip = (k: keyof ClipConfig) => (cfg[k] === undefined || cfg[k] === null ? null : positive(where, k, cfg[k]!));
    this.clipnorm = clip('clipnorm');
    this.globalClipnorm = clip('globalClipnorm');
    this.clipvalue = clip('clipvalue');
    const wd = cfg.weightDecay;
    if (wd !== undefined && wd !== null && (typeof wd !== 'number' || !Number.isFinite(wd) || wd < 0)) {
      throw new RangeError(`${where}: weightDecay must be a finite number >= 0, got ${wd}`);
    }
    this.weightDecay = wd ?? null;
  }

  /**
   * The current learning rate: the number, or the schedule at `iterations`. Setting it (e.g.
   * from reduceLROnPlateau between epochs) takes effect at the next step; an optimizer created
   * with a schedule cannot be set (as in Keras).
   */
  get learningRate(): number {
    return this.learningRateAt(this.iterations);
  }

  /** Sets a constant learning rate (not for an optimizer made with a schedule). */
  set learningRate(v: number) {
    if (this.lr instanceof LearningRateSchedule) {
      throw new TypeError(`${this.name}: this optimizer was created with a ${this.lr.className} schedule as its learningRate, so the learning rate cannot be set`);
    }
    this.lr = resolveLearningRate(this.name, v) as number;
  }

  /** The schedule given as learningRate, or null for a constant learning rate. */
  get schedule(): LearningRateSchedule | null {
    return this.lr instanceof LearningRateSchedule ? this.lr : null;
  }

  /** The learning rate of update number `step` (0-based). */
  learningRateAt(step: number): number {
    if (!(this.lr instanceof LearningRateSchedule)) return this.lr;
    const v = this.lr.call(step);
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${this.name}: the ${this.lr.className} schedule gave learning rate ${v} at step ${step}`);
    return v;
  }

  /** Keras-style configuration. */
  getConfig(): Record<string, unknown> {
    return {
      learningRate: this.lr instanceof LearningRateSchedule ? { className: this.lr.className, config: this.lr.getConfig() } : this.lr,
      weightDecay: this.weightDecay,
      clipnorm: this.clipnorm,
      globalClipnorm: this.globalClipnorm,
      clipvalue: this.clipvalue,
      ...this.ownConfig(),
    };
  }

  /** The subclass's own hyper-parameters for getConfig(). */
  protected abstract ownConfig(): Record<string, unknown>;
  /** optim.wgsl entry point of the update. */
  protected abstract readonly entry: 'adamUpdate' | 'sgdUpdate' | 'rmspropUpdate';
  /** Which moment buffers the update uses (others are bound to a dummy and never accessed). */
  protected abstract slots(): { m: boolean; v: boolean; mg: boolean };
  /** Static hyper-parameters of the update. */
  protected abstract updateParams(): UpdateParams;
  /** Adam's alpha for 1-based step t at learning rate lr (0 for the others). */
  protected stepSize(_lr: number, _t: number): number {
    return 0;
  }

  /**
   * Builds the update of `arena` (reading its gradients) into a Program, allocating the moment
   * buffers, the per-step values and the variable table. `vars`: the variables to update (default:
   * the arena's trainable ones); only they get moment slots (a frozen layer costs no optimizer
   * memory). Resets `iterations` to 0.
   * @internal
   */
  async build(ctx: Context, arena: ParamArena, vars: readonly Variable[] = arena.vars.filter((v) => v.trainable !== false)): Promise<OptimizerState> {
    const dev = ctx.device;
    const n = arena.length;
    const trainable = [...vars].sort((a, b) => a.offset - b.offset);
    const slotOffsets: number[] = [];
    let slots = 0;
    for (const v of trainable) {
      slotOffsets.push(slots);
      slots += v.size;
    }
    const nVars = trainable.length;
    const mode = this.clipnorm !== null ? 'clipnorm' : this.globalClipnorm !== null ? 'globalClipnorm' : this.clipvalue !== null ? 'clipvalue' : 'none';
    const clip = this.clipnorm ?? this.globalClipnorm ?? this.clipvalue ?? 0;

    // Norm chunks: at most ~1024 (+ one per variable) so every update workgroup can sum them all.
    const chunkSize = Math.max(4096, Math.ceil(n / 1024 / 256) * 256);
    const chunks: number[] = [];
    const varChunks: number[] = [];
    for (const v of trainable) {
      const first = chunks.length / 2;
      for (let s = v.offset; s < v.offset + v.size; s += chunkSize) chunks.push(s, Math.min(v.offset + v.size, s + chunkSize));
      varChunks.push(first, chunks.length / 2);
    }
    const nChunks = chunks.length / 2;
    const table = new Uint32Array(Math.max(4, 5 * nVars + 2 * nChunks));
    trainable.forEach((v, i) => table.set([v.offset, v.size], 2 * i));
    table.set(chunks, 2 * nVars);
    table.set(varChunks, 2 * nVars + 2 * nChunks);
    table.set(slotOffsets, 4 * nVars + 2 * nChunks);

    const owned: GPUBuffer[] = [];
    const mk = (label: string, floats: number) => {
      const b = createStorageBuffer(dev, floats * 4, `${this.name} ${label}`);
      owned.push(b);
      return b;
    };
    // Unused slots get their own tiny buffer (writable bindings may not alias); never accessed.
    const use = this.slots();
    const m = mk('m', use.m ? Math.max(4, slots) : 4);
    const v = mk('v', use.v ? Math.max(4, slots) : 4);
    const mg = mk('mg', use.mg ? Math.max(4, slots) : 4);
    const aux = mk('aux', OPTIM_LAYOUT.auxPartials + nChunks + nVars);
    const tableBuf = mk('variable table', table.length);
    dev.queue.writeBuffer(tableBuf, 0, table);

    const up = this.updateParams();
    const params = {
      n,
      nVars,
      nChunks,
      clip,
      weightDecay: this.weightDecay ?? 0,
      beta1: up.beta1 ?? 0,
      beta2: up.beta2 ?? 0,
      epsilon: up.epsilon ?? 0,
      rho: up.rho ?? 0,
      momentum: up.momentum ?? 0,
      nesterov: up.nesterov ?? false,
      centered: up.centered ?? false,
    };
    const { params: pT, grads: gT } = arena.all;
    const program = new Program(dev);
    if ((mode === 'clipnorm' || mode === 'globalClipnorm') && nChunks > 0) {
      const kp = await ctx.kernel('optim', 'clipPartials');
      const max = dev.limits.maxComputeWorkgroupsPerDimension;
      program.dispatch(kp, { g: gT, table: tableBuf, auxOut: aux }, params, [Math.min(nChunks, max), Math.ceil(nChunks / max), 1]);
      if (mode === 'clipnorm') program.dispatch(await ctx.kernel('optim', 'clipFinalize'), { table: tableBuf, auxOut: aux }, params, nVars);
    }
    const bindings: Record<string, GPUBuffer | Tensor> = { p: pT, g: gT, table: tableBuf, aux };
    if (this.entry !== 'sgdUpdate') bindings.v = v;
    bindings.m = m;
    if (this.entry === 'rmspropUpdate') bindings.mg = mg;
    program.dispatch(await ctx.kernel('optim', this.entry, { CLIP_MODE: CLIP_MODES[mode] }), bindings, params, n);

    let slotStep = 0;
    this.iterations = 0;
    const stepValues = new Float32Array(4);
    const reset = () => {
      const enc = dev.createCommandEncoder();
      for (const b of [m, v, mg]) enc.clearBuffer(b);
      dev.queue.submit([enc.finish()]);
      slotStep = 0;
    };
    reset();
    const buffers = { m, v, mg };
    const moments = (['m', 'v', 'mg'] as const).filter((k) => use[k] && slots > 0);
    return {
      program,
      slots,
      vars: trainable,
      moments,
      stateSources: () => ({ tensors: moments.map((k) => new Tensor(buffers[k], [slots], 0, false, k)), slotStep, iterations: this.iterations }),
      exportState: async () => {
        const at = { slotStep, iterations: this.iterations }; // the counters of the steps the readback will see
        const data = await readback(dev, ...moments.map((k) => new Tensor(buffers[k], [slots], 0, false, k)));
        return { moments: Object.fromEntries(moments.map((k, i) => [k, Float32Array.from(data[i]!)])), ...at };
      },
      importState: (s) => {
        for (const k of moments) {
          const d = s.moments[k];
          if (!d || d.length !== slots) throw new RangeError(`${this.name}: optimizer state '${k}' has ${d?.length ?? 0} values, expected ${slots}`);
          dev.queue.writeBuffer(buffers[k], 0, d.buffer, d.byteOffset, d.byteLength);
        }
        slotStep = s.slotStep;
        this.iterations = s.iterations;
      },
      prepareStep: () => {
        const lr = this.learningRateAt(this.iterations);
        slotStep++;
        stepValues[0] = lr;
        stepValues[1] = this.stepSize(lr, slotStep);
        dev.queue.writeBuffer(aux, 0, stepValues);
        this.iterations++;
      },
      reset,
      destroy() {
        program.dispose();
        for (const b of owned) b.destroy();
      },
    };
  }
}

/**
 * Adam, exactly as Keras 3 (keras/src/optimizers/adam.py, amsgrad false):
 *   alpha = lr·sqrt(1 - β2^t)/(1 - β1^t);  m += (g - m)(1 - β1);  v += (g² - v)(1 - β2);
 *   p -= alpha·m/(sqrt(v) + ε)
 */
export class Adam extends Optimizer {
  readonly name: string = 'adam';
  /** Decay of the first-moment average. */
  readonly beta1: number;
  /** Decay of the second-moment average. */
  readonly beta2: number;
  /** Added to √v in the update. */
  readonly epsilon: number;
  protected readonly entry = 'adamUpdate';

  constructor(cfg: AdamConfig = {}, where = 'adam') {
    checkOptions(where, cfg, ADAM_OPTIONS, '{learningRate: 0.001}');
    super(where, cfg, 0.001);
    this.beta1 = positive(where, 'beta1', cfg.beta1 ?? 0.9, 1);
    this.beta2 = positive(where, 'beta2', cfg.beta2 ?? 0.999, 1);
    this.epsilon = positive(where, 'epsilon', cfg.epsilon ?? 1e-7);
  }

  protected ownConfig(): Record<string, unknown> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  protected slots() {
    return { m: true, v: true, mg: false };
  }

  protected updateParams(): UpdateParams {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  protected override stepSize(lr: number, t: number): number {
    return (lr * Math.sqrt(1 - Math.pow(this.beta2, t))) / (1 - Math.pow(this.beta1, t));
  }
}

/**
 * AdamW (Keras 3 keras/src/optimizers/adamw.py): Adam with decoupled weight decay applied by the
 * base optimizer before each update, p = p - p·wd·lr; weightDecay defaults to 0.004.
 */
export class AdamW extends Adam {
  override readonly name: string = 'adamw';

  constructor(cfg: AdamWConfig = {}) {
    super({ ...cfg, weightDecay: cfg.weightDecay ?? 0.004 }, 'adamw');
  }
}

/**
 * SGD with optional (Nesterov) momentum, Keras 3 formulation (keras/src/optimizers/sgd.py):
 *   momentum 0:  p -= lr·g
 *   else:        m = μ·m - lr·g;  p += m        (nesterov: p += μ·m - lr·g, with the new m)
 */
export class SGD extends Optimizer {
  readonly name = 'sgd';
  /** Momentum μ (0: plain SGD). */
  readonly momentum: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  protected readonly entry = 'sgdUpdate';

  constructor(cfg: SgdConfig = {}) {
    checkOptions('sgd', cfg, SGD_OPTIONS, '{learningRate: 0.01}');
    super('sgd', cfg, 0.01);
    this.momentum = unitInterval('sgd', 'momentum', cfg.momentum ?? 0);
    this.nesterov = cfg.nesterov ?? false;
  }

  protected ownConfig(): Record<string, unknown> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }

  protected slots() {
    return { m: this.momentum !== 0, v: false, mg: false };
  }

  protected updateParams(): UpdateParams {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

/**
 * RMSprop, Keras 3 formulation (keras/src/optimizers/rmsprop.py) — epsilon sits INSIDE the root:
 *   v = ρ·v + (1 - ρ)·g²;  den = v + ε  (centered: mg = ρ·mg + (1 - ρ)·g;  den = v - mg² + ε)
 *   inc = lr·g / sqrt(den);  momentum 0: p -= inc;  else m = μ·m + inc;  p -= m
 */
export class RMSprop extends Optimizer {
  readonly name = 'rmsprop';
  /** Discount of the squared-gradient average. */
  readonly rho: number;
  /** Momentum (0: none). */
  readonly momentum: number;
  /** Added inside the square root. */
  readonly epsilon: number;
  /** Whether the gradient is normalised by the estimated variance. */
  readonly centered: boolean;
  protected readonly entry = 'rmspropUpdate';

  constructor(cfg: RmspropConfig = {}) {
    checkOptions('rmsprop', cfg, RMSPROP_OPTIONS, '{learningRate: 0.001}');
    super('rmsprop', cfg, 0.001);
    this.rho = positive('rmsprop', 'rho', cfg.rho ?? 0.9, 1);
    this.momentum = unitInterval('rmsprop', 'momentum', cfg.momentum ?? 0);
    this.epsilon = positive('rmsprop', 'epsilon', cfg.epsilon ?? 1e-7);
    this.centered = cfg.centered ?? false;
  }

  protected ownConfig(): Record<string, unknown> {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }

  protected slots() {
    return { m: this.momentum > 0, v: true, mg: this.centered };
  }

  protected updateParams(): UpdateParams {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}
