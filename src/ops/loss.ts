/**
 * Mean squared error over a window of time steps (shaders/loss.wgsl), forward and backward:
 *   loss = mean over the window of (pred - target)²,  dPred += dLoss · 2(pred - target)/n
 * `window` [t0, t1) selects time steps of [B, T, F] tensors: the full range is plain MSE,
 * [T-1, T) is Keras's last_time_step_mse, [50, T) the weather lesson's warm-up-excluded loss.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';

/** [rows, steps, feats] view of a prediction/target: 2-D tensors have one step. */
export function lossDims(t: Tensor): { rows: number; steps: number; feats: number } {
  const s = t.shape;
  if (s.length === 1) return { rows: s[0]!, steps: 1, feats: 1 };
  if (s.length === 2) return { rows: s[0]!, steps: 1, feats: s[1]! };
  const rows = s[0]!;
  const steps = s[1]!;
  return { rows, steps, feats: t.size / (rows * steps) };
}

/** MSE between pred and target (same shapes), over time steps [t0, t1). Differentiable in pred. */
export async function mse(g: Graph, pred: Tensor, target: Tensor, window?: [number, number]): Promise<Tensor> {
  if (pred.shape.length !== target.shape.length || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new RangeError(`mse: prediction shape [${pred.shape.join(', ')}] and target shape [${target.shape.join(', ')}] differ`);
  }
  const { rows, steps, feats } = lossDims(pred);
  const [t0, t1] = window ?? [0, steps];
  if (!(t0 >= 0 && t1 <= steps && t0 < t1)) throw new RangeError(`mse: time window [${t0}, ${t1}) is outside 0..${steps}`);
  const params = { rows, steps, feats, t0, t1 };
  const loss = g.alloc([1], 'mse', g.needsGrad(pred));
  const k = await g.kernel('loss', 'mseForward');
  g.forward.dispatch(k, { pred, truth: target, loss }, params, [1, 1, 1]);
  if (g.needsGrad(pred)) {
    g.record({
      name: 'mse',
      inputs: [pred, target],
      outputs: [loss],
      saved: [pred, target],
      backward: async () => {
        const dLoss = g.gradIfAny(loss);
        if (!dLoss) return;
        const kb = await g.kernel('loss', 'mseBackward');
        g.backwardProgram.dispatch(kb, { pred, truth: target, dLoss, dPred: g.grad(pred) }, params, rows * (t1 - t0) * feats);
      },
    });
  }
  return loss;
}

/** Records totals[slot] += weight · scalar (running sums read back once per epoch). */
export async function accumulateScalar(g: Graph, scalar: Tensor, totals: Tensor, slot: number, weight: number): Promise<void> {
  const k = await g.kernel('loss', 'accumulateScalar');
  g.forward.dispatch(k, { loss: scalar, totals }, { slot, weight }, [1, 1, 1]);
}
