/**
 * The recurrent op of a custom cell compiled into fused kernels (rnn.layers.rnn({cell}) with
 * rnn.cellOps): `compileCell` traces the cell's step once (cell-graph.ts), lays it out
 * (cell-layout.ts) and generates its WGSL (cell-codegen.ts); `cellRnn` records, like the built-in
 * cells' op (rnn.ts): the projections of x for all steps as GEMMs, the generated persistent
 * kernel once per chunk of ≤ 64 steps forward and backward, and after BPTT the weight and input
 * gradients of all steps as GEMMs over the saved values and gradients. Dispatches per training
 * step: O(⌈T/64⌉ + weights), independent of T within a chunk.
 */
import type { Graph } from '../autograd/tape';
import { cpuAdapter } from '../gpu/device';
import type { ShaderFile } from '../gpu/shader';
import { upload } from '../gpu/io';
import { Tensor } from '../tensor';
import { gemm, type MatView } from './matmul';
import { accumulateInto } from './reduce';
import { maskMulInto } from './sequence';
import { timeChunks, RNN_WORKGROUP, RNN_WORKGROUP_CPU, type PersistentLayoutOption } from './rnn-tuning';
import { traceCell, type CellGraph, type TraceableCell } from './cell-graph';
import { SMALL_OUTER, PARAM_TILE, type CellLayout } from './cell-layout';
import { cellParamNames, generateCell, paramTileFloats, type CellKernelMode } from './cell-codegen';
import { rowKernelsFit } from './cell-rows';

/** A cell compiled for one input width (and weight shapes). */
export interface CompiledCell {
  graph: CellGraph;
  layout: CellLayout;
  /** The generated kernel module (compiled through the shader loader like shaders/*.wgsl). */
  module: ShaderFile;
  weightShapes: readonly (readonly number[])[];
  /** Phases over (row, unit) pairs, or a row per invocation (small cells on CPU adapters). */
  mode: CellKernelMode;
}

/** Where the kernels will run: CPU (software) adapters and GPUs get different work splits. */
export interface CompileOptions {
  software: boolean;
  /**
   * Compute x_t's matmuls for all steps by GEMMs before the time loop (default: on GPUs, and on CPU
   * adapters for inputs wider than 64; otherwise inside the kernel, and x's gradient with them).
   */
  hoistInput?: boolean;
  /** Tuning / testing knob: the kernels' work split (default: 'rows' on CPU adapters when the cell is small enough, else 'phases'). */
  mode?: CellKernelMode;
  /** Tuning / testing knob: merge add(matmul, matmul) into one two-term matmul (default true). */
  mergeSums?: boolean;
  /** Tuning / testing knob: the largest K·N of a matmul weight whose gradient cellParamGrads sums (default: all on CPU adapters, SMALL_OUTER on GPUs; bigger ones are GEMMs). */
  outerLimit?: number;
}

/**
 * Traces `cell` (batch B, input width I, weights of these shapes) and generates its kernels.
 * Throws CellCompileError (with the reason) when the cell cannot be fused.
 */
export async function compileCell(cell: TraceableCell, B: number, I: number, weights: readonly { name: string; shape: readonly number[] }[], opts: CompileOptions): Promise<CompiledCell> {
  const graph = await traceCell(cell, B, I, weights, opts.hoistInput ?? (!opts.software || I > 64), opts.mergeSums ?? true);
  const mode = opts.mode ?? (opts.software && rowKernelsFit(graph) ? 'rows' : 'phases');
  if (mode === 'rows' && !rowKernelsFit(graph)) throw new RangeError(`${cell.className}: too big for the row kernels (mode 'rows')`);
  const { layout, module } = generateCell(graph, weights.map((w) => w.shape.reduce((a, b) => a * b, 1)), opts.outerLimit ?? (opts.software ? Infinity : SMALL_OUTER), mode, opts.software ? PARAM_TILE.cpu : PARAM_TILE.gpu);
  return { graph, layout, module, weightShapes: weights.map((w) => [...w.shape]), mode };
}

export interface CellRnnOptions {
  /** [B, I] input-dropout mask (0 or 1/(1-rate)), the same at every step. */
  inputMask?: Tensor | null;
  /** Per state: [B, S_i] recurrent-dropout mask on the state where it enters a matmul (null: none). */
  recurrentMasks?: readonly (Tensor | null)[];
  /** [B, T] sequence mask: 1 = use the step, 0 = skip it (states and the previous output carried). */
  seqMask?: Tensor | null;
  /** Initial states [B, S_i] (default zeros); gradients flow into them. */
  initialStates?: readonly Tensor[] | null;
  /** Rows per workgroup and invocations per workgroup (tuning / tests; results do not depend on it). */
  persistentLayout?: Pick<PersistentLayoutOption, 'rowsPerGroup' | 'workgroup'>;
}

export interface CellRnnOutputs {
  /** [B, T, O]: the cell's output at every step. */
  outSeq: Tensor;
  /** [B, O]: the output of the last step. */
  lastOut: Tensor;
  /** [B, S_i]: the states after the last step. */
  lastStates: Tensor[];
}

/**
 * Invocations per workgroup of the cell kernels on SwiftShader: its SIMD width, so that a
 * workgroup is one group of lanes and a barrier switches no coroutines (LN cell layer, I = 20, in
 * one process on SwiftShader: forward 6.8 → 5.3 ms, BPTT 14.6 → 7.8 ms against 16 invocations; on
 * lavapipe, 8 lanes wide, 16 stays the fastest: 2.4 / 3.7 ms against 3.1 / 4.6 with 4).
 */
export const CELL_WORKGROUP_SWIFTSHADER = 4;

/**
 * Rows per workgroup and workgroup size: CPU adapters as the built-in persistent kernels (≤ 16
 * rows, 2+ workgroups, 16 invocations; SwiftShader 4); GPUs ≈ 64 (row, unit) pairs per workgroup.
 */
export function cellWorkLayout(maxWidth: number, B: number, software: boolean, opt: CellRnnOptions['persistentLayout'] = {}, swiftshader = false): { rowsPerGroup: number; workgroup: number } {
  const R = opt.rowsPerGroup ?? (software ? Math.min(16, Math.max(1, Math.ceil(B / 2))) : Math.max(1, Math.floor(RNN_WORKGROUP / maxWidth)));
  const WG = opt.workgroup ?? (software ? (swiftshader ? CELL_WORKGROUP_SWIFTSHADER : RNN_WORKGROUP_CPU) : RNN_WORKGROUP);
  if (!Number.isInteger(R) || R < 1) throw new RangeError(`cell rnn: rowsPerGroup must be a positive integer, got ${R}`);
  if (!Number.isInteger(WG) || WG < 1 || WG > 256) throw new RangeError(`cell rnn: workgroup must be an integer in [1, 256], got ${WG}`);
  return { rowsPerGroup: R, workgroup: WG };
}

/**
 * The row kernels' layout: a row per invocation, WG = the adapter's SIMD width (lavapipe 8 lanes,
 * SwiftShader 4), so a workgroup is one group of lanes; `rowsPerGroup` equals it.
 */
export function rowLayout(opt: CellRnnOptions['persistentLayout'] = {}, swiftshader = false): { rowsPerGroup: number; workgroup: number } {
  const WG = opt.workgroup ?? (swiftshader ? 4 : 8);
  if (!Number.isInteger(WG) || WG < 1 || WG > 256) throw new RangeError(`cell rnn: workgroup must be an integer in [1, 256], got ${WG}`);
  return { rowsPerGroup: WG, workgroup: WG };
}

/** Floats from `n` rounded up to the storage-offset alignment (so a block can be bound alone). */
function alignFloats(n: number, alignBytes: number): number {
  const a = alignBytes / 4;
  return Math.ceil(n / a) * a;
}

/** Runs the compiled cell over x [B, T, I]; records BPTT when an input needs a gradient. */
export async function cellRnn(g: Graph, cc: CompiledCell, x: Tensor, weights: readonly Tensor[], opts: CellRnnOptions = {}): Promise<CellRnnOutputs> {
  const { graph: cg, layout: l } = cc;
  if (x.shape.length !== 3 || x.shape[2] !== cg.inputSize) throw new RangeError(`${cg.name}: x is [${x.shape.join(', ')}], expected [batch, time, ${cg.inputSize}]`);
  const [B, T, I] = x.shape as [number, number, number];
  if (weights.length !== cc.weightShapes.length || weights.some((w, i) => w.size !== cc.weightShapes[i]!.reduce((a, b) => a * b, 1))) {
    throw new RangeError(`${cg.name}: weights [${weights.map((w) => `[${w.shape.join(', ')}]`).join(', ')}] do not match the compiled cell's [${cc.weightShapes.map((s) => `[${s.join(', ')}]`).join(', ')}]`);
  }
  const S = cg.stateSizes, O = cg.outputSize, P = cg.projWidth;
  const init = opts.initialStates ?? null;
  if (init && (init.length !== S.length || init.some((t, i) => t.size !== B * S[i]!))) throw new RangeError(`${cg.name}: initial states must be ${S.map((n) => `[${B}, ${n}]`).join(', ')}`);
  const recMasks = S.map((_, i) => opts.recurrentMasks?.[i] ?? null);
  const seqMask = opts.seqMask ?? null;
  if (seqMask && seqMask.size !== B * T) throw new RangeError(`${cg.name}: the sequence mask is [${seqMask.shape.join(', ')}], expected [${B}, ${T}]`);
  const inputs = [x, ...weights, ...(init ?? [])];
  const needsGrad = g.needsGrad(...inputs);
  const align = g.ctx.alignment;

  // wts = the weights the kernels read; consts = [initial states | recurrent masks | sequence mask | input mask]
  const params: Record<string, number> = Object.fromEntries(cellParamNames(cg).map((f) => [f, 0]));
  const wts = g.alloc([Math.max(1, l.weightFloats)], `${cg.name}/weights`);
  weights.forEach((w, i) => {
    if (l.weightOffset[i]! >= 0) g.forward.copy(w, new Tensor(wts.buffer, [w.size], wts.byteOffset + 4 * l.weightOffset[i]!, false, 'weights part'));
  });
  let n = 0;
  const parts: [Tensor, number][] = [];
  const place = (t: Tensor | null, field: string) => {
    if (!t) return;
    params[field] = n;
    parts.push([t, n]);
    n += t.size;
  };
  S.forEach((_, i) => place(init?.[i] ?? null, `initOff${i}`));
  S.forEach((_, i) => place(recMasks[i]!, `recMaskOff${i}`));
  place(seqMask, 'seqMaskOff');
  place(opts.inputMask ?? null, 'inMaskOff');
  // (at least a vec4: it stands in for dOutSeq, read as vec4s by the row kernels, when that has no gradient)
  const consts = g.alloc([Math.max(4, n)], `${cg.name}/consts`);
  for (const [t, off] of parts) g.forward.copy(t, new Tensor(consts.buffer, [t.size], consts.byteOffset + 4 * off, false, 'consts part'));

  let xIn = x;
  if (opts.inputMask) {
    if (opts.inputMask.size !== B * I) throw new RangeError(`${cg.name}: the input-dropout mask is [${opts.inputMask.shape.join(', ')}], expected [${B}, ${I}]`);
    xIn = g.alloc([B, T, I], `${cg.name}/x dropped`);
    await maskMulInto(g, g.forward, x, opts.inputMask, xIn, { T, F: I, sB: I, sT: 0, sF: 1 }, false);
  }
  // projections of every step's x: one GEMM each
  const xproj = P ? g.alloc([B, T, P], `${cg.name}/projections`) : null;
  for (const nd of cg.nodes) {
    if (nd.kind !== 'proj') continue;
    await gemm(g, g.forward, {
      M: B * T, N: nd.width, K: I,
      a: { t: xIn, rowStride: I },
      b: { t: weights[nd.weight.index]!, off: nd.weight.offset, rowStride: nd.width },
      c: { t: xproj!, off: nd.col, rowStride: P },
      ...(nd.bias ? { bias: { t: weights[nd.bias.index]!, off: nd.bias.offset } } : {}),
    });
  }
  // [B·T + 1 rows, SW]: the last row is a sink for the state slots "of step T" (no branch in the kernel)
  const saved = g.alloc([B * T + 1, l.savedWidth], `${cg.name}/saved`);
  const outSeq = g.alloc([B, T, O], `${cg.name}/outputs`, needsGrad);
  // last = [state 0 | … | output] blocks, each aligned so that it can be bound alone
  let lastLen = 0;
  const lastOffs = [...S, O].map((w) => {
    const off = lastLen;
    lastLen += alignFloats(B * w, align);
    return off;
  });
  const last = g.alloc([lastLen], `${cg.name}/last`);
  const lastView = (i: number, w: number, what: string) => new Tensor(last.buffer, [B, w], last.byteOffset + 4 * lastOffs[i]!, needsGrad, `${cg.name}/${what}`);
  const lastStates = S.map((w, i) => lastView(i, w, `state ${i}`));
  const lastOut = lastView(S.length, O, 'last output');
  S.forEach((_, i) => (params[`lastOff${i}`] = lastOffs[i]!));
  params.outLastOff = lastOffs[S.length]!;

  const software = g.ctx.gpu.info.isFallbackAdapter;
  const maxWidth = Math.max(...l.forward.map((p) => p.width), ...l.backward.map((p) => p.width));
  const swiftshader = cpuAdapter(g.ctx.gpu.info) === 'swiftshader';
  const { rowsPerGroup, workgroup } = cc.mode === 'rows' ? rowLayout(opts.persistentLayout, swiftshader) : cellWorkLayout(maxWidth, B, software, opts.persistentLayout, swiftshader);
  Object.assign(params, { B, T, rowsPerGroup });
  const constants = { WG: workgroup, STORAGE_BARRIER: software ? 0 : 1, HAS_INIT: init ? 1 : 0, HAS_REC_MASK: recMasks.some(Boolean) ? 1 : 0, HAS_SEQ_MASK: seqMask ? 1 : 0 };
  const groups = Math.ceil(B / rowsPerGroup);
  const bindings: Record<string, Tensor> = { wts, consts, xin: xIn, saved, outSeq, last, ...(xproj ? { xproj } : {}), xinV: xIn, savedV: saved, outSeqV: outSeq };
  const kf = await g.ctx.shaders.kernel(cc.module, 'cellForward', constants);
  const own = kf.ownBindings(bindings);
  for (const [tStart, tEnd] of timeChunks(T)) g.forward.dispatch(kf, own, { ...params, tStart, tEnd }, kf.groupsFor(groups * kf.invocations));
  const outputs = { outSeq, lastOut, lastStates };
  if (!needsGrad) return outputs;

  g.record({
    name: `cell:${cg.name}`,
    inputs,
    outputs: [outSeq, lastOut, ...lastStates],
    saved: [wts, consts, xIn, ...(xproj ? [xproj] : []), saved, outSeq],
    backward: async () => {
      const dOutSeq = g.gradIfAny(outSeq);
      const dLastOut = g.gradIfAny(lastOut);
      const dLastStates = lastStates.map((t) => g.gradIfAny(t));
      if (!dOutSeq && !dLastOut && dLastStates.every((d) => !d)) return;
      const bp = g.backwardProgram;
      // carry = [d state 0 | … | d output] blocks: the gradients leaving the step being processed
      let carryLen = 0;
      const carryOffs = [...S, O].map((w) => {
        const off = carryLen;
        carryLen += alignFloats(B * w, align);
        return off;
      });
      const carry = g.alloc([carryLen], `${cg.name}/carry`);
      const carryView = (i: number, w: number) => new Tensor(carry.buffer, [B, w], carry.byteOffset + 4 * carryOffs[i]!, false, `${cg.name}/carry ${i}`);
      [...dLastStates, dLastOut].forEach((d, i) => {
        const v = carryView(i, i < S.length ? S[i]! : O);
        if (d) bp.copy(d, v);
        else bp.clear(v);
      });
      const bparams: Record<string, number> = { ...params, outCarryOff: carryOffs[S.length]! };
      S.forEach((_, i) => (bparams[`carryOff${i}`] = carryOffs[i]!));
      const dsaved = g.alloc([B, T, Math.max(1, l.gradWidth)], `${cg.name}/gradients`);
      const kb = await g.ctx.shaders.kernel(cc.module, 'cellBackward', { ...constants, HAS_DOUT_SEQ: dOutSeq ? 1 : 0, HAS_DX: x.requiresGrad ? 1 : 0, HAS_IN_MASK: opts.inputMask ? 1 : 0 });
      // without a gradient on the outputs, a read-only placeholder (HAS_DOUT_SEQ is false)
      // x's gradient, added in the kernel (a one-float placeholder when x needs none)
      const dx = x.requiresGrad ? g.grad(x) : g.alloc([4], `${cg.name}/no dx`);
      const bb = kb.ownBindings({ ...bindings, dOutSeq: dOutSeq ?? consts, dsaved, carry, dxin: dx, dOutSeqV: dOutSeq ?? consts, dsavedV: dsaved, dxinV: dx });
      for (const [tStart, tEnd] of timeChunks(T).reverse()) bp.dispatch(kb, bb, { ...bparams, tStart, tEnd }, kb.groupsFor(groups * kb.invocations));
      await weightAndInputGrads(g, cc, { x, xIn, xproj, saved, dsaved, weights, inputMask: opts.inputMask ?? null, B, T, bindings, params: bparams, workgroup });
      if (init) for (const [i, t] of init.entries()) if (t.requiresGrad) await accumulateInto(g, bp, carryView(i, S[i]!), g.grad(t));
    },
  });
  return outputs;
}

interface GradBuffers {
  x: Tensor;
  xIn: Tensor;
  xproj: Tensor | null;
  saved: Tensor;
  dsaved: Tensor;
  weights: readonly Tensor[];
  inputMask: Tensor | null;
  B: number;
  T: number;
  bindings: Record<string, Tensor>;
  params: Record<string, number>;
  workgroup: number;
}

/**
 * After BPTT: every weight's gradient as sums over all B·T rows of the saved values and gradients
 * — two dispatches of the generated cellParamGrads / cellParamSums for the biases, gamma, beta and
 * small matmul weights, a GEMM (dW += Aᵀ·dY) for each bigger matmul weight — and the input's gradient
 * (dX += dProj·Wᵀ, plus what x_t received inside the kernel).
 */
async function weightAndInputGrads(g: Graph, cc: CompiledCell, b: GradBuffers): Promise<void> {
  const { graph: cg, layout: l } = cc;
  const bp = g.backwardProgram;
  const rows = b.B * b.T;
  const P = cg.projWidth, I = cg.inputSize;
  const plan = l.params;
  if (plan.weights.some((i) => b.weights[i]!.requiresGrad)) {
    // at most 64 lanes (partials: every lane's tile of every task)
    const WG = Math.min(b.workgroup, 64);
    const k = await g.ctx.shaders.kernel(cc.module, 'cellParamGrads', { WG });
    const ks = await g.ctx.shaders.kernel(cc.module, 'cellParamSums', { WG });
    const grads: Record<string, Tensor> = {};
    for (const i of plan.weights) {
      const w = b.weights[i]!;
      grads[`wg${i}`] = w.requiresGrad ? g.grad(w) : g.alloc([w.size], `${cg.name}/unused gradient`);
    }
    const partials = g.alloc([plan.total * WG * paramTileFloats(l)], `${cg.name}/weight-gradient tiles`);
    const all = { ...b.bindings, dsaved: b.dsaved, dsavedV: b.dsaved, partials, ...grads };
    bp.dispatch(k, k.ownBindings(all), b.params, k.groupsFor(plan.total * k.invocations));
    bp.dispatch(ks, ks.ownBindings(all), {}, ks.groupsFor(plan.total * ks.invocations)); // (no params)
  }
  const dview = (col: number): MatView => ({ t: b.dsaved, off: col, rowStride: Math.max(1, l.gradWidth) });
  /** All steps' values of a node as a [B·T, width] view. */
  const vview = (id: number): MatView => {
    const n = cg.nodes[id]!;
    if (n.kind === 'slice') {
      const v = vview(n.a);
      return { ...v, off: (v.off ?? 0) + n.start };
    }
    if (n.kind === 'proj') return { t: b.xproj!, off: n.col, rowStride: P };
    if (n.kind === 'input') return { t: b.xIn, rowStride: I };
    return { t: b.saved, off: l.savedCol[id]!, rowStride: l.savedWidth };
  };
  // what the kernel does not sum: big matmul weights as GEMMs, and column sums when the kernel would bind too many buffers
  for (const p of plan.gemm) {
    const wt = b.weights[p.weight.index]!;
    if (!wt.requiresGrad) continue;
    const a = p.a === null ? { t: b.xIn, rowStride: I } : vview(p.a);
    await gemm(g, bp, { M: p.K, N: p.N, K: rows, transA: true, accumulate: true, a, b: dview(l.gradCol[p.node]!), c: { t: g.grad(wt), off: p.weight.offset, rowStride: p.N } });
  }
  let ones: Tensor | null = null;
  for (const t of plan.gemmSums) {
    if (t.kind !== 'sum') continue;
    const wt = b.weights[t.weight]!;
    if (!wt.requiresGrad) continue;
    if (!ones) {
      ones = g.alloc([rows], `${cg.name}/ones`);
      upload(g.ctx.device, ones, new Float32Array(rows).fill(1));
    }
    const col = t.col === 'grad' ? l.gradCol[t.node]! : l.contribCol.get(t.node)!;
    await gemm(g, bp, { M: 1, N: t.width, K: rows, transA: true, accumulate: true, a: { t: ones, rowStride: 1 }, b: dview(col), c: { t: g.grad(wt), off: t.offset, rowStride: t.width } });
  }
  // the input's gradient through the projections (what x_t received inside the kernel is already in)
  if (!b.x.requiresGrad || !cg.nodes.some((n) => n.kind === 'proj')) return;
  const dXIn = b.inputMask ? g.alloc([b.B, b.T, I], `${cg.name}/dx dropped`) : g.grad(b.x);
  if (b.inputMask) bp.clear(dXIn);
  for (const n of cg.nodes) {
    if (n.kind === 'proj') {
      await gemm(g, bp, { M: rows, N: I, K: n.width, transB: true, accumulate: true, a: dview(l.gradCol[n.id]!), b: { t: b.weights[n.weight.index]!, off: n.weight.offset, rowStride: n.width }, c: { t: dXIn, rowStride: I } });
    }
  }
  if (b.inputMask) await maskMulInto(g, bp, dXIn, b.inputMask, g.grad(b.x), { T: b.T, F: I, sB: I, sT: 0, sF: 1 }, true);
}
