/**
 * Helpers of the format tests: a model rebuilt from artifacts, weights split by manifest,
 * predictions compared, deterministic inputs.
 */
import type * as rnn from '../../src/index';
import { modelFromArtifacts as loadFromArtifacts } from '../../src/model/load';
import type { ModelArtifacts, NamedFile } from '../../src/io/artifacts';
import { manifestEntries, shapeSize } from '../../src/io/artifacts';
import type { HostTensor } from '../../src/host';

export type AnyModel = rnn.Sequential | rnn.Model;

/** The model of `art`, built and with its weights (the library's own modelFromArtifacts). */
export async function modelFromArtifacts(art: ModelArtifacts): Promise<AnyModel> {
  return loadFromArtifacts(art, 'test');
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
