/**
 * src/ops/rnn-tuning.ts: how the recurrent op maps a layer onto the GPU. The time loop
 * (`chooseTimeLoop`, and `resolveTimeLoop` behind RnnOptions.timeLoop: persistent kernels, a
 * dispatch per chunk of ≤ RNN_CHUNK steps, or per-step kernels, a dispatch per step) and the
 * pipeline constants that compile a layer's options into its kernels (`recurrentConstants`,
 * `rnnStaged`, the persistentLayout checks). The values the kernels compute are tested in
 * rnn.test.ts and rnn-step.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { gpuContext, input, Graph } from '../helpers/gpu';
import { rnn, type RnnOpConfig, type RnnOptions } from '../../src/ops/rnn';
import { chooseTimeLoop, persistentLayout, recurrentConstants, rnnStaged } from '../../src/ops/rnn-tuning';

describe('time-loop selection', () => {
  const cfg = (cell: RnnOpConfig['cell'], resetAfter = true, units = 8): RnnOpConfig => ({
    cell, units, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter, useBias: true,
  });

  it('software adapters always get the persistent kernels; GRU resetAfter=false always does', () => {
    for (const H of [1, 64, 128, 256, 1024]) {
      for (const B of [1, 8, 64, 512]) {
        for (const c of [cfg('simpleRNN'), cfg('lstm'), cfg('gru', true)]) expect(chooseTimeLoop(c, H, B, true)).toBe('persistent');
        expect(chooseTimeLoop(cfg('gru', false), H, B, false)).toBe('persistent');
        expect(chooseTimeLoop(cfg('gru', false), H, B, true)).toBe('persistent');
      }
    }
  });

  it('GPUs: per-step from 256 units, or from 128 units with a small persistent grid', () => {
    for (const c of [cfg('simpleRNN'), cfg('lstm'), cfg('gru', true)]) {
      expect(chooseTimeLoop(c, 256, 512, false)).toBe('step');
      expect(chooseTimeLoop(c, 1024, 1, false)).toBe('step');
      expect(chooseTimeLoop(c, 128, 8, false)).toBe('step'); // 8 workgroups
      expect(chooseTimeLoop(c, 128, 64, false)).toBe('persistent'); // 64 workgroups
      expect(chooseTimeLoop(c, 64, 1, false)).toBe('persistent');
      expect(chooseTimeLoop(c, 20, 64, false)).toBe('persistent');
    }
  });

  it("'auto' on this (software) adapter runs the persistent kernels; a forced 'step' on GRU resetAfter=false throws", async () => {
    const ctx = await gpuContext();
    expect(ctx.gpu.info.isFallbackAdapter, 'the tests run on a software adapter').toBe(true);
    const B = 2, T = 3, I = 2, H = 300;
    const counts = async (timeLoop: RnnOptions['timeLoop']) => {
      const g = new Graph(ctx, false);
      const op = cfg('lstm', false, H);
      const x = input(g, [B, T, I], new Float64Array(B * T * I));
      const w = { kernel: input(g, [I, 4 * H], new Float64Array(I * 4 * H)), recurrentKernel: input(g, [H, 4 * H], new Float64Array(4 * H * H)), bias: null };
      await rnn(g, { ...op, useBias: false }, x, w, null, null, { timeLoop });
      const n = g.forward.dispatchCount;
      g.dispose();
      return n;
    };
    expect(await counts('auto')).toBe(await counts('persistent'));
    // step: T dispatches; persistent: one chunk plus the copy of U by unit (gatesByUnit)
    expect(await counts('step')).toBe((await counts('persistent')) + T - 2);

    const g = new Graph(ctx, false);
    const op = cfg('gru', false, 3);
    const x = input(g, [2, 4, 2], new Float64Array(16));
    const w = { kernel: input(g, [2, 9], new Float64Array(18)), recurrentKernel: input(g, [3, 9], new Float64Array(27)), bias: null };
    await expect(rnn(g, { ...op, useBias: false }, x, w, null, null, { timeLoop: 'step' })).rejects.toThrow(/timeLoop 'step' has no kernels for GRU resetAfter=false/);
    g.dispose();
  });
});

describe('pipeline constants of the recurrent kernels', () => {
  it('recurrentConstants sets every override the kernels declare; rnnStaged follows the 16 KB staging buffer', () => {
    const c = recurrentConstants(
      { cell: 'lstm', units: 8, activation: 'tanh', recurrentActivation: 'hardSigmoid', resetAfter: false, useBias: true },
      { hasH0: true, hasC0: false, hasRecBias: false, hasDHSeq: true, reverse: true, hasRecMask: false, hasSeqMask: true, staged: true, wideRows: true, workgroup: 16 },
    );
    expect(c).toEqual({ ACT: 1, REC_ACT: 4, HAS_H0: 1, HAS_C0: 0, HAS_REC_BIAS: 0, HAS_DH_SEQ: 1, REVERSE: 1, HAS_REC_MASK: 0, HAS_SEQ_MASK: 1, STAGED: 1, WIDE_ROWS: 1, WG: 16 });
    expect(rnnStaged(512, 8)).toBe(true); // 8 × 512 = 4096 floats
    expect(rnnStaged(520, 1)).toBe(false); // padded to 8 rows: 4160 floats
    expect(rnnStaged(128, 16)).toBe(true);
    expect(rnnStaged(256, 9, 16)).toBe(true); // one 16-row block: 4096 floats
    expect(rnnStaged(260, 9, 16)).toBe(false);
  });

  it('16-row blocks on lavapipe only, when more than 8 rows stage; rowBlock is checked', () => {
    expect(persistentLayout(128, 64, true, {}, true).rowBlock).toBe(16);
    expect(persistentLayout(128, 64, true, {}, false).rowBlock).toBe(8); // SwiftShader
    expect(persistentLayout(128, 64, false, {}, false).rowBlock).toBe(8); // GPUs (unstaged)
    expect(persistentLayout(20, 12, true, {}, true).rowBlock).toBe(8); // R = 6: half a 16-row block would idle
    expect(persistentLayout(512, 64, true, {}, true)).toMatchObject({ rowBlock: 8, staged: true }); // 16 × 512 does not stage
    expect(persistentLayout(20, 12, true, { rowBlock: 16 }, false).rowBlock).toBe(16);
    expect(() => persistentLayout(20, 12, true, { rowBlock: 12 as 8 })).toThrow(/rowBlock must be 8 or 16, got 12/);
  });

  it('one pipeline per distinct set of constants; an unknown constant name and a missing one fail clearly', async () => {
    const ctx = await gpuContext();
    const base = recurrentConstants(
      { cell: 'lstm', units: 8, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, useBias: true },
      { hasH0: false, hasC0: false, hasRecBias: false, hasDHSeq: false, reverse: false, hasRecMask: false, hasSeqMask: false, staged: true, wideRows: false, workgroup: 64 },
    );
    const a = await ctx.kernel('lstmCell', 'recurrentForward', base);
    expect(a.invocations).toBe(64);
    expect((await ctx.kernel('lstmCell', 'recurrentForward', { ...base, WG: 16 })).invocations).toBe(16); // override-sized workgroup
    expect(await ctx.kernel('lstmCell', 'recurrentForward', { ...base })).toBe(a);
    expect(await ctx.kernel('lstmCell', 'recurrentForward', { ...base, REVERSE: 1 })).not.toBe(a);
    await expect(ctx.kernel('lstmCell', 'recurrentForward', { ...base, HAS_H00: 1 })).rejects.toThrow(/no override named HAS_H00/);
    const { ACT: _drop, ...noAct } = base;
    const g = new Graph(ctx, false);
    const op: RnnOpConfig = { cell: 'lstm', units: 600, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, useBias: false };
    const w = { kernel: input(g, [1, 2400], new Float64Array(2400)), recurrentKernel: input(g, [600, 2400], new Float64Array(600 * 2400)), bias: null };
    const x = input(g, [2, 3, 1], new Float64Array(6));
    await expect(rnn(g, op, x, w, null, null, { persistentLayout: { rowsPerGroup: 0 } })).rejects.toThrow(/rowsPerGroup must be a positive integer, got 0/);
    await expect(rnn(g, op, x, w, null, null, { persistentLayout: { workgroup: 1000 } })).rejects.toThrow(/workgroup must be an integer in \[1, 256\], got 1000/);
    await expect(rnn(g, op, x, w, null, null, { persistentLayout: { staged: true } })).rejects.toThrow(/1 rows of 600 units do not fit the 4096-float staging buffer/);
    g.dispose();
    await expect(ctx.kernel('lstmCell', 'recurrentForward', noAct)).rejects.toThrow(/lstm-cell.wgsl:recurrentForward: pipeline creation failed/);
  });
});
