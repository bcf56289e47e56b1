/**
 * The weights file of older demos (JSON; the demo now saves whole models: model-files.ts), still
 * read so that such files load:
 *   { format: 'webgpu-rnn-weights', version: 1, config: ModelConfig,
 *     weights: [{ name, shape, data }],     data = base64 of the float32 values, little-endian
 *     data?: DataDescriptor, epochs?: number, savedAt?: ISO time }   (optional: what it was trained on)
 * Weights are in Keras order and layout (what `model.getWeights()` returns). Reading validates
 * everything and throws a {@link WeightsFileError} that says what is wrong.
 */
import { configProblems } from './model';
import type { DataDescriptor, ModelConfig, WeightArray } from './protocol';

export const FORMAT = 'webgpu-rnn-weights';
export const VERSION = 1;

export class WeightsFileError extends Error {
  override name = 'WeightsFileError';
}

export interface WeightsFile {
  format: typeof FORMAT;
  version: typeof VERSION;
  config: ModelConfig;
  weights: { name: string; shape: number[]; data: string }[];
  /** The data the weights were trained on (absent in files of older demos). */
  data?: DataDescriptor;
  /** Epochs trained. */
  epochs?: number;
  savedAt?: string;
}

/** What a weights file holds besides its weights. */
export interface WeightsFileMeta {
  data: DataDescriptor | null;
  epochs: number | null;
  savedAt: string | null;
}

export function base64ToFloat32(b64: string, what: string): Float32Array {
  let s: string;
  try {
    s = atob(b64);
  } catch {
    throw new WeightsFileError(`${what}: data is not valid base64.`);
  }
  if (s.length % 4 !== 0) throw new WeightsFileError(`${what}: data has ${s.length} bytes, not a multiple of 4 (float32).`);
  const view = new DataView(new ArrayBuffer(s.length));
  for (let i = 0; i < s.length; i++) view.setUint8(i, s.charCodeAt(i));
  const out = new Float32Array(s.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and validates a weights file's text. */
export function decodeWeightsFile(text: string, fileName = 'the file'): { config: ModelConfig; weights: WeightArray[]; meta: WeightsFileMeta } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightsFileError(`${fileName} is not JSON (${(e as Error).message}). Choose a model file saved by this demo.`);
  }
  if (!isObject(json)) throw new WeightsFileError(`${fileName} is not a webgpu-rnn weights file (expected a JSON object).`);
  if (json.format !== FORMAT) throw new WeightsFileError(`${fileName} is not a webgpu-rnn weights file (format is ${JSON.stringify(json.format)}, expected "${FORMAT}").`);
  if (json.version !== VERSION) throw new WeightsFileError(`${fileName} has version ${JSON.stringify(json.version)}; this demo reads version ${VERSION}.`);
  if (!isObject(json.config)) throw new WeightsFileError(`${fileName} has no "config" object.`);
  const problems = configProblems(json.config);
  if (problems.length) throw new WeightsFileError(`${fileName} has an invalid config: ${problems.join('; ')}.`);
  if (!Array.isArray(json.weights) || !json.weights.length) throw new WeightsFileError(`${fileName} has no "weights" array.`);
  const weights = json.weights.map((w: unknown, i): WeightArray => {
    const what = `weight ${i}`;
    if (!isObject(w)) throw new WeightsFileError(`${fileName}: ${what} is not an object.`);
    if (typeof w.name !== 'string') throw new WeightsFileError(`${fileName}: ${what} has no name.`);
    const label = `${fileName}: weight "${w.name}"`;
    if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
      throw new WeightsFileError(`${label} has an invalid shape ${JSON.stringify(w.shape)}.`);
    }
    if (typeof w.data !== 'string') throw new WeightsFileError(`${label} has no base64 "data" string.`);
    const shape = w.shape as number[];
    const data = base64ToFloat32(w.data, label);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new WeightsFileError(`${label} has ${data.length} values but its shape [${shape.join(', ')}] needs ${size}.`);
    if (!data.every(Number.isFinite)) throw new WeightsFileError(`${label} contains NaN or infinite values.`);
    return { name: w.name, shape, data };
  });
  return { config: json.config as unknown as ModelConfig, weights, meta: { data: descriptor(json.data), epochs: Number.isInteger(json.epochs) ? (json.epochs as number) : null, savedAt: typeof json.savedAt === 'string' ? json.savedAt.slice(0, 40) : null } };
}

/** The optional data description, kept only when well-formed (it is informational). */
export function descriptor(v: unknown): DataDescriptor | null {
  if (!isObject(v)) return null;
  const str = (x: unknown) => (typeof x === 'string' ? x.slice(0, 200) : null);
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);
  if ((v.kind !== 'synthetic' && v.kind !== 'series') || typeof v.name !== 'string') return null;
  return {
    kind: v.kind,
    name: v.name.slice(0, 200),
    column: str(v.column),
    dateColumn: str(v.dateColumn),
    rows: Number.isInteger(v.rows) ? (v.rows as number) : 0,
    first: str(v.first),
    last: str(v.last),
    frequency: str(v.frequency),
    mean: num(v.mean),
    std: num(v.std),
  };
}
