/**
 * Helpers the file formats share: JSON parsing with the file's name and byte offset in errors,
 * float32 weights checked (finite, shapes against the topology) by name, and the artifacts a
 * converter returns assembled in the model's weight order.
 */
import { FORMAT, FORMAT_VERSION, shapeSize, type ModelArtifacts, type ModelJSON, type NamedFile, type TopologyJSON, type TrainingConfigJSON, type WeightEntry } from './artifacts';
import { layerWeights, topologyShapes } from './shapes';

/** A weight read from a file: its shape and values (a copy, 4-byte aligned). */
export interface ReadWeight {
  shape: number[];
  data: Float32Array;
  /** Where it came from, for errors (e.g. 'model.json: weightsManifest[0].weights[3]', an HDF5 path). */
  source: string;
}

/** Parses a JSON file; errors name the file and the byte offset of the problem. */
export function parseJsonFile(file: NamedFile, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.bytes);
  } catch {
    throw new TypeError(`${file.name}: not UTF-8 text, so not ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    throw new TypeError(`${file.name}: not valid JSON${m ? ` (at byte ${m[1]})` : ''}${text.length === 0 ? ' (empty file)' : ''}, so not ${what}: ${(e as Error).message}`);
  }
}

/** Throws naming the weight when any value is NaN or ±Infinity. */
export function checkFinite(name: string, data: Float32Array, where: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new RangeError(`${where}: weight '${name}' has ${Number.isNaN(data[i]!) ? 'NaN' : data[i]} at element ${i}; refusing to load a model with non-finite weights`);
    }
  }
}

/**
 * The artifacts for `topology` with its weights taken by name from `found`: every weight the
 * topology declares must be there with the shape it declares and finite values; `extra` names
 * in `found` that no layer declares are an error too (a file for another model).
 */
export function assembleArtifacts(
  topology: TopologyJSON,
  found: Map<string, ReadWeight>,
  where: string,
  extras: { generatedBy: string; trainingConfig?: TrainingConfigJSON | null; userDefinedMetadata?: Record<string, unknown> },
): ModelArtifacts {
  const shapes = topologyShapes(topology, where);
  const want = shapes.built ? shapes.layers.flatMap(layerWeights) : [];
  if (!shapes.built && found.size) throw new RangeError(`${where}: the model has weights but no input shape (give the first layer an input shape)`);
  const entries: WeightEntry[] = [];
  let bytes = 0;
  const missing: string[] = [];
  for (const w of want) {
    const got = found.get(w.name);
    if (!got) {
      missing.push(w.name);
      continue;
    }
    if (got.shape.length !== w.shape.length || got.shape.some((d, i) => d !== w.shape[i])) {
      throw new RangeError(`${where}: weight '${w.name}' (${got.source}) has shape [${got.shape.join(', ')}] but the topology needs [${w.shape.join(', ')}]`);
    }
    checkFinite(w.name, got.data, where);
    entries.push({ name: w.name, shape: w.shape, dtype: 'float32', group: 'model' });
    bytes += got.data.byteLength;
  }
  if (missing.length) {
    throw new RangeError(`${where}: the file lacks ${missing.length} weight(s) the topology needs: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}${found.size ? ` (it has: ${[...found.keys()].slice(0, 8).join(', ')}${found.size > 8 ? ', …' : ''})` : ''}`);
  }
  const used = new Set(want.map((w) => w.name));
  const unused = [...found.keys()].filter((n) => !used.has(n));
  if (unused.length) throw new RangeError(`${where}: the file has weight(s) no layer of its topology declares: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? ', …' : ''}`);
  const weightData = new ArrayBuffer(bytes);
  const view = new Float32Array(weightData);
  let off = 0;
  for (const e of entries) {
    const d = found.get(e.name)!.data;
    view.set(d, off);
    off += d.length;
  }
  const json: ModelJSON = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    generatedBy: extras.generatedBy,
    modelTopology: topology,
    trainingConfig: extras.trainingConfig ?? null,
    trainingState: null,
    weightsManifest: [{ paths: ['weights.bin'], weights: entries }],
    ...(extras.userDefinedMetadata ? { userDefinedMetadata: extras.userDefinedMetadata } : {}),
  };
  return { json, weightData };
}

/** The model group's weights of artifacts by name (checked against weightData's length first). */
export function modelWeights(art: ModelArtifacts, where: string): { entry: WeightEntry; data: Float32Array }[] {
  const out: { entry: WeightEntry; data: Float32Array }[] = [];
  const all = art.json.weightsManifest.flatMap((g) => g.weights);
  let need = 0;
  for (const e of all) need += shapeSize(e.shape, `${where}: weight '${e.name}'`) * 4;
  if (need !== art.weightData.byteLength) throw new RangeError(`${where}: the manifest lists ${need} bytes of weights, weightData has ${art.weightData.byteLength}`);
  let off = 0;
  for (const e of all) {
    if (e.dtype !== 'float32') throw new TypeError(`${where}: weight '${e.name}' has dtype ${String(e.dtype)}; only float32 is written`);
    const n = shapeSize(e.shape, where);
    if ((e.group ?? 'model') === 'model') out.push({ entry: e, data: new Float32Array(art.weightData, off, n) });
    off += n * 4;
  }
  return out;
}
