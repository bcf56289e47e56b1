/**
 * Training callbacks with Keras 3 semantics (keras/src/callbacks/*.py), exported as
 * `rnn.callbacks.*`: earlyStopping, reduceLROnPlateau, terminateOnNaN, modelCheckpoint,
 * csvLogger and historyLogger. They run between epochs (fit reads the loss back once per epoch),
 * so anything they read back (weights for restoreBestWeights, checkpoints, terminateOnNaN's
 * last-good copy) costs one readback per epoch, never one per step.
 *
 * Files (Node only) are written to a temporary file in the same folder and then renamed over the
 * target, so a crash never leaves a half-written checkpoint or log behind.
 */
import type { Callback, Logs } from './model/types';
import type { Optimizer } from './optim/optimizers';
import type { HostTensor } from './host';

/** What the callbacks need from a model (a Sequential provides it). */
export interface CallbackModel {
  stopTraining: boolean;
  readonly optimizer: Optimizer | null;
  readonly weightNames: string[];
  getWeights(): Promise<HostTensor[]>;
  setWeights(weights: HostTensor[]): Promise<void>;
}

type Mode = 'auto' | 'min' | 'max';

/** Base class: keeps the model fit() hands over. */
export abstract class BaseCallback implements Callback {
  protected model: CallbackModel | null = null;

  setModel(model: CallbackModel): void {
    this.model = model;
  }

  protected requireModel(where: string): CallbackModel {
    if (!this.model) throw new Error(`${where}: no model (pass the callback to model.fit({callbacks}))`);
    return this.model;
  }
}

function checkMode(where: string, mode: unknown): Mode {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new RangeError(`${where}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
  return mode;
}

/** 'auto' watches for a decrease unless the name mentions accuracy (Keras 2 / ReduceLROnPlateau rule). */
function decreasing(mode: Mode, monitor: string): boolean {
  return mode === 'min' || (mode === 'auto' && !monitor.includes('acc'));
}

function nonNegative(where: string, key: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${where}: ${key} must be a ${integer ? 'non-negative integer' : 'finite number >= 0'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function monitorName(where: string, v: unknown): string {
  if (typeof v !== 'string' || !v) throw new TypeError(`${where}: monitor must be a log name such as 'val_loss', got ${JSON.stringify(v)}`);
  return v;
}

const warned = new Set<string>();
function warnMissing(where: string, monitor: string, logs: Logs): void {
  const key = `${where}:${monitor}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`${where}: '${monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')}); pass validationData or monitor 'loss'`);
}

function copyWeights(ws: HostTensor[]): HostTensor[] {
  return ws.map((w) => ({ data: Float32Array.from(w.data), shape: [...w.shape] }));
}

// ---------------------------------------------------------------- early stopping

/** Options of {@link EarlyStopping} (Keras `EarlyStopping`). */
export interface EarlyStoppingArgs {
  /** Default 'val_loss'. */
  monitor?: string;
  /** An absolute change smaller than this is no improvement. Default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping. Default 0. */
  patience?: number;
  /** Default 'auto' (min for losses). */
  mode?: Mode;
  /** Training stops unless the monitored value improves on this. */
  baseline?: number;
  /** At the end of training, restore the weights of the best epoch. Default false. */
  restoreBestWeights?: boolean;
  /** Epochs to wait before monitoring starts. Default 0. */
  startFromEpoch?: number;
}

/**
 * Stops training when the monitored value stops improving, exactly as Keras 3: each epoch
 * `wait += 1`; an improvement (current - minDelta < best for 'min') resets wait when it also
 * beats the baseline; otherwise training stops once wait >= patience (never at epoch 0).
 */
export class EarlyStopping extends BaseCallback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: Mode;
  readonly baseline: number | null;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  /** Epoch at which training was stopped (0: not stopped). */
  stoppedEpoch = 0;
  /** Epoch of the best monitored value. */
  bestEpoch = 0;
  /** Best monitored value so far. */
  best = Infinity;
  private wait = 0;
  private bestWeights: HostTensor[] | null = null;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    const w = 'earlyStopping';
    this.monitor = monitorName(w, args.monitor ?? 'val_loss');
    this.minDelta = nonNegative(w, 'minDelta', Math.abs(args.minDelta ?? 0)); // Keras takes abs(min_delta)
    this.patience = nonNegative(w, 'patience', args.patience ?? 0, true);
    this.mode = checkMode(w, args.mode ?? 'auto');
    if (args.baseline !== undefined && args.baseline !== null && !Number.isFinite(args.baseline)) throw new RangeError(`${w}: baseline must be a finite number, got ${args.baseline}`);
    this.baseline = args.baseline ?? null;
    this.restoreBestWeights = Boolean(args.restoreBestWeights ?? false);
    this.startFromEpoch = nonNegative(w, 'startFromEpoch', args.startFromEpoch ?? 0, true);
  }

  private get down(): boolean {
    return decreasing(this.mode, this.monitor);
  }

  private improves(current: number, reference: number): boolean {
    // Keras: monitor_op(current - min_delta, reference), min_delta negated for 'min'
    return this.down ? current + this.minDelta < reference : current - this.minDelta > reference;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestWeights = null;
    this.bestEpoch = 0;
    this.best = this.down ? Infinity : -Infinity;
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const model = this.requireModel('earlyStopping');
    const current = logs[this.monitor];
    if (current === undefined) {
      warnMissing('earlyStopping', this.monitor, logs);
      return;
    }
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = await model.getWeights();
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = await model.getWeights();
      if (this.baseline === null || this.improves(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  async onTrainEnd(): Promise<void> {
    if (this.restoreBestWeights && this.bestWeights !== null) await this.requireModel('earlyStopping').setWeights(this.bestWeights);
  }
}

// ---------------------------------------------------------------- learning-rate reduction

/** Options of {@link ReduceLROnPlateau} (Keras `ReduceLROnPlateau`). */
export interface ReduceLROnPlateauArgs {
  /** Default 'val_loss'. */
  monitor?: string;
  /** new lr = lr · factor, in (0, 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement before reducing. Default 10. */
  patience?: number;
  /** Default 'auto'. */
  mode?: Mode;
  /** Improvements smaller than this do not count. Default 1e-4. */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again. Default 0. */
  cooldown?: number;
  /** Lower bound of the learning rate. Default 0. */
  minLr?: number;
}

/**
 * Multiplies the optimizer's learning rate by `factor` (not below minLr) when the monitored value
 * has not improved for `patience` epochs, exactly as Keras 3; the new rate is used from the next
 * step on. Adds `learning_rate` to each epoch's logs (and so to the history).
 */
export class ReduceLROnPlateau extends BaseCallback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly mode: Mode;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  private best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    const w = 'reduceLROnPlateau';
    this.monitor = monitorName(w, args.monitor ?? 'val_loss');
    const factor = args.factor ?? 0.1;
    if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) throw new RangeError(`${w}: factor must be a number in (0, 1), got ${factor}`);
    this.factor = factor;
    this.patience = nonNegative(w, 'patience', args.patience ?? 10, true);
    this.mode = checkMode(w, args.mode ?? 'auto');
    this.minDelta = nonNegative(w, 'minDelta', args.minDelta ?? 1e-4);
    this.cooldown = nonNegative(w, 'cooldown', args.cooldown ?? 0, true);
    this.minLr = nonNegative(w, 'minLr', args.minLr ?? 0);
    this.reset();
  }

  private reset(): void {
    this.best = decreasing(this.mode, this.monitor) ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  private improves(a: number, b: number): boolean {
    return decreasing(this.mode, this.monitor) ? a < b - this.minDelta : a > b + this.minDelta;
  }

  onTrainBegin(): void {
    this.reset();
  }

  onEpochEnd(_epoch: number, logs: Logs): void {
    const opt = this.requireModel('reduceLROnPlateau').optimizer;
    if (!opt) throw new Error('reduceLROnPlateau: the model has no optimizer (compile it first)');
    logs.learning_rate = Math.fround(opt.learningRate);
    const current = logs[this.monitor];
    if (current === undefined) {
      warnMissing('reduceLROnPlateau', this.monitor, logs);
      return;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (this.improves(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const old = opt.learningRate;
        if (old > Math.fround(this.minLr)) {
          opt.learningRate = Math.max(old * this.factor, this.minLr);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- NaN guard

/**
 * Stops training when an epoch's loss is NaN or ±Infinity and restores the last good weights:
 * the weights at the end of the last epoch whose loss and weights were all finite (or those
 * at the start of training). Keras checks per batch; the loss is read back once per epoch here,
 * so the check runs per epoch.
 */
export class TerminateOnNaN extends BaseCallback {
  /** Epoch at which a non-finite loss was seen (-1: never). */
  stoppedEpoch = -1;
  private lastGood: HostTensor[] | null = null;

  async onTrainBegin(): Promise<void> {
    this.stoppedEpoch = -1;
    this.lastGood = await this.requireModel('terminateOnNaN').getWeights();
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const model = this.requireModel('terminateOnNaN');
    const loss = logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
      if (this.lastGood) await model.setWeights(this.lastGood);
      return;
    }
    const ws = await model.getWeights();
    if (ws.every((w) => w.data.every(Number.isFinite))) this.lastGood = ws;
  }
}

// ---------------------------------------------------------------- files

/** Writes `text` to `path` atomically (temporary file in the same folder, then rename). Node only. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const fsName = 'node:fs/promises';
  let fs: typeof import('node:fs/promises');
  try {
    fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
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

async function readFileText(path: string): Promise<string | null> {
  const fsName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
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
  format: 'webgpu-rnn-weights';
  version: 1;
  epoch: number;
  logs: Logs;
  weights: { name: string; shape: number[]; data: number[] }[];
}

/**
 * Saves the model's weights at the end of every epoch, or only when the monitored value improves
 * (saveBestOnly), into memory or atomically into a JSON file. Read a file back with
 * `readCheckpoint(path)` and `model.setWeights(...)`.
 */
export class ModelCheckpoint extends BaseCallback {
  readonly target: MemoryCheckpoint | string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
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

  onTrainBegin(): void {
    this.best = decreasing(this.mode, this.monitor) ? Infinity : -Infinity;
  }

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

// ---------------------------------------------------------------- loggers

/** Formats a log value: the shortest text that reads back as the same number. */
function fmt(v: number | undefined): string {
  return v === undefined ? 'NA' : String(v);
}

/** Options of {@link CSVLogger} (Keras `CSVLogger`). */
export interface CsvLoggerArgs {
  /** File (Node) rewritten atomically after every epoch; omit to keep the text in memory only (`logger.text`). */
  filename?: string;
  /** Default ','. */
  separator?: string;
  /** Append to an existing file (its header is kept) instead of overwriting. Default false. */
  append?: boolean;
}

/**
 * The history as CSV, Keras layout: a header `epoch,<log names sorted>` and one row per epoch.
 * Always kept in `text`; also written to `filename` if given.
 */
export class CSVLogger extends BaseCallback {
  readonly filename: string | null;
  readonly separator: string;
  readonly append: boolean;
  /** The CSV written so far. */
  text = '';
  private keys: string[] | null = null;
  private prefix = '';

  constructor(args: CsvLoggerArgs = {}) {
    super();
    if (args.filename !== undefined && (typeof args.filename !== 'string' || !args.filename)) throw new TypeError(`csvLogger: filename must be a non-empty string, got ${JSON.stringify(args.filename)}`);
    this.filename = args.filename ?? null;
    this.separator = args.separator ?? ',';
    if (typeof this.separator !== 'string' || this.separator.length !== 1) throw new RangeError(`csvLogger: separator must be one character, got ${JSON.stringify(args.separator)}`);
    this.append = Boolean(args.append ?? false);
  }

  async onTrainBegin(): Promise<void> {
    this.keys = null;
    this.prefix = '';
    if (this.append) {
      const existing = this.filename ? await readFileText(this.filename) : this.text;
      this.prefix = existing ?? '';
    }
    this.text = this.prefix;
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const sep = this.separator;
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      if (!this.prefix) this.text += ['epoch', ...this.keys].join(sep) + '\n';
    }
    this.text += [String(epoch), ...this.keys.map((k) => fmt(logs[k]))].join(sep) + '\n';
    if (this.filename) await writeFileAtomic(this.filename, this.text);
  }
}

/** Options of {@link HistoryLogger}. */
export interface HistoryLoggerArgs {
  /** File (Node) rewritten atomically after every epoch; omit to keep the JSON in memory only. */
  filename?: string;
}

/**
 * The history as JSON `{"epoch": [...], "history": {"loss": [...], ...}}` (the shape fit
 * returns), updated after every epoch; kept in `text` and written to `filename` if given.
 * Non-finite values are written as null (JSON has no NaN).
 */
export class HistoryLogger extends BaseCallback {
  readonly filename: string | null;
  /** The JSON text so far. */
  text = '';
  /** The history so far. */
  readonly history: { epoch: number[]; history: Record<string, number[]> } = { epoch: [], history: {} };

  constructor(args: HistoryLoggerArgs = {}) {
    super();
    if (args.filename !== undefined && (typeof args.filename !== 'string' || !args.filename)) throw new TypeError(`historyLogger: filename must be a non-empty string, got ${JSON.stringify(args.filename)}`);
    this.filename = args.filename ?? null;
  }

  onTrainBegin(): void {
    this.history.epoch.length = 0;
    for (const k of Object.keys(this.history.history)) delete this.history.history[k];
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history.history[k] ??= []).push(v);
    this.text = JSON.stringify(this.history);
    if (this.filename) await writeFileAtomic(this.filename, this.text);
  }
}

/** Callback factories with tfjs/Keras names (`rnn.callbacks.earlyStopping({patience: 3})`). */
export const callbacks = {
  /** Stop when the monitored value stops improving (Keras `EarlyStopping`). */
  earlyStopping: (args: EarlyStoppingArgs = {}) => new EarlyStopping(args),
  /** Reduce the learning rate on a plateau (Keras `ReduceLROnPlateau`). */
  reduceLROnPlateau: (args: ReduceLROnPlateauArgs = {}) => new ReduceLROnPlateau(args),
  /** Stop on a NaN/Inf epoch loss and restore the last good weights (Keras `TerminateOnNaN`). */
  terminateOnNaN: () => new TerminateOnNaN(),
  /** Save weights every epoch or on improvement, in memory or to a file (Keras `ModelCheckpoint`). */
  modelCheckpoint: (args: ModelCheckpointArgs) => new ModelCheckpoint(args),
  /** The history as CSV text / file (Keras `CSVLogger`). */
  csvLogger: (args: CsvLoggerArgs = {}) => new CSVLogger(args),
  /** The history as JSON text / file. */
  historyLogger: (args: HistoryLoggerArgs = {}) => new HistoryLogger(args),
};
