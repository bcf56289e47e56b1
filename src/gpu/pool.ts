/**
 * Pooled GPU buffers. Buffers are bucketed by size (powers of two, at least 256 bytes) and
 * reused, so a training run allocates during its first steps and never again: `bytesAllocated`
 * stays flat across epochs (checked in test/unit/model.test.ts).
 */
// STORAGE | COPY_SRC | COPY_DST, the spec's constant values (GPUBufferUsage is not a global in
// Node until Dawn is loaded).
export const STORAGE_USAGE = 0x80 | 0x04 | 0x08;

/**
 * A storage buffer owned by its caller (parameters, optimizer state, recurrent state), not pooled:
 * the one place outside the pool that creates storage buffers. At least 16 bytes.
 */
export function createStorageBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: STORAGE_USAGE });
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private live = new Set<GPUBuffer>();
  /** Total bytes of all buffers this pool has created (in use or free). */
  bytesAllocated = 0;

  constructor(readonly device: GPUDevice) {}

  static bucket(bytes: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
  }

  /** A storage buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number, label = 'pooled'): GPUBuffer {
    const size = BufferPool.bucket(bytes);
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (size > max && bytes <= max) return this.create(bytes, label);
    if (bytes > max) {
      // (plans are checked before this from their shapes, src/model/limits.ts; this is the last guard)
      throw new RangeError(`${label}: a ${bytes}-byte tensor exceeds this device's maxStorageBufferBindingSize (${max} bytes); use a smaller batchSize, shorter sequences or fewer units`);
    }
    const list = this.free.get(size);
    const buf = list?.pop() ?? this.create(size, label);
    this.live.add(buf);
    return buf;
  }

  private create(size: number, label: string): GPUBuffer {
    const buf = this.device.createBuffer({ label, size, usage: STORAGE_USAGE });
    this.bytesAllocated += size;
    this.live.add(buf);
    return buf;
  }

  /** Returns a buffer to the pool for reuse. */
  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) throw new Error('BufferPool.release: buffer is not live in this pool (released twice?)');
    const list = this.free.get(buf.size) ?? [];
    list.push(buf);
    this.free.set(buf.size, list);
  }

  /** Destroys the free buffers (live ones stay). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) {
      this.bytesAllocated -= b.size;
      b.destroy();
    }
    this.free.clear();
  }
}
