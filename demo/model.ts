/**
 * Builds the Sequential model and optimizer a {@link ModelConfig} describes, through the public
 * API only. Used by the worker (training) and by the page (summary and parameter count, which
 * need no GPU). Optimizers and clipping options that the library does not offer yet are detected
 * here so the page can disable their controls.
 */
import * as rnn from '../src/index';
import type { Optimizer, Sequential, Shape } from '../src/index';
import { HORIZON, type Clipping, type ModelConfig, type OptimizerName } from './protocol';

type OptimizerFactory = (cfg: Record<string, number>) => Optimizer;

function factory(name: OptimizerName): OptimizerFactory | undefined {
  const f = (rnn.optimizers as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as OptimizerFactory) : undefined;
}

/** Whether the library accepts a clipping option (it validates and records it in getConfig or on the instance). */
function supportsClipping(kind: Exclude<Clipping, 'none'>): boolean {
  const adam = factory('adam');
  if (!adam) return false;
  try {
    const o = adam({ learningRate: 0.001, [kind]: 0.5 });
    return o.getConfig()[kind] === 0.5 || (o as unknown as Record<string, unknown>)[kind] === 0.5;
  } catch {
    return false;
  }
}

export interface Capabilities {
  optimizers: Record<OptimizerName, boolean>;
  clipping: Record<Exclude<Clipping, 'none'>, boolean>;
}

export function capabilities(): Capabilities {
  return {
    optimizers: { adam: !!factory('adam'), sgd: !!factory('sgd'), rmsprop: !!factory('rmsprop'), adamw: !!factory('adamw') },
    clipping: { clipnorm: supportsClipping('clipnorm'), globalClipnorm: supportsClipping('globalClipnorm'), clipvalue: supportsClipping('clipvalue') },
  };
}

export function makeOptimizer(cfg: ModelConfig): Optimizer {
  const f = factory(cfg.optimizer);
  if (!f) throw new Error(`The optimizer '${cfg.optimizer}' is not available in this build of webgpu-rnn.`);
  const args: Record<string, number> = { learningRate: cfg.learningRate };
  if (cfg.clipping !== 'none') {
    if (!supportsClipping(cfg.clipping)) throw new Error(`Gradient clipping '${cfg.clipping}' is not available in this build of webgpu-rnn.`);
    args[cfg.clipping] = cfg.clipValue;
  }
  return f(args);
}

/** The stack: depth recurrent layers (returnSequences on all but the last), then Dense(1) or Dense(10). */
export function buildModel(cfg: ModelConfig): Sequential {
  const layers = [];
  // Keras-style names, stable across models (the library's default names count up per page)
  const base = { simpleRNN: 'simple_rnn', lstm: 'lstm', gru: 'gru' }[cfg.cell];
  for (let i = 0; i < cfg.depth; i++) {
    const args = { name: i ? `${base}_${i}` : base, units: cfg.units, returnSequences: i < cfg.depth - 1, ...(i === 0 ? { inputShape: [null, 1] } : {}) };
    switch (cfg.cell) {
      case 'simpleRNN':
        layers.push(rnn.layers.simpleRNN(args));
        break;
      case 'lstm':
        layers.push(rnn.layers.lstm(args));
        break;
      case 'gru':
        layers.push(rnn.layers.gru({ ...args, resetAfter: cfg.resetAfter }));
        break;
      default:
        cfg.cell satisfies never;
        throw new Error(`unknown layer type ${String(cfg.cell)}`);
    }
  }
  layers.push(rnn.layers.dense({ name: 'dense', units: cfg.head === 'next' ? 1 : HORIZON }));
  return rnn.sequential({ layers, seed: cfg.seed });
}

/** Names and shapes of the weights a config's model has (Keras order), computed without a GPU. */
export function expectedWeights(cfg: ModelConfig): { name: string; shape: number[] }[] {
  const model = buildModel(cfg);
  let shape: Shape = [null, 1];
  const out: { name: string; shape: number[] }[] = [];
  for (const l of model.layers) {
    for (const s of l.weightSpecs(shape)) out.push({ name: `${l.name}/${s.name}`, shape: [...s.shape] });
    shape = l.outputShape(shape);
  }
  return out;
}

/** Checks a config from the form or from a weights file; returns a list of problems (empty: valid). */
export function configProblems(c: Partial<Record<keyof ModelConfig, unknown>>): string[] {
  const p: string[] = [];
  const int = (k: keyof ModelConfig, lo: number, hi: number) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) p.push(`${k} must be an integer from ${lo} to ${hi} (got ${JSON.stringify(v)})`);
  };
  const pos = (k: keyof ModelConfig, hi: number) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > hi) p.push(`${k} must be a number in (0, ${hi}] (got ${JSON.stringify(v)})`);
  };
  const oneOf = (k: keyof ModelConfig, options: readonly string[]) => {
    if (!options.includes(c[k] as string)) p.push(`${k} must be one of ${options.join(', ')} (got ${JSON.stringify(c[k])})`);
  };
  oneOf('cell', ['simpleRNN', 'lstm', 'gru']);
  if (typeof c.resetAfter !== 'boolean') p.push(`resetAfter must be true or false (got ${JSON.stringify(c.resetAfter)})`);
  int('units', 1, 512);
  int('depth', 1, 4);
  oneOf('head', ['next', 'vector10']);
  oneOf('optimizer', ['adam', 'sgd', 'rmsprop', 'adamw']);
  pos('learningRate', 10);
  oneOf('clipping', ['none', 'clipnorm', 'globalClipnorm', 'clipvalue']);
  pos('clipValue', 1e6);
  int('epochs', 1, 1000);
  int('batchSize', 1, 4096);
  int('window', 2, 1000);
  int('seed', 0, 2 ** 32 - 1);
  return p;
}
