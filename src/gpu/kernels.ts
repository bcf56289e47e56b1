/**
 * Registry of the WGSL files (imported as text through Vite's `?raw`, which works in Vite apps,
 * Vitest and the library bundle alike). The only module that imports shader sources.
 */
import type { ShaderFile } from './shader';
import prelude from '../../shaders/prelude.wgsl?raw';
import elementwise from '../../shaders/elementwise.wgsl?raw';
import reduce from '../../shaders/reduce.wgsl?raw';
import loss from '../../shaders/loss.wgsl?raw';
import optim from '../../shaders/optim.wgsl?raw';
import normalization from '../../shaders/normalization.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import rnn from '../../shaders/rnn.wgsl?raw';

const file = (name: string, code: string): ShaderFile => ({ name, code });

export const PRELUDE = file('prelude.wgsl', prelude);

/** Every shader file, by short name. */
export const SHADERS = {
  elementwise: file('elementwise.wgsl', elementwise),
  reduce: file('reduce.wgsl', reduce),
  loss: file('loss.wgsl', loss),
  optim: file('optim.wgsl', optim),
  normalization: file('normalization.wgsl', normalization),
  matmul: file('matmul.wgsl', matmul),
  rnn: file('rnn.wgsl', rnn),
} satisfies Record<string, ShaderFile>;

export type ShaderName = keyof typeof SHADERS;
