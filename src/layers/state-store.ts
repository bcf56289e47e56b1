/**
 * The stored state of a recurrent layer (predictStep streaming, `stateful` layers, getState /
 * setState): GPU buffers per batch size, created through src/gpu/pool.ts, zero-filled when new.
 */
import type { Context } from '../gpu/context';
import { getContext } from '../gpu/context';
import { readback, upload } from '../gpu/io';
import { createStorageBuffer } from '../gpu/pool';
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import { Tensor } from '../tensor';

/**
 * The stored recurrent state of a layer: one set of GPU buffers per batch size (so cached step
 * plans keep valid bindings), of which one is active. New buffers are zero-filled.
 */
export class StateStore {
  private byBatch = new Map<number, Tensor[]>();
  private ctx: Context | null = null;
  /** Batch size of the state in use; null after a reset (the next step may use any batch size). */
  active: number | null = null;
  /** Set by dispose (the layer's model was disposed): every use throws. */
  private disposed = false;

  constructor(
    readonly owner: string,
    /** Names and feature sizes of the states, e.g. h [H] and c [H]. */
    readonly names: readonly string[],
    readonly sizes: readonly number[],
  ) {}

  /** The state tensors for `batch` (created zero-filled on first use). */
  tensors(ctx: Context, batch: number): Tensor[] {
    this.checkAlive('step');
    if (this.ctx && this.ctx !== ctx) {
      if (!this.ctx.gpu.isLost) throw new Error(`${this.owner}: the state belongs to another GPU device`);
      // its device was lost and the model moved (rnn.recover()): the state starts again from zeros
      this.byBatch.clear();
      this.active = null;
    }
    this.ctx = ctx;
    let t = this.byBatch.get(batch);
    if (!t) {
      t = this.sizes.map((n, i) => {
        const buf = createStorageBuffer(ctx.device, batch * n * 4, `${this.owner}/state ${this.names[i]}`);
        return new Tensor(buf, [batch, n], 0, false, `${this.owner}/${this.names[i]}`);
      });
      this.byBatch.set(batch, t);
    }
    return t;
  }

  begin(batch: number): void {
    this.checkAlive('step');
    if (this.active !== null && this.active !== batch) {
      throw new RangeError(`${this.owner}: the stored state has batch size ${this.active} but this step has ${batch} rows; call model.resetStates() (or setState with ${batch} rows) first`);
    }
    this.active = batch;
  }

  reset(): void {
    if (this.ctx) {
      for (const ts of this.byBatch.values()) for (const t of ts) upload(this.ctx.device, t, new Float32Array(t.size));
    }
    this.active = null;
  }

  async get(): Promise<HostTensor[] | null> {
    this.checkAlive('getState');
    if (this.active === null || !this.ctx) return null;
    const ts = this.byBatch.get(this.active)!;
    const data = await readback(this.ctx.device, ...ts);
    return ts.map((t, i) => ({ data: Float32Array.from(data[i]!), shape: [...t.shape] }));
  }

  async set(states: TensorLike[]): Promise<void> {
    this.checkAlive('setState');
    const want = this.names.map((n, i) => `${n} [batch, ${this.sizes[i]}]`).join(', ');
    if (states.length !== this.names.length) {
      throw new RangeError(`${this.owner}.setState: expected ${this.names.length} state array${this.names.length > 1 ? 's' : ''} (${want}), got ${states.length}`);
    }
    const hosts = states.map((s, i) => toHostTensor(s, `${this.owner}.setState: ${this.names[i]}`));
    const batch = hosts[0]!.shape[0]!;
    hosts.forEach((h, i) => {
      if (h.shape.length !== 2 || h.shape[1] !== this.sizes[i] || h.shape[0] !== batch) {
        throw new RangeError(`${this.owner}.setState: ${this.names[i]} must be [${batch}, ${this.sizes[i]}] (states: ${want}), got [${h.shape.join(', ')}]`);
      }
    });
    const ctx = this.ctx ?? (await getContext());
    const ts = this.tensors(ctx, batch);
    hosts.forEach((h, i) => upload(ctx.device, ts[i]!, h.data));
    this.active = batch;
  }

  dispose(): void {
    for (const ts of this.byBatch.values()) for (const t of ts) t.buffer.destroy();
    this.byBatch.clear();
    this.active = null;
    this.disposed = true;
  }

  private checkAlive(where: string): void {
    if (this.disposed) throw new Error(`${this.owner}.${where}: the layer was disposed with its model (its weights and state were freed); create new layers`);
  }
}
