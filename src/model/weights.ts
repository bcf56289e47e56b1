/**
 * A model's weights over the parameter arena (src/gpu/arena.ts): the model seed (setSeed),
 * creating and initialising the arena from the layers' weight specs (Keras order, seeded),
 * reading all weights back, setting them (count and shapes checked before anything changes), and
 * counting parameters from the specs alone (no GPU).
 */
import type { Context } from '../gpu/context';
import { ParamArena, type Variable } from '../gpu/arena';
import { readback, upload } from '../gpu/io';
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import { shapeSize } from '../tensor';
import type { Layer, Shape, WeightSpec } from '../layers/layer';
import { initialize, Rng } from '../layers/initializers';
import { MT19937 } from '../data/mt19937';

let globalSeed: number | null = null;
let modelCounter = 0;

/** Seeds all models created afterwards (like keras.utils.set_random_seed). */
export function setSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`setSeed: seed must be an integer in [0, 2^32-1], got ${seed}`);
  globalSeed = seed;
  modelCounter = 0;
}

/** A new model's seed: the one given, else setSeed's value plus a per-model counter, else random. */
export function nextModelSeed(seed?: number): number {
  return seed ?? (globalSeed !== null ? globalSeed + modelCounter++ : Math.floor(Math.random() * 2 ** 31));
}

/** A weight of a layer, as the arena lays it out. */
export interface LayerWeight {
  layer: Layer;
  spec: WeightSpec;
}

/** Every layer's weights for its input shape (`inputs[i]` is layer i's), in Keras order. */
export function layerWeights(layers: readonly Layer[], inputs: readonly Shape[]): LayerWeight[] {
  return layers.flatMap((l, i) => l.weightSpecs(inputs[i]!).map((s) => ({ layer: l, spec: s })));
}

/**
 * Where each built layer's weights live: the arena of the model that built it first, and its
 * variables there. A model made later from layers of an already built model (e.g. the inference
 * encoder and decoder of a trained encoder–decoder) uses the same GPU weights.
 */
const homes = new WeakMap<Layer, { arena: ParamArena; vars: Variable[] }>();

/** Records that `layers`' weights are `arena`'s variables, in arena order (`weights` says whose each is). */
export function registerWeights(arena: ParamArena, weights: readonly LayerWeight[]): void {
  const by = new Map<Layer, Variable[]>();
  weights.forEach((w, i) => {
    const list = by.get(w.layer) ?? [];
    list.push(arena.vars[i]!);
    by.set(w.layer, list);
  });
  for (const [l, vars] of by) homes.set(l, { arena, vars });
}

/**
 * The arena already holding the weights of `layers` (those with weights), or null when none is
 * built yet. Throws when some are built and some are not, or they belong to different models.
 */
export function existingArena(layers: readonly Layer[], hasWeights: (l: Layer) => boolean, where: string): ParamArena | null {
  const weighted = layers.filter(hasWeights);
  const gone = weighted.filter((l) => destroyed.has(homes.get(l)?.arena as ParamArena));
  if (gone.length) {
    const by = destroyed.get(homes.get(gone[0]!)!.arena)!;
    throw new Error(`${where}: ${gone.map((l) => l.name).join(', ')} ${gone.length > 1 ? 'were' : 'was'} disposed with model '${by}' (its weights were freed); create new layers`);
  }
  const found = weighted.map((l) => homes.get(l)?.arena ?? null);
  if (found.every((a) => a === null)) return null;
  const arena = found.find((a) => a !== null)!;
  const stray = weighted.filter((_, i) => found[i] !== arena);
  if (stray.length) {
    throw new Error(`${where}: layers ${stray.map((l) => l.name).join(', ')} are not built in the same model as ${weighted.find((_, i) => found[i] === arena)!.name}; a model may reuse the built layers of ONE other model (sharing its weights) or use new layers`);
  }
  return arena;
}

/** How many built models use each arena (a model made from another's layers shares its arena). */
const users = new WeakMap<ParamArena, number>();

/** A model starts using `arena`. */
export function retainArena(arena: ParamArena): void {
  users.set(arena, (users.get(arena) ?? 0) + 1);
}

/**
 * Model `by` stops using `arena` (dispose); the last one frees it and returns true. Its layers are
 * then disposed too: building them into another model throws (they would silently get fresh weights).
 */
export function releaseArena(arena: ParamArena, by: string): boolean {
  const n = (users.get(arena) ?? 1) - 1;
  users.set(arena, n);
  if (n > 0) return false;
  arena.destroy();
  destroyed.set(arena, by);
  return true;
}

/** Freed arenas, with the name of the model whose dispose freed them. */
const destroyed = new WeakMap<ParamArena, string>();

/** The variables of a layer in its arena (empty for a layer without weights). */
export function layerVars(layer: Layer): Variable[] {
  return homes.get(layer)?.vars ?? [];
}

/**
 * The arena for `weights` (named 'layer/weight'), initialised on the GPU from one MT19937 stream
 * seeded with `seed`, drawn in arena order. The initial values stay on the host as its host copy.
 */
export function createArena(ctx: Context, weights: readonly LayerWeight[], seed: number): ParamArena {
  const arena = new ParamArena(ctx, weights.map(({ layer, spec }) => ({ name: `${layer.name}/${spec.name}`, shape: spec.shape, trainable: spec.trainable ?? true })));
  const rng = new Rng(new MT19937(seed >>> 0));
  const host = new Float32Array(arena.length);
  for (let i = 0; i < weights.length; i++) {
    const { spec } = weights[i]!;
    host.set(spec.initValues ? spec.initValues(rng) : initialize(spec.init, spec.shape, rng), arena.vars[i]!.offset);
  }
  ctx.device.queue.writeBuffer(arena.params, 0, host.buffer, host.byteOffset, host.byteLength);
  arena.host = { data: host, note: 'as initialised' };
  indexArena(arena);
  return arena;
}

/** The arena whose params `vars` are views of (every model's variables share one). */
function arenaOf(vars: readonly Variable[]): ParamArena | undefined {
  return vars.length ? arenas.get(vars[0]!.value.buffer) : undefined;
}
const arenas = new WeakMap<GPUBuffer, ParamArena>();

/** Makes `arena` findable from its variables (after it is made or moved to a new device). */
export function indexArena(arena: ParamArena): void {
  arenas.set(arena.params, arena);
}

/**
 * The variables' values, read back (Keras layouts); on a lost device, the arena's host copy (the
 * weights as of the last backup).
 */
export async function readWeights(ctx: Context, vars: readonly Variable[]): Promise<HostTensor[]> {
  const arena = arenaOf(vars);
  if (ctx.gpu.isLost && arena?.host) return vars.map((v) => ({ data: arena.host!.data.slice(v.offset, v.offset + v.size), shape: [...v.shape] }));
  const data = await readback(ctx.device, ...vars.map((v) => v.value));
  return vars.map((v, i) => ({ data: Float32Array.from(data[i]!), shape: [...v.shape] }));
}

/**
 * Writes the variables' values. Count and every shape are checked before anything is uploaded;
 * `where` prefixes the errors (e.g. 'sequential.setWeights').
 */
export function writeWeights(ctx: Context, vars: readonly Variable[], weights: TensorLike[], where: string): void {
  if (!Array.isArray(weights) || weights.length !== vars.length) {
    throw new RangeError(`${where}: expected ${vars.length} arrays (${vars.map((v) => v.name).join(', ')}), got ${Array.isArray(weights) ? weights.length : typeof weights}`);
  }
  const hosts = weights.map((w, i) => {
    const v = vars[i]!;
    const h = toHostTensor(w, `${where}: ${v.name}`);
    if (h.shape.length !== v.shape.length || h.shape.some((d, j) => d !== v.shape[j])) {
      throw new RangeError(`${where}: ${v.name} expects shape [${v.shape.join(', ')}], got [${h.shape.join(', ')}]`);
    }
    return h;
  });
  hosts.forEach((h, i) => upload(ctx.device, vars[i]!.value, h.data));
  const arena = arenaOf(vars);
  if (arena?.host) {
    hosts.forEach((h, i) => arena.host!.data.set(h.data, vars[i]!.offset));
    arena.host.note = `as set by ${where.split(':')[0]}`;
  }
}

/** Parameters of one layer for an input shape: all of them, and the non-trainable ones. */
export function layerParams(layer: Layer, input: Shape): { total: number; frozen: number } {
  const specs = layer.weightSpecs(input);
  return {
    total: specs.reduce((m, s) => m + shapeSize(s.shape), 0),
    frozen: specs.reduce((m, s) => m + (s.trainable === false ? shapeSize(s.shape) : 0), 0),
  };
}

/** Number of parameters of `layers` (`inputs[i]` is layer i's input shape); no GPU needed. */
export function countParams(layers: readonly Layer[], inputs: readonly Shape[]): number {
  return layers.reduce((n, l, i) => n + layerParams(l, inputs[i]!).total, 0);
}
