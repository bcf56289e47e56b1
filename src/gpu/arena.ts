/**
 * The parameter arena: every weight of a model in ONE flat GPU buffer (and the gradients in a
 * second one with the same layout), so the optimizer update and gradient clipping are single
 * dispatches over the whole model. Each variable starts at an offset aligned to the device's
 * minStorageBufferOffsetAlignment, so it can also be bound on its own; the padding stays zero
 * (zero gradient, zero update). `host` is a copy of the weights on the host (as initialised, as
 * set, or as of the training loop's last backup), kept so that they survive a lost device:
 * `moveTo` rebuilds the arena from it on a new one.
 */
import type { Context } from './context';
import { createStorageBuffer } from './pool';
import { Tensor, shapeSize } from '../tensor';

export interface VariableSpec {
  /** Keras-style path, e.g. 'lstm_1/recurrent_kernel'. */
  name: string;
  shape: readonly number[];
  /** Default true; optimizers skip variables with `trainable: false` (e.g. moving statistics). */
  trainable?: boolean;
}

export interface Variable extends VariableSpec {
  /** Offset in elements. */
  offset: number;
  size: number;
  /** Its values (a view of the arena's params; replaced when the arena moves to a new device). */
  value: Tensor;
  grad: Tensor;
}

/** The arena's weights on the host and which moment they are from (for messages). */
export interface HostCopy {
  data: Float32Array;
  /** e.g. 'as initialised', 'as set by setWeights', 'after epoch 2, batch 8'. */
  note: string;
}

export class ParamArena {
  readonly vars: Variable[] = [];
  params: GPUBuffer;
  grads: GPUBuffer;
  /** Total elements including alignment padding. */
  readonly length: number;
  /** The weights on the host (see the file header); null when unknown. */
  host: HostCopy | null = null;

  constructor(public ctx: Context, specs: readonly VariableSpec[]) {
    const align = ctx.alignment / 4;
    let off = 0;
    const placed: { spec: VariableSpec; offset: number; size: number }[] = [];
    for (const spec of specs) {
      const size = shapeSize(spec.shape);
      placed.push({ spec, offset: off, size });
      off += Math.ceil(size / align) * align;
    }
    this.length = Math.max(off, align);
    const dev = ctx.device;
    this.params = createStorageBuffer(dev, this.length * 4, 'params');
    this.grads = createStorageBuffer(dev, this.length * 4, 'grads');
    for (const { spec, offset, size } of placed) {
      this.vars.push({
        ...spec,
        offset,
        size,
        value: new Tensor(this.params, spec.shape, offset * 4, true, spec.name),
        grad: new Tensor(this.grads, spec.shape, offset * 4, false, `d(${spec.name})`),
      });
    }
  }

  /**
   * Rebuilds the arena on `ctx` (a new device after a loss) from the host copy: new buffers, every
   * variable's value and gradient views re-pointed (the Variable objects stay, so every model and
   * layer sharing them follows).
   */
  moveTo(ctx: Context): void {
    if (!this.host) throw new Error('the weights have no host copy to rebuild them from');
    this.ctx = ctx;
    this.params = createStorageBuffer(ctx.device, this.length * 4, 'params');
    this.grads = createStorageBuffer(ctx.device, this.length * 4, 'grads');
    for (const v of this.vars) {
      v.value = new Tensor(this.params, v.shape, v.offset * 4, true, v.name);
      v.grad = new Tensor(this.grads, v.shape, v.offset * 4, false, `d(${v.name})`);
    }
    const d = this.host.data;
    ctx.device.queue.writeBuffer(this.params, 0, d.buffer, d.byteOffset, d.byteLength);
  }

  /** The whole arena as one tensor (for optimizers). */
  get all(): { params: Tensor; grads: Tensor } {
    return {
      params: new Tensor(this.params, [this.length], 0, false, 'params'),
      grads: new Tensor(this.grads, [this.length], 0, false, 'grads'),
    };
  }

  /** Total number of parameters (without padding). */
  get count(): number {
    return this.vars.reduce((n, v) => n + v.size, 0);
  }

  destroy(): void {
    this.params.destroy();
    this.grads.destroy();
  }
}
