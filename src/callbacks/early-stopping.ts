/**
 * Keras 3 EarlyStopping (keras/src/callbacks/early_stopping.py): stop when the monitored value
 * stops improving, optionally restoring the best weights (one readback per improving epoch).
 */
import type { Logs } from '../model/types';
import type { HostTensor } from '../host';
import { BaseCallback, checkMode, decreasing, monitorName, nonNegative, warnMissing, type Mode } from './base';
import { checkOptions, is } from '../options';

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
 * Made by `rnn.callbacks.earlyStopping`.
 *
 * @example
 * ```ts
 * const stop = rnn.callbacks.earlyStopping({ monitor: 'val_loss', patience: 5, restoreBestWeights: true });
 * await model.fit(x, y, { epochs: 100, validationData: [xv, yv], callbacks: [stop] });
 * console.log(stop.stoppedEpoch, stop.bestEpoch);
 * ```
 */
export class EarlyStopping extends BaseCallback {
  /** The log watched, e.g. 'val_loss'. */
  readonly monitor: string;
  /** Smaller changes are no improvement. */
  readonly minDelta: number;
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** Direction of improvement. */
  readonly mode: Mode;
  /** The value to beat, or null. */
  readonly baseline: number | null;
  /** Whether the best epoch's weights are restored at the end. */
  readonly restoreBestWeights: boolean;
  /** Epochs before monitoring starts. */
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
    checkOptions('earlyStopping', args, {
      monitor: is.string, minDelta: is.number, patience: is.number, mode: is.string, baseline: is.number, restoreBestWeights: is.boolean, startFromEpoch: is.number,
    }, "{monitor: 'val_loss', patience: 3}");
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

  /** Resets the counters and the best value. */
  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestWeights = null;
    this.bestEpoch = 0;
    this.best = this.down ? Infinity : -Infinity;
  }

  /** Compares the monitored value with the best; stops training when patience runs out. */
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

  /** Restores the best epoch's weights (with restoreBestWeights). */
  async onTrainEnd(): Promise<void> {
    if (this.restoreBestWeights && this.bestWeights !== null) await this.requireModel('earlyStopping').setWeights(this.bestWeights);
  }
}
