/**
 * The messages between a page (src/worker/client.ts) and its training Worker
 * (src/worker/serve.ts). Every request carries an id; the worker answers it once (result or
 * error) and, while a fit runs, sends events with the same id. Data travels as HostTensors
 * (Float32Array + shape), transferred where the sender no longer needs them.
 */
import type { GpuInfo } from '../gpu/device';
import type { HostTensor } from '../host';
import type { History, Logs } from '../model/types';
import type { NamedFile, TopologyJSON, TrainingConfigJSON } from '../io/artifacts';
import type { FormatName } from '../io/formats';

/**
 * Every message of the protocol carries this tag, in both directions, so a worker module (and a
 * page) can exchange its own messages on the same Worker: each side ignores what is not tagged.
 */
export const CHANNEL = 'webgpu-rnn';

/** A model's input or target data on the wire: one array, or one per input/output. */
export type WireData = HostTensor | HostTensor[];

/** Progress of a fit in a Worker: where it is and how fast it goes. */
export interface FitProgress {
  /**
   * 'batch': after a batch (at most every `progressEvery` ms); 'epoch': after an epoch, with its
   * logs; 'stop': when `stop()` reached the worker (`batch`: the batches done by then; the one in
   * progress is the last).
   */
  kind: 'batch' | 'epoch' | 'stop';
  /** Epoch index, from 0. */
  epoch: number;
  /** Epochs requested. */
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Training rows per second since the fit began. */
  samplesPerSec: number;
  /** Milliseconds since the fit began. */
  elapsedMs: number;
  /** The epoch's logs (loss, metrics, val_ entries); on 'epoch' progress. */
  logs?: Logs;
}

/** The Keras callback hooks a Worker fit forwards to the page. */
export type CallbackHook = 'onTrainBegin' | 'onTrainEnd' | 'onEpochBegin' | 'onEpochEnd' | 'onBatchBegin' | 'onBatchEnd';

/** What every training request sends (callbacks stay on the page; the hooks they use are named). */
export interface WireTrainArgs {
  epochs?: number;
  /** Specs of `rnn.callbacks` to run in the worker, next to the model (`{type: 'earlyStopping', ...}`). */
  workerCallbacks?: unknown[];
  hooks: CallbackHook[];
  progressEvery: number;
}

/** fit's options as sent to the worker. */
export interface WireFitArgs extends WireTrainArgs {
  batchSize?: number;
  validationSplit?: number;
  shuffle?: boolean;
  seed?: number;
  validationData?: [WireData, WireData];
}

/** fitDataset's options as sent to the worker (the batches come from the worker's dataset). */
export interface WireFitDatasetArgs extends WireTrainArgs {
  validationBatchSize?: number;
}

/** Requests from the page. */
export type ToWorker =
  | { id: number; op: 'sequential'; spec: unknown }
  | { id: number; op: 'model'; name: string; args: unknown }
  | { id: number; op: 'fit'; model: number; x: WireData; y: WireData; args: WireFitArgs }
  | { id: number; op: 'fitDataset'; model: number; name: string; datasetArgs: unknown; args: WireFitDatasetArgs }
  | { id: number; op: 'evaluate'; model: number; x: WireData; y: WireData; batchSize?: number }
  | { id: number; op: 'predict'; model: number; x: WireData; batchSize?: number }
  | { id: number; op: 'iterativeForecast'; model: number; x: HostTensor; steps: number; batchSize?: number }
  | { id: number; op: 'getWeights'; model: number }
  | { id: number; op: 'setWeights'; model: number; weights: HostTensor[] }
  | { id: number; op: 'dispose'; model: number }
  | { id: number; op: 'loadModel'; url: string; files: NamedFile[] }
  | { id: number; op: 'save'; model: number; target: WireSaveTarget; options: Record<string, unknown> }
  | { id: number; op: 'task'; model: number; name: string; args: unknown }
  | { op: 'stop'; model: number };

/** The page's save target as the worker sees it: its URL, the format it implies and its base name for file names. */
export interface WireSaveTarget {
  url: string;
  format?: FormatName;
  baseName?: string;
}

/** What a model loaded from files (`trainer.loadModel`) was saved with. */
export interface LoadedModelInfo {
  /** Where the files came from, as the page's source names it (e.g. 'indexeddb://forecaster', 'files (model.keras)'). */
  url: string;
  /** The files' format ('webgpu-rnn', 'tfjs' or 'keras'). */
  format: FormatName;
  /** The architecture, in the own format's topology JSON whatever the files' format (layers as `{className, config}`). */
  modelTopology: TopologyJSON;
  /** compile's settings as saved, or null when the files had none (the model is then not compiled). */
  trainingConfig: TrainingConfigJSON | null;
  /** Whether the optimizer's state came with it (the own format saved after training), so that `fit` resumes exactly. */
  trainingState: boolean;
  /** The free-form metadata saved with it (`save(target, {metadata})`, tfjs' userDefinedMetadata), or null. */
  metadata: Record<string, unknown> | null;
}

/** What 'sequential' and 'model' answer: the model's handle and what the page shows of it. */
export interface ModelInfo {
  handle: number;
  name: string;
  summary: string;
  weightNames: string[];
  params: number;
  /** Models made by 'loadModel': what their files held. */
  loaded?: LoadedModelInfo;
}

/** Results of the requests, by op. */
export interface Results {
  sequential: ModelInfo;
  model: ModelInfo;
  fit: History;
  fitDataset: History;
  evaluate: number | number[];
  predict: HostTensor | HostTensor[];
  iterativeForecast: HostTensor;
  getWeights: HostTensor[];
  setWeights: null;
  dispose: null;
  loadModel: ModelInfo;
  save: { format: FormatName; files: NamedFile[] };
  task: unknown;
}

/** Messages from the worker. */
export type FromWorker =
  | { type: 'gpu'; info: GpuInfo }
  | { type: 'gpu-error'; error: WireError }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'progress'; id: number; progress: FitProgress }
  | { type: 'callback'; id: number; hook: CallbackHook; index: number | null; logs: Logs | null };

/** An error as it crosses the thread boundary (its class name and message). */
export interface WireError {
  name: string;
  message: string;
}
