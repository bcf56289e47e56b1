/**
 * The startup self-test (issue 16): its precomputed checksums are the float64 reference's
 * (test/reference/rnn.ts) on its inputs; it passes on this adapter; a wrong kernel (zero
 * gradients, as tfjs#8590 shipped on one phone GPU) fails it and models then refuse to build on
 * the device, naming the adapter; getGpu({selfTest: false}) skips it. Its time is printed (the
 * issue asks < 50 ms on the software adapter once the kernels are compiled).
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { getContext } from '../../src/gpu/context';
import { SELF_TEST_EXPECTED, SELF_TEST_SIZES, SELF_TEST_TENSORS, checksums, runSelfTest, selfTestInputs, ensureSelfTest } from '../../src/model/self-test';
import { rnnForwardRef, rnnBackwardRef } from '../reference/rnn';

/** The float64 reference's checksums for one cell. */
function reference(cell: 'lstm' | 'gru') {
  const { B, T, I, H } = SELF_TEST_SIZES;
  const d = selfTestInputs(cell);
  const f64 = (a: Float32Array) => Float64Array.from(a);
  const cfg = { cell, units: H, inputSize: I, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, useBias: true } as const;
  const w = { kernel: f64(d.kernel), recurrentKernel: f64(d.recurrentKernel), bias: f64(d.bias) };
  const fwd = rnnForwardRef(cfg, w, f64(d.x), B, T);
  const bwd = rnnBackwardRef(cfg, w, f64(d.x), B, T, null, null, fwd.cache, f64(d.lossWeights), null, null);
  const values = { hSeq: fwd.hSeq, dX: bwd.dX, dKernel: bwd.dKernel, dRecurrentKernel: bwd.dRecurrentKernel, dBias: bwd.dBias! };
  return Object.fromEntries(SELF_TEST_TENSORS.map((n) => [n, checksums(values[n])]));
}

describe('startup self-test', () => {
  it('its expected checksums are the float64 reference on its inputs', () => {
    const refs = { lstm: reference('lstm'), gru: reference('gru') };
    if (process.env.PRINT_SELF_TEST) console.log(JSON.stringify(refs)); // to regenerate SELF_TEST_EXPECTED
    for (const cell of ['lstm', 'gru'] as const) {
      const ref = refs[cell];
      for (const n of SELF_TEST_TENSORS) SELF_TEST_EXPECTED[cell][n].forEach((v, j) => expect(Math.abs(v - ref[n]![j]!), `${cell} ${n} ${j}`).toBeLessThan(1e-12));
    }
  });

  it('passes on this adapter; its time is printed', async () => {
    const ctx = await getContext();
    const first = await runSelfTest(ctx);
    const again = await runSelfTest(ctx); // kernels compiled: what a later device or recover() pays
    console.log(`self-test on ${first.adapter}: ${first.ms.toFixed(1)} ms first (compiling its kernels), ${again.ms.toFixed(1)} ms again; worst ${again.worst.toFixed(3)} of tolerance`);
    expect(first.failures).toEqual([]);
    expect(again.worst).toBeLessThan(1);
  });
});
