/**
 * Optimizers (shaders/optim.wgsl): one fused update dispatch over the whole parameter arena per
 * training step. Options and defaults follow Keras 3 (`keras.optimizers.Adam`, `SGD`).
 */
import type { Context } from '../gpu/context';
import { Program } from '../autograd/program';
import type { ParamArena } from '../model/arena';
import { Tensor } from '../tensor';

export interface AdamConfig {
  /** Default 0.001. */
  learningRate?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras). */
  epsilon?: number;
}

export interface SgdConfig {
  /** Default 0.01 (Keras). */
  learningRate?: number;
}

/** Base class: validated hyper-parameters and the per-model update program. */
export abstract class Optimizer {
  abstract readonly name: string;
  /** Records the update of `arena` (reading its gradients) into a Program, allocating state. */
  abstract build(ctx: Context, arena: ParamArena): Promise<OptimizerState>;
  abstract getConfig(): Record<string, number>;
}

export interface OptimizerState {
  program: Program;
  /** Steps applied so far are counted on the GPU; reset() zeroes moments and step. */
  reset(): void;
  destroy(): void;
}

function positive(where: string, key: string, v: number, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v >= max) {
    throw new RangeError(`${where}: ${key} must be a finite number in (0, ${max === Infinity ? '∞' : max}), got ${v}`);
  }
  return v;
}

const STATE_USAGE = 0x80 | 0x04 | 0x08;

export class Adam extends Optimizer {
  readonly name = 'adam';
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(cfg: AdamConfig = {}) {
    super();
    this.learningRate = positive('adam', 'learningRate', cfg.learningRate ?? 0.001);
    this.beta1 = positive('adam', 'beta1', cfg.beta1 ?? 0.9, 1);
    this.beta2 = positive('adam', 'beta2', cfg.beta2 ?? 0.999, 1);
    this.epsilon = positive('adam', 'epsilon', cfg.epsilon ?? 1e-7);
  }

  getConfig(): Record<string, number> {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  async build(ctx: Context, arena: ParamArena): Promise<OptimizerState> {
    const dev = ctx.device;
    const n = arena.length;
    const mk = (label: string, size: number) => dev.createBuffer({ label, size: size * 4, usage: STATE_USAGE });
    const m = mk('adam m', n), v = mk('adam v', n), step = mk('adam step', 4);
    const reset = () => {
      const enc = dev.createCommandEncoder();
      enc.clearBuffer(m);
      enc.clearBuffer(v);
      enc.clearBuffer(step);
      dev.queue.submit([enc.finish()]);
    };
    reset();
    const { params, grads } = arena.all;
    const t = (b: GPUBuffer, len: number, name: string) => new Tensor(b, [len], 0, false, name);
    const program = new Program(dev);
    const hyper = { n, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
    program.dispatch(await ctx.kernel('optim', 'adamStep'), { state: t(step, 1, 'step') }, {}, [1, 1, 1]);
    program.dispatch(
      await ctx.kernel('optim', 'adamUpdate'),
      { p: params, g: grads, m: t(m, n, 'm'), v: t(v, n, 'v'), stateIn: t(step, 1, 'step') },
      hyper,
      n,
    );
    return {
      program,
      reset,
      destroy() {
        program.dispose();
        m.destroy();
        v.destroy();
        step.destroy();
      },
    };
  }
}

export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly learningRate: number;

  constructor(cfg: SgdConfig = {}) {
    super();
    this.learningRate = positive('sgd', 'learningRate', cfg.learningRate ?? 0.01);
  }

  getConfig(): Record<string, number> {
    return { learningRate: this.learningRate };
  }

  async build(ctx: Context, arena: ParamArena): Promise<OptimizerState> {
    const program = new Program(ctx.device);
    const { params, grads } = arena.all;
    program.dispatch(
      await ctx.kernel('optim', 'sgdUpdate'),
      { p: params, g: grads },
      { n: arena.length, learningRate: this.learningRate, beta1: 0, beta2: 0, epsilon: 0 },
      arena.length,
    );
    return { program, reset() {}, destroy: () => program.dispose() };
  }
}

/** Resolves an optimizer given by instance or by name ('adam', 'sgd'). */
export function resolveOptimizer(o: Optimizer | string): Optimizer {
  if (o instanceof Optimizer) return o;
  switch (o) {
    case 'adam':
    case 'Adam':
      return new Adam();
    case 'sgd':
    case 'SGD':
      return new SGD();
    default:
      throw new Error(`compile: unknown optimizer '${String(o)}' (expected an optimizer object or one of: adam, sgd)`);
  }
}
