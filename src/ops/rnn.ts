/**
 * The recurrent op behind the SimpleRNN, LSTM and GRU layers (Keras 3 semantics and weight
 * layouts), forward and backward (BPTT), differentiable w.r.t. x, the weights and h0 / c0.
 *
 * Layouts (row-major f32; G = gateCount(cell) gate blocks, GH = G*H; column g*H + j of a weight
 * matrix is unit j of gate block g — SimpleRNN: one block; LSTM: i, f, c, o; GRU: z, r, h):
 *   x                 [B, T, I]  batch-major; row (b, t) of a [B*T, ·] matrix is step t of row b
 *   kernel K          [I, GH]
 *   recurrentKernel U [H, GH]
 *   bias              [GH], or [2, GH] for GRU resetAfter (row 0 input bias, row 1 recurrent bias)
 *   hSeq              [B, T, H]  h_t;  hLast, cLast, h0, c0: [B, H]
 *
 * Cell maths (ra = recurrentActivation, act = activation):
 *   SimpleRNN:  h_t = act(x_t·K + b + h_{t-1}·U)
 *   LSTM:       [zi, zf, zc, zo] = x_t·K + b + h_{t-1}·U; i, f, o = ra(z·), g = act(zc)
 *               c_t = f*c_{t-1} + i*g; h_t = o*act(c_t)
 *   GRU after:  [xz, xr, xh] = x_t·K + b[0]; [rz, rr, rh] = h_{t-1}·U + b[1]
 *               z = ra(xz+rz); r = ra(xr+rr); hh = act(xh + r*rh); h_t = z*h_{t-1} + (1-z)*hh
 *   GRU before: z, r as above without b[1]; hh = act(xh + (r*h_{t-1})·U_h); h_t as above
 *
 * Forward:
 *   1. One GEMM for all steps: Gx [B*T, GH] = X·K + input bias, written straight into the
 *      `gates` buffer (SimpleRNN: into hSeq, since its only "gate" is h_t itself).
 *   2. A persistent kernel (shaders/rnn.wgsl) loops over time: a workgroup owns R batch rows and
 *      all H units, adds h_{t-1}·U to the projection, applies the activations, updates c / h and
 *      overwrites the projection in place with the activated gates (what backward needs). T is
 *      split into chunks of at most RNN_CHUNK steps, one dispatch each (GPU watchdogs); h_T / c_T
 *      are copied to hLast / cLast by the step t = T-1.
 * Backward:
 *   3. The reverse persistent kernel (same ownership and chunks, last chunk first) carries dh (and
 *      dc) in [B, H] scratch buffers initialised from the gradients of hLast / cLast, adds the
 *      gradient of hSeq at each step, and writes the pre-activation gradients dG [B, T, GH]
 *      (GRU resetAfter: [B, T, 2, GH], input part then recurrent part, whose column sums are
 *      the [2, 3H] bias gradient directly).
 *   4. Weight gradients as GEMMs over all steps, accumulating:
 *        dK += Xᵀ·dG (K = B*T);  dX += dG·Kᵀ;  dBias += column sums of dG
 *        dU += Σ_{b, t≥1} h_{t-1}ᵀ·dGrec_t (one GEMM through row views; skipped for T = 1)
 *              + h0ᵀ·dGrec_0 (only with a given h0; zeros contribute nothing)
 *        GRU resetAfter=false: the U_h columns use (r*h_{t-1}) instead: dU_h += rhPrevᵀ·dG_h
 *        dh0 += carried dh after step 0;  dc0 += carried dc
 *
 * Saved for backward (the tape's `saved`, see rnnSavedBytes): x, hSeq, and
 *   LSTM: gates [B, T, 4H] + cSeq [B, T, H]
 *   GRU resetAfter:  gates [B, T, 3H] + recH   = h_{t-1}·U_h + b_rec_h [B, T, H]
 *   GRU resetBefore: gates [B, T, 3H] + rhPrev = r_t * h_{t-1} [B, T, H]
 *   SimpleRNN: nothing more (its activated gate is h_t = hSeq)
 * The weights and h0 / c0 are read by backward too but are not listed: they are [·, H]-sized
 * state owned by the caller, not per-step activations (so the total depends on B, T, I, H only).
 *
 * Options (RnnOptions; docs/rnn-features.md has the Keras semantics):
 *   reverse        run time backwards inside the kernels (Bidirectional's backward layer): step s
 *                  reads x_{T-1-s}; hSeq stays in input order; hLast is the state after t = 0.
 *   inputMask      [B, I] input dropout: x ⊙ m (the same m at every step) feeds the projection
 *                  GEMM (the masked copy is what dK reads); dX = m ⊙ (dG·Kᵀ).
 *   recurrentMask  [B, H] recurrent dropout, applied by the recurrent kernels to h_{t-1} where it
 *                  enters h·U; dU uses (h ⊙ m) rows, formed in backward.
 *   seqMask        [B, T] Keras masking (1 use the step, 0 skip it): a skipped step carries h (and
 *                  c) through; its hSeq row is the carried state (the previous output).
 * h0, c0 and the masks reach the kernels packed into one `aux` buffer (copies at the start of the
 * forward program): the LSTM kernels already bind 7 other storage buffers of the 8 allowed.
 *
 * Deviations from docs/kernel-design.md §4.2–4.3 (all deliberate, for memory and simplicity):
 * the projection buffer doubles as the saved-gates buffer (gates overwritten in place); SimpleRNN
 * saves no gates (h_t is its activated gate); act(c_t) is recomputed in backward, not saved; U is
 * read from global memory every step (no on-chip caching yet).
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../autograd/program';
import type { Kernel, ParamValues } from '../gpu/shader';
import { Tensor } from '../tensor';
import { ACTIVATION_CODES, type Activation } from './activations';
import { gemm } from './matmul';
import { accumulateInto, sumRowsInto } from './reduce';
import { recordStepBackward, recordStepForward, type StepCell } from './rnn-step';

export type CellType = 'simpleRNN' | 'lstm' | 'gru';

export interface RnnOpConfig {
  cell: CellType;
  units: number;
  activation: Activation;
  recurrentActivation: Activation;
  /** GRU only: apply the reset gate after the recurrent matmul (Keras 3 default: true). */
  resetAfter: boolean;
  useBias: boolean;
}

export interface RnnWeights {
  /** [I, G*H] */
  kernel: Tensor;
  /** [H, G*H] */
  recurrentKernel: Tensor;
  /** [G*H], or [2, 3H] for GRU resetAfter (row 0 input bias, row 1 recurrent bias); null without bias. */
  bias: Tensor | null;
}

/** Optional behaviour of the recurrent op (see the file header). */
export interface RnnOptions {
  /** Walk time backwards (Bidirectional's backward direction). */
  reverse?: boolean;
  /** [B, I] input-dropout mask (0 or 1/(1-rate)), the same at every step. */
  inputMask?: Tensor | null;
  /** [B, H] recurrent-dropout mask on h_{t-1} in the recurrent matmul. */
  recurrentMask?: Tensor | null;
  /** [B, T] sequence mask: 1 = use the step, 0 = skip it (state carried through). */
  seqMask?: Tensor | null;
  /**
   * Which recurrent kernels run the time loop (see rnnStrategy): 'persistent' (a dispatch per
   * chunk of ≤ RNN_CHUNK steps), 'step' (src/ops/rnn-step.ts: one dispatch per step forward, two
   * backward; not for GRU resetAfter=false) or 'auto' (default: rnnStrategy decides).
   */
  strategy?: 'auto' | RnnStrategy;
  /**
   * Tuning / testing knob of the persistent kernels: batch rows per workgroup (default
   * rnnRowsPerGroup), whether the forward kernels stage h in 8-row blocks (default: on CPU
   * adapters when it fits, see recurrentConstants) and invocations per workgroup (default
   * RNN_WORKGROUP, RNN_WORKGROUP_CPU on CPU adapters). Results do not depend on it.
   */
  persistentLayout?: { rowsPerGroup?: number; staged?: boolean; workgroup?: number };
}

export interface RnnOutputs {
  /** [B, T, H] h_t for every step. */
  hSeq: Tensor;
  /** [B, H] h_T. */
  hLast: Tensor;
  /** [B, H] c_T (LSTM only, else null). */
  cLast: Tensor | null;
}

/** Invocations per workgroup of the persistent recurrent kernels on GPUs (`WG` in shaders/rnn.wgsl). */
export const RNN_WORKGROUP = 64;
/**
 * The same on CPU (software) adapters: a workgroup runs on one thread there, and every idle
 * invocation group still walks each loop body once (SwiftShader), so fewer invocations cost less.
 * Measured (LSTM(20), B=32, T=50, per layer and step): Node + Dawn on Chromium's SwiftShader
 * library forward 22 → 12 ms, BPTT 12 → 5–9 ms with 16 instead of 64; in Chromium itself and on
 * lavapipe, and at H=128, the difference was within the noise.
 */
export const RNN_WORKGROUP_CPU = 16;
/** Most time steps one recurrent dispatch runs (keeps each dispatch short for GPU watchdogs). */
export const RNN_CHUNK = 64;

/** Number of gate blocks: SimpleRNN 1, LSTM 4, GRU 3. */
export function gateCount(cell: CellType): number {
  switch (cell) {
    case 'simpleRNN':
      return 1;
    case 'lstm':
      return 4;
    case 'gru':
      return 3;
  }
}

/** Floats of workgroup memory for the staged h_{t-1} (hSh in rnn.wgsl; 16 KB, the WebGPU default limit). */
export const RNN_STAGE_FLOATS = 4096;
/** Rows per block of the forward recurrent matmul (RB in rnn.wgsl): R is padded to a multiple of it. */
export const RNN_ROW_BLOCK = 8;

/**
 * Batch rows per workgroup R. GPUs want many workgroups: R*H ≈ the workgroup size. CPU (software)
 * adapters run workgroups on a few threads and gain from reusing each load across rows (rnn.wgsl
 * blocks 8 rows per load of U): up to 16 rows, keeping ≥ 2 workgroups when the batch allows and
 * the staged rows (R rounded up to 8, times H) within RNN_STAGE_FLOATS.
 */
export function rnnRowsPerGroup(H: number, B = 1, software = false): number {
  if (!software) return Math.max(1, Math.floor(RNN_WORKGROUP / H));
  const fit = Math.floor(RNN_STAGE_FLOATS / H / RNN_ROW_BLOCK) * RNN_ROW_BLOCK; // most rows that stage
  const want = Math.min(16, Math.max(1, Math.ceil(B / 2)));
  return Math.max(1, fit >= RNN_ROW_BLOCK ? Math.min(want, fit) : Math.floor(RNN_WORKGROUP / H));
}

/** True when the forward kernels stage h_{s-1} of a workgroup's R rows (padded to RNN_ROW_BLOCK) in hSh. */
export function rnnStaged(H: number, R: number): boolean {
  return Math.ceil(R / RNN_ROW_BLOCK) * RNN_ROW_BLOCK * H <= RNN_STAGE_FLOATS;
}

/** The per-layer switches of the recurrent kernels (rnn.wgsl `override`s other than the activations). */
export interface RecurrentSwitches {
  hasH0: boolean;
  hasC0: boolean;
  hasRecBias: boolean;
  hasDHSeq: boolean;
  reverse: boolean;
  hasRecMask: boolean;
  hasSeqMask: boolean;
  staged: boolean;
  /** Invocations per workgroup of the persistent kernels. */
  workgroup: number;
}

/**
 * Pipeline constants for rnn.wgsl's recurrent kernels (persistent and per-step). They are
 * compiled in rather than read from the uniform params so that the compiler drops the options a
 * layer does not use (CPU adapters otherwise execute both sides of every branch).
 */
export function recurrentConstants(cfg: RnnOpConfig, sw: RecurrentSwitches): Record<string, number> {
  const b = (v: boolean) => (v ? 1 : 0);
  return {
    ACT: ACTIVATION_CODES[cfg.activation],
    REC_ACT: ACTIVATION_CODES[cfg.recurrentActivation],
    HAS_H0: b(sw.hasH0),
    HAS_C0: b(sw.hasC0),
    HAS_REC_BIAS: b(sw.hasRecBias),
    HAS_DH_SEQ: b(sw.hasDHSeq),
    REVERSE: b(sw.reverse),
    HAS_REC_MASK: b(sw.hasRecMask),
    HAS_SEQ_MASK: b(sw.hasSeqMask),
    STAGED: b(sw.staged),
    WG: sw.workgroup,
  };
}

// ---------------------------------------------------------------- strategy (persistent / per-step)

/** How a recurrent layer's time loop is dispatched (docs/design.md §6). */
export type RnnStrategy = 'persistent' | 'step';

/** GPUs: 'step' from this many units on (estimate; calibrate with `npm run bench` on a GPU). */
export const STEP_MIN_UNITS = 256;
/** GPUs: 'step' from this many units on when the persistent grid is small (see below). */
export const STEP_MIN_UNITS_SMALL_GRID = 128;
/** GPUs: a persistent grid of fewer workgroups than this counts as small. */
export const STEP_SMALL_GRID = 32;

/**
 * The automatic choice between the persistent kernels and the per-step ones (rnn-step.ts):
 * - software (CPU) adapters: always 'persistent' (dispatches and barriers are expensive there,
 *   and a workgroup per few rows already keeps the few threads busy);
 * - GRU resetAfter=false: always 'persistent' (no per-step kernels);
 * - GPUs: 'step' when H ≥ STEP_MIN_UNITS (each persistent invocation would walk ≥ 4 units × H
 *   products per step, U re-read per row: slower than a dispatch), or when H ≥
 *   STEP_MIN_UNITS_SMALL_GRID and the persistent grid ceil(B / rnnRowsPerGroup) has fewer than
 *   STEP_SMALL_GRID workgroups (most of the GPU idles while each invocation walks ≥ 2 units × H);
 *   otherwise 'persistent' (small H: the whole step fits one cheap workgroup pass per row, and
 *   ⌈T/64⌉ dispatches beat T).
 * The thresholds follow the estimates of docs/kernel-design.md §4.2 ("16H²/β_SM vs t_disp") and
 * are not yet calibrated on a GPU.
 */
export function rnnStrategy(cfg: RnnOpConfig, H: number, B: number, software: boolean): RnnStrategy {
  if (software) return 'persistent';
  if (cfg.cell === 'gru' && !cfg.resetAfter) return 'persistent';
  if (H >= STEP_MIN_UNITS) return 'step';
  if (H >= STEP_MIN_UNITS_SMALL_GRID && Math.ceil(B / rnnRowsPerGroup(H, B, false)) < STEP_SMALL_GRID) return 'step';
  return 'persistent';
}

/** RnnOptions.strategy resolved for this layer; a forced 'step' on GRU resetAfter=false throws. */
function resolveStrategy(cfg: RnnOpConfig, B: number, software: boolean, wanted: RnnOptions['strategy']): RnnStrategy {
  if (wanted === 'persistent') return 'persistent';
  if (wanted === 'step') {
    if (cfg.cell === 'gru' && !cfg.resetAfter) throw new RangeError("rnn: strategy 'step' has no kernels for GRU resetAfter=false (use 'auto' or 'persistent')");
    return 'step';
  }
  if (wanted !== undefined && wanted !== 'auto') throw new RangeError(`rnn: unknown strategy '${String(wanted)}' (expected 'auto', 'persistent' or 'step')`);
  return rnnStrategy(cfg, cfg.units, B, software);
}

/** The chunks [tStart, tEnd) of at most RNN_CHUNK steps covering 0..T-1, in time order. */
function timeChunks(T: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < T; t += RNN_CHUNK) out.push([t, Math.min(T, t + RNN_CHUNK)]);
  return out;
}

/** Extra [B, T, H] tensor saved per cell: LSTM c_t, GRU resetAfter rh, GRU resetBefore r*h_{t-1}. */
function auxName(cfg: RnnOpConfig): string {
  if (cfg.cell === 'lstm') return 'cSeq';
  return cfg.resetAfter ? 'recH' : 'rhPrev';
}

/**
 * Bytes of activations saved for backward per training step by `rnn()` (the sum of the bytes of
 * the tensors it records as `saved`), with G = gateCount(cell), H = cfg.units:
 *   SimpleRNN:  4·B·T·(I + H)            x, hSeq
 *   LSTM:       4·B·T·(I + H + 4H + H)   x, hSeq, gates, cSeq
 *   GRU:        4·B·T·(I + H + 3H + H)   x, hSeq, gates, recH (resetAfter) or rhPrev (resetBefore)
 * i.e. 4·B·T·(I + H) for SimpleRNN and 4·B·T·(I + (G + 2)·H) otherwise. Weights and h0 / c0 are
 * not counted (see the file header).
 */
export function rnnSavedBytes(cfg: RnnOpConfig, B: number, T: number, I: number): number {
  const H = cfg.units;
  const perStep = cfg.cell === 'simpleRNN' ? I + H : I + (gateCount(cfg.cell) + 2) * H;
  return 4 * B * T * perStep;
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

function checkOptions(x: Tensor, H: number, o: RnnOptions): void {
  const [B, T, I] = x.shape as [number, number, number];
  const want = (t: Tensor | null | undefined, what: string, shape: number[]) => {
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new RangeError(`rnn: ${what} is ${dims(t)}, expected [${shape.join(', ')}] for x ${dims(x)} and ${H} units`);
    }
  };
  want(o.inputMask, 'the input-dropout mask', [B, I]);
  want(o.recurrentMask, 'the recurrent-dropout mask', [B, H]);
  want(o.seqMask, 'the sequence mask', [B, T]);
}

const FORWARD_ENTRY: Record<string, string> = {
  simpleRNN: 'simpleRnnForward',
  lstm: 'lstmForward',
  gruAfter: 'gruForward',
  gruBefore: 'gruResetBeforeForward',
};
const BACKWARD_ENTRY: Record<string, string> = {
  simpleRNN: 'simpleRnnBackward',
  lstm: 'lstmBackward',
  gruAfter: 'gruBackward',
  gruBefore: 'gruResetBeforeBackward',
};

function variant(cfg: RnnOpConfig): string {
  if (cfg.cell !== 'gru') return cfg.cell;
  return cfg.resetAfter ? 'gruAfter' : 'gruBefore';
}

/**
 * Runs a recurrent layer over x [B, T, I] from h0 (and c0, LSTM) — null means zeros.
 * Differentiable w.r.t. x, kernel, recurrentKernel, bias, h0, c0 (those with requiresGrad), with
 * gradients arriving on any subset of hSeq, hLast, cLast.
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
  const [B, T, I] = checkShapes(cfg, x, w, h0, c0);
  checkOptions(x, cfg.units, opts);
  // Persistent-kernel layout (checked before anything is recorded).
  const software = g.ctx.gpu.info.isFallbackAdapter;
  const layout = opts.persistentLayout ?? {};
  if (layout.rowsPerGroup !== undefined && !(Number.isInteger(layout.rowsPerGroup) && layout.rowsPerGroup >= 1)) {
    throw new RangeError(`rnn: persistentLayout.rowsPerGroup must be a positive integer, got ${layout.rowsPerGroup}`);
  }
  if (layout.workgroup !== undefined && !(Number.isInteger(layout.workgroup) && layout.workgroup >= 1 && layout.workgroup <= 256)) {
    throw new RangeError(`rnn: persistentLayout.workgroup must be an integer in [1, 256], got ${layout.workgroup}`);
  }
  const R = layout.rowsPerGroup ?? rnnRowsPerGroup(cfg.units, B, software);
  if (layout.staged && !rnnStaged(cfg.units, R)) throw new RangeError(`rnn: persistentLayout.staged: ${R} rows of ${cfg.units} units do not fit the ${RNN_STAGE_FLOATS}-float staging buffer`);
  const strategy = resolveStrategy(cfg, B, software, opts.strategy);
  const reverse = opts.reverse ?? false;
  const inMask = opts.inputMask ?? null;
  const recMask = opts.recurrentMask ?? null;
  const seqMask = opts.seqMask ?? null;
  const H = cfg.units;
  const G = gateCount(cfg.cell);
  const GH = G * H;
  const isLstm = cfg.cell === 'lstm';
  const gruAfter = cfg.cell === 'gru' && cfg.resetAfter;
  const gruBefore = cfg.cell === 'gru' && !cfg.resetAfter;
  const kind = variant(cfg);
  const { kernel, recurrentKernel: U, bias } = w;
  const inputs = [x, kernel, U, ...(bias ? [bias] : []), ...(h0 ? [h0] : []), ...(c0 ? [c0] : [])];
  const needsGrad = g.needsGrad(...inputs);
  // Placeholder for unused read-only bindings (flags in the params say they are not read).
  const none = U;

  // aux = [h0 | c0 | recMask | seqMask] (present parts only), filled by copies each run.
  let auxLen = 0;
  const place = (t: Tensor | null): number => {
    const off = auxLen;
    if (t) auxLen += t.size;
    return off;
  };
  const auxOffsets = { h0Off: place(h0), c0Off: place(c0), recMaskOff: place(recMask), seqMaskOff: place(seqMask) };
  const aux = g.alloc([Math.max(1, auxLen)], 'rnn.aux');
  const parts: [Tensor | null, number][] = [[h0, auxOffsets.h0Off], [c0, auxOffsets.c0Off], [recMask, auxOffsets.recMaskOff], [seqMask, auxOffsets.seqMaskOff]];
  for (const [t, off] of parts) {
    if (t) g.forward.copy(t, new Tensor(aux.buffer, [t.size], aux.byteOffset + off * 4, false, 'rnn.aux part'));
  }

  // Input dropout: the projection (and dK) read xIn = x ⊙ inputMask.
  let xIn = x;
  if (inMask) {
    xIn = g.alloc([B, T, I], 'rnn.xDropped');
    await maskMulInto(g, g.forward, x, inMask, xIn, { T, F: I, sB: I, sT: 0, sF: 1 }, false);
  }

  const hSeq = g.alloc([B, T, H], 'rnn.hSeq', needsGrad); // [B, T, H]
  const hLast = g.alloc([B, H], 'rnn.hLast', needsGrad); // [B, H]
  const cLast = isLstm ? g.alloc([B, H], 'rnn.cLast', needsGrad) : null; // [B, H]
  // [B, T, GH]: the input projection, then (in place) the activated gates. SimpleRNN: hSeq.
  const gates = cfg.cell === 'simpleRNN' ? hSeq : g.alloc([B, T, GH], 'rnn.gates');
  // [B, T, H]: LSTM c_t / GRU resetAfter rh / GRU resetBefore r*h_{t-1}.
  const seqAux = cfg.cell === 'simpleRNN' ? null : g.alloc([B, T, H], `rnn.${auxName(cfg)}`);

  // (1) Gx [B*T, GH] = X [B*T, I] · K [I, GH] + input bias (GRU resetAfter: row 0 of bias).
  await gemm(g, g.forward, {
    M: B * T,
    N: GH,
    K: I,
    a: { t: xIn, rowStride: I },
    b: { t: kernel, rowStride: GH },
    c: { t: gates, rowStride: GH },
    ...(bias ? { bias: { t: bias, off: 0 } } : {}),
  });

  // (2) The recurrent time loop, one dispatch per chunk of steps.
  const groups = Math.ceil(B / R);
  const baseParams = { B, T, H, rowsPerGroup: R, ...auxOffsets };
  // Pipeline constants (rnn.wgsl `override`s): the per-layer switches, compiled into the kernels.
  const constants = recurrentConstants(cfg, {
    hasH0: h0 !== null,
    hasC0: c0 !== null,
    hasRecBias: gruAfter && bias !== null,
    reverse,
    hasRecMask: recMask !== null,
    hasSeqMask: seqMask !== null,
    // CPU adapters: stage 8-row blocks (each U load feeds 8 rows). GPUs: one (row, unit) per
    // invocation (R = ⌊64/H⌋ rows would be padded to 8 in the blocked path, and one invocation
    // walking 4 units × 8 rows serialises what a GPU runs in parallel).
    staged: layout.staged ?? (software && rnnStaged(H, R)),
    workgroup: layout.workgroup ?? (software ? RNN_WORKGROUP_CPU : RNN_WORKGROUP),
    hasDHSeq: false,
  });
  const kFwd = await g.kernel('rnn', FORWARD_ENTRY[kind]!, constants);
  const fwdBindings: Record<string, Tensor> = { recurrentKernel: U, aux, hSeq, hLast };
  if (isLstm) Object.assign(fwdBindings, { gates, cSeq: seqAux!, cLast: cLast! });
  if (gruAfter) Object.assign(fwdBindings, { gates, bias: bias ?? none, recH: seqAux! });
  if (gruBefore) Object.assign(fwdBindings, { gates, rhPrev: seqAux! });
  // ---- strategy: persistent chunks, or one dispatch per step (rnn-step.ts; see rnnStrategy)
  if (strategy === 'step') {
    await recordStepForward(g, g.forward, kind as StepCell, fwdBindings, baseParams, constants, { B, T, H });
  } else {
    for (const [tStart, tEnd] of timeChunks(T)) {
      dispatchRecurrent(g.forward, kFwd, fwdBindings, { ...baseParams, tStart, tEnd }, groups);
    }
  }
  // ---- end strategy

  if (!needsGrad) return { hSeq, hLast, cLast };

  const saved = [xIn, hSeq, ...(gates !== hSeq ? [gates] : []), ...(seqAux ? [seqAux] : [])];
  g.record({
    name: `rnn.${kind}${reverse ? '.reverse' : ''}`,
    inputs,
    outputs: cLast ? [hSeq, hLast, cLast] : [hSeq, hLast],
    saved,
    backward: async () => {
      const dHSeq = g.gradIfAny(hSeq); // [B, T, H]
      const dHLast = g.gradIfAny(hLast); // [B, H]
      const dCLast = cLast ? g.gradIfAny(cLast) : null; // [B, H]
      if (!dHSeq && !dHLast && !dCLast) return;
      const bp = g.backwardProgram;

      // (3) BPTT. Row stride of dG: GH, or 2*GH for GRU resetAfter ([input part | recurrent part]).
      const dgStride = gruAfter ? 2 * GH : GH;
      const dG = g.alloc(gruAfter ? [B, T, 2, GH] : [B, T, GH], 'rnn.dG'); // fully written by the kernel
      const dhCarry = g.alloc([B, H], 'rnn.dhCarry'); // [B, H]
      if (dHLast) bp.copy(dHLast, dhCarry);
      else bp.clear(dhCarry);
      let dcCarry: Tensor | null = null; // [B, H], LSTM
      if (isLstm) {
        dcCarry = g.alloc([B, H], 'rnn.dcCarry');
        if (dCLast) bp.copy(dCLast, dcCarry);
        else bp.clear(dcCarry);
      }
      // Uᵀ [GH, H] for the BPTT kernels' dG·Uᵀ (consecutive invocations read consecutive
      // addresses); remade every step since U changes.
      const UT = g.alloc([GH, H], 'rnn.recurrentKernelT');
      bp.dispatch(await g.kernel('rnn', 'transposeU'), { recurrentKernel: U, transposeOut: UT }, { rows: H, cols: GH }, H * GH);
      const bwdConstants = { ...constants, HAS_DH_SEQ: dHSeq !== null ? 1 : 0 };
      const kBwd = await g.kernel('rnn', BACKWARD_ENTRY[kind]!, bwdConstants);
      const bwdBindings: Record<string, Tensor> = { recurrentKernelT: UT, aux, dHSeq: dHSeq ?? none, dG, dhCarry };
      if (cfg.cell === 'simpleRNN') Object.assign(bwdBindings, { hSeq });
      if (isLstm) Object.assign(bwdBindings, { gates, cSeq: seqAux!, dcCarry: dcCarry! });
      if (gruAfter) Object.assign(bwdBindings, { gates, hSeq, recH: seqAux! });
      if (gruBefore) Object.assign(bwdBindings, { gates, hSeq });
      // ---- strategy (as in forward)
      if (strategy === 'step') {
        await recordStepBackward(g, bp, kind as StepCell, bwdBindings, baseParams, bwdConstants, { B, T, H });
      } else {
        for (const [tStart, tEnd] of timeChunks(T).reverse()) {
          dispatchRecurrent(bp, kBwd, bwdBindings, { ...baseParams, tStart, tEnd }, groups);
        }
      }
      // ---- end strategy

      // (4) Gradients of the weights, x and the initial state, as GEMMs over all steps.
      if (kernel.requiresGrad) {
        // dK [I, GH] += Xᵀ (X stored [B*T, I]) · dG [B*T, GH]
        await gemm(g, bp, {
          M: I, N: GH, K: B * T, transA: true, accumulate: true,
          a: { t: xIn, rowStride: I },
          b: { t: dG, rowStride: dgStride },
          c: { t: g.grad(kernel), rowStride: GH },
        });
      }
      if (U.requiresGrad) {
        const dU = g.grad(U); // [H, GH]
        const recOff = gruAfter ? GH : 0; // column of the recurrent-part gradients in a dG row
        const nH = gruBefore ? 2 * H : GH; // columns of U multiplied by h_{t-1} (GRU resetBefore: z, r)
        // The h that multiplied U: hSeq (and h0) ⊙ recurrentMask with recurrent dropout.
        let hRows = hSeq;
        let h0Rows = h0;
        if (recMask) {
          hRows = g.alloc([B, T, H], 'rnn.hDropped');
          await maskMulInto(g, bp, hSeq, recMask, hRows, { T, F: H, sB: H, sT: 0, sF: 1 }, false);
          if (h0) {
            h0Rows = g.alloc([B, H], 'rnn.h0Dropped');
            await maskMulInto(g, bp, h0, recMask, h0Rows, { T: 1, F: H, sB: H, sT: 0, sF: 1 }, false);
          }
        }
        if (T > 1) {
          // dU[:, :nH] += Σ_{b, s≥1} h_{s-1}ᵀ · dGrec_s. Forward: rows (b, t-1) of hSeq against
          // rows (b, t) of dG; reversed: rows (b, t+1) against rows (b, t), t < T-1.
          await gemm(g, bp, {
            M: H, N: nH, K: B * (T - 1), transA: true, accumulate: true,
            a: { t: hRows, off: reverse ? H : 0, inner: T - 1, outer: T * H, rowStride: H },
            b: { t: dG, off: (reverse ? 0 : dgStride) + recOff, inner: T - 1, outer: T * dgStride, rowStride: dgStride },
            c: { t: dU, rowStride: GH },
          });
        }
        if (h0Rows) {
          // dU[:, :nH] += h0ᵀ [H, B] · dGrec of the first processed step (time 0, or T-1 reversed)
          await gemm(g, bp, {
            M: H, N: nH, K: B, transA: true, accumulate: true,
            a: { t: h0Rows, rowStride: H },
            b: { t: dG, off: (reverse ? (T - 1) * dgStride : 0) + recOff, rowStride: T * dgStride },
            c: { t: dU, rowStride: GH },
          });
        }
        if (gruBefore) {
          // dU_h [H, H] (columns 2H..3H of dU) += (r*(h_{t-1} ⊙ m))ᵀ [H, B*T] · dG_h [B*T, H]
          await gemm(g, bp, {
            M: H, N: H, K: B * T, transA: true, accumulate: true,
            a: { t: seqAux!, rowStride: H },
            b: { t: dG, off: 2 * H, rowStride: GH },
            c: { t: dU, off: 2 * H, rowStride: GH },
          });
        }
      }
      // dBias [GH] (GRU resetAfter: [2, GH]) += column sums of dG over the B*T rows
      if (bias?.requiresGrad) await sumRowsInto(g, bp, dG, B * T, dgStride, g.grad(bias), true);
      if (x.requiresGrad) {
        // dX [B*T, I] += dG [B*T, GH] · Kᵀ (K stored [I, GH]); with input dropout into a scratch
        // dXIn first, then dX += dXIn ⊙ inputMask.
        const dXIn = inMask ? g.alloc([B, T, I], 'rnn.dXDropped') : g.grad(x);
        await gemm(g, bp, {
          M: B * T, N: I, K: GH, transB: true, accumulate: !inMask,
          a: { t: dG, rowStride: dgStride },
          b: { t: kernel, rowStride: GH },
          c: { t: dXIn, rowStride: I },
        });
        if (inMask) await maskMulInto(g, bp, dXIn, inMask, g.grad(x), { T, F: I, sB: I, sT: 0, sF: 1 }, true);
      }
      if (h0?.requiresGrad) await accumulateInto(g, bp, dhCarry, g.grad(h0));
      if (c0?.requiresGrad && dcCarry) await accumulateInto(g, bp, dcCarry, g.grad(c0));
    },
  });
  return { hSeq, hLast, cLast };
}

/** One chunk of the recurrent loop: ceil(B / R) workgroups (of the WG invocations the kernel was built with). */
function dispatchRecurrent(prog: Program, k: Kernel, bindings: Record<string, Tensor>, params: ParamValues, groups: number): void {
  prog.dispatch(k, bindings, params, k.groupsFor(groups * k.invocations));
}

// ---------------------------------------------------------------- sequence helpers (rnn.wgsl)

interface MaskLayout {
  /** x is viewed as [B, T, F]; the mask element of (b, t, f) is b*sB + t*sT + f*sF. */
  T: number;
  F: number;
  sB: number;
  sT: number;
  sF: number;
}

/** Records out (+)= x ⊙ broadcast(mask) (not differentiable; the building block of the ops below). */
export async function maskMulInto(g: Graph, prog: Program, x: Tensor, mask: Tensor, out: Tensor, l: MaskLayout, accumulate: boolean): Promise<void> {
  if (out.size !== x.size) throw new RangeError(`maskMul: ${x.name} has ${x.size} elements, ${out.name} has ${out.size}`);
  const k = await g.kernel('rnn', 'maskMul');
  prog.dispatch(k, { mulIn: x, mulMask: mask, mulOut: out }, { n: x.size, T: l.T, F: l.F, sB: l.sB, sT: l.sT, sF: l.sF, accumulate }, x.size);
}

/**
 * y = x ⊙ broadcast(mask), differentiable in x (dx += dy ⊙ mask); the mask is a constant. For x
 * [B, T, F]: a [B, T] mask (per step) or a [B, F] mask (per feature, the same at every step).
 */
export async function applyMask(g: Graph, x: Tensor, mask: Tensor, per: 'step' | 'feature', name = 'applyMask'): Promise<Tensor> {
  if (x.shape.length !== 3) throw new RangeError(`${name}: expects [batch, time, features], got ${dims(x)}`);
  const [B, T, F] = x.shape as [number, number, number];
  const want = per === 'step' ? [B, T] : [B, F];
  if (mask.size !== want[0]! * want[1]!) throw new RangeError(`${name}: mask is ${dims(mask)}, expected [${want.join(', ')}] for input ${dims(x)}`);
  const l: MaskLayout = per === 'step' ? { T, F, sB: T, sT: 1, sF: 0 } : { T, F, sB: F, sT: 0, sF: 1 };
  const y = g.alloc(x.shape, name, g.needsGrad(x));
  await maskMulInto(g, g.forward, x, mask, y, l, false);
  if (g.needsGrad(x)) {
    g.record({
      name,
      inputs: [x],
      outputs: [y],
      saved: [],
      backward: async () => {
        const dy = g.gradIfAny(y);
        if (dy) await maskMulInto(g, g.backwardProgram, dy, mask, g.grad(x), l, true);
      },
    });
  }
  return y;
}

/** Keras Masking's step mask of x [B, T, F]: [B, T], 1 where any feature differs from maskValue. */
export async function stepMask(g: Graph, x: Tensor, maskValue: number): Promise<Tensor> {
  if (x.shape.length !== 3) throw new RangeError(`stepMask: expects [batch, time, features], got ${dims(x)}`);
  const [B, T, F] = x.shape as [number, number, number];
  const m = g.alloc([B, T], 'stepMask');
  const k = await g.kernel('rnn', 'stepMask');
  g.forward.dispatch(k, { stepIn: x, stepMaskOut: m }, { rows: B * T, F, maskValue }, B * T);
  return m;
}

/**
 * Records a fresh dropout mask into `out` (values 0 or 1/(1-rate), Keras scaling) from a hash of
 * (seed, stream, rngState[0]). The counter is advanced by `advanceRng` (once per step, after all
 * of the step's masks were drawn).
 */
export async function dropoutMask(g: Graph, out: Tensor, rate: number, seed: number, stream: number, rngState: GPUBuffer): Promise<void> {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`dropoutMask: rate must be in (0, 1), got ${rate}`);
  const k = await g.kernel('rnn', 'dropoutMask');
  g.forward.dispatch(k, { rngState: { buffer: rngState, offset: 0, size: 16 }, maskOut: out }, { n: out.size, rate, scale: 1 / (1 - rate), seed: seed >>> 0, stream }, out.size);
}

/** Records rngState[0] += 1 (a new set of dropout masks for the next step). */
export async function advanceRng(g: Graph, rngState: GPUBuffer): Promise<void> {
  const k = await g.kernel('rnn', 'rngAdvance');
  g.forward.dispatch(k, { rngState: { buffer: rngState, offset: 0, size: 16 } }, {}, [1, 1, 1]);
}

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';
const MERGE_CODES: Record<MergeMode, number> = { concat: 0, sum: 1, mul: 2, ave: 3 };

/**
 * Bidirectional's merge of the forward output a and the backward output b (same shape [..., H]):
 * concat → [..., 2H]; sum; mul; ave. With `mask` ([rows] = all dims but the last) both are
 * multiplied by it first (Keras zeroes masked steps' outputs inside Bidirectional). Differentiable.
 */
export async function bidirectionalMerge(g: Graph, a: Tensor, b: Tensor, mode: MergeMode, mask: Tensor | null, name = 'bidirectional'): Promise<Tensor> {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${name}: forward output ${dims(a)} and backward output ${dims(b)} differ`);
  }
  const H = a.shape[a.shape.length - 1]!;
  const rows = a.size / H;
  if (mask && mask.size !== rows) throw new RangeError(`${name}: mask is ${dims(mask)}, expected ${rows} elements for outputs ${dims(a)}`);
  const outShape = mode === 'concat' ? [...a.shape.slice(0, -1), 2 * H] : [...a.shape];
  const y = g.alloc(outShape, name, g.needsGrad(a, b));
  const params = { n: rows * H, H, mode: MERGE_CODES[mode], hasMask: mask !== null };
  const k = await g.kernel('rnn', 'bidirectionalMerge');
  g.forward.dispatch(k, { mergeA: a, mergeB: b, mergeMask: mask ?? a, merged: y }, params, rows * H);
  if (g.needsGrad(a, b)) {
    g.record({
      name,
      inputs: [a, b],
      outputs: [y],
      saved: mode === 'mul' ? [a, b] : [],
      backward: async () => {
        const dy = g.gradIfAny(y);
        if (!dy) return;
        const kb = await g.kernel('rnn', 'bidirectionalMergeBackward');
        // Both gradients are written by one dispatch: scratch stands in for one that is not wanted.
        const da = a.requiresGrad ? g.grad(a) : g.alloc(a.shape, `${name}/da (unused)`);
        const db = b.requiresGrad ? g.grad(b) : g.alloc(b.shape, `${name}/db (unused)`);
        g.backwardProgram.dispatch(kb, { mergeA: a, mergeB: b, mergeMask: mask ?? a, dMerged: dy, dMergeA: da, dMergeB: db }, params, rows * H);
      },
    });
  }
  return y;
}

/** Step t of a sequence x [B, T, F], as [B, F]. Differentiable (dx[:, t] += dy). */
export async function takeStep(g: Graph, x: Tensor, t: number): Promise<Tensor> {
  const [B, T, F] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || !(t >= 0 && t < T)) throw new RangeError(`takeStep: step ${t} of ${dims(x)}`);
  const y = g.alloc([B, F], `x[:, ${t}]`, g.needsGrad(x));
  const params = { n: B * F, T, F, t, accumulate: false };
  g.forward.dispatch(await g.kernel('rnn', 'takeStep'), { sliceSrc: x, sliceDst: y }, params, B * F);
  if (g.needsGrad(x)) {
    g.record({
      name: 'takeStep',
      inputs: [x],
      outputs: [y],
      saved: [],
      backward: async () => {
        const dy = g.gradIfAny(y);
        if (dy) g.backwardProgram.dispatch(await g.kernel('rnn', 'putStep'), { sliceSrc: dy, sliceDst: g.grad(x) }, { ...params, accumulate: true }, B * F);
      },
    });
  }
  return y;
}

/**
 * Writes step values h [B, F] into row t of seq [B, T, F] (seq allocated by the caller, every step
 * written once). Differentiable in h (dh += dseq[:, t]).
 */
export async function putStep(g: Graph, h: Tensor, seq: Tensor, t: number): Promise<void> {
  const [B, T, F] = seq.shape as [number, number, number];
  if (seq.shape.length !== 3 || h.size !== B * F || !(t >= 0 && t < T)) throw new RangeError(`putStep: cannot write ${dims(h)} at step ${t} of ${dims(seq)}`);
  const params = { n: B * F, T, F, t, accumulate: false };
  g.forward.dispatch(await g.kernel('rnn', 'putStep'), { sliceSrc: h, sliceDst: seq }, params, B * F);
  if (g.needsGrad(h)) {
    g.record({
      name: 'putStep',
      inputs: [h],
      outputs: [seq],
      saved: [],
      backward: async () => {
        const dseq = g.gradIfAny(seq);
        if (dseq) g.backwardProgram.dispatch(await g.kernel('rnn', 'takeStep'), { sliceSrc: dseq, sliceDst: g.grad(h) }, { ...params, accumulate: true }, B * F);
      },
    });
  }
}
