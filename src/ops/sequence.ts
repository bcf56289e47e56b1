/**
 * Sequence ops around the recurrent op (shaders/sequence.wgsl), each differentiable where a
 * layer needs it: broadcast mask multiplies (dropout, Keras masking), the step mask of
 * rnn.layers.masking, dropout masks drawn on the GPU, Bidirectional's merge, and single time
 * steps of a sequence (custom cells). Tensors are batch-major [B, T, F].
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../gpu/program';
import type { Tensor } from '../tensor';
import { MERGE_CODES } from '../gpu/wgsl-constants';
import { accumulateInto } from './reduce';

function dims(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

export interface MaskLayout {
  /** x is viewed as [B, T, F]; the mask element of (b, t, f) is b*sB + t*sT + f*sF. */
  T: number;
  F: number;
  sB: number;
  sT: number;
  sF: number;
}

/** Records out (+)= x ⊙ broadcast(mask) (not differentiable; the building block of the ops below). */
export async function maskMulInto(g: Graph, prog: Program, x: Tensor, mask: Tensor, out: Tensor, l: MaskLayout, accumulate: boolean): Promise<void> {
  if (out.size !== x.size) throw new RangeError(`maskMul: ${x.name} has ${x.size} elements, ${out.name} has ${out.size}`);
  const k = await g.kernel('sequence', 'maskMul');
  prog.dispatch(k, { mulIn: x, mulMask: mask, mulOut: out }, { n: x.size, T: l.T, F: l.F, sB: l.sB, sT: l.sT, sF: l.sF, accumulate }, x.size);
}

/**
 * y = x ⊙ broadcast(mask), differentiable in x (dx += dy ⊙ mask); the mask is a constant. For x
 * [B, T, F]: a [B, T] mask (per step) or a [B, F] mask (per feature, the same at every step).
 */
export async function applyMask(g: Graph, x: Tensor, mask: Tensor, per: 'step' | 'feature', name = 'applyMask'): Promise<Tensor> {
  if (x.shape.length !== 3) throw new RangeError(`${name}: expects [batch, time, features], got ${dims(x)}`);
  const [B, T, F] = x.shape as [number, number, number];
  const want = per === 'step' ? [B, T] : [B, F];
  if (mask.size !== want[0]! * want[1]!) throw new RangeError(`${name}: mask is ${dims(mask)}, expected [${want.join(', ')}] for input ${dims(x)}`);
  const l: MaskLayout = per === 'step' ? { T, F, sB: T, sT: 1, sF: 0 } : { T, F, sB: F, sT: 0, sF: 1 };
  const y = g.alloc(x.shape, name, g.needsGrad(x));
  await maskMulInto(g, g.forward, x, mask, y, l, false);
  g.recordUnary(name, x, y, async (dy) => {
    await maskMulInto(g, g.backwardProgram, dy, mask, g.grad(x), l, true);
  });
  return y;
}

/** Keras Masking's step mask of x [B, T, F]: [B, T], 1 where any feature differs from maskValue. */
export async function stepMask(g: Graph, x: Tensor, maskValue: number): Promise<Tensor> {
  if (x.shape.length !== 3) throw new RangeError(`stepMask: expects [batch, time, features], got ${dims(x)}`);
  const [B, T, F] = x.shape as [number, number, number];
  const m = g.alloc([B, T], 'stepMask');
  const k = await g.kernel('sequence', 'stepMask');
  g.forward.dispatch(k, { stepIn: x, stepMaskOut: m }, { rows: B * T, F, maskValue }, B * T);
  return m;
}

/**
 * Records a fresh dropout mask into `out` (values 0 or 1/(1-rate), Keras scaling) from a hash of
 * (seed, stream, rngState[0]). The counter is advanced by `advanceRng` (once per step, after all
 * of the step's masks were drawn).
 */
export async function dropoutMask(g: Graph, out: Tensor, rate: number, seed: number, stream: number, rngState: GPUBuffer): Promise<void> {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`dropoutMask: rate must be in (0, 1), got ${rate}`);
  const k = await g.kernel('sequence', 'dropoutMask');
  g.forward.dispatch(k, { rngState: { buffer: rngState, offset: 0, size: 16 }, maskOut: out }, { n: out.size, rate, scale: 1 / (1 - rate), seed: seed >>> 0, stream }, out.size);
}

/** Records rngState[0] += 1 (a new set of dropout masks for the next step). */
export async function advanceRng(g: Graph, rngState: GPUBuffer): Promise<void> {
  const k = await g.kernel('sequence', 'rngAdvance');
  g.forward.dispatch(k, { rngState: { buffer: rngState, offset: 0, size: 16 } }, {}, [1, 1, 1]);
}

/** How Bidirectional combines its two directions: 'concat' (default), 'sum', 'mul' or 'ave' (Keras `merge_mode`). */
export type MergeMode = keyof typeof MERGE_CODES;

/**
 * Bidirectional's merge of the forward output a and the backward output b (same shape [..., H]):
 * concat → [..., 2H]; sum; mul; ave. With `mask` ([rows] = all dims but the last) both are
 * multiplied by it first (Keras zeroes masked steps' outputs inside Bidirectional). Differentiable.
 */
export async function bidirectionalMerge(g: Graph, a: Tensor, b: Tensor, mode: MergeMode, mask: Tensor | null, name = 'bidirectional'): Promise<Tensor> {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${name}: forward output ${dims(a)} and backward output ${dims(b)} differ`);
  }
  const H = a.shape[a.shape.length - 1]!;
  const rows = a.size / H;
  if (mask && mask.size !== rows) throw new RangeError(`${name}: mask is ${dims(mask)}, expected ${rows} elements for outputs ${dims(a)}`);
  const outShape = mode === 'concat' ? [...a.shape.slice(0, -1), 2 * H] : [...a.shape];
  const y = g.alloc(outShape, name, g.needsGrad(a, b));
  const params = { n: rows * H, H, mode: MERGE_CODES[mode], hasMask: mask !== null };
  const k = await g.kernel('sequence', 'bidirectionalMerge');
  g.forward.dispatch(k, { mergeA: a, mergeB: b, mergeMask: mask ?? a, merged: y }, params, rows * H);
  if (g.needsGrad(a, b)) {
    g.record({
      name,
      inputs: [a, b],
      outputs: [y],
      saved: mode === 'mul' ? [a, b] : [],
      backward: async () => {
        const dy = g.gradIfAny(y);
        if (!dy) return;
        const kb = await g.kernel('sequence', 'bidirectionalMergeBackward');
        // Both gradients are written by one dispatch: scratch stands in for one that is not wanted.
        const da = a.requiresGrad ? g.grad(a) : g.alloc(a.shape, `${name}/da (unused)`);
        const db = b.requiresGrad ? g.grad(b) : g.alloc(b.shape, `${name}/db (unused)`);
        g.backwardProgram.dispatch(kb, { mergeA: a, mergeB: b, mergeMask: mask ?? a, dMerged: dy, dMergeA: da, dMergeB: db }, params, rows * H);
      },
    });
  }
  return y;
}

/** Step t of a sequence x [B, T, F], as [B, F]. Differentiable (dx[:, t] += dy). */
export async function takeStep(g: Graph, x: Tensor, t: number): Promise<Tensor> {
  const [B, T, F] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || !(t >= 0 && t < T)) throw new RangeError(`takeStep: step ${t} of ${dims(x)}`);
  const y = g.alloc([B, F], `x[:, ${t}]`, g.needsGrad(x));
  const params = { n: B * F, T, F, t, accumulate: false };
  g.forward.dispatch(await g.kernel('sequence', 'takeStep'), { sliceSrc: x, sliceDst: y }, params, B * F);
  g.recordUnary('takeStep', x, y, async (dy) => {
    g.backwardProgram.dispatch(await g.kernel('sequence', 'putStep'), { sliceSrc: dy, sliceDst: g.grad(x) }, { ...params, accumulate: true }, B * F);
  });
  return y;
}

/**
 * Writes step values h [B, F] into row t of seq [B, T, F] (seq allocated by the caller, every step
 * written once). Differentiable in h (dh += dseq[:, t]).
 */
export async function putStep(g: Graph, h: Tensor, seq: Tensor, t: number): Promise<void> {
  const [B, T, F] = seq.shape as [number, number, number];
  if (seq.shape.length !== 3 || h.size !== B * F || !(t >= 0 && t < T)) throw new RangeError(`putStep: cannot write ${dims(h)} at step ${t} of ${dims(seq)}`);
  const params = { n: B * F, T, F, t, accumulate: false };
  g.forward.dispatch(await g.kernel('sequence', 'putStep'), { sliceSrc: h, sliceDst: seq }, params, B * F);
  if (g.needsGrad(h)) {
    g.record({
      name: 'putStep',
      inputs: [h],
      outputs: [seq],
      saved: [],
      backward: async () => {
        const dseq = g.gradIfAny(seq);
        if (dseq) g.backwardProgram.dispatch(await g.kernel('sequence', 'takeStep'), { sliceSrc: dseq, sliceDst: g.grad(h) }, { ...params, accumulate: true }, B * F);
      },
    });
  }
}

/** x [B, T, F] with its time axis reversed (Keras go_backwards outputs). Differentiable (dx += reversed dy). */
export async function reverseTime(g: Graph, x: Tensor, name = 'reverseTime'): Promise<Tensor> {
  if (x.shape.length !== 3) throw new RangeError(`${name}: expects [batch, time, features], got ${dims(x)}`);
  const [, T, F] = x.shape as [number, number, number];
  const y = g.alloc(x.shape, name, g.needsGrad(x));
  const params = { n: x.size, T, F, accumulate: false };
  const k = await g.kernel('sequence', 'reverseSteps');
  g.forward.dispatch(k, { reverseIn: x, reverseOut: y }, params, x.size);
  g.recordUnary(name, x, y, async (dy) => {
    g.backwardProgram.dispatch(k, { reverseIn: dy, reverseOut: g.grad(x) }, { ...params, accumulate: true }, x.size);
  });
  return y;
}

/** x [B, F] repeated over n steps: [B, n, F] (Keras RepeatVector). Differentiable (dx += Σ_t dy[:, t]). */
export async function repeatSteps(g: Graph, x: Tensor, n: number, name = 'repeatSteps'): Promise<Tensor> {
  if (x.shape.length !== 2) throw new RangeError(`${name}: expects [batch, features], got ${dims(x)}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name}: n must be a positive integer, got ${n}`);
  const [B, F] = x.shape as [number, number];
  const y = g.alloc([B, n, F], name, g.needsGrad(x));
  const params = { B, T: n, F };
  g.forward.dispatch(await g.kernel('sequence', 'repeatSteps'), { repeatIn: x, repeatOut: y }, params, B * n * F);
  g.recordUnary(name, x, y, async (dy) => {
    g.backwardProgram.dispatch(await g.kernel('sequence', 'sumSteps'), { repeatIn: dy, repeatOut: g.grad(x) }, params, B * F);
  });
  return y;
}

/**
 * y = x + stddev · N(0, 1) noise drawn on the GPU from (seed, the step counter in rngState[0], i)
 * (Keras GaussianNoise in training; the counter is advanced by `advanceRng`). Differentiable
 * (dx += dy).
 */
export async function gaussianNoise(g: Graph, x: Tensor, stddev: number, seed: number, rngState: GPUBuffer, name = 'gaussianNoise'): Promise<Tensor> {
  if (!(stddev >= 0 && Number.isFinite(stddev))) throw new RangeError(`${name}: stddev must be a finite number >= 0, got ${stddev}`);
  const y = g.alloc(x.shape, name, g.needsGrad(x));
  const k = await g.kernel('sequence', 'gaussianNoise');
  g.forward.dispatch(k, { noiseIn: x, noiseOut: y, noiseRng: { buffer: rngState, offset: 0, size: 16 } }, { n: x.size, stddev, seed: seed >>> 0 }, x.size);
  g.recordUnary(name, x, y, async (dy) => {
    await accumulateInto(g, g.backwardProgram, dy, g.grad(x));
  });
  return y;
}
