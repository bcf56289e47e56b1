/**
 * Activation names (Keras/tfjs spelling) and their codes (ACT_* in shaders/prelude.wgsl, both
 * from src/gpu/wgsl-constants.ts).
 */
import { ACTIVATION_CODES } from '../gpu/wgsl-constants';
import { unknownName } from '../options';

export { ACTIVATION_CODES };

export type Activation = keyof typeof ACTIVATION_CODES;

const ALIASES: Record<string, Activation> = {
  linear: 'linear',
  tanh: 'tanh',
  sigmoid: 'sigmoid',
  relu: 'relu',
  hardSigmoid: 'hardSigmoid',
  hard_sigmoid: 'hardSigmoid',
  // TensorFlow.js' hard_sigmoid (Keras 2's): clip(0.2x + 0.5, 0, 1); models loaded from tfjs files use it
  hardSigmoidTfjs: 'hardSigmoidTfjs',
  hard_sigmoid_tfjs: 'hardSigmoidTfjs',
};

/** Parses an activation option (null/undefined = linear); throws naming the layer on unknown names. */
export function parseActivation(name: string | null | undefined, where: string, fallback: Activation = 'linear'): Activation {
  if (name === undefined) return fallback;
  if (name === null) return 'linear';
  if (typeof name !== 'string') throw new TypeError(`${where}: an activation must be a name like 'tanh' (or null), got ${JSON.stringify(name)}`);
  const a = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (!a) throw new RangeError(`${where}: ${unknownName('activation', name, Object.keys(ALIASES))}`);
  return a;
}
