/**
 * Concatenation and slicing along any axis (shaders/concat.wgsl), forward and backward: a tensor
 * is viewed as [rows, cols] with rows = the product of the dimensions before the axis, so both are
 * copies between column ranges. Shapes include the batch dimension; `axis` may be negative.
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../gpu/program';
import type { Tensor } from '../tensor';

function dims(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** The axis as an index of a rank-`rank` shape (negative counts from the end); throws when out of range. */
export function normalizeAxis(axis: number, rank: number, where: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new RangeError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

interface Copy {
  rows: number;
  cols: number;
  srcCols: number;
  srcOff: number;
  dstCols: number;
  dstOff: number;
}

async function copyColumns(g: Graph, prog: Program, src: Tensor, dst: Tensor, c: Copy, accumulate: boolean): Promise<void> {
  prog.dispatch(await g.kernel('concat', 'copyColumns'), { src, dst }, { ...c, accumulate }, c.rows * c.cols);
}

/** Concatenates tensors along `axis` (all other dimensions equal). Differentiable in every input. */
export async function concat(g: Graph, xs: readonly Tensor[], axis = -1, name = 'concat'): Promise<Tensor> {
  if (!xs.length) throw new RangeError(`${name}: nothing to concatenate`);
  const rank = xs[0]!.shape.length;
  const ax = normalizeAxis(axis, rank, name);
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== ax && d !== xs[0]!.shape[i])) {
      throw new RangeError(`${name}: shapes ${xs.map(dims).join(', ')} differ outside axis ${axis}`);
    }
  }
  const rows = xs[0]!.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const cols = xs.map((x) => x.size / rows);
  const total = cols.reduce((a, b) => a + b, 0);
  const outShape = [...xs[0]!.shape];
  outShape[ax] = xs.reduce((n, x) => n + x.shape[ax]!, 0);
  const y = g.alloc(outShape, name, g.needsGrad(...xs));
  const copies = cols.map((c, i) => ({ rows, cols: c, dstCols: total, dstOff: cols.slice(0, i).reduce((a, b) => a + b, 0) }));
  for (const [i, x] of xs.entries()) await copyColumns(g, g.forward, x, y, { ...copies[i]!, srcCols: cols[i]!, srcOff: 0 }, false);
  if (g.needsGrad(...xs)) {
    g.record({
      name,
      inputs: xs,
      outputs: [y],
      saved: [],
      backward: async () => {
        const dy = g.gradIfAny(y);
        if (!dy) return;
        for (const [i, x] of xs.entries()) {
          if (!x.requiresGrad) continue;
          const c = copies[i]!;
          await copyColumns(g, g.backwardProgram, dy, g.grad(x), { rows, cols: c.cols, srcCols: total, srcOff: c.dstOff, dstCols: c.cols, dstOff: 0 }, true);
        }
      },
    });
  }
  return y;
}

/** x[..., start:start+size, ...] along `axis`. Differentiable. */
export async function slice(g: Graph, x: Tensor, axis: number, start: number, size: number, name = 'slice'): Promise<Tensor> {
  const ax = normalizeAxis(axis, x.shape.length, name);
  const n = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 1 || start + size > n) {
    throw new RangeError(`${name}: [${start}, ${start + size}) is outside 0..${n} on axis ${axis} of ${dims(x)}`);
  }
  const rows = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const inner = x.size / rows / n; // elements per index of the axis
  const outShape = [...x.shape];
  outShape[ax] = size;
  const y = g.alloc(outShape, name, g.needsGrad(x));
  const c: Copy = { rows, cols: size * inner, srcCols: n * inner, srcOff: start * inner, dstCols: size * inner, dstOff: 0 };
  await copyColumns(g, g.forward, x, y, c, false);
  g.recordUnary(name, x, y, async (dy) => {
    await copyColumns(g, g.backwardProgram, dy, g.grad(x), { rows, cols: c.cols, srcCols: c.cols, srcOff: 0, dstCols: c.srcCols, dstOff: c.srcOff }, true);
  });
  return y;
}

/** Splits x along `axis` into pieces of the given sizes (Σ sizes = the axis length). Differentiable. */
export async function split(g: Graph, x: Tensor, sizes: readonly number[], axis = -1, name = 'split'): Promise<Tensor[]> {
  const ax = normalizeAxis(axis, x.shape.length, name);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== x.shape[ax]) throw new RangeError(`${name}: sizes [${sizes.join(', ')}] sum to ${total}, axis ${axis} of ${dims(x)} has ${x.shape[ax]}`);
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push(await slice(g, x, ax, start, s, `${name}[${out.length}]`));
    start += s;
  }
  return out;
}
