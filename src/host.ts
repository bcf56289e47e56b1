/**
 * Host-side (CPU) arrays: what users pass in and get back.
 * Shapes are row-major; sequences are batch-major `[B, T, F]` as in Keras.
 *
 * Input validation and conversion: users pass `{data: Float32Array, shape}` or nested arrays;
 * everything is checked (shape consistency, emptiness, NaN/Inf) before any GPU work, with errors
 * that name the argument and the problem.
 */
import { shapeSize } from './tensor';

/** A row-major float32 array with its shape (what the model APIs return). */
export interface HostTensor {
  /** The values, row-major. */
  readonly data: Float32Array;
  /** The shape, e.g. `[batch, time, features]`. */
  readonly shape: readonly number[];
}

/**
 * What the model APIs accept as data: `{data, shape}` (any array-like of numbers) or nested
 * arrays, e.g. `[[[0.1], [0.2]], [[0.3], [0.4]]]` for 2 sequences of 2 steps of 1 feature.
 */
export type TensorLike =
  | HostTensor
  | {
      /** The values, row-major. */
      data: ArrayLike<number>;
      /** The shape. */
      shape: readonly number[];
    }
  | NestedArray;
/** Numbers nested in arrays, one level per dimension (all rows the same length). */
export type NestedArray = number[] | NestedArray[];

/** Converts and validates; `what` names the argument in errors (e.g. 'fit: x'). */
export function toHostTensor(value: TensorLike, what: string): HostTensor {
  if (value === null || value === undefined) throw new TypeError(`${what}: no data given`);
  let data: Float32Array;
  let shape: number[];
  if (Array.isArray(value)) {
    shape = [];
    let probe: unknown = value;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    if (shape.some((d) => d === 0)) throw new RangeError(`${what}: empty data (shape [${shape.join(', ')}])`);
    data = new Float32Array(shapeSize(shape));
    let k = 0;
    const walk = (a: unknown, depth: number, path: string) => {
      if (depth === shape.length) {
        if (typeof a !== 'number') throw new TypeError(`${what}: element ${path} is ${typeof a}, not a number`);
        data[k++] = a;
        return;
      }
      if (!Array.isArray(a) || a.length !== shape[depth]) {
        throw new RangeError(`${what}: ragged nested array at ${path || 'top level'} (expected length ${shape[depth]}, got ${Array.isArray(a) ? a.length : typeof a})`);
      }
      a.forEach((v, i) => walk(v, depth + 1, `${path}[${i}]`));
    };
    walk(value, 0, '');
  } else if (typeof value === 'object' && 'data' in value && 'shape' in value) {
    shape = [...value.shape];
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new RangeError(`${what}: invalid shape [${shape.join(', ')}]`);
    if (shape.length === 0 || shapeSize(shape) === 0) throw new RangeError(`${what}: empty data (shape [${shape.join(', ')}])`);
    if (value.data.length !== shapeSize(shape)) {
      throw new RangeError(`${what}: data has ${value.data.length} values but shape [${shape.join(', ')}] needs ${shapeSize(shape)}`);
    }
    data = value.data instanceof Float32Array ? value.data : Float32Array.from(value.data);
  } else {
    throw new TypeError(`${what}: expected {data, shape} or a nested number array`);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      const idx = unravel(i, shape);
      throw new RangeError(`${what}: contains ${data[i]} at index [${idx.join(', ')}]; NaN and Infinity are not allowed`);
    }
  }
  return { data, shape };
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

/** Copies rows `idx` (along axis 0) of `src` into `dst` (which holds idx.length rows). */
export function gatherRows(src: HostTensor, idx: ArrayLike<number>, dst: Float32Array): void {
  const row = src.data.length / src.shape[0]!;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    dst.set(src.data.subarray(r * row, (r + 1) * row), i * row);
  }
}
