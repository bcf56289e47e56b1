/**
 * Building an ONNX graph and writing it as a ModelProto with protobufjs and the official
 * onnx.proto (ONNX 1.12, Apache-2.0, src/io/onnx.proto): nodes, float32 / int64 initializers,
 * typed inputs and outputs with symbolic dimensions ('batch', 'time'). The messages are plain
 * objects in the .proto's own field names; protobufjs checks and encodes them.
 *
 * protobufjs is imported on first use, so an app that never exports ONNX does not load it.
 * NOTE: protobufjs compiles its encoders with `new Function` the first time a model is written, so
 * a page whose Content-Security-Policy forbids 'unsafe-eval' cannot export ONNX (importing the
 * library is unaffected).
 */
import type protobuf from 'protobufjs';
import ONNX_PROTO from './onnx.proto?raw';

/** A dimension: a size, a symbolic name (dim_param) or unknown (null). */
export type Dim = number | string | null;

/** A tensor of the graph: its name, its shape with the batch dimension, and the [B, T] float mask it carries (Keras masking). */
export interface OnnxValue {
  name: string;
  shape: Dim[];
  mask: string | null;
}

/** ONNX TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;
export const ONNX_BOOL = 9;

/** An attribute value, typed as ONNX wants it. */
export type Attr =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { strings: string[] };

function attribute(name: string, a: Attr): Record<string, unknown> {
  const utf8 = (s: string) => new TextEncoder().encode(s);
  if ('int' in a) return { name, type: 2, i: a.int };
  if ('float' in a) return { name, type: 1, f: a.float };
  if ('ints' in a) return { name, type: 7, ints: a.ints };
  if ('floats' in a) return { name, type: 6, floats: a.floats };
  if ('string' in a) return { name, type: 3, s: utf8(a.string) };
  return { name, type: 8, strings: a.strings.map(utf8) };
}

function littleEndian(a: Float32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(a.byteLength);
  const v = new DataView(out.buffer);
  if (a instanceof Float32Array) a.forEach((x, i) => v.setFloat32(4 * i, x, true));
  else a.forEach((x, i) => v.setBigInt64(8 * i, x, true));
  return out;
}

/** Nodes and initializers of one graph, with unique names. */
export class OnnxGraphBuilder {
  readonly nodes: Record<string, unknown>[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();

  /** Reserves a name (a graph input's). */
  reserve(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph: the name '${name}' is used twice`);
    this.names.add(name);
    return name;
  }

  /** A new unique name starting with `base`. */
  fresh(base: string): string {
    const clean = base.replace(/[^\w./:-]/g, '_');
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  /** A float32 initializer. */
  f32(base: string, dims: readonly number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims: [...dims], data_type: ONNX_FLOAT, raw_data: littleEndian(data) });
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes, indices), shared between nodes that use the same values. */
  i64(values: readonly number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh(`const_${scalar ? 'scalar' : 'i64'}_${values.join('_').replace(/-/g, 'm')}`);
    this.initializers.push({ name, dims: scalar ? [] : [values.length], data_type: ONNX_INT64, raw_data: littleEndian(BigInt64Array.from(values, (v) => BigInt(v))) });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar initializer, shared. */
  scalar(value: number): string {
    const key = `f${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.f32(`const_f32_${String(value).replace(/[^\w]/g, '_')}`, [], Float32Array.of(value));
    this.constants.set(key, name);
    return name;
  }

  /** Adds a node; returns its output names (fresh names from `base` unless given). '' is an omitted optional input. */
  node(op: string, inputs: readonly string[], base: string, attrs: Record<string, Attr> = {}, outputs: number | readonly string[] = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => this.fresh(outputs === 1 ? base : `${base}_${i}`)) : [...outputs];
    this.nodes.push({
      name: this.fresh(`${base}/${op}`),
      op_type: op,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** One-output node. */
  op(op: string, inputs: readonly string[], base: string, attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, base, attrs)[0]!;
  }
}

/** A graph input or output's ValueInfoProto (float32 with the given dims). */
export function valueInfo(name: string, shape: readonly Dim[], elemType = ONNX_FLOAT): Record<string, unknown> {
  const dim = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {}));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

let root: protobuf.Root | null = null;
async function protoType(name: string): Promise<protobuf.Type> {
  if (!root) {
    const lib = ((await import('protobufjs')) as { default: typeof protobuf }).default;
    root = lib.parse(ONNX_PROTO, { keepCase: true }).root;
  }
  return root.lookupType(name);
}

/** Encodes a ModelProto (plain object with onnx.proto field names); throws when a field does not fit the schema. */
export async function encodeModelProto(model: Record<string, unknown>): Promise<Uint8Array> {
  const type = await protoType('onnx.ModelProto');
  const problem = type.verify(model);
  if (problem) throw new Error(`ONNX ModelProto: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Decodes a ModelProto into a plain object (int64 as numbers, bytes as Uint8Array). */
export async function decodeModelProto(bytes: Uint8Array): Promise<Record<string, unknown>> {
  const type = await protoType('onnx.ModelProto');
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Record<string, unknown>;
}
