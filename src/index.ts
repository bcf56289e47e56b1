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
import type { LossSpec } from './model/types';
import { Dense, Flatten, TimeDistributed, type DenseArgs, type TimeDistributedArgs } from './layers/dense';
import type { LayerArgs, Shape } from './layers/layer';
import { Adam, AdamW, SGD, RMSprop, type AdamConfig, type AdamWConfig, type SgdConfig, type RmspropConfig } from './optim/optimizers';
import { schedules } from './optim/schedules';
import { LayerNormalization, BatchNormalization, type NormalizationArgs, type BatchNormalizationArgs } from './layers/normalization';
import { SimpleRNN, LSTM, GRU, type RecurrentArgs, type LSTMArgs, type GRUArgs } from './layers/recurrent';
import { Bidirectional, type BidirectionalArgs } from './layers/bidirectional';
import { Masking, type MaskingArgs } from './layers/masking';
import { RNN, LNSimpleRNNCell, type RNNArgs, type LNSimpleRNNCellArgs } from './layers/cells';
import { Model } from './model/model';
import type { ModelArgs } from './model/types';
import { InputLayer } from './layers/layer';
import type { SymbolicTensor } from './layers/symbolic';
import { Add, Average, Concatenate, Multiply, Subtract, type ConcatenateArgs } from './layers/merge';
import { RepeatVector, Reshape, type RepeatVectorArgs, type ReshapeArgs } from './layers/reshape';
import { GaussianNoise, type GaussianNoiseArgs } from './layers/noise';
import { Dropout, type DropoutArgs } from './layers/dropout';

export { Sequential, setSeed } from './model/sequential';
export { Model } from './model/model';
export type { LossSpec, FitDatasetArgs, CompileArgs, FitArgs, EvaluateArgs, History, Callback, Logs, SequentialArgs, LossName, MetricName, ModelArgs, ModelData, PerOutput } from './model/types';
export { SymbolicTensor } from './layers/symbolic';
export { InputLayer } from './layers/layer';
export type { ApplyArgs } from './layers/layer';
export { Add, Subtract, Multiply, Average, Concatenate } from './layers/merge';
export type { ConcatenateArgs } from './layers/merge';
export { RepeatVector, Reshape } from './layers/reshape';
export { GaussianNoise } from './layers/noise';
export type { GaussianNoiseArgs } from './layers/noise';
export { Dropout } from './layers/dropout';
export type { DropoutArgs } from './layers/dropout';
export type { RepeatVectorArgs, ReshapeArgs } from './layers/reshape';
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
export { getGpu, GpuError, DeviceLostError } from './gpu/device';
export type { Gpu, GpuInfo, GpuOptions } from './gpu/device';
export { recover } from './model/recover';
export type { RecoverResult } from './model/recover';
export { selfTest, SelfTestError } from './model/self-test';
export type { SelfTestResult } from './model/self-test';
export { ShaderError } from './gpu/shader';
export * as data from './data/synthetic';
export { MT19937 } from './data/mt19937';
/** Danish hourly weather (Hvass-Labs lesson #23): download, load, task, batches, baselines. */
export * as weather from './lessons/weather/index';
/** Seattle / New York daily weather (vega-datasets): parse, next-day temp_max task, baseline. */
export * as seattle from './data/seattle';
export { MinMaxScaler, randomSubsequences, warmupMse, windowsAt, maeRmse } from './data/windows';
export { timeseriesDatasetFromArray } from './data/timeseries';
export type { TimeseriesOptions, TimeseriesDataset } from './data/timeseries';
import { timeseriesDatasetFromArray } from './data/timeseries';
/** Keras `keras.utils` helpers: `timeseriesDatasetFromArray` (sliding windows and their targets). */
export const utils = {
  /** Keras `timeseries_dataset_from_array`: sliding windows over a series and their targets (see {@link timeseriesDatasetFromArray}). */
  timeseriesDatasetFromArray,
};
export type { SubsequenceOptions, SubsequenceBatch } from './data/windows';
export { parseCsv, forEachCsvRecord, CsvError } from './data/csv';
export type { CsvOptions, CsvTable } from './data/csv';
export { iterativeForecast } from './forecast';

/** Creates a Sequential model (tfjs: `tf.sequential`). */
export function sequential(args: SequentialArgs = {}): Sequential {
  return new Sequential(args);
}

/**
 * The input of a functional model (tfjs `tf.input`, Keras `keras.Input`): a symbolic tensor of
 * `shape` (without the batch dimension; `null` = any length, e.g. the time steps).
 *
 * @example
 * ```ts
 * const x = rnn.input({ shape: [null, 1] });
 * const [seq, h, c] = rnn.layers.lstm({ units: 20, returnSequences: true, returnState: true }).apply(x) as rnn.SymbolicTensor[];
 * const y = rnn.layers.dense({ units: 1 }).apply(h) as rnn.SymbolicTensor;
 * const model = rnn.model({ inputs: x, outputs: y });
 * ```
 */
export function input(args: { shape: Shape; name?: string }): SymbolicTensor {
  if (!args || typeof args !== 'object') throw new TypeError('input: expected an options object like {shape: [null, 1]}');
  return new InputLayer(args).output;
}

/**
 * A functional model from its inputs to its outputs (tfjs `tf.model`, Keras `keras.Model`): any
 * graph of layers made with `layer.apply()`, with several inputs and outputs and shared layers.
 * Everything a Sequential has works on it (fit, evaluate, predict, trainOnBatch, weights, summary).
 */
export function model(args: ModelArgs): Model {
  return new Model(args);
}

/** Layer factories with tfjs names (`rnn.layers.dense({units: 1})`). */
export const layers = {
  /** Fully connected layer on the last axis (per time step on sequences). */
  dense: (args: DenseArgs) => new Dense(args),
  /** Flattens all non-batch dimensions. */
  flatten: (args: LayerArgs = {}) => new Flatten(args),
  /** Applies a layer to every time step. */
  timeDistributed: (args: TimeDistributedArgs) => new TimeDistributed(args),
  /**
   * Fully connected recurrent layer (Keras SimpleRNN).
   *
   * @example
   * ```ts
   * // the chapter's deep RNN: SimpleRNN(20) → SimpleRNN(20) → Dense(1)
   * rnn.sequential({ layers: [
   *   rnn.layers.simpleRNN({ units: 20, returnSequences: true, inputShape: [null, 1] }),
   *   rnn.layers.simpleRNN({ units: 20 }),
   *   rnn.layers.dense({ units: 1 }),
   * ] });
   * ```
   */
  simpleRNN: (args: RecurrentArgs) => new SimpleRNN(args),
  /**
   * Long short-term memory layer (Keras LSTM: gates i, f, c, o; unitForgetBias).
   *
   * @example
   * ```ts
   * rnn.layers.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] });
   * rnn.layers.lstm({ units: 64, dropout: 0.2, recurrentDropout: 0.2 });
   * ```
   */
  lstm: (args: LSTMArgs) => new LSTM(args),
  /**
   * Gated recurrent unit (Keras GRU: gates z, r, h; resetAfter true by default).
   *
   * @example
   * ```ts
   * rnn.layers.gru({ units: 20, returnSequences: true, inputShape: [null, 1] });
   * rnn.layers.gru({ units: 32, resetAfter: false }); // the original (Cho et al.) formulation
   * ```
   */
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
  /** Keras RepeatVector: a vector [batch, features] repeated over n steps, [batch, n, features]. */
  repeatVector: (args: RepeatVectorArgs) => new RepeatVector(args),
  /** Keras Reshape: the same values in another shape (the batch stays; one -1 is inferred). */
  reshape: (args: ReshapeArgs) => new Reshape(args),
  /** Keras Concatenate: joins a list of inputs along `axis` (default -1, the features). */
  concatenate: (args: ConcatenateArgs = {}) => new Concatenate(args),
  /** Keras Add: the elementwise sum of a list of inputs. */
  add: (args: LayerArgs = {}) => new Add(args),
  /** Keras Subtract: inputs[0] - inputs[1]. */
  subtract: (args: LayerArgs = {}) => new Subtract(args),
  /** Keras Multiply: the elementwise product of a list of inputs. */
  multiply: (args: LayerArgs = {}) => new Multiply(args),
  /** Keras Average: the elementwise mean of a list of inputs. */
  average: (args: LayerArgs = {}) => new Average(args),
  /** Keras GaussianNoise: adds N(0, stddev²) noise in training only (a regularizer; e.g. on teacher-forced decoder inputs). */
  gaussianNoise: (args: GaussianNoiseArgs) => new GaussianNoise(args),
  /** Keras Dropout: zeroes a fraction `rate` of the values in training (the rest scaled by 1/(1 − rate)); identity at inference. */
  dropout: (args: DropoutArgs) => new Dropout(args),
};

/** Losses with options, for compile's `loss` (the names 'mse', 'mae', 'huber' need none). Keras 3 formulas. */
export const losses = {
  /**
   * Mean squared error; `warmupSteps` ignores the first steps of sequence outputs (the weather
   * lesson's loss_mse_warmup with 50).
   */
  meanSquaredError: (opts: { warmupSteps?: number } = {}): LossSpec => {
    checkOptions('losses.meanSquaredError', opts, { warmupSteps: is.nonNegativeInt }, '{warmupSteps: 50}');
    return { kind: 'mse', warmupSteps: opts.warmupSteps ?? 0 };
  },
  /** Mean absolute error (Keras `mean_absolute_error`); `warmupSteps` as for meanSquaredError. */
  meanAbsoluteError: (opts: { warmupSteps?: number } = {}): LossSpec => {
    checkOptions('losses.meanAbsoluteError', opts, { warmupSteps: is.nonNegativeInt }, '{warmupSteps: 50}');
    return { kind: 'mae', warmupSteps: opts.warmupSteps ?? 0 };
  },
  /**
   * Huber loss (Keras `Huber`): 0.5·d² where |d| ≤ delta, else delta·(|d| − 0.5·delta), averaged
   * over the last axis; delta defaults to 1.0 as in Keras. Robust to outliers (e.g. ridership spikes).
   */
  huber: (opts: { delta?: number; warmupSteps?: number } = {}): LossSpec => {
    checkOptions('losses.huber', opts, { delta: is.positive, warmupSteps: is.nonNegativeInt }, '{delta: 1}');
    return { kind: 'huber', delta: opts.delta ?? 1, warmupSteps: opts.warmupSteps ?? 0 };
  },
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

// ---------------------------------------------------------------------------------------------
// Training in a Web Worker (src/worker/)
import { createTrainingWorker, type TrainingWorker, type TrainingWorkerOptions } from './worker/client';
import { serveTraining, type ServeOptions } from './worker/serve';
import type { SequentialSpecOf, SpecOf } from './worker/spec';
import { callbacks as callbackFactories } from './callbacks';
import { checkOptions, is } from './options';

export type { TrainingWorker, WorkerModel, TrainingWorkerOptions, WorkerFitArgs, WorkerFitDatasetArgs, FitProgress, LoadedModelInfo } from './worker/client';
export type { ServeOptions, WorkerTrainable, WorkerDataset } from './worker/serve';
/** A layer as data for a training Worker: `{type, ...options}` with `type` a name of `rnn.layers` (e.g. `{type: 'lstm', units: 20}`). */
export type LayerSpec = SpecOf<typeof layers>;
/** A Sequential model as data for a training Worker: its layers as {@link LayerSpec}s, name, seed and compile arguments. */
export type SequentialSpec = SequentialSpecOf<typeof layers, typeof optimizers>;
/** A callback of `rnn.callbacks` as data, to run in a training Worker (e.g. `{type: 'earlyStopping', patience: 3}`). */
export type CallbackSpec = SpecOf<typeof callbackFactories>;
// the type-level helpers the specs are made with
export type { Factory, SpecOptions, SpecLevel, SpecOf, FactoryKeys, OptimizerSpecOf, CompileSpecOf, SequentialSpecOf } from './worker/spec';
// types the API mentions (documented with it)
export type { InitializerName } from './layers/initializers';
export type { CellType } from './ops/rnn-cells';
export type { CellFusion } from './layers/cells';
export type { CsvStreamOptions } from './data/csv';
export type { DatasetFn, DatasetBatch } from './model/train-loop';
export type { TrainingStepInfo } from './model/types';
export type { Mode as MonitorMode } from './callbacks/base';
export type { NonFiniteName } from './callbacks/checkpoint';

/**
 * Training in a dedicated Web Worker, so a page never freezes: the worker owns the GPU device and
 * the models; the page sends data and gets progress, the callbacks' logs and results back.
 *
 * @example
 * ```ts
 * const trainer = rnn.worker.create();               // the library's worker script
 * console.log((await trainer.gpu).description);
 * const model = await trainer.sequential({
 *   layers: [
 *     { type: 'lstm', units: 20, returnSequences: true, inputShape: [null, 1] },
 *     { type: 'lstm', units: 20, returnSequences: true },
 *     { type: 'timeDistributed', layer: { type: 'dense', units: 10 } },
 *   ],
 *   compile: { optimizer: { type: 'adam', learningRate: 0.001 }, loss: 'mse' },
 * });
 * const history = await model.fit(train.x, train.y, {
 *   epochs: 20, validationData: [valid.x, valid.y],
 *   onProgress: (p) => console.log(p.epoch, p.batch, '/', p.batches),
 * });
 * stopButton.onclick = () => model.stop();             // ends fit after the current batch
 * const forecast = await model.predict(valid.x);
 * ```
 */
export const worker = {
  /**
   * Starts a training Worker. Without `url`, the library's worker script (models built from
   * {@link SequentialSpec}s). With `url`, your module, which calls `rnn.worker.serve()` — e.g.
   * `rnn.worker.create(new URL('./train.worker.ts', import.meta.url))` — to build models with
   * any code (`serve({models: {name: (args) => model}})`, then `trainer.model(name, args)`).
   * With a `Worker` you made, that one: its module calls `serve()` and may exchange your own
   * messages on it too (the library's carry a tag and ignore the others).
   */
  create: (url?: string | URL | Worker, options?: TrainingWorkerOptions): TrainingWorker<SequentialSpec, CallbackSpec> => createTrainingWorker<SequentialSpec, CallbackSpec>(url, options),
  /** Answers a page's `rnn.worker.create(url)` from inside the Worker module at `url` (call once, at its top level). */
  serve: (options?: ServeOptions): void => serveTraining({ layers, optimizers, sequential }, options),
};

export { loadModel } from './model/load';
export type { SaveOptions } from './model/serialize';
export type { IOHandler, SaveResult, SavedFile, MemoryHandler } from './io/handlers';
export type { FormatName } from './io/formats';
export type { StoredModelInfo } from './io/browser-handlers';
export type { ModelArtifacts, ModelJSON, NamedFile, TopologyJSON, LayerJSON, NodeJSON, TensorRef, WeightEntry, TrainingConfigJSON, TrainingStateJSON, ClassConfig } from './io/artifacts';
import { memory as ioMemory, browserFiles as ioBrowserFiles, httpSource } from './io/handlers';
import { listModels as ioListModels, removeModel as ioRemoveModel } from './io/browser-handlers';
import { detectFormat as ioDetectFormat } from './io/formats';
import { toPyTorch, fromPyTorch, toOnnx, readSafetensors, writeSafetensors } from './interop';
export { InteropError, SafetensorsError } from './interop';
export type { OnnxExportOptions, SafetensorsContents } from './interop';
import { registerClass } from './layers/registry';

/**
 * Saving and loading (see `model.save` and `rnn.loadModel`): handlers for memory, picked files and
 * http, the models kept in IndexedDB, and format detection.
 *
 * @example
 * ```ts
 * await model.save('indexeddb://forecaster');
 * console.log(await rnn.io.listModels()); // { forecaster: { format: 'webgpu-rnn', savedAt, bytes, files } }
 * const again = await rnn.loadModel(rnn.io.browserFiles(input.files!)); // files picked in a page
 * ```
 */
export const io = {
  /** An in-memory target and source: `model.save(mem)`, then `rnn.loadModel(mem)` or `mem.files`. */
  memory: ioMemory,
  /** Files picked in a page (`<input type=file multiple>`, drag and drop) as a source for loadModel / loadWeights. */
  browserFiles: ioBrowserFiles,
  /** An http(s) source with fetch options (headers, credentials): `rnn.loadModel(rnn.io.http(url, {credentials: 'include'}))`. */
  http: httpSource,
  /** The models saved with `indexeddb://name` in this page's origin. */
  listModels: ioListModels,
  /** Deletes a model saved with `indexeddb://name`. */
  removeModel: ioRemoveModel,
  /** Which format a set of files is ('webgpu-rnn', 'tfjs', 'keras', 'keras-weights'), from their bytes. */
  detectFormat: ioDetectFormat,
  /** The weights as a PyTorch state_dict (safetensors bytes, the topology in its metadata) for python/webgpu_rnn_torch.py (docs/pytorch-onnx.md). */
  toPyTorch,
  /** Sets the weights from a PyTorch state_dict in safetensors bytes; every key, shape and dtype checked first. */
  fromPyTorch,
  /** The inference graph as an ONNX model (opset 14–17, symbolic batch and time), for ONNX Runtime and other ONNX tools. */
  toOnnx,
  /** Float32 arrays by name (e.g. a training set's x and y) as safetensors bytes. */
  writeSafetensors,
  /** A safetensors file's tensors (as float32) and metadata. */
  readSafetensors,
};

/** Custom classes in saved models (tfjs `tf.serialization`). */
export const serialization = {
  /**
   * Registers a custom cell or layer class so that `rnn.loadModel` can rebuild it: `fromConfig`
   * receives what its `getConfig()` returned.
   */
  registerClass,
};
