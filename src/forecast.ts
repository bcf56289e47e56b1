/**
 * Forecasting helpers from the chapter: iterative multi-step forecasting (feed each prediction
 * back as the next input) for a model that predicts one step ahead from a [B, T, 1] window.
 * Models with a variable sequence length (inputShape [null, 1]) see the whole growing sequence,
 * as in the book, at streaming cost (src/model/feedback.ts); models with a fixed length (e.g.
 * Flatten → Dense) see a sliding window.
 * Sequence-to-vector and sequence-to-sequence targets come from src/data/synthetic.ts
 * (`chapterData('10-step' | 'seq2seq')`, `seq2seqTargets`).
 */
import { toHostTensor, type HostTensor, type TensorLike } from './host';
import type { Model } from './model/model';
import { Sequential } from './model/sequential';

/**
 * Predicts `steps` values ahead by feeding each prediction back as the next input (the chapter's
 * iterative forecast). The model must take `[batch, time, 1]` and output `[batch, 1]`.
 *
 * - A model that accepts any sequence length (input shape `[null, 1]`) sees the whole growing
 *   sequence, as in the book. A Sequential runs it at streaming cost: the window once, then one
 *   step per further prediction from the recurrent state kept on the GPU (as `model.predictStep`
 *   does), all in one submit: T + steps − 1 time steps of work instead of re-running T, T+1, …,
 *   T+steps−1 steps. A functional model, or one with a Bidirectional or `stateful` layer,
 *   re-runs the sequence.
 * - A model with a fixed length (e.g. Flatten → Dense) sees a sliding window of the last T values.
 *
 * A `predictStep` stream in progress keeps its state.
 *
 * @param model a model predicting the next value of a univariate series
 * @param xIn the windows, `[batch, time, 1]`
 * @param steps how many values to predict (a positive integer)
 * @param opts.batchSize rows per pass (default 128; results do not depend on it)
 * @returns the forecasts, `[batch, steps]`
 *
 * @example
 * ```ts
 * const { valid } = rnn.data.chapterData('10-step'); // x [2000, 50, 1], y [2000, 10]
 * const forecast = await rnn.iterativeForecast(model, valid.x, 10); // [2000, 10]
 * console.log(rnn.data.mse(forecast, valid.y));
 * ```
 */
export async function iterativeForecast(model: Model, xIn: TensorLike, steps: number, opts: { batchSize?: number } = {}): Promise<HostTensor> {
  if (!Number.isInteger(steps) || steps <= 0) throw new RangeError(`iterativeForecast: steps must be a positive integer, got ${steps}`);
  const x = toHostTensor(xIn, 'iterativeForecast: x');
  if (x.shape.length !== 3 || x.shape[2] !== 1) throw new RangeError(`iterativeForecast: x must be [batch, time, 1], got [${x.shape.join(', ')}]`);
  const batchSize = opts.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`iterativeForecast: batchSize must be a positive integer, got ${batchSize}`);
  const [B, T] = x.shape as [number, number, number];
  const seq = model instanceof Sequential ? model : null;
  if (!seq && model.inputs.length !== 1) throw new RangeError(`iterativeForecast: the model must have one input, got ${model.inputs.length}`);
  const sliding = (seq ? seq.inputShape : model.inputs[0]!.shape)?.[0] != null;
  if (!sliding && seq) {
    const streamed = await seq.forecastSteps(x, steps, batchSize);
    if (streamed) return streamed;
  }
  const out = new Float32Array(B * steps);
  let cur = x.data;
  for (let k = 0; k < steps; k++) {
    const t = sliding ? T : T + k;
    const out1 = await model.predict({ data: cur, shape: [B, t, 1] }, opts);
    const pred = Array.isArray(out1) ? (out1.length === 1 ? out1[0]! : null) : out1;
    if (!pred || pred.shape.length !== 2 || pred.shape[1] !== 1) {
      throw new RangeError(`iterativeForecast: the model must output [batch, 1], got ${pred ? `[${pred.shape.join(', ')}]` : `${(out1 as HostTensor[]).length} outputs`}`);
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
