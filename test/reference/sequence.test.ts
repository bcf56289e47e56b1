/**
 * The float64 references of the sequence ops (test/reference/sequence.ts) against central
 * differences: Bidirectional's merge in every mode, with and without a step mask, the broadcast
 * mask multiply, the single-step slice / write (each the other's backward), the time reversal and
 * the repeated steps (RepeatVector). The GPU kernels
 * are checked against these references in test/unit/sequence.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { numericGradient, expectGradClose, dot } from '../helpers/gradcheck';
import { randomArray } from '../helpers/rng';
import {
  bidiMergeRef,
  bidiMergeBackwardRef,
  maskMulRef,
  maskMulBackwardRef,
  takeStepRef,
  putStepRef,
  reverseTimeRef,
  repeatStepsRef,
  repeatStepsBackwardRef,
  type MergeMode,
} from './sequence';

describe('bidiMergeBackwardRef vs central differences', () => {
  const rows = 5, H = 3;
  const MODES: MergeMode[] = ['concat', 'sum', 'mul', 'ave'];
  for (const mode of MODES) {
    for (const masked of [false, true]) {
      it(`${mode}${masked ? ', with a step mask (masked rows get no gradient)' : ''}`, () => {
        const a = randomArray(rows * H, 1), b = randomArray(rows * H, 2);
        const mask = masked ? Float64Array.from([1, 0, 1, 1, 0]) : null;
        const r = randomArray((mode === 'concat' ? 2 : 1) * rows * H, 3);
        const loss = () => dot(r, bidiMergeRef(a, b, rows, H, mode, mask));
        const { dA, dB } = bidiMergeBackwardRef(a, b, rows, H, mode, mask, r);
        expectGradClose(dA, numericGradient(loss, a), 'dA');
        expectGradClose(dB, numericGradient(loss, b), 'dB');
        if (mask) for (const j of [0, 1, 2]) expect([dA[H + j]!, dB[H + j]!, dA[4 * H + j]!, dB[4 * H + j]!].map(Math.abs)).toEqual([0, 0, 0, 0]);
      });
    }
  }
});

describe('maskMulBackwardRef vs central differences', () => {
  const B = 3, T = 4, F = 5;
  for (const per of ['step', 'feature'] as const) {
    it(`per ${per}`, () => {
      const x = randomArray(B * T * F, 11);
      const mask = randomArray(per === 'step' ? B * T : B * F, 12, 0, 2);
      const r = randomArray(B * T * F, 13);
      const loss = () => dot(r, maskMulRef(x, mask, B, T, F, per));
      expectGradClose(maskMulBackwardRef(r, mask, B, T, F, per), numericGradient(loss, x), 'dx');
    });
  }
});

describe('takeStepRef / putStepRef: each is the other\'s backward (central differences)', () => {
  const B = 3, T = 4, F = 5;
  for (const t of [0, 2, T - 1]) {
    it(`step ${t}`, () => {
      const x = randomArray(B * T * F, 21 + t);
      const h = randomArray(B * F, 22 + t);
      const rStep = randomArray(B * F, 23 + t), rSeq = randomArray(B * T * F, 24 + t);
      // d/dx Σ rStep ⊙ x[:, t] = rStep written at step t of zeros
      const dX = putStepRef(new Float64Array(B * T * F), rStep, B, T, F, t);
      expectGradClose(dX, numericGradient(() => dot(rStep, takeStepRef(x, B, T, F, t)), x), 'takeStep dx');
      // d/dh Σ rSeq ⊙ putStep(x, h) = rSeq[:, t]
      expectGradClose(takeStepRef(rSeq, B, T, F, t), numericGradient(() => dot(rSeq, putStepRef(x, h, B, T, F, t)), h), 'putStep dh');
    });
  }
});

describe('reverseTimeRef: hand-computed, and its own backward (central differences)', () => {
  it('[1, 3, 2]: the steps in reverse order', () => {
    expect(Array.from(reverseTimeRef(Float64Array.from([1, 2, 3, 4, 5, 6]), 1, 3, 2))).toEqual([5, 6, 3, 4, 1, 2]);
  });

  for (const [B, T, F] of [[3, 4, 5], [2, 1, 3], [1, 5, 1]] as const) {
    it(`B=${B} T=${T} F=${F}`, () => {
      const x = randomArray(B * T * F, 31 + T);
      const r = randomArray(B * T * F, 32 + T);
      const loss = () => dot(r, reverseTimeRef(x, B, T, F));
      expectGradClose(reverseTimeRef(r, B, T, F), numericGradient(loss, x), 'dx');
      expect(Array.from(reverseTimeRef(reverseTimeRef(x, B, T, F), B, T, F))).toEqual(Array.from(x));
    });
  }
});

describe('repeatStepsBackwardRef vs central differences', () => {
  it('[2, 2] over 3 steps: hand-computed', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    expect(Array.from(repeatStepsRef(x, 2, 3, 2))).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    expect(Array.from(repeatStepsBackwardRef(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 2, 3, 2))).toEqual([9, 12, 27, 30]);
  });

  for (const n of [1, 4, 7]) {
    it(`B=3 F=5 over ${n} steps`, () => {
      const B = 3, F = 5;
      const x = randomArray(B * F, 41 + n);
      const r = randomArray(B * n * F, 42 + n);
      const loss = () => dot(r, repeatStepsRef(x, B, n, F));
      expectGradClose(repeatStepsBackwardRef(r, B, n, F), numericGradient(loss, x), 'dx');
    });
  }
});
