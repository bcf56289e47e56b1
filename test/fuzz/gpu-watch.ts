/**
 * Watches the library's GPU device for the fuzzer: counts the calls that create or change GPU
 * state (buffers, textures, pipelines, bind groups, shader modules, submits, writes), so an
 * invalid call can be shown to fail BEFORE any GPU work, and records every uncaptured GPU error
 * (a Dawn validation message is a failure of the library, whatever the call did afterwards).
 * Wrapping is done once per device (a recovered device is wrapped when first seen).
 */
import * as rnn from '../../src/index';

const DEVICE_CALLS = ['createBuffer', 'createTexture', 'createComputePipeline', 'createComputePipelineAsync', 'createBindGroup', 'createShaderModule', 'createCommandEncoder'] as const;
const QUEUE_CALLS = ['submit', 'writeBuffer'] as const;

export interface GpuWatch {
  /** Calls that create or change GPU state so far, by name. */
  readonly calls: Record<string, number>;
  /** Uncaptured GPU errors so far (validation, out-of-memory, internal), as text. */
  readonly errors: string[];
  /** The total of `calls`. */
  total(): number;
  /** Buffers created and not destroyed yet, and their bytes. */
  readonly live: { buffers: number; bytes: number };
}

const watches = new WeakMap<GPUDevice, GpuWatch>();

function wrap<T extends object>(target: T, names: readonly string[], calls: Record<string, number>, prefix: string): void {
  for (const name of names) {
    const original = (target as Record<string, unknown>)[name];
    if (typeof original !== 'function') continue;
    const key = `${prefix}${name}`;
    calls[key] = 0;
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value: function (this: unknown, ...args: unknown[]) {
        calls[key]!++;
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      },
    });
  }
}

/** The watch of the library's current device (wrapping it on first use). */
export async function gpuWatch(): Promise<GpuWatch> {
  const { device } = await rnn.getGpu();
  const known = watches.get(device);
  if (known) return known;
  const calls: Record<string, number> = {};
  const errors: string[] = [];
  wrap(device, DEVICE_CALLS, calls, '');
  wrap(device.queue, QUEUE_CALLS, calls, 'queue.');
  // Live buffers: each created buffer counts until its first destroy().
  const live = { buffers: 0, bytes: 0 };
  const create = device.createBuffer;
  Object.defineProperty(device, 'createBuffer', {
    configurable: true,
    writable: true,
    value: function (this: GPUDevice, desc: GPUBufferDescriptor) {
      const buffer = create.call(this, desc);
      live.buffers++;
      live.bytes += desc.size;
      const destroy = buffer.destroy;
      let done = false;
      Object.defineProperty(buffer, 'destroy', {
        configurable: true,
        writable: true,
        value: function (this: GPUBuffer) {
          if (!done) {
            done = true;
            live.buffers--;
            live.bytes -= desc.size;
          }
          return destroy.call(this);
        },
      });
      return buffer;
    },
  });
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    errors.push(`${e.constructor?.name ?? 'GPUError'}: ${e.message}`);
  });
  const w: GpuWatch = { calls, errors, live, total: () => Object.values(calls).reduce((a, b) => a + b, 0) };
  watches.set(device, w);
  return w;
}

/**
 * Takes the library's pending GPU errors (what its next `checkErrors()` would throw) so they are
 * charged to the case that caused them, not to the next one. Returns them as text ('' for none).
 */
export async function drainGpuErrors(): Promise<string> {
  try {
    (await rnn.getGpu()).checkErrors();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}
