/**
 * Iterative forecasting at streaming cost (rnn.iterativeForecast on a model that accepts any
 * sequence length): the window is run ONCE through a stateful 'step' plan of shape [B, T, 1], which
 * leaves every recurrent layer's final state on the GPU and gives the first prediction; then each
 * further prediction is one [B, 1, 1] step from that state (what predictStep does) with the
 * previous prediction as its input. The predictions are fed back on the GPU (a buffer copy) and
 * collected in one buffer: every step of a batch is encoded into one command buffer, submitted
 * once and read back once. Work: T + steps − 1 recurrent steps, instead of re-running the growing
 * sequence (steps·T + steps²/2).
 */
import type { Context } from '../gpu/context';
import { readback, upload } from '../gpu/io';
import type { HostTensor } from '../host';
import { Tensor } from '../tensor';
import { isStatefulLayer, type StatefulLayer } from '../layers/recurrent';
import type { Layer } from '../layers/layer';
import type { Plan, PlanFor } from './plans';

/**
 * Whether `layers` can forecast by streaming: no layer refuses a step plan (Bidirectional needs
 * the whole sequence) and no layer is `stateful` (their state already carries over between
 * predict calls, which the growing-sequence forecast keeps as it was).
 */
export function canStreamForecast(layers: readonly Layer[]): boolean {
  return layers.every((l) => l.className !== 'Bidirectional' && !(l as { stateful?: boolean }).stateful);
}

/**
 * The forecast of `steps` values for every row of x [n, T, 1] (rows in chunks of `batchSize`),
 * as [n, steps]. The stored states of the layers are saved first and restored afterwards, so a
 * predictStep stream in progress is not disturbed.
 */
export async function feedbackForecast(ctx: Context, plan: PlanFor, layers: readonly Layer[], x: HostTensor, steps: number, batchSize: number): Promise<HostTensor> {
  const [n, T] = x.shape as [number, number, number];
  const stateful = layers.filter(isStatefulLayer) as (Layer & StatefulLayer)[];
  const saved = await Promise.all(stateful.map((l) => l.getState()));
  const out = new Float32Array(n * steps);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      for (const l of stateful) {
        l.resetStates();
        l.beginStep(rows);
      }
      const stepPlan = (time: number) => plan({ mode: 'step', xShapes: [[rows, time, 1]], yShapes: [], sampleWeight: false });
      const warm = await stepPlan(T);
      const step = steps > 1 ? await stepPlan(1) : null;
      const chunk = await encodeForecast(ctx, warm, step, x.data.subarray(start * T, (start + rows) * T), rows, steps);
      for (let k = 0; k < steps; k++) for (let r = 0; r < rows; r++) out[(start + r) * steps + k] = chunk[k * rows + r]!;
    }
  } finally {
    for (const [i, l] of stateful.entries()) {
      l.resetStates();
      const s = saved[i];
      if (s) await l.setState(...s);
    }
  }
  return { data: out, shape: [n, steps] };
}


/** One command buffer: the warm-up pass, then steps − 1 single steps, each fed the previous output. */
async function encodeForecast(ctx: Context, warmPlan: Plan, stepPlan: Plan | null, xRows: Float32Array, rows: number, steps: number): Promise<Float32Array> {
  const dev = ctx.device;
  const bytes = rows * 4;
  const io = (p: Plan) => {
    const out = p.outs[0]!;
    if (p.xs.length !== 1 || p.outs.length !== 1 || out.size !== rows) {
      throw new RangeError(`iterativeForecast: the model must take one input and output [batch, 1], got ${p.outs.map((o) => `[${o.shape.join(', ')}]`).join(', ')}`);
    }
    return { graph: p.graph, x: p.xs[0]!, out };
  };
  const warm = io(warmPlan);
  const step = stepPlan ? io(stepPlan) : null;
  const result = ctx.pool.acquire(steps * bytes, 'forecast');
  try {
    upload(dev, warm.x, xRows);
    const enc = dev.createCommandEncoder();
    warm.graph.encode(enc);
    enc.copyBufferToBuffer(warm.out.buffer, warm.out.byteOffset, result, 0, bytes);
    if (step) {
      enc.copyBufferToBuffer(warm.out.buffer, warm.out.byteOffset, step.x.buffer, step.x.byteOffset, bytes);
      for (let k = 1; k < steps; k++) {
        step.graph.encode(enc);
        enc.copyBufferToBuffer(step.out.buffer, step.out.byteOffset, result, k * bytes, bytes);
        if (k < steps - 1) enc.copyBufferToBuffer(step.out.buffer, step.out.byteOffset, step.x.buffer, step.x.byteOffset, bytes);
      }
    }
    dev.queue.submit([enc.finish()]);
    const [data] = await readback(dev, new Tensor(result, [steps * rows], 0, false, 'forecast'));
    ctx.gpu.checkErrors();
    return data!;
  } finally {
    ctx.pool.release(result);
  }
}
