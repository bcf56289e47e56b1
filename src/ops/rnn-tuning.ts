/**
 * How the recurrent op maps a layer onto the GPU, chosen per layer before anything is recorded:
 * the time loop ('persistent' kernels, a dispatch per chunk of steps, or 'step' kernels, a
 * dispatch per step), the persistent kernels' rows per workgroup, staging and workgroup size, and
 * the pipeline constants that compile a layer's options into its kernels. The numbers behind
 * these choices are measured in docs/performance.md; the GPU thresholds are not yet calibrated.
 */
import { ACTIVATION_CODES } from './activations';
import { RNN_TILES } from '../gpu/wgsl-constants';
import { cellVariant, CELLS, type RnnOpConfig } from './rnn-cells';

/** How a recurrent layer's time loop is dispatched (docs/design.md §6.1). */
export type TimeLoop = 'persistent' | 'step';

/** Invocations per workgroup of the persistent kernels on GPUs (`WG` in shaders/rnn-common.wgsl). */
export const RNN_WORKGROUP = 64;
/**
 * The same on CPU (software) adapters: a workgroup runs on one thread there, and every idle
 * invocation group still walks each loop body once (SwiftShader), so fewer invocations cost less.
 */
export const RNN_WORKGROUP_CPU = 16;
/** Most time steps one persistent dispatch runs (keeps each dispatch short for GPU watchdogs). */
export const RNN_CHUNK = 64;

/**
 * Batch rows per workgroup R of the persistent kernels. GPUs want many workgroups: R·H ≈ the
 * workgroup size. CPU adapters run workgroups on a few threads and gain from reusing each load
 * of U across rows (8-row register blocks): up to 16 rows, keeping ≥ 2 workgroups when the batch
 * allows and the staged rows (R rounded up to 8, times H) within the staging buffer.
 */
export function rnnRowsPerGroup(H: number, B = 1, software = false): number {
  const { rowBlock, stageFloats } = RNN_TILES;
  if (!software) return Math.max(1, Math.floor(RNN_WORKGROUP / H));
  const fit = Math.floor(stageFloats / H / rowBlock) * rowBlock; // most rows that stage
  const want = Math.min(16, Math.max(1, Math.ceil(B / 2)));
  return Math.max(1, fit >= rowBlock ? Math.min(want, fit) : Math.floor(RNN_WORKGROUP / H));
}

/** True when R rows of H units (R padded to the row block) fit the forward kernels' staging buffer. */
export function rnnStaged(H: number, R: number, rowBlock: number = RNN_TILES.rowBlock): boolean {
  return Math.ceil(R / rowBlock) * rowBlock * H <= RNN_TILES.stageFloats;
}

/** Tuning / testing knob of the persistent kernels (RnnOptions.persistentLayout); results do not depend on it. */
export interface PersistentLayoutOption {
  /** Batch rows per workgroup (default rnnRowsPerGroup). */
  rowsPerGroup?: number;
  /** Stage h in 8-row blocks (default: on CPU adapters when it fits). */
  staged?: boolean;
  /** Invocations per workgroup (default RNN_WORKGROUP, RNN_WORKGROUP_CPU on CPU adapters). */
  workgroup?: number;
  /** Rows per staged block, 8 or 16 (default: 16 on lavapipe when more than 8 rows stage, else 8). */
  rowBlock?: 8 | 16;
}

export interface PersistentLayout {
  rowsPerGroup: number;
  staged: boolean;
  workgroup: number;
  /** Rows per staged block (16: the `WIDE_ROWS` forward of shaders/rnn-persistent-tiles.wgsl). */
  rowBlock: 8 | 16;
}

/**
 * The persistent kernels' layout for a layer; a bad option throws, naming it. `lavapipe`: the
 * adapter is Mesa's lavapipe, whose forward kernel is fastest with 16-row blocks (SwiftShader's is
 * not; docs/performance.md).
 */
export function persistentLayout(H: number, B: number, software: boolean, opt: PersistentLayoutOption = {}, lavapipe = false): PersistentLayout {
  if (opt.rowsPerGroup !== undefined && !(Number.isInteger(opt.rowsPerGroup) && opt.rowsPerGroup >= 1)) {
    throw new RangeError(`rnn: persistentLayout.rowsPerGroup must be a positive integer, got ${opt.rowsPerGroup}`);
  }
  if (opt.workgroup !== undefined && !(Number.isInteger(opt.workgroup) && opt.workgroup >= 1 && opt.workgroup <= 256)) {
    throw new RangeError(`rnn: persistentLayout.workgroup must be an integer in [1, 256], got ${opt.workgroup}`);
  }
  if (opt.rowBlock !== undefined && opt.rowBlock !== 8 && opt.rowBlock !== 16) {
    throw new RangeError(`rnn: persistentLayout.rowBlock must be 8 or 16, got ${String(opt.rowBlock)}`);
  }
  const R = opt.rowsPerGroup ?? rnnRowsPerGroup(H, B, software);
  const rowBlock = opt.rowBlock ?? (lavapipe && R > RNN_TILES.rowBlock && rnnStaged(H, R, RNN_TILES.rowBlockWide) ? 16 : 8);
  if (opt.staged && !rnnStaged(H, R, rowBlock)) {
    throw new RangeError(`rnn: persistentLayout.staged: ${R} rows of ${H} units do not fit the ${RNN_TILES.stageFloats}-float staging buffer`);
  }
  return {
    rowBlock,
    rowsPerGroup: R,
    // CPU adapters: stage 8-row blocks (each U load feeds 8 rows). GPUs: one (row, unit) per
    // invocation (R = ⌊64/H⌋ rows would be padded to 8 in the blocked path, and one invocation
    // walking 4 units × 8 rows serialises what a GPU runs in parallel).
    staged: opt.staged ?? (software && rnnStaged(H, R, rowBlock)),
    workgroup: opt.workgroup ?? (software ? RNN_WORKGROUP_CPU : RNN_WORKGROUP),
  };
}

/** The per-layer switches of the recurrent kernels (the `override`s of shaders/rnn-common.wgsl). */
export interface RecurrentSwitches {
  hasH0: boolean;
  hasC0: boolean;
  hasRecBias: boolean;
  hasDHSeq: boolean;
  reverse: boolean;
  hasRecMask: boolean;
  hasSeqMask: boolean;
  staged: boolean;
  /** Staged rows in blocks of 16 (else 8). */
  wideRows: boolean;
  /** Invocations per workgroup of the persistent kernels. */
  workgroup: number;
}

/**
 * Pipeline constants of a layer's recurrent kernels (persistent and per-step). They are compiled
 * in rather than read from the uniform params so that the compiler drops the options a layer
 * does not use (CPU adapters otherwise execute both sides of every branch).
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
    WIDE_ROWS: b(sw.wideRows),
    WG: sw.workgroup,
  };
}

/** GPUs: 'step' from this many units on (estimate; calibrate with `npm run bench` on a GPU). */
export const STEP_MIN_UNITS = 256;
/** GPUs: 'step' from this many units on when the persistent grid is small (see below). */
export const STEP_MIN_UNITS_SMALL_GRID = 128;
/** GPUs: a persistent grid of fewer workgroups than this counts as small. */
export const STEP_SMALL_GRID = 32;

/**
 * The automatic time loop of a layer:
 * - software (CPU) adapters: always 'persistent' (dispatches and barriers are expensive there,
 *   and a workgroup per few rows already keeps the few threads busy);
 * - cells without per-step kernels (GRU resetAfter=false): 'persistent';
 * - GPUs: 'step' when H ≥ STEP_MIN_UNITS (each persistent invocation would walk ≥ 4 units × H
 *   products per step, U re-read per row), or when H ≥ STEP_MIN_UNITS_SMALL_GRID and the
 *   persistent grid ⌈B / R⌉ has fewer than STEP_SMALL_GRID workgroups (most of the GPU idles);
 *   otherwise 'persistent' (⌈T/64⌉ dispatches beat T when a row's step is cheap).
 * The thresholds follow docs/kernel-design.md §4.2's estimate (16H²/β_SM vs the dispatch cost).
 */
export function chooseTimeLoop(cfg: RnnOpConfig, H: number, B: number, software: boolean): TimeLoop {
  if (software) return 'persistent';
  if (!CELLS[cellVariant(cfg)].stepKernels) return 'persistent';
  if (H >= STEP_MIN_UNITS) return 'step';
  if (H >= STEP_MIN_UNITS_SMALL_GRID && Math.ceil(B / rnnRowsPerGroup(H, B, false)) < STEP_SMALL_GRID) return 'step';
  return 'persistent';
}

/** RnnOptions.timeLoop resolved for a layer; a forced 'step' for a cell without step kernels throws. */
export function resolveTimeLoop(cfg: RnnOpConfig, B: number, software: boolean, wanted: 'auto' | TimeLoop | undefined): TimeLoop {
  if (wanted === 'persistent') return 'persistent';
  if (wanted === 'step') {
    if (!CELLS[cellVariant(cfg)].stepKernels) throw new RangeError("rnn: timeLoop 'step' has no kernels for GRU resetAfter=false (use 'auto' or 'persistent')");
    return 'step';
  }
  if (wanted !== undefined && wanted !== 'auto') throw new RangeError(`rnn: unknown timeLoop '${String(wanted)}' (expected 'auto', 'persistent' or 'step')`);
  return chooseTimeLoop(cfg, cfg.units, B, software);
}

/** The chunks [tStart, tEnd) of at most RNN_CHUNK steps covering 0..T-1, in time order. */
export function timeChunks(T: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < T; t += RNN_CHUNK) out.push([t, Math.min(T, t + RNN_CHUNK)]);
  return out;
}
