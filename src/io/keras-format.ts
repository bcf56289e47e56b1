/**
 * Keras 3 files: `.weights.h5` (model.save_weights / load_weights) and `.keras` (model.save /
 * keras.models.load_model): a zip, stored uncompressed as Keras writes it, of
 *   metadata.json      {keras_version, date_saved: '%Y-%m-%d@%H:%M:%S'} (saving_lib._save_model_to_fileobj)
 *   config.json        the model's serialize_keras_object (keras-model.ts)
 *   model.weights.h5   the weights, laid out by saving_lib._save_state / H5IOStore (keras-model.ts)
 * HDF5 through h5wasm (hdf5.ts), zip through fflate. Only the model's weights are written; the
 * optimizer's state stays in the own format (Keras then builds a fresh optimizer on load).
 */
import { unzipSync, zipSync } from 'fflate';
import type { ModelArtifacts, ModelJSON, NamedFile, TopologyJSON } from './artifacts';
import { ensureGroup, isGroup, readFloatDataset, readHdf5, writeHdf5, hdf5SignatureAt, type H5File } from './hdf5';
import { kerasLayerOrder, kerasWeightPaths, topologyFromKeras, topologyToKeras, type LayerPaths } from './keras-model';
import { layerWeights, topologyShapes } from './shapes';
import { assembleArtifacts, modelWeights, parseJsonFile, type ReadWeight } from './weights-data';

/** The Keras version whose saving code these files follow (metadata.json keras_version). */
export const KERAS_VERSION = '3.15.1';
export const KERAS_WEIGHTS_FILE = 'model.weights.h5';
/** Largest entry of a .keras zip read (declared, uncompressed): more is refused before inflating. */
const MAX_ENTRY = 2 ** 31;
/** Largest declared expansion of a compressed entry (zip bombs). */
const MAX_RATIO = 1000;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The paths of a topology's weights in Keras's layout, with each layer's weight count from its shapes. */
function pathsOf(topo: TopologyJSON, ordered: TopologyJSON['config']['layers'], where: string): { paths: LayerPaths[]; names: Map<string, string[]> } {
  const shapes = topologyShapes(topo, where);
  const names = new Map<string, string[]>();
  for (const l of shapes.layers) names.set(l.json.name, shapes.built ? layerWeights(l).map((w) => w.name) : []);
  return { paths: kerasWeightPaths(ordered, (l) => names.get(l.name)?.length ?? 0), names };
}

// --------------------------------------------------------------------------------- writing

/** The model's weights as a Keras 3 `.weights.h5` (HDF5 bytes). */
async function weightsH5(art: ModelArtifacts, ordered: TopologyJSON['config']['layers'], where: string): Promise<Uint8Array> {
  const topo = art.json.modelTopology;
  const { paths, names } = pathsOf(topo, ordered, where);
  const byName = new Map(modelWeights(art, where).map((w) => [w.entry.name, w]));
  return writeHdf5((f) => {
    ensureGroup(f, 'layers');
    for (const p of paths) {
      for (const [g, saveable] of p.groups) ensureGroup(f, `${g}/vars`).create_attribute('name', saveable);
      const ws = names.get(p.layer.name) ?? [];
      ws.forEach((n, i) => {
        const w = byName.get(n);
        if (!w) throw new RangeError(`${where}: the artifacts lack weight '${n}' of layer '${p.layer.name}'`);
        const path = p.datasets[i]!;
        const group = f.get(path.slice(0, path.lastIndexOf('/'))) as ReturnType<typeof ensureGroup>;
        group.create_dataset({ name: path.slice(path.lastIndexOf('/') + 1), data: new Float32Array(w.data), shape: w.entry.shape, dtype: '<f' });
      });
    }
    ensureGroup(f, 'vars').create_attribute('name', topo.config.name);
  });
}

/** `model.weights.h5`: the weights alone, for `model.load_weights` in Keras 3 (or loadWeights here). */
export async function encodeKerasWeights(art: ModelArtifacts, name = 'model.weights.h5'): Promise<NamedFile[]> {
  const where = `Keras weights (${name})`;
  return [{ name, bytes: await weightsH5(art, kerasLayerOrder(art.json.modelTopology), where) }];
}

/** `model.keras`: config, metadata and weights, for `keras.models.load_model` in Keras 3. */
export async function encodeKeras(art: ModelArtifacts, name = 'model.keras', date = new Date()): Promise<NamedFile[]> {
  const where = `Keras model (${name})`;
  const topo = art.json.modelTopology;
  const ordered = kerasLayerOrder(topo);
  const config = topologyToKeras(topo, ordered, art.json.trainingConfig, where);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const dateSaved = `${date.getFullYear()}-${p2(date.getMonth() + 1)}-${p2(date.getDate())}@${p2(date.getHours())}:${p2(date.getMinutes())}:${p2(date.getSeconds())}`;
  const enc = new TextEncoder();
  const zip = zipSync(
    {
      'metadata.json': enc.encode(JSON.stringify({ keras_version: KERAS_VERSION, date_saved: dateSaved })),
      'config.json': enc.encode(JSON.stringify(config)),
      [KERAS_WEIGHTS_FILE]: await weightsH5(art, ordered, where),
    },
    { level: 0, mtime: date },
  );
  return [{ name, bytes: zip }];
}

// --------------------------------------------------------------------------------- reading

/** Reads the weights at Keras paths for `topo` (layers in `ordered`), checking each layer's vars. */
async function readWeightsH5(file: NamedFile, topo: TopologyJSON, ordered: TopologyJSON['config']['layers'], where: string): Promise<Map<string, ReadWeight>> {
  const { paths, names } = pathsOf(topo, ordered, where);
  return readHdf5(file.name, file.bytes, (f, h5) => {
    const found = new Map<string, ReadWeight>();
    // Keras 2.13's files name the layers group _layer_checkpoint_dependencies (H5IOStore.get)
    const root = f.get('layers') ? 'layers' : f.get('_layer_checkpoint_dependencies') ? '_layer_checkpoint_dependencies' : null;
    if (!root) throw new RangeError(`no 'layers' group: not a Keras 3 weights file (top level: ${f.keys().join(', ') || 'empty'})`);
    const fix = (p: string) => (root === 'layers' ? p : p.replace(/^layers\//, `${root}/`));
    const known = new Set(paths.map((p) => fix(p.groups[0]![0]).split('/')[1]));
    const stray = (f.get(root) as H5File).keys().filter((k) => !known.has(k));
    if (stray.length) throw new RangeError(`the file has layer(s) ${stray.map((s) => `'${root}/${s}'`).join(', ')} that the model does not have (it has: ${[...known].join(', ')})`);
    for (const p of paths) {
      const ws = names.get(p.layer.name) ?? [];
      // every vars group of the layer must hold exactly its weights (Keras' _check_load_own_variables)
      const counts = new Map<string, number>();
      for (const d of p.datasets) counts.set(d.slice(0, d.lastIndexOf('/')), (counts.get(d.slice(0, d.lastIndexOf('/'))) ?? 0) + 1);
      for (const [g] of p.groups) {
        const vars = f.get(fix(`${g}/vars`));
        const have = isGroup(vars) ? vars.keys().length : 0;
        const want = counts.get(`${g}/vars`) ?? 0;
        if (have !== want) throw new RangeError(`layer '${p.layer.name}' (${p.layer.className}) expects ${want} variable(s) in '${fix(`${g}/vars`)}', the file has ${have}`);
      }
      ws.forEach((n, i) => {
        const path = fix(p.datasets[i]!);
        const d = readFloatDataset(f, h5, path, file.bytes.byteLength);
        if (!d) throw new RangeError(`dataset '${path}' (weight '${n}') is missing`);
        found.set(n, { ...d, source: `${file.name}:/${path}` });
      });
    }
    return found;
  });
}

/** The entries of a .keras zip, sizes checked before anything is inflated. */
function unzipKeras(file: NamedFile, where: string): Record<string, Uint8Array> {
  const b = file.bytes;
  if (!(b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04)) throw new TypeError(`${where}: not a zip archive (no 'PK\\x03\\x04' at byte 0), so not a .keras file`);
  const problems: string[] = [];
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(b, {
      filter: (e) => {
        const wanted = e.name === 'config.json' || e.name === 'metadata.json' || e.name === KERAS_WEIGHTS_FILE;
        if (!wanted) return false;
        if (e.originalSize > MAX_ENTRY || e.originalSize > Math.max(e.size, 1) * MAX_RATIO || (e.compression === 0 && e.originalSize !== e.size)) {
          problems.push(`entry '${e.name}' declares ${e.originalSize} bytes from ${e.size} stored: refused (a zip bomb or a damaged archive)`);
          return false;
        }
        if (e.size > b.byteLength) {
          problems.push(`entry '${e.name}' declares ${e.size} stored bytes but the archive has ${b.byteLength}`);
          return false;
        }
        return true;
      },
    });
  } catch (e) {
    throw new RangeError(`${where}: damaged or truncated zip archive (${b.byteLength} bytes): ${(e as Error).message}`);
  }
  if (problems.length) throw new RangeError(`${where}: ${problems.join('; ')}`);
  return entries;
}

/** Reads a Keras 3 `.keras` file as artifacts of this library. */
export async function decodeKeras(files: readonly NamedFile[], where = 'Keras model'): Promise<ModelArtifacts> {
  const file = files.find((f) => f.name.toLowerCase().endsWith('.keras')) ?? (files.length === 1 ? files[0] : undefined);
  if (!file) throw new RangeError(`${where}: no .keras file among ${files.map((f) => f.name).join(', ') || 'no files'}`);
  const at = `${where}: ${file.name}`;
  const entries = unzipKeras(file, at);
  for (const need of ['config.json', KERAS_WEIGHTS_FILE]) {
    if (!entries[need]) throw new RangeError(`${at}: the archive has no ${need} (entries: ${Object.keys(entries).join(', ') || 'none readable'})`);
  }
  const doc = parseJsonFile({ name: `${file.name}/config.json`, bytes: entries['config.json']! }, 'a Keras model config');
  const meta = entries['metadata.json'] ? parseJsonFile({ name: `${file.name}/metadata.json`, bytes: entries['metadata.json'] }, 'Keras metadata') : null;
  const { topology, trainingConfig } = topologyFromKeras(doc, `${at}/config.json`);
  const found = await readWeightsH5({ name: `${file.name}/${KERAS_WEIGHTS_FILE}`, bytes: entries[KERAS_WEIGHTS_FILE]! }, topology, kerasOrderOfFile(topology), at);
  const version = isObj(meta) && typeof meta.keras_version === 'string' ? meta.keras_version : 'unknown';
  return assembleArtifacts(topology, found, at, { generatedBy: `Keras ${version}`, trainingConfig });
}

/** A file's layers are in Keras's model.layers order already (config.json lists them so). */
function kerasOrderOfFile(topo: TopologyJSON): TopologyJSON['config']['layers'] {
  return topo.className === 'Sequential' ? topo.config.layers.filter((l) => l.className !== 'InputLayer') : topo.config.layers;
}

/**
 * Reads a Keras 3 `.weights.h5` for the model whose artifacts JSON is `target` (weights-only
 * files hold no topology: the paths follow the target's layers in Keras's order). Returns the
 * target's artifacts with the file's weights.
 */
export async function decodeKerasWeights(files: readonly NamedFile[], target: ModelJSON, where = 'Keras weights'): Promise<ModelArtifacts> {
  const file = files.find((f) => /\.h5$|\.hdf5$/i.test(f.name)) ?? (files.length === 1 ? files[0] : undefined);
  if (!file) throw new RangeError(`${where}: no .weights.h5 file among ${files.map((f) => f.name).join(', ') || 'no files'}`);
  const at = `${where}: ${file.name}`;
  const topo = target.modelTopology;
  const found = await readWeightsH5(file, topo, kerasLayerOrder(topo), at);
  return assembleArtifacts(topo, found, at, { generatedBy: target.generatedBy, trainingConfig: target.trainingConfig ?? null });
}

export { hdf5SignatureAt };
