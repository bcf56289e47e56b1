/**
 * GPU test helpers: the real device (Dawn + a software Vulkan driver in Node). A missing adapter
 * makes `gpuContext()` throw, which fails the test: GPU tests are never skipped.
 */
import { getContext, type Context } from '../../src/gpu/context';
import { Graph } from '../../src/autograd/tape';
import { upload, readback } from '../../src/gpu/io';
import type { Tensor } from '../../src/tensor';
import { mul } from '../../src/ops/elementwise';
import { sum } from '../../src/ops/reduce';

export async function gpuContext(): Promise<Context> {
  return getContext();
}

/** A pooled input tensor holding `data` (float64 data is rounded to f32). */
export function input(g: Graph, shape: number[], data: ArrayLike<number>, requiresGrad = false, name = 'input'): Tensor {
  const t = g.alloc(shape, name, requiresGrad);
  upload(g.ctx.device, t, Float32Array.from(data as ArrayLike<number>));
  return t;
}

/** Encodes the graph's step once, submits it, checks GPU errors and reads `tensors` back as float64. */
export async function run(g: Graph, ...tensors: Tensor[]): Promise<Float64Array[]> {
  const dev = g.ctx.device;
  dev.pushErrorScope('validation');
  const enc = dev.createCommandEncoder();
  g.encode(enc);
  dev.queue.submit([enc.finish()]);
  const err = await dev.popErrorScope();
  if (err) throw new Error(`GPU validation error: ${err.message}`);
  g.ctx.gpu.checkErrors();
  const out = await readback(dev, ...tensors);
  return out.map((a) => Float64Array.from(a));
}

/** f32 rounding of a float64 array (what the GPU actually receives). */
export function f32(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(Float32Array.from(a as ArrayLike<number>));
}

/** loss = Σ r ⊙ y (r a constant input): its backward seeds dy = r, so tests can check any gradient. */
export async function weightedSum(g: Graph, y: Tensor, r: Float64Array): Promise<Tensor> {
  return sum(g, await mul(g, y, input(g, [...y.shape], r, false, 'r')));
}

export { Graph };
