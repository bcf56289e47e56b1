/**
 * Plain float64 reference implementations of SimpleRNN, LSTM and GRU layers
 * (forward and true BPTT backward), matching Keras 3 exactly.
 *
 * Layouts (row-major, flat Float64Array):
 *   x                [B, T, I]   batch-major sequences (Keras)
 *   hSeq             [B, T, H]   h_t for every step
 *   h0, hLast, dH0   [B, H]
 *   c0, cLast, dC0   [B, H]      LSTM only
 *   kernel           [I, G*H]    column g*H + j is unit j of gate block g
 *   recurrentKernel  [H, G*H]
 *   bias             [G*H]       SimpleRNN, LSTM, GRU with resetAfter=false
 *                    [2, 3H]     GRU with resetAfter=true: row 0 input bias, row 1 recurrent bias
 *                    null        useBias=false
 * Gate blocks (G = gateCount): SimpleRNN: 1 block; LSTM: i, f, c, o; GRU: z, r, h.
 *
 * Cell maths (ra = recurrentActivation, act = activation):
 *   SimpleRNN: h_t = act(x_t·K + h_{t-1}·U + b)
 *   LSTM:      z = x_t·K + h_{t-1}·U + b; i = ra(z_i), f = ra(z_f), g = act(z_c), o = ra(z_o)
 *              c_t = f*c_{t-1} + i*g; h_t = o*act(c_t)
 *   GRU resetAfter=true:
 *              xz,xr,xh = x·K + b[0]; rz,rr,rh = h_{t-1}·U + b[1]
 *              z = ra(xz+rz); r = ra(xr+rr); hh = act(xh + r*rh); h_t = z*h_{t-1} + (1-z)*hh
 *   GRU resetAfter=false:
 *              z = ra(x·K_z + h·U_z + b_z); r = ra(x·K_r + h·U_r + b_r)
 *              hh = act(x·K_h + (r*h_{t-1})·U_h + b_h); h_t = z*h_{t-1} + (1-z)*hh
 */
import { activationGradScalar, activationScalar } from './ops';
import { randomArray } from '../helpers/rng';

export type Activation = 'tanh' | 'sigmoid' | 'relu' | 'linear' | 'hardSigmoid' | 'hardSigmoidTfjs';
export type CellType = 'simpleRNN' | 'lstm' | 'gru';

export interface RnnRefConfig {
  cell: CellType;
  units: number;
  inputSize: number;
  activation: Activation;
  recurrentActivation: Activation;
  resetAfter: boolean;
  useBias: boolean;
}

export interface RnnRefWeights {
  kernel: Float64Array;
  recurrentKernel: Float64Array;
  bias: Float64Array | null;
}

/** Everything the backward pass needs from the forward pass. All arrays are [B, T, ...]. */
export interface RnnRefCache {
  /** [B,T,G*H] gate pre-activations (SimpleRNN: a; LSTM: z_i,z_f,z_c,z_o; GRU: inputs of ra for z, r and of act for hh). */
  pre: Float64Array;
  /** [B,T,G*H] gate outputs (SimpleRNN: h; LSTM: i,f,g,o; GRU: z,r,hh). */
  gates: Float64Array;
  /** [B,T,H] h_t. */
  hSeq: Float64Array;
  /** [B,T,H] LSTM c_t, else null. */
  cSeq: Float64Array | null;
  /** [B,T,H] LSTM act(c_t), else null. */
  cAct: Float64Array | null;
  /** [B,T,H] GRU resetAfter=true: rh = h_{t-1}·U_h + b_rec_h (the term multiplied by r), else null. */
  recH: Float64Array | null;
}

/** Number of gate blocks: SimpleRNN 1, LSTM 4, GRU 3. */
export function gateCount(cell: CellType): number {
  switch (cell) {
    case 'simpleRNN':
      return 1;
    case 'lstm':
      return 4;
    case 'gru':
      return 3;
  }
}

/** Number of bias elements: G*H, or 2*3H for GRU resetAfter=true, 0 without bias. */
export function biasLength(cfg: RnnRefConfig): number {
  if (!cfg.useBias) return 0;
  const gh = gateCount(cfg.cell) * cfg.units;
  return cfg.cell === 'gru' && cfg.resetAfter ? 2 * gh : gh;
}

function checkShapes(cfg: RnnRefConfig, w: RnnRefWeights, x: Float64Array, B: number, T: number): void {
  const H = cfg.units;
  const GH = gateCount(cfg.cell) * H;
  const expect = (what: string, got: number, want: number): void => {
    if (got !== want) throw new Error(`rnn reference: ${what} has ${got} elements, expected ${want}`);
  };
  expect('kernel', w.kernel.length, cfg.inputSize * GH);
  expect('recurrentKernel', w.recurrentKernel.length, H * GH);
  if (cfg.useBias) {
    if (!w.bias) throw new Error('rnn reference: useBias=true but bias is null');
    expect('bias', w.bias.length, biasLength(cfg));
  } else if (w.bias) {
    throw new Error('rnn reference: useBias=false but bias is given');
  }
  expect('x', x.length, B * T * cfg.inputSize);
}

// ---------------------------------------------------------------- small vector helpers

/** out[j] += Σ_k v[vOff+k] * mat[k*cols + colOff + j], for j < n. */
function addVecMat(
  out: Float64Array,
  v: ArrayLike<number>,
  vOff: number,
  mat: Float64Array,
  rows: number,
  cols: number,
  colOff: number,
  n: number,
): void {
  for (let k = 0; k < rows; k++) {
    const vk = v[vOff + k] as number;
    for (let j = 0; j < n; j++) out[j] = (out[j] as number) + vk * (mat[k * cols + colOff + j] as number);
  }
}

/** out[outOff+k] += Σ_j mat[k*cols + colOff + j] * d[j], for k < rows, j < n. */
function addMatVec(
  out: Float64Array,
  outOff: number,
  mat: Float64Array,
  rows: number,
  cols: number,
  colOff: number,
  d: Float64Array,
  n: number,
): void {
  for (let k = 0; k < rows; k++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += (mat[k * cols + colOff + j] as number) * (d[j] as number);
    out[outOff + k] = (out[outOff + k] as number) + acc;
  }
}

/** dMat[k*cols + colOff + j] += v[vOff+k] * d[j] (outer product), for k < rows, j < n. */
function addOuter(
  dMat: Float64Array,
  v: ArrayLike<number>,
  vOff: number,
  rows: number,
  cols: number,
  colOff: number,
  d: Float64Array,
  n: number,
): void {
  for (let k = 0; k < rows; k++) {
    const vk = v[vOff + k] as number;
    for (let j = 0; j < n; j++) {
      const idx = k * cols + colOff + j;
      dMat[idx] = (dMat[idx] as number) + vk * (d[j] as number);
    }
  }
}

/** out[j] += src[srcOff + j] for j < n. */
function addSlice(out: Float64Array, outOff: number, src: Float64Array, srcOff: number, n: number): void {
  for (let j = 0; j < n; j++) out[outOff + j] = (out[outOff + j] as number) + (src[srcOff + j] as number);
}

// ---------------------------------------------------------------- forward

function forwardCore(
  cfg: RnnRefConfig,
  w: RnnRefWeights,
  x: Float64Array,
  B: number,
  T: number,
  h0: Float64Array | undefined,
  c0: Float64Array | undefined,
  recMask: Float64Array | null,
  seqMask: Float64Array | null,
): { hSeq: Float64Array; hLast: Float64Array; cLast: Float64Array | null; cache: RnnRefCache } {
  checkShapes(cfg, w, x, B, T);
  const H = cfg.units;
  const I = cfg.inputSize;
  const GH = gateCount(cfg.cell) * H;
  const isLstm = cfg.cell === 'lstm';
  const act = (v: number): number => activationScalar(cfg.activation, v);
  const ra = (v: number): number => activationScalar(cfg.recurrentActivation, v);
  const K = w.kernel;
  const U = w.recurrentKernel;
  const bias = w.bias;

  const hInit = h0 ?? new Float64Array(B * H);
  const cInit = isLstm ? (c0 ?? new Float64Array(B * H)) : null;
  if (hInit.length !== B * H) throw new Error('rnnForwardRef: h0 must be [B,H]');
  if (cInit && cInit.length !== B * H) throw new Error('rnnForwardRef: c0 must be [B,H]');

  const cache: RnnRefCache = {
    pre: new Float64Array(B * T * GH),
    gates: new Float64Array(B * T * GH),
    hSeq: new Float64Array(B * T * H),
    cSeq: isLstm ? new Float64Array(B * T * H) : null,
    cAct: isLstm ? new Float64Array(B * T * H) : null,
    recH: cfg.cell === 'gru' && cfg.resetAfter ? new Float64Array(B * T * H) : null,
  };
  const hLast = new Float64Array(B * H);
  const cLast = isLstm ? new Float64Array(B * H) : null;

  for (let b = 0; b < B; b++) {
    let hPrev = hInit.slice(b * H, (b + 1) * H);
    let cPrev = cInit ? cInit.slice(b * H, (b + 1) * H) : null;
    for (let t = 0; t < T; t++) {
      const xOff = (b * T + t) * I;
      const gOff = (b * T + t) * GH;
      const hOff = (b * T + t) * H;
      const h = new Float64Array(H);
      if (seqMask && seqMask[b * T + t] === 0) {
        // masked step: the state is carried through unchanged; its output is the carried h
        cache.hSeq.set(hPrev, hOff);
        if (cPrev) cache.cSeq!.set(cPrev, hOff);
        continue;
      }
      // h_{t-1} as it enters the recurrent matmuls (⊙ the recurrent-dropout mask)
      const hPrevD = recMask ? hPrev.map((v, k) => v * (recMask[b * H + k] as number)) : hPrev;

      if (cfg.cell === 'simpleRNN' || cfg.cell === 'lstm') {
        // z = x_t·K + h_{t-1}·U + b
        const z = new Float64Array(GH);
        if (bias) addSlice(z, 0, bias, 0, GH);
        addVecMat(z, x, xOff, K, I, GH, 0, GH);
        addVecMat(z, hPrevD, 0, U, H, GH, 0, GH);
        cache.pre.set(z, gOff);
        if (cfg.cell === 'simpleRNN') {
          for (let j = 0; j < H; j++) h[j] = act(z[j] as number);
          cache.gates.set(h, gOff);
        } else {
          const c = new Float64Array(H);
          for (let j = 0; j < H; j++) {
            const gi = ra(z[j] as number);
            const gf = ra(z[H + j] as number);
            const gc = act(z[2 * H + j] as number);
            const go = ra(z[3 * H + j] as number);
            cache.gates[gOff + j] = gi;
            cache.gates[gOff + H + j] = gf;
            cache.gates[gOff + 2 * H + j] = gc;
            cache.gates[gOff + 3 * H + j] = go;
            c[j] = gf * (cPrev![j] as number) + gi * gc;
            const ac = act(c[j] as number);
            cache.cAct![hOff + j] = ac;
            h[j] = go * ac;
          }
          cache.cSeq!.set(c, hOff);
          cPrev = c;
        }
      } else if (cfg.resetAfter) {
        // GRU, reset gate applied after the recurrent matmul.
        const xp = new Float64Array(GH); // x·K + b[0]
        const hp = new Float64Array(GH); // h·U + b[1]
        if (bias) {
          addSlice(xp, 0, bias, 0, GH);
          addSlice(hp, 0, bias, GH, GH);
        }
        addVecMat(xp, x, xOff, K, I, GH, 0, GH);
        addVecMat(hp, hPrevD, 0, U, H, GH, 0, GH);
        for (let j = 0; j < H; j++) {
          const preZ = (xp[j] as number) + (hp[j] as number);
          const preR = (xp[H + j] as number) + (hp[H + j] as number);
          const z = ra(preZ);
          const r = ra(preR);
          const rh = hp[2 * H + j] as number;
          const preH = (xp[2 * H + j] as number) + r * rh;
          const hh = act(preH);
          cache.pre[gOff + j] = preZ;
          cache.pre[gOff + H + j] = preR;
          cache.pre[gOff + 2 * H + j] = preH;
          cache.gates[gOff + j] = z;
          cache.gates[gOff + H + j] = r;
          cache.gates[gOff + 2 * H + j] = hh;
          cache.recH![hOff + j] = rh;
          h[j] = z * (hPrev[j] as number) + (1 - z) * hh;
        }
      } else {
        // GRU, reset gate applied to h_{t-1} before the recurrent matmul.
        const xp = new Float64Array(GH); // x·K + b
        if (bias) addSlice(xp, 0, bias, 0, GH);
        addVecMat(xp, x, xOff, K, I, GH, 0, GH);
        const hpZR = new Float64Array(2 * H); // h·U[:, 0:2H]
        addVecMat(hpZR, hPrevD, 0, U, H, GH, 0, 2 * H);
        const rHPrev = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const preZ = (xp[j] as number) + (hpZR[j] as number);
          const preR = (xp[H + j] as number) + (hpZR[H + j] as number);
          cache.pre[gOff + j] = preZ;
          cache.pre[gOff + H + j] = preR;
          cache.gates[gOff + j] = ra(preZ);
          cache.gates[gOff + H + j] = ra(preR);
          rHPrev[j] = (cache.gates[gOff + H + j] as number) * (hPrevD[j] as number);
        }
        const preH = new Float64Array(H); // x·K_h + b_h + (r*h)·U_h
        addSlice(preH, 0, xp, 2 * H, H);
        addVecMat(preH, rHPrev, 0, U, H, GH, 2 * H, H);
        for (let j = 0; j < H; j++) {
          const z = cache.gates[gOff + j] as number;
          const hh = act(preH[j] as number);
          cache.pre[gOff + 2 * H + j] = preH[j] as number;
          cache.gates[gOff + 2 * H + j] = hh;
          h[j] = z * (hPrev[j] as number) + (1 - z) * hh;
        }
      }

      cache.hSeq.set(h, hOff);
      hPrev = h;
    }
    hLast.set(hPrev, b * H);
    if (cLast && cPrev) cLast.set(cPrev, b * H);
  }
  return { hSeq: Float64Array.from(cache.hSeq), hLast, cLast, cache };
}

// ---------------------------------------------------------------- backward (BPTT)

export interface RnnRefGrads {
  dKernel: Float64Array;
  dRecurrentKernel: Float64Array;
  dBias: Float64Array | null;
  dX: Float64Array;
  dH0: Float64Array;
  dC0: Float64Array | null;
}

function backwardCore(
  cfg: RnnRefConfig,
  w: RnnRefWeights,
  x: Float64Array,
  B: number,
  T: number,
  h0: Float64Array | null | undefined,
  c0: Float64Array | null | undefined,
  cache: RnnRefCache,
  dHSeq: Float64Array | null,
  dHLast: Float64Array | null,
  dCLast: Float64Array | null,
  recMask: Float64Array | null,
  seqMask: Float64Array | null,
): RnnRefGrads {
  checkShapes(cfg, w, x, B, T);
  const H = cfg.units;
  const I = cfg.inputSize;
  const GH = gateCount(cfg.cell) * H;
  const isLstm = cfg.cell === 'lstm';
  if (!isLstm && dCLast) throw new Error('rnnBackwardRef: dCLast is only meaningful for LSTM');
  if (dHSeq && dHSeq.length !== B * T * H) throw new Error('rnnBackwardRef: dHSeq must be [B,T,H]');
  if (dHLast && dHLast.length !== B * H) throw new Error('rnnBackwardRef: dHLast must be [B,H]');
  if (dCLast && dCLast.length !== B * H) throw new Error('rnnBackwardRef: dCLast must be [B,H]');
  const actGrad = (xv: number, yv: number): number => activationGradScalar(cfg.activation, xv, yv);
  const raGrad = (xv: number, yv: number): number => activationGradScalar(cfg.recurrentActivation, xv, yv);
  const K = w.kernel;
  const U = w.recurrentKernel;
  const gruAfter = cfg.cell === 'gru' && cfg.resetAfter;

  const hInit = h0 ?? new Float64Array(B * H);
  const cInit = isLstm ? (c0 ?? new Float64Array(B * H)) : null;

  const dKernel = new Float64Array(K.length);
  const dRecurrentKernel = new Float64Array(U.length);
  const dBias = w.bias ? new Float64Array(w.bias.length) : null;
  const dX = new Float64Array(x.length);
  const dH0 = new Float64Array(B * H);
  const dC0 = isLstm ? new Float64Array(B * H) : null;

  for (let b = 0; b < B; b++) {
    // Gradients flowing into h_t / c_t from later steps (initialised with the final-state gradients).
    let dh = dHLast ? dHLast.slice(b * H, (b + 1) * H) : new Float64Array(H);
    let dc = isLstm ? (dCLast ? dCLast.slice(b * H, (b + 1) * H) : new Float64Array(H)) : null;

    for (let t = T - 1; t >= 0; t--) {
      const xOff = (b * T + t) * I;
      const gOff = (b * T + t) * GH;
      const hOff = (b * T + t) * H;
      // h_{t-1} (and c_{t-1}) as seen by this step.
      const hPrevArr = t === 0 ? hInit : cache.hSeq;
      const hPrevOff = t === 0 ? b * H : (b * T + t - 1) * H;
      const cPrevArr = t === 0 ? cInit : cache.cSeq;
      const cPrevOff = hPrevOff;

      if (dHSeq) addSlice(dh, 0, dHSeq, hOff, H);
      // masked step: dh (and dc) pass straight through to step t-1
      if (seqMask && seqMask[b * T + t] === 0) continue;
      const m = (k: number): number => (recMask ? (recMask[b * H + k] as number) : 1);
      const hPrevD = new Float64Array(H); // h_{t-1} ⊙ recMask, what multiplied U
      for (let k = 0; k < H; k++) hPrevD[k] = (hPrevArr[hPrevOff + k] as number) * m(k);

      // dXProj: gradient w.r.t. the columns of x_t·K (and the input bias).
      // dHProj: gradient w.r.t. the columns of h_{t-1}·U (and the recurrent bias for GRU resetAfter).
      const dXProj = new Float64Array(GH);
      const dHProj = new Float64Array(GH);
      const dhPrev = new Float64Array(H); // direct (non-matmul) contributions to dL/dh_{t-1}

      if (cfg.cell === 'simpleRNN') {
        for (let j = 0; j < H; j++) {
          dXProj[j] = (dh[j] as number) * actGrad(cache.pre[gOff + j] as number, cache.gates[gOff + j] as number);
        }
        dHProj.set(dXProj);
      } else if (cfg.cell === 'lstm') {
        const dcPrev = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const gi = cache.gates[gOff + j] as number;
          const gf = cache.gates[gOff + H + j] as number;
          const gc = cache.gates[gOff + 2 * H + j] as number;
          const go = cache.gates[gOff + 3 * H + j] as number;
          const c = cache.cSeq![hOff + j] as number;
          const ac = cache.cAct![hOff + j] as number;
          const cPrev = cPrevArr![cPrevOff + j] as number;
          const dhj = dh[j] as number;
          // h = o * act(c)
          const dO = dhj * ac;
          const dcTotal = (dc![j] as number) + dhj * go * actGrad(c, ac);
          // c = f * cPrev + i * g
          const dI = dcTotal * gc;
          const dF = dcTotal * cPrev;
          const dG = dcTotal * gi;
          dcPrev[j] = dcTotal * gf;
          dXProj[j] = dI * raGrad(cache.pre[gOff + j] as number, gi);
          dXProj[H + j] = dF * raGrad(cache.pre[gOff + H + j] as number, gf);
          dXProj[2 * H + j] = dG * actGrad(cache.pre[gOff + 2 * H + j] as number, gc);
          dXProj[3 * H + j] = dO * raGrad(cache.pre[gOff + 3 * H + j] as number, go);
        }
        dHProj.set(dXProj);
        dc = dcPrev;
      } else {
        // GRU: h = z*hPrev + (1-z)*hh
        const dPreH = new Float64Array(H);
        const dZ = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const z = cache.gates[gOff + j] as number;
          const hh = cache.gates[gOff + 2 * H + j] as number;
          const hp = hPrevArr[hPrevOff + j] as number;
          const dhj = dh[j] as number;
          dZ[j] = dhj * (hp - hh);
          dhPrev[j] = dhj * z;
          dPreH[j] = dhj * (1 - z) * actGrad(cache.pre[gOff + 2 * H + j] as number, hh);
        }
        // dR: gradient w.r.t. the reset gate r
        const dR = new Float64Array(H);
        if (gruAfter) {
          // preH = xh + r * rh
          for (let j = 0; j < H; j++) {
            dR[j] = (dPreH[j] as number) * (cache.recH![hOff + j] as number);
            dHProj[2 * H + j] = (dPreH[j] as number) * (cache.gates[gOff + H + j] as number);
          }
        } else {
          // preH = xh + (r*hPrev)·U_h  ->  d(r*hPrev) = U_h·dPreH
          const dRH = new Float64Array(H);
          addMatVec(dRH, 0, U, H, GH, 2 * H, dPreH, H);
          const rHPrev = new Float64Array(H);
          for (let k = 0; k < H; k++) {
            const r = cache.gates[gOff + H + k] as number;
            const hp = hPrevD[k] as number;
            dR[k] = (dRH[k] as number) * hp;
            dhPrev[k] = (dhPrev[k] as number) + (dRH[k] as number) * r * m(k);
            rHPrev[k] = r * hp;
          }
          addOuter(dRecurrentKernel, rHPrev, 0, H, GH, 2 * H, dPreH, H); // dU_h
          // dHProj[2H:3H] stays 0: the h-block of U multiplies r*hPrev, handled just above.
        }
        for (let j = 0; j < H; j++) {
          const dPreZ = (dZ[j] as number) * raGrad(cache.pre[gOff + j] as number, cache.gates[gOff + j] as number);
          const dPreR =
            (dR[j] as number) * raGrad(cache.pre[gOff + H + j] as number, cache.gates[gOff + H + j] as number);
          dXProj[j] = dPreZ;
          dXProj[H + j] = dPreR;
          dXProj[2 * H + j] = dPreH[j] as number;
          dHProj[j] = dPreZ;
          dHProj[H + j] = dPreR;
        }
      }

      // Input side: dK += x_tᵀ·dXProj; dx_t = K·dXProj; input bias += dXProj.
      addOuter(dKernel, x, xOff, I, GH, 0, dXProj, GH);
      addMatVec(dX, xOff, K, I, GH, 0, dXProj, GH);
      // Recurrent side: dU += (h_{t-1} ⊙ m)ᵀ·dHProj; dh_{t-1} += m ⊙ (U·dHProj).
      addOuter(dRecurrentKernel, hPrevD, 0, H, GH, 0, dHProj, GH);
      const dhMat = new Float64Array(H);
      addMatVec(dhMat, 0, U, H, GH, 0, dHProj, GH);
      for (let k = 0; k < H; k++) dhPrev[k] = (dhPrev[k] as number) + (dhMat[k] as number) * m(k);
      if (dBias) {
        addSlice(dBias, 0, dXProj, 0, GH);
        if (gruAfter) addSlice(dBias, GH, dHProj, 0, GH); // recurrent bias row
      }
      dh = dhPrev;
    }
    dH0.set(dh, b * H);
    if (dC0 && dc) dC0.set(dc, b * H);
  }
  return { dKernel, dRecurrentKernel, dBias, dX, dH0, dC0 };
}

// ---------------------------------------------------------------- options: reverse, dropout, masking

/**
 * Options of the reference, mirroring src/ops/rnn.ts RnnOptions (Keras semantics):
 *   reverse   process time backwards (Keras go_backwards) and return hSeq in INPUT order (what
 *             Bidirectional does after flipping the backward layer's output back)
 *   inputMask [B, I] dropout mask on x (the same at every step)
 *   recMask   [B, H] recurrent-dropout mask on h_{t-1} where it enters the recurrent matmuls
 *             (LSTM / SimpleRNN: h·U; GRU: h·U and, resetAfter=false, (r*(h⊙m))·U_h; GRU's
 *             z*h_{t-1} uses the undropped h)
 *   seqMask   [B, T] 1 = use the step, 0 = masked: state carried, output = the carried h
 * The cache returned by rnnForwardRef is in processing order (reversed time with `reverse`) and
 * must be given back to rnnBackwardRef with the same options.
 */
export interface RnnRefOptions {
  reverse?: boolean;
  inputMask?: Float64Array | null;
  recMask?: Float64Array | null;
  seqMask?: Float64Array | null;
}

/** Reverses the time axis of a [B, T, F] array. */
export function reverseTime(a: Float64Array, B: number, T: number, F: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.set(a.subarray((b * T + t) * F, (b * T + t + 1) * F), (b * T + (T - 1 - t)) * F);
  return out;
}

/** x [B, T, F] ⊙ m [B, F] (the same mask at every step). */
export function maskFeatures(x: Float64Array, m: Float64Array, B: number, T: number, F: number): Float64Array {
  return x.map((v, i) => v * (m[Math.floor(i / (T * F)) * F + (i % F)] as number));
}

export function rnnForwardRef(
  cfg: RnnRefConfig,
  w: RnnRefWeights,
  x: Float64Array,
  B: number,
  T: number,
  h0?: Float64Array,
  c0?: Float64Array,
  opts: RnnRefOptions = {},
): { hSeq: Float64Array; hLast: Float64Array; cLast: Float64Array | null; cache: RnnRefCache } {
  const I = cfg.inputSize, H = cfg.units;
  let xIn = opts.inputMask ? maskFeatures(x, opts.inputMask, B, T, I) : x;
  let seqMask = opts.seqMask ?? null;
  if (opts.reverse) {
    xIn = reverseTime(xIn, B, T, I);
    if (seqMask) seqMask = reverseTime(seqMask, B, T, 1);
  }
  const r = forwardCore(cfg, w, xIn, B, T, h0, c0, opts.recMask ?? null, seqMask);
  return opts.reverse ? { ...r, hSeq: reverseTime(r.hSeq, B, T, H) } : r;
}

/**
 * True backpropagation through time. dHSeq ([B,T,H]) is the gradient w.r.t.
 * every h_t (returnSequences output), dHLast ([B,H]) w.r.t. the final h,
 * dCLast ([B,H], LSTM only) w.r.t. the final c; any of them may be null (= 0).
 * h0/c0 must be the same initial states given to rnnForwardRef (null/undefined = zeros),
 * and `opts` the same options. Weight gradients are summed over all batch rows and steps.
 */
export function rnnBackwardRef(
  cfg: RnnRefConfig,
  w: RnnRefWeights,
  x: Float64Array,
  B: number,
  T: number,
  h0: Float64Array | null | undefined,
  c0: Float64Array | null | undefined,
  cache: RnnRefCache,
  dHSeq: Float64Array | null,
  dHLast: Float64Array | null,
  dCLast: Float64Array | null,
  opts: RnnRefOptions = {},
): RnnRefGrads {
  const I = cfg.inputSize, H = cfg.units;
  let xIn = opts.inputMask ? maskFeatures(x, opts.inputMask, B, T, I) : x;
  let seqMask = opts.seqMask ?? null;
  let dSeq = dHSeq;
  if (opts.reverse) {
    xIn = reverseTime(xIn, B, T, I);
    if (seqMask) seqMask = reverseTime(seqMask, B, T, 1);
    if (dSeq) dSeq = reverseTime(dSeq, B, T, H);
  }
  const g = backwardCore(cfg, w, xIn, B, T, h0, c0, cache, dSeq, dHLast, dCLast, opts.recMask ?? null, seqMask);
  if (opts.reverse) g.dX = reverseTime(g.dX, B, T, I);
  if (opts.inputMask) g.dX = maskFeatures(g.dX, opts.inputMask, B, T, I);
  return g;
}

// ---------------------------------------------------------------- weights

/**
 * Deterministic random weights, uniform in [-scale, scale): kernel from `seed`,
 * recurrent kernel from `seed + 1`, bias from `seed + 2` (null when useBias=false).
 */
export function randomRnnWeights(cfg: RnnRefConfig, seed: number, scale = 0.5): RnnRefWeights {
  const H = cfg.units;
  const GH = gateCount(cfg.cell) * H;
  return {
    kernel: randomArray(cfg.inputSize * GH, seed, -scale, scale),
    recurrentKernel: randomArray(H * GH, seed + 1, -scale, scale),
    bias: cfg.useBias ? randomArray(biasLength(cfg), seed + 2, -scale, scale) : null,
  };
}
