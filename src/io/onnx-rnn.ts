/**
 * SimpleRNN, LSTM, GRU and Bidirectional as the ONNX RNN / LSTM / GRU operators (layout 0: X
 * [T, B, I], Y [T, D, B, H], Y_h [D, B, H]; ONNX Runtime runs that layout only). Weights:
 * W [D, G·H, I] = kernelᵀ, R [D, G·H, H] = recurrent_kernelᵀ with gate blocks in ONNX order
 * (LSTM i, o, f, c from Keras i, f, c, o; GRU z, r, h as Keras), B [D, 2·G·H] = [Wb, Rb]
 * (GRU resetAfter: bias[0], bias[1] and linear_before_reset = 1; the others: bias, zeros).
 * Activations follow the layer (Keras 3 hard_sigmoid = ONNX HardSigmoid(1/6, 0.5), tfjs' = HardSigmoid(0.2,
 * 0.5), linear = Affine(1, 0)).
 * A Keras mask (from Masking) becomes sequence_lens, the count of kept steps per row: exact when
 * the masked steps are padding at the end of each sequence, as ONNX assumes. Keras details kept:
 * a masked step of a one-direction layer outputs the state it carries (ONNX writes zeros there),
 * goBackwards returns the outputs in processing order.
 */
import { InteropError, type GraphCall, type Recurrent } from './graph';
import { ONNX_BOOL, ONNX_INT32, type Attr, type OnnxGraphBuilder, type OnnxValue } from './onnx-graph';

/** ONNX gate block t ← Keras gate block ONNX_GATES[cell][t]. */
const ONNX_GATES: Record<string, number[]> = { SimpleRNN: [0], LSTM: [0, 3, 1, 2], GRU: [0, 1, 2] };
const DEFAULT_ACTS: Record<string, string[]> = { SimpleRNN: ['Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'] };

/** Keras activation → ONNX activation function (with alpha, beta when it takes them). */
function onnxActivation(name: unknown, what: string): [string, number?, number?] {
  switch (name) {
    case 'tanh': return ['Tanh'];
    case 'sigmoid': return ['Sigmoid'];
    case 'relu': return ['Relu'];
    case 'hardSigmoid': return ['HardSigmoid', 1 / 6, 0.5];
    case 'hardSigmoidTfjs': return ['HardSigmoid', 0.2, 0.5];
    case 'linear': case null: return ['Affine', 1, 0];
    default: throw new InteropError(`${what}: activation '${String(name)}' has no ONNX recurrent activation function`);
  }
}

/** Keras [n, G·H] (gate blocks in Keras order) → ONNX [G·H, n] (blocks in ONNX order). */
function gateRows(src: Float32Array, n: number, GH: number, H: number, perm: readonly number[]): Float32Array {
  const out = new Float32Array(GH * n);
  for (let row = 0; row < GH; row++) {
    const col = perm[Math.floor(row / H)]! * H + (row % H);
    for (let i = 0; i < n; i++) out[row * n + i] = src[i * GH + col]!;
  }
  return out;
}

function gateVector(src: Float32Array, base: number, GH: number, H: number, perm: readonly number[]): Float32Array {
  const out = new Float32Array(GH);
  for (let q = 0; q < GH; q++) out[q] = src[base + perm[Math.floor(q / H)]! * H + (q % H)]!;
  return out;
}

/** The [B] int32 sequence lengths of a [B, T] float mask (the kept steps per row). */
export function sequenceLengths(b: OnnxGraphBuilder, mask: string, base: string): string {
  const sum = b.op('ReduceSum', [mask, b.i64([1])], `${base}/steps`, { keepdims: { int: 0 } });
  return b.op('Cast', [sum], `${base}/sequence_lens`, { to: { int: ONNX_INT32 } });
}

/**
 * Records one recurrent call; returns its outputs (main, then the final states with returnState).
 * `weights` are the layer's entries in manifest order (both directions for Bidirectional).
 */
export function exportRecurrent(
  b: OnnxGraphBuilder, call: GraphCall, rec: Recurrent, x: OnnxValue, states: readonly OnnxValue[],
  weights: readonly { name: string; shape: number[]; data: Float32Array }[], where: string,
): OnnxValue[] {
  const layer = call.layer;
  const c = rec.cell.config;
  const cls = rec.cell.className;
  const what = `${where}: layer '${layer.name}' (${layer.className === 'Bidirectional' ? `Bidirectional ${cls}` : cls})`;
  if (c.stateful) throw new InteropError(`${what}: a stateful layer carries its state from one call to the next, which an ONNX graph cannot; export a copy built with stateful: false (the weights are the same)`);
  const perm = ONNX_GATES[cls]!;
  const G = perm.length;
  const H = Number(c.units);
  const GH = G * H;
  const D = rec.bidirectional ? 2 : 1;
  const back = Boolean(c.goBackwards);
  const seq = Boolean(c.returnSequences);
  const resetAfter = cls === 'GRU' && c.resetAfter !== false;
  const perDir = weights.length / D;
  if (!Number.isInteger(perDir) || perDir < 2) throw new InteropError(`${what}: expected kernel, recurrent_kernel (and bias) per direction, got ${weights.map((w) => w.name).join(', ')}`);
  if (back && x.mask) throw new InteropError(`${what}: goBackwards on a masked sequence reverses the padding to the front, which ONNX sequence_lens cannot express`);
  const I = weights[0]!.shape[0]!;
  const base = layer.name;
  const W = new Float32Array(D * GH * I), R = new Float32Array(D * GH * H), Bv = new Float32Array(D * 2 * GH);
  const useBias = perDir >= 3;
  for (let d = 0; d < D; d++) {
    const [k, r, bias] = weights.slice(d * perDir, (d + 1) * perDir);
    W.set(gateRows(k!.data, I, GH, H, perm), d * GH * I);
    R.set(gateRows(r!.data, H, GH, H, perm), d * GH * H);
    if (bias) {
      Bv.set(gateVector(bias.data, 0, GH, H, perm), d * 2 * GH);
      if (resetAfter) Bv.set(gateVector(bias.data, GH, GH, H, perm), d * 2 * GH + GH);
    }
  }
  const inputs = [
    b.op('Transpose', [x.name], `${base}/time_major`, { perm: { ints: [1, 0, 2] } }),
    b.f32(`${base}/W`, [D, GH, I], W),
    b.f32(`${base}/R`, [D, GH, H], R),
    useBias ? b.f32(`${base}/B`, [D, 2 * GH], Bv) : '',
    x.mask ? sequenceLengths(b, x.mask, base) : '',
  ];
  const n = cls === 'LSTM' ? 2 : 1;
  if (states.length) {
    const per = (i: number) => {
      const dirs = Array.from({ length: D }, (_, d) => b.op('Unsqueeze', [states[d * n + i]!.name, b.i64([0])], `${base}/initial_${i}_${d}`));
      return D === 1 ? dirs[0]! : b.op('Concat', dirs, `${base}/initial_${i}`, { axis: { int: 0 } });
    };
    inputs.push(per(0));
    if (n === 2) inputs.push(per(1));
  }
  const attrs: Record<string, Attr> = { hidden_size: { int: H }, direction: { string: rec.bidirectional ? 'bidirectional' : back ? 'reverse' : 'forward' } };
  const fns = cls === 'SimpleRNN' ? [c.activation ?? 'tanh'] : cls === 'LSTM' ? [c.recurrentActivation ?? 'sigmoid', c.activation ?? 'tanh', c.activation ?? 'tanh'] : [c.recurrentActivation ?? 'sigmoid', c.activation ?? 'tanh'];
  const acts = fns.map((f) => onnxActivation(f, what));
  if (acts.some((a, i) => a[0] !== DEFAULT_ACTS[cls]![i])) {
    const all = Array.from({ length: D }, () => acts).flat();
    attrs.activations = { strings: all.map((a) => a[0]) };
    const alpha = all.filter((a) => a.length > 1);
    if (alpha.length) {
      attrs.activation_alpha = { floats: alpha.map((a) => a[1]!) };
      attrs.activation_beta = { floats: alpha.map((a) => a[2]!) };
    }
  }
  if (cls === 'GRU') attrs.linear_before_reset = { int: resetAfter ? 1 : 0 };
  const op = { SimpleRNN: 'RNN', LSTM: 'LSTM', GRU: 'GRU' }[cls]!;
  const [Y, Yh, Yc] = b.node(op, inputs, `${base}/${op}`, attrs, n === 2 ? 3 : 2);
  const batch = x.shape[0] ?? null;
  const merge = (value: string, axis: number, outBase: string): string => {
    if (D === 1 || rec.mergeMode === 'concat') return value;
    const reduce = { sum: 'ReduceSum', mul: 'ReduceProd', ave: 'ReduceMean' }[rec.mergeMode];
    if (!reduce) throw new InteropError(`${what}: unknown mergeMode '${rec.mergeMode}'`);
    // ReduceSum takes its axes as an input from opset 13; ReduceProd and ReduceMean as an attribute until 18.
    return reduce === 'ReduceSum'
      ? b.op(reduce, [value, b.i64([axis])], outBase, { keepdims: { int: 0 } })
      : b.op(reduce, [value], outBase, { axes: { ints: [axis] }, keepdims: { int: 0 } });
  };
  const width = D === 2 && rec.mergeMode === 'concat' ? 2 * H : H;
  // Y_h [D, B, H] → [B, D, H]
  const lastStates = b.op('Transpose', [Yh!], `${base}/h_batch_major`, { perm: { ints: [1, 0, 2] } });
  let main: OnnxValue;
  if (seq) {
    const yb = b.op('Transpose', [Y!], `${base}/batch_major`, { perm: { ints: [2, 0, 1, 3] } }); // [B, T, D, H]
    const merged = D === 2 && rec.mergeMode !== 'concat' ? merge(yb, 2, `${base}/merged`) : b.op('Reshape', [yb, b.i64([0, 0, -1])], `${base}/sequence`);
    let out = merged;
    if (x.mask && D === 1) {
      // Keras: a masked step outputs the state it carries; with padding at the end that is the final state.
      const keep = b.op('Cast', [b.op('Unsqueeze', [x.mask, b.i64([2])], `${base}/mask3`)], `${base}/keep`, { to: { int: ONNX_BOOL } });
      const last = b.op('Unsqueeze', [b.op('Reshape', [lastStates, b.i64([0, -1])], `${base}/h_last`), b.i64([1])], `${base}/h_last_step`);
      out = b.op('Where', [keep, merged, last], `${base}/carried`);
    }
    if (back) out = b.op('Slice', [out, b.i64([-1]), b.i64([Number.MIN_SAFE_INTEGER]), b.i64([1]), b.i64([-1])], `${base}/processing_order`);
    main = { name: out, shape: [batch, x.shape[1] ?? null, width], mask: x.mask };
  } else {
    const h = D === 2 && rec.mergeMode !== 'concat' ? merge(lastStates, 1, `${base}/merged`) : b.op('Reshape', [lastStates, b.i64([0, -1])], `${base}/last`);
    main = { name: h, shape: [batch, width], mask: null };
  }
  const outs = [main];
  if (c.returnState) {
    for (let d = 0; d < D; d++) {
      const pick = (v: string, s: string) => ({ name: b.op('Gather', [v, b.i64([d], true)], `${base}/${s}_${d}`, { axis: { int: 0 } }), shape: [batch, H], mask: null });
      outs.push(pick(Yh!, 'h'));
      if (n === 2) outs.push(pick(Yc!, 'c'));
    }
  }
  return outs;
}
