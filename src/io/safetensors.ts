/**
 * The safetensors format (huggingface/safetensors, the format PyTorch users exchange state_dicts
 * in), written and read here with no dependency:
 *
 *   8 bytes   N, little-endian u64: the header's byte length
 *   N bytes   UTF-8 JSON: {"__metadata__": {str: str}?, name: {dtype, shape, data_offsets: [begin, end]}}
 *             starting with '{', padded with spaces (0x20) so that 8 + N is a multiple of 8
 *   the rest  the tensors' bytes, little-endian, row-major, packed: offsets are relative to the
 *             byte after the header, contiguous from 0, no holes, no overlaps, covering everything
 *
 * The writer does what the reference implementation does: tensors sorted by dtype (wider first)
 * then name, the header padded to 8 bytes, no duplicate names. The reader checks every rule above
 * (header size limit 100 MB as the reference) and names the tensor at fault.
 */
import { toHostTensor, type HostTensor, type TensorLike } from '../host';

/** safetensors' dtype names, with their element sizes in bytes. */
export const SAFETENSORS_DTYPES = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
} as const;

/** A safetensors dtype name ('F32', 'F64', 'I64', …). */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** A tensor to write: float32 / float64 / int64 values (row-major) and its shape. */
export interface SafetensorsInput {
  dtype: 'F32' | 'F64' | 'I64';
  shape: readonly number[];
  /** Float32Array for F32, Float64Array for F64, BigInt64Array for I64. */
  data: Float32Array | Float64Array | BigInt64Array;
}

/** A tensor read from a file: its dtype, shape and raw little-endian bytes. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes (a view into the file). */
  bytes: Uint8Array;
}

/** A decoded file: the tensors by name (header order) and the `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Errors in a safetensors file or in what is written to one. */
export class SafetensorsError extends Error {
  /** 'SafetensorsError'. */
  override name = 'SafetensorsError';
}

const MAX_HEADER = 100_000_000;
const ORDER = Object.keys(SAFETENSORS_DTYPES) as SafetensorsDtype[]; // the reference's enum order: increasing alignment

function numel(shape: readonly number[], where: string): number {
  if (!Array.isArray(shape)) throw new SafetensorsError(`${where}: shape must be an array of integers, got ${JSON.stringify(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsError(`${where}: bad dimension ${JSON.stringify(d)} in shape ${JSON.stringify(shape)}`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new SafetensorsError(`${where}: shape ${JSON.stringify(shape)} is too large`);
  return n;
}

/**
 * Encodes tensors (name → tensor) and optional string metadata as a safetensors file.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) } }, { format: 'pt' });
 * ```
 */
export function encodeSafetensors(tensors: Readonly<Record<string, SafetensorsInput>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    const where = `safetensors: tensor '${name}'`;
    if (name === '__metadata__') throw new SafetensorsError(`${where}: '__metadata__' is reserved for the metadata`);
    const want = { F32: Float32Array, F64: Float64Array, I64: BigInt64Array }[t.dtype];
    if (!want) throw new SafetensorsError(`${where}: can write dtype F32, F64 or I64, got ${JSON.stringify(t.dtype)}`);
    if (!(t.data instanceof want)) throw new SafetensorsError(`${where}: dtype ${t.dtype} needs a ${want.name}, got ${(t.data as object)?.constructor?.name ?? typeof t.data}`);
    const n = numel(t.shape, where);
    if (t.data.length !== n) throw new SafetensorsError(`${where}: shape [${t.shape.join(', ')}] has ${n} elements, the data ${t.data.length}`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
  }
  // The reference writer's order: dtype alignment descending, then name.
  entries.sort(([a, ta], [b, tb]) => ORDER.indexOf(tb.dtype) - ORDER.indexOf(ta.dtype) || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, t] of entries) {
    const n = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + n] };
    offset += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const [, t] of entries) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

function littleEndianBytes(a: Float32Array | Float64Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(a.byteLength);
  const v = new DataView(bytes.buffer);
  if (a instanceof Float32Array) a.forEach((x, i) => v.setFloat32(4 * i, x, true));
  else if (a instanceof Float64Array) a.forEach((x, i) => v.setFloat64(8 * i, x, true));
  else a.forEach((x, i) => v.setBigInt64(8 * i, x, true));
  return bytes;
}

/** Decodes a safetensors file, checking every rule of the format; errors name the tensor. */
export function decodeSafetensors(file: Uint8Array | ArrayBuffer): SafetensorsFile {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file);
  if (bytes.length < 8) throw new SafetensorsError(`safetensors: the file has ${bytes.length} bytes, fewer than the 8 of its header size`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) throw new SafetensorsError(`safetensors: header size ${n64} is over the 100 MB limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) throw new SafetensorsError(`safetensors: header size ${n} runs past the end of the ${bytes.length}-byte file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('safetensors: the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError(`safetensors: the header must start with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  const keys = [...text.matchAll(/"((?:[^"\\]|\\.)*)"\s*:\s*\{/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsError(`safetensors: the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('safetensors: the header must be a JSON object');
  const dup = keys.find((k, i) => keys.indexOf(k) !== i && k in header);
  if (dup !== undefined) throw new SafetensorsError(`safetensors: tensor '${dup}' appears twice in the header`);
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const found: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) throw new SafetensorsError('safetensors: __metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new SafetensorsError(`safetensors: __metadata__ '${k}' must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `safetensors: tensor '${name}'`;
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (t === null || typeof t !== 'object') throw new SafetensorsError(`${where}: expected {dtype, shape, data_offsets}, got ${JSON.stringify(info)}`);
    if (typeof t.dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPES, t.dtype)) {
      throw new SafetensorsError(`${where}: unknown dtype ${JSON.stringify(t.dtype)} (expected one of ${ORDER.join(', ')})`);
    }
    const dtype = t.dtype as SafetensorsDtype;
    const shape = t.shape as number[];
    const count = numel(shape, where);
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[1] < offs[0]) {
      throw new SafetensorsError(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const size = count * SAFETENSORS_DTYPES[dtype];
    if (end - begin !== size) throw new SafetensorsError(`${where}: ${dtype} [${shape.join(', ')}] needs ${size} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    if (end > data.length) throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] run past the ${data.length} bytes of data`);
    found.push({ name, begin, end });
    tensors.set(name, { dtype, shape: [...shape], bytes: data.subarray(begin, end) });
  }
  // The buffer is entirely indexed: sorted by offset, each tensor starts where the previous ends.
  found.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const f of found) {
    if (f.begin !== at) {
      throw new SafetensorsError(`safetensors: tensor '${f.name}' starts at byte ${f.begin} of the data, expected ${at} (${f.begin > at ? 'a hole before it' : 'it overlaps the previous tensor'})`);
    }
    at = f.end;
  }
  if (at !== data.length) throw new SafetensorsError(`safetensors: the tensors cover ${at} of the ${data.length} data bytes (the rest is not indexed)`);
  return { tensors, metadata };
}

/** A tensor's values as float32 (from F32, F64, F16 or BF16); null for integer and bool dtypes. */
export function entryToFloat32(e: SafetensorsEntry): Float32Array | null {
  const v = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  const size = SAFETENSORS_DTYPES[e.dtype];
  const n = e.bytes.byteLength / size;
  const out = new Float32Array(n);
  switch (e.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, true);
      return out;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = new Float32Array(new Uint32Array([v.getUint16(2 * i, true) << 16]).buffer)[0]!;
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(2 * i, true));
      return out;
    default:
      return null;
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Writes float32 arrays (`{data, shape}` or nested arrays, e.g. a training set's x and y) as a
 * safetensors file, with optional string metadata: what `torch` and `safetensors` read.
 *
 * @example
 * ```ts
 * writeFileSync('data.safetensors', rnn.io.writeSafetensors({ x: train.x, y: train.y }));
 * ```
 */
export function writeSafetensors(tensors: Readonly<Record<string, TensorLike>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new SafetensorsError('writeSafetensors: expected an object of named tensors, e.g. {x, y}');
  const inputs: Record<string, SafetensorsInput> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const h = toHostTensor(t, `writeSafetensors: tensor '${name}'`);
    inputs[name] = { dtype: 'F32', shape: [...h.shape], data: h.data };
  }
  return encodeSafetensors(inputs, metadata);
}

/** What `readSafetensors` returns. */
export interface SafetensorsContents {
  /** The tensors by name, as float32 arrays with their shapes. */
  tensors: Record<string, HostTensor>;
  /** The file's `__metadata__` strings (e.g. `format: 'pt'`). */
  metadata: Record<string, string>;
}

/**
 * Reads a safetensors file into float32 arrays by name (float16, bfloat16, float64 and integer
 * tensors are converted) and its metadata.
 */
export function readSafetensors(file: Uint8Array | ArrayBuffer): SafetensorsContents {
  const f = decodeSafetensors(file);
  const tensors: Record<string, HostTensor> = {};
  for (const [name, e] of f.tensors) tensors[name] = { data: entryToFloat32(e) ?? integersToFloat32(e), shape: e.shape };
  return { tensors, metadata: f.metadata };
}

function integersToFloat32(e: SafetensorsEntry): Float32Array {
  const v = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  const size = SAFETENSORS_DTYPES[e.dtype];
  const n = e.bytes.byteLength / size;
  const read: Record<string, (i: number) => number> = {
    BOOL: (i) => v.getUint8(i), U8: (i) => v.getUint8(i), I8: (i) => v.getInt8(i), I16: (i) => v.getInt16(2 * i, true), U16: (i) => v.getUint16(2 * i, true),
    I32: (i) => v.getInt32(4 * i, true), U32: (i) => v.getUint32(4 * i, true), I64: (i) => Number(v.getBigInt64(8 * i, true)), U64: (i) => Number(v.getBigUint64(8 * i, true)),
  };
  const f = read[e.dtype];
  if (!f) throw new SafetensorsError(`safetensors: dtype ${e.dtype} cannot be read as numbers`);
  return Float32Array.from({ length: n }, (_, i) => f(i));
}
