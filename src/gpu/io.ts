/**
 * Host <-> GPU transfers. Readbacks are the only place that waits on the GPU; the training loop
 * calls them once per epoch (or every N steps), never inside a step.
 */
import type { Tensor } from '../tensor';
import { DeviceLostError, GpuError, gpuOf } from './device';

/** Writes host data into a tensor (queued; ordered before later submits). */
export function upload(device: GPUDevice, t: Tensor, data: Float32Array | Float64Array | readonly number[], offsetElems = 0): void {
  const src = data instanceof Float32Array ? data : Float32Array.from(data);
  if (src.length + offsetElems > t.size) throw new RangeError(`upload: ${src.length} values do not fit ${t.name} [${t.shape.join(', ')}]`);
  device.queue.writeBuffer(t.buffer, t.byteOffset + offsetElems * 4, src.buffer, src.byteOffset, src.byteLength);
}

/** Copies tensors to the host (one staging buffer, one submit, one map). */
export async function readback(device: GPUDevice, ...tensors: Tensor[]): Promise<Float32Array[]> {
  const total = tensors.reduce((n, t) => n + t.bytes, 0);
  const staging = device.createBuffer({ size: Math.max(4, total), usage: 0x0001 | 0x0008 }); // MAP_READ | COPY_DST
  const enc = device.createCommandEncoder();
  let off = 0;
  for (const t of tensors) {
    enc.copyBufferToBuffer(t.buffer, t.byteOffset, staging, off, t.bytes);
    off += t.bytes;
  }
  device.queue.submit([enc.finish()]);
  try {
    await staging.mapAsync(0x0001).catch((e: unknown) => mapFailed(device, e)); // GPUMapMode.READ
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    const out: Float32Array[] = [];
    off = 0;
    for (const t of tensors) {
      out.push(all.subarray(off, off + t.size));
      off += t.size;
    }
    return out;
  } finally {
    staging.destroy();
  }
}

/**
 * Why a readback's map failed. On a lost device Dawn and browsers reject with a bare AbortError
 * (empty message); the device's `lost` promise settles within milliseconds, so wait briefly for it
 * and say what happened.
 */
async function mapFailed(device: GPUDevice, e: unknown): Promise<never> {
  const gpu = gpuOf(device);
  const lost = gpu ? await Promise.race([gpu.whenLost, new Promise<null>((r) => setTimeout(() => r(null), 250))]) : null;
  if (lost) throw new DeviceLostError(`${lost}; call \`await rnn.recover()\` to continue on a new device`);
  const err = e as Error;
  throw new GpuError(`reading back from the GPU failed: ${err?.name ?? 'Error'}${err?.message ? `: ${err.message}` : ''}`);
}
