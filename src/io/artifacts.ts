/**
 * What a saved model is, independent of where it goes: the topology JSON (`ModelJSON`) and the
 * float32 weights it lists (`weightData`, in manifest order). Every format converts to and from
 * this (own format: src/io/own-format.ts; TensorFlow.js layers format, Keras 3 `.keras` /
 * `.weights.h5`, PyTorch safetensors), and every handler (file://, indexeddb://, downloads://,
 * http(s)://, browser files, memory) moves the files a format produced (`NamedFile`). Types and
 * pure helpers only: no GPU, no file system.
 *
 * The topology follows tfjs' `modelTopology` (Keras JSON) with two differences that make a
 * round trip exact: a layer's `config` is its constructor arguments (camelCase, as
 * `rnn.layers.*({...})` takes them, so `new Layer(config)` rebuilds it), and a functional node
 * names its initial states separately from its inputs.
 */

/** Version of the own format; readers refuse newer ones with a clear error. */
export const FORMAT = 'webgpu-rnn';
export const FORMAT_VERSION = 1;

/** A `{className, config}` pair (layers inside wrappers, cells, optimizers, schedules). */
export interface ClassConfig {
  /** The class's registered name (e.g. 'LSTM', 'Adam'). */
  className: string;
  /** Its constructor options as JSON (what its `getConfig()` returns). */
  config: Record<string, unknown>;
}

/** A symbolic tensor in a functional graph: [layer name, node index, tensor index] (Keras). */
export type TensorRef = [string, number, number];

/** One call of a layer in a functional graph (Keras `inbound_nodes` entry). */
export interface NodeJSON {
  /** The call's inputs (several for merge layers). */
  inputs: TensorRef[];
  /** Recurrent layers: the `initialState` tensors (absent or empty: none). */
  initialState?: TensorRef[];
}

/** A layer in the topology. */
export interface LayerJSON extends ClassConfig {
  /** The layer's name (also in config.name); weight names start with it. */
  name: string;
  /** Keras `layer.trainable` (false: frozen). */
  trainable: boolean;
  /** Functional models only: the layer's calls, in order. */
  inboundNodes?: NodeJSON[];
}

/** The model's architecture. */
export interface TopologyJSON {
  /** 'Sequential' (layers in a row) or 'Model' (a functional graph). */
  className: 'Sequential' | 'Model';
  /** The model's name, seed, layers and, for a graph, its inputs and outputs. */
  config: {
    /** The model's name. */
    name: string;
    /** The model's seed (initializers, fit's shuffling): kept so a resumed run shuffles the same. */
    seed: number;
    /** Its layers (a functional model's with their calls). */
    layers: LayerJSON[];
    /** Sequential: the input shape it was built for (without batch), or null if never built. */
    inputShape?: (number | null)[] | null;
    /** Functional: the model's inputs and outputs. */
    inputLayers?: TensorRef[];
    /** Functional: the model's outputs. */
    outputLayers?: TensorRef[];
  };
}

/** What `compile` was given (JSON form): the optimizer as {className, config}, losses, metrics. */
export interface TrainingConfigJSON {
  /** The optimizer as {className, config} (its hyper-parameters, schedule and clipping). */
  optimizer: ClassConfig;
  /** compile's `loss` (a name, a list, or names by output). */
  loss: unknown;
  /** compile's `lossWeights`, if given. */
  lossWeights?: unknown;
  /** compile's `metrics`, if given. */
  metrics?: unknown;
}

/** One float32 tensor in `weightData`. */
export interface WeightEntry {
  /** 'layer/weight' (model.weightNames) or, for optimizer slots, 'optimizer/<variable>/<slot>'. */
  name: string;
  /** The tensor's shape. */
  shape: number[];
  /** Always float32 (little-endian in `weightData`). */
  dtype: 'float32';
  /** tfjs' weight groups: the model's weights, or the optimizer's state. Default 'model'. */
  group?: 'model' | 'optimizer';
}

/**
 * State that makes a resumed `fit` bit-identical to an uninterrupted one: the optimizer's step
 * counters (its moment slots are WeightEntries of group 'optimizer'), and the dropout / noise
 * random streams of layers (their GPU counters).
 */
export interface TrainingStateJSON {
  /** Optimizer updates so far (Keras `optimizer.iterations`; schedules read it). */
  iterations: number;
  /** Adam's bias-correction step (reset by setWeights, unlike iterations). */
  slotStep: number;
  /** Per layer name: the 4 uint32 words of its random stream's counter. */
  rng: Record<string, number[]>;
}

/** The JSON document of a saved model (own format's model.json). */
export interface ModelJSON {
  /** Always 'webgpu-rnn'. */
  format: typeof FORMAT;
  /** The own format's version (readers refuse newer ones). */
  formatVersion: number;
  /** e.g. 'webgpu-rnn 0.1.0'. */
  generatedBy: string;
  /** The architecture. */
  modelTopology: TopologyJSON;
  /** Absent when the model was not compiled. */
  trainingConfig?: TrainingConfigJSON | null;
  /** Absent when saved without `includeOptimizer` or before any training step. */
  trainingState?: TrainingStateJSON | null;
  /** tfjs-style: one group of files (here always one file) with the tensors in order. */
  weightsManifest: {
    /** The weights files of the group (file names beside the JSON). */
    paths: string[];
    /** The tensors in the files, in order. */
    weights: WeightEntry[];
  }[];
  /** Free-form user metadata (`save(target, {metadata})`). */
  userDefinedMetadata?: Record<string, unknown>;
}

/** A saved model in memory: its JSON and the bytes of every tensor of its manifest, concatenated. */
export interface ModelArtifacts {
  /** The model's JSON document. */
  json: ModelJSON;
  /** float32 little-endian, in `json.weightsManifest` order (all groups' entries, in order). */
  weightData: ArrayBuffer;
}

/** A file a format writes or reads: a name (no directories) and its bytes. */
export interface NamedFile {
  /** The file's name (e.g. 'model.json', 'weights.bin', 'forecaster.keras'). */
  name: string;
  /** Its contents. */
  bytes: Uint8Array;
}

/** Elements of a shape (checked: non-negative integers, at most 2^31 elements). */
export function shapeSize(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${where}: bad dimension ${JSON.stringify(d)} in shape ${JSON.stringify(shape)}`);
    n *= d;
    if (n > 2 ** 31) throw new RangeError(`${where}: shape ${JSON.stringify(shape)} has more than 2^31 elements`);
  }
  return n;
}

/** Entries of the manifest, in weightData order. */
export function manifestEntries(json: ModelJSON): WeightEntry[] {
  return json.weightsManifest.flatMap((g) => g.weights);
}
