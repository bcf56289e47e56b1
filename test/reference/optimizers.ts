/**
 * Float64 references of the optimizer steps, gradient clipping and weight decay, written after
 * Keras 3's Python source line by line (keras/src/optimizers/{sgd,rmsprop,adamw}.py and
 * base_optimizer.py). Adam itself is `adamStepRef` in ./ops.ts. All steps mutate their arrays in
 * place; gradients are given per variable (Float64Array[]) where clipping needs the boundaries.
 */
import { adamStepRef, type AdamRefOptions } from './ops';

// ---------------------------------------------------------------- clipping (base_optimizer.py)

/** `ops.clip(g, -v, v)` for every gradient. */
export function clipByValueRef(grads: Float64Array[], clipvalue: number): Float64Array[] {
  return grads.map((g) => g.map((x) => Math.min(Math.max(x, -clipvalue), clipvalue)));
}

/**
 * Keras `_clip_by_norm`, per variable:
 *   l2sum = Σ g²;  l2norm = l2sum > 0 ? sqrt(l2sum) : l2sum;  g · clipnorm / max(l2norm, clipnorm)
 */
export function clipByNormRef(grads: Float64Array[], clipnorm: number): Float64Array[] {
  return grads.map((g) => {
    let l2sum = 0;
    for (const x of g) l2sum += x * x;
    const l2norm = l2sum > 0 ? Math.sqrt(l2sum) : l2sum;
    return g.map((x) => (x * clipnorm) / Math.max(l2norm, clipnorm));
  });
}

/** Keras `global_norm`: sqrt of the sum of every gradient's Σ g². */
export function globalNormRef(grads: Float64Array[]): number {
  let s = 0;
  for (const g of grads) for (const x of g) s += x * x;
  return Math.sqrt(s);
}

/**
 * Keras `clip_by_global_norm`:
 *   scale = clip_norm · min(1/‖g‖, 1/clip_norm) + (‖g‖ - ‖g‖);  g · scale
 * (the last term turns a non-finite norm into a NaN scale).
 */
export function clipByGlobalNormRef(grads: Float64Array[], clipNorm: number): Float64Array[] {
  const useNorm = globalNormRef(grads);
  const scale = clipNorm * Math.min(1 / useNorm, 1 / clipNorm) + (useNorm - useNorm);
  return grads.map((g) => g.map((x) => x * scale));
}

/** Keras `_apply_weight_decay`: variable - variable · wd · lr. */
export function weightDecayRef(p: Float64Array, weightDecay: number, lr: number): void {
  for (let i = 0; i < p.length; i++) p[i] = p[i]! - p[i]! * weightDecay * lr;
}

// ---------------------------------------------------------------- optimizers

export interface SgdRefOptions {
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
}

/**
 * Keras 3 SGD (sgd.py `update_step`):
 *   momentum 0:  p -= g · lr
 *   else:        m = m · momentum - g · lr;  p += m   (nesterov: p += m · momentum - g · lr)
 */
export function sgdMomentumStepRef(p: Float64Array, g: Float64Array, m: Float64Array, opts: SgdRefOptions): void {
  const { learningRate: lr, momentum = 0, nesterov = false } = opts;
  for (let i = 0; i < p.length; i++) {
    if (momentum === 0) {
      p[i] = p[i]! - g[i]! * lr;
      continue;
    }
    m[i] = m[i]! * momentum - g[i]! * lr;
    p[i] = nesterov ? p[i]! + (m[i]! * momentum - g[i]! * lr) : p[i]! + m[i]!;
  }
}

export interface RmspropRefOptions {
  learningRate?: number;
  rho?: number;
  momentum?: number;
  epsilon?: number;
  centered?: boolean;
}

/**
 * Keras 3 RMSprop (rmsprop.py `update_step`); epsilon is added INSIDE the square root:
 *   v = ρ·v + (1-ρ)·g²
 *   centered: mg = ρ·mg + (1-ρ)·g;  den = v - mg² + ε     else den = v + ε
 *   inc = lr·g / sqrt(den);  momentum > 0: m = μ·m + inc; p -= m    else p -= inc
 */
export function rmspropStepRef(p: Float64Array, g: Float64Array, v: Float64Array, m: Float64Array, mg: Float64Array, opts: RmspropRefOptions = {}): void {
  const { learningRate: lr = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false } = opts;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    v[i] = rho * v[i]! + (1 - rho) * gi * gi;
    let den: number;
    if (centered) {
      mg[i] = rho * mg[i]! + (1 - rho) * gi;
      den = v[i]! - mg[i]! * mg[i]! + epsilon;
    } else {
      den = v[i]! + epsilon;
    }
    const inc = (lr * gi) / Math.sqrt(den);
    if (momentum > 0) {
      m[i] = momentum * m[i]! + inc;
      p[i] = p[i]! - m[i]!;
    } else {
      p[i] = p[i]! - inc;
    }
  }
}

export interface AdamwRefOptions extends AdamRefOptions {
  /** Default 0.004 (Keras AdamW). */
  weightDecay?: number;
}

/**
 * Keras 3 AdamW = Adam + the base optimizer's weight decay, applied BEFORE the Adam update with
 * the same learning rate: p = p - p·wd·lr, then `adamStepRef` (step is 1-based).
 */
export function adamwStepRef(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, step: number, opts: AdamwRefOptions = {}): void {
  const { weightDecay = 0.004, ...adam } = opts;
  weightDecayRef(p, weightDecay, adam.learningRate ?? 0.001);
  adamStepRef(p, g, m, v, step, adam);
}

// ---------------------------------------------------------------- schedules (learning_rate_schedule.py)

/** initial · rate^(step / decaySteps), the exponent floored when staircase. */
export function exponentialDecayRef(step: number, initial: number, decaySteps: number, rate: number, staircase = false): number {
  const p = staircase ? Math.floor(step / decaySteps) : step / decaySteps;
  return initial * Math.pow(rate, p);
}

/** values[0] if step <= b[0]; values[i] if b[i-1] < step <= b[i]; values[last] if step > b[last]. */
export function piecewiseConstantRef(step: number, boundaries: number[], values: number[]): number {
  let r = 0;
  if (step <= boundaries[0]!) r += values[0]!;
  if (step > boundaries[boundaries.length - 1]!) r += values[values.length - 1]!;
  for (let i = 0; i + 1 < boundaries.length; i++) if (step > boundaries[i]! && step <= boundaries[i + 1]!) r += values[i + 1]!;
  return r;
}
