/**
 * A Program is a recorded list of GPU commands (dispatches with their bind groups and params
 * already built, buffer clears, copies). Building one creates every uniform buffer and bind group
 * it needs; encoding one (each training step) only records commands, so a step does no pipeline
 * or bind-group creation and no readback. Consecutive dispatches share one compute pass.
 */
import type { Kernel, ParamValues, BindingResource } from './shader';
import { Tensor } from '../tensor';

type Command =
  | { kind: 'dispatch'; kernel: Kernel; bindGroup: GPUBindGroup; groups: readonly [number, number, number]; offsets?: readonly number[] }
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
/** Bytes of uniform slots per buffer (and bind group) of a ParamSlots: 65,536 steps of 256 bytes. */
const SLOT_BUFFER_BYTES = 16 << 20;

/**
 * The params of many dispatches of one kernel (Kernel.dynamicParams) that differ only in them,
 * e.g. a time loop's steps: every set in one uniform buffer, each at its own aligned offset, and
 * ONE bind group per buffer, so a T-step loop makes O(1) bind groups instead of T (lavapipe holds
 * a memory mapping per bind group; ~65k of them crashed the process).
 */
export interface ParamSlots {
  readonly kernel: Kernel;
  /** Number of params sets. */
  readonly count: number;
  /** Bytes between consecutive sets (the device's minUniformBufferOffsetAlignment or more). */
  readonly stride: number;
  /** Sets per bind group. */
  readonly perGroup: number;
  readonly bindGroups: readonly GPUBindGroup[];
}

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

  /**
   * Prepares `paramsList.length` dispatches of `kernel` (made with dynamicParams) on the same
   * `bindings`, each with its own params; record them with dispatchSlot(slots, i, groups).
   */
  paramSlots(kernel: Kernel, bindings: Record<string, Bindable>, paramsList: readonly ParamValues[]): ParamSlots {
    if (!kernel.dynamicParams || !kernel.uniformName) throw new Error(`${kernel.id}: paramSlots needs a kernel made with dynamicParams`);
    const lim = this.device.limits;
    const size = kernel.encodeParams(paramsList[0] ?? {}).byteLength;
    const stride = Math.ceil(size / lim.minUniformBufferOffsetAlignment) * lim.minUniformBufferOffsetAlignment;
    const perGroup = Math.max(1, Math.floor(Math.min(SLOT_BUFFER_BYTES, lim.maxBufferSize) / stride));
    const resources: Record<string, BindingResource> = {};
    for (const [k, v] of Object.entries(bindings)) resources[k] = v instanceof Tensor ? v.binding : v;
    const bindGroups: GPUBindGroup[] = [];
    for (let first = 0; first < paramsList.length; first += perGroup) {
      const n = Math.min(perGroup, paramsList.length - first);
      const bytes = new Uint8Array(n * stride);
      for (let i = 0; i < n; i++) bytes.set(new Uint8Array(kernel.encodeParams(paramsList[first + i]!)), i * stride);
      const ub = this.device.createBuffer({ label: `${kernel.id} params ×${n}`, size: bytes.byteLength, usage: UNIFORM_USAGE });
      this.device.queue.writeBuffer(ub, 0, bytes);
      this.uniforms.push(ub);
      bindGroups.push(kernel.bindGroup({ ...resources, [kernel.uniformName]: { buffer: ub, offset: 0, size } }));
    }
    return { kernel, count: paramsList.length, stride, perGroup, bindGroups };
  }

  /** Records dispatch `i` of `slots` (its params set), with `groups` workgroups. */
  dispatchSlot(slots: ParamSlots, i: number, groups: readonly [number, number, number]): void {
    if (!(i >= 0 && i < slots.count)) throw new RangeError(`${slots.kernel.id}: params slot ${i} of ${slots.count}`);
    const group = Math.floor(i / slots.perGroup);
    this.commands.push({ kind: 'dispatch', kernel: slots.kernel, bindGroup: slots.bindGroups[group]!, groups, offsets: [(i - group * slots.perGroup) * slots.stride] });
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
        if (c.offsets) pass.setBindGroup(0, c.bindGroup, c.offsets);
        else pass.setBindGroup(0, c.bindGroup);
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
        if (c.offsets) pass.setBindGroup(0, c.bindGroup, c.offsets);
        else pass.setBindGroup(0, c.bindGroup);
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
