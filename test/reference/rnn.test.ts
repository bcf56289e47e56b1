/**
 * The float64 RNN reference (test/reference/rnn.ts) that the recurrent op's GPU kernels are checked
 * against (test/unit/rnn.test.ts, rnn-step.test.ts): gate layouts and hand-computed steps of every
 * cell, full BPTT gradients against central differences for every cell and activation pair (loss
 * on hSeq, the final state or both; with and without bias), finite results at saturating
 * pre-activations, and the op's options (reverse, dropout masks, sequence mask) gradient-checked
 * too, with their semantics.
 */
import { describe, expect, it } from 'vitest';
import {
  biasLength,
  gateCount,
  randomRnnWeights,
  rnnBackwardRef,
  rnnForwardRef,
  type Activation,
  type CellType,
  type RnnRefConfig,
  type RnnRefOptions,
  type RnnRefWeights,
} from './rnn';
import { dot, expectGradClose, numericGradient } from '../helpers/gradcheck';
import { randomArray, dropoutStyle } from '../helpers/rng';
import { expectAllFinite } from '../helpers/compare';
import { VARIANTS, type Variant } from '../helpers/rnn-variants';

function cfgOf(
  cell: CellType,
  units: number,
  inputSize: number,
  activation: Activation,
  recurrentActivation: Activation,
  resetAfter: boolean,
  useBias: boolean,
): RnnRefConfig {
  return { cell, units, inputSize, activation, recurrentActivation, resetAfter, useBias };
}

describe('rnn reference: shapes and hand-computed values', () => {
  it('gateCount and bias layouts', () => {
    expect(gateCount('simpleRNN')).toBe(1);
    expect(gateCount('lstm')).toBe(4);
    expect(gateCount('gru')).toBe(3);
    expect(biasLength(cfgOf('lstm', 5, 2, 'tanh', 'sigmoid', false, true))).toBe(20);
    expect(biasLength(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', true, true))).toBe(30);
    expect(biasLength(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', false, true))).toBe(15);
    expect(biasLength(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', true, false))).toBe(0);
    const w = randomRnnWeights(cfgOf('gru', 5, 2, 'tanh', 'sigmoid', true, true), 1);
    expect([w.kernel.length, w.recurrentKernel.length, w.bias?.length]).toEqual([30, 75, 30]);
    expect(randomRnnWeights(cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, false), 1).bias).toBeNull();
    expect(randomRnnWeights(cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, true), 7)).toEqual(
      randomRnnWeights(cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, true), 7),
    );
  });

  it('LSTM H=1 I=1 T=1 hand-computed (gate order i, f, c, o)', () => {
    const cfg = cfgOf('lstm', 1, 1, 'tanh', 'sigmoid', false, true);
    const w: RnnRefWeights = {
      kernel: Float64Array.from([0.1, 0.2, 0.3, 0.4]), // [I=1, 4H]: i, f, c, o
      recurrentKernel: Float64Array.from([0.5, -0.6, 0.7, -0.8]),
      bias: Float64Array.from([0.01, 1.0, -0.02, 0.03]),
    };
    const x = 0.5;
    const h0 = 0.2;
    const c0 = -0.3;
    // z_i = 0.5*0.1 + 0.2*0.5 + 0.01 = 0.16;   i = sigmoid(0.16) = 0.5399148845555657
    // z_f = 0.5*0.2 - 0.2*0.6 + 1.0  = 0.98;   f = sigmoid(0.98) = 0.7271082163411295
    // z_c = 0.5*0.3 + 0.2*0.7 - 0.02 = 0.27;   g = tanh(0.27)    = 0.2636248354722033
    // z_o = 0.5*0.4 - 0.2*0.8 + 0.03 = 0.07;   o = sigmoid(0.07) = 0.5174928576663897
    // c = f*c0 + i*g = -0.21813246490233885 + 0.14233497261... = -0.07579749229238425
    // h = o * tanh(c) = -0.039149714497267014
    const out = rnnForwardRef(cfg, w, Float64Array.from([x]), 1, 1, Float64Array.from([h0]), Float64Array.from([c0]));
    expect(out.cLast![0]).toBeCloseTo(-0.07579749229238425, 14);
    expect(out.hLast[0]).toBeCloseTo(-0.039149714497267014, 14);
    expect(out.hSeq[0]).toBe(out.hLast[0]);
  });

  it('SimpleRNN H=1 I=1 T=2 hand-computed', () => {
    const cfg = cfgOf('simpleRNN', 1, 1, 'tanh', 'sigmoid', false, true);
    const w: RnnRefWeights = {
      kernel: Float64Array.from([0.5]),
      recurrentKernel: Float64Array.from([-1]),
      bias: Float64Array.from([0.1]),
    };
    // h1 = tanh(1*0.5 + 0*(-1) + 0.1) = tanh(0.6); h2 = tanh(2*0.5 - h1 + 0.1) = tanh(1.1 - tanh(0.6))
    const out = rnnForwardRef(cfg, w, Float64Array.from([1, 2]), 1, 2);
    expect(out.hSeq[0]).toBeCloseTo(Math.tanh(0.6), 15);
    expect(out.hSeq[1]).toBeCloseTo(Math.tanh(1.1 - Math.tanh(0.6)), 15);
    expect(out.cLast).toBeNull();
  });

  it('GRU H=1 I=1 T=1 hand-computed, resetAfter true and false (gate order z, r, h)', () => {
    const kernel = Float64Array.from([0.3, -0.2, 0.5]);
    const recurrentKernel = Float64Array.from([0.4, 0.6, -0.7]);
    const x = 0.8;
    const h0 = 0.5;
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));

    // resetAfter=true, bias [2, 3H] = [[0.1, 0.2, 0.3], [-0.1, 0.05, 0.2]]
    {
      const cfg = cfgOf('gru', 1, 1, 'tanh', 'sigmoid', true, true);
      const bias = Float64Array.from([0.1, 0.2, 0.3, -0.1, 0.05, 0.2]);
      const z = sig(x * 0.3 + 0.1 + h0 * 0.4 - 0.1);
      const r = sig(x * -0.2 + 0.2 + h0 * 0.6 + 0.05);
      const hh = Math.tanh(x * 0.5 + 0.3 + r * (h0 * -0.7 + 0.2));
      const out = rnnForwardRef(cfg, { kernel, recurrentKernel, bias }, Float64Array.from([x]), 1, 1, Float64Array.from([h0]));
      expect(out.hLast[0]).toBeCloseTo(z * h0 + (1 - z) * hh, 15);
    }
    // resetAfter=false, bias [3H] = [0.1, 0.2, 0.3]
    {
      const cfg = cfgOf('gru', 1, 1, 'tanh', 'sigmoid', false, true);
      const bias = Float64Array.from([0.1, 0.2, 0.3]);
      const z = sig(x * 0.3 + h0 * 0.4 + 0.1);
      const r = sig(x * -0.2 + h0 * 0.6 + 0.2);
      const hh = Math.tanh(x * 0.5 + r * h0 * -0.7 + 0.3);
      const out = rnnForwardRef(cfg, { kernel, recurrentKernel, bias }, Float64Array.from([x]), 1, 1, Float64Array.from([h0]));
      expect(out.hLast[0]).toBeCloseTo(z * h0 + (1 - z) * hh, 15);
    }
  });

  it('hSeq last step equals hLast; batch rows are independent', () => {
    const cfg = cfgOf('lstm', 3, 2, 'tanh', 'sigmoid', false, true);
    const w = randomRnnWeights(cfg, 5);
    const B = 2;
    const T = 3;
    const x = randomArray(B * T * 2, 6);
    const out = rnnForwardRef(cfg, w, x, B, T);
    for (let b = 0; b < B; b++) {
      expect(Array.from(out.hSeq.slice((b * T + T - 1) * 3, (b * T + T) * 3))).toEqual(
        Array.from(out.hLast.slice(b * 3, b * 3 + 3)),
      );
      const single = rnnForwardRef(cfg, w, x.slice(b * T * 2, (b + 1) * T * 2), 1, T);
      expect(Array.from(single.hLast)).toEqual(Array.from(out.hLast.slice(b * 3, b * 3 + 3)));
    }
  });
});

type LossMode = 'sequence' | 'last' | 'both';

interface CellVariant {
  label: string;
  cell: CellType;
  activation: Activation;
  recurrentActivation: Activation;
  resetAfter: boolean;
  /** Weight scale; larger for hardSigmoid so some pre-activations land in the clipped region. */
  scale: number;
}

const CELL_VARIANTS: CellVariant[] = [
  { label: 'simpleRNN tanh', cell: 'simpleRNN', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN relu', cell: 'simpleRNN', activation: 'relu', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN sigmoid', cell: 'simpleRNN', activation: 'sigmoid', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN linear', cell: 'simpleRNN', activation: 'linear', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'simpleRNN hardSigmoid', cell: 'simpleRNN', activation: 'hardSigmoid', recurrentActivation: 'sigmoid', resetAfter: false, scale: 1.5 },
  { label: 'lstm tanh/sigmoid', cell: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'lstm relu/hardSigmoid', cell: 'lstm', activation: 'relu', recurrentActivation: 'hardSigmoid', resetAfter: false, scale: 1.5 },
  { label: 'gru resetAfter tanh/sigmoid', cell: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, scale: 0.5 },
  { label: 'gru resetAfter relu/hardSigmoid', cell: 'gru', activation: 'relu', recurrentActivation: 'hardSigmoid', resetAfter: true, scale: 1.5 },
  { label: 'gru resetBefore tanh/sigmoid', cell: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false, scale: 0.5 },
  { label: 'gru resetBefore linear/hardSigmoid', cell: 'gru', activation: 'linear', recurrentActivation: 'hardSigmoid', resetAfter: false, scale: 1.5 },
];

interface BpttCase {
  name: string;
  variant: CellVariant;
  mode: LossMode;
  useBias: boolean;
  T: number;
  H: number;
  seed: number;
}

const BPTT_CASES: BpttCase[] = [];
{
  let seed = 1000;
  for (const variant of CELL_VARIANTS) {
    for (const mode of ['sequence', 'last', 'both'] as const) {
      for (const useBias of [true, false]) {
        for (const T of [1, 4]) {
          for (const H of [1, 5]) {
            seed += 10;
            BPTT_CASES.push({
              name: `${variant.label} loss=${mode} useBias=${useBias} T=${T} H=${H}`,
              variant,
              mode,
              useBias,
              T,
              H,
              seed,
            });
          }
        }
      }
    }
  }
}

describe('rnn reference: BPTT gradients vs central differences (B=3, I=2)', () => {
  it.each(BPTT_CASES)('$name', ({ variant, mode, useBias, T, H, seed }) => {
    const B = 3;
    const I = 2;
    const cfg = cfgOf(variant.cell, H, I, variant.activation, variant.recurrentActivation, variant.resetAfter, useBias);
    const isLstm = cfg.cell === 'lstm';
    const w = randomRnnWeights(cfg, seed, variant.scale);
    const x = randomArray(B * T * I, seed + 3);
    const h0 = randomArray(B * H, seed + 4, -0.8, 0.8);
    const c0 = isLstm ? randomArray(B * H, seed + 5) : undefined;
    const useSeq = mode !== 'last';
    const useLast = mode !== 'sequence';
    const rSeq = useSeq ? randomArray(B * T * H, seed + 6) : null;
    const rLast = useLast ? randomArray(B * H, seed + 7) : null;
    const rC = useLast && isLstm ? randomArray(B * H, seed + 8) : null;

    const loss = (): number => {
      const out = rnnForwardRef(cfg, w, x, B, T, h0, c0);
      let l = 0;
      if (rSeq) l += dot(rSeq, out.hSeq);
      if (rLast) l += dot(rLast, out.hLast);
      if (rC) l += dot(rC, out.cLast!);
      return l;
    };

    const fwd = rnnForwardRef(cfg, w, x, B, T, h0, c0);
    const g = rnnBackwardRef(cfg, w, x, B, T, h0, c0, fwd.cache, rSeq, rLast, rC);

    expectGradClose(g.dKernel, numericGradient(loss, w.kernel), 'dKernel');
    expectGradClose(g.dRecurrentKernel, numericGradient(loss, w.recurrentKernel), 'dRecurrentKernel');
    if (useBias) expectGradClose(g.dBias!, numericGradient(loss, w.bias!), 'dBias');
    else expect(g.dBias).toBeNull();
    expectGradClose(g.dX, numericGradient(loss, x), 'dX');
    expectGradClose(g.dH0, numericGradient(loss, h0), 'dH0');
    if (isLstm) expectGradClose(g.dC0!, numericGradient(loss, c0!), 'dC0');
    else expect(g.dC0).toBeNull();
  });
});

describe('rnn reference: numerical safety', () => {
  const cases = CELL_VARIANTS.flatMap((v) => [100, 1e4].map((mag) => ({ name: `${v.label} |pre-activation| ~ ${mag}`, v, mag })));

  it.each(cases)('$name: finite forward and gradients', ({ v, mag }) => {
    const B = 2;
    const T = 4;
    const I = 2;
    const H = 3;
    const cfg = cfgOf(v.cell, H, I, v.activation, v.recurrentActivation, v.resetAfter, true);
    const w = randomRnnWeights(cfg, 77, 1);
    // x entries of size ~mag with weights of size ~1 give pre-activations of size ~mag.
    const x = randomArray(B * T * I, 78, -mag, mag);
    const h0 = randomArray(B * H, 79);
    const c0 = cfg.cell === 'lstm' ? randomArray(B * H, 80) : undefined;
    const out = rnnForwardRef(cfg, w, x, B, T, h0, c0);
    // the first step's pre-activations really are of the requested size
    let maxPre = 0;
    for (let k = 0; k < gateCount(cfg.cell) * H; k++) maxPre = Math.max(maxPre, Math.abs(out.cache.pre[k] as number));
    expect(maxPre).toBeGreaterThan(mag / 10);
    expectAllFinite(out.hSeq, 'hSeq');
    expectAllFinite(out.cLast, 'cLast');
    const g = rnnBackwardRef(
      cfg, w, x, B, T, h0, c0, out.cache,
      new Float64Array(B * T * H).fill(1), new Float64Array(B * H).fill(1),
      cfg.cell === 'lstm' ? new Float64Array(B * H).fill(1) : null,
    );
    expectAllFinite(g.dKernel, 'dKernel');
    expectAllFinite(g.dRecurrentKernel, 'dRecurrentKernel');
    expectAllFinite(g.dBias, 'dBias');
    expectAllFinite(g.dX, 'dX');
    expectAllFinite(g.dH0, 'dH0');
    expectAllFinite(g.dC0, 'dC0');
  });
});

// ---------------------------------------------------------------- with the op's options

const refCfg = (v: Variant, I: number, H: number): RnnRefConfig => ({
  cell: v.cell, units: H, inputSize: I, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: v.resetAfter, useBias: true,
});

describe('float64 reference with options: finite-difference gradient checks', () => {
  const B = 2, T = 4, I = 3, H = 3;
  for (const v of VARIANTS) {
    for (const [label, opts] of [
      ['reverse', { reverse: true }],
      ['input + recurrent dropout masks', { inputMask: dropoutStyle(B * I, 7, 0.3), recMask: dropoutStyle(B * H, 8, 0.4) }],
      ['sequence mask (padding and a gap)', { seqMask: Float64Array.from([1, 1, 0, 0, 0, 1, 0, 1]) }],
      ['everything together', { reverse: true, inputMask: dropoutStyle(B * I, 9, 0.3), recMask: dropoutStyle(B * H, 10, 0.3), seqMask: Float64Array.from([1, 0, 1, 1, 0, 1, 1, 0]) }],
    ] as [string, RnnRefOptions][]) {
      it(`${v.label}: ${label}`, () => {
        const cfg = refCfg(v, I, H);
        const w = randomRnnWeights(cfg, 31);
        const x = randomArray(B * T * I, 32);
        const h0 = randomArray(B * H, 33);
        const c0 = v.cell === 'lstm' ? randomArray(B * H, 34) : undefined;
        const rSeq = randomArray(B * T * H, 35), rLast = randomArray(B * H, 36), rC = randomArray(B * H, 37);
        const loss = () => {
          const f = rnnForwardRef(cfg, w, x, B, T, h0, c0, opts);
          let l = 0;
          f.hSeq.forEach((h, i) => (l += h * rSeq[i]!));
          f.hLast.forEach((h, i) => (l += h * rLast[i]!));
          f.cLast?.forEach((c, i) => (l += c * rC[i]!));
          return l;
        };
        const f = rnnForwardRef(cfg, w, x, B, T, h0, c0, opts);
        const g = rnnBackwardRef(cfg, w, x, B, T, h0, c0, f.cache, rSeq, rLast, c0 ? rC : null, opts);
        expectGradClose(g.dKernel, numericGradient(loss, w.kernel), 'dKernel');
        expectGradClose(g.dRecurrentKernel, numericGradient(loss, w.recurrentKernel), 'dRecurrentKernel');
        expectGradClose(g.dBias!, numericGradient(loss, w.bias!), 'dBias');
        expectGradClose(g.dX, numericGradient(loss, x), 'dX');
        expectGradClose(g.dH0, numericGradient(loss, h0), 'dH0');
        if (c0) expectGradClose(g.dC0!, numericGradient(loss, c0), 'dC0');
      });
    }
  }

  it('semantics: masked steps carry the state and output it; reverse = forward on the flipped sequence', () => {
    const v = VARIANTS[1]!;
    const cfg = refCfg(v, I, H);
    const w = randomRnnWeights(cfg, 41);
    const x = randomArray(B * T * I, 42);
    const seqMask = Float64Array.from([1, 0, 0, 1, 1, 1, 1, 1]);
    const f = rnnForwardRef(cfg, w, x, B, T, undefined, undefined, { seqMask });
    // row 0: steps 1, 2 masked -> output of steps 1 and 2 = output of step 0
    for (const t of [1, 2]) for (let j = 0; j < H; j++) expect(f.hSeq[t * H + j]).toBe(f.hSeq[j]);
    // masking steps = dropping them from the sequence (the final state is the same)
    const x0 = Float64Array.from([...x.subarray(0, I), ...x.subarray(3 * I, 4 * I)]);
    const short = rnnForwardRef(cfg, w, x0, 1, 2);
    for (let j = 0; j < H; j++) expect(f.hLast[j]).toBeCloseTo(short.hLast[j]!, 14);
  });
});
