/**
 * The per-step time loop (timeLoop 'step', shaders/rnn-step.wgsl): one dispatch per time step
 * forward and two per step backward, each tiled over (batch rows × hidden units) — for wide
 * layers on real GPUs, where the persistent grid of ⌈B/R⌉ workgroups leaves most of the GPU idle.
 * `rnn()` (rnn.ts) calls these recorders instead of its persistent chunk loop; everything else of
 * the op (projection, weight-gradient GEMMs, saved tensors, carries) is shared, and so are the
 * cell maths, so both time loops give the same values. Tile sizes: RNN_TILES (wgsl-constants.ts).
 * A kernel's T dispatches share one bind group: the step's params sit in one uniform buffer and
 * each dispatch binds its slot by dynamic offset (Program.paramSlots), so nothing grows with T
 * but that buffer (256 bytes a step).
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../gpu/program';
import type { ShaderName } from '../gpu/kernels';
import type { Kernel, ParamValues } from '../gpu/shader';
import type { Tensor } from '../tensor';
import { RNN_TILES } from '../gpu/wgsl-constants';

/** Layer sizes of one recurrent op: batch rows, time steps, units. */
export interface StepDims {
  B: number;
  T: number;
  H: number;
}

/** Workgroup grid (unit tiles, batch tiles) of a tiled per-step kernel. */
function tileGrid(k: Kernel, units: number, unitsPerTile: number, B: number): [number, number, number] {
  const grid: [number, number, number] = [Math.ceil(units / unitsPerTile), Math.ceil(B / RNN_TILES.stepRows), 1];
  const max = k.device.limits.maxComputeWorkgroupsPerDimension;
  if (grid[0] > max || grid[1] > max) throw new RangeError(`${k.id}: grid ${grid[0]}×${grid[1]} exceeds the device's ${max} workgroups per dimension`);
  return grid;
}

/**
 * Records the forward recurrence as T dispatches of the cell's `stepForward` into `prog`
 * (processing steps 0..T-1 in order, params tStart = s, tEnd = s + 1). `packed`: SimpleRNN,
 * whose tiles hold 4× the units. `bindings`, `params` (without tStart / tEnd) and `constants` are
 * the persistent forward kernel's.
 */
export async function recordStepForward(
  g: Graph,
  prog: Program,
  shader: ShaderName,
  packed: boolean,
  bindings: Record<string, Tensor>,
  params: ParamValues,
  constants: Record<string, number>,
  { B, T, H }: StepDims,
): Promise<void> {
  const k = await g.kernel(shader, 'stepForward', constants, { dynamicParams: true });
  const grid = tileGrid(k, H, (packed ? 4 : 1) * RNN_TILES.stepUnits, B);
  const slots = prog.paramSlots(k, k.ownBindings(bindings), stepParams(params, T));
  for (let s = 0; s < T; s++) prog.dispatchSlot(slots, s, grid);
}

/**
 * Records BPTT as 2T dispatches into `prog`, processing steps T-1 down to 0: for step s, (a)
 * `stepBackward` (B·H invocations: dG_s, dcCarry, the non-matmul part of dh_{s-1}) then (b)
 * `stepDh` (tiled dh_{s-1} (+)= recMask ⊙ dGrec_s·Uᵀ), both with tStart = s, tEnd = s + 1.
 * `bindings` / `params` / `constants` are the persistent backward kernel's (incl. recurrentKernelT,
 * dhCarry / dcCarry initialised by the caller, HAS_DH_SEQ).
 */
export async function recordStepBackward(
  g: Graph,
  prog: Program,
  shader: ShaderName,
  bindings: Record<string, Tensor>,
  params: ParamValues,
  constants: Record<string, number>,
  { B, T, H }: StepDims,
): Promise<void> {
  const ka = await g.kernel(shader, 'stepBackward', constants, { dynamicParams: true });
  const kb = await g.kernel(shader, 'stepDh', constants, { dynamicParams: true });
  const gridA = ka.groupsFor(B * H);
  const gridB = tileGrid(kb, H, RNN_TILES.stepDhUnits, B);
  const sa = prog.paramSlots(ka, ka.ownBindings(bindings), stepParams(params, T));
  const sb = prog.paramSlots(kb, kb.ownBindings(bindings), stepParams(params, T));
  for (let s = T - 1; s >= 0; s--) {
    prog.dispatchSlot(sa, s, gridA);
    prog.dispatchSlot(sb, s, gridB);
  }
}

/** Step s's params (tStart = s, tEnd = s + 1) for s = 0..T-1: one uniform slot each, one bind group for all. */
function stepParams(params: ParamValues, T: number): ParamValues[] {
  return Array.from({ length: T }, (_, s) => ({ ...params, tStart: s, tEnd: s + 1 }));
}
