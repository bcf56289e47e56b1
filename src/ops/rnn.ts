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
 * Deviations from docs/kernel-design.md §4.2–4.3 (all deliberate, for memory and simplicity):
 * the projection buffer doubles as the saved-gates buffer (gates overwritten in place); SimpleRNN
 * saves no gates (h_t is its activated gate); act(c_t) is recomputed in backward, not saved; U is
 * read from global memory every step (no on-chip caching yet).
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../autograd/program';
import type { Kernel, ParamValues } from '../gpu/shader';
import type { Tensor } from '../tensor';
import { ACTIVATION_CODES, type Activation } from './activations';
import { gemm } from './matmul';
import { accumulateInto, sumRowsInto } from './reduce';

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

export interface RnnOutputs {
  /** [B, T, H] h_t for every step. */
  hSeq: Tensor;
  /** [B, H] h_T. */
  hLast: Tensor;
  /** [B, H] c_T (LSTM only, else null). */
  cLast: Tensor | null;
}

/** Invocations per workgroup of the recurrent kernels (`WG` in shaders/rnn.wgsl). */
export const RNN_WORKGROUP = 64;
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

/** Batch rows per workgroup: R*H ≈ the workgroup size, at least 1. */
export function rnnRowsPerGroup(H: number): number {
  return Math.max(1, Math.floor(RNN_WORKGROUP / H));
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
): Promise<RnnOutputs> {
  const [B, T, I] = checkShapes(cfg, x, w, h0, c0);
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

  const hSeq = g.alloc([B, T, H], 'rnn.hSeq', needsGrad); // [B, T, H]
  const hLast = g.alloc([B, H], 'rnn.hLast', needsGrad); // [B, H]
  const cLast = isLstm ? g.alloc([B, H], 'rnn.cLast', needsGrad) : null; // [B, H]
  // [B, T, GH]: the input projection, then (in place) the activated gates. SimpleRNN: hSeq.
  const gates = cfg.cell === 'simpleRNN' ? hSeq : g.alloc([B, T, GH], 'rnn.gates');
  // [B, T, H]: LSTM c_t / GRU resetAfter rh / GRU resetBefore r*h_{t-1}.
  const aux = cfg.cell === 'simpleRNN' ? null : g.alloc([B, T, H], `rnn.${auxName(cfg)}`);

  // (1) Gx [B*T, GH] = X [B*T, I] · K [I, GH] + input bias (GRU resetAfter: row 0 of bias).
  await gemm(g, g.forward, {
    M: B * T,
    N: GH,
    K: I,
    a: { t: x, rowStride: I },
    b: { t: kernel, rowStride: GH },
    c: { t: gates, rowStride: GH },
    ...(bias ? { bias: { t: bias, off: 0 } } : {}),
  });

  // (2) The recurrent time loop, one dispatch per chunk of steps.
  const R = rnnRowsPerGroup(H);
  const groups = Math.ceil(B / R);
  const baseParams = {
    B,
    T,
    H,
    rowsPerGroup: R,
    act: ACTIVATION_CODES[cfg.activation],
    recAct: ACTIVATION_CODES[cfg.recurrentActivation],
    hasH0: h0 !== null,
    hasC0: c0 !== null,
    hasRecBias: gruAfter && bias !== null,
  };
  const kFwd = await g.kernel('rnn', FORWARD_ENTRY[kind]!);
  const fwdBindings: Record<string, Tensor> = { recurrentKernel: U, h0: h0 ?? none, hSeq, hLast };
  if (isLstm) Object.assign(fwdBindings, { gates, c0: c0 ?? none, cSeq: aux!, cLast: cLast! });
  if (gruAfter) Object.assign(fwdBindings, { gates, bias: bias ?? none, recH: aux! });
  if (gruBefore) Object.assign(fwdBindings, { gates, rhPrev: aux! });
  for (const [tStart, tEnd] of timeChunks(T)) {
    dispatchRecurrent(g.forward, kFwd, fwdBindings, { ...baseParams, tStart, tEnd, hasDHSeq: false }, groups);
  }

  if (!needsGrad) return { hSeq, hLast, cLast };

  const saved = [x, hSeq, ...(gates !== hSeq ? [gates] : []), ...(aux ? [aux] : [])];
  g.record({
    name: `rnn.${kind}`,
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
      const kBwd = await g.kernel('rnn', BACKWARD_ENTRY[kind]!);
      const bwdBindings: Record<string, Tensor> = { recurrentKernel: U, dHSeq: dHSeq ?? none, dG, dhCarry };
      if (cfg.cell === 'simpleRNN') Object.assign(bwdBindings, { hSeq });
      if (isLstm) Object.assign(bwdBindings, { gates, cSeq: aux!, c0: c0 ?? none, dcCarry: dcCarry! });
      if (gruAfter) Object.assign(bwdBindings, { gates, hSeq, h0: h0 ?? none, recH: aux! });
      if (gruBefore) Object.assign(bwdBindings, { gates, hSeq, h0: h0 ?? none });
      for (const [tStart, tEnd] of timeChunks(T).reverse()) {
        dispatchRecurrent(bp, kBwd, bwdBindings, { ...baseParams, tStart, tEnd, hasDHSeq: dHSeq !== null }, groups);
      }

      // (4) Gradients of the weights, x and the initial state, as GEMMs over all steps.
      if (kernel.requiresGrad) {
        // dK [I, GH] += Xᵀ (X stored [B*T, I]) · dG [B*T, GH]
        await gemm(g, bp, {
          M: I, N: GH, K: B * T, transA: true, accumulate: true,
          a: { t: x, rowStride: I },
          b: { t: dG, rowStride: dgStride },
          c: { t: g.grad(kernel), rowStride: GH },
        });
      }
      if (U.requiresGrad) {
        const dU = g.grad(U); // [H, GH]
        const recOff = gruAfter ? GH : 0; // column of the recurrent-part gradients in a dG row
        const nH = gruBefore ? 2 * H : GH; // columns of U multiplied by h_{t-1} (GRU resetBefore: z, r)
        if (T > 1) {
          // dU[:, :nH] += Σ_{b, t≥1} h_{t-1}ᵀ · dGrec_t: rows (b, t-1) of hSeq against rows (b, t) of dG
          await gemm(g, bp, {
            M: H, N: nH, K: B * (T - 1), transA: true, accumulate: true,
            a: { t: hSeq, off: 0, inner: T - 1, outer: T * H, rowStride: H },
            b: { t: dG, off: dgStride + recOff, inner: T - 1, outer: T * dgStride, rowStride: dgStride },
            c: { t: dU, rowStride: GH },
          });
        }
        if (h0) {
          // dU[:, :nH] += h0ᵀ [H, B] · dGrec_0 (row b at (b*T)*dgStride)
          await gemm(g, bp, {
            M: H, N: nH, K: B, transA: true, accumulate: true,
            a: { t: h0, rowStride: H },
            b: { t: dG, off: recOff, rowStride: T * dgStride },
            c: { t: dU, rowStride: GH },
          });
        }
        if (gruBefore) {
          // dU_h [H, H] (columns 2H..3H of dU) += (r*h_{t-1})ᵀ [H, B*T] · dG_h [B*T, H]
          await gemm(g, bp, {
            M: H, N: H, K: B * T, transA: true, accumulate: true,
            a: { t: aux!, rowStride: H },
            b: { t: dG, off: 2 * H, rowStride: GH },
            c: { t: dU, off: 2 * H, rowStride: GH },
          });
        }
      }
      // dBias [GH] (GRU resetAfter: [2, GH]) += column sums of dG over the B*T rows
      if (bias?.requiresGrad) await sumRowsInto(g, bp, dG, B * T, dgStride, g.grad(bias), true);
      if (x.requiresGrad) {
        // dX [B*T, I] += dG [B*T, GH] · Kᵀ (K stored [I, GH])
        await gemm(g, bp, {
          M: B * T, N: I, K: GH, transB: true, accumulate: true,
          a: { t: dG, rowStride: dgStride },
          b: { t: kernel, rowStride: GH },
          c: { t: g.grad(x), rowStride: I },
        });
      }
      if (h0?.requiresGrad) await accumulateInto(g, bp, dhCarry, g.grad(h0));
      if (c0?.requiresGrad && dcCarry) await accumulateInto(g, bp, dcCarry, g.grad(c0));
    },
  });
  return { hSeq, hLast, cLast };
}

/** One chunk of the recurrent loop: ceil(B / R) workgroups of RNN_WORKGROUP invocations. */
function dispatchRecurrent(prog: Program, k: Kernel, bindings: Record<string, Tensor>, params: ParamValues, groups: number): void {
  if (k.invocations !== RNN_WORKGROUP) throw new Error(`${k.id}: workgroup size ${k.invocations}, expected ${RNN_WORKGROUP}`);
  prog.dispatch(k, bindings, params, k.groupsFor(groups * RNN_WORKGROUP));
}
