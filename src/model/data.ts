/**
 * A model's host data: inputs and targets given as one array, a list, or an object by layer name
 * (Keras), converted to lists in the model's input / output order and checked before any GPU work
 * (row counts, every shape against the model's), and gathered into batches of rows.
 */
import { gatherRows, toHostTensor, type HostTensor, type TensorLike } from '../host';
import { shapeToString, type Layer, type Shape } from '../layers/layer';
import type { ModelData } from './types';
import type { Topology } from './topology';

/** One batch (or a whole data set): the model's inputs, targets (none for predict) and row weights. */
export interface HostBatch {
  xs: HostTensor[];
  ys: HostTensor[];
  sampleWeight: HostTensor | null;
}

/** Rows of a batch. */
export function batchRows(b: HostBatch): number {
  return b.xs[0]!.shape[0]!;
}

/**
 * `data` as a list in `names` order: one array for a single name; a list or an object by name for
 * several. `what` ('x' or 'y') and `where` name the argument in errors.
 */
export function dataList(data: ModelData, names: readonly string[], what: string, where: string): HostTensor[] {
  if (data === null || data === undefined) throw new TypeError(`${where}: no ${what} given`);
  if (names.length === 1) {
    if (Array.isArray(data) && data.length === 1 && !Array.isArray(data[0]) && typeof data[0] === 'object') return [toHostTensor(data[0] as TensorLike, `${where}: ${what}`)];
    if (!Array.isArray(data) && typeof data === 'object' && !('data' in data) && names[0]! in data) return [toHostTensor((data as Record<string, TensorLike>)[names[0]!]!, `${where}: ${what}.${names[0]}`)];
    return [toHostTensor(data as TensorLike, `${where}: ${what}`)];
  }
  if (Array.isArray(data)) {
    if (data.length !== names.length) throw new RangeError(`${where}: ${what} must be ${names.length} arrays (${names.join(', ')}), got ${data.length}`);
    return data.map((d, i) => toHostTensor(d as TensorLike, `${where}: ${what}[${i}] (${names[i]})`));
  }
  if (typeof data === 'object' && !('data' in data)) {
    const o = data as Record<string, TensorLike>;
    const unknown = Object.keys(o).filter((k) => !names.includes(k));
    if (unknown.length) throw new RangeError(`${where}: ${what} names unknown ${unknown.join(', ')} (expected: ${names.join(', ')})`);
    return names.map((n) => {
      if (!Object.hasOwn(o, n)) throw new RangeError(`${where}: ${what} has no ${n} (expected: ${names.join(', ')})`);
      return toHostTensor(o[n]!, `${where}: ${what}.${n}`);
    });
  }
  throw new TypeError(`${where}: ${what} must be ${names.length} arrays as a list or an object by name (${names.join(', ')})`);
}

/**
 * Throws unless an input's shape (without batch) fits the model's `want` (null dimensions match any
 * length), naming the input (`what`) and the `layer` that reads it.
 */
export function checkInput(shape: Shape, want: Shape, what: string, where: string, layer?: Layer): void {
  const ok = shape.length === want.length && want.every((d, i) => d === null || d === shape[i]);
  if (!ok) throw new RangeError(`${where}: ${what} shape ${shapeToString(shape)} does not match the model's input ${shapeToString(want)}${layer ? ` (layer ${layer.name})` : ''}`);
}

/** Throws unless every array has `rows` rows. */
export function checkRows(arrays: readonly HostTensor[], rows: number, names: readonly string[], where: string): void {
  arrays.forEach((a, i) => {
    if (a.shape[0] !== rows) throw new RangeError(`${where}: ${names[i]} has ${a.shape[0]} rows (shape [${a.shape.join(', ')}]) but the first input has ${rows}`);
  });
}

/** Sample weights [rows] (Keras sample_weight), checked: finite and >= 0. */
export function sampleWeights(w: TensorLike, rows: number, where: string): HostTensor {
  const h = toHostTensor(w, `${where}: sampleWeight`);
  if (h.shape.length !== 1 || h.shape[0] !== rows) throw new RangeError(`${where}: sampleWeight must be [${rows}] (one weight per row), got [${h.shape.join(', ')}]`);
  if (h.data.some((v) => v < 0)) throw new RangeError(`${where}: sampleWeight must be >= 0`);
  return h;
}

/** Rows [a, b) of every array of a batch (views, no copy). */
export function cutRows(batch: HostBatch, a: number, b: number): HostBatch {
  const cut = (t: HostTensor): HostTensor => {
    const row = t.data.length / t.shape[0]!;
    return { data: t.data.subarray(a * row, b * row), shape: [b - a, ...t.shape.slice(1)] };
  };
  return { xs: batch.xs.map(cut), ys: batch.ys.map(cut), sampleWeight: batch.sampleWeight ? cut(batch.sampleWeight) : null };
}

/** Gathers rows `idx` of every array of `src` into reusable buffers (one per array). */
export function rowGatherer(src: HostBatch, maxRows: number): (idx: ArrayLike<number>) => HostBatch {
  const all = [...src.xs, ...src.ys, ...(src.sampleWeight ? [src.sampleWeight] : [])];
  const bufs = all.map((t) => new Float32Array(maxRows * (t.data.length / t.shape[0]!)));
  return (idx) => {
    const rows = idx.length;
    const out = all.map((t, i) => {
      gatherRows(t, idx, bufs[i]!);
      const row = t.data.length / t.shape[0]!;
      return { data: bufs[i]!.subarray(0, rows * row), shape: [rows, ...t.shape.slice(1)] };
    });
    const nx = src.xs.length, ny = src.ys.length;
    return { xs: out.slice(0, nx), ys: out.slice(nx, nx + ny), sampleWeight: src.sampleWeight ? out[nx + ny]! : null };
  };
}

/** What prepareBatch needs to know about the model. */
export interface DataModel {
  topology: Topology;
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** The outputs' shapes for these input shapes. */
  outputShapes(inputs: readonly Shape[]): Shape[];
}

/**
 * Converts and checks a model's inputs, targets (null for predict) and sample weights, before any
 * GPU work: every input against the model's, the row counts, every target against the output the
 * model gives for these inputs. `where` prefixes the errors ('fit', 'evaluate', …).
 */
export function prepareBatch(m: DataModel, xIn: ModelData, yIn: ModelData | null, where: string, sw?: TensorLike): HostBatch {
  const topo = m.topology;
  const names = m.inputNames;
  const many = names.length > 1;
  const xs = dataList(xIn, names, 'x', where);
  xs.forEach((x, i) => {
    const user = topo.nodes.find((n) => n.reads.includes(topo.inputs[i]!))?.layer;
    checkInput(x.shape.slice(1), topo.inputs[i]!.shape, many ? `input ${names[i]}` : 'input', where, user);
  });
  const rows = xs[0]!.shape[0]!;
  checkRows(xs, rows, names.map((n) => `x ${n}`), where);
  if (yIn === null) return { xs, ys: [], sampleWeight: null };
  const outNames = m.outputNames;
  const label = (i: number) => (outNames.length > 1 ? ` ${outNames[i]}` : '');
  const ys = dataList(yIn, outNames, 'y', where);
  ys.forEach((y, i) => {
    if (y.shape[0] !== rows) throw new RangeError(`${where}: x has ${rows} rows (shape [${xs[0]!.shape.join(', ')}]) but y${label(i)} has ${y.shape[0]} (shape [${y.shape.join(', ')}])`);
  });
  const outs = m.outputShapes(xs.map((x) => x.shape.slice(1)));
  ys.forEach((y, i) => {
    const out = outs[i]!;
    const ok = out.length === y.shape.length - 1 && out.every((d, j) => d === y.shape[j + 1]);
    if (!ok) throw new RangeError(`${where}: y${label(i)} has shape [${y.shape.join(', ')}] but the model outputs ${shapeToString(out)} for x of shape [${xs[0]!.shape.join(', ')}]`);
  });
  return { xs, ys, sampleWeight: sw === undefined ? null : sampleWeights(sw, rows, where) };
}

/** The shape of data's first array without converting it (null when it cannot be seen cheaply). */
export function firstShape(x: ModelData): number[] | null {
  const one = (t: unknown): number[] | null => {
    if (t && typeof t === 'object' && !Array.isArray(t) && 'shape' in t && Array.isArray((t as { shape: unknown }).shape)) return [...(t as { shape: number[] }).shape];
    if (Array.isArray(t)) {
      const shape: number[] = [];
      let probe: unknown = t;
      while (Array.isArray(probe)) {
        shape.push(probe.length);
        probe = probe[0];
      }
      return typeof probe === 'number' ? shape : null;
    }
    return null;
  };
  const direct = one(x);
  if (direct) return direct;
  if (Array.isArray(x)) return one(x[0]);
  if (x && typeof x === 'object') return one(Object.values(x)[0]);
  return null;
}
