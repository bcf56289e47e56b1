/**
 * Float64 references of concatenation, slicing and splitting along any axis (src/ops/concat.ts,
 * shaders/concat.wgsl), as plain loops over row-major arrays of any rank: a shape is read as
 * [outer, n, inner] around the axis (outer = the product of the dimensions before it, inner = of
 * those after it), and element (o, a, i) sits at (o·n + a)·inner + i.
 *   - concat: the inputs' axis ranges side by side; its backward hands each input its range of dy
 *   - slice: one range [start, start + size) of the axis; its backward writes dy there (zeros elsewhere)
 *   - split: consecutive slices; its backward is the concatenation of the pieces' gradients
 * Axes may be negative (counted from the end), as in the ops. Gradient checks:
 * test/reference/concat.test.ts; the GPU tests: test/unit/concat.test.ts.
 */

/** The axis as an index of a rank-`rank` shape (negative counts from the end). */
export function axisIndex(axis: number, rank: number): number {
  const ax = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= rank) throw new Error(`axisIndex: axis ${axis} for rank ${rank}`);
  return ax;
}

/** [outer, n, inner] of `shape` around `axis`. */
export function around(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  const ax = axisIndex(axis, shape.length);
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  return { outer: prod(shape.slice(0, ax)), n: shape[ax]!, inner: prod(shape.slice(ax + 1)) };
}

/** The shape of the concatenation of `shapes` along `axis`. */
export function concatShape(shapes: readonly (readonly number[])[], axis: number): number[] {
  const ax = axisIndex(axis, shapes[0]!.length);
  const out = [...shapes[0]!];
  out[ax] = shapes.reduce((s, sh) => s + sh[ax]!, 0);
  return out;
}

/** Concatenation of xs (shapes `shapes`, equal outside `axis`) along `axis`. */
export function concatRef(xs: readonly Float64Array[], shapes: readonly (readonly number[])[], axis: number): Float64Array {
  const { outer, inner } = around(shapes[0]!, axis);
  const ns = shapes.map((s) => around(s, axis).n);
  const total = ns.reduce((a, b) => a + b, 0);
  const y = new Float64Array(outer * total * inner);
  for (let o = 0; o < outer; o++) {
    let at = 0; // first index of input k on the output's axis
    for (let k = 0; k < xs.length; k++) {
      for (let a = 0; a < ns[k]!; a++) {
        for (let i = 0; i < inner; i++) y[(o * total + at + a) * inner + i] = xs[k]![(o * ns[k]! + a) * inner + i]!;
      }
      at += ns[k]!;
    }
  }
  return y;
}

/** Gradients of concatRef for an output gradient dy: input k gets its range of dy. */
export function concatBackwardRef(dy: Float64Array, shapes: readonly (readonly number[])[], axis: number): Float64Array[] {
  const yShape = concatShape(shapes, axis);
  let start = 0;
  return shapes.map((sh) => {
    const n = around(sh, axis).n;
    const d = sliceRef(dy, yShape, axis, start, n);
    start += n;
    return d;
  });
}

/** x[..., start:start+size, ...] along `axis` of a tensor of shape `shape`. */
export function sliceRef(x: Float64Array, shape: readonly number[], axis: number, start: number, size: number): Float64Array {
  const { outer, n, inner } = around(shape, axis);
  if (start < 0 || start + size > n) throw new Error(`sliceRef: [${start}, ${start + size}) outside 0..${n}`);
  const y = new Float64Array(outer * size * inner);
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < size; a++) {
      for (let i = 0; i < inner; i++) y[(o * size + a) * inner + i] = x[(o * n + start + a) * inner + i]!;
    }
  }
  return y;
}

/** dx of sliceRef for an output gradient dy: dy written at [start, start + size) of zeros. */
export function sliceBackwardRef(dy: Float64Array, shape: readonly number[], axis: number, start: number, size: number): Float64Array {
  const { outer, n, inner } = around(shape, axis);
  const dx = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < size; a++) {
      for (let i = 0; i < inner; i++) dx[(o * n + start + a) * inner + i] = dy[(o * size + a) * inner + i]!;
    }
  }
  return dx;
}

/** The pieces of x split along `axis` into consecutive ranges of the given sizes. */
export function splitRef(x: Float64Array, shape: readonly number[], sizes: readonly number[], axis: number): Float64Array[] {
  let start = 0;
  return sizes.map((s) => {
    const piece = sliceRef(x, shape, axis, start, s);
    start += s;
    return piece;
  });
}

/** dx of splitRef for the pieces' gradients: their concatenation. */
export function splitBackwardRef(dys: readonly Float64Array[], shape: readonly number[], sizes: readonly number[], axis: number): Float64Array {
  const ax = axisIndex(axis, shape.length);
  const shapes = sizes.map((s) => shape.map((d, i) => (i === ax ? s : d)));
  return concatRef(dys, shapes, axis);
}
