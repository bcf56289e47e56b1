/**
 * Matrix multiply (shaders/matmul.wgsl): the low-level `gemm` with strided row views, used by
 * Dense and the recurrent layers, and the differentiable `matmul` op:
 *   forward  C = A·B (+ bias)
 *   backward dA += dC·Bᵀ,  dB += Aᵀ·dC,  dBias += column sums of dC
 */
import type { Graph } from '../autograd/tape';
import type { Program } from '../gpu/program';
import type { Tensor } from '../tensor';
import { sumRowsInto } from './reduce';

/** Row view of a stored matrix: element (r, c) = off + (r / inner) * outer + (r % inner) * rowStride + c. */
export interface MatView {
  t: Tensor;
  rowStride: number;
  off?: number;
  inner?: number;
  outer?: number;
}

export interface GemmSpec {
  M: number;
  N: number;
  K: number;
  a: MatView;
  b: MatView;
  c: MatView;
  transA?: boolean;
  transB?: boolean;
  /** C += result instead of C = result. */
  accumulate?: boolean;
  /** Bias added to each row of C. */
  bias?: { t: Tensor; off?: number };
  /** Force a matmul.wgsl entry point (tests); default: chosen by gemmEntry. */
  entry?: string;
}

/**
 * Records out [cols, outStride] = xᵀ for x [rows, cols] (not differentiable; BPTT's copy of Uᵀ).
 * With outStride > rows each output row is padded; the padding is not written.
 */
export async function transposeInto(g: Graph, prog: Program, x: Tensor, rows: number, cols: number, out: Tensor, outStride = rows): Promise<void> {
  if (x.size !== rows * cols || outStride < rows || out.size !== cols * outStride) {
    throw new RangeError(`transpose: ${x.name} [${x.shape.join(', ')}] and ${out.name} [${out.shape.join(', ')}] are not ${rows}×${cols} and ${cols}×${outStride}`);
  }
  prog.dispatch(await g.kernel('matmul', 'transpose'), { transposeIn: x, transposeOut: out }, { rows, cols, outStride }, rows * cols);
}

/**
 * Records out [rows, H, 4] = the recurrent kernel u [rows, G*H] (G ≤ 4 gate blocks) with the G
 * gates of each unit side by side, zero-padded to 4 (not differentiable; the persistent forward
 * kernels read one unit's gates as one vec4).
 */
export async function gatesByUnitInto(g: Graph, prog: Program, u: Tensor, rows: number, G: number, H: number, out: Tensor): Promise<void> {
  if (!(G >= 1 && G <= 4) || u.size !== rows * G * H || out.size !== rows * H * 4) {
    throw new RangeError(`gatesByUnit: ${u.name} [${u.shape.join(', ')}] and ${out.name} [${out.shape.join(', ')}] are not ${rows}×${G * H} (${G} gate blocks) and ${rows}×${H}×4`);
  }
  prog.dispatch(await g.kernel('matmul', 'gatesByUnit'), { transposeIn: u, transposeOut: out }, { rows, cols: H, outStride: G }, rows * H * 4);
}

const PLAIN = 0xffffffff; // `inner` for a plain row-major matrix (r / inner == 0)

/**
 * Which matmul.wgsl entry point to use:
 * - GPUs: the workgroup-tiled kernel (`matmul`, 32x32 per workgroup, each loaded element reused
 *   32 times) for large, square-ish products; the barrier-free direct kernel (`matmulDirect`, a
 *   4x4 block per invocation) for the skinny shapes of small RNNs.
 * - Software (CPU) adapters: never the tiled kernel (barriers are expensive there); the direct
 *   kernel with 8x8 blocks (`matmulDirect8x8`, workgroups fitted to the product by
 *   direct8x8Workgroup) unless M or N is below 8, then 4x4. Every per-invocation load is a
 *   gather on those adapters, so bigger blocks (more multiply-adds per load) win: measured on
 *   SwiftShader 1.9x for the RNN weight gradients and 1.5x for an input projection with K = 8;
 *   for the chapter's LSTM(20)×2 (20 × 80 weight gradients, 1600 × 20 dX) the training step
 *   ~15 % faster on lavapipe and 10 % on SwiftShader than with 4x4 blocks (docs/performance.md).
 */
export function gemmEntry(M: number, N: number, K: number, bias: boolean, software: boolean): string {
  let entry = 'matmulDirect';
  if (!software && M >= 128 && N >= 128 && K >= 64) entry = 'matmul';
  if (software && M >= 8 && N >= 8) entry = 'matmulDirect8x8';
  return `${entry}${bias ? 'Bias' : ''}`;
}

/**
 * Invocations per side of a direct-4x4 workgroup (`GW` in matmul.wgsl): 8, or 4 on CPU adapters
 * when 32x32-output workgroups would be fewer than 8 (a CPU thread takes whole workgroups, so a
 * small product in 2–3 of them leaves a core idle part of the time).
 */
export function directSide(M: number, N: number, software: boolean): number {
  return software && Math.ceil(M / 32) * Math.ceil(N / 32) < 8 ? 4 : 8;
}

/**
 * True when a view's `n` elements along the block dimension are consecutive for every k (the
 * dimension runs along the stored rows: `alongRows`), every row of the view starts 4-aligned, a
 * block of `width` never straddles the edge (n divisible by width), and the last vec4 read lies
 * within the binding's whole vec4s — so the direct kernels may read them as vec4s.
 */
export function vecReadable(v: MatView, rows: number, n: number, width: number, alongRows: boolean): boolean {
  const off = v.off ?? 0;
  const plain = v.inner === undefined || v.inner === PLAIN;
  if (!alongRows || n % width !== 0 || off % 4 !== 0 || v.rowStride % 4 !== 0 || (!plain && (v.outer ?? 0) % 4 !== 0)) return false;
  const r = rows - 1;
  const lastRow = plain ? off + r * v.rowStride : off + Math.floor(r / v.inner!) * (v.outer ?? 0) + (r % v.inner!) * v.rowStride;
  return lastRow + n <= Math.floor(v.t.size / 4) * 4;
}

/**
 * Invocations per workgroup [along N, along M] of the 8x8 kernels (`GX8`, `GY8`): at most 64,
 * splitting the product's 8x8 blocks evenly (no lanes idle at the far edge, e.g. N = 80: 2 × 5
 * blocks rather than 8 + 2) and in at least 8 workgroups when it has the blocks (a CPU thread
 * takes whole workgroups: a weight gradient of LSTM(20), 20 × 80, would otherwise be 1–2).
 */
export function direct8x8Workgroup(M: number, N: number): [number, number] {
  const bx = Math.ceil(N / 8), by = Math.ceil(M / 8);
  const even = (blocks: number, most: number) => Math.ceil(blocks / Math.ceil(blocks / most));
  const gx = even(bx, 8);
  let gy = even(by, Math.max(1, Math.floor(64 / gx)));
  while (gy > 1 && Math.ceil(bx / gx) * Math.ceil(by / gy) < 8) gy = even(by, Math.floor(gy / 2));
  return [gx, gy];
}

/** Outputs of C per workgroup [along N, along M] of an entry family (`side`: direct-4x4 invocations per side). */
function blockOf(entry: string, side: number, M: number, N: number): [number, number] {
  if (entry.startsWith('matmulDirect8x8')) {
    const [gx, gy] = direct8x8Workgroup(M, N);
    return [8 * gx, 8 * gy];
  }
  const b = entry.startsWith('matmulDirect') ? 4 * side : 32;
  return [b, b];
}

/**
 * Records C (+)= op(A)·op(B) (+ bias) into `prog`, choosing the kernel by shape and adapter
 * (`s.entry` forces one, for tests).
 */
export async function gemm(g: Graph, prog: Program, s: GemmSpec): Promise<void> {
  const software = g.ctx.gpu.info.isFallbackAdapter;
  const entry = s.entry ?? gemmEntry(s.M, s.N, s.K, Boolean(s.bias), software);
  const direct4 = entry.startsWith('matmulDirect') && !entry.startsWith('matmulDirect8x8');
  const side = directSide(s.M, s.N, software);
  // The direct kernels also read a and b as vec4s when the block's rows (columns) of every k are
  // aligned and consecutive (pipeline constants A_VEC / B_VEC); a binding of fewer than 4 floats
  // gets a placeholder (never read).
  const direct = entry.startsWith('matmulDirect');
  const width = entry.startsWith('matmulDirect8x8') ? 8 : 4;
  const aVec = direct && vecReadable(s.a, s.K, s.M, width, s.transA ?? false);
  const bVec = direct && vecReadable(s.b, s.K, s.N, width, !(s.transB ?? false));
  const [bn, bm] = blockOf(entry, side, s.M, s.N);
  const shape: Record<string, number> = direct4 ? { GW: side } : direct ? { GX8: bn / 8, GY8: bm / 8 } : {};
  const kernel = await g.kernel('matmul', entry, direct ? { ...shape, A_VEC: aVec ? 1 : 0, B_VEC: bVec ? 1 : 0 } : {});
  const v = (m: MatView, p: 'a' | 'b' | 'c') => ({
    [`${p}Off`]: m.off ?? 0,
    [`${p}Inner`]: m.inner ?? PLAIN,
    [`${p}Outer`]: m.outer ?? 0,
    [`${p}RowStride`]: m.rowStride,
  });
  const bindings: Record<string, Tensor> = { a: s.a.t, b: s.b.t, c: s.c.t };
  if (s.bias) bindings.bias = s.bias.t;
  if (kernel.resources.some((r) => r.name === 'a4')) {
    bindings.a4 = s.a.t.size >= 4 ? s.a.t : g.alloc([4], 'matmul a4 placeholder');
    bindings.b4 = s.b.t.size >= 4 ? s.b.t : g.alloc([4], 'matmul b4 placeholder');
  }
  prog.dispatch(
    kernel,
    bindings,
    {
      M: s.M,
      N: s.N,
      K: s.K,
      accumulate: s.accumulate ?? false,
      transA: s.transA ?? false,
      transB: s.transB ?? false,
      ...v(s.a, 'a'),
      ...v(s.b, 'b'),
      ...v(s.c, 'c'),
      biasOff: s.bias?.off ?? 0,
    },
    [Math.ceil(s.N / bn), Math.ceil(s.M / bm), 1],
  );
}

/**
 * y = a·b (+ bias) for 2-D `a` [M, K] and `b` [K, N]; `bias` [N]. Differentiable.
 */
export async function matmul(g: Graph, a: Tensor, b: Tensor, bias: Tensor | null = null, name = 'matmul'): Promise<Tensor> {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0]) {
    throw new RangeError(`${name}: cannot multiply [${a.shape.join(', ')}] by [${b.shape.join(', ')}]`);
  }
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  if (bias && bias.size !== N) throw new RangeError(`${name}: bias has ${bias.size} elements, expected ${N}`);
  const out = g.alloc([M, N], name, g.needsGrad(a, b, ...(bias ? [bias] : [])));
  await gemm(g, g.forward, { M, N, K, a: { t: a, rowStride: K }, b: { t: b, rowStride: N }, c: { t: out, rowStride: N }, ...(bias ? { bias: { t: bias } } : {}) });
  if (!g.needsGrad(a, b, ...(bias ? [bias] : []))) return out;
  g.record({
    name,
    inputs: bias ? [a, b, bias] : [a, b],
    outputs: [out],
    saved: [a, b],
    backward: async () => {
      const dOut = g.gradIfAny(out);
      if (!dOut) return;
      const bp = g.backwardProgram;
      if (a.requiresGrad) {
        // dA [M, K] += dC [M, N] · Bᵀ (B stored [K, N])
        await gemm(g, bp, { M, N: K, K: N, a: { t: dOut, rowStride: N }, b: { t: b, rowStride: N }, transB: true, c: { t: g.grad(a), rowStride: K }, accumulate: true });
      }
      if (b.requiresGrad) {
        // dB [K, N] += Aᵀ (A stored [M, K]) · dC [M, N]
        await gemm(g, bp, { M: K, N, K: M, a: { t: a, rowStride: K }, transA: true, b: { t: dOut, rowStride: N }, c: { t: g.grad(b), rowStride: N }, accumulate: true });
      }
      if (bias?.requiresGrad) await sumRowsInto(g, bp, dOut, M, N, g.grad(bias), true);
    },
  });
  return out;
}
