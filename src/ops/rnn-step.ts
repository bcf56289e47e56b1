/**
 * "Strategy A" of docs/kernel-design.md §4.2: the recurrent time loop as one dispatch per time
 * step forward and two per step backward, each dispatch tiled over (batch rows × hidden units),
 * the alternative to the persistent kernels for wide layers on real GPUs. `rnn()` (src/ops/rnn.ts)
 * calls the two recorders below instead of its persistent chunk loops when `rnnStrategy` (or
 * RnnOptions.strategy) says 'step'; everything else of the op — the projection GEMM, the weight
 * gradient GEMMs, the saved tensors and their layouts, the dhCarry / dcCarry initialisation —
 * is shared, and the kernels (the "per-step (hidden-sliced) kernels" section at the end of
 * shaders/rnn.wgsl) reuse the persistent kernels' helpers, so both strategies give the same
 * values for every option (reverse, h0 / c0, recurrent dropout, sequence mask, gradients on any
 * subset of the outputs).
 *
 * Why: a persistent kernel has ceil(B / R) workgroups with R = max(1, ⌊64/H⌋) rows each. For
 * H ≥ 128 that is one workgroup of 64 invocations per batch row, each invocation walking ≥ 2
 * units × H products per step with U re-read from L2/memory for every row; for small B most of
 * a GPU idles. The per-step grid has ceil(H/16)·ceil(B/8) workgroups (LSTM, forward), each
 * walking K = H once per step, with U reused across 8 rows through workgroup memory. The price
 * is T (forward) + 2T (backward) dependent dispatches instead of ⌈T/64⌉ each way, which is
 * exactly what a CPU adapter cannot afford (so software adapters always use the persistent
 * kernels).
 *
 * Tiles (64 invocations per workgroup everywhere; the constants must match rnn.wgsl):
 *   forward    grid (ceil(H / 16), ceil(B / 8)), SimpleRNN (ceil(H / 64), ceil(B / 8)): a workgroup
 *              computes 8 rows × 16 units × G gates of h_{s-1}·U (SimpleRNN: 8 × 64 units, 4 per
 *              vec4) with K = H in chunks of 32; staged per chunk: h_{s-1} ⊙ recMask [8, 32]
 *              (1 KB) and U [32, 16 × vec4] (8 KB) — 9 KB of workgroup memory. Each invocation
 *              keeps 2 rows × 1 unit × 4 gate lanes in registers, then runs the cell epilogue.
 *   backward   (a) B·H invocations, elementwise: dG_s, dcCarry, the no-matmul part of dh_{s-1}.
 *              (b) grid (ceil(H / 32), ceil(B / 8)): 8 rows × 32 units of dGrec_s·Uᵀ, the G·H
 *              dG columns in chunks of 64; staged per chunk: dGrec [8, 64] (2 KB) and Uᵀ [64, 32]
 *              (8 KB) — 10 KB; 2 rows × 2 units per invocation. Uᵀ is the recurrentKernelT copy
 *              rnn() makes for BPTT (its rows are contiguous over units: coalesced staging).
 * 8 rows per tile keeps small batches from wasting most of a tile while each staged U element
 * still feeds 8 rows (2 per invocation × 4 row groups); the K chunks keep the staging under
 * 16 KB (WebGPU's default workgroup-storage limit) with 2 barriers per chunk. K is never split
 * (no float atomics in WGSL).
 *
 * GRU resetAfter=false has no per-step kernels (its candidate needs the whole r*h_{t-1} row before
 * U_h: one more dispatch per step each way); rnnStrategy never picks 'step' for it.
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../autograd/program';
import type { Kernel, ParamValues } from '../gpu/shader';
import type { Tensor } from '../tensor';

/** Invocations per workgroup of the per-step kernels (`PS_WG` in shaders/rnn.wgsl). */
export const STEP_WORKGROUP = 64;
/** Batch rows per tile of every per-step tiled kernel (`PS_ROWS`). */
export const STEP_ROWS = 8;
/** Forward: units per tile and gate (`PS_UNITS`); SimpleRNN packs 4 units per lane: 4× as many. */
export const STEP_UNITS = 16;
/** Backward dh_{s-1} = dG_s·Uᵀ: units per tile (`PS_DH_UNITS`). */
export const STEP_DH_UNITS = 32;

/** The cells with per-step kernels: SimpleRNN, LSTM, GRU with resetAfter = true. */
export type StepCell = 'simpleRNN' | 'lstm' | 'gruAfter';

const ENTRIES: Record<StepCell, { forward: string; backward: string; dh: string }> = {
  simpleRNN: { forward: 'simpleRnnStepForward', backward: 'simpleRnnStepBackward', dh: 'simpleRnnStepDh' },
  lstm: { forward: 'lstmStepForward', backward: 'lstmStepBackward', dh: 'lstmStepDh' },
  gruAfter: { forward: 'gruStepForward', backward: 'gruStepBackward', dh: 'gruStepDh' },
};

/** Layer sizes of one recurrent op: batch rows, time steps, units. */
export interface StepDims {
  B: number;
  T: number;
  H: number;
}

/** The subset of `bindings` that kernel `k` declares (rnn() builds one set for all its kernels). */
function pick(k: Kernel, bindings: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const r of k.resources) {
    if (r.kind === 'uniform') continue;
    const t = bindings[r.name];
    if (!t) throw new Error(`${k.id}: no tensor for binding '${r.name}' (given: ${Object.keys(bindings).join(', ')})`);
    out[r.name] = t;
  }
  return out;
}

function checkWorkgroup(k: Kernel): void {
  if (k.invocations !== STEP_WORKGROUP) throw new Error(`${k.id}: workgroup size ${k.invocations}, expected ${STEP_WORKGROUP}`);
}

/** Workgroup grid (unit tiles, batch tiles) of a tiled per-step kernel. */
function tileGrid(k: Kernel, units: number, unitsPerTile: number, B: number): [number, number, number] {
  const grid: [number, number, number] = [Math.ceil(units / unitsPerTile), Math.ceil(B / STEP_ROWS), 1];
  const max = k.device.limits.maxComputeWorkgroupsPerDimension;
  if (grid[0] > max || grid[1] > max) throw new RangeError(`${k.id}: grid ${grid[0]}×${grid[1]} exceeds the device's ${max} workgroups per dimension`);
  return grid;
}

/**
 * Records the forward recurrence as T dispatches into `prog` (processing steps 0..T-1 in order):
 * step s is `*StepForward` with params tStart = s, tEnd = s + 1. `bindings` and `params` are the
 * ones rnn() gives the persistent forward kernel of the same cell (params without tStart / tEnd),
 * and `constants` its pipeline constants (recurrentConstants).
 */
export async function recordStepForward(
  g: Graph,
  prog: Program,
  cell: StepCell,
  bindings: Record<string, Tensor>,
  params: ParamValues,
  constants: Record<string, number>,
  { B, T, H }: StepDims,
): Promise<void> {
  const k = await g.kernel('rnn', ENTRIES[cell].forward, constants);
  checkWorkgroup(k);
  const b = pick(k, bindings);
  const grid = tileGrid(k, H, cell === 'simpleRNN' ? 4 * STEP_UNITS : STEP_UNITS, B);
  for (let s = 0; s < T; s++) prog.dispatch(k, b, { ...params, tStart: s, tEnd: s + 1 }, grid);
}

/**
 * Records BPTT as 2T dispatches into `prog`, processing steps T-1 down to 0: for step s, (a)
 * `*StepBackward` (B·H invocations: dG_s, dcCarry, the non-matmul part of dh_{s-1}) then (b)
 * `*StepDh` (tiled dh_{s-1} += recMask ⊙ dGrec_s·Uᵀ), both with tStart = s, tEnd = s + 1.
 * `bindings` / `params` are those of the persistent backward kernel (incl. recurrentKernelT,
 * dhCarry / dcCarry initialised by the caller); `constants` theirs (incl. HAS_DH_SEQ).
 */
export async function recordStepBackward(
  g: Graph,
  prog: Program,
  cell: StepCell,
  bindings: Record<string, Tensor>,
  params: ParamValues,
  constants: Record<string, number>,
  { B, T, H }: StepDims,
): Promise<void> {
  const ka = await g.kernel('rnn', ENTRIES[cell].backward, constants);
  const kb = await g.kernel('rnn', ENTRIES[cell].dh, constants);
  checkWorkgroup(ka);
  checkWorkgroup(kb);
  const ba = pick(ka, bindings);
  const bb = pick(kb, bindings);
  const gridA = ka.groupsFor(B * H);
  const gridB = tileGrid(kb, H, STEP_DH_UNITS, B);
  for (let s = T - 1; s >= 0; s--) {
    const p = { ...params, tStart: s, tEnd: s + 1 };
    prog.dispatch(ka, ba, p, gridA);
    prog.dispatch(kb, bb, p, gridB);
  }
}
