/**
 * Everything a model needs from the GPU, shared by all models on one device: the device, the
 * buffer pool and the compiled kernels.
 */
import { getGpu, type Gpu } from './device';
import { BufferPool } from './pool';
import { ShaderCache, type Kernel, type KernelOptions } from './shader';
import { LIBRARY, PREAMBLE, SHADERS, type ShaderName } from './kernels';

export class Context {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly shaders: ShaderCache;

  constructor(readonly gpu: Gpu) {
    this.device = gpu.device;
    this.pool = new BufferPool(gpu.device);
    this.shaders = new ShaderCache(gpu.device, LIBRARY, PREAMBLE);
  }

  /** The compiled entry point `entry` of shader file `file` (cached). */
  kernel(file: ShaderName, entry: string, constants: Record<string, number> = {}, opts: KernelOptions = {}): Promise<Kernel> {
    return this.shaders.kernel(SHADERS[file], entry, constants, opts);
  }

  /** Byte alignment for sub-range bindings (parameter views). */
  get alignment(): number {
    return this.device.limits.minStorageBufferOffsetAlignment;
  }
}

let shared: Promise<Context> | null = null;
let sharedCtx: Context | null = null;

/** The shared Context (one per page or process); a new one (on a new device) once its device is lost. */
export function getContext(): Promise<Context> {
  if (!shared || sharedCtx?.gpu.isLost) {
    sharedCtx = null;
    const p: Promise<Context> = getGpu().then((g) => (shared === p ? (sharedCtx = new Context(g)) : new Context(g)));
    shared = p;
    p.catch(() => shared === p && (shared = null));
  }
  return shared;
}
