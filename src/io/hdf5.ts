/**
 * HDF5 through h5wasm (the HDF5 C library compiled to WebAssembly, maintained by NIST): files are
 * written to and read from its in-memory file system (MEMFS, in Node and in browsers alike) and
 * moved as bytes. h5wasm (≈4 MB with its wasm) is imported on first use only, so models that never
 * touch a Keras file do not load it (it is a separate chunk for bundlers).
 *
 * Reading is defensive: the HDF5 signature is checked before the library sees the bytes, HDF5's
 * errors become exceptions (its throwing error handler) that name the file, and a dataset's
 * declared size is compared with the bytes present before its values are read, so a file that
 * claims terabytes fails with a message instead of an allocation.
 */
type H5 = typeof import('h5wasm').default;
export type H5File = InstanceType<H5['File']>;
export type H5Group = InstanceType<H5['Group']>;
export type H5Dataset = InstanceType<H5['Dataset']>;

let loading: Promise<{ h5: H5; fs: { writeFile(p: string, d: Uint8Array): void; readFile(p: string): Uint8Array; unlink(p: string): void } }> | null = null;

/** h5wasm, loaded once. */
export async function h5wasm(): Promise<{ h5: H5; fs: { writeFile(p: string, d: Uint8Array): void; readFile(p: string): Uint8Array; unlink(p: string): void } }> {
  loading ??= (async () => {
    const mod = await import('h5wasm');
    const h5 = mod.default;
    const module = await h5.ready;
    // HDF5 errors as JS exceptions (instead of diagnostics printed on stderr)
    (module as unknown as { activate_throwing_error_handler(): void }).activate_throwing_error_handler();
    return { h5, fs: module.FS as never };
  })();
  try {
    return await loading;
  } catch (e) {
    loading = null;
    throw new Error(`HDF5 support (the h5wasm package) could not be loaded: ${(e as Error).message}`);
  }
}

/** The 8-byte HDF5 signature: \x89HDF\r\n\x1a\n. */
export const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Offset of the HDF5 signature (0, or after a user block of 512·2^k bytes), or -1. */
export function hdf5SignatureAt(bytes: Uint8Array): number {
  for (let off = 0; off + 8 <= bytes.byteLength; off = off === 0 ? 512 : off * 2) {
    if (HDF5_MAGIC.every((b, i) => bytes[off + i] === b)) return off;
  }
  return -1;
}

let serial = 0;

/** The first meaningful line of an h5wasm / HDF5 error. */
function h5Message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines.find((l) => /^#\d+:/.test(l));
  const minor = lines.filter((l) => l.startsWith('minor:')).pop();
  if (!first) return lines[0] ?? text;
  const what = first.replace(/^#\d+:.*? in /, '').replace(/\(\): /, ': ');
  return `${what}${minor ? ` (${minor.replace('minor: ', '')})` : ''}`;
}

/**
 * Opens `bytes` (named `name` in errors) read-only and calls `fn` with the file; the in-memory
 * copy is removed afterwards. Throws a clear error for a file that is not HDF5 or is damaged.
 */
export async function readHdf5<T>(name: string, bytes: Uint8Array, fn: (f: H5File, h5: H5) => T): Promise<T> {
  if (bytes.byteLength < 8) throw new RangeError(`${name}: ${bytes.byteLength} bytes is too short for an HDF5 file`);
  if (hdf5SignatureAt(bytes) < 0) {
    throw new TypeError(`${name}: not an HDF5 file (no HDF5 signature \\x89HDF\\r\\n\\x1a\\n at byte 0; starts with ${[...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  }
  const { h5, fs } = await h5wasm();
  const path = `/webgpu-rnn-read-${serial++}.h5`;
  fs.writeFile(path, bytes);
  let file: H5File | null = null;
  try {
    try {
      file = new h5.File(path, 'r');
    } catch (e) {
      throw new RangeError(`${name}: damaged or truncated HDF5 file (${bytes.byteLength} bytes): ${h5Message(e)}`);
    }
    try {
      return fn(file, h5);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(name)) throw e;
      if (e instanceof RangeError || e instanceof TypeError) throw new (e.constructor as ErrorConstructor)(`${name}: ${e.message}`);
      throw new RangeError(`${name}: damaged HDF5 file: ${h5Message(e)}`);
    }
  } finally {
    try {
      file?.close();
    } catch {
      // a damaged file may fail to close; its memory copy is removed below all the same
    }
    fs.unlink(path);
  }
}

/** Creates an HDF5 file in memory, lets `fn` fill it and returns its bytes. */
export async function writeHdf5(fn: (f: H5File, h5: H5) => void): Promise<Uint8Array> {
  const { h5, fs } = await h5wasm();
  const path = `/webgpu-rnn-write-${serial++}.h5`;
  try {
    const file = new h5.File(path, 'w');
    try {
      fn(file, h5);
    } finally {
      file.close();
    }
    return new Uint8Array(fs.readFile(path));
  } finally {
    try {
      fs.unlink(path);
    } catch {
      // not created
    }
  }
}

/** Whether an h5wasm entity is a group (or the file). */
export function isGroup(e: unknown): e is H5Group {
  return typeof (e as H5Group | null)?.create_group === 'function' && typeof (e as H5Group).keys === 'function';
}

/** The group at `path`, creating it and its parents. */
export function ensureGroup(f: H5File, path: string): H5Group {
  let g: H5Group = f;
  let at = '';
  for (const part of path.split('/').filter(Boolean)) {
    at = at ? `${at}/${part}` : part;
    const next = f.get(at);
    g = isGroup(next) ? next : g.create_group(part);
  }
  return g;
}

/** The float32 dataset at `path` of `f` as shape and values; null when there is none. Sizes are checked against `fileBytes`. */
export function readFloatDataset(f: H5File, h5: H5, path: string, fileBytes: number): { shape: number[]; data: Float32Array } | null {
  const d = f.get(path);
  if (!d) return null;
  if (!(d instanceof h5.Dataset)) throw new TypeError(`'${path}' is a ${d.constructor?.name ?? 'non-dataset'}, not a dataset`);
  const shape = d.shape ?? [];
  let n = 1;
  for (const s of shape) {
    if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`dataset '${path}' declares a bad dimension ${s}`);
    n *= s;
  }
  const meta = d.metadata;
  const bytesPer = meta.size;
  if (meta.type !== 1 /* H5T_FLOAT */ || (bytesPer !== 4 && bytesPer !== 8)) {
    throw new TypeError(`dataset '${path}' has dtype ${d.dtype} (${bytesPer} bytes); weights must be float32 (or float64)`);
  }
  if (n * bytesPer > fileBytes || n > 2 ** 31) {
    throw new RangeError(`dataset '${path}' declares shape [${shape.join(', ')}] (${n * bytesPer} bytes) but the file has only ${fileBytes} bytes`);
  }
  const v = d.value;
  if (!(v instanceof Float32Array) && !(v instanceof Float64Array)) throw new TypeError(`dataset '${path}' could not be read as floats`);
  if (v.length !== n) throw new RangeError(`dataset '${path}' has ${v.length} values for shape [${shape.join(', ')}]`);
  return { shape, data: v instanceof Float32Array ? new Float32Array(v) : Float32Array.from(v) };
}
