/**
 * The float64 references of concat / slice / split (test/reference/concat.ts): hand-computed
 * layouts, and every backward against central differences (loss = Σ r·output for a fixed random
 * r). The GPU kernels are checked against these references in test/unit/concat.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { numericGradient, expectGradClose, dot } from '../helpers/gradcheck';
import { randomArray } from '../helpers/rng';
import { concatRef, concatBackwardRef, concatShape, sliceRef, sliceBackwardRef, splitRef, splitBackwardRef } from './concat';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('concat / slice / split references: hand-computed layouts', () => {
  it('[2, 2] and [2, 1] along the last axis, [1, 2] and [2, 2] along the first', () => {
    const a = Float64Array.from([1, 2, 3, 4]), b = Float64Array.from([5, 6]), c = Float64Array.from([7, 8]);
    expect(Array.from(concatRef([a, b], [[2, 2], [2, 1]], -1))).toEqual([1, 2, 5, 3, 4, 6]);
    expect(Array.from(concatRef([c, a], [[1, 2], [2, 2]], 0))).toEqual([7, 8, 1, 2, 3, 4]);
    expect(concatShape([[2, 2], [2, 1]], 1)).toEqual([2, 3]);
  });

  it('slice and split of [2, 3, 2] along the middle axis', () => {
    const x = Float64Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(sliceRef(x, [2, 3, 2], 1, 1, 2))).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    expect(Array.from(sliceBackwardRef(Float64Array.from([1, 2, 3, 4]), [2, 3, 2], -2, 2, 1))).toEqual([0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 3, 4]);
    const [p, q] = splitRef(x, [2, 3, 2], [1, 2], 1);
    expect(Array.from(p!)).toEqual([0, 1, 6, 7]);
    expect(Array.from(q!)).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    expect(Array.from(splitBackwardRef([p!, q!], [2, 3, 2], [1, 2], 1))).toEqual(Array.from(x));
  });
});

describe('concatBackwardRef vs central differences', () => {
  const cases: [string, number[][], number][] = [
    ['2 inputs, axis -1', [[3, 4, 5], [3, 4, 2]], -1],
    ['3 inputs, axis -1', [[3, 4, 5], [3, 4, 2], [3, 4, 3]], -1],
    ['2 inputs, axis 1 (time)', [[3, 4, 5], [3, 2, 5]], 1],
    ['3 inputs, axis 1 (time)', [[3, 1, 5], [3, 4, 5], [3, 2, 5]], 1],
    ['3 inputs, inner axis 2 of rank 4', [[2, 3, 1, 4], [2, 3, 3, 4], [2, 3, 2, 4]], 2],
    ['2 inputs, axis 0', [[2, 3], [1, 3]], 0],
  ];
  for (const [label, shapes, axis] of cases) {
    it(label, () => {
      const xs = shapes.map((s, k) => randomArray(size(s), 1 + k));
      const r = randomArray(size(concatShape(shapes, axis)), 9);
      const loss = () => dot(r, concatRef(xs, shapes, axis));
      const ds = concatBackwardRef(r, shapes, axis);
      xs.forEach((x, k) => expectGradClose(ds[k]!, numericGradient(loss, x), `dx${k}`));
    });
  }
});

describe('sliceBackwardRef vs central differences', () => {
  const cases: [number[], number, number, number][] = [
    [[3, 4, 5], -1, 1, 3],
    [[3, 4, 5], 1, 0, 1],
    [[3, 4, 5], 1, 2, 2],
    [[2, 3, 4, 2], 2, 1, 2],
    [[3, 4, 5], 0, 1, 2],
  ];
  for (const [shape, axis, start, sz] of cases) {
    it(`[${shape.join(', ')}] axis ${axis}, [${start}, ${start + sz})`, () => {
      const x = randomArray(size(shape), 11);
      const outShape = shape.map((d, i) => (i === (axis + shape.length) % shape.length ? sz : d));
      const r = randomArray(size(outShape), 12);
      const loss = () => dot(r, sliceRef(x, shape, axis, start, sz));
      expectGradClose(sliceBackwardRef(r, shape, axis, start, sz), numericGradient(loss, x), 'dx');
    });
  }
});

describe('splitBackwardRef vs central differences', () => {
  const cases: [number[], number[], number][] = [
    [[3, 4, 5], [2, 3], -1],
    [[3, 4, 5], [1, 2, 1], 1],
    [[2, 3, 6, 2], [1, 4, 1], 2],
  ];
  for (const [shape, sizes, axis] of cases) {
    it(`[${shape.join(', ')}] into [${sizes.join(', ')}] along axis ${axis}`, () => {
      const x = randomArray(size(shape), 21);
      const ax = (axis + shape.length) % shape.length;
      const rs = sizes.map((s, k) => randomArray(size(shape.map((d, i) => (i === ax ? s : d))), 22 + k));
      const loss = () => splitRef(x, shape, sizes, axis).reduce((acc, p, k) => acc + dot(rs[k]!, p), 0);
      expectGradClose(splitBackwardRef(rs, shape, sizes, axis), numericGradient(loss, x), 'dx');
    });
  }
});
