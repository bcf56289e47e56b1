/**
 * A layer's random stream on the GPU (dropout masks, Gaussian noise): a 16-byte counter that the
 * training step advances (ops/sequence.ts advanceRng), so every step draws new values without the
 * CPU. Saving a model with its training state keeps the counter (`read`), and a loaded model
 * starts from it (`restore`), so a resumed run draws exactly the masks an uninterrupted one would.
 */
import type { Context } from '../gpu/context';
import { createStorageBuffer } from '../gpu/pool';
import { readback } from '../gpu/io';
import { Tensor } from '../tensor';

export class RandomStream {
  private state: { ctx: Context; buffer: GPUBuffer } | null = null;
  /** Words to start from when the buffer is made (restored before the layer ran). */
  private pending: Uint32Array | null = null;

  constructor(private readonly label: string) {}

  /** The counter's buffer on this context (made on first use, zero or the restored words). */
  buffer(ctx: Context): GPUBuffer {
    if (!this.state || this.state.ctx !== ctx) {
      this.state = { ctx, buffer: createStorageBuffer(ctx.device, 16, this.label) };
      if (this.pending) ctx.device.queue.writeBuffer(this.state.buffer, 0, this.pending);
      this.pending = null;
    }
    return this.state.buffer;
  }

  /** The counter's 4 words, or null when the stream was never used (nothing to save). */
  async read(): Promise<number[] | null> {
    if (!this.state) return this.pending ? [...this.pending] : null;
    const [f] = await readback(this.state.ctx.device, new Tensor(this.state.buffer, [4], 0, false, this.label));
    // the same bytes as uint32 (no float conversion: the words are not numbers)
    return [...new Uint32Array(f!.buffer, f!.byteOffset, 4)];
  }

  /** Sets the counter (now if the buffer exists, else when it is made). */
  restore(words: readonly number[]): void {
    if (words.length !== 4 || words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new RangeError(`${this.label}: a random stream is 4 uint32 words, got ${JSON.stringify(words)}`);
    }
    const data = Uint32Array.from(words);
    if (this.state) this.state.ctx.device.queue.writeBuffer(this.state.buffer, 0, data);
    else this.pending = data;
  }

  dispose(): void {
    this.state?.buffer.destroy();
    this.state = null;
  }
}

/** Layers with a random stream (dropout, noise). */
export interface HasRandomStream {
  readonly randomStream: RandomStream;
}

export function hasRandomStream(l: unknown): l is HasRandomStream {
  return (l as Partial<HasRandomStream> | null)?.randomStream instanceof RandomStream;
}
