/**
 * The optimizers' public option types and the per-model state an optimizer builds (types only).
 */
import type { Program } from '../gpu/program';
import type { Variable } from '../gpu/arena';
import type { Tensor } from '../tensor';
import type { LearningRateLike } from './schedules';

/** Keras 3 gradient clipping; at most one of the three may be set. */
export interface ClipConfig {
  /** Each variable's gradient is rescaled so that its L2 norm is at most this (> 0). */
  clipnorm?: number;
  /** All gradients are scaled by min(1, globalClipnorm / ‖g‖_global) (> 0). */
  globalClipnorm?: number;
  /** Gradients are clipped elementwise to [-clipvalue, clipvalue] (> 0). */
  clipvalue?: number;
}

/** Options shared by every optimizer. */
export interface OptimizerConfig extends ClipConfig {
  /** A number > 0 or a schedule from `rnn.optimizers.schedules`. */
  learningRate?: LearningRateLike;
  /** Decoupled weight decay p -= p·wd·lr before each update (Keras `weight_decay`); >= 0. */
  weightDecay?: number;
}

/** Options of `rnn.optimizers.adam` (Keras `Adam`). */
export interface AdamConfig extends OptimizerConfig {
  /** Default 0.001. */
  learningRate?: LearningRateLike;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-7 (Keras). */
  epsilon?: number;
}

/** Options of `rnn.optimizers.adamw` (Keras `AdamW`). */
export interface AdamWConfig extends AdamConfig {
  /** Default 0.004 (Keras AdamW). */
  weightDecay?: number;
}

/** Options of `rnn.optimizers.sgd` (Keras `SGD`). */
export interface SgdConfig extends OptimizerConfig {
  /** Default 0.01 (Keras). */
  learningRate?: LearningRateLike;
  /** In [0, 1); default 0 (plain SGD, no momentum buffer). */
  momentum?: number;
  /** Nesterov momentum (Keras formulation); default false. */
  nesterov?: boolean;
}

/** Options of `rnn.optimizers.rmsprop` (Keras `RMSprop`). */
export interface RmspropConfig extends OptimizerConfig {
  /** Default 0.001. */
  learningRate?: LearningRateLike;
  /** Discount of the squared-gradient average, in (0, 1); default 0.9. */
  rho?: number;
  /** In [0, 1); default 0. */
  momentum?: number;
  /** Added inside the square root, as Keras 3 does; default 1e-7. */
  epsilon?: number;
  /** Normalise by the estimated variance instead of the second moment; default false. */
  centered?: boolean;
}

/**
 * The per-model state an optimizer builds: its update program and moment buffers.
 * @internal
 */
export interface OptimizerState {
  /** The clip + update dispatches; encoded after each step's backward pass. */
  program: Program;
  /** Moment slots per moment buffer: the trainable variables' elements (frozen ones have none). */
  slots: number;
  /**
   * Writes this step's learning rate (and Adam's bias-corrected step size) and advances the step
   * counters. Call exactly once per encoded update, before the submit that contains it.
   */
  prepareStep(): void;
  /** Zeroes the moment buffers and the bias-correction step (the schedule's step count goes on). */
  reset(): void;
  /** The variables with moment slots, in slot order (a variable's slots follow the previous ones'). */
  vars: readonly Variable[];
  /** The moment buffers this optimizer uses ('m', 'v', 'mg'), each `slots` floats. */
  moments: readonly MomentName[];
  /** Reads the moments and the step counters back (saving a model with its optimizer). */
  exportState(): Promise<OptimizerSnapshot>;
  /**
   * What exportState reads, without reading it: the moment tensors (`moments` order) and the
   * counters of the steps queued so far — for the host backup, which reads them together with the
   * weights in one readback (src/model/backup.ts).
   */
  stateSources(): { tensors: Tensor[]; slotStep: number; iterations: number };
  /** Restores a snapshot (same moments and slot count, checked by the caller); queued like any write. */
  importState(s: OptimizerSnapshot): void;
  destroy(): void;
}

/** A moment buffer: Adam's m and v, SGD's momentum m, RMSprop's v, m and mg. */
export type MomentName = 'm' | 'v' | 'mg';

/** The optimizer's state on the host: what makes a resumed run continue exactly. */
export interface OptimizerSnapshot {
  /** Each used moment buffer, `slots` floats in the order of `vars`. */
  moments: Partial<Record<MomentName, Float32Array>>;
  /** Adam's bias-correction step (restarts at setWeights). */
  slotStep: number;
  /** Updates applied (schedules read it). */
  iterations: number;
}
