/**
 * GPU tensors: a shape and a range of a GPU buffer (row-major f32). Tensors never own memory;
 * buffers come from the BufferPool (activations) or the parameter arena (weights).
 */
export class Tensor {
  /** Set for zero-copy reshapes: this tensor is a view of `aliasOf` (same buffer and bytes). */
  aliasOf: Tensor | null = null;
  /**
   * Keras-style sequence mask of a [B, T, ...] tensor: a [B, T] tensor of 1 (step used) / 0 (step
   * masked), set by rnn.layers.masking and propagated by Sequential to the layers that follow.
   */
  mask: Tensor | null = null;

  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    /** Byte offset into the buffer (a multiple of minStorageBufferOffsetAlignment). */
    readonly byteOffset = 0,
    /** Whether gradients flow into this tensor during backward. */
    readonly requiresGrad = false,
    readonly name = 'tensor',
  ) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new RangeError(`${name}: invalid shape [${shape.join(', ')}]`);
    }
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  get bytes(): number {
    return this.size * 4;
  }

  /** The bind-group resource for this tensor's range. */
  get binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: this.byteOffset, size: this.bytes };
  }

  /** A zero-copy view with another shape of the same size. */
  reshape(shape: readonly number[]): Tensor {
    if (shapeSize(shape) !== this.size) {
      throw new RangeError(`${this.name}: cannot reshape [${this.shape.join(', ')}] to [${shape.join(', ')}]`);
    }
    const t = new Tensor(this.buffer, shape, this.byteOffset, this.requiresGrad, this.name);
    t.aliasOf = this.aliasOf ?? this;
    return t;
  }
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
