/**
 * Forecasting helpers from the chapter: iterative multi-step forecasting (feed each prediction
 * back as the next input) for a model that predicts one step ahead from a [B, T, 1] window.
 * Models with a variable sequence length (inputShape [null, 1]) see the whole growing sequence,
 * as in the book; models with a fixed length (e.g. Flatten → Dense) see a sliding window.
 * Sequence-to-vector and sequence-to-sequence targets come from src/data/synthetic.ts
 * (`chapterData('10-step' | 'seq2seq')`, `seq2seqTargets`).
 */
import { toHostTensor, type HostTensor, type TensorLike } from './host';
import type { Sequential } from './model/sequential';

/**
 * Predicts `steps` values ahead by running `model` `steps` times, each time appending its
 * prediction to the input sequence (the whole growing sequence is fed, as in the book: lengths
 * T, T+1, …, T+steps−1) when the model accepts any length; otherwise the window slides (the last
 * T values). The model must output [B, 1]. Returns [B, steps].
 */
export async function iterativeForecast(model: Sequential, xIn: TensorLike, steps: number, opts: { batchSize?: number } = {}): Promise<HostTensor> {
  if (!Number.isInteger(steps) || steps <= 0) throw new RangeError(`iterativeForecast: steps must be a positive integer, got ${steps}`);
  const x = toHostTensor(xIn, 'iterativeForecast: x');
  if (x.shape.length !== 3 || x.shape[2] !== 1) throw new RangeError(`iterativeForecast: x must be [batch, time, 1], got [${x.shape.join(', ')}]`);
  const [B, T] = x.shape as [number, number, number];
  const out = new Float32Array(B * steps);
  const sliding = model.inputShape?.[0] != null;
  let cur = x.data;
  for (let k = 0; k < steps; k++) {
    const t = sliding ? T : T + k;
    const pred = await model.predict({ data: cur, shape: [B, t, 1] }, opts);
    if (pred.shape.length !== 2 || pred.shape[1] !== 1) {
      throw new RangeError(`iterativeForecast: the model must output [batch, 1], got [${pred.shape.join(', ')}]`);
    }
    // append the prediction (and, for a fixed-length model, drop the oldest value)
    const keep = sliding ? t - 1 : t;
    const next = new Float32Array(B * (keep + 1));
    for (let b = 0; b < B; b++) {
      next.set(cur.subarray((b + 1) * t - keep, (b + 1) * t), b * (keep + 1));
      next[b * (keep + 1) + keep] = pred.data[b]!;
      out[b * steps + k] = pred.data[b]!;
    }
    cur = next;
  }
  return { data: out, shape: [B, steps] };
}
