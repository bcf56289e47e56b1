/**
 * Helpers of the format tests: a model rebuilt from artifacts (layers from the registry, the
 * functional graph re-applied, weights set in manifest order), predictions compared, and models
 * made and saved by TensorFlow.js 4.22 (CPU backend) as the files tfjs writes.
 */
import * as rnn from '../../src/index';
import { deserializeLayer } from '../../src/layers/registry';
import type { InputLayer, Layer } from '../../src/layers/layer';
import type { SymbolicTensor } from '../../src/layers/symbolic';
import type { ModelArtifacts, NamedFile, TensorRef } from '../../src/io/artifacts';
import { manifestEntries, shapeSize } from '../../src/io/artifacts';
import type { HostTensor } from '../../src/host';

export type AnyModel = rnn.Sequential | rnn.Model;

/** The model of `art`, built and with its weights. */
export async function modelFromArtifacts(art: ModelArtifacts): Promise<AnyModel> {
  const topo = art.json.modelTopology;
  const layerOf = (l: (typeof topo.config.layers)[number]) => deserializeLayer({ className: l.className, config: l.config }, `layer '${l.name}'`);
  let model: AnyModel;
  if (topo.className === 'Sequential') {
    model = rnn.sequential({ name: topo.config.name, seed: topo.config.seed, layers: topo.config.layers.filter((l) => l.className !== 'InputLayer').map(layerOf) });
  } else {
    const made = new Map<string, Layer>();
    const outs = new Map<string, SymbolicTensor[][]>();
    for (const l of topo.config.layers) {
      const layer = layerOf(l);
      made.set(l.name, layer);
      outs.set(l.name, []);
      if (l.className === 'InputLayer') outs.get(l.name)!.push([(layer as InputLayer).output]);
    }
    const get = (r: TensorRef) => outs.get(r[0])?.[r[1]]?.[r[2]];
    const pending = topo.config.layers.filter((l) => l.className !== 'InputLayer').flatMap((l) => (l.inboundNodes ?? []).map((n, k) => ({ l, n, k })));
    while (pending.length) {
      const i = pending.findIndex((p) => outs.get(p.l.name)!.length === p.k && p.n.inputs.every(get) && (p.n.initialState ?? []).every(get));
      if (i < 0) throw new Error('graph cannot be resolved');
      const { l, n } = pending.splice(i, 1)[0]!;
      const ins = n.inputs.map((r) => get(r)!);
      const states = (n.initialState ?? []).map((r) => get(r)!);
      const y = made.get(l.name)!.apply(ins.length === 1 && !['Concatenate', 'Add', 'Subtract', 'Multiply', 'Average'].includes(l.className) ? ins[0]! : ins, states.length ? { initialState: states } : {});
      outs.get(l.name)!.push(Array.isArray(y) ? y : [y]);
    }
    model = rnn.model({
      name: topo.config.name,
      seed: topo.config.seed,
      inputs: topo.config.inputLayers!.map((r) => get(r)!),
      outputs: topo.config.outputLayers!.length === 1 ? get(topo.config.outputLayers![0]!)! : topo.config.outputLayers!.map((r) => get(r)!),
    });
  }
  for (const l of topo.config.layers) if (!l.trainable) {
    const layer = model.layers.find((x: Layer) => x.name === l.name);
    if (layer) layer.trainable = false;
  }
  const weights = splitWeights(art);
  if (weights.length) {
    await model.setWeights(weights.map((w) => ({ data: w.data, shape: w.shape })));
    const names = model.weightNames;
    const want = weights.map((w) => w.name);
    if (JSON.stringify(names) !== JSON.stringify(want)) throw new Error(`weight names differ:\n${names.join(',')}\n${want.join(',')}`);
  }
  return model;
}

/** The model-group weights of artifacts, in manifest order. */
export function splitWeights(art: ModelArtifacts): { name: string; shape: number[]; data: Float32Array }[] {
  const out: { name: string; shape: number[]; data: Float32Array }[] = [];
  let off = 0;
  for (const e of manifestEntries(art.json)) {
    const n = shapeSize(e.shape, e.name);
    if ((e.group ?? 'model') === 'model') out.push({ name: e.name, shape: e.shape, data: new Float32Array(art.weightData.slice(off * 4, (off + n) * 4)) });
    off += n;
  }
  return out;
}

/** Largest |a - b|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Deterministic values in [lo, hi). */
export function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

export function asHost(p: unknown): HostTensor {
  return (Array.isArray(p) ? p[0] : p) as HostTensor;
}

/** Files as a map name → bytes (for messages). */
export function fileNames(files: NamedFile[]): string {
  return files.map((f) => `${f.name} (${f.bytes.byteLength} B)`).join(', ');
}
