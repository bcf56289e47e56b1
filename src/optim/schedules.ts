/**
 * Learning-rate schedules with Keras 3 semantics (keras/src/optimizers/schedules/
 * learning_rate_schedule.py). A schedule maps the optimizer's step counter (0 for the first
 * update, i.e. Keras's `optimizer.iterations` before it is incremented) to a learning rate. The
 * value is computed on the CPU in float64 from the step counter the optimizer keeps and written
 * once per step into the update's per-step values before the step is submitted: no readback.
 *
 *   ExponentialDecay:       lr(step) = initial · rate^(step / decaySteps)   (floor of the ratio when staircase)
 *   PiecewiseConstantDecay: lr(step) = values[0] if step <= boundaries[0],
 *                           values[i] if boundaries[i-1] < step <= boundaries[i],
 *                           values[last] if step > boundaries[last]
 */
import { checkOptions, is, ownLookup, unknownName } from '../options';

/** Base class of learning-rate schedules (Keras `LearningRateSchedule`). */
export abstract class LearningRateSchedule {
  /** Keras class name, used in configs and error messages. */
  abstract readonly className: string;
  /** The learning rate for optimizer step `step` (0-based). */
  abstract call(step: number): number;
  /** Configuration with Keras names. */
  abstract getConfig(): Record<string, unknown>;
}

/** Options of {@link ExponentialDecay} (Keras `ExponentialDecay`). */
export interface ExponentialDecayConfig {
  /** Learning rate at step 0 (> 0). */
  initialLearningRate: number;
  /** Steps per decay period (> 0). */
  decaySteps: number;
  /** Factor applied per period (> 0). */
  decayRate: number;
  /** Decay at discrete intervals (floor of step / decaySteps). Default false. */
  staircase?: boolean;
}

/** Options of {@link PiecewiseConstantDecay} (Keras `PiecewiseConstantDecay`). */
export interface PiecewiseConstantDecayConfig {
  /** Strictly increasing step boundaries. */
  boundaries: number[];
  /** One more value than boundaries; all finite and >= 0. */
  values: number[];
}

function finite(where: string, key: string, v: unknown, min: number, inclusive: boolean): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (inclusive ? v >= min : v > min);
  if (!ok) throw new RangeError(`${where}: ${key} must be a finite number ${inclusive ? '>=' : '>'} ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

/** lr(step) = initialLearningRate · decayRate^(step / decaySteps), floored ratio when staircase. */
export class ExponentialDecay extends LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  /** The learning rate at step 0. */
  readonly initialLearningRate: number;
  /** Steps per decay period. */
  readonly decaySteps: number;
  /** Factor per period. */
  readonly decayRate: number;
  /** Whether the rate drops in steps (integer periods) rather than continuously. */
  readonly staircase: boolean;

  constructor(cfg: ExponentialDecayConfig) {
    super();
    checkOptions('exponentialDecay', cfg ?? null, { initialLearningRate: is.number, decaySteps: is.number, decayRate: is.number, staircase: is.boolean }, '{initialLearningRate, decaySteps, decayRate}');
    this.initialLearningRate = finite('exponentialDecay', 'initialLearningRate', cfg.initialLearningRate, 0, false);
    this.decaySteps = finite('exponentialDecay', 'decaySteps', cfg.decaySteps, 0, false);
    this.decayRate = finite('exponentialDecay', 'decayRate', cfg.decayRate, 0, false);
    this.staircase = cfg.staircase ?? false;
  }

  call(step: number): number {
    let p = step / this.decaySteps;
    if (this.staircase) p = Math.floor(p);
    return this.initialLearningRate * Math.pow(this.decayRate, p);
  }

  getConfig(): Record<string, unknown> {
    return { initialLearningRate: this.initialLearningRate, decaySteps: this.decaySteps, decayRate: this.decayRate, staircase: this.staircase };
  }
}

/** values[i] on the i-th interval of the boundaries (each interval closed on its right end). */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  /** Step counts where the rate changes, increasing. */
  readonly boundaries: readonly number[];
  /** The rate on each interval (one more than the boundaries). */
  readonly values: readonly number[];

  constructor(cfg: PiecewiseConstantDecayConfig) {
    super();
    checkOptions('piecewiseConstantDecay', cfg ?? null, { boundaries: is.array, values: is.array }, '{boundaries, values}');
    const { boundaries, values } = cfg;
    if (!Array.isArray(boundaries) || !Array.isArray(values)) throw new TypeError('piecewiseConstantDecay: boundaries and values must be arrays');
    if (boundaries.length !== values.length - 1) {
      throw new RangeError(`piecewiseConstantDecay: values must have one more element than boundaries (got ${boundaries.length} boundaries and ${values.length} values)`);
    }
    boundaries.forEach((b, i) => {
      finite('piecewiseConstantDecay', `boundaries[${i}]`, b, -Infinity, false);
      if (i > 0 && !(b > boundaries[i - 1]!)) throw new RangeError(`piecewiseConstantDecay: boundaries must be strictly increasing (boundaries[${i}] = ${b} after ${boundaries[i - 1]})`);
    });
    values.forEach((v, i) => finite('piecewiseConstantDecay', `values[${i}]`, v, 0, true));
    this.boundaries = [...boundaries];
    this.values = [...values];
  }

  call(step: number): number {
    for (let i = 0; i < this.boundaries.length; i++) if (step <= this.boundaries[i]!) return this.values[i]!;
    return this.values[this.values.length - 1]!;
  }

  getConfig(): Record<string, unknown> {
    return { boundaries: [...this.boundaries], values: [...this.values] };
  }
}

/** A schedule in Keras's serialized form, e.g. `{className: 'ExponentialDecay', config: {...}}`. */
export interface SerializedSchedule {
  /** 'ExponentialDecay' or 'PiecewiseConstantDecay'. */
  className: string;
  /** The schedule's options (its getConfig()). */
  config: Record<string, unknown>;
}

/** A learning rate: a positive number, a schedule, or a serialized schedule. */
export type LearningRateLike = number | LearningRateSchedule | SerializedSchedule;

const SCHEDULES: Record<string, (cfg: never) => LearningRateSchedule> = {
  ExponentialDecay: (c: ExponentialDecayConfig) => new ExponentialDecay(c),
  exponentialDecay: (c: ExponentialDecayConfig) => new ExponentialDecay(c),
  PiecewiseConstantDecay: (c: PiecewiseConstantDecayConfig) => new PiecewiseConstantDecay(c),
  piecewiseConstantDecay: (c: PiecewiseConstantDecayConfig) => new PiecewiseConstantDecay(c),
};

/**
 * Validates a learning rate given to an optimizer: a finite number > 0, a schedule, or a
 * serialized schedule (resolved by class name). Anything else throws, naming `where`.
 */
export function resolveLearningRate(where: string, lr: unknown): number | LearningRateSchedule {
  if (lr instanceof LearningRateSchedule) return lr;
  if (typeof lr === 'number') {
    if (!Number.isFinite(lr) || lr <= 0) throw new RangeError(`${where}: learningRate must be a finite number in (0, ∞), got ${lr}`);
    return lr;
  }
  if (lr && typeof lr === 'object' && 'className' in lr) {
    const s = lr as SerializedSchedule;
    const make = ownLookup(SCHEDULES, s.className);
    if (!make) throw new RangeError(`${where}: ${unknownName('learning-rate schedule', String(s.className), ['ExponentialDecay', 'PiecewiseConstantDecay'])}`);
    if (s.config === null || typeof s.config !== 'object') throw new TypeError(`${where}: the ${s.className} schedule's config must be an object`);
    return make(s.config as never);
  }
  throw new TypeError(
    `${where}: learningRate must be a number or a schedule from rnn.optimizers.schedules (exponentialDecay, piecewiseConstantDecay), got ${typeof lr === 'string' ? `'${lr}'` : JSON.stringify(lr)}`,
  );
}

/** Schedule factories with Keras names in camelCase (`rnn.optimizers.schedules.*`). */
export const schedules = {
  /** initialLearningRate · decayRate^(step / decaySteps) (Keras `ExponentialDecay`). */
  exponentialDecay: (cfg: ExponentialDecayConfig) => new ExponentialDecay(cfg),
  /** Piecewise constant learning rate over step boundaries (Keras `PiecewiseConstantDecay`). */
  piecewiseConstantDecay: (cfg: PiecewiseConstantDecayConfig) => new PiecewiseConstantDecay(cfg),
};
