/**
 * The float64 optimizer steps the GPU updates are checked against (adamStepRef and sgdStepRef in
 * test/reference/ops.ts): Keras 3 Adam against hand-written arithmetic for three steps, its bias
 * correction and hyper-parameters, and plain SGD.
 */
import { describe, expect, it } from 'vitest';
import { adamStepRef, sgdStepRef } from './ops';

describe('adamStepRef', () => {
  it('matches hand-computed Keras 3 Adam for steps 1, 2, 3 (2 elements, defaults)', () => {
    const p = Float64Array.from([1, -2]);
    const m = new Float64Array(2);
    const v = new Float64Array(2);
    const eps = 1e-7;

    // ---- step 1, g = [0.5, -1]
    adamStepRef(p, Float64Array.from([0.5, -1]), m, v, 1);
    // alpha1 = 0.001 * sqrt(1 - 0.999^1) / (1 - 0.9^1) = 0.001 * sqrt(0.001) / 0.1
    const alpha1 = (0.001 * Math.sqrt(0.001)) / 0.1; // 3.1622776601683794e-4
    // m1 = 0 + (g - 0) * 0.1 = [0.05, -0.1];  v1 = 0 + (g^2 - 0) * 0.001 = [0.00025, 0.001]
    expect(m[0]).toBeCloseTo(0.05, 15);
    expect(m[1]).toBeCloseTo(-0.1, 15);
    expect(v[0]).toBeCloseTo(0.00025, 15);
    expect(v[1]).toBeCloseTo(0.001, 15);
    // p1 = p0 - alpha1 * m1 / (sqrt(v1) + eps)  ~=  p0 - 0.001 * sign(g)  (first Adam step has size ~lr)
    const p1 = [1 - (alpha1 * 0.05) / (Math.sqrt(0.00025) + eps), -2 - (alpha1 * -0.1) / (Math.sqrt(0.001) + eps)];
    expect(p[0]).toBeCloseTo(p1[0]!, 14);
    expect(p[1]).toBeCloseTo(p1[1]!, 14);
    expect(p[0]).toBeCloseTo(0.9990000063245154, 14);
    expect(p[1]).toBeCloseTo(-1.9990000031622677, 14);

    // ---- step 2, g = [0.1, 2]
    adamStepRef(p, Float64Array.from([0.1, 2]), m, v, 2);
    // alpha2 = 0.001 * sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.001 * sqrt(0.001999) / 0.19
    const alpha2 = (0.001 * Math.sqrt(0.001999)) / 0.19; // 2.3531672532745e-4
    // m2 = m1 + (g - m1) * 0.1 = [0.05 + 0.005, -0.1 + 0.21] = [0.055, 0.11]
    // v2 = v1 + (g^2 - v1) * 0.001 = [0.00025 + 0.00000975, 0.001 + 0.003999] = [0.00025975, 0.004999]
    expect(m[0]).toBeCloseTo(0.055, 15);
    expect(m[1]).toBeCloseTo(0.11, 15);
    expect(v[0]).toBeCloseTo(0.00025975, 15);
    expect(v[1]).toBeCloseTo(0.004999, 15);
    const p2 = [
      p1[0]! - (alpha2 * 0.055) / (Math.sqrt(0.00025975) + eps),
      p1[1]! - (alpha2 * 0.11) / (Math.sqrt(0.004999) + eps),
    ];
    expect(p[0]).toBeCloseTo(p2[0]!, 14);
    expect(p[1]).toBeCloseTo(p2[1]!, 14);
    expect(p[0]).toBeCloseTo(0.9981969703286983, 14);
    expect(p[1]).toBeCloseTo(-1.9993661061715038, 14);

    // ---- step 3, g = [-0.3, 0.4]
    adamStepRef(p, Float64Array.from([-0.3, 0.4]), m, v, 3);
    // alpha3 = 0.001 * sqrt(1 - 0.999^3) / (1 - 0.9^3) = 0.001 * sqrt(0.002997001) / 0.271
    const alpha3 = (0.001 * Math.sqrt(0.002997001)) / 0.271; // 2.020105974389679e-4
    // m3 = m2 + (g - m2) * 0.1 = [0.055 - 0.0355, 0.11 + 0.029] = [0.0195, 0.139]
    // v3 = v2 + (g^2 - v2) * 0.001 = [0.00025975 + 0.00008974025, 0.004999 + 0.000155001] = [0.00034949025, 0.005154001]
    expect(m[0]).toBeCloseTo(0.0195, 15);
    expect(m[1]).toBeCloseTo(0.139, 15);
    expect(v[0]).toBeCloseTo(0.00034949025, 15);
    expect(v[1]).toBeCloseTo(0.005154001, 15);
    const p3 = [
      p2[0]! - (alpha3 * 0.0195) / (Math.sqrt(0.00034949025) + eps),
      p2[1]! - (alpha3 * 0.139) / (Math.sqrt(0.005154001) + eps),
    ];
    expect(p[0]).toBeCloseTo(p3[0]!, 14);
    expect(p[1]).toBeCloseTo(p3[1]!, 14);
    expect(p[0]).toBeCloseTo(0.9979862585034396, 14);
    expect(p[1]).toBeCloseTo(-1.9997572316424943, 14);
  });

  it('an off-by-one step (bias correction) gives a different update', () => {
    const run = (step: number): number => {
      const p = Float64Array.from([1]);
      adamStepRef(p, Float64Array.from([0.5]), new Float64Array(1), new Float64Array(1), step);
      return p[0] as number;
    };
    expect(Math.abs(run(1) - run(2))).toBeGreaterThan(1e-4);
    expect(() => run(0)).toThrow(/1-based/);
  });

  it('honours custom hyper-parameters', () => {
    // lr=0.1, beta1=0.5, beta2=0.75, eps=0.01, step 1, g=2:
    // alpha = 0.1*sqrt(0.25)/0.5 = 0.1; m = 1; v = 1; p = 3 - 0.1*1/(1 + 0.01)
    const p = Float64Array.from([3]);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    adamStepRef(p, Float64Array.from([2]), m, v, 1, { learningRate: 0.1, beta1: 0.5, beta2: 0.75, epsilon: 0.01 });
    expect(m[0]).toBe(1);
    expect(v[0]).toBe(1);
    expect(p[0]).toBeCloseTo(3 - 0.1 / 1.01, 15);
  });
});

describe('sgdStepRef', () => {
  it('p -= lr * g', () => {
    const p = Float64Array.from([1, -2]);
    sgdStepRef(p, Float64Array.from([0.5, -4]), 0.25);
    expect(Array.from(p)).toEqual([0.875, -1]);
  });
});
