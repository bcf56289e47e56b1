/**
 * Reductions (shaders/reduce.wgsl): column sums (bias gradients), full sum and mean with their
 * broadcast backward, and `accumulateInto` (dx += scale·x) for gradient pass-through.
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../gpu/program';
import type { Tensor } from '../tensor';

/** Records out[c] (+)= Σ_r x[r, c] for x viewed as [rows, cols]. */
export async function sumRowsInto(g: Graph, prog: Program, x: Tensor, rows: number, cols: number, out: Tensor, accumulate: boolean): Promise<void> {
  const k = await g.kernel('reduce', 'sumRows');
  prog.dispatch(k, { x, out }, { rows, cols, scale: 1, accumulate }, cols);
}

/** Records dst (+)= scale · src (same size). */
export async function accumulateInto(g: Graph, prog: Program, src: Tensor, dst: Tensor, scale = 1, accumulate = true): Promise<void> {
  if (src.size !== dst.size) throw new RangeError(`accumulate: ${src.name} has ${src.size} elements, ${dst.name} has ${dst.size}`);
  const k = await g.kernel('reduce', 'axpy');
  prog.dispatch(k, { x: src, dx: dst }, { rows: 1, cols: src.size, scale, accumulate }, src.size);
}

async function reduceAll(g: Graph, x: Tensor, scale: number, name: string): Promise<Tensor> {
  const out = g.alloc([1], name, g.needsGrad(x));
  const k = await g.kernel('reduce', 'sumAll');
  g.forward.dispatch(k, { x, out }, { rows: 1, cols: x.size, scale, accumulate: false }, [1, 1, 1]);
  if (g.needsGrad(x)) {
    g.record({
      name,
      inputs: [x],
      outputs: [out],
      saved: [],
      backward: async () => {
        const dOut = g.gradIfAny(out);
        if (!dOut) return;
        const kb = await g.kernel('reduce', 'sumAllBackward');
        g.backwardProgram.dispatch(kb, { dOut, dx: g.grad(x) }, { rows: 1, cols: x.size, scale, accumulate: true }, x.size);
      },
    });
  }
  return out;
}

/** Σ x over all elements, shape [1]. Differentiable. */
export function sum(g: Graph, x: Tensor): Promise<Tensor> {
  return reduceAll(g, x, 1, 'sum');
}

/** Mean of x over all elements, shape [1]. Differentiable. */
export function mean(g: Graph, x: Tensor): Promise<Tensor> {
  return reduceAll(g, x, 1 / x.size, 'mean');
}
