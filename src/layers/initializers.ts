/**
 * Seeded weight initializers with Keras 3 semantics. All draws of a model come from one MT19937
 * stream (seeded by the model's seed), in layer order, so a seed fixes every initial weight.
 */
import { MT19937 } from '../data/mt19937';
import { orthogonalMatrix } from './orthogonal';
import { ownLookup, unknownName } from '../options';

/** Weight initializers by Keras name (camelCase): Glorot (Xavier) uniform/normal, He uniform, orthogonal, zeros, ones. */
export type InitializerName = 'glorotUniform' | 'orthogonal' | 'zeros' | 'ones' | 'glorotNormal' | 'heUniform';

const ALIASES: Record<string, InitializerName> = {
  glorotUniform: 'glorotUniform', glorot_uniform: 'glorotUniform',
  glorotNormal: 'glorotNormal', glorot_normal: 'glorotNormal',
  heUniform: 'heUniform', he_uniform: 'heUniform',
  orthogonal: 'orthogonal', zeros: 'zeros', ones: 'ones',
};

export function parseInitializer(name: string | undefined, where: string, fallback: InitializerName): InitializerName {
  if (name === undefined) return fallback;
  if (typeof name !== 'string') throw new TypeError(`${where}: an initializer must be a name like 'glorotUniform', got ${JSON.stringify(name)}`);
  const n = ownLookup(ALIASES, name);
  if (!n) throw new RangeError(`${where}: ${unknownName('initializer', name, Object.keys(ALIASES))}`);
  return n;
}

/** Uniform and normal draws on top of MT19937 (numpy-style doubles). */
export class Rng {
  private spare: number | null = null;
  constructor(readonly mt: MT19937) {}
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.mt.random();
  }
  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.mt.random();
    const v = this.mt.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Keras's fans for a 2-D weight [in, out]; 1-D weights use their length for both. */
function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const n = shape.reduce((a, b) => a * b, 1);
  return [n, n];
}

export function initialize(name: InitializerName, shape: readonly number[], rng: Rng): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  switch (name) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'glorotUniform': {
      const [fi, fo] = fans(shape);
      const limit = Math.sqrt(6 / (fi + fo));
      for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
      return out;
    }
    case 'heUniform': {
      const limit = Math.sqrt(6 / fans(shape)[0]);
      for (let i = 0; i < n; i++) out[i] = rng.uniform(-limit, limit);
      return out;
    }
    case 'glorotNormal': {
      // Keras: truncated normal (|z| <= 2) with stddev sqrt(2/(fi+fo)) / .87962566103423978
      const [fi, fo] = fans(shape);
      const sd = Math.sqrt(2 / (fi + fo)) / 0.87962566103423978;
      for (let i = 0; i < n; i++) {
        let z = rng.normal();
        while (Math.abs(z) > 2) z = rng.normal();
        out[i] = z * sd;
      }
      return out;
    }
    case 'orthogonal':
      return orthogonal(shape, rng);
    default:
      return name satisfies never;
  }
}

/** Keras's Orthogonal(gain=1) for a 2-D shape [rows, cols] (src/layers/orthogonal.ts). */
function orthogonal(shape: readonly number[], rng: Rng): Float32Array {
  const [rows, cols] = fans(shape);
  return orthogonalMatrix(rows, cols, () => rng.normal());
}
