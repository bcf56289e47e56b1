/**
 * The host backup of a model (issue 16, device loss): what survives when the GPU device is lost.
 * The weights' arena keeps a host copy from the start (the initial values, then setWeights'), and
 * training refreshes it at the loop's sync points — every 8 steps (models whose backup is at most
 * STEP_BACKUP_MAX_BYTES) and at every epoch's end — together with the optimizer's moments and
 * counters, the layers' random streams and the fit's position (epoch, batch, the epoch's running
 * loss sums, the history so far). The loop waits at those points anyway; the backup makes that
 * wait ONE readback of all of it (no extra sync). After a loss, getWeights reads the host copy,
 * rnn.recover() rebuilds the model from it on a new device, and fit({resume: true}) continues the
 * run from the position, giving what the uninterrupted run would have (docs/reliability.md).
 */
import type { Context } from '../gpu/context';
import type { ParamArena } from '../gpu/arena';
import { Tensor } from '../tensor';
import type { Layer } from '../layers/layer';
import { hasRandomStream, type HasRandomStream } from '../layers/random-stream';
import type { OptimizerSnapshot, OptimizerState } from '../optim/optimizers';
import { layersWithin } from './serialize';
import type { History } from './types';

/** Backups every 8 steps only while one is at most this big; larger models back up once per epoch. */
export const STEP_BACKUP_MAX_BYTES = 32 << 20;

/** Where a fit is: the next step to run, and what it has summed and logged so far. */
export interface FitPosition {
  /** The epoch, and the next batch in it (batchesPerEpoch: its steps are done, not its end). */
  epoch: number;
  batch: number;
  /** The run's epochs and batches per epoch (a resumed fit must have the same). */
  epochs: number;
  batchesPerEpoch: number;
  /** Rows trained in this epoch so far, and the epoch's loss and metric sums (the Totals slots). */
  seen: number;
  totals: Float32Array;
  /** The logs of the epochs before it. */
  history: History;
}

/** A model's training state on the host, as of its last backup (the weights are in the arena's host copy). */
export interface TrainingBackup {
  optimizer: OptimizerSnapshot | null;
  /** Each layer's random stream counter (4 words). */
  streams: Map<Layer, number[]>;
  /** The fit that made the backup, while it runs and after a device loss interrupted it; null otherwise. */
  position: FitPosition | null;
}

export function emptyBackup(): TrainingBackup {
  return { optimizer: null, streams: new Map(), position: null };
}

/** What a model backs up: its device, weights, optimizer and layers. */
export interface BackupSources {
  ctx: Context;
  arena: ParamArena;
  optimizer: OptimizerState | null;
  layers: readonly Layer[];
}

/** One backup: the tensors to read (in one readback, after any others), and what keeps them once read. */
export interface PendingBackup {
  tensors: Tensor[];
  bytes: number;
  /** Stores what was read (`data`: the tensors' values, in order) as the backup `note` names. */
  commit(data: readonly Float32Array[], note: string, position: FitPosition | null): void;
}

/**
 * The tensors of a backup of `src` into `into`, with the optimizer's counters taken now (they
 * count the steps queued so far, which the readback will see).
 */
export function captureBackup(src: BackupSources, into: TrainingBackup): PendingBackup {
  const { arena, ctx } = src;
  const tensors = [new Tensor(arena.params, [arena.length], 0, false, 'params')];
  const opt = src.optimizer?.stateSources() ?? null;
  const moments = src.optimizer?.moments ?? [];
  if (opt) tensors.push(...opt.tensors);
  const streams = layersWithin(src.layers).map((x) => x.layer).filter((l): l is Layer & HasRandomStream => hasRandomStream(l));
  for (const l of streams) tensors.push(new Tensor(l.randomStream.buffer(ctx), [4], 0, false, `${l.name} stream`));
  return {
    tensors,
    bytes: tensors.reduce((n, t) => n + t.bytes, 0),
    commit(data, note, position) {
      arena.host = { data: data[0]!.slice(), note };
      let i = 1;
      if (opt) {
        const m: OptimizerSnapshot['moments'] = {};
        for (const k of moments) m[k] = data[i++]!.slice();
        into.optimizer = { moments: m, slotStep: opt.slotStep, iterations: opt.iterations };
      }
      for (const l of streams) {
        const f = data[i++]!;
        into.streams.set(l, [...new Uint32Array(f.buffer, f.byteOffset, 4)]); // the words' bits, not float values
      }
      into.position = position;
    },
  };
}

/** A deep copy of a history (the backup's must not change as the run goes on). */
export function copyHistory(h: History): History {
  return { epoch: [...h.epoch], history: Object.fromEntries(Object.entries(h.history).map(([k, v]) => [k, [...v]])) };
}

/** Words for messages: where a backup is from. */
export function positionNote(p: FitPosition): string {
  return p.batch >= p.batchesPerEpoch ? `after epoch ${p.epoch + 1}'s last step` : `after step ${p.batch} of epoch ${p.epoch + 1}`;
}
