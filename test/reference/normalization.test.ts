/**
 * The float64 LayerNormalization and BatchNormalization references (test/reference/normalization.ts)
 * against central differences, and what normalising means; the GPU kernels are checked against
 * them in test/unit/normalization.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { numericGradient, expectGradClose, dot } from '../helpers/gradcheck';
import { randomArray } from '../helpers/rng';
import * as ref from './normalization';

const EPS = 1e-3;

describe('float64 references vs central differences', () => {
  const rows = 4, feats = 5;
  const x = randomArray(rows * feats, 1, -2, 2), gamma = randomArray(feats, 2, 0.5, 1.5), beta = randomArray(feats, 3), r = randomArray(rows * feats, 4);

  it('layerNormBackwardRef: dx, dgamma, dbeta', () => {
    const f = () => dot(r, ref.layerNormRef(x, gamma, beta, rows, feats, EPS).y);
    const a = ref.layerNormBackwardRef(x, gamma, r, rows, feats, EPS);
    expectGradClose(a.dx, numericGradient(f, x), 'LN dx');
    expectGradClose(a.dgamma, numericGradient(f, gamma), 'LN dgamma');
    expectGradClose(a.dbeta, numericGradient(f, beta), 'LN dbeta');
  });

  it('batchNormBackwardRef (training statistics): dx, dgamma, dbeta', () => {
    const f = () => dot(r, ref.batchNormTrainRef(x, gamma, beta, rows, feats, EPS).y);
    const a = ref.batchNormBackwardRef(x, gamma, r, rows, feats, EPS);
    expectGradClose(a.dx, numericGradient(f, x), 'BN dx');
    expectGradClose(a.dgamma, numericGradient(f, gamma), 'BN dgamma');
    expectGradClose(a.dbeta, numericGradient(f, beta), 'BN dbeta');
  });

  it('a normalised row has zero mean and unit variance (up to eps)', () => {
    const { y } = ref.layerNormRef(x, new Float64Array(feats).fill(1), new Float64Array(feats), rows, feats, 0);
    const row = y.subarray(0, feats);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    expect(row.reduce((a, b) => a + b * b, 0) / feats).toBeCloseTo(1, 12);
  });
});
