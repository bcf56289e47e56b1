/**
 * webgpu-rnn — train recurrent neural networks on the GPU through WebGPU.
 *
 * Keras/tfjs-style API:
 * ```ts
 * import * as rnn from 'webgpu-rnn';
 * const model = rnn.sequential({ layers: [
 *   rnn.layers.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] }),
 *   rnn.layers.dense({ units: 1 }),
 * ] });
 * model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.001 }), loss: 'mse' });
 * const history = await model.fit(x, y, { epochs: 20, batchSize: 32, validationData: [xv, yv] });
 * ```
 */
import { Sequential, type SequentialArgs } from './model/sequential';
import { Dense, Flatten, TimeDistributed, type DenseArgs, type TimeDistributedArgs } from './layers/dense';
import type { LayerArgs } from './layers/layer';
import { Adam, AdamW, SGD, RMSprop, type AdamConfig, type AdamWConfig, type SgdConfig, type RmspropConfig } from './optim/optimizers';
import { schedules } from './optim/schedules';
import { LayerNormalization, BatchNormalization, type NormalizationArgs, type BatchNormalizationArgs } from './layers/normalization';
import { SimpleRNN, LSTM, GRU, type RecurrentArgs, type LSTMArgs, type GRUArgs } from './layers/recurrent';
import { Bidirectional, type BidirectionalArgs } from './layers/bidirectional';
import { Masking, type MaskingArgs } from './layers/masking';
import { RNN, LNSimpleRNNCell, type RNNArgs, type LNSimpleRNNCellArgs } from './layers/cells';

export { Sequential, setSeed } from './model/sequential';
export type { LossSpec, FitDatasetArgs, CompileArgs, FitArgs, EvaluateArgs, History, Callback, Logs, SequentialArgs, LossName, MetricName } from './model/types';
export type { TensorLike, NestedArray } from './host';
export type { HostTensor } from './host';
export { Layer } from './layers/layer';
export type { Shape, LayerArgs, WeightSpec } from './layers/layer';
export { Dense, Flatten, TimeDistributed } from './layers/dense';
export type { DenseArgs, TimeDistributedArgs } from './layers/dense';
export { RecurrentLayer, SimpleRNN, LSTM, GRU } from './layers/recurrent';
export type { RecurrentArgs, GatedArgs, LSTMArgs, GRUArgs, StatefulLayer } from './layers/recurrent';
export { Bidirectional } from './layers/bidirectional';
export type { BidirectionalArgs } from './layers/bidirectional';
export { Masking } from './layers/masking';
export type { MaskingArgs } from './layers/masking';
export type { MergeMode } from './ops/sequence';
export { RNN, LNSimpleRNNCell, cellOps } from './layers/cells';
export type { RNNArgs, LNSimpleRNNCellArgs, RecurrentCell, CellStep } from './layers/cells';
export { Optimizer, Adam, AdamW, SGD, RMSprop } from './optim/optimizers';
export type { AdamConfig, AdamWConfig, SgdConfig, RmspropConfig, OptimizerConfig, ClipConfig } from './optim/optimizers';
export { LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay } from './optim/schedules';
export { LayerNormalization, BatchNormalization } from './layers/normalization';
export type { NormalizationArgs, BatchNormalizationArgs } from './layers/normalization';
export { callbacks, BaseCallback, EarlyStopping, ReduceLROnPlateau, TerminateOnNaN, ModelCheckpoint, CSVLogger, HistoryLogger, readCheckpoint } from './callbacks';
export type { CallbackModel, EarlyStoppingArgs, ReduceLROnPlateauArgs, ModelCheckpointArgs, MemoryCheckpoint, CheckpointFile, CsvLoggerArgs, HistoryLoggerArgs } from './callbacks';
export type { ExponentialDecayConfig, PiecewiseConstantDecayConfig, LearningRateLike, SerializedSchedule } from './optim/schedules';
export { getGpu, GpuError } from './gpu/device';
export type { Gpu, GpuInfo } from './gpu/device';
export { ShaderError } from './gpu/shader';
export * as data from './data/synthetic';
export { MT19937 } from './data/mt19937';
/** Danish hourly weather (Hvass-Labs lesson #23): download, load, task, batches, baselines. */
export * as weather from './lessons/weather/index';
/** Seattle / New York daily weather (vega-datasets): parse, next-day temp_max task, baseline. */
export * as seattle from './data/seattle';
export { MinMaxScaler, randomSubsequences, warmupMse } from './data/windows';
export type { SubsequenceOptions, SubsequenceBatch } from './data/windows';
export { parseCsv, forEachCsvRecord, CsvError } from './data/csv';
export type { CsvOptions, CsvTable } from './data/csv';
export { iterativeForecast } from './forecast';

/** Creates a Sequential model (tfjs: `tf.sequential`). */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}

/** Layer factories with tfjs names (`rnn.layers.dense({units: 1})`). */
export const layers = {
  /** Fully connected layer on the last axis (per time step on sequences). */
  dense: (args: DenseArgs) => new Dense(args),
  /** Flattens all non-batch dimensions. */
  flatten: (args: LayerArgs = {}) => new Flatten(args),
  /** Applies a layer to every time step. */
  timeDistributed: (args: TimeDistributedArgs) => new TimeDistributed(args),
  /** Fully connected recurrent layer (Keras SimpleRNN). */
  simpleRNN: (args: RecurrentArgs) => new SimpleRNN(args),
  /** Long short-term memory layer (Keras LSTM: gates i, f, c, o; unitForgetBias). */
  lstm: (args: LSTMArgs) => new LSTM(args),
  /** Gated recurrent unit (Keras GRU: gates z, r, h; resetAfter true by default). */
  gru: (args: GRUArgs) => new GRU(args),
  /** Keras Bidirectional: runs a copy of `layer` forwards and one backwards; mergeMode concat (default) | sum | mul | ave. */
  bidirectional: (args: BidirectionalArgs) => new Bidirectional(args),
  /** Keras Masking: steps whose features all equal maskValue (default 0) are skipped by the recurrent layers that follow. */
  masking: (args: MaskingArgs = {}) => new Masking(args),
  /** Keras RNN(cell): runs a custom cell (composed of `cellOps`) step by step (T × its ops per pass). */
  rnn: (args: RNNArgs) => new RNN(args),
  /** The chapter's layer-normalized SimpleRNN cell, for `layers.rnn({cell})`: tanh(LayerNorm(x·K + b + h·U)). */
  lnSimpleRNNCell: (args: LNSimpleRNNCellArgs) => new LNSimpleRNNCell(args),
  /** Keras LayerNormalization over the last axis (epsilon 1e-3; weights gamma, beta). */
  layerNormalization: (args: NormalizationArgs = {}) => new LayerNormalization(args),
  /** Keras BatchNormalization over all axes but the last (momentum 0.99, epsilon 1e-3; gamma, beta, moving_mean, moving_variance). */
  batchNormalization: (args: BatchNormalizationArgs = {}) => new BatchNormalization(args),
};

/** Losses with options (plain 'mse' needs none). */
export const losses = {
  /**
   * Mean squared error; `warmupSteps` ignores the first steps of sequence outputs (the weather
   * lesson's loss_mse_warmup with 50).
   */
  meanSquaredError: (opts: { warmupSteps?: number } = {}): import('./model/sequential').LossSpec => ({ kind: 'mse', warmupSteps: opts.warmupSteps ?? 0 }),
};

/** Optimizer factories with tfjs/Keras names and Keras 3 defaults. */
export const optimizers = {
  /** Adam (Keras 3 formulation): lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7. */
  adam: (cfg: AdamConfig = {}) => new Adam(cfg),
  /** SGD (Keras 3): lr 0.01, momentum 0, nesterov false. */
  sgd: (cfg: SgdConfig = {}) => new SGD(cfg),
  /** AdamW (Keras 3): Adam with decoupled weight decay p -= p·wd·lr, weightDecay 0.004. */
  adamw: (cfg: AdamWConfig = {}) => new AdamW(cfg),
  /** RMSprop (Keras 3): lr 0.001, rho 0.9, momentum 0, epsilon 1e-7 (inside the root), centered false. */
  rmsprop: (cfg: RmspropConfig = {}) => new RMSprop(cfg),
  /** Learning-rate schedules to pass as `learningRate` (Keras `keras.optimizers.schedules`). */
  schedules,
};
