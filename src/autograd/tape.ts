/**
 * The autograd tape. Ops record their forward dispatches into `graph.forward` and push a record
 * (name, inputs, outputs, saved tensors, backward closure) onto the tape; `backward(loss)` walks
 * the tape in reverse and each record's closure records its backward dispatches into
 * `graph.backwardProgram`. Gradients ACCUMULATE: every gradient buffer is zeroed once at the
 * start of the step (`graph.clears`) and every backward kernel adds into it, so a tensor used by
 * several ops receives the sum of their contributions.
 *
 * A Graph is built once per input shape and then replayed every step (shapes are static), which
 * is why building may allocate and create bind groups while replaying never does.
 */
import type { Context } from '../gpu/context';
import type { ShaderName } from '../gpu/kernels';
import type { Kernel, KernelOptions } from '../gpu/shader';
import { Program } from '../gpu/program';
import { Tensor } from '../tensor';

export interface TapeRecord {
  name: string;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  /** Tensors the backward pass reads (kept alive for the step; they define activation memory). */
  saved: readonly Tensor[];
  backward: () => Promise<void>;
}

export class Graph {
  /** Zero-fills of gradient buffers; encoded first. */
  readonly clears: Program;
  readonly forward: Program;
  readonly backwardProgram: Program;
  readonly tape: TapeRecord[] = [];
  private grads = new Map<Tensor, Tensor>();
  private owned: GPUBuffer[] = [];
  private backwardDone = false;
  /**
   * Set for predictStep plans (src/model/plans.ts): recurrent layers start from their stored state (on the
   * GPU) and write their final state back into it (src/layers/recurrent.ts, StatefulLayer).
   */
  statefulStep = false;

  constructor(
    readonly ctx: Context,
    /** Training graphs record a tape; inference graphs do not. */
    readonly training: boolean,
  ) {
    this.clears = new Program(ctx.device);
    this.forward = new Program(ctx.device);
    this.backwardProgram = new Program(ctx.device);
  }

  kernel(file: ShaderName, entry: string, constants?: Record<string, number>, opts?: KernelOptions): Promise<Kernel> {
    return this.ctx.kernel(file, entry, constants, opts);
  }

  /** A new pooled tensor, released when the graph is disposed. */
  alloc(shape: readonly number[], name: string, requiresGrad = false): Tensor {
    let bytes = 4;
    for (const d of shape) bytes *= d;
    const buf = this.ctx.pool.acquire(bytes, name);
    this.owned.push(buf);
    return new Tensor(buf, shape, 0, requiresGrad && this.training, name);
  }

  /** Whether an op with these inputs must record backward. */
  needsGrad(...inputs: Tensor[]): boolean {
    return this.training && inputs.some((t) => t.requiresGrad);
  }

  record(rec: TapeRecord): void {
    if (!this.training) return;
    if (this.backwardDone) throw new Error(`Graph: op '${rec.name}' recorded after backward()`);
    this.tape.push(rec);
  }

  /**
   * Records a one-input op that saves nothing: when `x` needs a gradient, `backward(dy)` runs with
   * d(y) once something has contributed to it (the common case of copies, masks and noise).
   */
  recordUnary(name: string, x: Tensor, y: Tensor, backward: (dy: Tensor) => Promise<void>): void {
    if (!this.needsGrad(x)) return;
    this.record({
      name,
      inputs: [x],
      outputs: [y],
      saved: [],
      backward: async () => {
        const dy = this.gradIfAny(y);
        if (dy) await backward(dy);
      },
    });
  }

  /** Registers `grad` as the gradient buffer of `t` (parameters: a view of the gradient arena). */
  setGrad(t: Tensor, grad: Tensor): void {
    this.grads.set(t, grad);
  }

  /** The gradient of `t`, created (and zeroed at step start) on first use. */
  grad(t: Tensor): Tensor {
    if (t.aliasOf) return this.grad(t.aliasOf).reshape(t.shape);
    let g = this.grads.get(t);
    if (!g) {
      g = this.alloc(t.shape, `d(${t.name})`);
      this.clears.clear(g);
      this.grads.set(t, g);
    }
    return g;
  }

  /** The gradient of `t` if any op has contributed to it, else null. */
  gradIfAny(t: Tensor): Tensor | null {
    const base = t.aliasOf ?? t;
    const g = this.grads.get(base);
    return g ? (t.aliasOf ? g.reshape(t.shape) : g) : null;
  }

  /**
   * Records the backward pass of everything on the tape, seeding d(loss)/d(loss) = 1.
   * Records whose outputs received no gradient are skipped.
   */
  async backward(loss: Tensor): Promise<void> {
    if (!this.training) throw new Error('Graph.backward: this graph was built for inference (no tape)');
    if (this.backwardDone) throw new Error('Graph.backward: called twice on one graph; build a new graph per step shape');
    if (loss.size !== 1) throw new Error(`Graph.backward: loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
    this.backwardDone = true;
    const seed = this.alloc([1], 'd(loss)');
    this.ctx.device.queue.writeBuffer(seed.buffer, 0, new Float32Array([1]));
    this.grads.set(loss.aliasOf ?? loss, seed);
    for (let i = this.tape.length - 1; i >= 0; i--) {
      const rec = this.tape[i]!;
      if (rec.outputs.every((o) => !this.gradIfAny(o))) continue;
      await rec.backward();
    }
  }

  /** Bytes held by tensors saved for backward (activation memory of one step). */
  savedBytes(): number {
    const seen = new Set<GPUBuffer>();
    let n = 0;
    for (const r of this.tape) for (const s of r.saved) {
      if (seen.has(s.buffer)) continue;
      seen.add(s.buffer);
      n += s.bytes;
    }
    return n;
  }

  /** Records the whole step (clears, forward, backward) into `encoder`. */
  encode(encoder: GPUCommandEncoder): void {
    this.clears.encode(encoder);
    this.forward.encode(encoder);
    this.backwardProgram.encode(encoder);
  }

  dispose(): void {
    for (const b of this.owned) this.ctx.pool.release(b);
    this.owned = [];
    this.clears.dispose();
    this.forward.dispose();
    this.backwardProgram.dispose();
  }
}
