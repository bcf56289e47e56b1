/**
 * Shared types of the demo: the model/training configuration (also stored in saved weight files)
 * and the messages exchanged between the page (main.ts, which only draws) and the training
 * Worker (worker.ts, which owns the GPU and the model).
 */
import type { GpuInfo } from '../src/index';

export const CELLS = ['simpleRNN', 'lstm', 'gru'] as const;
export type Cell = (typeof CELLS)[number];
export const HEADS = ['next', 'vector10'] as const;
/** 'next': Dense(1) predicts the next step; 'vector10': seq-to-vector Dense(10) predicts the next 10. */
export type Head = (typeof HEADS)[number];
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const CLIPPINGS = ['none', 'clipnorm', 'globalClipnorm', 'clipvalue'] as const;
export type Clipping = (typeof CLIPPINGS)[number];

/** Forecast horizon of the 10-step views (and of the Dense(10) head). */
export const HORIZON = 10;

/** Everything needed to rebuild and retrain a model; saved in weight files. */
export interface ModelConfig {
  cell: Cell;
  /** GRU only. */
  resetAfter: boolean;
  units: number;
  /** Stacked recurrent layers (all but the last with returnSequences). */
  depth: number;
  head: Head;
  optimizer: OptimizerName;
  learningRate: number;
  clipping: Clipping;
  clipValue: number;
  epochs: number;
  batchSize: number;
  /** Input window length (time steps per sample). */
  window: number;
  /** Seed of the weight initialisation and the shuffling. */
  seed: number;
}

export const DEFAULT_CONFIG: ModelConfig = {
  cell: 'lstm',
  resetAfter: true,
  units: 16,
  depth: 1,
  head: 'next',
  optimizer: 'adam',
  learningRate: 0.01,
  clipping: 'none',
  clipValue: 1,
  epochs: 5,
  batchSize: 32,
  window: 50,
  seed: 42,
};

/** The data a run trains on. Series data (Seattle, CSV) is windowed and standardized in the worker. */
export type DataSpec =
  | { kind: 'synthetic'; nTrain: number; seed: number }
  | { kind: 'series'; name: string; column: string; values: Float64Array };

/** One weight array as transferred between page and worker (Keras order and layout). */
export interface WeightArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A validation window and the forecasts for its next {@link HORIZON} steps (data units). */
export interface ForecastSeries {
  /** Index of the window in the validation set. */
  index: number;
  history: number[];
  truth: number[];
  /** Model forecast: iterative (each 1-step prediction fed back) or the Dense(10) vector. */
  forecast: number[];
  /** Naive baseline: the last input value repeated. */
  naive: number[];
}

export interface DataInfo {
  name: string;
  nTrain: number;
  nValid: number;
  window: number;
  /** Naive-baseline MSE on the validation targets (the scale the loss is computed on). */
  naiveMse: number;
  /** True when the loss is computed on standardized values. */
  standardized: boolean;
  unit: string;
}

export interface ForecastReport {
  series: ForecastSeries[];
  /** MSE over the whole validation set of the 10-step forecast (model and naive), on the loss scale. */
  modelMse10: number;
  naiveMse10: number;
  /** How the 10 steps were produced. */
  mode: 'iterative' | 'vector';
}

export type ToWorker =
  | { type: 'start'; config: ModelConfig; data: DataSpec }
  | { type: 'load'; config: ModelConfig; data: DataSpec; weights: WeightArray[] }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'gpu'; info: GpuInfo }
  | { type: 'gpu-error'; message: string }
  | { type: 'data'; info: DataInfo }
  | {
      type: 'progress';
      /** 'batch' updates are throttled; 'epoch' carries the epoch's logs. */
      kind: 'batch' | 'epoch';
      epoch: number;
      epochs: number;
      batch: number;
      batches: number;
      samplesPerSec: number;
      elapsedMs: number;
      logs?: Record<string, number>;
    }
  | {
      type: 'done';
      mode: 'trained' | 'loaded';
      stopped: boolean;
      history: Record<string, number[]>;
      forecasts: ForecastReport;
      weights: WeightArray[];
      elapsedMs: number;
      valLoss: number;
    }
  | { type: 'error'; message: string };
