/**
 * The library's own format: `model.json` (ModelJSON, src/io/artifacts.ts: topology, compile
 * config, training state, weights manifest) and one little-endian float32 file with every tensor
 * of the manifest in order (`weights.bin`) — the model's weights, then, when saved with the
 * optimizer, its moment slots. It keeps everything: a loaded model predicts bit-identically and,
 * with its training state, a resumed `fit` continues exactly.
 *
 * Reading trusts nothing: the JSON's kind and version, every manifest entry, every size (checked
 * against the bytes actually present before anything is allocated), weight file names (plain
 * names beside model.json, never paths), and finite values. Errors name the file and the entry.
 */
import { FORMAT, FORMAT_VERSION, shapeSize, type ModelArtifacts, type ModelJSON, type NamedFile, type WeightEntry } from './artifacts';
import { checkFinite, parseJsonFile } from './weights-data';

/** File names the own format uses by default. */
export const OWN_JSON = 'model.json';
export const OWN_WEIGHTS = 'weights.bin';

/** A weights file name: a plain file name (no folders, no '..'). */
export function checkFileName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(name) || name.includes('..')) {
    throw new RangeError(`${where}: weights file name ${JSON.stringify(name)?.slice(0, 80)} must be a plain file name beside the model JSON (letters, digits, '.', '_', '-')`);
  }
  return name;
}

/** The files of the own format: the JSON (weights file names set) and the weights. */
export function encodeOwn(art: ModelArtifacts, names: { json?: string; weights?: string } = {}): NamedFile[] {
  const jsonName = names.json ?? OWN_JSON;
  const weightsName = checkFileName(names.weights ?? OWN_WEIGHTS, 'save');
  const json: ModelJSON = { ...art.json, weightsManifest: [{ paths: [weightsName], weights: art.json.weightsManifest.flatMap((g) => g.weights) }] };
  return [
    { name: jsonName, bytes: new TextEncoder().encode(JSON.stringify(json)) },
    { name: weightsName, bytes: new Uint8Array(art.weightData) },
  ];
}

/** Is this parsed JSON a model of the own format (whatever its version)? */
export function isOwnModelJson(doc: unknown): boolean {
  return !!doc && typeof doc === 'object' && (doc as { format?: unknown }).format === FORMAT;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks the manifest's entries (names, shapes, dtypes, groups); returns them with their byte sizes. */
function checkManifest(doc: Record<string, unknown>, where: string): { groups: { paths: string[]; weights: WeightEntry[] }[]; bytes: number } {
  const m = doc.weightsManifest;
  if (!Array.isArray(m)) throw new TypeError(`${where}: weightsManifest must be a list of {paths, weights}`);
  let bytes = 0;
  const names = new Set<string>();
  const groups = m.map((g, gi) => {
    const at = `${where}: weightsManifest[${gi}]`;
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new TypeError(`${at} must be {paths: [...], weights: [...]}`);
    const paths = g.paths.map((p, pi) => checkFileName(p, `${at}.paths[${pi}]`));
    const weights = g.weights.map((w, wi) => {
      const wat = `${at}.weights[${wi}]`;
      if (!isObject(w) || typeof w.name !== 'string' || !w.name) throw new TypeError(`${wat} must be {name, shape, dtype}`);
      if (names.has(w.name)) throw new RangeError(`${wat}: weight '${w.name}' is listed twice`);
      names.add(w.name);
      if (w.dtype !== 'float32') throw new TypeError(`${wat} ('${w.name}'): dtype must be 'float32', got ${JSON.stringify(w.dtype)}`);
      if (!Array.isArray(w.shape)) throw new TypeError(`${wat} ('${w.name}'): shape must be a list of sizes`);
      const group = w.group ?? 'model';
      if (group !== 'model' && group !== 'optimizer') throw new TypeError(`${wat} ('${w.name}'): group must be 'model' or 'optimizer', got ${JSON.stringify(w.group)}`);
      bytes += shapeSize(w.shape as number[], `${wat} ('${w.name}')`) * 4;
      if (bytes > 2 ** 31) throw new RangeError(`${wat}: the manifest declares more than 2 GiB of weights (${bytes} bytes so far)`);
      return { name: w.name, shape: [...(w.shape as number[])], dtype: 'float32' as const, group: group as 'model' | 'optimizer' };
    });
    return { paths, weights };
  });
  return { groups, bytes };
}

/**
 * Reads the own format from its files: `files` holds the JSON (the first `.json` of the own
 * format) and the weights files its manifest names. Throws naming the file and the problem.
 */
export function decodeOwn(files: readonly NamedFile[], where = 'model'): ModelArtifacts {
  const jsonFiles = files.filter((f) => f.name.endsWith('.json'));
  if (!jsonFiles.length) throw new TypeError(`${where}: no model JSON among the files (${files.map((f) => f.name).join(', ') || 'none'})`);
  const jsonFile = jsonFiles[0]!;
  const doc = parseJsonFile(jsonFile, 'a webgpu-rnn model');
  const at = `${where}: ${jsonFile.name}`;
  if (!isObject(doc)) throw new TypeError(`${at}: expected a JSON object, got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  if (doc.format !== FORMAT) {
    throw new TypeError(`${at}: not a webgpu-rnn model (format ${JSON.stringify(doc.format) ?? 'missing'}; expected '${FORMAT}')`);
  }
  if (!Number.isInteger(doc.formatVersion) || (doc.formatVersion as number) < 1) throw new TypeError(`${at}: formatVersion must be a positive integer, got ${JSON.stringify(doc.formatVersion)}`);
  if ((doc.formatVersion as number) > FORMAT_VERSION) {
    throw new RangeError(`${at}: saved with format version ${doc.formatVersion}, newer than this library reads (${FORMAT_VERSION}); update webgpu-rnn`);
  }
  if (!isObject(doc.modelTopology)) throw new TypeError(`${at}: modelTopology must be an object`);
  const { groups, bytes } = checkManifest(doc, at);
  // Each group's files, concatenated, must hold exactly its tensors: checked before allocating.
  const parts = groups.map((g, gi) => {
    const want = g.weights.reduce((n, w) => n + shapeSize(w.shape, at) * 4, 0);
    const fs = g.paths.map((p) => {
      const f = files.find((x) => x.name === p);
      if (!f) throw new RangeError(`${at}: weights file '${p}' (weightsManifest[${gi}]) is missing; give it beside the model JSON`);
      return f;
    });
    const have = fs.reduce((n, f) => n + f.bytes.byteLength, 0);
    if (have !== want) {
      throw new RangeError(`${at}: weightsManifest[${gi}] lists ${want} bytes of weights but ${g.paths.join(', ')} ${g.paths.length > 1 ? 'hold' : 'holds'} ${have} bytes (${have < want ? 'truncated' : 'too long'}, or a file of another model)`);
    }
    return fs;
  });
  const weightData = new ArrayBuffer(bytes);
  const out = new Uint8Array(weightData);
  let off = 0;
  for (const f of parts.flat()) {
    out.set(f.bytes, off);
    off += f.bytes.byteLength;
  }
  const json = { ...(doc as unknown as ModelJSON), weightsManifest: groups };
  const view = new Float32Array(weightData);
  let e = 0;
  for (const w of groups.flatMap((g) => g.weights)) {
    const n = shapeSize(w.shape, at);
    checkFinite(w.name, view.subarray(e, e + n), at);
    e += n;
  }
  return { json, weightData };
}
