/**
 * Keras 3 ReduceLROnPlateau (keras/src/callbacks/reduce_lr_on_plateau.py) and TerminateOnNaN: the
 * callbacks that react to the epoch's loss by changing the learning rate or stopping.
 */
import type { Logs } from '../model/types';
import type { HostTensor } from '../host';
import { BaseCallback, checkMode, decreasing, monitorName, nonNegative, warnMissing, type Mode } from './base';
import { checkOptions, is } from '../options';

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
 * step on. Adds `learning_rate` to each epoch's logs (and so to the history). Made by
 * `rnn.callbacks.reduceLROnPlateau`.
 *
 * @example
 * ```ts
 * await model.fit(x, y, { epochs: 50, validationData: [xv, yv], callbacks: [rnn.callbacks.reduceLROnPlateau({ factor: 0.5, patience: 3 })] });
 * ```
 */
export class ReduceLROnPlateau extends BaseCallback {
  /** The log watched, e.g. 'val_loss'. */
  readonly monitor: string;
  /** new lr = lr · factor. */
  readonly factor: number;
  /** Epochs without improvement before reducing. */
  readonly patience: number;
  /** Direction of improvement. */
  readonly mode: Mode;
  /** Smaller improvements do not count. */
  readonly minDelta: number;
  /** Epochs to wait after a reduction. */
  readonly cooldown: number;
  /** Lower bound of the learning rate. */
  readonly minLr: number;
  private best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    checkOptions('reduceLROnPlateau', args, {
      monitor: is.string, factor: is.number, patience: is.number, mode: is.string, minDelta: is.number, cooldown: is.number, minLr: is.number,
    }, "{monitor: 'val_loss', factor: 0.5}");
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

  /** Resets the counters. */
  onTrainBegin(): void {
    this.reset();
  }

  /** Reduces the learning rate after `patience` epochs without improvement; adds `learning_rate` to the logs. */
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

  /** Keeps the starting weights as the last good ones. */
  async onTrainBegin(): Promise<void> {
    this.stoppedEpoch = -1;
    this.lastGood = await this.requireModel('terminateOnNaN').getWeights();
  }

  /** Stops and restores the last good weights on a non-finite loss; else keeps these weights. */
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
