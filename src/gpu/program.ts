/**
 * A Program is a recorded list of GPU commands (dispatches with their bind groups and params
 * already built, buffer clears, copies). Building one creates every uniform buffer and bind group
 * it needs; encoding one (each training step) only records commands, so a step does no pipeline
 * or bind-group creation and no readback. Consecutive dispatches share one compute pass.
 */
import type { Kernel, ParamValues, BindingResource } from './shader';
import { Tensor } from '../tensor';

type Command =
  | { kind: 'dispatch'; kernel: Kernel; bindGroup: GPUBindGroup; groups: readonly [number, number, number] }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; size: number }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number };

export type Bindable = Tensor | BindingResource;

/**
 * Optional GPU-timing hook of `encode()` (benchmarks, `npm run bench -- --profile`). With one,
 * every dispatch is encoded in a compute pass of its own whose `timestampWrites` come from
 * `passTimestamps(kernelId)` (undefined: that pass is not timed). Splitting passes changes the
 * timing itself (a pass boundary per dispatch), so it is for per-kernel breakdowns only.
 */
export interface PassProfiler {
  passTimestamps(kernelId: string): GPUComputePassTimestampWrites | undefined;
}

const UNIFORM_USAGE = 0x40 | 0x08; // UNIFORM | COPY_DST

export class Program {
  private commands: Command[] = [];
  private uniforms: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice) {}

  /** Number of dispatches (for the dispatch-count tests and benchmarks). */
  get dispatchCount(): number {
    return this.commands.filter((c) => c.kind === 'dispatch').length;
  }

  /**
   * Records a dispatch. `bindings` are by WGSL name (the uniform excluded: it is made from
   * `params`); `groups` is a workgroup count or, as a number, the invocation count along x.
   */
  dispatch(kernel: Kernel, bindings: Record<string, Bindable>, params: ParamValues, groups: number | readonly [number, number, number]): void {
    const resources: Record<string, BindingResource> = {};
    for (const [k, v] of Object.entries(bindings)) resources[k] = v instanceof Tensor ? v.binding : v;
    if (kernel.uniformName) {
      const bytes = kernel.encodeParams(params);
      const ub = this.device.createBuffer({ label: `${kernel.id} params`, size: bytes.byteLength, usage: UNIFORM_USAGE });
      this.device.queue.writeBuffer(ub, 0, bytes);
      this.uniforms.push(ub);
      resources[kernel.uniformName] = ub;
    } else {
      kernel.encodeParams(params); // throws on stray params
    }
    const g = typeof groups === 'number' ? kernel.groupsFor(groups) : groups;
    this.commands.push({ kind: 'dispatch', kernel, bindGroup: kernel.bindGroup(resources), groups: g });
  }

  /** Records a zero-fill of a tensor's bytes. */
  clear(t: Tensor): void {
    this.commands.push({ kind: 'clear', buffer: t.buffer, offset: t.byteOffset, size: t.bytes });
  }

  /** Records a buffer-to-buffer copy of a whole tensor. */
  copy(src: Tensor, dst: Tensor): void {
    if (src.bytes !== dst.bytes) throw new RangeError(`copy: ${src.name} and ${dst.name} differ in size`);
    this.commands.push({ kind: 'copy', src: src.buffer, srcOffset: src.byteOffset, dst: dst.buffer, dstOffset: dst.byteOffset, size: src.bytes });
  }

  /** Appends another program's commands (sharing its bind groups and uniforms). */
  append(other: Program): void {
    this.commands.push(...other.commands);
  }

  /**
   * Records the commands into `encoder`; runs of dispatches share one compute pass. With a
   * `profiler`, each dispatch gets its own timed pass instead (see PassProfiler).
   */
  encode(encoder: GPUCommandEncoder, profiler?: PassProfiler): void {
    if (profiler) {
      this.encodeProfiled(encoder, profiler);
      return;
    }
    let pass: GPUComputePassEncoder | null = null;
    for (const c of this.commands) {
      if (c.kind === 'dispatch') {
        if (!pass) pass = encoder.beginComputePass();
        pass.setPipeline(c.kernel.pipeline);
        pass.setBindGroup(0, c.bindGroup);
        pass.dispatchWorkgroups(c.groups[0], c.groups[1], c.groups[2]);
        continue;
      }
      if (pass) {
        pass.end();
        pass = null;
      }
      if (c.kind === 'clear') encoder.clearBuffer(c.buffer, c.offset, c.size);
      else encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
    }
    if (pass) pass.end();
  }

  private encodeProfiled(encoder: GPUCommandEncoder, profiler: PassProfiler): void {
    for (const c of this.commands) {
      if (c.kind === 'dispatch') {
        const timestampWrites = profiler.passTimestamps(c.kernel.id);
        const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : {});
        pass.setPipeline(c.kernel.pipeline);
        pass.setBindGroup(0, c.bindGroup);
        pass.dispatchWorkgroups(c.groups[0], c.groups[1], c.groups[2]);
        pass.end();
      } else if (c.kind === 'clear') encoder.clearBuffer(c.buffer, c.offset, c.size);
      else encoder.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
    }
  }

  /** Frees the uniform buffers this program created. */
  dispose(): void {
    for (const u of this.uniforms) u.destroy();
    this.uniforms = [];
    this.commands = [];
  }
}
