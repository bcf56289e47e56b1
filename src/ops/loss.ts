/**
 * Regression losses and metrics (shaders/loss.wgsl), forward and backward, Keras 3 formulas:
 * mean squared error, mean absolute error and Huber, over a window [t0, t1) of time steps
 * ([B, T, F] outputs; the full range by default, [T-1, T) for last_time_step_mse, [50, T) for the
 * weather lesson's warm-up), with Keras masking (a [B, T] mask: masked steps count nothing and the
 * mean is over the unmasked ones) and per-row sample weights. Everything stays on the GPU; the
 * running sums the training loop reads once per epoch are accumulated by the last two functions.
 */
import type { Graph } from '../autograd/tape';
import { Tensor } from '../tensor';
import { LOSS_CODES } from '../gpu/wgsl-constants';

export type LossKind = keyof typeof LOSS_CODES;

export interface LossOptions {
  /** Time steps [t0, t1) of [B, T, F] tensors that count (default all). */
  window?: [number, number] | undefined;
  /** Huber's delta (Keras default 1.0). */
  delta?: number;
  /** [B, T] Keras mask (1 keep, 0 skip); only for [B, T, ...] tensors. */
  mask?: Tensor | null;
  /** [B] per-row weights (Keras sample_weight). */
  sampleWeight?: Tensor | null;
}

/** A loss's scalar value and its running statistics [Σ w·l, divisor, Σ w, 0] (for metrics). */
export interface LossResult {
  loss: Tensor;
  stats: Tensor;
}

/** [rows, steps, feats] view of a prediction/target: 2-D tensors have one step. */
export function lossDims(t: Tensor): { rows: number; steps: number; feats: number } {
  const s = t.shape;
  if (s.length === 1) return { rows: s[0]!, steps: 1, feats: 1 };
  if (s.length === 2) return { rows: s[0]!, steps: 1, feats: s[1]! };
  const rows = s[0]!;
  const steps = s[1]!;
  return { rows, steps, feats: t.size / (rows * steps) };
}

/**
 * The loss `kind` between pred and target (same shapes), differentiable in pred. `name` names it
 * in errors and on the tape.
 */
export async function regressionLoss(g: Graph, kind: LossKind, pred: Tensor, target: Tensor, opts: LossOptions = {}, name: string = kind): Promise<LossResult> {
  if (pred.shape.length !== target.shape.length || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new RangeError(`${name}: prediction shape [${pred.shape.join(', ')}] and target shape [${target.shape.join(', ')}] differ`);
  }
  const { rows, steps, feats } = lossDims(pred);
  const [t0, t1] = opts.window ?? [0, steps];
  if (!(Number.isInteger(t0) && Number.isInteger(t1) && t0 >= 0 && t1 <= steps && t0 < t1)) throw new RangeError(`${name}: time window [${t0}, ${t1}) is outside 0..${steps}`);
  const delta = opts.delta ?? 1;
  if (!(delta > 0 && Number.isFinite(delta))) throw new RangeError(`${name}: delta must be a positive number, got ${delta}`);
  const mask = opts.mask ?? null;
  const sw = opts.sampleWeight ?? null;
  if (mask && (pred.shape.length < 3 || mask.size !== rows * steps)) {
    throw new RangeError(`${name}: a mask [${mask.shape.join(', ')}] needs [batch, time, ...] outputs with [${rows}, ${steps}] steps, got [${pred.shape.join(', ')}]`);
  }
  if (sw && sw.size !== rows) throw new RangeError(`${name}: sample weights [${sw.shape.join(', ')}] for ${rows} rows`);
  const params = { rows, steps, feats, t0, t1, delta };
  const constants = { LOSS: LOSS_CODES[kind], HAS_MASK: mask ? 1 : 0, HAS_WEIGHT: sw ? 1 : 0 };
  const loss = g.alloc([1], name, g.needsGrad(pred));
  const stats = g.alloc([4], `${name} stats`);
  // Unused bindings get a placeholder: the pipeline constants say they are not read.
  const opt = { mask: mask ?? pred, sampleWeight: sw ?? pred };
  const k = await g.kernel('loss', 'lossForward', constants);
  g.forward.dispatch(k, k.ownBindings({ pred, truth: target, ...opt, loss, stats }), params, [1, 1, 1]);
  if (g.needsGrad(pred)) {
    g.record({
      name,
      inputs: [pred, target],
      outputs: [loss],
      saved: [pred, target],
      backward: async () => {
        const dLoss = g.gradIfAny(loss);
        if (!dLoss) return;
        const kb = await g.kernel('loss', 'lossBackward', constants);
        g.backwardProgram.dispatch(kb, kb.ownBindings({ pred, truth: target, ...opt, dLoss, statsIn: stats, dPred: g.grad(pred) }), params, rows * (t1 - t0) * feats);
      },
    });
  }
  return { loss, stats };
}

/** MSE between pred and target (same shapes), over time steps [t0, t1). Differentiable in pred. */
export async function mse(g: Graph, pred: Tensor, target: Tensor, window?: [number, number]): Promise<Tensor> {
  return (await regressionLoss(g, 'mse', pred, target, { window }, 'mse')).loss;
}

/** Records totals[slot] += weight · scalar (running sums read back once per epoch). */
export async function accumulateScalar(g: Graph, scalar: Tensor, totals: Tensor, slot: number, weight: number): Promise<void> {
  const k = await g.kernel('loss', 'accumulateScalar');
  g.forward.dispatch(k, { accIn: scalar, totals }, { slot, weight }, [1, 1, 1]);
}

/** Records totals[slot] += Σ w·l and totals[slot + 1] += Σ w from a loss's stats (a Keras Mean metric). */
export async function accumulateMetric(g: Graph, stats: Tensor, totals: Tensor, slot: number): Promise<void> {
  const k = await g.kernel('loss', 'accumulateMetric');
  g.forward.dispatch(k, { accIn: stats, totals }, { slot, weight: 0 }, [1, 1, 1]);
}

/** A metric's aliases of pred / target that carry no gradient (metrics are not differentiated). */
export function noGrad(t: Tensor): Tensor {
  const a = new Tensor(t.buffer, t.shape, t.byteOffset, false, t.name);
  a.mask = t.mask;
  return a;
}
