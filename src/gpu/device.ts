/**
 * The one place that obtains a GPUDevice, in the browser (navigator.gpu) and in Node (the
 * `webgpu` package, i.e. Dawn). In Node without a hardware Vulkan driver it selects a software
 * one by itself (lavapipe preferred, SwiftShader as fallback).
 *
 * GPU errors never pass silently: an `uncapturederror` handler records them and the next
 * `checkErrors()` (called after every submitted step) throws them as a descriptive Error;
 * `device.lost` is turned into a DeviceLostError the same way, and the next `getGpu()` makes a
 * new device (`rnn.recover()` moves the models onto it: src/model/recover.ts).
 */

import { throttleDawnPolling } from './dawn-poll';
import { importAtRunTime } from './runtime-import';

/** What the adapter says about itself (WebGPU `GPUAdapterInfo`), and which runtime found it. */
export interface GpuInfo {
  /** e.g. 'nvidia', 'mesa', 'google' (may be empty in browsers). */
  vendor: string;
  /** e.g. 'ampere', 'software' (may be empty). */
  architecture: string;
  /** The device (may be empty). */
  device: string;
  /** A description, e.g. 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' (may be empty). */
  description: string;
  /** True for a software (CPU) adapter: SwiftShader, lavapipe. */
  isFallbackAdapter: boolean;
  /** 'browser' (navigator.gpu) or 'node' (Dawn). */
  runtime: 'browser' | 'node';
  /** Vulkan ICD selected by this module in Node, if it chose one. */
  icd?: string;
}

/**
 * The GPU every model of the page or process shares (what `rnn.getGpu()` returns).
 *
 * @example
 * ```ts
 * const gpu = await rnn.getGpu();
 * console.log(gpu.info.runtime, gpu.info.description, gpu.info.isFallbackAdapter);
 * ```
 */
export interface Gpu {
  /** The WebGPU device (the library's buffers and pipelines live on it). */
  readonly device: GPUDevice;
  /** The adapter the device came from. */
  readonly adapter: GPUAdapter;
  /** What the adapter says about itself. */
  readonly info: GpuInfo;
  /** Throws (once) the first GPU error recorded since the last call, if any; a DeviceLostError once the device is lost. */
  checkErrors(): void;
  /** True once the device is lost (destroyed, a driver reset, …): every later GPU call is refused. */
  readonly isLost: boolean;
  /** 'GPU device lost (reason): message' once lost, else null. */
  readonly lostMessage: string | null;
  /** Resolves with the loss's description ('GPU device lost (destroyed): …') when the device is lost. */
  readonly whenLost: Promise<string>;
  /** False after `getGpu({selfTest: false})`: models skip the startup self-test on this device. */
  selfTest: boolean;
}

/** Raised for validation/out-of-memory/internal errors reported by the GPU, and for device loss. */
export class GpuError extends Error {
  /** 'GpuError'. */
  override name = 'GpuError';
}

/**
 * The GPU device was lost (destroyed, a driver reset or crash, the browser's GPU process gone).
 * The models' weights and training state stay on the host as of their last backup; after
 * `await rnn.recover()` they continue on a new device (docs/reliability.md).
 */
export class DeviceLostError extends GpuError {
  /** 'DeviceLostError'. */
  override name = 'DeviceLostError';
}

/** The library's Gpu of a device (for readbacks that need to know whether it was lost). */
const gpus = new WeakMap<GPUDevice, Gpu>();

/** The Gpu object of `device`, if the library made it. */
export function gpuOf(device: GPUDevice): Gpu | undefined {
  return gpus.get(device);
}

// Keep the Dawn instance alive as long as any device lives: if it is garbage-collected the
// process crashes later at random (see docs/design.md, "Dawn in Node").
let dawnInstance: unknown = null;
let current: Promise<Gpu> | null = null;
let currentGpu: Gpu | null = null;

const SOFTWARE_ICDS = [
  '/usr/share/vulkan/icd.d/lvp_icd.json', // Mesa lavapipe (Debian mesa-vulkan-drivers)
  '/usr/lib/chromium/vk_swiftshader_icd.json', // SwiftShader shipped with Debian's chromium
];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** Limits we ask for explicitly (defaults are lower than what adapters offer). */
const WANTED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Options of `rnn.getGpu`. */
export interface GpuOptions {
  /** In Node, use a software Vulkan driver even if hardware exists. */
  forceSoftware?: boolean;
  /**
   * `false` skips the startup self-test (a tiny LSTM and GRU forward and backward checked against
   * float64 values before a model first uses the device). Default true.
   */
  selfTest?: boolean;
}

/**
 * Returns the shared GPU (creating it on first use). All models share one device; after it is
 * lost, the next call makes a new one.
 */
export function getGpu(opts: GpuOptions = {}): Promise<Gpu> {
  if (!current) {
    current = createGpu(opts).catch((e: unknown) => {
      current = null;
      throw e;
    });
  }
  if (opts.selfTest === false) void current.then((g) => (g.selfTest = false), () => undefined);
  return current;
}

async function createGpu(opts: GpuOptions): Promise<Gpu> {
  const { gpu, runtime, icd, quiet } = await findGpuApi(opts);
  const adapter = await (quiet ? quiet(() => gpu.requestAdapter({ powerPreference: 'high-performance' })) : gpu.requestAdapter({ powerPreference: 'high-performance' }));
  if (!adapter) {
    throw new GpuError(
      runtime === 'browser'
        ? 'WebGPU is available but no adapter was found (is hardware acceleration disabled?).'
        : `Dawn found no WebGPU adapter${icd ? ` with the Vulkan driver ${icd}` : ''}. ` +
            'Install a Vulkan driver: on Debian `apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1` (lavapipe).',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });

  const errors: string[] = [];
  let lost: string | null = null;
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    errors.push(`${e.constructor?.name ?? 'GPUError'}: ${e.message}`);
  });
  const whenLost = device.lost.then((info) => {
    lost = `GPU device lost (${info.reason ?? 'unknown'}): ${(info.message ?? '').replace(/\.+$/, '') || 'no message'}`;
    if (currentGpu === result) (current = null), (currentGpu = null); // the next getGpu() makes a new device
    return lost;
  });

  const ai = adapter.info;
  const info: GpuInfo = {
    vendor: ai?.vendor ?? '',
    architecture: ai?.architecture ?? '',
    device: ai?.device ?? '',
    description: ai?.description ?? '',
    // `isFallbackAdapter` moved from the adapter to adapter.info; Dawn has neither sometimes.
    isFallbackAdapter: Boolean(
      (ai as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
        (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        isSoftwareName(`${ai?.vendor} ${ai?.architecture} ${ai?.description} ${ai?.device}`),
    ),
    runtime,
    ...(icd ? { icd } : {}),
  };
  const result: Gpu = {
    device,
    adapter,
    info,
    checkErrors() {
      if (lost) throw new DeviceLostError(`${lost}; call \`await rnn.recover()\` to continue on a new device`);
      if (errors.length) {
        const msg = errors.splice(0).join('\n');
        throw new GpuError(`GPU error: ${msg}`);
      }
    },
    get isLost() {
      return lost !== null;
    },
    get lostMessage() {
      return lost;
    },
    whenLost,
    selfTest: opts.selfTest !== false,
  };
  gpus.set(device, result);
  currentGpu = result;
  return result;
}

/**
 * Which CPU (software) adapter this is, from its names: their compilers reward different kernel
 * shapes (docs/performance.md), so some tiles are chosen per adapter. null on GPUs and unknown ones.
 */
export function cpuAdapter(info: Pick<GpuInfo, 'vendor' | 'architecture' | 'device' | 'description' | 'isFallbackAdapter'>): 'lavapipe' | 'swiftshader' | null {
  if (!info.isFallbackAdapter) return null;
  const names = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  if (/llvmpipe|lavapipe/i.test(names)) return 'lavapipe';
  if (/swiftshader/i.test(names)) return 'swiftshader';
  return null;
}

function isSoftwareName(s: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|software|cpu/i.test(s);
}

async function findGpuApi(opts: GpuOptions): Promise<{
  gpu: GPU;
  runtime: 'browser' | 'node';
  icd?: string;
  /** Runs the adapter request with Dawn's known-harmless lavapipe warnings kept off stderr. */
  quiet?: <T>(start: () => T) => T;
}> {
  if (typeof navigator !== 'undefined' && (navigator as Navigator).gpu) {
    return { gpu: (navigator as Navigator).gpu, runtime: 'browser' };
  }
  const proc = (globalThis as { process?: { versions?: { node?: string }; env: Record<string, string | undefined> } })
    .process;
  if (!proc?.versions?.node) {
    throw new GpuError(
      'This browser has no WebGPU (navigator.gpu is missing). Use Chrome/Edge 113+ (Linux: 144+ or ' +
        'chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows; pages must be served over https or localhost.',
    );
  }
  const icd = await chooseIcd(proc.env, opts.forceSoftware ?? false);
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await importAtRunTime<typeof mod>('webgpu'); // never seen by a browser app's bundler
  } catch (e) {
    throw new GpuError(`The 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Run \`npm install webgpu\`.`);
  }
  // Dawn's classes (GPUBufferUsage, GPUMapMode, …) must be globals, as in a browser.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  if (!dawnInstance) dawnInstance = mod.create([]);
  throttleDawnPolling(proc.env); // the binding's busy polling would take a core from the kernels
  const fs = await importAtRunTime<typeof import('node:fs')>('node:fs');
  const quiet = icd && /lvp_icd/.test(icd) && !proc.env.WEBGPU_RNN_DAWN_STDERR ? <T>(start: () => T) => withoutNativeStderr(fs, start) : undefined;
  return { gpu: dawnInstance as GPU, runtime: 'node', ...(icd ? { icd } : {}), ...(quiet ? { quiet } : {}) };
}

/**
 * Why: on lavapipe, Dawn's adapter discovery prints two lines to stderr —
 * "Warning: maxDynamic{Uniform,Storage}BuffersPerPipelineLayout artificially reduced from 1000000
 * to 16 to fit dynamic offset allocation limit." lavapipe reports a million dynamic buffers per
 * pipeline layout and Dawn clamps every adapter to its own maximum of 16 (NormalizeLimits in
 * dawn/native/Limits.cpp), whatever limits the device is later requested with; this library uses
 * no dynamic offsets, so the clamp changes nothing. The lines come from Dawn's C++ (dawn::WarningLog,
 * an fprintf to stderr) synchronously inside requestAdapter(), with no toggle or callback to
 * silence them and no way to filter them through process.stderr.
 *
 * What: for that one synchronous call, file descriptor 2 points at /dev/null (Node has no dup2:
 * close 2, open /dev/null — the lowest free descriptor, so 2 again — and afterwards the reverse,
 * reopening the original stderr through /proc/self/fd). Only on Linux, only with the lavapipe
 * driver, only when stderr can be reopened that way (a tty, pipe or file), and never when any step
 * does not land where expected; WEBGPU_RNN_DAWN_STDERR=1 turns it off.
 */
function withoutNativeStderr<T>(fs: typeof import('node:fs'), start: () => T): T {
  const proc = (globalThis as { process?: { platform?: string } }).process;
  if (proc?.platform !== 'linux') return start();
  let saved = -1;
  try {
    fs.fstatSync(0), fs.fstatSync(1); // 0 and 1 open, so /dev/null below lands on 2
    saved = fs.openSync('/proc/self/fd/2', 'a');
    const [a, b] = [fs.fstatSync(2), fs.fstatSync(saved)];
    if (a.dev !== b.dev || a.ino !== b.ino) throw new Error('stderr did not reopen as itself');
  } catch {
    if (saved >= 0) fs.closeSync(saved);
    return start(); // stderr is a socket, closed, or otherwise not reopenable: leave it alone
  }
  let silenced = false;
  try {
    fs.closeSync(2);
    const nul = fs.openSync('/dev/null', 'a');
    silenced = nul === 2;
    if (!silenced) fs.closeSync(nul); // another thread took descriptor 2 first; restore below
    return start();
  } finally {
    if (silenced) fs.closeSync(2);
    const back = fs.openSync(`/proc/self/fd/${saved}`, 'a');
    if (back !== 2) fs.closeSync(back);
    fs.closeSync(saved);
  }
}

/**
 * In Node: if the user did not choose a Vulkan driver and no hardware driver is installed,
 * point the Vulkan loader at a software driver. Must run before the first `create()`.
 */
async function chooseIcd(env: Record<string, string | undefined>, forceSoftware: boolean): Promise<string | undefined> {
  if (!forceSoftware && (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES)) return env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
  const fs = await importAtRunTime<typeof import('node:fs')>('node:fs');
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = '/tmp'; // silences Dawn's harmless XDG warning
  if (!forceSoftware) {
    const hardware = ICD_DIRS.flatMap((d) => {
      try {
        return fs.readdirSync(d).map((f) => `${d}/${f}`);
      } catch {
        return [];
      }
    }).filter((f) => f.endsWith('.json') && !SOFTWARE_ICDS.includes(f) && /nvidia|radeon|intel|amd|nouveau/i.test(f));
    // Mesa installs radeon/intel ICDs even without such hardware; only trust them when a DRM
    // render node exists. NVIDIA's driver is trusted when its device node exists.
    const hasRender = fs.existsSync('/dev/dri/renderD128') || fs.existsSync('/dev/nvidiactl');
    if (hardware.length && hasRender) return undefined;
  }
  const sw = SOFTWARE_ICDS.find((f) => fs.existsSync(f));
  if (!sw) {
    throw new GpuError(
      'No GPU and no software Vulkan driver found. On Debian 12 as root: add bookworm-backports and ' +
        '`apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1` (or run `npm run setup`).',
    );
  }
  env.VK_ICD_FILENAMES = sw;
  return sw;
}
