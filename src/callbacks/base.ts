/**
 * What every callback shares: the model interface callbacks use (a Sequential provides it), the
 * base class that keeps it, and the option checks of the Keras callbacks (monitor, mode, …).
 */
import type { Callback, Logs } from '../model/types';
import type { Optimizer } from '../optim/optimizers';
import type { HostTensor } from '../host';
import type { IOHandler } from '../io/handlers';
import type { SaveOptions } from '../model/serialize';

/** What the callbacks need from a model (a Sequential provides it). */
export interface CallbackModel {
  /** Set to true to stop fit after the current batch. */
  stopTraining: boolean;
  /** The compiled optimizer (its learningRate can be changed between epochs). */
  readonly optimizer: Optimizer | null;
  /** The weights' names, aligned with getWeights(). */
  readonly weightNames: string[];
  /** All weights (Keras order and layout). */
  getWeights(): Promise<HostTensor[]>;
  /** Sets all weights (Keras order and layout). */
  setWeights(weights: HostTensor[]): Promise<void>;
  /** Saves the whole model (model.save). */
  save?(target: string | IOHandler, options?: SaveOptions): Promise<unknown>;
}

/** Whether the monitored value should go down ('min'), up ('max'), or as its name suggests ('auto': down unless it mentions accuracy). */
export type Mode = 'auto' | 'min' | 'max';

/**
 * Base class of the library's callbacks: keeps the model fit() hands over. Your own callbacks
 * can be plain objects ({@link Callback}) or subclasses of this.
 *
 * @example
 * ```ts
 * class StopAtLoss extends rnn.BaseCallback {
 *   onEpochEnd(_epoch: number, logs: rnn.Logs) {
 *     if ((logs.loss ?? Infinity) < 0.01) this.model!.stopTraining = true;
 *   }
 * }
 * await model.fit(x, y, { epochs: 100, callbacks: [new StopAtLoss()] });
 * ```
 */
export abstract class BaseCallback implements Callback {
  /** The model being trained (set by fit before onTrainBegin). */
  protected model: CallbackModel | null = null;

  /** Called by fit with the model being trained. */
  setModel(model: CallbackModel): void {
    this.model = model;
  }

  protected requireModel(where: string): CallbackModel {
    if (!this.model) throw new Error(`${where}: no model (pass the callback to model.fit({callbacks}))`);
    return this.model;
  }
}

export function checkMode(where: string, mode: unknown): Mode {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new RangeError(`${where}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(mode)}`);
  return mode;
}

/** 'auto' watches for a decrease unless the name mentions accuracy (Keras 2 / ReduceLROnPlateau rule). */
export function decreasing(mode: Mode, monitor: string): boolean {
  return mode === 'min' || (mode === 'auto' && !monitor.includes('acc'));
}

export function nonNegative(where: string, key: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${where}: ${key} must be a ${integer ? 'non-negative integer' : 'finite number >= 0'}, got ${JSON.stringify(v)}`);
  }
  return v;
}

export function monitorName(where: string, v: unknown): string {
  if (typeof v !== 'string' || !v) throw new TypeError(`${where}: monitor must be a log name such as 'val_loss', got ${JSON.stringify(v)}`);
  return v;
}

const warned = new Set<string>();
export function warnMissing(where: string, monitor: string, logs: Logs): void {
  const key = `${where}:${monitor}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`${where}: '${monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')}); pass validationData or monitor 'loss'`);
}

export function copyWeights(ws: HostTensor[]): HostTensor[] {
  return ws.map((w) => ({ data: Float32Array.from(w.data), shape: [...w.shape] }));
}
