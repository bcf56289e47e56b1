/**
 * Keras ModelCheckpoint (weights every epoch or on improvement, in memory or to a file) and
 * readCheckpoint. Files (Node only) are written to a temporary file in the same folder and then
 * renamed over the target, so a crash never leaves a half-written checkpoint behind.
 */
import type { Logs } from '../model/types';
import type { HostTensor } from '../host';
import { importAtRunTime } from '../gpu/runtime-import';
import { BaseCallback, checkMode, copyWeights, decreasing, monitorName, warnMissing, type Mode } from './base';

/** Writes `text` to `path` atomically (temporary file in the same folder, then rename). Node only. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  let fs: typeof import('node:fs/promises');
  try {
    fs = await importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');
  } catch {
    throw new Error(`cannot write '${path}': files can only be written in Node (give an in-memory target in the browser)`);
  }
  const tmp = `${path}.tmp-${typeof process !== 'undefined' ? process.pid : 0}-${Math.random().toString(36).slice(2)}`;
  try {
    await fs.writeFile(tmp, text, 'utf8');
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
}

export async function readFileText(path: string): Promise<string | null> {
  const fs = await importAtRunTime<typeof import('node:fs/promises')>('node:fs/promises');
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

// ---------------------------------------------------------------- checkpoints

/** An in-memory checkpoint target; modelCheckpoint fills it. */
export interface MemoryCheckpoint {
  /** The saved weights (getWeights order), null until the first save. */
  weights: HostTensor[] | null;
  /** Weight names aligned with `weights`. */
  names?: string[];
  /** Epoch (0-based) of the saved weights. */
  epoch?: number;
  /** The logs of that epoch. */
  logs?: Logs;
}

/** Options of {@link ModelCheckpoint} (Keras `ModelCheckpoint` with save_weights_only). */
export interface ModelCheckpointArgs {
  /** An object to fill in memory, or a file path (Node) that receives JSON ('{epoch}' is replaced by the 1-based epoch). */
  target: MemoryCheckpoint | string;
  /** Default 'val_loss'. */
  monitor?: string;
  /** Save only when the monitored value improves. Default false (save every epoch). */
  saveBestOnly?: boolean;
  /** Default 'auto'. */
  mode?: Mode;
}

/** The JSON written by modelCheckpoint to a file. */
export interface CheckpointFile {
  /** Identifies the file. */
  format: 'webgpu-rnn-weights';
  /** Version of the layout. */
  version: 1;
  /** Epoch (0-based) of the weights. */
  epoch: number;
  /** The logs of that epoch. */
  logs: Logs;
  /** The weights in getWeights() order: name, shape and values (row-major). */
  weights: {
    /** The weight's name. */
    name: string;
    /** Its shape. */
    shape: number[];
    /** Its values, row-major. */
    data: number[];
  }[];
}

/**
 * Saves the model's weights at the end of every epoch, or only when the monitored value improves
 * (saveBestOnly), into memory or atomically into a JSON file. Read a file back with
 * `readCheckpoint(path)` and `model.setWeights(...)`. Made by `rnn.callbacks.modelCheckpoint`.
 *
 * @example
 * ```ts
 * const best: rnn.MemoryCheckpoint = { weights: null };
 * await model.fit(x, y, { epochs: 20, validationData: [xv, yv], callbacks: [rnn.callbacks.modelCheckpoint({ target: best, saveBestOnly: true })] });
 * await model.setWeights(best.weights!);
 * ```
 */
export class ModelCheckpoint extends BaseCallback {
  /** Where weights go: the in-memory object or the file path. */
  readonly target: MemoryCheckpoint | string;
  /** The log watched, e.g. 'val_loss'. */
  readonly monitor: string;
  /** Whether only improvements are saved. */
  readonly saveBestOnly: boolean;
  /** Direction of improvement. */
  readonly mode: Mode;
  /** Best monitored value so far. */
  best = Infinity;
  /** Epochs (0-based) at which weights were saved. */
  readonly savedEpochs: number[] = [];

  constructor(args: ModelCheckpointArgs) {
    super();
    const w = 'modelCheckpoint';
    if (!args || typeof args !== 'object') throw new TypeError(`${w}: expected {target, monitor?, saveBestOnly?}`);
    const t = args.target;
    if (!(typeof t === 'string' && t.length > 0) && !(t && typeof t === 'object' && 'weights' in t)) {
      throw new TypeError(`${w}: target must be a file path or an object {weights: null} to fill in memory, got ${JSON.stringify(t)}`);
    }
    this.target = t;
    this.monitor = monitorName(w, args.monitor ?? 'val_loss');
    this.saveBestOnly = Boolean(args.saveBestOnly ?? false);
    this.mode = checkMode(w, args.mode ?? 'auto');
  }

  /** Resets the best value. */
  onTrainBegin(): void {
    this.best = decreasing(this.mode, this.monitor) ? Infinity : -Infinity;
  }

  /** Saves the weights (every epoch, or on improvement with saveBestOnly). */
  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const model = this.requireModel('modelCheckpoint');
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) {
        warnMissing('modelCheckpoint', this.monitor, logs);
        return;
      }
      const better = decreasing(this.mode, this.monitor) ? current < this.best : current > this.best;
      if (!better) return;
      this.best = current;
    }
    const weights = await model.getWeights();
    const names = model.weightNames;
    if (typeof this.target === 'string') {
      const file: CheckpointFile = {
        format: 'webgpu-rnn-weights',
        version: 1,
        epoch,
        logs: { ...logs },
        weights: weights.map((w, i) => ({ name: names[i] ?? `weight_${i}`, shape: [...w.shape], data: Array.from(w.data) })),
      };
      await writeFileAtomic(this.target.replaceAll('{epoch}', String(epoch + 1)), JSON.stringify(file));
    } else {
      this.target.weights = weights;
      this.target.names = names;
      this.target.epoch = epoch;
      this.target.logs = { ...logs };
    }
    this.savedEpochs.push(epoch);
  }
}

/** Reads weights saved by modelCheckpoint (a file path in Node, or the in-memory target). */
export async function readCheckpoint(target: MemoryCheckpoint | string): Promise<HostTensor[]> {
  if (typeof target !== 'string') {
    if (!target.weights) throw new Error('readCheckpoint: the in-memory checkpoint is empty (nothing was saved yet)');
    return copyWeights(target.weights);
  }
  const text = await readFileText(target);
  if (text === null) throw new Error(`readCheckpoint: no file '${target}'`);
  const file = JSON.parse(text) as CheckpointFile;
  if (file.format !== 'webgpu-rnn-weights' || !Array.isArray(file.weights)) throw new Error(`readCheckpoint: '${target}' is not a webgpu-rnn weights file`);
  return file.weights.map((w) => ({ data: Float32Array.from(w.data), shape: w.shape }));
}
