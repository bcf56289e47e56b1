/**
 * Concatenation, slicing and splitting along any axis (src/ops/concat.ts, shaders/concat.wgsl) on
 * the real GPU against their float64 references (test/reference/concat.ts, gradient-checked in
 * test/reference/concat.test.ts): concat of 2 and 3 inputs along the last axis, the time axis, an
 * inner axis of a rank-4 tensor and the batch axis, with the gradient of every input (added to
 * that input's other gradients, also for a tensor concatenated with itself); slice at the edges
 * and in the middle of an axis (two overlapping slices of one tensor sum their gradients); split
 * into 2 and 3 pieces, some of them unused; and the errors for bad axes, shapes and ranges.
 * Forward values are copies, so they must be exact. Small sizes (B=3 T=4 F=5).
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { GRAD, EXACT } from '../helpers/tolerances';
import { randomArray } from '../helpers/rng';
import { concatRef, concatBackwardRef, concatShape, sliceRef, sliceBackwardRef, splitRef, splitBackwardRef, axisIndex } from '../reference/concat';
import { concat, slice, split } from '../../src/ops/concat';
import { add } from '../../src/ops/elementwise';
import type { Tensor } from '../../src/tensor';

const B = 3, T = 4, F = 5;

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The sum of the loss terms (at least one). */
async function total(g: Graph, terms: Tensor[]): Promise<Tensor> {
  let loss = terms[0]!;
  for (const t of terms.slice(1)) loss = await add(g, loss, t);
  return loss;
}

describe('concat', () => {
  const cases: [string, number[][], number][] = [
    ['2 inputs along axis -1 (features)', [[B, T, F], [B, T, 2]], -1],
    ['3 inputs along axis -1 (features)', [[B, T, F], [B, T, 2], [B, T, 3]], -1],
    ['2 inputs along axis 1 (time)', [[B, T, F], [B, 2, F]], 1],
    ['3 inputs along axis 1 (time)', [[B, 1, F], [B, T, F], [B, 2, F]], 1],
    ['2 inputs along inner axis 2 of a rank-4 tensor', [[2, B, 3, F], [2, B, 1, F]], 2],
    ['3 inputs along inner axis -2 of a rank-4 tensor', [[2, B, 1, F], [2, B, 3, F], [2, B, 2, F]], -2],
    ['2 inputs along axis 0 (batch)', [[B, T, F], [1, T, F]], 0],
  ];
  for (const [label, shapes, axis] of cases) {
    it(`${label}: y exactly; dx of every input (+ its other gradient)`, async () => {
      const xs = shapes.map((s, k) => f32(randomArray(size(s), 100 + k, -2, 2)));
      const yShape = concatShape(shapes, axis);
      const r = f32(randomArray(size(yShape), 110));
      const others = shapes.map((s, k) => f32(randomArray(size(s), 120 + k))); // loss += Σ others[k] ⊙ x_k
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = shapes.map((s, k) => input(g, s, xs[k]!, true, `x${k}`));
      const y = await concat(g, xt, axis);
      expect(y.shape).toEqual(yShape);
      const terms = [await weightedSum(g, y, r)];
      for (const [k, x] of xt.entries()) terms.push(await weightedSum(g, x, others[k]!));
      await g.backward(await total(g, terms));
      const [yo, ...dx] = await run(g, y, ...xt.map((x) => g.grad(x)));
      g.dispose();
      expectClose(yo!, concatRef(xs, shapes, axis), EXACT, 'y');
      const want = concatBackwardRef(r, shapes, axis);
      dx.forEach((d, k) => expectClose(d!, want[k]!.map((v, i) => v + others[k]![i]!), GRAD, `dx${k}`));
    });
  }

  it('only the middle of 3 inputs needs a gradient; a tensor concatenated with itself gets both ranges', async () => {
    const shapes = [[B, T, 2], [B, T, F], [B, T, 1]];
    const xs = shapes.map((s, k) => f32(randomArray(size(s), 130 + k, -2, 2)));
    const yShape = concatShape(shapes, -1);
    const r = f32(randomArray(size(yShape), 140)), r2 = f32(randomArray(B * T * 2 * F, 141));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = shapes.map((s, k) => input(g, s, xs[k]!, k === 1, `x${k}`));
    const y = await concat(g, xt, -1);
    const yy = await concat(g, [xt[1]!, xt[1]!], 1); // [B, 2T, F]
    expect(yy.shape).toEqual([B, 2 * T, F]);
    await g.backward(await total(g, [await weightedSum(g, y, r), await weightedSum(g, yy, r2)]));
    const [yo, yyo, dx1] = await run(g, y, yy, g.grad(xt[1]!));
    expect(g.gradIfAny(xt[0]!)).toBeNull();
    expect(g.gradIfAny(xt[2]!)).toBeNull();
    g.dispose();
    expectClose(yo!, concatRef(xs, shapes, -1), EXACT, 'y');
    expectClose(yyo!, concatRef([xs[1]!, xs[1]!], [shapes[1]!, shapes[1]!], 1), EXACT, 'x1 ++ x1');
    const [d0, d1] = concatBackwardRef(r2, [shapes[1]!, shapes[1]!], 1);
    const want = concatBackwardRef(r, shapes, -1)[1]!.map((v, i) => v + d0![i]! + d1![i]!);
    expectClose(dx1!, want, GRAD, 'dx1');
  });

  it('a single input is a copy; inference graphs record nothing', async () => {
    const x = f32(randomArray(B * T * F, 150));
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const xt = input(g, [B, T, F], x, true);
    const y = await concat(g, [xt], 1);
    expect(y.shape).toEqual([B, T, F]);
    expect(y.requiresGrad).toBe(false);
    const [yo] = await run(g, y);
    g.dispose();
    expectClose(yo!, x, EXACT, 'y');
  });

  it('bad inputs: clear errors naming the op, the shapes and the axis', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const a = input(g, [B, T, F], new Float64Array(B * T * F));
    const b = input(g, [B, 2, F], new Float64Array(B * 2 * F));
    const c = input(g, [B, T], new Float64Array(B * T));
    await expect(concat(g, [])).rejects.toThrow(/concat: nothing to concatenate/);
    await expect(concat(g, [a, b], -1)).rejects.toThrow(/concat: shapes \[3, 4, 5\], \[3, 2, 5\] differ outside axis -1/);
    await expect(concat(g, [a, b], 2, 'merge')).rejects.toThrow(/merge: shapes \[3, 4, 5\], \[3, 2, 5\] differ outside axis 2/);
    await expect(concat(g, [a, c], 1)).rejects.toThrow(/concat: shapes \[3, 4, 5\], \[3, 4\] differ outside axis 1/);
    await expect(concat(g, [a, b], 3)).rejects.toThrow(/concat: axis 3 is out of range for rank 3/);
    await expect(concat(g, [a, b], -4)).rejects.toThrow(/concat: axis -4 is out of range for rank 3/);
    await expect(concat(g, [a, b], 0.5)).rejects.toThrow(/concat: axis 0.5 is out of range for rank 3/);
    g.dispose();
  });
});

describe('slice', () => {
  const cases: [number[], number, number, number][] = [
    [[B, T, F], -1, 0, 2], // first features
    [[B, T, F], -1, 1, 3], // middle features
    [[B, T, F], 2, 4, 1], // the last feature
    [[B, T, F], 1, T - 1, 1], // the last time step
    [[B, T, F], 1, 1, 2],
    [[B, T, F], 0, 1, 2],
    [[2, B, T, F], 2, 1, 3], // inner axis of a rank-4 tensor
    [[B, T, F], 1, 0, T], // everything
  ];
  for (const [shape, axis, start, sz] of cases) {
    it(`[${shape.join(', ')}] axis ${axis}, [${start}, ${start + sz}): y exactly; dx = dy in the range, 0 elsewhere (+ x's other gradient)`, async () => {
      const x = f32(randomArray(size(shape), 200, -2, 2));
      const ax = axisIndex(axis, shape.length);
      const yShape = shape.map((d, i) => (i === ax ? sz : d));
      const r = f32(randomArray(size(yShape), 201)), r2 = f32(randomArray(size(shape), 202));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, shape, x, true, 'x');
      const y = await slice(g, xt, axis, start, sz);
      expect(y.shape).toEqual(yShape);
      await g.backward(await total(g, [await weightedSum(g, y, r), await weightedSum(g, xt, r2)]));
      const [yo, dx] = await run(g, y, g.grad(xt));
      g.dispose();
      expectClose(yo!, sliceRef(x, shape, axis, start, sz), EXACT, 'y');
      expectClose(dx!, sliceBackwardRef(r, shape, axis, start, sz).map((v, i) => v + r2[i]!), GRAD, 'dx');
    });
  }

  it('two overlapping slices of one tensor: their gradients add up', async () => {
    const x = f32(randomArray(B * T * F, 210, -2, 2));
    const r1 = f32(randomArray(B * 3 * F, 211)), r2 = f32(randomArray(B * 2 * F, 212));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [B, T, F], x, true, 'x');
    const y1 = await slice(g, xt, 1, 0, 3), y2 = await slice(g, xt, -2, 2, 2);
    await g.backward(await total(g, [await weightedSum(g, y1, r1), await weightedSum(g, y2, r2)]));
    const [dx] = await run(g, g.grad(xt));
    g.dispose();
    const a = sliceBackwardRef(r1, [B, T, F], 1, 0, 3), b = sliceBackwardRef(r2, [B, T, F], 1, 2, 2);
    expectClose(dx!, a.map((v, i) => v + b[i]!), GRAD, 'dx');
  });

  it('bad ranges and axes: clear errors naming the op, the range, the axis and the shape', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const x = input(g, [B, T, F], new Float64Array(B * T * F));
    await expect(slice(g, x, 1, 2, 3)).rejects.toThrow(/slice: \[2, 5\) is outside 0\.\.4 on axis 1 of \[3, 4, 5\]/);
    await expect(slice(g, x, -1, -1, 2)).rejects.toThrow(/slice: \[-1, 1\) is outside 0\.\.5 on axis -1 of \[3, 4, 5\]/);
    await expect(slice(g, x, -1, 0, 0)).rejects.toThrow(/slice: \[0, 0\) is outside 0\.\.5 on axis -1 of \[3, 4, 5\]/);
    await expect(slice(g, x, 0, 0.5, 1, 'cut')).rejects.toThrow(/cut: \[0\.5, 1\.5\) is outside 0\.\.3 on axis 0 of \[3, 4, 5\]/);
    await expect(slice(g, x, 3, 0, 1)).rejects.toThrow(/slice: axis 3 is out of range for rank 3/);
    await expect(slice(g, x, -4, 0, 1)).rejects.toThrow(/slice: axis -4 is out of range for rank 3/);
    g.dispose();
  });
});

describe('split', () => {
  const cases: [number[], number[], number][] = [
    [[B, T, F], [2, 3], -1],
    [[B, T, F], [1, 2, 1], 1],
    [[2, B, 6, F], [1, 4, 1], 2],
    [[B, T, F], [F], 2],
  ];
  for (const [shape, sizes, axis] of cases) {
    it(`[${shape.join(', ')}] into [${sizes.join(', ')}] along axis ${axis}: every piece exactly; dx = the pieces' gradients side by side`, async () => {
      const x = f32(randomArray(size(shape), 300, -2, 2));
      const ax = axisIndex(axis, shape.length);
      const shapes = sizes.map((s) => shape.map((d, i) => (i === ax ? s : d)));
      const rs = shapes.map((s, k) => f32(randomArray(size(s), 301 + k)));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const xt = input(g, shape, x, true, 'x');
      const pieces = await split(g, xt, sizes, axis);
      expect(pieces.map((p) => p.shape)).toEqual(shapes);
      const terms: Tensor[] = [];
      for (const [k, p] of pieces.entries()) terms.push(await weightedSum(g, p, rs[k]!));
      await g.backward(await total(g, terms));
      const [dx, ...outs] = await run(g, g.grad(xt), ...pieces);
      g.dispose();
      const want = splitRef(x, shape, sizes, axis);
      outs.forEach((o, k) => expectClose(o!, want[k]!, EXACT, `piece ${k}`));
      expectClose(dx!, splitBackwardRef(rs, shape, sizes, axis), GRAD, 'dx');
    });
  }

  it('unused pieces contribute no gradient: dx is zero in their ranges', async () => {
    const x = f32(randomArray(B * T * F, 310, -2, 2));
    const r = f32(randomArray(B * 2 * F, 311));
    const ctx = await gpuContext();
    const g = new Graph(ctx, true);
    const xt = input(g, [B, T, F], x, true, 'x');
    const [, mid] = await split(g, xt, [1, 2, 1], 1);
    await g.backward(await weightedSum(g, mid!, r));
    const [dx] = await run(g, g.grad(xt));
    g.dispose();
    const zero1 = new Float64Array(B * F);
    expectClose(dx!, splitBackwardRef([zero1, r, zero1], [B, T, F], [1, 2, 1], 1), GRAD, 'dx');
  });

  it('sizes that do not fill the axis, and bad axes: clear errors', async () => {
    const ctx = await gpuContext();
    const g = new Graph(ctx, false);
    const x = input(g, [B, T, F], new Float64Array(B * T * F));
    await expect(split(g, x, [2, 2])).rejects.toThrow(/split: sizes \[2, 2\] sum to 4, axis -1 of \[3, 4, 5\] has 5/);
    await expect(split(g, x, [1, 2, 2], 1, 'heads')).rejects.toThrow(/heads: sizes \[1, 2, 2\] sum to 5, axis 1 of \[3, 4, 5\] has 4/);
    await expect(split(g, x, [4], 3)).rejects.toThrow(/split: axis 3 is out of range for rank 3/);
    await expect(split(g, x, [6, -1])).rejects.toThrow(/split\[0\]: \[0, 6\) is outside 0\.\.5/);
    g.dispose();
  });
});
