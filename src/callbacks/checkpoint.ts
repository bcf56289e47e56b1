/**
 * Keras ModelCheckpoint (weights every epoch or on improvement, in memory or to a file) and
 * readCheckpoint. Files (Node only) are written to a temporary file in the same folder, flushed to
 * disk and then renamed over the target, so a crash never leaves a half-written checkpoint behind;
 * the target's folder is checked when fit starts (onTrainBegin), not after the first epoch.
 * NaN and ±Infinity are kept: JSON has no such numbers, so they are written as the strings "NaN",
 * "Infinity" and "-Infinity" (setWeights refuses them, naming the weight). Reading checks every
 * size against the file's byte length before allocating and names the file (and the byte offset
 * of a JSON syntax error) in every error.
 */
import type { Logs } from '../model/types';
import type { HostTensor } from '../host';
import { importAtRunTime } from '../gpu/runtime-import';
import { BaseCallback, checkMode, copyWeights, decreasing, monitorName, warnMissing, type Mode } from './base';
import { resolveHandler, type IOHandler } from '../io/handlers';
import { checkFormat, type FormatName } from '../io/formats';
import type { SaveOptions } from '../model/serialize';
import { checkOptions, is } from '../options';

type NodeFs = typeof import('node:fs/promises');

async function nodeFs(what: string): Promise<NodeFs> {
  try {
    return await importAtRunTime<NodeFs>('node:fs/promises');
  } catch {
    throw new Error(`${what}: files can only be used in Node (give an in-memory target in the browser)`);
  }
}

/** `err.code` of a Node error, if any. */
function codeOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** The folder part of a path ('.' when there is none). */
function folderOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? '.' : i === 0 ? path.slice(0, 1) : path.slice(0, i);
}

/**
 * Checks that `path` can be written: its folder exists and is writable, and the path is not a
 * folder. Throws an error naming the path and what is wrong. Node only.
 */
export async function checkWritablePath(path: string, where: string): Promise<void> {
  const fs = await nodeFs(`${where}: cannot write '${path}'`);
  const dir = folderOf(path);
  const st = await fs.stat(dir).catch((e: unknown) => {
    throw new Error(`${where}: cannot write '${path}': the folder '${dir}' ${codeOf(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`}`);
  });
  if (!st.isDirectory()) throw new Error(`${where}: cannot write '${path}': '${dir}' is not a folder`);
  const { constants } = await importAtRunTime<typeof import('node:fs')>('node:fs');
  await fs.access(dir, constants.W_OK).catch(() => {
    throw new Error(`${where}: cannot write '${path}': the folder '${dir}' is not writable`);
  });
  const target = await fs.stat(path).catch(() => null);
  if (target?.isDirectory()) throw new Error(`${where}: cannot write '${path}': it is a folder`);
}

/**
 * Writes `text` to `path` atomically: a temporary file in the same folder, flushed to disk, then
 * renamed over `path`. On failure the temporary file is removed and the error names `path`.
 * Node only.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const fs = await nodeFs(`cannot write '${path}'`);
  const tmp = `${path}.tmp-${typeof process !== 'undefined' ? process.pid : 0}-${Math.random().toString(36).slice(2)}`;
  let file: Awaited<ReturnType<NodeFs['open']>> | null = null;
  try {
    file = await fs.open(tmp, 'w');
    await file.writeFile(text, 'utf8');
    await file.sync();
    await file.close();
    file = null;
    await fs.rename(tmp, path);
  } catch (e) {
    await file?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    const why = codeOf(e) === 'ENOENT' ? `the folder '${folderOf(path)}' does not exist` : (e as Error).message;
    throw new Error(`cannot write '${path}': ${why}`, { cause: e });
  }
}

/** The text of a file, or null when it does not exist. Refuses anything but a regular file (a FIFO or device would never end). */
export async function readFileText(path: string): Promise<string | null> {
  return (await readFileSized(path))?.text ?? null;
}

/** A regular file's text and its length in bytes, or null when it does not exist. */
async function readFileSized(path: string): Promise<{ text: string; bytes: number } | null> {
  const fs = await nodeFs(`cannot read '${path}'`);
  const st = await fs.stat(path).catch((e: unknown) => {
    if (codeOf(e) === 'ENOENT') return null;
    throw new Error(`cannot read '${path}': ${(e as Error).message}`, { cause: e });
  });
  if (!st) return null;
  if (!st.isFile()) throw new Error(`cannot read '${path}': not a regular file`);
  const buf = await fs.readFile(path);
  return { text: buf.toString('utf8'), bytes: buf.length };
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

/** Options of {@link ModelCheckpoint} (Keras `ModelCheckpoint`). */
export interface ModelCheckpointArgs {
  /**
   * Where to save. A URL (`file://path`, `indexeddb://name`) or an IO handler (`rnn.io.memory()`):
   * the whole model, as `model.save` writes it (architecture, weights and, in the own format, the
   * training state — reload it with `rnn.loadModel` and training continues exactly). A plain
   * file path (Node): the weights as JSON (read with `readCheckpoint`). An object `{weights:
   * null}`: the weights in memory. In paths and names '{epoch}' is replaced by the 1-based epoch.
   */
  target: MemoryCheckpoint | string | IOHandler;
  /** Whole-model targets: the format ('webgpu-rnn' by default, or 'tfjs', 'keras'). */
  format?: FormatName;
  /** Whole-model targets: keep the training state (default true). */
  includeOptimizer?: boolean;
  /** Default 'val_loss'. */
  monitor?: string;
  /** Save only when the monitored value improves. Default false (save every epoch). */
  saveBestOnly?: boolean;
  /** Default 'auto'. */
  mode?: Mode;
}

/** How a non-finite value is written in a checkpoint file (JSON has no NaN or Infinity). */
export type NonFiniteName = 'NaN' | 'Infinity' | '-Infinity';

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
    /** Its values, row-major; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity". */
    data: (number | NonFiniteName)[];
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
  /** Where weights go: the in-memory object, the file path, or a whole-model URL / handler. */
  readonly target: MemoryCheckpoint | string | IOHandler;
  /** Whole-model saves: model.save's options. */
  private readonly saveOptions: SaveOptions;
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
    checkOptions(w, args ?? null, { target: is.any, monitor: is.string, saveBestOnly: is.boolean, mode: is.string, format: is.string, includeOptimizer: is.boolean }, "{target: 'file://checkpoints/best', saveBestOnly: true}");
    const t = args.target;
    if (!(typeof t === 'string' && t.length > 0) && !(t && typeof t === 'object' && ('weights' in t || typeof (t as IOHandler).save === 'function'))) {
      throw new TypeError(`${w}: target must be a URL ('file://path', 'indexeddb://name'), an IO handler, a file path or an object {weights: null} to fill in memory, got ${JSON.stringify(t)}`);
    }
    this.target = t;
    this.saveOptions = { ...(args.format !== undefined ? { format: checkFormat(args.format, w) } : {}), ...(args.includeOptimizer !== undefined ? { includeOptimizer: args.includeOptimizer } : {}) };
    this.monitor = monitorName(w, args.monitor ?? 'val_loss');
    this.saveBestOnly = Boolean(args.saveBestOnly ?? false);
    this.mode = checkMode(w, args.mode ?? 'auto');
  }

  /** Whether the target takes whole models (a URL with a scheme, or an IO handler). */
  private get wholeModel(): boolean {
    const t = this.target;
    return typeof t === 'string' ? /^[a-z][a-z0-9+.-]*:\/\//i.test(t) : !('weights' in t);
  }

  /** Resets the best value; for a file target, checks now that its folder exists and is writable. */
  async onTrainBegin(): Promise<void> {
    this.best = decreasing(this.mode, this.monitor) ? Infinity : -Infinity;
    if (this.wholeModel) {
      // the URL and the folder are checked now, not after the first epoch
      const h = resolveHandler(typeof this.target === 'string' ? this.target.replaceAll('{epoch}', '1') : this.target, 'modelCheckpoint');
      if (!h.save) throw new TypeError(`modelCheckpoint: ${h.url} cannot be saved to`);
      const m = /^file:\/\/(.*)$/i.exec(h.url);
      if (m) await checkWritablePath(m[1]!, 'modelCheckpoint');
    } else if (typeof this.target === 'string') {
      await checkWritablePath(this.target.replaceAll('{epoch}', '1'), 'modelCheckpoint');
    }
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
    if (this.wholeModel) {
      if (!model.save) throw new TypeError('modelCheckpoint: this model cannot be saved whole');
      const t = typeof this.target === 'string' ? this.target.replaceAll('{epoch}', String(epoch + 1)) : (this.target as IOHandler);
      await model.save(t, this.saveOptions);
      this.savedEpochs.push(epoch);
      return;
    }
    const weights = await model.getWeights();
    const names = model.weightNames;
    if (typeof this.target === 'string') {
      const file: CheckpointFile = {
        format: 'webgpu-rnn-weights',
        version: 1,
        epoch,
        logs: { ...logs },
        weights: weights.map((w, i) => ({ name: names[i] ?? `weight_${i}`, shape: [...w.shape], data: encodeValues(w.data) })),
      };
      const path = this.target.replaceAll('{epoch}', String(epoch + 1));
      try {
        await writeFileAtomic(path, JSON.stringify(file));
      } catch (e) {
        throw new Error(`modelCheckpoint: ${(e as Error).message}`, { cause: e });
      }
    } else {
      const mem = this.target as MemoryCheckpoint;
      mem.weights = weights;
      mem.names = names;
      mem.epoch = epoch;
      mem.logs = { ...logs };
    }
    this.savedEpochs.push(epoch);
  }
}

/** The values as JSON numbers, non-finite ones as their names. */
function encodeValues(data: Float32Array): (number | NonFiniteName)[] {
  const out: (number | NonFiniteName)[] = Array.from(data);
  for (let i = 0; i < out.length; i++) {
    const v = out[i] as number;
    if (!Number.isFinite(v)) out[i] = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  return out;
}

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

/** A JSON.parse error as `byte N: message` (V8 says "at position N" in UTF-16 units; the end of input otherwise). */
function syntaxErrorAt(text: string, e: unknown): string {
  const m = (e as Error).message;
  const pos = /position (\d+)/.exec(m);
  const chars = pos ? Number(pos[1]) : text.length;
  const bytes = new TextEncoder().encode(text.slice(0, chars)).length;
  return `byte ${bytes}${pos ? '' : ' (the end: truncated?)'}: ${m}`;
}

/**
 * Checks a parsed checkpoint file and converts its weights. Every size is checked against the
 * file's byte length (each value takes at least 2 bytes of text) before anything is allocated.
 * @param source the file name, for messages.
 * @param bytes the file's length in bytes.
 */
export function decodeCheckpoint(json: unknown, source: string, bytes: number): HostTensor[] {
  const bad = (what: string): never => {
    throw new Error(`readCheckpoint: '${source}': ${what}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('not a webgpu-rnn weights file (expected a JSON object)');
  const file = json as Partial<CheckpointFile>;
  if (file.format !== 'webgpu-rnn-weights') bad(`not a webgpu-rnn weights file (format is ${JSON.stringify(file.format)}, expected "webgpu-rnn-weights")`);
  if (file.version !== 1) bad(`version ${JSON.stringify(file.version)} is not supported (this library reads version 1)`);
  if (!Array.isArray(file.weights)) bad('no "weights" array');
  const list = file.weights as unknown[];
  let total = 0;
  const checked = list.map((w, i) => {
    if (typeof w !== 'object' || w === null) return bad(`weight ${i} is not an object`);
    const { name, shape, data } = w as Record<string, unknown>;
    const label = `weight ${i} (${typeof name === 'string' ? JSON.stringify(name.slice(0, 100)) : 'no name'})`;
    if (typeof name !== 'string') bad(`${label}: "name" must be a string`);
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      bad(`${label}: "shape" must be a list of at most 8 non-negative integers, got ${JSON.stringify(shape)?.slice(0, 100)}`);
    }
    const size = (shape as number[]).reduce((a, d) => a * d, 1);
    total += size;
    if (size > bytes / 2 || total > bytes / 2) bad(`${label}: shape [${(shape as number[]).join(', ')}] needs ${size} values, more than a ${bytes}-byte file can hold`);
    if (!Array.isArray(data)) bad(`${label}: "data" must be a list of numbers`);
    if ((data as unknown[]).length !== size) bad(`${label}: "data" has ${(data as unknown[]).length} values but shape [${(shape as number[]).join(', ')}] needs ${size}`);
    return { name: name as string, shape: shape as number[], data: data as unknown[], label };
  });
  return checked.map(({ shape, data, label }) => {
    const out = new Float32Array(data.length);
    for (let k = 0; k < data.length; k++) {
      const v = data[k];
      const x = typeof v === 'number' ? v : typeof v === 'string' && Object.hasOwn(NON_FINITE, v) ? NON_FINITE[v] : undefined;
      if (x === undefined) {
        bad(`${label}: value ${k} is ${JSON.stringify(v)?.slice(0, 40)}, not a number${v === null ? ' (a NaN written by an older version? those files cannot be trusted)' : ''}`);
      }
      out[k] = x as number;
    }
    return { data: out, shape };
  });
}

/**
 * Reads weights saved by modelCheckpoint (a file path in Node, or the in-memory target). Values
 * are returned as saved, NaN and ±Infinity included (setWeights refuses those, naming the weight).
 * @throws an error naming the file (and the byte offset of a JSON syntax error) for a missing,
 *   truncated, corrupt or inconsistent file.
 */
export async function readCheckpoint(target: MemoryCheckpoint | string): Promise<HostTensor[]> {
  if (typeof target !== 'string') {
    if (!target || typeof target !== 'object' || !('weights' in target)) throw new TypeError(`readCheckpoint: expected a file path or an in-memory checkpoint {weights}, got ${JSON.stringify(target)?.slice(0, 100)}`);
    if (!target.weights) throw new Error('readCheckpoint: the in-memory checkpoint is empty (nothing was saved yet)');
    return copyWeights(target.weights);
  }
  let file: { text: string; bytes: number } | null;
  try {
    file = await readFileSized(target);
  } catch (e) {
    throw new Error(`readCheckpoint: ${(e as Error).message}`, { cause: e });
  }
  if (file === null) throw new Error(`readCheckpoint: no file '${target}'`);
  const { text, bytes } = file;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`readCheckpoint: '${target}' is not valid JSON at ${syntaxErrorAt(text, e)}`, { cause: e });
  }
  return decodeCheckpoint(json, target, bytes);
}
