/**
 * Registry of the WGSL files (imported as text through Vite's `?raw`, which works in Vite apps,
 * Vitest and the library bundle alike). The only module that imports shader sources.
 * `SHADERS` are the module roots ops compile kernels from; `LIBRARY` also holds the files they
 * include; `PREAMBLE` goes in front of every module.
 */
import type { ShaderFile } from './shader';
import { wgslConstantsSource } from './wgsl-constants';
import prelude from '../../shaders/prelude.wgsl?raw';
import elementwise from '../../shaders/elementwise.wgsl?raw';
import reduce from '../../shaders/reduce.wgsl?raw';
import loss from '../../shaders/loss.wgsl?raw';
import optim from '../../shaders/optim.wgsl?raw';
import normalization from '../../shaders/normalization.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import sequence from '../../shaders/sequence.wgsl?raw';
import concat from '../../shaders/concat.wgsl?raw';
import rnnCommon from '../../shaders/rnn-common.wgsl?raw';
import rnnPersistentTiles from '../../shaders/rnn-persistent-tiles.wgsl?raw';
import rnnPersistent from '../../shaders/rnn-persistent.wgsl?raw';
import rnnStep from '../../shaders/rnn-step.wgsl?raw';
import simpleRnnCell from '../../shaders/simple-rnn-cell.wgsl?raw';
import lstmCell from '../../shaders/lstm-cell.wgsl?raw';
import gruCell from '../../shaders/gru-cell.wgsl?raw';
import gruResetBeforeCell from '../../shaders/gru-reset-before-cell.wgsl?raw';

const file = (name: string, code: string): ShaderFile => ({ name, code });

/** In front of every module: the shared constants, then the prelude. */
export const PREAMBLE: readonly ShaderFile[] = [file('wgsl-constants (generated)', wgslConstantsSource()), file('prelude.wgsl', prelude)];

/** Every module root, by short name (what `ctx.kernel(name, entry)` takes). */
export const SHADERS = {
  elementwise: file('elementwise.wgsl', elementwise),
  reduce: file('reduce.wgsl', reduce),
  loss: file('loss.wgsl', loss),
  optim: file('optim.wgsl', optim),
  normalization: file('normalization.wgsl', normalization),
  matmul: file('matmul.wgsl', matmul),
  sequence: file('sequence.wgsl', sequence),
  concat: file('concat.wgsl', concat),
  simpleRnnCell: file('simple-rnn-cell.wgsl', simpleRnnCell),
  lstmCell: file('lstm-cell.wgsl', lstmCell),
  gruCell: file('gru-cell.wgsl', gruCell),
  gruResetBeforeCell: file('gru-reset-before-cell.wgsl', gruResetBeforeCell),
} satisfies Record<string, ShaderFile>;

export type ShaderName = keyof typeof SHADERS;

/** Every file an `//! include` line may name (the roots and the shared parts), by file name. */
export const LIBRARY: ReadonlyMap<string, ShaderFile> = new Map(
  [
    ...Object.values(SHADERS),
    file('rnn-common.wgsl', rnnCommon),
    file('rnn-persistent-tiles.wgsl', rnnPersistentTiles),
    file('rnn-persistent.wgsl', rnnPersistent),
    file('rnn-step.wgsl', rnnStep),
  ].map((f) => [f.name, f]),
);
