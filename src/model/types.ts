/**
 * The public types of the model API (compile, fit, fitDataset, evaluate, callbacks, history),
 * shared by every model class. Types only: no code.
 */
import type { TensorLike } from '../host';
import type { Layer } from '../layers/layer';
import type { Optimizer } from '../optim/optimizers';
import type { Sequential } from './sequential';

/** Names of the mean squared error loss (Keras and tfjs spellings). */
export type LossName = 'mse' | 'meanSquaredError' | 'mean_squared_error';

/**
 * A loss with options: mean squared error that ignores the first `warmupSteps` time steps of
 * [batch, time, features] outputs (the weather lesson's `loss_mse_warmup`: a recurrent model's
 * first outputs have seen too little history to be judged). Made by `rnn.losses.meanSquaredError`.
 */
export interface LossSpec {
  kind: 'mse';
  warmupSteps: number;
}
/** Metrics fit's history and evaluate can report (Keras and tfjs spellings). */
export type MetricName = 'mse' | 'lastTimeStepMse' | 'last_time_step_mse';

/** Arguments of `compile`. */
export interface CompileArgs {
  /** An optimizer from `rnn.optimizers` or a name ('adam', 'adamw', 'sgd', 'rmsprop'). */
  optimizer: Optimizer | string;
  /** Mean squared error: 'mse' or `rnn.losses.meanSquaredError({warmupSteps})`. */
  loss: LossName | LossSpec;
  /** Extra metrics reported in fit's history and by evaluate: 'mse', 'lastTimeStepMse'. */
  metrics?: MetricName[];
}

/** Values handed to callbacks: loss, metrics, val_ entries, batch size. */
export type Logs = Record<string, number>;

/** Callbacks with tfjs/Keras names. All may be async; training awaits them. */
export interface Callback {
  /** Called by fit() before onTrainBegin with the model being trained (Keras `callback.model`). */
  setModel?(model: Sequential): void;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /** `logs.size` is the batch's row count. The loss is not read back per batch (no per-step readback). */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** Options of `fit`. */
export interface FitArgs {
  /** Default 1. */
  epochs?: number;
  /** Default 32 (Keras). */
  batchSize?: number;
  /** Evaluated at the end of every epoch; adds val_loss (and val_ metrics) to the history. */
  validationData?: [TensorLike, TensorLike];
  /** Fraction of the data (taken from the end, before shuffling, as Keras does) used for validation. */
  validationSplit?: number;
  /** Shuffle the training rows every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: the model's seed). */
  seed?: number;
  callbacks?: Callback | Callback[];
  /** Give the event loop a turn at least every this many milliseconds (browsers stay responsive). Default 16 in browsers, 200 in Node. */
  yieldEvery?: number;
}

/** Options of `fitDataset`. */
export interface FitDatasetArgs {
  /** Default 1. */
  epochs?: number;
  /** Batches drawn per epoch (Keras steps_per_epoch). */
  batchesPerEpoch: number;
  validationData?: [TensorLike, TensorLike];
  /** Rows per validation forward pass (default 128; 1 for one long sequence). */
  validationBatchSize?: number;
  callbacks?: Callback | Callback[];
  yieldEvery?: number;
}

/** What fit returns: the epochs run and, per log name, one value per epoch. */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

/** Options of `evaluate` and `predict`. */
export interface EvaluateArgs {
  /** Rows per forward pass (default 128; results do not depend on it). */
  batchSize?: number;
}

/** Options of `new Sequential` / `rnn.sequential`. */
export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
  /** Seed of the weight initializers and of fit's shuffling. Default: `setSeed`'s value, else random. */
  seed?: number;
}
