/**
 * The public types of the model API (compile, fit, fitDataset, evaluate, callbacks, history),
 * shared by every model (functional models and Sequential). Types only: no code.
 */
import type { TensorLike } from '../host';
import type { Layer } from '../layers/layer';
import type { SymbolicTensor } from '../layers/symbolic';
import type { Optimizer } from '../optim/optimizers';
import type { Model } from './model';

/** Loss names (Keras and tfjs spellings): mean squared error, mean absolute error, Huber (delta 1). */
export type LossName =
  | 'mse' | 'meanSquaredError' | 'mean_squared_error'
  | 'mae' | 'meanAbsoluteError' | 'mean_absolute_error'
  | 'huber' | 'huberLoss' | 'huber_loss';

/**
 * A loss with options, made by `rnn.losses.*`: `delta` for Huber (Keras default 1.0), and
 * `warmupSteps` to ignore the first time steps of [batch, time, features] outputs (the weather
 * lesson's `loss_mse_warmup`: a recurrent model's first outputs have seen too little history).
 */
export interface LossSpec {
  /** Which loss: mean squared error, mean absolute error or Huber. */
  kind: 'mse' | 'mae' | 'huber';
  /** Time steps ignored at the start of sequence outputs (0: none). */
  warmupSteps: number;
  /** Huber only. */
  delta?: number;
}

/**
 * Metrics fit's history and evaluate report (Keras and tfjs spellings): mean squared error, mean
 * absolute error, root mean squared error, and the chapter's last_time_step_mse (the MSE of the
 * last time step of [batch, time, features] outputs). Keras's Mean semantics: masked steps and
 * sample weights count as in the loss, summed over the epoch.
 */
export type MetricName =
  | 'mse' | 'meanSquaredError' | 'mean_squared_error'
  | 'mae' | 'meanAbsoluteError' | 'mean_absolute_error'
  | 'rmse' | 'rootMeanSquaredError' | 'root_mean_squared_error'
  | 'lastTimeStepMse' | 'last_time_step_mse';

/** One value per model output: a list in output order, or an object by output layer name. */
export type PerOutput<T> = T | T[] | Record<string, T>;

/** Arguments of `compile`. */
export interface CompileArgs {
  /** An optimizer from `rnn.optimizers` or a name ('adam', 'adamw', 'sgd', 'rmsprop'). */
  optimizer: Optimizer | string;
  /**
   * The loss: a name ('mse', 'mae', 'huber') or `rnn.losses.*({…})`; for several outputs one for
   * all, a list in output order, or an object by output layer name (Keras).
   */
  loss: LossName | LossSpec | (LossName | LossSpec)[] | Record<string, LossName | LossSpec>;
  /** Several outputs: the weight of each output's loss in the total (default 1 each). */
  lossWeights?: number[] | Record<string, number>;
  /**
   * Metrics reported in fit's history and by evaluate: a list for every output, or per output
   * (a list of lists, or an object by output layer name).
   */
  metrics?: MetricName[] | MetricName[][] | Record<string, MetricName[]>;
}

/** Values handed to callbacks: loss, metrics, val_ entries, batch size. */
export type Logs = Record<string, number>;

/** Callbacks with tfjs/Keras names. All may be async; training awaits them. */
export interface Callback {
  /** Called by fit() before onTrainBegin with the model being trained (Keras `callback.model`). */
  setModel?(model: Model): void;
  /** Before the first epoch. */
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  /** After the last epoch (also when training was stopped). */
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  /** Before each epoch (`epoch` from 0). */
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  /**
   * After the epoch's loss, metrics and validation are known. The model may be used here (e.g.
   * `await model.predict(x)` or `evaluate`) while fit waits.
   */
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  /** Before each batch (`batch` from 0 in its epoch); `logs.size` is its row count. */
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  /** `logs.size` is the batch's row count. The loss is not read back per batch (no per-step readback). */
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
}

/** A model's data: one array for one input (or output); a list, or an object by input (output) layer name, for several. */
export type ModelData = TensorLike | TensorLike[] | Record<string, TensorLike>;

/** Options of `fit`. */
export interface FitArgs {
  /** Default 1. */
  epochs?: number;
  /** Default 32 (Keras). */
  batchSize?: number;
  /** Evaluated at the end of every epoch; adds val_loss (and val_ metrics) to the history. */
  validationData?: [ModelData, ModelData];
  /** Fraction of the data (taken from the end, before shuffling, as Keras does) used for validation. */
  validationSplit?: number;
  /** Shuffle the training rows every epoch (default true; false for models with stateful layers). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: the model's seed). */
  seed?: number;
  /** Per-row weights of the loss and metrics, [rows] (Keras sample_weight). */
  sampleWeight?: TensorLike;
  /** Callbacks called during training, e.g. `rnn.callbacks.earlyStopping(...)` or `{onEpochEnd(epoch, logs) {...}}`. */
  callbacks?: Callback | Callback[];
  /** Give the event loop a turn at least every this many milliseconds (browsers stay responsive). Default 16 in browsers, 200 in Node. */
  yieldEvery?: number;
  /**
   * Continue the run a GPU device loss interrupted (after `await rnn.recover()`), from the model's
   * host backup: the same epoch and batch, shuffled order, optimizer state, random streams and
   * the epoch's running loss, so it ends as the uninterrupted run would have. Give the same data
   * and options as that run. The history returned covers the whole run. Default false.
   */
  resume?: boolean;
}

/** Options of `fitDataset`. */
export interface FitDatasetArgs {
  /** Default 1. */
  epochs?: number;
  /** Batches drawn per epoch (Keras steps_per_epoch). */
  batchesPerEpoch: number;
  /** Evaluated at the end of every epoch; adds val_loss (and val_ metrics) to the history. */
  validationData?: [ModelData, ModelData];
  /** Rows per validation forward pass (default 128; 1 for one long sequence). */
  validationBatchSize?: number;
  /** Callbacks called during training. */
  callbacks?: Callback | Callback[];
  /** Give the event loop a turn at least every this many milliseconds (default 16 in browsers, 200 in Node). */
  yieldEvery?: number;
  /** Continue the run a GPU device loss interrupted (see FitArgs.resume). Default false. */
  resume?: boolean;
}

/** What fit returns: the epochs run and, per log name, one value per epoch. */
export interface History {
  /** The epochs run (0, 1, …). */
  epoch: number[];
  /** Per log name (`loss`, `val_loss`, metrics, `learning_rate`…), one value per epoch. */
  history: Record<string, number[]>;
}

/** What one training step costs (`model.trainingStepInfo`). */
export interface TrainingStepInfo {
  /** Compute dispatches: forward, backward and optimizer. */
  dispatches: number;
  /** Bytes of activations saved for the backward pass. */
  savedBytes: number;
  /** Queue submits per step (always 1). */
  submits: number;
}

/** Options of `evaluate` and `predict`. */
export interface EvaluateArgs {
  /** Rows per forward pass (default 128; results do not depend on it). */
  batchSize?: number;
}

/** Options of `new Sequential` / `rnn.sequential`. */
export interface SequentialArgs {
  /** The layers in order (the first one gives the inputShape); more can be added with `model.add`. */
  layers?: Layer[];
  /** The model's name (default 'sequential', 'sequential_1', …). */
  name?: string;
  /** Seed of the weight initializers and of fit's shuffling. Default: `setSeed`'s value, else random. */
  seed?: number;
}

/** Options of `rnn.model` (tfjs `tf.model`, Keras `keras.Model(inputs, outputs)`). */
export interface ModelArgs {
  /** The model's inputs: `rnn.input()` tensors. */
  inputs: SymbolicTensor | SymbolicTensor[];
  /** The model's outputs: tensors computed from the inputs by `layer.apply()`. */
  outputs: SymbolicTensor | SymbolicTensor[];
  /** The model's name (default 'model', 'model_1', …). */
  name?: string;
  /** Seed of the weight initializers and of fit's shuffling. Default: `setSeed`'s value, else random. */
  seed?: number;
}
