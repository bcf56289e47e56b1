/**
 * Optimizers by name: compile's `optimizer: 'adam'`, and the `{className, config}` form saved
 * models hold (serializeOptimizer / optimizerFromConfig). Lookups over own names only.
 */
import { Adam, AdamW, Optimizer, RMSprop, SGD, type AdamConfig, type AdamWConfig, type RmspropConfig, type SgdConfig } from './optimizers';
import { ownLookup, unknownName } from '../options';

const BY_NAME: Record<string, () => Optimizer> = {
  adam: () => new Adam(),
  Adam: () => new Adam(),
  adamw: () => new AdamW(),
  AdamW: () => new AdamW(),
  sgd: () => new SGD(),
  SGD: () => new SGD(),
  rmsprop: () => new RMSprop(),
  RMSprop: () => new RMSprop(),
};

const FROM_CONFIG: Record<string, (cfg: never) => Optimizer> = {
  adam: (c: AdamConfig) => new Adam(c),
  adamw: (c: AdamWConfig) => new AdamW(c),
  sgd: (c: SgdConfig) => new SGD(c),
  rmsprop: (c: RmspropConfig) => new RMSprop(c),
};

/**
 * An optimizer from its serialized form `{className, config}` (className: its name, e.g. 'adam',
 * or Keras' class name 'Adam'; config: its getConfig()), as saved models hold it.
 */
export function optimizerFromConfig(value: unknown, where: string): Optimizer {
  const v = value as { className?: unknown; config?: unknown } | null;
  if (!v || typeof v !== 'object' || typeof v.className !== 'string') throw new TypeError(`${where}: expected {className, config}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  const make = ownLookup(FROM_CONFIG, v.className.toLowerCase());
  if (!make) throw new RangeError(`${where}: ${unknownName('optimizer', v.className, Object.keys(FROM_CONFIG))}`);
  const cfg = (v.config ?? {}) as Record<string, unknown>;
  // getConfig writes null for unset clipping and weight decay.
  const set = Object.fromEntries(Object.entries(cfg).filter(([, x]) => x !== null));
  return make(set as never);
}

/** An optimizer as `{className, config}` (its name and getConfig()). */
export function serializeOptimizer(o: Optimizer): { className: string; config: Record<string, unknown> } {
  return { className: o.name, config: o.getConfig() };
}

/** Resolves an optimizer given by instance or by name ('adam', 'adamw', 'sgd', 'rmsprop'). */
export function resolveOptimizer(o: Optimizer | string): Optimizer {
  if (o instanceof Optimizer) return o;
  const make = ownLookup(BY_NAME, o);
  if (!make) throw new RangeError(`compile: ${typeof o === 'string' ? unknownName('optimizer', o, ['adam', 'adamw', 'sgd', 'rmsprop']) : `optimizer must be an optimizer object or a name (adam, adamw, sgd, rmsprop), got ${JSON.stringify(o)}`}`);
  return make();
}
