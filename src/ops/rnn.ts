/**
 * The recurrent op behind SimpleRNN, LSTM and GRU (Keras 3 semantics and weight layouts):
 * `rnnForward` and `rnnBackward` (BPTT) side by side, differentiable w.r.t. x, the weights and
 * h0 / c0. Per layer: one GEMM projects every step's input, the cell's kernels
 * (shaders/<cell>-cell.wgsl, chosen in rnn-cells.ts) run the time loop, and BPTT ends with the
 * weight gradients of all steps as GEMMs. Layouts, saved tensors and the work split:
 * docs/design.md §6; the choices per layer (time loop, tiles): rnn-tuning.ts.
 */
import type { Graph } from '../autograd/tape';
import { cpuAdapter } from '../gpu/device';
import type { Program } from '../gpu/program';
import type { ParamValues } from '../gpu/shader';
import { Tensor } from '../tensor';
import { gatesByUnitInto, gemm, transposeInto } from './matmul';
import { accumulateInto, sumRowsInto } from './reduce';
import { maskMulInto } from './sequence';
import { recordStepBackward, recordStepForward } from './rnn-step';
import { CELLS, cellVariant, gateCount, type CellKernels, type CellVariant, type RnnOpConfig } from './rnn-cells';
import { persistentLayout, recurrentConstants, resolveTimeLoop, timeChunks, type PersistentLayoutOption, type TimeLoop } from './rnn-tuning';

export type { CellType, RnnOpConfig } from './rnn-cells';
export { gateCount } from './rnn-cells';

export interface RnnWeights {
  /** [I, G*H] */
  kernel: Tensor;
  /** [H, G*H] */
  recurrentKernel: Tensor;
  /** [G*H], or [2, 3H] for GRU resetAfter (row 0 input bias, row 1 recurrent bias); null without bias. */
  bias: Tensor | null;
}

/** Optional behaviour of the recurrent op (docs/rnn-features.md has the Keras semantics). */
export interface RnnOptions {
  /** Walk time backwards (Bidirectional's backward direction); hSeq stays in input order. */
  reverse?: boolean;
  /** [B, I] input-dropout mask (0 or 1/(1-rate)), the same at every step. */
  inputMask?: Tensor | null;
  /** [B, H] recurrent-dropout mask on h_{t-1} where it enters a recurrent matmul. */
  recurrentMask?: Tensor | null;
  /** [B, T] sequence mask: 1 = use the step, 0 = skip it (state carried through). */
  seqMask?: Tensor | null;
  /**
   * Which kernels run the time loop (rnn-tuning.ts chooseTimeLoop): 'persistent' (a dispatch per
   * chunk of ≤ RNN_CHUNK steps), 'step' (a dispatch per step forward, two backward; not for GRU
   * resetAfter=false) or 'auto' (default).
   */
  timeLoop?: 'auto' | TimeLoop;
  /** Tuning / testing knob of the persistent kernels (rows per workgroup, staging, workgroup size). */
  persistentLayout?: PersistentLayoutOption;
}

export interface RnnOutputs {
  /** [B, T, H] h_t for every step. */
  hSeq: Tensor;
  /** [B, H] h_T. */
  hLast: Tensor;
  /** [B, H] c_T (LSTM only, else null). */
  cLast: Tensor | null;
}

/**
 * Bytes of activations saved for backward per training step (the tensors `rnn()` records as
 * `saved`), G = gate blocks, H = units: SimpleRNN 4·B·T·(I + H) (x, hSeq); LSTM and GRU
 * 4·B·T·(I + (G + 2)·H) (x, hSeq, the activated gates, and c_t / rh / r*h_{t-1}).
 */
export function rnnSavedBytes(cfg: RnnOpConfig, B: number, T: number, I: number): number {
  const H = cfg.units;
  const perStep = cfg.cell === 'simpleRNN' ? I + H : I + (gateCount(cfg.cell) + 2) * H;
  return 4 * B * T * perStep;
}

/** Everything about one recorded call that forward and backward share (decided before recording). */
interface RnnCall {
  cfg: RnnOpConfig;
  variant: CellVariant;
  cell: CellKernels;
  x: Tensor;
  w: RnnWeights;
  h0: Tensor | null;
  c0: Tensor | null;
  /** The differentiable inputs, and whether any of them needs a gradient in this graph. */
  inputs: Tensor[];
  needsGrad: boolean;
  B: number;
  T: number;
  I: number;
  H: number;
  GH: number;
  reverse: boolean;
  inputMask: Tensor | null;
  recurrentMask: Tensor | null;
  seqMask: Tensor | null;
  timeLoop: TimeLoop;
  /** Persistent grid: ⌈B / R⌉ workgroups. */
  groups: number;
  /** Params of every recurrent dispatch but tStart / tEnd. */
  params: ParamValues;
  /** Pipeline constants of the forward kernels (backward adds HAS_DH_SEQ). */
  constants: Record<string, number>;
  /** Element offsets of h0, c0, recMask and seqMask in the packed `aux` buffer, and its length. */
  aux: { h0Off: number; c0Off: number; recMaskOff: number; seqMaskOff: number; length: number };
}

/** What forward leaves for backward. */
interface RnnSaved {
  /** x, or x ⊙ inputMask with input dropout (what the projection and dK read). */
  xIn: Tensor;
  aux: Tensor;
  outputs: RnnOutputs;
  /** [B, T, GH] the activated gates (SimpleRNN: hSeq). */
  gates: Tensor;
  /** [B, T, H] the cell's extra saved tensor (LSTM c_t, GRU rh or r*h_{t-1}), or null. */
  extra: Tensor | null;
}

/**
 * Runs a recurrent layer over x [B, T, I] from h0 (and c0, LSTM) — null means zeros — recording
 * its backward when any input needs a gradient; gradients may arrive on any of hSeq, hLast, cLast.
 */
export async function rnn(
  g: Graph,
  cfg: RnnOpConfig,
  x: Tensor,
  w: RnnWeights,
  h0: Tensor | null = null,
  c0: Tensor | null = null,
  opts: RnnOptions = {},
): Promise<RnnOutputs> {
  const call = prepareCall(g, cfg, x, w, h0, c0, opts);
  const saved = await rnnForward(g, call);
  if (!call.needsGrad) return saved.outputs;
  const { hSeq, hLast, cLast } = saved.outputs;
  g.record({
    name: `rnn.${call.variant}${call.reverse ? '.reverse' : ''}`,
    inputs: call.inputs,
    outputs: cLast ? [hSeq, hLast, cLast] : [hSeq, hLast],
    saved: [saved.xIn, hSeq, ...(saved.gates !== hSeq ? [saved.gates] : []), ...(saved.extra ? [saved.extra] : [])],
    backward: () => rnnBackward(g, call, saved),
  });
  return saved.outputs;
}

/** Records the forward pass: the input projection for all steps, then the recurrent time loop. */
async function rnnForward(g: Graph, c: RnnCall): Promise<RnnSaved> {
  const { B, T, I, H, GH, cell, w, needsGrad } = c;
  // aux = [h0 | c0 | recMask | seqMask] (present parts only), filled by copies each run: the LSTM
  // kernels already bind 7 of the 8 storage buffers an entry point may have.
  const aux = g.alloc([Math.max(1, c.aux.length)], 'rnn.aux');
  const parts: [Tensor | null, number][] = [[c.h0, c.aux.h0Off], [c.c0, c.aux.c0Off], [c.recurrentMask, c.aux.recMaskOff], [c.seqMask, c.aux.seqMaskOff]];
  for (const [t, off] of parts) {
    if (t) g.forward.copy(t, new Tensor(aux.buffer, [t.size], aux.byteOffset + off * 4, false, 'rnn.aux part'));
  }
  let xIn = c.x;
  if (c.inputMask) {
    xIn = g.alloc([B, T, I], 'rnn.xDropped');
    await maskMulInto(g, g.forward, c.x, c.inputMask, xIn, { T, F: I, sB: I, sT: 0, sF: 1 }, false);
  }
  const hSeq = g.alloc([B, T, H], 'rnn.hSeq', needsGrad);
  const hLast = g.alloc([B, H], 'rnn.hLast', needsGrad);
  const cLast = c.cfg.cell === 'lstm' ? g.alloc([B, H], 'rnn.cLast', needsGrad) : null;
  // The input projection, overwritten in place by the activated gates (SimpleRNN: by h_t).
  const gates = c.cfg.cell === 'simpleRNN' ? hSeq : g.alloc([B, T, GH], 'rnn.gates');
  const extra = cell.saved ? g.alloc([B, T, H], `rnn.${cell.saved}`) : null;

  // Gx [B*T, GH] = X [B*T, I] · K [I, GH] + input bias (GRU resetAfter: row 0 of the bias).
  await gemm(g, g.forward, {
    M: B * T, N: GH, K: I,
    a: { t: xIn, rowStride: I },
    b: { t: w.kernel, rowStride: GH },
    c: { t: gates, rowStride: GH },
    ...(w.bias ? { bias: { t: w.bias, off: 0 } } : {}),
  });
  // Unused read-only bindings get a placeholder (the pipeline constants say they are not read).
  const bindings: Record<string, Tensor> = { recurrentKernel: w.recurrentKernel, aux, hSeq, hLast, gates, bias: w.bias ?? w.recurrentKernel };
  if (c.timeLoop === 'persistent') {
    // U by unit [H, H, 4] for the persistent kernels: one vec4 load per unit's gates (a quarter
    // of the loads, and CPU adapters pay per load; docs/performance.md); remade every step.
    const UG = g.alloc([H, H, 4], 'rnn.recurrentGates');
    await gatesByUnitInto(g, g.forward, w.recurrentKernel, H, GH / H, H, UG);
    bindings.recurrentGates = UG;
  }
  if (cell.saved) bindings[cell.saved] = extra!;
  if (cLast) bindings.cLast = cLast;
  await recordTimeLoop(g, g.forward, c, 'forward', bindings, c.constants);
  return { xIn, aux, outputs: { hSeq, hLast, cLast }, gates, extra };
}

/**
 * Records BPTT: the reverse time loop carries dh (and dc) and writes the pre-activation
 * gradients dG of every step, then the gradients of the weights, x and the initial state are
 * GEMMs and sums over all steps (all accumulating).
 */
async function rnnBackward(g: Graph, c: RnnCall, s: RnnSaved): Promise<void> {
  const { hSeq, hLast, cLast } = s.outputs;
  const dHSeq = g.gradIfAny(hSeq); // [B, T, H]
  const dHLast = g.gradIfAny(hLast); // [B, H]
  const dCLast = cLast ? g.gradIfAny(cLast) : null; // [B, H]
  if (!dHSeq && !dHLast && !dCLast) return;
  const { B, T, H, GH, w } = c;
  const bp = g.backwardProgram;
  const gruAfter = c.variant === 'gru';
  // dG [B, T, GH], GRU resetAfter [B, T, 2, GH] ([input part | recurrent part]); fully written.
  const dG = g.alloc(gruAfter ? [B, T, 2, GH] : [B, T, GH], 'rnn.dG');
  const dhCarry = g.alloc([B, H], 'rnn.dhCarry');
  if (dHLast) bp.copy(dHLast, dhCarry);
  else bp.clear(dhCarry);
  let dcCarry: Tensor | null = null;
  if (cLast) {
    dcCarry = g.alloc([B, H], 'rnn.dcCarry');
    if (dCLast) bp.copy(dCLast, dcCarry);
    else bp.clear(dcCarry);
  }
  // Uᵀ [GH, HT] for dG·Uᵀ (an invocation's 8 units are consecutive addresses, read as 2 vec4s;
  // rows padded to HT = H rounded up to 8); remade every step.
  const HT = Math.ceil(H / 8) * 8;
  const UT = g.alloc([GH, HT], 'rnn.recurrentKernelT');
  await transposeInto(g, bp, w.recurrentKernel, H, GH, UT, HT);
  const bindings: Record<string, Tensor> = { recurrentKernelT: UT, aux: s.aux, dHSeq: dHSeq ?? w.recurrentKernel, dG, dhCarry, hSeq, gates: s.gates };
  if (c.cell.saved) bindings[c.cell.saved] = s.extra!;
  if (dcCarry) bindings.dcCarry = dcCarry;
  await recordTimeLoop(g, bp, c, 'backward', bindings, { ...c.constants, HAS_DH_SEQ: dHSeq ? 1 : 0 });

  const dgStride = gruAfter ? 2 * GH : GH;
  if (w.kernel.requiresGrad) {
    // dK [I, GH] += Xᵀ · dG (X stored [B*T, I])
    await gemm(g, bp, {
      M: c.I, N: GH, K: B * T, transA: true, accumulate: true,
      a: { t: s.xIn, rowStride: c.I },
      b: { t: dG, rowStride: dgStride },
      c: { t: g.grad(w.kernel), rowStride: GH },
    });
  }
  if (w.recurrentKernel.requiresGrad) await recurrentKernelGrad(g, c, s, dG);
  // dBias [GH] (GRU resetAfter: [2, GH]) += column sums of dG over the B*T rows
  if (w.bias?.requiresGrad) await sumRowsInto(g, bp, dG, B * T, dgStride, g.grad(w.bias), true);
  if (c.x.requiresGrad) {
    // dX [B*T, I] += dG · Kᵀ; with input dropout into a scratch first, then dX += that ⊙ inputMask.
    const dXIn = c.inputMask ? g.alloc([B, T, c.I], 'rnn.dXDropped') : g.grad(c.x);
    await gemm(g, bp, {
      M: B * T, N: c.I, K: GH, transB: true, accumulate: !c.inputMask,
      a: { t: dG, rowStride: dgStride },
      b: { t: w.kernel, rowStride: GH },
      c: { t: dXIn, rowStride: c.I },
    });
    if (c.inputMask) await maskMulInto(g, bp, dXIn, c.inputMask, g.grad(c.x), { T, F: c.I, sB: c.I, sT: 0, sF: 1 }, true);
  }
  // What the time loop carried past step 0 is the initial state's gradient.
  if (c.h0?.requiresGrad) await accumulateInto(g, bp, dhCarry, g.grad(c.h0));
  if (c.c0?.requiresGrad && dcCarry) await accumulateInto(g, bp, dcCarry, g.grad(c.c0));
}

/**
 * dU += Σ_{b, t} (h_{t-1} ⊙ m)ᵀ · dGrec_t as one GEMM over the steps t ≥ 1 (strided row views of
 * hSeq and dG), plus h0ᵀ · dGrec_0 when an initial state was given. GRU resetBefore: the z, r
 * columns that way, and dU_h += (r*h_{t-1})ᵀ · dG_h.
 */
async function recurrentKernelGrad(g: Graph, c: RnnCall, s: RnnSaved, dG: Tensor): Promise<void> {
  const { B, T, H, GH, reverse } = c;
  const bp = g.backwardProgram;
  const dU = g.grad(c.w.recurrentKernel); // [H, GH]
  const gruBefore = c.variant === 'gruResetBefore';
  const dgStride = c.variant === 'gru' ? 2 * GH : GH;
  const recOff = c.variant === 'gru' ? GH : 0; // column of the recurrent part in a dG row
  const nH = gruBefore ? 2 * H : GH; // columns of U multiplied by h_{t-1}
  // The h that multiplied U: hSeq (and h0) ⊙ recurrentMask with recurrent dropout.
  let hRows = s.outputs.hSeq;
  let h0Rows = c.h0;
  if (c.recurrentMask) {
    hRows = g.alloc([B, T, H], 'rnn.hDropped');
    await maskMulInto(g, bp, s.outputs.hSeq, c.recurrentMask, hRows, { T, F: H, sB: H, sT: 0, sF: 1 }, false);
    if (c.h0) {
      h0Rows = g.alloc([B, H], 'rnn.h0Dropped');
      await maskMulInto(g, bp, c.h0, c.recurrentMask, h0Rows, { T: 1, F: H, sB: H, sT: 0, sF: 1 }, false);
    }
  }
  if (T > 1) {
    // Forward: rows (b, t-1) of hSeq against rows (b, t) of dG; reversed: (b, t+1) against (b, t).
    await gemm(g, bp, {
      M: H, N: nH, K: B * (T - 1), transA: true, accumulate: true,
      a: { t: hRows, off: reverse ? H : 0, inner: T - 1, outer: T * H, rowStride: H },
      b: { t: dG, off: (reverse ? 0 : dgStride) + recOff, inner: T - 1, outer: T * dgStride, rowStride: dgStride },
      c: { t: dU, rowStride: GH },
    });
  }
  if (h0Rows) {
    // h0ᵀ [H, B] · dGrec of the first processed step (time 0, or T-1 reversed)
    await gemm(g, bp, {
      M: H, N: nH, K: B, transA: true, accumulate: true,
      a: { t: h0Rows, rowStride: H },
      b: { t: dG, off: (reverse ? (T - 1) * dgStride : 0) + recOff, rowStride: T * dgStride },
      c: { t: dU, rowStride: GH },
    });
  }
  if (gruBefore) {
    // dU_h [H, H] (columns 2H..3H) += (r*(h_{t-1} ⊙ m))ᵀ [H, B*T] · dG_h [B*T, H]
    await gemm(g, bp, {
      M: H, N: H, K: B * T, transA: true, accumulate: true,
      a: { t: s.extra!, rowStride: H },
      b: { t: dG, off: 2 * H, rowStride: GH },
      c: { t: dU, off: 2 * H, rowStride: GH },
    });
  }
}

/**
 * Records the time loop of one direction into `prog`: the persistent kernel once per chunk of
 * steps (last chunk first backward), or the per-step kernels (rnn-step.ts). `bindings` may hold
 * more than a kernel declares (each gets its own).
 */
async function recordTimeLoop(g: Graph, prog: Program, c: RnnCall, dir: 'forward' | 'backward', bindings: Record<string, Tensor>, constants: Record<string, number>): Promise<void> {
  const dims = { B: c.B, T: c.T, H: c.H };
  if (c.timeLoop === 'step') {
    if (dir === 'forward') await recordStepForward(g, prog, c.cell.shader, c.cfg.cell === 'simpleRNN', bindings, c.params, constants, dims);
    else await recordStepBackward(g, prog, c.cell.shader, bindings, c.params, constants, dims);
    return;
  }
  const k = await g.kernel(c.cell.shader, dir === 'forward' ? 'recurrentForward' : 'recurrentBackward', constants, { dynamicParams: true });
  const chunks = dir === 'forward' ? timeChunks(c.T) : timeChunks(c.T).reverse();
  // every chunk's (tStart, tEnd) in one uniform buffer, one bind group for all (Program.paramSlots)
  const slots = prog.paramSlots(k, k.ownBindings(bindings), chunks.map(([tStart, tEnd]) => ({ ...c.params, tStart, tEnd })));
  chunks.forEach((_, i) => prog.dispatchSlot(slots, i, k.groupsFor(c.groups * k.invocations)));
}

/** Validates every shape and option and makes every choice, before anything is recorded. */
function prepareCall(g: Graph, cfg: RnnOpConfig, x: Tensor, w: RnnWeights, h0: Tensor | null, c0: Tensor | null, opts: RnnOptions): RnnCall {
  const [B, T, I] = checkShapes(cfg, x, w, h0, c0);
  const H = cfg.units;
  const want = (t: Tensor | null | undefined, what: string, shape: number[]) => {
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new RangeError(`rnn: ${what} is ${dims(t)}, expected [${shape.join(', ')}] for x ${dims(x)} and ${H} units`);
    }
  };
  want(opts.inputMask, 'the input-dropout mask', [B, I]);
  want(opts.recurrentMask, 'the recurrent-dropout mask', [B, H]);
  want(opts.seqMask, 'the sequence mask', [B, T]);
  const software = g.ctx.gpu.info.isFallbackAdapter;
  const layout = persistentLayout(H, B, software, opts.persistentLayout, cpuAdapter(g.ctx.gpu.info) === 'lavapipe');
  const timeLoop = resolveTimeLoop(cfg, B, software, opts.timeLoop);
  const variant = cellVariant(cfg);
  const recurrentMask = opts.recurrentMask ?? null;
  const seqMask = opts.seqMask ?? null;
  let length = 0;
  const place = (t: Tensor | null): number => {
    const off = length;
    if (t) length += t.size;
    return off;
  };
  const aux = { h0Off: place(h0), c0Off: place(c0), recMaskOff: place(recurrentMask), seqMaskOff: place(seqMask), length: 0 };
  aux.length = length;
  const constants = recurrentConstants(cfg, {
    hasH0: h0 !== null,
    hasC0: c0 !== null,
    hasRecBias: variant === 'gru' && w.bias !== null,
    hasDHSeq: false,
    reverse: opts.reverse ?? false,
    hasRecMask: recurrentMask !== null,
    hasSeqMask: seqMask !== null,
    staged: layout.staged,
    wideRows: layout.rowBlock === 16,
    workgroup: layout.workgroup,
  });
  const { h0Off, c0Off, recMaskOff, seqMaskOff } = aux;
  const inputs = [x, w.kernel, w.recurrentKernel, ...(w.bias ? [w.bias] : []), ...(h0 ? [h0] : []), ...(c0 ? [c0] : [])];
  return {
    cfg, variant, cell: CELLS[variant], x, w, h0, c0, inputs, needsGrad: g.needsGrad(...inputs),
    B, T, I, H, GH: gateCount(cfg.cell) * H,
    reverse: opts.reverse ?? false,
    inputMask: opts.inputMask ?? null,
    recurrentMask,
    seqMask,
    timeLoop,
    groups: Math.ceil(B / layout.rowsPerGroup),
    params: { B, T, H, rowsPerGroup: layout.rowsPerGroup, h0Off, c0Off, recMaskOff, seqMaskOff },
    constants,
    aux,
  };
}

function dims(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/** Checks every shape; returns B, T, I. */
function checkShapes(cfg: RnnOpConfig, x: Tensor, w: RnnWeights, h0: Tensor | null, c0: Tensor | null): [number, number, number] {
  const H = cfg.units;
  const GH = gateCount(cfg.cell) * H;
  if (!Number.isInteger(H) || H < 1) throw new RangeError(`rnn: units must be a positive integer, got ${H}`);
  if (x.shape.length !== 3) throw new RangeError(`rnn: x must be [batch, time, features], got ${dims(x)}`);
  const [B, T, I] = x.shape as [number, number, number];
  if (w.kernel.size !== I * GH) throw new RangeError(`rnn: kernel is ${dims(w.kernel)}, expected [${I}, ${GH}]`);
  if (w.recurrentKernel.size !== H * GH) throw new RangeError(`rnn: recurrentKernel is ${dims(w.recurrentKernel)}, expected [${H}, ${GH}]`);
  const biasSize = cfg.cell === 'gru' && cfg.resetAfter ? 2 * GH : GH;
  if (cfg.useBias !== (w.bias !== null)) throw new RangeError(`rnn: useBias is ${cfg.useBias} but bias is ${w.bias ? 'given' : 'null'}`);
  if (w.bias && w.bias.size !== biasSize) throw new RangeError(`rnn: bias is ${dims(w.bias)}, expected ${biasSize} elements`);
  if (h0 && h0.size !== B * H) throw new RangeError(`rnn: h0 is ${dims(h0)}, expected [${B}, ${H}]`);
  if (c0 && cfg.cell !== 'lstm') throw new RangeError(`rnn: c0 is only meaningful for LSTM (cell is ${cfg.cell})`);
  if (c0 && c0.size !== B * H) throw new RangeError(`rnn: c0 is ${dims(c0)}, expected [${B}, ${H}]`);
  return [B, T, I];
}
