/**
 * Shared types of the demo: the model/training configuration (also stored with saved models) and
 * the messages exchanged between the page (main.ts, which builds the form and draws) and the
 * worker (worker.ts, which parses CSV files, owns the GPU and the models).
 */
import type { DateFormat, Frequency, Seasonality } from './dates';
import type { SeriesFacts } from './series';

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

/** Everything needed to rebuild and retrain a model; saved with models (metadata) and in old weight files. */
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

/** One weight array of an old weights file (Keras order and layout). */
export interface WeightArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

// ------------------------------------------------------------------ data

/** A parsed CSV file (the worker keeps the columns; the page gets this description). */
export interface TableInfo {
  id: number;
  fileName: string;
  chars: number;
  rows: number;
  columns: string[];
  numeric: number[];
  dates: { column: number; format: DateFormat; invalid: number }[];
  delimiter: string;
  decimalComma: boolean;
  hasHeader: boolean;
  parseMs: number;
}

/** The series the worker built from a table (the worker keeps the values; the page gets this). */
export interface SeriesInfo {
  id: number;
  tableId: number;
  name: string;
  column: string;
  dateColumn: string | null;
  length: number;
  /** First and last time (ms) when the series has dates. */
  first: number | null;
  last: number | null;
  withTime: boolean;
  frequency: Frequency | null;
  seasonal: Seasonality | null;
  notes: string[];
  facts: SeriesFacts;
  /** The whole series, downsampled for drawing (x: time in ms, or row index without dates). */
  preview: { x: number[]; y: number[] };
  /** Baselines on the validation rows (data units) and the split they use. */
  split: { cut: number; validRows: number; firstValid: number | null };
  baselines: { naiveMae1: number; naiveMae10: number; seasonalMae1: number | null; seasonalMae10: number | null };
  buildMs: number;
}

/** The data a run trains on. */
export type DataRef = { kind: 'synthetic'; nTrain: number; seed: number } | { kind: 'series'; seriesId: number };

/** What describes a run's data in files (saved models, settings) and in the load confirmation. */
export interface DataDescriptor {
  kind: 'synthetic' | 'series';
  name: string;
  column: string | null;
  dateColumn: string | null;
  rows: number;
  first: string | null;
  last: string | null;
  frequency: string | null;
  /** Standardization of the model's inputs and outputs (training part's mean and std). */
  mean: number;
  std: number;
}

/** Scores of a forecaster on the validation part (see series.ts). */
export interface Scores {
  mae1: number;
  mae10: number;
  mseLoss: number;
}

export interface DataInfo {
  descriptor: DataDescriptor;
  nTrain: number;
  nValid1: number;
  nValid10: number;
  window: number;
  standardized: boolean;
  /** The value's name (the CSV column), '' for synthetic data. */
  unit: string;
  naive: Scores;
  seasonal: Scores | null;
  seasonalLabel: string | null;
  /** Times (ms) of the first and last validation target, when the series has dates. */
  validFrom: number | null;
  validTo: number | null;
  withTime: boolean;
  /** The series' frequency (null for synthetic data). */
  frequency: Frequency | null;
}

/** A 10-step validation window: history, truth and the forecasts (data units). */
export interface ForecastWindow {
  /** Index of the window among the 10-step validation windows. */
  index: number;
  /** x of the history and of the future steps: times in ms, or step numbers (0 = last input). */
  historyX: number[];
  history: number[];
  x: number[];
  truth: number[];
  forecast: number[];
  naive: number[];
  seasonal: number[] | null;
}

export interface RunResults {
  model: Scores;
  naive: Scores;
  seasonal: Scores | null;
  seasonalLabel: string | null;
  /** How the 10 steps were produced. */
  mode: 'iterative' | 'vector';
  /** Next-step forecasts over the validation rows of a series (x: times in ms or row indices); null for synthetic data. */
  validation: { x: number[]; truth: number[]; model: number[]; naive: number[]; seasonal: number[] | null } | null;
  /** Every 10-step validation window's forecasts, row-major [n, 10] (data units). */
  tenStep: { n: number; truth: Float32Array; model: Float32Array; naive: Float32Array; seasonal: Float32Array | null };
  /** Three windows to draw. */
  windows: ForecastWindow[];
  /** The 10 steps after the data ends (series only). */
  future: { historyX: number[]; history: number[]; x: number[]; forecast: number[] } | null;
  withTime: boolean;
  hasDates: boolean;
}

// ------------------------------------------------------------------ messages

/** What a run's dataset ('run') and evaluation ('evaluate' task) in the worker are given. */
export interface RunArgs {
  config: ModelConfig;
  ref: DataRef;
}

/** What the worker's 'evaluate' task returns: the data it used, the scores and forecasts, its time. */
export interface EvalResult {
  info: DataInfo;
  results: RunResults;
  evalMs: number;
}

/**
 * The demo's own messages. Models, training (progress, Stop), evaluation and saving go through
 * the library's Worker helper (rnn.worker) on the same Worker; its messages carry a tag
 * (`channel: 'webgpu-rnn'`) and each side ignores the other's.
 */
export type ToWorker =
  | { type: 'parse'; id: number; source: { kind: 'file'; file: File } | { kind: 'seattle' } }
  | { type: 'series'; id: number; tableId: number; dateColumn: number | null; column: number };

export type FromWorker =
  | { type: 'parse-progress'; id: number; fraction: number }
  | { type: 'table'; id: number; info: TableInfo }
  | { type: 'table-error'; id: number; message: string }
  | { type: 'series'; id: number; info: SeriesInfo }
  | { type: 'series-error'; id: number; message: string }
  /** What a run is doing now, in words (shown in the status line). */
  | { type: 'status'; text: string }
  /** The data of a run that starts training. */
  | { type: 'data'; info: DataInfo };
