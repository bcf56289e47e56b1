/**
 * Elementwise ops (shaders/elementwise.wgsl), forward and backward side by side:
 *   activation y = f(x):   dx += dy · f'(x), with f' computed from the saved output y
 *   add z = a + b:         da += dz, db += dz
 *   mul z = a · b:         da += dz · b, db += dz · a
 *   biasAdd z = x + bias:  dx += dz, dbias += column sums of dz
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';
import { ACTIVATION_CODES, type Activation } from './activations';
import { BINARY_CODES } from '../gpu/wgsl-constants';
import { accumulateInto, sumRowsInto } from './reduce';

/** y = activation(x). Differentiable; 'linear' returns x itself. */
export async function activation(g: Graph, x: Tensor, act: Activation): Promise<Tensor> {
  if (act === 'linear') return x;
  const op = ACTIVATION_CODES[act];
  const y = g.alloc(x.shape, act, g.needsGrad(x));
  const k = await g.kernel('elementwise', 'unaryForward');
  g.forward.dispatch(k, { x, y }, { n: x.size, op, cols: 1, scale: 0, shift: 0 }, x.size);
  if (g.needsGrad(x)) {
    g.record({
      name: act,
      inputs: [x],
      outputs: [y],
      saved: [y],
      backward: async () => {
        const dy = g.gradIfAny(y);
        if (!dy) return;
        const kb = await g.kernel('elementwise', 'unaryBackward');
        g.backwardProgram.dispatch(kb, { y, dy, dx: g.grad(x) }, { n: x.size, op, cols: 1, scale: 0, shift: 0 }, x.size);
      },
    });
  }
  return y;
}

function sameShape(name: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${name}: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}

async function binary(g: Graph, a: Tensor, b: Tensor, kind: keyof typeof BINARY_CODES, name: string): Promise<Tensor> {
  const op = BINARY_CODES[kind];
  sameShape(name, a, b);
  const z = g.alloc(a.shape, name, g.needsGrad(a, b));
  const k = await g.kernel('elementwise', 'binaryForward');
  g.forward.dispatch(k, { a, b, z }, { n: a.size, op, cols: 1, scale: 0, shift: 0 }, a.size);
  if (g.needsGrad(a, b)) {
    g.record({
      name,
      inputs: [a, b],
      outputs: [z],
      saved: kind === 'mul' ? [a, b] : [],
      backward: async () => {
        const dz = g.gradIfAny(z);
        if (!dz) return;
        const kb = await g.kernel('elementwise', 'binaryBackward');
        // One dispatch per input: for x*x or x+x both land in d(x), accumulated twice.
        const p = (code: number) => ({ n: a.size, op: code, cols: 1, scale: 0, shift: 0 });
        // sub: d(a) += dz (the add rule), d(b) -= dz (the sub rule)
        if (a.requiresGrad) g.backwardProgram.dispatch(kb, { dy: dz, b, dx: g.grad(a) }, p(kind === 'sub' ? BINARY_CODES.add : op), a.size);
        if (b.requiresGrad) g.backwardProgram.dispatch(kb, { dy: dz, b: a, dx: g.grad(b) }, p(op), a.size);
      },
    });
  }
  return z;
}

/** z = a + b (same shapes). Differentiable. */
export function add(g: Graph, a: Tensor, b: Tensor): Promise<Tensor> {
  return binary(g, a, b, 'add', 'add');
}

/** z = a · b elementwise (same shapes). Differentiable. */
export function mul(g: Graph, a: Tensor, b: Tensor): Promise<Tensor> {
  return binary(g, a, b, 'mul', 'mul');
}

/** z = a - b (same shapes). Differentiable. */
export function sub(g: Graph, a: Tensor, b: Tensor): Promise<Tensor> {
  return binary(g, a, b, 'sub', 'sub');
}

/** y = x · scale + shift for scalars scale, shift. Differentiable in x. */
export async function scale(g: Graph, x: Tensor, factor: number, shift = 0, name = 'scale'): Promise<Tensor> {
  if (!Number.isFinite(factor) || !Number.isFinite(shift)) throw new RangeError(`${name}: scale ${factor} and shift ${shift} must be finite`);
  const y = g.alloc(x.shape, name, g.needsGrad(x));
  const params = { n: x.size, op: 0, cols: 1, scale: factor, shift };
  g.forward.dispatch(await g.kernel('elementwise', 'scaleForward'), { x, y }, params, x.size);
  g.recordUnary(name, x, y, async (dy) => {
    g.backwardProgram.dispatch(await g.kernel('elementwise', 'scaleBackward'), { dy, dx: g.grad(x) }, params, x.size);
  });
  return y;
}

/** z[r, c] = x[r, c] + bias[c] for x [..., C] and bias [C]. Differentiable. */
export async function biasAdd(g: Graph, x: Tensor, bias: Tensor): Promise<Tensor> {
  const cols = x.shape[x.shape.length - 1]!;
  if (bias.size !== cols) throw new RangeError(`biasAdd: bias has ${bias.size} elements, input rows have ${cols}`);
  const z = g.alloc(x.shape, 'biasAdd', g.needsGrad(x, bias));
  const k = await g.kernel('elementwise', 'biasAddForward');
  g.forward.dispatch(k, { a: x, b: bias, z }, { n: x.size, op: 0, cols, scale: 0, shift: 0 }, x.size);
  if (g.needsGrad(x, bias)) {
    g.record({
      name: 'biasAdd',
      inputs: [x, bias],
      outputs: [z],
      saved: [],
      backward: async () => {
        const dz = g.gradIfAny(z);
        if (!dz) return;
        if (x.requiresGrad) await accumulateInto(g, g.backwardProgram, dz, g.grad(x));
        if (bias.requiresGrad) await sumRowsInto(g, g.backwardProgram, dz, x.size / cols, cols, g.grad(bias), true);
      },
    });
  }
  return z;
}
