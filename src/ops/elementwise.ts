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
import { accumulateInto, sumRowsInto } from './reduce';

/** y = activation(x). Differentiable; 'linear' returns x itself. */
export async function activation(g: Graph, x: Tensor, act: Activation): Promise<Tensor> {
  if (act === 'linear') return x;
  const op = ACTIVATION_CODES[act];
  const y = g.alloc(x.shape, act, g.needsGrad(x));
  const k = await g.kernel('elementwise', 'unaryForward');
  g.forward.dispatch(k, { x, y }, { n: x.size, op, cols: 1 }, x.size);
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
        g.backwardProgram.dispatch(kb, { y, dy, dx: g.grad(x) }, { n: x.size, op, cols: 1 }, x.size);
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

async function binary(g: Graph, a: Tensor, b: Tensor, op: 0 | 1, name: string): Promise<Tensor> {
  sameShape(name, a, b);
  const z = g.alloc(a.shape, name, g.needsGrad(a, b));
  const k = await g.kernel('elementwise', 'binaryForward');
  g.forward.dispatch(k, { a, b, z }, { n: a.size, op, cols: 1 }, a.size);
  if (g.needsGrad(a, b)) {
    g.record({
      name,
      inputs: [a, b],
      outputs: [z],
      saved: op === 1 ? [a, b] : [],
      backward: async () => {
        const dz = g.gradIfAny(z);
        if (!dz) return;
        const kb = await g.kernel('elementwise', 'binaryBackward');
        // One dispatch per input: for x*x or x+x both land in d(x), accumulated twice.
        if (a.requiresGrad) g.backwardProgram.dispatch(kb, { dy: dz, b, dx: g.grad(a) }, { n: a.size, op, cols: 1 }, a.size);
        if (b.requiresGrad) g.backwardProgram.dispatch(kb, { dy: dz, b: a, dx: g.grad(b) }, { n: a.size, op, cols: 1 }, a.size);
      },
    });
  }
  return z;
}

/** z = a + b (same shapes). Differentiable. */
export function add(g: Graph, a: Tensor, b: Tensor): Promise<Tensor> {
  return binary(g, a, b, 0, 'add');
}

/** z = a · b elementwise (same shapes). Differentiable. */
export function mul(g: Graph, a: Tensor, b: Tensor): Promise<Tensor> {
  return binary(g, a, b, 1, 'mul');
}

/** z[r, c] = x[r, c] + bias[c] for x [..., C] and bias [C]. Differentiable. */
export async function biasAdd(g: Graph, x: Tensor, bias: Tensor): Promise<Tensor> {
  const cols = x.shape[x.shape.length - 1]!;
  if (bias.size !== cols) throw new RangeError(`biasAdd: bias has ${bias.size} elements, input rows have ${cols}`);
  const z = g.alloc(x.shape, 'biasAdd', g.needsGrad(x, bias));
  const k = await g.kernel('elementwise', 'biasAddForward');
  g.forward.dispatch(k, { a: x, b: bias, z }, { n: x.size, op: 0, cols }, x.size);
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
