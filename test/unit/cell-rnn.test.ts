/**
 * The cell compiler (src/ops/cell-graph.ts, cell-layout.ts, cell-wgsl.ts, cell-codegen.ts) and its
 * op (src/ops/cell-rnn.ts) on the real GPU: user-written cells traced from rnn.cellOps, run as
 * generated fused kernels, against float64 references — the chapter's layer-normalized cell
 * (test/reference/cells.ts, finite-difference checked) and a GRU and an LSTM written from cellOps
 * against the built-in cells' reference (test/reference/rnn.ts) and the built-in GPU op — forward
 * and every gradient, with input and recurrent dropout masks, a sequence mask, initial states,
 * several work layouts and more than one 64-step chunk. Also the generated module itself.
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { compileCell, cellRnn, type CellRnnOptions, type CompileOptions } from '../../src/ops/cell-rnn';
import { rnn as rnnOp } from '../../src/ops/rnn';
import { CellCompileError } from '../../src/ops/cell-graph';
import type { Tensor } from '../../src/tensor';
import { gpuContext, input, run, f32, Graph, weightedSum } from '../helpers/gpu';
import { expectClose } from '../helpers/compare';
import { FORWARD, GRAD } from '../helpers/tolerances';
import { randomArray, dropoutStyle } from '../helpers/rng';
import { lnCellForwardRef, lnCellBackwardRef, randomLnCellWeights, type LnCellOptions } from '../reference/cells';
import { rnnForwardRef, rnnBackwardRef, type RnnRefConfig } from '../reference/rnn';
import { GRUFromOps, LSTMFromOps, UntraceableCell } from '../helpers/custom-cells';

type Layout = CellRnnOptions['persistentLayout'];

/** Masks as the layer would give them (dropout-style values), as float64 and GPU tensors. */
function masks(g: Graph, B: number, T: number, I: number, S: number, seed: number, which: { dropout?: boolean; seq?: Float64Array }) {
  const inputMask = which.dropout ? f32(dropoutStyle(B * I, seed, 0.3)) : null;
  const recMask = which.dropout ? f32(dropoutStyle(B * S, seed + 1, 0.4)) : null;
  return {
    ref: { inputMask, recMask, seqMask: which.seq ?? null },
    gpu: {
      inputMask: inputMask ? input(g, [B, I], inputMask) : null,
      recurrentMasks: [recMask ? input(g, [B, S], recMask) : null],
      seqMask: which.seq ? input(g, [B, T], which.seq) : null,
    },
  };
}

describe('cell compiler: the layer-normalized cell (chapter J) against its float64 reference', () => {
  const cases: [string, { B: number; T: number; I?: number; H?: number; dropout?: boolean; seq?: (B: number, T: number) => Float64Array; layout?: Layout; last?: boolean; compile?: Partial<CompileOptions> }][] = [
    ['plain, gradients on every output', { B: 3, T: 5 }],
    ['gradient on the last output only', { B: 3, T: 5, last: true }],
    ['input and recurrent dropout, sequence mask (masked first steps and gaps)', { B: 4, T: 6, dropout: true, seq: (B, T) => Float64Array.from({ length: B * T }, (_, i) => ([0, 2, 3, 9, 13, 18, 19].includes(i) ? 0 : 1)) }],
    ['the same with the phase kernels (wider cells on CPU adapters)', { B: 4, T: 6, dropout: true, seq: (B, T) => Float64Array.from({ length: B * T }, (_, i) => ([0, 2, 3, 9, 13, 18, 19].includes(i) ? 0 : 1)), compile: { mode: 'phases' } }],
    ['GPU-style kernels and layout: x projected by a GEMM before the loop, weight gradients by GEMMs, 3 rows per workgroup, 64 invocations', { B: 7, T: 4, dropout: true, layout: { rowsPerGroup: 3, workgroup: 64 }, compile: { software: false, outerLimit: 0 } }],
    ['phase kernels, one row per workgroup, 4 invocations', { B: 3, T: 4, layout: { rowsPerGroup: 1, workgroup: 4 }, compile: { mode: 'phases' } }],
    ['row kernels, 3 rows per workgroup (a partial workgroup)', { B: 5, T: 4, dropout: true, layout: { workgroup: 3 } }],
    ['T = 70: two chunks of steps, masks across the boundary', { B: 2, T: 70, dropout: true, seq: (B, T) => Float64Array.from({ length: B * T }, (_, i) => (i % 7 === 3 ? 0 : 1)) }],
    // widths of 4 and 8: the row kernels move x, its gradient, the outputs and their gradients as vec4s too
    ['row kernels, I = 4 and H = 8 (every per-step buffer as vec4s), dropout, sequence mask', { B: 5, T: 6, I: 4, H: 8, dropout: true, seq: (B, T) => Float64Array.from({ length: B * T }, (_, i) => ([0, 4, 5, 11, 17, 29].includes(i) ? 0 : 1)) }],
    ['row kernels, I = 4 and H = 8, gradient on the last output only', { B: 3, T: 5, I: 4, H: 8, last: true }],
  ];
  for (const [label, c] of cases) {
    it(label, async () => {
      const { B, T, I = 3, H = 5 } = c;
      const cell = rnn.layers.lnSimpleRNNCell({ units: H });
      const w = randomLnCellWeights(I, H, 301);
      const x = f32(randomArray(B * T * I, 302, -2, 2));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const seq = c.seq?.(B, T);
      const m = masks(g, B, T, I, H, 303, { dropout: c.dropout, ...(seq ? { seq } : {}) });
      const xt = input(g, [B, T, I], x, true, 'x');
      const ws = [input(g, [I, H], w.kernel, true), input(g, [H, H], w.recurrentKernel, true), input(g, [H], w.bias, true), input(g, [H], w.gamma, true), input(g, [H], w.beta, true)];
      const cc = await compileCell(cell, B, I, cell.weightSpecs(I), { software: true, ...c.compile });
      expect(cc.graph.nodes.some((n) => n.kind === 'proj')).toBe(c.compile?.software === false); // x·K + b: a GEMM before the loop, or in the kernel
      const out = await cellRnn(g, cc, xt, ws, { ...m.gpu, persistentLayout: c.layout });
      const y = c.last ? out.lastOut : out.outSeq;
      const r = f32(randomArray(y.size, 304));
      await g.backward(await weightedSum(g, y, r));
      const [hSeq, hLast, dX, ...dW] = await run(g, out.outSeq, out.lastOut, g.grad(xt), ...ws.map((t) => g.grad(t)));
      g.dispose();
      const opts: LnCellOptions = m.ref;
      const ref = lnCellForwardRef(w, x, B, T, I, H, opts);
      expectClose(hSeq!, ref.hSeq, FORWARD, 'outputs');
      expectClose(hLast!, ref.hLast, FORWARD, 'last output');
      const gr = lnCellBackwardRef(w, x, B, T, I, H, c.last ? null : r, { ...opts, dLast: c.last ? r : null });
      expectClose(dX!, gr.x, GRAD, 'dX');
      (['kernel', 'recurrentKernel', 'bias', 'gamma', 'beta'] as const).forEach((k, i) => expectClose(dW[i]!, gr[k], GRAD, `d${k}`));
    });
  }
});

describe('cell compiler: a GRU and an LSTM written from cellOps equal the built-in cells', () => {
  const I = 2, H = 6;
  const cfg = (cell: 'gru' | 'lstm'): RnnRefConfig => ({ cell, units: H, inputSize: I, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, useBias: true });
  // No masked first step: there the built-in op outputs h0 where Keras (and the compiled cell) output zeros.
  const seqMask = (B: number, T: number) => Float64Array.from({ length: B * T }, (_, i) => ([1, 4, 7, 11, 12].includes(i) ? 0 : 1));

  for (const kind of ['gru', 'lstm'] as const) {
    it(`${kind === 'gru' ? 'GRU (resetAfter, weights sliced from the [2, 3H] bias)' : 'LSTM (two states)'}: forward and gradients (x, weights, initial states) with dropout and a sequence mask, against the reference and the built-in op`, async () => {
      const B = 3, T = 5;
      const G = kind === 'gru' ? 3 : 4;
      const cell = kind === 'gru' ? new GRUFromOps(H) : new LSTMFromOps(H);
      const K = f32(randomArray(I * G * H, 311, -0.6, 0.6)), U = f32(randomArray(H * G * H, 312, -0.6, 0.6));
      const bias = f32(randomArray((kind === 'gru' ? 2 : 1) * G * H, 313, -0.4, 0.4));
      const x = f32(randomArray(B * T * I, 314, -1.5, 1.5));
      const h0 = f32(randomArray(B * H, 315)), c0 = f32(randomArray(B * H, 316));
      const ctx = await gpuContext();
      const g = new Graph(ctx, true);
      const m = masks(g, B, T, I, H, 317, { dropout: true, seq: seqMask(B, T) });
      const xt = input(g, [B, T, I], x, true, 'x');
      const ws = [input(g, [I, G * H], K, true), input(g, [H, G * H], U, true), input(g, kind === 'gru' ? [2, G * H] : [G * H], bias, true)];
      const init = [input(g, [B, H], h0, true, 'h0'), ...(kind === 'lstm' ? [input(g, [B, H], c0, true, 'c0')] : [])];
      const cc = await compileCell(cell, B, I, cell.weightSpecs(I), { software: true });
      // the built-in op on the same inputs (its own graph tensors)
      const out = await cellRnn(g, cc, xt, ws, { ...m.gpu, recurrentMasks: [m.gpu.recurrentMasks[0]!, null], initialStates: init });
      const r = f32(randomArray(B * T * H, 318)), rLast = f32(randomArray(B * H, 319));
      const loss = await rnn.cellOps.add(g, await weightedSum(g, out.outSeq, r), await weightedSum(g, out.lastOut, rLast));
      await g.backward(loss);
      const got = await run(g, out.outSeq, out.lastOut, ...out.lastStates, g.grad(xt), ...ws.map((t) => g.grad(t)), ...init.map((t) => g.grad(t)));
      g.dispose();
      const [hSeq, hLast, ...rest] = got;
      const lastStates = rest.splice(0, cc.graph.stateSizes.length);
      const [dX, dK, dU, dB, dH0, dC0] = rest;
      const opts = { inputMask: m.ref.inputMask, recMask: m.ref.recMask, seqMask: m.ref.seqMask };
      const w = { kernel: K, recurrentKernel: U, bias };
      const f = rnnForwardRef(cfg(kind), w, x, B, T, h0, kind === 'lstm' ? c0 : undefined, opts);
      expectClose(hSeq!, f.hSeq, FORWARD, 'outputs');
      expectClose(hLast!, f.hLast, FORWARD, 'last output');
      expectClose(lastStates[0]!, f.hLast, FORWARD, 'final h');
      if (kind === 'lstm') expectClose(lastStates[1]!, f.cLast!, FORWARD, 'final c');
      const gr = rnnBackwardRef(cfg(kind), w, x, B, T, h0, kind === 'lstm' ? c0 : undefined, f.cache, r, rLast, null, opts);
      expectClose(dX!, gr.dX, GRAD, 'dX');
      expectClose(dK!, gr.dKernel, GRAD, 'dKernel');
      expectClose(dU!, gr.dRecurrentKernel, GRAD, 'dRecurrentKernel');
      expectClose(dB!, gr.dBias!, GRAD, 'dBias');
      expectClose(dH0!, gr.dH0, GRAD, 'dH0');
      if (kind === 'lstm') expectClose(dC0!, gr.dC0!, GRAD, 'dC0');

      // and the built-in op (hand-written kernels) to float tolerance
      const g2 = new Graph(ctx, true);
      const m2 = masks(g2, B, T, I, H, 317, { dropout: true, seq: seqMask(B, T) });
      const x2 = input(g2, [B, T, I], x, true, 'x');
      const ws2 = [input(g2, [I, G * H], K, true), input(g2, [H, G * H], U, true), input(g2, kind === 'gru' ? [2, G * H] : [G * H], bias, true)];
      const ref = await rnnOp(g2, { cell: kind, units: H, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, useBias: true }, x2, { kernel: ws2[0]!, recurrentKernel: ws2[1]!, bias: ws2[2]! },
        input(g2, [B, H], h0), kind === 'lstm' ? input(g2, [B, H], c0) : null,
        { inputMask: m2.gpu.inputMask, recurrentMask: m2.gpu.recurrentMasks[0], seqMask: m2.gpu.seqMask });
      await g2.backward(await rnn.cellOps.add(g2, await weightedSum(g2, ref.hSeq, r), await weightedSum(g2, ref.hLast, rLast)));
      const builtin = await run(g2, ref.hSeq, g2.grad(x2), ...ws2.map((t) => g2.grad(t)));
      g2.dispose();
      expectClose(hSeq!, builtin[0]!, FORWARD, 'outputs vs the built-in op');
      [dX, dK, dU, dB].forEach((d, i) => expectClose(d!, builtin[i + 1]!, GRAD, `gradient ${i} vs the built-in op`));
    });
  }
});

describe('cell compiler: what it makes of a cell', () => {
  it('the LN cell on CPU adapters: one generated module (forward above BPTT, then the weight gradients), a row per invocation with every unit unrolled and no barrier, compiled through the shader loader', async () => {
    const cell = rnn.layers.lnSimpleRNNCell({ units: 20 });
    const cc = await compileCell(cell, 32, 1, cell.weightSpecs(1), { software: true });
    const { code, name } = cc.module;
    await expect(code).toMatchFileSnapshot('__snapshots__/cell-rnn.ln-cell.wgsl');
    expect(cc.mode).toBe('rows');
    expect(name).toMatch(/^cell-LNSimpleRNNCell-[0-9a-f]{8}\.wgsl$/);
    for (const k of ['op: src/ops/cell-rnn.ts', 'reference: test/reference/cells.ts', 'test: test/unit/cell-rnn.test.ts']) expect(code).toContain(`//! ${k}`);
    // x·K + b + h·U is one matmul node with two terms
    expect(cc.graph.nodes.filter((n) => n.kind === 'matmul').map((n) => (n.kind === 'matmul' ? n.terms.length : 0))).toEqual([2]);
    const body = (entry: string) => code.slice(code.indexOf(`fn ${entry}(`), code.indexOf('\n}\n', code.indexOf(`fn ${entry}(`)));
    for (const e of ['cellForward', 'cellBackward']) expect(body(e)).not.toMatch(/barrier\(\)/);
    expect(body('cellForward')).toMatch(/let n\d+_19 = w_\d+ \+ x_0 \* w_\d+ \+ sd0_0 \* w_/); // unit 19: bias + x·K + h·U from registers
    // every weight is loaded once, at a constant offset, before the step loop (not once per step)
    for (const e of ['cellForward', 'cellBackward']) {
      const [head, loop] = body(e).split(/for \(var [si] = params\.tStart/);
      expect(loop).not.toMatch(/wts\[/);
      expect(head).toMatch(/let w_0 = wts\[0u\];/);
      expect(new Set(head!.match(/wts\[\d+u\]/g)).size).toBe(head!.match(/wts\[/g)!.length);
    }
    // every weight's gradient is summed in the kernel on CPU adapters
    expect(cc.layout.params).toMatchObject({ gemm: [], weights: [0, 1, 2, 3, 4], total: 1 + 2 + 1 + 1 + 1 }); // tiles of ≤ 10×20 per workgroup: w1 [20, 20] in two, the rest one each
    const ctx = await gpuContext();
    const kf = await ctx.shaders.kernel(cc.module, 'cellForward', { WG: 8 });
    const kb = await ctx.shaders.kernel(cc.module, 'cellBackward', { WG: 8, HAS_DOUT_SEQ: 1, HAS_DX: 1 });
    const kp = await ctx.shaders.kernel(cc.module, 'cellParamGrads', { WG: 8 });
    const ks = await ctx.shaders.kernel(cc.module, 'cellParamSums', { WG: 8 });
    expect(kf.id).toBe(`${name}:cellForward`);
    // saved, dsaved and the 20-wide outputs through their vec4 views (x is 1 wide: floats)
    expect(kf.resources.map((r) => r.name).sort()).toEqual(['consts', 'last', 'outSeqV', 'params', 'savedV', 'wts', 'xin']);
    expect(kb.resources.map((r) => r.name).sort()).toEqual(['carry', 'consts', 'dOutSeqV', 'dsavedV', 'dxin', 'params', 'savedV', 'wts']);
    expect(kp.resources.map((r) => r.name).sort()).toEqual(['dsavedV', 'params', 'partials', 'saved', 'xin']);
    expect(ks.resources.map((r) => r.name).sort()).toEqual(['partials', 'wg0', 'wg1', 'wg2', 'wg3', 'wg4']);
    // the weight gradients without barriers: lavapipe compiles a kernel with one as a coroutine, slowly when it is this big
    for (const e of ['cellParamGrads', 'cellParamSums']) expect(body(e)).not.toMatch(/Barrier\(\)/);
  });

  it('the phase kernels of the same cell (wider cells on CPU adapters, GPUs): per step 3 barriers forward, 4 backward (5 when x needs its gradient); a GPU build projects x by a GEMM', async () => {
    const cell = rnn.layers.lnSimpleRNNCell({ units: 20 });
    const cc = await compileCell(cell, 32, 1, cell.weightSpecs(1), { software: true, mode: 'phases' });
    expect(cc.mode).toBe('phases');
    // x·K + b + h·U in register blocks | the row's mean and variance | the rest, the state, the output
    expect(cc.layout.forward.map((p) => `${p.kind}:${p.items.length}`)).toEqual(['units:1', 'rows:1', 'units:6']);
    expect(cc.layout.backward.map((p) => p.kind)).toEqual(['units', 'rows', 'units', 'units', 'units']);
    expect(cc.module.code.match(/if \(HAS_DX\) \{\n\s*for/g)).toHaveLength(1); // the last backward phase (x's gradient) runs only when x needs it
    const gpu = await compileCell(cell, 32, 1, cell.weightSpecs(1), { software: false, outerLimit: 256 });
    expect(gpu.mode).toBe('phases');
    expect(gpu.graph.nodes.filter((n) => n.kind === 'proj')).toHaveLength(1);
    expect(gpu.layout.params.gemm).toHaveLength(1); // the recurrent weight's gradient: a GEMM
    const ctx = await gpuContext();
    await ctx.shaders.kernel(gpu.module, 'cellForward', { WG: 64 });
    await ctx.shaders.kernel(gpu.module, 'cellBackward', { WG: 64, HAS_DOUT_SEQ: 1 });
  });

  it('cells the compiler cannot handle fail with the reason (the layer then runs them step by step)', async () => {
    const untraceable = new UntraceableCell(3);
    await expect(compileCell(untraceable, 2, 2, untraceable.weightSpecs(2), { software: true })).rejects.toThrow(CellCompileError);
    await expect(compileCell(untraceable, 2, 2, untraceable.weightSpecs(2), { software: true })).rejects.toThrow(/UntraceableCell\.step calls an op outside rnn\.cellOps/);
    const onWeights: rnn.RecurrentCell = {
      className: 'WeightMath', stateSize: [2], outputSize: 2,
      weightSpecs: () => [{ name: 'u', shape: [2, 2], init: 'zeros' }],
      step: async (g, _x, [h], [u]) => {
        const y = await rnn.cellOps.matmul(g, h!, await rnn.cellOps.scale(g, u!, 2));
        return { output: y, states: [y] };
      },
      getConfig: () => ({}),
    };
    await expect(compileCell(onWeights, 2, 1, onWeights.weightSpecs(1), { software: true })).rejects.toThrow(/WeightMath\.step uses a weight \(u\) as scale's data input/);
    const batchSlice: rnn.RecurrentCell = {
      className: 'BatchSlice', stateSize: [2], outputSize: 2,
      weightSpecs: () => [],
      step: async (g, _x, [h]) => ({ output: h!, states: [await rnn.cellOps.slice(g, h!, 0, 0, 1) as Tensor] }),
      getConfig: () => ({}),
    };
    await expect(compileCell(batchSlice, 2, 1, [], { software: true })).rejects.toThrow(/BatchSlice\.step slices along axis 0; a fused cell can only slice along the features/);
  });
});
