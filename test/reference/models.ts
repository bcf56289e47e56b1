/**
 * Float64 references of whole functional models, composed from the recurrent reference
 * (test/reference/rnn.ts): the chapter lecture's encoder–decoder (an encoder's final state is the
 * decoder's initial state; the decoder reads its own inputs — teacher forcing) and
 * vector-to-sequence (the encoder's last output repeated n times feeds the decoder), each with a
 * Dense(1) head and an MSE loss, optionally plus an MSE loss on the encoder's returned h. Loss
 * and the gradient of every weight, in the model's getWeights order.
 */
import { randomRnnWeights, rnnBackwardRef, rnnForwardRef, type RnnRefConfig, type RnnRefWeights } from './rnn';
import { randomArray } from '../helpers/rng';

/** The weights of an encoder, a decoder and a Dense(1) head ([H, 1] kernel, [1] bias). */
export interface Seq2SeqWeights {
  enc: RnnRefWeights;
  dec: RnnRefWeights;
  W: Float64Array;
  b: Float64Array;
}

export interface Seq2SeqCase {
  enc: RnnRefConfig;
  dec: RnnRefConfig;
  B: number;
  /** Encoder steps and decoder steps. */
  Te: number;
  Td: number;
  /** 'encdec': decoder input xDec [B, Td, dec.inputSize], initial state = the encoder's; 'vec2seq': decoder input = the encoder's h repeated Td times. */
  kind: 'encdec' | 'vec2seq';
  /** Weight of an extra MSE loss on the encoder's final h against hTarget (0: none). */
  hLossWeight: number;
}

/** All weights as one flat list (the model's getWeights order): enc K, U, b, dec K, U, b, W, b. */
export function flatWeights(w: Seq2SeqWeights): Float64Array[] {
  return [w.enc.kernel, w.enc.recurrentKernel, w.enc.bias!, w.dec.kernel, w.dec.recurrentKernel, w.dec.bias!, w.W, w.b];
}

function mse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
}

/**
 * Loss and gradients (flatWeights order) of the model on (xEnc, xDec, y[, hTarget]):
 * loss = mse(dense(decoder sequence), y) + hLossWeight · mse(encoder h, hTarget).
 */
export function seq2seqRef(c: Seq2SeqCase, w: Seq2SeqWeights, xEnc: Float64Array, xDec: Float64Array | null, y: Float64Array, hTarget: Float64Array | null): { loss: number; grads: Float64Array[]; out: Float64Array } {
  const { B, Te, Td } = c;
  const H = c.enc.units, Hd = c.dec.units;
  const enc = rnnForwardRef(c.enc, w.enc, xEnc, B, Te);
  let decX: Float64Array;
  let h0: Float64Array | undefined, c0: Float64Array | undefined;
  if (c.kind === 'encdec') {
    decX = xDec!;
    h0 = enc.hLast;
    c0 = enc.cLast ?? undefined;
  } else {
    decX = new Float64Array(B * Td * H);
    for (let b = 0; b < B; b++) for (let t = 0; t < Td; t++) decX.set(enc.hLast.subarray(b * H, (b + 1) * H), (b * Td + t) * H);
  }
  const dec = rnnForwardRef(c.dec, w.dec, decX, B, Td, h0, c0);
  const out = new Float64Array(B * Td);
  for (let r = 0; r < B * Td; r++) {
    let s = w.b[0]!;
    for (let k = 0; k < Hd; k++) s += dec.hSeq[r * Hd + k]! * w.W[k]!;
    out[r] = s;
  }
  let loss = mse(out, y);
  if (c.hLossWeight && hTarget) loss += c.hLossWeight * mse(enc.hLast, hTarget);

  // backward
  const dOut = out.map((v, i) => (2 * (v - y[i]!)) / out.length);
  const dW = new Float64Array(Hd);
  const db = new Float64Array(1);
  const dHSeq = new Float64Array(B * Td * Hd);
  for (let r = 0; r < B * Td; r++) {
    db[0]! += dOut[r]!;
    for (let k = 0; k < Hd; k++) {
      dW[k]! += dec.hSeq[r * Hd + k]! * dOut[r]!;
      dHSeq[r * Hd + k] = dOut[r]! * w.W[k]!;
    }
  }
  const gDec = rnnBackwardRef(c.dec, w.dec, decX, B, Td, h0, c0, dec.cache, dHSeq, null, null);
  const dHLast = new Float64Array(B * H);
  let dCLast: Float64Array | null = null;
  if (c.kind === 'encdec') {
    dHLast.set(gDec.dH0);
    dCLast = gDec.dC0;
  } else {
    for (let b = 0; b < B; b++) for (let t = 0; t < Td; t++) for (let k = 0; k < H; k++) dHLast[b * H + k]! += gDec.dX[(b * Td + t) * H + k]!;
  }
  if (c.hLossWeight && hTarget) for (let i = 0; i < dHLast.length; i++) dHLast[i]! += (c.hLossWeight * 2 * (enc.hLast[i]! - hTarget[i]!)) / dHLast.length;
  const gEnc = rnnBackwardRef(c.enc, w.enc, xEnc, B, Te, null, null, enc.cache, null, dHLast, dCLast);
  return { loss, out, grads: [gEnc.dKernel, gEnc.dRecurrentKernel, gEnc.dBias!, gDec.dKernel, gDec.dRecurrentKernel, gDec.dBias!, dW, db] };
}

/** The cases the reference and the GPU models are checked on. */
export function seq2seqCases(): { name: string; c: Seq2SeqCase }[] {
  const cfg = (cell: RnnRefConfig['cell'], units: number, inputSize: number): RnnRefConfig => ({
    cell, units, inputSize, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, useBias: true,
  });
  return [
    { name: 'LSTM encoder–decoder, loss also on the returned h', c: { enc: cfg('lstm', 3, 1), dec: cfg('lstm', 3, 1), B: 2, Te: 5, Td: 3, kind: 'encdec', hLossWeight: 0.5 } },
    { name: 'GRU encoder–decoder', c: { enc: cfg('gru', 3, 2), dec: cfg('gru', 3, 1), B: 3, Te: 4, Td: 3, kind: 'encdec', hLossWeight: 0 } },
    { name: 'vector-to-sequence: LSTM encoder, repeated, GRU decoder', c: { enc: cfg('lstm', 4, 1), dec: cfg('gru', 3, 4), B: 2, Te: 4, Td: 3, kind: 'vec2seq', hLossWeight: 0 } },
  ];
}

/** Random weights, inputs and targets of a case (seeded). */
export function seq2seqData(c: Seq2SeqCase, seed: number) {
  const w: Seq2SeqWeights = {
    enc: randomRnnWeights(c.enc, seed, 0.6),
    dec: randomRnnWeights(c.dec, seed + 10, 0.6),
    W: randomArray(c.dec.units, seed + 20, -0.8, 0.8),
    b: randomArray(1, seed + 21, -0.2, 0.2),
  };
  const xEnc = randomArray(c.B * c.Te * c.enc.inputSize, seed + 30);
  const xDec = c.kind === 'encdec' ? randomArray(c.B * c.Td * c.dec.inputSize, seed + 31) : null;
  const y = randomArray(c.B * c.Td, seed + 32);
  const hTarget = c.hLossWeight ? randomArray(c.B * c.enc.units, seed + 33) : null;
  return { w, xEnc, xDec, y, hTarget };
}
