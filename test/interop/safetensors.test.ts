/**
 * The safetensors reader and writer (src/io/safetensors.ts) against the format's rules and against
 * an independent implementation (python/webgpu_rnn_torch.py, through the Python peer): files we
 * write read back in Python with the same values, dtypes and metadata; files Python writes read back
 * here; both writers produce the same bytes (the reference's order: wider dtypes first, then names;
 * the header padded with spaces to 8 bytes). Every broken file is refused with a message that names
 * the problem and the tensor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSafetensors, encodeSafetensors, entryToFloat32 } from '../../src/io/safetensors';
import { TorchPeer } from './helpers/peer';
import { TMP, removeTmp } from './helpers/compare';

const TENSORS = {
  'b.weight': { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.of(1.5, -2, 3.25, 1e-8, -0.5, 7) },
  'a.bias': { dtype: 'F32' as const, shape: [3], data: Float32Array.of(0.1, 0.2, 0.3) },
  'c.double': { dtype: 'F64' as const, shape: [2], data: Float64Array.of(Math.PI, -1e300) },
  'bn.num_batches_tracked': { dtype: 'I64' as const, shape: [], data: BigInt64Array.of(42n) },
  'empty': { dtype: 'F32' as const, shape: [0, 4], data: new Float32Array(0) },
};
const META = { format: 'pt', note: 'quotes " and \\ backslashes' };

/** A file from a header object and raw data bytes (to build broken files). */
function raw(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad) h = Uint8Array.from([...h, ...new Array((8 - (h.length % 8)) % 8).fill(0x20)]);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors: the format', () => {
  const bytes = encodeSafetensors(TENSORS, META);
  it('header: little-endian size, JSON starting with {, padded with spaces so the data starts at a multiple of 8', () => {
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text[0]).toBe('{');
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    const header = JSON.parse(text) as Record<string, { data_offsets: number[] }>;
    // the reference writer's order: wider dtypes first (I64, F64 before F32), then by name
    expect(Object.keys(header)).toEqual(['__metadata__', 'bn.num_batches_tracked', 'c.double', 'a.bias', 'b.weight', 'empty']);
    expect(header['bn.num_batches_tracked']!.data_offsets).toEqual([0, 8]);
    expect(header['empty']!.data_offsets).toEqual([header['b.weight']!.data_offsets[1], header['b.weight']!.data_offsets[1]]);
    expect(bytes.length).toBe(8 + n + 8 + 16 + 12 + 24);
  });
  it('reads back what it wrote', () => {
    const f = decodeSafetensors(bytes);
    expect(f.metadata).toEqual(META);
    expect(Array.from(entryToFloat32(f.tensors.get('b.weight')!)!)).toEqual(Array.from(TENSORS['b.weight'].data));
    expect(Array.from(entryToFloat32(f.tensors.get('c.double')!)!)).toEqual([Math.fround(Math.PI), -Infinity]);
    expect(f.tensors.get('empty')!.shape).toEqual([0, 4]);
    expect(entryToFloat32(f.tensors.get('bn.num_batches_tracked')!)).toBeNull();
  });
  it.each([
    ['a header size past the end', raw('{}', new Uint8Array(0)).subarray(0, 12), /runs past the end/],
    ['a header that is not an object', raw('[1, 2]', new Uint8Array(0)), /must start with '\{'/],
    ['invalid JSON', raw('{"a": ', new Uint8Array(0)), /not valid JSON/],
    ['an unknown dtype', raw({ x: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor 'x': unknown dtype "F128"/],
    ['a size that does not match the shape', raw({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'x': F32 \[3\] needs 12 bytes/],
    ['a hole', raw({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /tensor 'x' starts at byte 4 of the data, expected 0 \(a hole/],
    ['an overlap', raw({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /overlaps/],
    ['bytes no tensor indexes', raw({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /cover 4 of the 8 data bytes/],
    ['a duplicate name', raw('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /tensor 'x' appears twice/],
    ['metadata that is not strings', raw({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__ 'a' must be a string/],
    ['a header over 100 MB', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 200_000_000n, true); return b; })(), /over the 100 MB limit/],
  ])('refuses %s', (_name, file, message) => {
    expect(() => decodeSafetensors(file)).toThrow(message);
  });
  it('refuses to write data that does not fit its shape or dtype, naming the tensor', () => {
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(/tensor 'w': shape \[2, 2\] has 4 elements, the data 3/);
    expect(() => encodeSafetensors({ w: { dtype: 'F64', shape: [1], data: new Float32Array(1) } })).toThrow(/tensor 'w': dtype F64 needs a Float64Array/);
  });
});

describe('safetensors: the same files as an independent implementation (python/webgpu_rnn_torch.py)', () => {
  let peer: TorchPeer;
  beforeAll(() => void (peer = new TorchPeer()));
  afterAll(() => (peer?.close(), removeTmp()));

  it('Python reads our file: values, dtypes, shapes, metadata', async () => {
    const path = join(TMP, 'ours.safetensors');
    writeFileSync(path, encodeSafetensors(TENSORS, META));
    const r = await peer.request<{ tensors: Record<string, { dtype: string; shape: number[]; data: number[] }>; metadata: Record<string, string> }>('read', { path });
    expect(r.metadata).toEqual(META);
    expect(r.tensors['b.weight']).toEqual({ dtype: 'torch.float32', shape: [2, 3], data: Array.from(TENSORS['b.weight'].data) });
    expect(r.tensors['c.double']).toEqual({ dtype: 'torch.float64', shape: [2], data: [Math.PI, -1e300] });
    expect(r.tensors['bn.num_batches_tracked']).toEqual({ dtype: 'torch.int64', shape: [], data: [42] });
    expect(r.tensors['empty']!.shape).toEqual([0, 4]);
  });

  it('we read Python\'s file, and both writers make the same bytes', async () => {
    const path = join(TMP, 'python.safetensors');
    const plain = Object.fromEntries(Object.entries(TENSORS).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: Array.from(t.data as ArrayLike<number | bigint>, Number) }]));
    await peer.request('write', { path, tensors: plain, metadata: META });
    const theirs = new Uint8Array(readFileSync(path));
    const f = decodeSafetensors(theirs);
    expect(f.metadata).toEqual(META);
    expect(Array.from(entryToFloat32(f.tensors.get('a.bias')!)!)).toEqual(Array.from(TENSORS['a.bias'].data));
    expect(Buffer.from(theirs).equals(Buffer.from(encodeSafetensors(TENSORS, META)))).toBe(true);
  });
});
