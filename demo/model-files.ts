/**
 * What a saved model means to the demo. Models are saved whole by the library (`model.save`:
 * IndexedDB in the webgpu-rnn format, downloads as Keras `.keras` or TensorFlow.js `model.json`
 * + `.bin`) with the demo's own description in the metadata:
 *   userDefinedMetadata.demo = { version: 1, config: ModelConfig, data?: DataDescriptor, epochs?, savedAt }
 * (the webgpu-rnn and TensorFlow.js formats keep it; a `.keras` file does not). Loading reads the
 * architecture from the model itself (a Sequential of 1–4 SimpleRNN/LSTM/GRU layers on one
 * feature, then Dense(1) or Dense(10)), the training settings from the metadata or the file's
 * compile settings, and anything else from the form. Files of older demos (weights JSON, version
 * 1: weights-file.ts) are still read.
 */
import type { LoadedModelInfo, LayerJSON, NamedFile } from '../src/index';
import { configProblems } from './model';
import { HORIZON, type Cell, type DataDescriptor, type ModelConfig, type OptimizerName } from './protocol';
import { FORMAT as OLD_WEIGHTS_FORMAT, descriptor, type WeightsFileMeta } from './weights-file';

/** A model file the demo cannot use; the message says why (shown next to the control that loaded it). */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** The demo's description of a saved model (in its metadata, key `demo`). */
export interface DemoMetadata {
  version: 1;
  config: ModelConfig;
  data: DataDescriptor | null;
  epochs: number | null;
  savedAt: string;
}

export function demoMetadata(config: ModelConfig, meta: { data: DataDescriptor | null; epochs: number | null }): { demo: DemoMetadata } {
  return { demo: { version: 1, config, data: meta.data, epochs: meta.epochs, savedAt: new Date().toISOString() } };
}

const CELLS: Record<string, Cell> = { SimpleRNN: 'simpleRNN', LSTM: 'lstm', GRU: 'gru' };
const OPTIMIZERS: Record<string, OptimizerName> = { adam: 'adam', sgd: 'sgd', rmsprop: 'rmsprop', adamw: 'adamw' };
const ARCH: (keyof ModelConfig)[] = ['cell', 'resetAfter', 'units', 'depth', 'head'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The architecture part of a config, read from a model's topology; throws when the demo cannot run it. */
export function architectureOf(info: LoadedModelInfo, label: string): Pick<ModelConfig, 'cell' | 'resetAfter' | 'units' | 'depth' | 'head'> {
  const topo = info.modelTopology;
  const cannot = (why: string) =>
    new ModelFileError(`${label} holds a model this demo cannot run: ${why}. The demo runs SimpleRNN, LSTM or GRU layers (1 to 4, the same units) on one input feature, then Dense(1) or Dense(${HORIZON}).`);
  if (topo.className !== 'Sequential') throw cannot('a functional model');
  const layers = topo.config.layers.filter((l: LayerJSON) => l.className !== 'InputLayer');
  const rec = layers.slice(0, -1);
  const dense = layers.at(-1);
  if (!rec.length || !dense) throw cannot(`${layers.length} layer${layers.length === 1 ? '' : 's'}`);
  const names = layers.map((l) => l.className).join(' → ');
  if (dense.className !== 'Dense' || (dense.config.units !== 1 && dense.config.units !== HORIZON)) throw cannot(`it ends in ${dense.className}${dense.className === 'Dense' ? `(${String(dense.config.units)})` : ''} (${names})`);
  const cell = CELLS[rec[0]!.className];
  if (!cell || rec.some((l) => l.className !== rec[0]!.className)) throw cannot(`its layers are ${names}`);
  if (rec.length > 4) throw cannot(`${rec.length} recurrent layers`);
  const units = rec[0]!.config.units;
  if (rec.some((l) => l.config.units !== units) || typeof units !== 'number') throw cannot('its recurrent layers differ in units');
  if (rec.some((l, i) => Boolean(l.config.returnSequences) !== i < rec.length - 1)) throw cannot('its recurrent layers do not return sequences as a stack does (all but the last)');
  const shape = (topo.config.inputShape ?? rec[0]!.config.inputShape) as (number | null)[] | null | undefined;
  if (Array.isArray(shape) && shape.at(-1) !== 1) throw cannot(`it reads ${String(shape.at(-1))} features per step`);
  return { cell, resetAfter: cell === 'gru' ? rec[0]!.config.resetAfter !== false : true, units, depth: rec.length, head: dense.config.units === 1 ? 'next' : 'vector10' };
}

/**
 * The demo config and description of a loaded model: the architecture from the model, the
 * training settings from the demo's metadata (when the file kept it) or the file's compile
 * settings, the rest from the form.
 */
export function describeLoaded(info: LoadedModelInfo, label: string, form: ModelConfig): { config: ModelConfig; meta: WeightsFileMeta } {
  const arch = architectureOf(info, label);
  const demo = isObject(info.metadata) && isObject(info.metadata.demo) ? info.metadata.demo : null;
  const saved = demo && isObject(demo.config) && !configProblems(demo.config).length ? (demo.config as unknown as ModelConfig) : null;
  let config: ModelConfig;
  if (saved) config = { ...saved, ...arch };
  else {
    const opt = info.trainingConfig?.optimizer;
    const name = opt ? OPTIMIZERS[opt.className.toLowerCase()] : undefined;
    const lr = opt?.config.learningRate;
    config = { ...form, ...arch, ...(name ? { optimizer: name, clipping: 'none' } : {}), ...(typeof lr === 'number' && lr > 0 && lr <= 10 ? { learningRate: lr } : {}) };
  }
  const problems = configProblems(config);
  if (problems.length) throw new ModelFileError(`${label}: its settings cannot be used here: ${problems.join('; ')}.`);
  return {
    config,
    meta: {
      data: demo ? descriptor(demo.data) : null,
      epochs: demo && Number.isInteger(demo.epochs) ? (demo.epochs as number) : null,
      savedAt: demo && typeof demo.savedAt === 'string' ? demo.savedAt.slice(0, 40) : null,
    },
  };
}

/** Whether two configs describe the same architecture. */
export const sameArchitecture = (a: ModelConfig, b: ModelConfig) => ARCH.every((k) => (k === 'resetAfter' && a.cell !== 'gru' && b.cell !== 'gru') || a[k] === b[k]);

/** Whether files are one weights JSON of an older demo (read by weights-file.ts). */
export function isOldWeightsFile(files: readonly NamedFile[]): boolean {
  if (files.length !== 1 || files[0]!.bytes[0] !== 0x7b) return false;
  const head = new TextDecoder().decode(files[0]!.bytes.subarray(0, 200));
  return head.includes(`"${OLD_WEIGHTS_FORMAT}"`);
}

const FORMAT_NAMES: Record<string, string> = { 'webgpu-rnn': 'webgpu-rnn', tfjs: 'TensorFlow.js', keras: 'Keras .keras', 'keras-weights': 'Keras weights' };

/** The format's name for people ('Keras .keras', 'TensorFlow.js'). */
export const formatName = (f: string) => FORMAT_NAMES[f] ?? f;

/** A file name base for downloads: `webgpu-rnn-lstm-16x1-next`. */
export const downloadBase = (c: ModelConfig) => `webgpu-rnn-${c.cell}-${c.units}x${c.depth}-${c.head}`;
