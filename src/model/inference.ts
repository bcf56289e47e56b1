/**
 * Batched inference over host arrays, for evaluate, fit's validation and predict: one submit per
 * batch and ONE readback at the end (evaluate's loss and metrics are summed on the GPU in the
 * Totals buffer; predict's outputs are copied into one buffer).
 */
import type { Context } from '../gpu/context';
import { readback, upload } from '../gpu/io';
import type { HostTensor } from '../host';
import { Tensor, shapeSize } from '../tensor';
import type { PlanFor, Totals } from './plans';
import type { EvaluateArgs } from './types';

/** evaluate's and predict's batchSize (default 128), checked; `where` prefixes the error. */
export function checkBatchSize(args: EvaluateArgs, where: string): number {
  const batchSize = args.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  return batchSize;
}

/** [loss, ...metrics] over (x, y), averaged over the rows; `nMetrics` compiled metrics. */
export async function evaluateBatches(ctx: Context, plan: PlanFor, totals: Totals, nMetrics: number, x: HostTensor, y: HostTensor, batchSize: number): Promise<number[]> {
  const dev = ctx.device;
  const n = x.shape[0]!;
  const xRow = x.data.length / n, yRow = y.data.length / n;
  totals.clear();
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const p = await plan('eval', [rows, ...x.shape.slice(1)], [rows, ...y.shape.slice(1)]);
    upload(dev, p.x, x.data.subarray(start * xRow, (start + rows) * xRow));
    upload(dev, p.y!, y.data.subarray(start * yRow, (start + rows) * yRow));
    const enc = dev.createCommandEncoder();
    p.graph.encode(enc);
    dev.queue.submit([enc.finish()]);
  }
  const t = await totals.read(1 + nMetrics);
  return Array.from(t, (v) => v / n);
}

/** The model's outputs (shape `outShape` per row) for every row of x, read back once. */
export async function predictBatches(ctx: Context, plan: PlanFor, x: HostTensor, batchSize: number, outShape: readonly number[]): Promise<HostTensor> {
  const dev = ctx.device;
  const n = x.shape[0]!;
  const xRow = x.data.length / n;
  const outRow = shapeSize(outShape);
  const result = ctx.pool.acquire(n * outRow * 4, 'predictions');
  try {
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      const p = await plan('predict', [rows, ...x.shape.slice(1)], null);
      upload(dev, p.x, x.data.subarray(start * xRow, (start + rows) * xRow));
      const enc = dev.createCommandEncoder();
      p.graph.encode(enc);
      enc.copyBufferToBuffer(p.out.buffer, p.out.byteOffset, result, start * outRow * 4, rows * outRow * 4);
      dev.queue.submit([enc.finish()]);
    }
    const [data] = await readback(dev, new Tensor(result, [n * outRow], 0, false, 'predictions'));
    ctx.gpu.checkErrors();
    return { data: data!, shape: [n, ...outShape] };
  } finally {
    ctx.pool.release(result);
  }
}
