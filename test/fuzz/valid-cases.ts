/**
 * Random VALID configurations for the fuzzer: a Sequential of recurrent layers (SimpleRNN, LSTM,
 * GRU with resetAfter true and false; goBackwards; Bidirectional with every merge mode) and Dense
 * heads, every activation the float64 reference knows, the three regression losses (Huber's delta,
 * warm-up steps), the four optimizers with their options, clipping, weight decay and a schedule,
 * and small awkward shapes (B, T, I, units in the single digits: compile time, not size, is what a
 * case costs on a software adapter). A case is plain data (printable, replayable from its seed);
 * `buildModel` makes it through the public API only.
 */
import * as rnn from '../../src/index';
import { makeRng } from '../helpers/rng';
import type { CellType } from '../reference/rnn';

export type Act = 'tanh' | 'sigmoid' | 'relu' | 'linear' | 'hardSigmoid';
export type Merge = 'concat' | 'sum' | 'mul' | 'ave';

/** A recurrent layer (optionally inside Bidirectional). */
export interface RecSpec {
  kind: 'rnn';
  cell: CellType;
  units: number;
  activation: Act;
  recurrentActivation: Act;
  useBias: boolean;
  resetAfter: boolean;
  goBackwards: boolean;
  returnSequences: boolean;
  unitForgetBias: boolean;
  /** Wrapped in Bidirectional with this merge mode (then goBackwards is false). */
  bidi: Merge | null;
}

/** A Dense layer (per time step on sequences). */
export interface DenseSpec {
  kind: 'dense';
  units: number;
  activation: Act;
  useBias: boolean;
}

export type LayerSpec = RecSpec | DenseSpec;

export interface LossCfg {
  kind: 'mse' | 'mae' | 'huber';
  /** Given as a name (`'mse'`) or through `rnn.losses.*` (then delta / warmupSteps apply). */
  asSpec: boolean;
  delta: number;
  warmupSteps: number;
}

export interface OptCfg {
  name: 'sgd' | 'adam' | 'adamw' | 'rmsprop';
  lr: number;
  /** An exponentialDecay schedule instead of a constant learning rate. */
  decay: { decaySteps: number; decayRate: number; staircase: boolean } | null;
  momentum: number;
  nesterov: boolean;
  beta1: number;
  beta2: number;
  epsilon: number;
  rho: number;
  centered: boolean;
  weightDecay: number;
  clip: { kind: 'clipnorm' | 'clipvalue' | 'globalClipnorm'; value: number } | null;
}

export interface ValidCase {
  /** Index in the run and the seed that made it (replay: `npm run fuzz -- --seed S --only N`). */
  index: number;
  seed: number;
  B: number;
  T: number;
  I: number;
  /** inputShape [T, I] (true) or [null, I] (false). */
  fixedT: boolean;
  layers: LayerSpec[];
  loss: LossCfg;
  opt: OptCfg;
  /** Also compare predict() (the inference plans) after the two steps. */
  predict: boolean;
}

const ACTS: readonly Act[] = ['tanh', 'sigmoid', 'relu', 'linear', 'hardSigmoid'];

/**
 * How many recurrent kernel variants a run may touch. Compiling a variant (activations, direction,
 * which gradients — pipeline constants) is what a case costs on a software adapter with a cold
 * shader cache (seconds each, tens of seconds on a busy 2-core machine), while shapes, weights,
 * data, losses and optimizers cost nothing to vary. 'palette' (the short run in `npm test`): the
 * Keras default activations, and with probability 0.15 one other pair from a short list per cell;
 * 'full' (`npm run fuzz`): every activation pair.
 */
export type Variety = 'palette' | 'full';

const PALETTE_ACTS: Record<CellType, readonly [Act, Act][]> = {
  simpleRNN: [['relu', 'sigmoid']],
  lstm: [['tanh', 'hardSigmoid'], ['relu', 'sigmoid']],
  gru: [['tanh', 'hardSigmoid'], ['sigmoid', 'relu']],
};

/** The case `index` of a run seeded with `runSeed` (independent of the other cases). */
export function validCase(runSeed: number, index: number, variety: Variety = 'full'): ValidCase {
  const seed = (Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
  const r = makeRng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const chance = (p: number) => r() < p;

  const B = int(1, 5), T = int(1, 6), I = int(1, 4);
  const nRec = pick([1, 1, 1, 2, 2, 3]);
  const layers: LayerSpec[] = [];
  for (let k = 0; k < nRec; k++) {
    const cell = pick<CellType>(['simpleRNN', 'lstm', 'gru', 'gru']);
    const last = k === nRec - 1;
    const bidi = chance(0.2) ? pick<Merge>(['concat', 'sum', 'mul', 'ave']) : null;
    // saturating activations most of the time: linear/relu recurrences are valid but grow fast
    const [activation, recurrentActivation]: [Act, Act] =
      variety === 'full' ? [chance(0.7) ? 'tanh' : pick(ACTS), chance(0.7) ? 'sigmoid' : pick(ACTS)] : chance(0.85) ? ['tanh', 'sigmoid'] : pick(PALETTE_ACTS[cell]);
    layers.push({
      kind: 'rnn',
      cell,
      units: int(1, 6),
      activation,
      recurrentActivation,
      useBias: chance(0.85),
      resetAfter: cell === 'gru' ? chance(0.5) : false,
      goBackwards: bidi === null && chance(0.2),
      returnSequences: last ? chance(0.5) : true,
      unitForgetBias: chance(0.8),
      bidi,
    });
  }
  const nDense = pick([0, 1, 1, 1, 2]);
  for (let k = 0; k < nDense; k++) {
    const last = k === nDense - 1;
    layers.push({ kind: 'dense', units: int(1, 3), activation: last && chance(0.6) ? 'linear' : pick(ACTS), useBias: chance(0.85) });
  }
  const seqOut = (layers.filter((l) => l.kind === 'rnn').at(-1) as RecSpec).returnSequences;
  const kind = pick<LossCfg['kind']>(['mse', 'mse', 'mae', 'huber']);
  const asSpec = chance(0.4);
  const loss: LossCfg = {
    kind,
    asSpec,
    delta: asSpec && kind === 'huber' ? pick([0.1, 0.5, 1, 2]) : 1,
    warmupSteps: asSpec && seqOut && T > 1 && chance(0.5) ? int(1, T - 1) : 0,
  };
  const name = pick<OptCfg['name']>(['sgd', 'adam', 'adam', 'adamw', 'rmsprop']);
  const opt: OptCfg = {
    name,
    lr: pick([0.001, 0.01, 0.05]),
    decay: chance(0.15) ? { decaySteps: pick([1, 2, 10]), decayRate: pick([0.5, 0.9]), staircase: chance(0.5) } : null,
    momentum: (name === 'sgd' || name === 'rmsprop') && chance(0.5) ? pick([0.5, 0.9]) : 0,
    nesterov: false,
    beta1: chance(0.3) ? pick([0.5, 0.8]) : 0.9,
    beta2: chance(0.3) ? pick([0.9, 0.99]) : 0.999,
    epsilon: chance(0.3) ? pick([1e-3, 1e-5]) : 1e-7,
    rho: chance(0.3) ? 0.8 : 0.9,
    centered: name === 'rmsprop' && chance(0.4),
    weightDecay: name === 'adamw' ? pick([0.004, 0.1]) : chance(0.1) ? 0.05 : 0,
    clip: chance(0.3) ? { kind: pick(['clipnorm', 'clipvalue', 'globalClipnorm'] as const), value: pick([0.01, 0.1, 1]) } : null,
  };
  opt.nesterov = name === 'sgd' && opt.momentum > 0 && chance(0.5);
  return { index, seed, B, T, I, fixedT: chance(0.5), layers, loss, opt, predict: chance(0.25) };
}

/** The Sequential of a case, through the public API. */
export function buildModel(c: ValidCase): rnn.Sequential {
  const layers = c.layers.map((l, k) => {
    const first = k === 0 ? { inputShape: [c.fixedT ? c.T : null, c.I] as [number | null, number] } : {};
    if (l.kind === 'dense') return rnn.layers.dense({ units: l.units, activation: l.activation, useBias: l.useBias, ...first });
    const common = { units: l.units, activation: l.activation, useBias: l.useBias, returnSequences: l.returnSequences, goBackwards: l.goBackwards };
    const inner =
      l.cell === 'simpleRNN'
        ? rnn.layers.simpleRNN(common)
        : l.cell === 'lstm'
          ? rnn.layers.lstm({ ...common, recurrentActivation: l.recurrentActivation, unitForgetBias: l.unitForgetBias })
          : rnn.layers.gru({ ...common, recurrentActivation: l.recurrentActivation, resetAfter: l.resetAfter });
    if (l.bidi) return rnn.layers.bidirectional({ layer: inner, mergeMode: l.bidi, ...first });
    if (k > 0) return inner;
    // the first layer carries the input shape
    const withShape = { ...common, ...first };
    return l.cell === 'simpleRNN'
      ? rnn.layers.simpleRNN(withShape)
      : l.cell === 'lstm'
        ? rnn.layers.lstm({ ...withShape, recurrentActivation: l.recurrentActivation, unitForgetBias: l.unitForgetBias })
        : rnn.layers.gru({ ...withShape, recurrentActivation: l.recurrentActivation, resetAfter: l.resetAfter });
  });
  return rnn.sequential({ layers, seed: c.seed });
}

/** The optimizer of a case, through the public API. */
export function buildOptimizer(o: OptCfg): rnn.Optimizer {
  const learningRate = o.decay ? rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: o.lr, ...o.decay }) : o.lr;
  const clip = o.clip ? { [o.clip.kind]: o.clip.value } : {};
  const wd = o.weightDecay && o.name !== 'adamw' ? { weightDecay: o.weightDecay } : {};
  switch (o.name) {
    case 'sgd':
      return rnn.optimizers.sgd({ learningRate, momentum: o.momentum, nesterov: o.nesterov, ...clip, ...wd });
    case 'adam':
      return rnn.optimizers.adam({ learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, ...clip, ...wd });
    case 'adamw':
      return rnn.optimizers.adamw({ learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay: o.weightDecay, ...clip });
    case 'rmsprop':
      return rnn.optimizers.rmsprop({ learningRate, rho: o.rho, momentum: o.momentum, epsilon: o.epsilon, centered: o.centered, ...clip, ...wd });
  }
}

/** The loss of a case, through the public API. */
export function buildLoss(l: LossCfg): rnn.LossSpec | 'mse' | 'mae' | 'huber' {
  if (!l.asSpec) return l.kind;
  const w = l.warmupSteps ? { warmupSteps: l.warmupSteps } : {};
  return l.kind === 'mse' ? rnn.losses.meanSquaredError(w) : l.kind === 'mae' ? rnn.losses.meanAbsoluteError(w) : rnn.losses.huber({ delta: l.delta, ...w });
}

/** One line describing a case (for reports). */
export function describeCase(c: ValidCase): string {
  const layer = (l: LayerSpec) =>
    l.kind === 'dense'
      ? `Dense(${l.units},${l.activation}${l.useBias ? '' : ',noBias'})`
      : `${l.bidi ? `Bi[${l.bidi}](` : ''}${l.cell}${l.cell === 'gru' ? (l.resetAfter ? '/ra' : '/rb') : ''}(${l.units},${l.activation}/${l.recurrentActivation}${l.useBias ? '' : ',noBias'}${l.goBackwards ? ',back' : ''}${l.returnSequences ? ',seq' : ''})${l.bidi ? ')' : ''}`;
  const o = c.opt;
  const opt = `${o.name}(lr ${o.lr}${o.decay ? ' decay' : ''}${o.momentum ? ` mom ${o.momentum}` : ''}${o.nesterov ? ' nesterov' : ''}${o.centered ? ' centered' : ''}${o.weightDecay ? ` wd ${o.weightDecay}` : ''}${o.clip ? ` ${o.clip.kind} ${o.clip.value}` : ''})`;
  const loss = `${c.loss.kind}${c.loss.delta !== 1 ? `(δ ${c.loss.delta})` : ''}${c.loss.warmupSteps ? ` warmup ${c.loss.warmupSteps}` : ''}`;
  return `#${c.index} seed ${c.seed}: B${c.B} T${c.T}${c.fixedT ? '' : '(var)'} I${c.I} ${c.layers.map(layer).join(' → ')} | ${loss} | ${opt}${c.predict ? ' | predict' : ''}`;
}
