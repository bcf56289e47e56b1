/**
 * Batched inference over host data, for evaluate, fit's validation and predict: one submit per
 * batch and ONE readback at the end (evaluate's losses and metrics are summed on the GPU in a
 * Totals buffer of its own, so it may run between training steps; predict's outputs are copied
 * into one buffer per output).
 */
import { noteSubmit } from '../gpu/dawn-poll';
import type { Context } from '../gpu/context';
import { readback } from '../gpu/io';
import type { HostTensor } from '../host';
import { Tensor, shapeSize } from '../tensor';
import type { PlanFor, Totals } from './plans';
import { logsFromSums, type CompiledConfig } from './compile';
import { batchRows, cutRows, type HostBatch } from './data';
import { batchShape, uploadBatch } from './train-loop';
import type { EvaluateArgs } from './types';
import { checkOptions, is } from '../options';

/** evaluate's and predict's batchSize (default 128), checked; `where` prefixes the error. */
export function checkBatchSize(args: EvaluateArgs, where: string): number {
  checkOptions(where, args ?? null, { batchSize: is.positiveInt, sampleWeight: is.any }, '{batchSize: 128}');
  const batchSize = args.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  return batchSize;
}

/**
 * The logs (loss, per-output losses, metrics; no val_ prefix) over `data`, summed on the GPU in
 * `totals` and read back once. `beginBatch` is called with each batch's rows before it runs.
 */
export async function evaluateBatches(ctx: Context, plan: PlanFor, totals: Totals, compiled: CompiledConfig, data: HostBatch, batchSize: number, beginBatch?: (rows: number) => void): Promise<Record<string, number>> {
  const dev = ctx.device;
  const n = batchRows(data);
  totals.clear();
  for (let start = 0; start < n; start += batchSize) {
    const batch = cutRows(data, start, Math.min(n, start + batchSize));
    const p = await plan(batchShape('eval', batch));
    beginBatch?.(batchRows(batch));
    uploadBatch(dev, p, batch);
    const enc = dev.createCommandEncoder();
    p.graph.encode(enc);
    dev.queue.submit([enc.finish()]);
    noteSubmit(forwardDispatches(p));
  }
  return logsFromSums(compiled, await totals.read(), n);
}

/** Bytes of outputs gathered on the GPU before one readback (predict reads back once per this much). */
export const PREDICT_CHUNK_BYTES = 64 << 20;

/**
 * The model's outputs for every row of `xs` (one HostTensor per output; `outShapes[i]` is output
 * i's shape per row). Batches' outputs are gathered on the GPU and read back once per chunk of
 * PREDICT_CHUNK_BYTES (once in all for most data), so only a batch's buffers and a chunk's count
 * against the device's limits, however many rows there are.
 */
export async function predictBatches(ctx: Context, plan: PlanFor, xs: HostTensor[], batchSize: number, outShapes: readonly (readonly number[])[], beginBatch?: (rows: number) => void): Promise<HostTensor[]> {
  const dev = ctx.device;
  const n = xs[0]!.shape[0]!;
  const outRows = outShapes.map((s) => shapeSize(s));
  const rowBytes = 4 * Math.max(...outRows, 1);
  const budget = Math.min(PREDICT_CHUNK_BYTES, dev.limits.maxStorageBufferBindingSize);
  const chunkRows = Math.max(batchSize, Math.floor(budget / rowBytes / batchSize) * batchSize);
  const outputs = outRows.map((r, i) => {
    try {
      return new Float32Array(n * r);
    } catch {
      throw new RangeError(`predict: output ${i} of ${n} rows × ${r} values (${n * r * 4} bytes) does not fit in memory; predict fewer rows at a time`);
    }
  });
  for (let c0 = 0; c0 < n; c0 += chunkRows) {
    const c1 = Math.min(n, c0 + chunkRows);
    const results = outRows.map((r, i) => ctx.pool.acquire((c1 - c0) * r * 4, `predictions ${i}`));
    try {
      for (let start = c0; start < c1; start += batchSize) {
        const batch = cutRows({ xs, ys: [], sampleWeight: null }, start, Math.min(c1, start + batchSize));
        const rows = batchRows(batch);
        const p = await plan({ mode: 'predict', xShapes: batch.xs.map((x) => x.shape), yShapes: [], sampleWeight: false });
        beginBatch?.(rows);
        uploadBatch(dev, p, batch);
        const enc = dev.createCommandEncoder();
        p.graph.encode(enc);
        p.outs.forEach((o, i) => enc.copyBufferToBuffer(o.buffer, o.byteOffset, results[i]!, (start - c0) * outRows[i]! * 4, rows * outRows[i]! * 4));
        dev.queue.submit([enc.finish()]);
        noteSubmit(forwardDispatches(p));
      }
      const data = await readback(dev, ...results.map((r, i) => new Tensor(r, [(c1 - c0) * outRows[i]!], 0, false, `predictions ${i}`)));
      ctx.gpu.checkErrors();
      data.forEach((d, i) => outputs[i]!.set(d, c0 * outRows[i]!));
    } finally {
      for (const r of results) ctx.pool.release(r);
    }
  }
  return outputs.map((d, i) => ({ data: d, shape: [n, ...outShapes[i]!] }));
}

/** Compute dispatches of one inference batch (what noteSubmit is told). */
function forwardDispatches(p: { graph: { clears: { dispatchCount: number }; forward: { dispatchCount: number } } }): number {
  return p.graph.clears.dispatchCount + p.graph.forward.dispatchCount;
}
