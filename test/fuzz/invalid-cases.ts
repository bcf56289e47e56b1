/**
 * Random INVALID uses of the public API for the fuzzer: bad layer options (values, types,
 * misspelled keys, names of Object.prototype's members), bad model graphs, bad compile options
 * (losses, optimizers and their options, schedules, metrics), bad data (ranks, sizes, batch
 * mismatches, NaN/Infinity, empty, not data at all), bad fit/predict arguments, bad setWeights
 * and calls in the wrong order. Each case says which words its error must contain: a clear error
 * names the problem. Data-level cases run on a small palette of models, built (trained one valid
 * step) or not, so the fuzzer can also check that nothing on the GPU changed and that the model
 * still trains afterwards.
 */
import * as rnn from '../../src/index';
import { makeRng } from '../helpers/rng';

export type Data = { data: Float32Array; shape: number[] };

/** A prepared invalid call on a (possibly built) model. */
export interface Prepared {
  /** The invalid call (sync or async); it must throw. */
  act: () => unknown;
  /** The model involved (checked for unchanged weights and still training), or null. */
  model: rnn.Model | null;
  /** Good data for the model (the still-trains check). */
  good: { x: Data; y: Data } | null;
  /** Whether the model was built (trained a valid step) before the invalid call. */
  built: boolean;
}

export interface InvalidCase {
  index: number;
  seed: number;
  /** Family, stable across runs (for the report), e.g. 'layer.units'. */
  kind: string;
  /** The call, readable. */
  what: string;
  /** The error message must match (names the option, value or argument). */
  expect: RegExp;
  prepare: () => Promise<Prepared>;
}

const show = (v: unknown): string => {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

type Rng = { pick: <T>(xs: readonly T[]) => T; int: (lo: number, hi: number) => number; chance: (p: number) => boolean };

/** The palette of small models for data-level cases. */
interface Palette {
  name: string;
  make: () => rnn.Sequential;
  compile: (m: rnn.Model) => void;
  /** x [B, T, I] and y shapes. */
  x: number[];
  y: number[];
  fixedT: boolean;
}
const PALETTE: readonly Palette[] = [
  {
    name: 'LSTM(3) → Dense(1)',
    make: () => rnn.sequential({ layers: [rnn.layers.lstm({ units: 3, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })], seed: 1 }),
    compile: (m) => m.compile({ optimizer: 'adam', loss: 'mse' }),
    x: [4, 5, 2],
    y: [4, 1],
    fixedT: false,
  },
  {
    name: 'GRU(2, seq) → Dense(2), T fixed',
    make: () => rnn.sequential({ layers: [rnn.layers.gru({ units: 2, returnSequences: true, inputShape: [5, 3] }), rnn.layers.dense({ units: 2 })], seed: 2 }),
    compile: (m) => m.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 0.01 }), loss: 'mae' }),
    x: [3, 5, 3],
    y: [3, 5, 2],
    fixedT: true,
  },
  {
    name: 'SimpleRNN(2)',
    make: () => rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 2, inputShape: [null, 1] })], seed: 3 }),
    compile: (m) => m.compile({ optimizer: 'rmsprop', loss: 'huber' }),
    x: [2, 3, 1],
    y: [2, 2],
    fixedT: false,
  },
];

const data = (shape: number[], seed: number): Data => {
  const r = makeRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => r() * 2 - 1), shape };
};

/** A fresh palette model, compiled, and trained one valid step when `build`. */
async function paletteModel(p: Palette, build: boolean, seed: number) {
  const model = p.make();
  p.compile(model);
  const good = { x: data(p.x, seed), y: data(p.y, seed + 1) };
  if (build) await model.trainOnBatch(good.x, good.y);
  return { model, good };
}

type Family = (r: Rng, seed: number) => Omit<InvalidCase, 'index' | 'seed'>;

/** A layer made with `args` must throw (no model, no GPU). */
function layerCase(kind: string, factory: string, args: Record<string, unknown>, expect: RegExp): Omit<InvalidCase, 'index' | 'seed'> {
  const make = (rnn.layers as unknown as Record<string, (a: unknown) => unknown>)[factory]!;
  return { kind, what: `layers.${factory}(${show(args)})`, expect, prepare: async () => ({ act: () => make(args), model: null, good: null, built: false }) };
}

const RECURRENT = ['lstm', 'gru', 'simpleRNN'] as const;
const base = (f: string) => (f === 'dense' ? { units: 2 } : { units: 3, inputShape: [null, 2] });

const FAMILIES: readonly [number, Family][] = [
  // ---------------------------------------------------------------- layer options
  [3, (r) => {
    const f = r.pick([...RECURRENT, 'dense']);
    const v = r.pick<unknown>([0, -3, 2.5, NaN, Infinity, '4', null, true, [4]]);
    return layerCase('layer.units', f, { ...base(f), units: v }, /units/);
  }],
  [1, (r, seed) => {
    const f = r.pick([...RECURRENT, 'dense']);
    const units = f === 'dense' ? 2 ** 31 : r.pick([1e5, 2 ** 31]); // each weight far past any device's buffer limit
    return { kind: 'layer.units.huge', what: `a model with layers.${f}({units: ${units}}) .predict`, expect: /units|limit|too (large|big|many)|memory|exceeds/i, prepare: async () => {
      const layer = (rnn.layers as unknown as Record<string, (a: unknown) => rnn.Layer>)[f]!({ units, inputShape: f === 'dense' ? [2] : [null, 2] });
      const model = rnn.sequential({ layers: [layer] });
      const x = data(f === 'dense' ? [2, 2] : [2, 3, 2], seed);
      return { act: () => model.predict(x), model: null, good: null, built: false };
    } };
  }],
  [2, (r) => {
    const f = r.pick([...RECURRENT, 'dense']);
    const v = r.pick<unknown>(['tanhh', 'softmaxx', 'Tanh ', 5, {}]);
    return layerCase('layer.activation', f, { ...base(f), activation: v }, /activation/);
  }],
  [1, (r) => {
    const f = r.pick(['lstm', 'gru']);
    return layerCase('layer.recurrentActivation', f, { ...base(f), recurrentActivation: r.pick<unknown>(['sigmoidd', 7]) }, /recurrentActivation|activation/);
  }],
  [2, (r) => {
    const f = r.pick([...RECURRENT, 'dense']);
    const key = r.pick(['activation', 'kernelInitializer', 'biasInitializer']);
    return layerCase('layer.ownNames', f, { ...base(f), [key]: r.pick(['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) }, new RegExp(key.replace('Initializer', '') + '|initializer', 'i'));
  }],
  [1, (r) => {
    const f = r.pick([...RECURRENT, 'dense']);
    return layerCase('layer.initializer', f, { ...base(f), kernelInitializer: r.pick<unknown>(['glorotUniformm', 'orthogonall', 5]) }, /kernelInitializer|initializer/);
  }],
  [2, (r) => {
    const f = r.pick(RECURRENT);
    const key = r.pick(['returnSequences', 'goBackwards', 'useBias', 'returnState']);
    return layerCase('layer.booleanType', f, { ...base(f), [key]: r.pick<unknown>(['false', 'true', 1, 0]) }, new RegExp(key));
  }],
  [2, (r) => {
    const f = r.pick(RECURRENT);
    const keys = [['returnSequence', 'returnSequences'], ['goBackward', 'goBackwards'], ['use_bias', 'useBias'], ['dropOut', 'dropout'], ['kernel_initializer', 'kernelInitializer'], ...(f === 'simpleRNN' ? [] : [['recurrent_activation', 'recurrentActivation']])] as const;
    const [key, right] = r.pick(keys);
    return layerCase('layer.misspelledKey', f, { ...base(f), [key]: key.includes('activation') ? 'sigmoid' : key.includes('initializer') ? 'zeros' : key === 'dropOut' ? 0.1 : true }, new RegExp(`${key}[\\s\\S]*${right}`));
  }],
  [2, (r) => {
    const f = r.pick(RECURRENT);
    const key = r.pick(['dropout', 'recurrentDropout']);
    return layerCase('layer.dropout', f, { ...base(f), [key]: r.pick<unknown>([1.5, -0.1, 1, NaN, 'x']) }, new RegExp(key));
  }],
  [2, (r) => {
    const f = r.pick([...RECURRENT, 'dense']);
    return layerCase('layer.inputShape', f, { units: 2, inputShape: r.pick<unknown>([[0, 2], [3, -1], 'x', [null, 2.5], [null, 0]]) }, /inputShape|shape/);
  }],
  [1, (r) => layerCase('layer.timeLoop', r.pick(RECURRENT), { units: 2, timeLoop: r.pick(['fast', 'loop', 1]) }, /timeLoop/)],
  [2, (r) => {
    const which = r.int(0, 2);
    if (which === 0) return { kind: 'bidirectional.mergeMode', what: 'bidirectional({mergeMode: bad})', expect: /mergeMode/, prepare: async () => ({ act: () => rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 2 }), mergeMode: r.pick(['concatt', 'add', 5]) as 'sum' }), model: null, good: null, built: false }) };
    if (which === 1) return { kind: 'bidirectional.layer', what: 'bidirectional({layer: not recurrent})', expect: /layer/, prepare: async () => ({ act: () => rnn.layers.bidirectional({ layer: r.pick<unknown>([rnn.layers.dense({ units: 2 }), {}, null, 'lstm']) as rnn.RecurrentLayer }), model: null, good: null, built: false }) };
    return { kind: 'bidirectional.goBackwards', what: 'bidirectional({layer: lstm({goBackwards: true})})', expect: /goBackwards/, prepare: async () => ({ act: () => rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 2, goBackwards: true }) }), model: null, good: null, built: false }) };
  }],
  // ---------------------------------------------------------------- model graphs
  [2, (r, seed) => {
    const which = r.int(0, 2);
    const x = data([2, 3, 2], seed);
    const models = [
      () => rnn.sequential({ layers: [rnn.layers.lstm({ units: 3, inputShape: [null, 2] }), rnn.layers.lstm({ units: 2 })] }),
      () => rnn.sequential({ layers: [rnn.layers.dense({ units: 2, inputShape: [3] }), rnn.layers.gru({ units: 2 })] }),
      () => rnn.sequential({ layers: [rnn.layers.gru({ units: 2, inputShape: [null, 4] })] }), // x has 2 features
    ];
    return { kind: 'model.graph', what: ['LSTM(seq=false) → LSTM', 'Dense → GRU', 'GRU(I=4) on I=2 data'][which]!, expect: /input|expect|shape|sequence|3D|rank|dimension/i, prepare: async () => {
      const m = models[which]!();
      return { act: () => m.predict(x), model: null, good: null, built: false };
    } };
  }],
  [1, (r) => ({ kind: 'model.layers', what: 'sequential({layers: bad})', expect: /layers?/, prepare: async () => ({ act: () => rnn.sequential({ layers: r.pick<unknown>([5, [5], [{}], 'lstm']) as rnn.Layer[] }), model: null, good: null, built: false }) })],
  // ---------------------------------------------------------------- compile
  [3, (r) => {
    const which = r.int(0, 3);
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['compile.loss', { optimizer: 'adam', loss: r.pick<unknown>(['mse2', 'categoricalCrossentropy', 5, null, 'constructor']) }, /loss/],
      ['compile.optimizer', { optimizer: r.pick<unknown>(['adamm', 5, {}, 'constructor', 'toString']), loss: 'mse' }, /optimizer/],
      ['compile.metrics', { optimizer: 'adam', loss: 'mse', metrics: [r.pick(['accuracyy', 'constructor', 'msee'])] }, /metric/i],
      ['compile.misspelledKey', { optimizer: 'adam', loss: 'mse', metric: ['mae'] }, /metric[\s\S]*metrics/],
    ];
    const [kind, args, expect] = bad[which]!;
    return { kind, what: `compile(${show(args)})`, expect, prepare: async () => {
      const m = PALETTE[0]!.make();
      return { act: () => m.compile(args as unknown as rnn.CompileArgs), model: null, good: null, built: false };
    } };
  }],
  [4, (r) => {
    const name = r.pick(['adam', 'adamw', 'sgd', 'rmsprop'] as const);
    const specific: Record<string, [string, unknown[]][]> = {
      adam: [['beta1', [1.5, -0.1, 1]], ['beta2', [1.5, -1]], ['epsilon', [-1, NaN]]],
      adamw: [['weightDecay', [-1, NaN]], ['beta1', [2]]],
      sgd: [['momentum', [-0.5, 1.5, NaN]], ['nesterov', ['yes']]],
      rmsprop: [['rho', [2, -1]], ['momentum', [-1]], ['centered', ['no']]],
    };
    const [key, values] = r.pick([['learningRate', [-1, NaN, Infinity, '0.1']], ['clipnorm', [-1, 0, NaN]], ['clipvalue', [-1, 0]], ['globalClipnorm', [-2]], ...specific[name]!] as [string, unknown[]][]);
    const v = r.pick(values);
    const make = rnn.optimizers[name] as (a: unknown) => unknown;
    return { kind: `optimizer.${key}`, what: `optimizers.${name}({${key}: ${show(v)}})`, expect: new RegExp(key), prepare: async () => ({ act: () => make({ [key]: v }), model: null, good: null, built: false }) };
  }],
  [2, (r) => {
    const name = r.pick(['adam', 'sgd', 'rmsprop'] as const);
    const [key, right] = r.pick([['learning_rate', 'learningRate'], ['lr', 'learningRate'], ['clipNorm', 'clipnorm'], ...(name === 'adam' ? [['beta_1', 'beta1']] : [])] as const);
    const make = rnn.optimizers[name] as (a: unknown) => unknown;
    return { kind: 'optimizer.misspelledKey', what: `optimizers.${name}({${key}: 0.5})`, expect: new RegExp(`${key}[\\s\\S]*${right}`), prepare: async () => ({ act: () => make({ [key]: 0.5 }), model: null, good: null, built: false }) };
  }],
  [2, (r) => {
    const which = r.int(0, 2);
    const cases: [string, () => unknown, RegExp][] = [
      ['schedule.decaySteps', () => rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: r.pick([0, -1, NaN]), decayRate: 0.5 }), /decaySteps/],
      ['schedule.decayRate', () => rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: r.pick([-1, NaN]) }), /decayRate/],
      ['schedule.className', () => rnn.optimizers.adam({ learningRate: { className: r.pick(['constructor', 'toString', 'Nope']), config: {} } as unknown as number }), /learningRate|className|schedule/],
    ];
    const [kind, act, expect] = cases[which]!;
    return { kind, what: kind, expect, prepare: async () => ({ act, model: null, good: null, built: false }) };
  }],
  // ---------------------------------------------------------------- data
  [8, (r, seed) => {
    const p = r.pick(PALETTE);
    const build = r.chance(0.5);
    const [B, T, I] = p.x as [number, number, number];
    const mutations: [string, (x: Data, y: Data) => [Data, Data], RegExp][] = [
      ['data.rank', (x, y) => [{ data: x.data.subarray(0, B * I), shape: [B, I] }, y], /x|input|shape|rank|dimension|3D/i],
      ['data.features', (x, y) => [data([B, T, I + 1], seed), y], /x|input|shape|feature/i],
      ['data.targetShape', (x, y) => [x, data([...y.shape.slice(0, -1), y.shape.at(-1)! + 1], seed)], /y|target|shape|output/i],
      ['data.batchMismatch', (x, y) => [x, data([B + 1, ...y.shape.slice(1)], seed)], /y|x|rows|batch|samples|size/i],
      ['data.nan', (x, y) => {
        const d = Float32Array.from(x.data);
        d[r.int(0, d.length - 1)] = r.pick([NaN, Infinity, -Infinity]);
        return [{ data: d, shape: x.shape }, y];
      }, /NaN|Infinity/],
      ['data.nanTarget', (x, y) => {
        const d = Float32Array.from(y.data);
        d[r.int(0, d.length - 1)] = NaN;
        return [x, { data: d, shape: y.shape }];
      }, /NaN|Infinity/],
      ['data.length', (x, y) => [{ data: x.data.subarray(1), shape: x.shape }, y], /data has|values|length/i],
      ['data.empty', (x, y) => [{ data: new Float32Array(0), shape: [0, T, I] }, y], /empty|x|rows|batch/i],
      ['data.notData', (x, y) => [r.pick<unknown>([null, 'abc', 5, { data: [1] }]) as Data, y], /x|data|expected/i],
    ];
    if (p.fixedT) mutations.push(['data.steps', (x, y) => [data([B, T + 1, I], seed), y], /x|steps|shape|time|input/i]);
    const call = r.pick(['fit', 'trainOnBatch', 'evaluate', 'gradients', 'predict'] as const);
    // predict takes no targets: only the mutations of x apply
    const [kind, mutate, expect] = r.pick(call === 'predict' ? mutations.filter(([k]) => !['data.targetShape', 'data.batchMismatch', 'data.nanTarget'].includes(k)) : mutations);
    return { kind: `${kind}`, what: `${p.name}${build ? ' (built)' : ''}.${call} with ${kind.slice(5)}`, expect, prepare: async () => {
      const { model, good } = await paletteModel(p, build, seed);
      const [x, y] = mutate(good.x, good.y);
      const act = () => (call === 'predict' ? model.predict(x) : call === 'fit' ? model.fit(x, y, { epochs: 1 }) : call === 'evaluate' ? model.evaluate(x, y) : model[call](x, y));
      return { act, model, good, built: build };
    } };
  }],
  [4, (r, seed) => {
    const p = r.pick(PALETTE);
    const build = r.chance(0.5);
    const choices: [string, Record<string, unknown>, RegExp][] = [
      ['fit.epochs', { epochs: r.pick<unknown>([-1, 2.5, NaN, 'x']) }, /epochs/],
      ['fit.batchSize', { batchSize: r.pick<unknown>([0, -1, 1.5, '8']) }, /batchSize/],
      ['fit.validationSplit', { validationSplit: r.pick<unknown>([1.5, -0.1, 1]) }, /validationSplit/],
      ['fit.validationData', { validationData: r.pick<unknown>([[data([2, 2], seed)], 'x', [data([1, 5, 9], seed), data([1, 1], seed)]]) }, /validation/i],
      ['fit.callbacksType', { callbacks: r.pick<unknown>([5, [7], [null], 'earlyStopping', ['earlyStopping']]) }, /callbacks?/],
      ['fit.sampleWeight', { sampleWeight: r.pick<unknown>([data([p.x[0]! + 1], seed), { data: Float32Array.of(NaN, 1, 1, 1).subarray(0, p.x[0]!), shape: [p.x[0]!] }]) }, /sampleWeight|NaN/],
      ['fit.misspelledKey', { [r.pick(['epoch', 'batch_size', 'validation_split'])]: 2 }, /epoch|batch|validation/],
      ['fit.booleanType', { shuffle: r.pick(['yes', 1]) }, /shuffle/],
    ];
    const [kind, args, expect] = r.pick(choices);
    return { kind, what: `${p.name}${build ? ' (built)' : ''}.fit(x, y, ${show(args)})`, expect, prepare: async () => {
      const { model, good } = await paletteModel(p, build, seed);
      return { act: () => model.fit(good.x, good.y, args as rnn.FitArgs), model, good, built: build };
    } };
  }],
  [2, (r, seed) => {
    const p = r.pick(PALETTE);
    const build = r.chance(0.5);
    const which = r.pick(['predict.batchSize', 'evaluate.batchSize', 'trainOnBatch.sampleWeight'] as const);
    return { kind: which, what: `${p.name}.${which}`, expect: which.endsWith('sampleWeight') ? /sampleWeight/ : /batchSize/, prepare: async () => {
      const { model, good } = await paletteModel(p, build, seed);
      const bs = r.pick<unknown>([0, -2, 1.5, 'all']) as number;
      const act =
        which === 'predict.batchSize' ? () => model.predict(good.x, { batchSize: bs }) : which === 'evaluate.batchSize' ? () => model.evaluate(good.x, good.y, { batchSize: bs }) : () => model.trainOnBatch(good.x, good.y, { sampleWeight: data([p.x[0]! + 2], seed) });
      return { act, model, good, built: build };
    } };
  }],
  // ---------------------------------------------------------------- weights and call order
  [3, (r, seed) => {
    const p = r.pick(PALETTE);
    const which = r.int(0, 3);
    return { kind: ['setWeights.count', 'setWeights.shape', 'setWeights.nonFinite', 'setWeights.notArrays'][which]!, what: `${p.name}.setWeights(bad)`, expect: [/expected \d+ arrays/, /shape/, /NaN|Infinity/, /expected|arrays|data/][which]!, prepare: async () => {
      const { model, good } = await paletteModel(p, true, seed);
      const ws = await model.getWeights();
      const bad =
        which === 0
          ? ws.slice(1)
          : which === 1
            ? ws.map((w, i) => (i === 0 ? { data: new Float32Array(w.data.length + w.shape.at(-1)!), shape: [w.shape[0]! + 1, ...w.shape.slice(1)] } : w))
            : which === 2
              ? ws.map((w, i) => (i === ws.length - 1 ? { data: Float32Array.from(w.data, (v, k) => (k === 0 ? r.pick([NaN, Infinity]) : v)), shape: w.shape } : w))
              : (r.pick<unknown>([5, 'weights', null, [5]]) as rnn.HostTensor[]);
      return { act: () => model.setWeights(bad), model, good, built: true };
    } };
  }],
  [2, (r, seed) => {
    const p = r.pick(PALETTE);
    const call = r.pick(['fit', 'trainOnBatch', 'evaluate', 'gradients'] as const);
    return { kind: 'order.notCompiled', what: `${p.name}.${call} before compile`, expect: /compile/, prepare: async () => {
      const model = p.make();
      const x = data(p.x, seed), y = data(p.y, seed + 1);
      return { act: () => (call === 'fit' ? model.fit(x, y) : call === 'evaluate' ? model.evaluate(x, y) : model[call](x, y)), model: null, good: null, built: false };
    } };
  }],
];

const TOTAL = FAMILIES.reduce((a, [w]) => a + w, 0);

/** The invalid case `index` of a run seeded with `runSeed`. */
export function invalidCase(runSeed: number, index: number): InvalidCase {
  const seed = (Math.imul(runSeed ^ 0x2545f491, 0x9e3779b1) + Math.imul(index + 7, 0x85ebca77)) >>> 0;
  const u = makeRng(seed);
  const r: Rng = { pick: (xs) => xs[Math.floor(u() * xs.length)]!, int: (lo, hi) => lo + Math.floor(u() * (hi - lo + 1)), chance: (p) => u() < p };
  let k = u() * TOTAL;
  let family = FAMILIES[0]![1];
  for (const [w, f] of FAMILIES) {
    if ((k -= w) < 0) {
      family = f;
      break;
    }
  }
  return { index, seed, ...family(r, seed) };
}
