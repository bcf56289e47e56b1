/**
 * The file formats a model can be saved in and loaded from, by name, and which one a set of
 * files is (by content, not by name):
 *   'webgpu-rnn'     the own format (own-format.ts): everything, incl. the optimizer state
 *   'tfjs'           TensorFlow.js layers model: model.json + .bin (tfjs-format.ts)
 *   'keras'          Keras 3 `.keras` zip (keras-format.ts)
 *   'keras-weights'  Keras 3 `.weights.h5`: weights only, loaded into an existing model
 */
import type { ModelArtifacts, ModelJSON, NamedFile } from './artifacts';
import { decodeOwn, encodeOwn, isOwnModelJson } from './own-format';
import { decodeTfjs, encodeTfjs } from './tfjs-format';
import { decodeKeras, decodeKerasWeights, encodeKeras, encodeKerasWeights } from './keras-format';
import { hdf5SignatureAt } from './hdf5';
import { unknownName } from '../options';

/** A file format's name (see the file comment). */
export type FormatName = 'webgpu-rnn' | 'tfjs' | 'keras' | 'keras-weights';

export const FORMATS: readonly FormatName[] = ['webgpu-rnn', 'tfjs', 'keras', 'keras-weights'];

/** Checks a `format` option. */
export function checkFormat(v: unknown, where: string): FormatName {
  if (typeof v === 'string' && (FORMATS as readonly string[]).includes(v)) return v as FormatName;
  throw new RangeError(`${where}: ${typeof v === 'string' ? unknownName('format', v, FORMATS) : `format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(v)}`}`);
}

/** The format a file name implies on saving (e.g. a `file://…/m.keras` target), or null. */
export function formatOfName(name: string): FormatName | null {
  const n = name.toLowerCase();
  if (n.endsWith('.weights.h5') || n.endsWith('.h5') || n.endsWith('.hdf5')) return 'keras-weights';
  if (n.endsWith('.keras')) return 'keras';
  return null;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function startsWith(b: Uint8Array, magic: readonly number[]): boolean {
  return b.byteLength >= magic.length && magic.every((m, i) => b[i] === m);
}

/** The first non-space byte of a file (JSON files start with '{'). */
function firstByte(b: Uint8Array): number {
  for (let i = 0; i < Math.min(b.byteLength, 64); i++) if (b[i] !== 0x20 && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0x09 && b[i] !== 0xef && b[i] !== 0xbb && b[i] !== 0xbf) return b[i]!;
  return -1;
}

/**
 * Which format these files are, from their bytes: a zip is a `.keras`, HDF5 is a Keras weights
 * file, a JSON object with `format: 'webgpu-rnn'` is the own format and one with a
 * `modelTopology` (tfjs' `format: 'layers-model'`) is TensorFlow.js. Throws naming the files when
 * none fits.
 */
export function detectFormat(files: readonly NamedFile[], where: string): FormatName {
  if (!files.length) throw new RangeError(`${where}: no files`);
  for (const f of files) {
    if (startsWith(f.bytes, ZIP_MAGIC)) return 'keras';
  }
  for (const f of files) {
    if (hdf5SignatureAt(f.bytes) >= 0 && !files.some((x) => firstByte(x.bytes) === 0x7b)) return 'keras-weights';
  }
  const json = files.filter((f) => firstByte(f.bytes) === 0x7b);
  for (const f of json) {
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(f.bytes));
    } catch {
      continue; // reported by the decoder of the format it claims to be
    }
    if (isOwnModelJson(doc)) return 'webgpu-rnn';
    const d = doc as Record<string, unknown> | null;
    if (d && typeof d === 'object' && ('modelTopology' in d || d.format === 'layers-model' || d.format === 'graph-model')) return 'tfjs';
  }
  if (json.length) {
    // JSON but of no model format: decode as the own format for a precise error (wrong kind, bad JSON).
    return 'webgpu-rnn';
  }
  const sizes = files.map((f) => `${f.name} (${f.bytes.byteLength} bytes)`).join(', ');
  throw new TypeError(`${where}: ${sizes}: not a model file (expected a webgpu-rnn or TensorFlow.js model.json, a Keras .keras or .weights.h5 file)`);
}

/** Encodes artifacts in a format; `baseName` names the files where the format allows (downloads). */
export async function encodeArtifacts(art: ModelArtifacts, format: FormatName, baseName?: string): Promise<NamedFile[]> {
  switch (format) {
    case 'webgpu-rnn':
      return encodeOwn(art, baseName ? { json: `${baseName}.json`, weights: `${baseName}.weights.bin` } : {});
    case 'tfjs': {
      const files = encodeTfjs(art);
      if (!baseName) return files;
      // as tfjs' downloads:// names them: name.json + name.weights.bin (the manifest follows)
      const [json, ...bins] = files;
      if (bins.length !== 1) return files;
      const doc = JSON.parse(new TextDecoder().decode(json!.bytes)) as { weightsManifest: { paths: string[] }[] };
      const weights = `${baseName}.weights.bin`;
      doc.weightsManifest.forEach((g) => (g.paths = g.paths.map(() => weights)));
      return [{ name: `${baseName}.json`, bytes: new TextEncoder().encode(JSON.stringify(doc)) }, { name: weights, bytes: bins[0]!.bytes }];
    }
    case 'keras':
      return encodeKeras(art, `${baseName ?? 'model'}.keras`);
    case 'keras-weights':
      return encodeKerasWeights(art, `${baseName ?? 'model'}.weights.h5`);
  }
}

/**
 * Decodes a whole model's files (any format but weights-only). `format` is detected when not
 * given; errors name the files.
 */
export async function decodeArtifacts(files: readonly NamedFile[], where: string, format: FormatName = detectFormat(files, where)): Promise<ModelArtifacts> {
  switch (format) {
    case 'webgpu-rnn':
      return decodeOwn(files, where);
    case 'tfjs':
      return decodeTfjs(files, where);
    case 'keras':
      return decodeKeras(files, where);
    case 'keras-weights':
      throw new TypeError(`${where}: ${files.map((f) => f.name).join(', ')} holds weights only (Keras .weights.h5), no architecture; build the model and call model.loadWeights(source)`);
  }
}

/**
 * Decodes files holding weights for the model `target` (its saved JSON): a weights-only Keras
 * file, or any whole-model file (its topology must match the target's weights).
 */
export async function decodeWeightsFor(files: readonly NamedFile[], target: ModelJSON, where: string): Promise<ModelArtifacts> {
  const format = detectFormat(files, where);
  return format === 'keras-weights' ? decodeKerasWeights(files, target, where) : decodeArtifacts(files, where, format);
}
