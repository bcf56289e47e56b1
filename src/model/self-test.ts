/**
 * The startup self-test (issue 16): before a model first uses a GPU device, a tiny LSTM and GRU
 * (batch 2, 3 steps, 2 inputs, 3 units) run forward and backward through the library's own
 * kernels, and their outputs and gradients are compared with values precomputed in float64
 * (SELF_TEST_EXPECTED; test/unit/self-test.test.ts recomputes them with the float64 reference of
 * test/reference/rnn.ts). A device whose results differ — a driver that miscompiles a kernel, or
 * returns zero gradients as one phone GPU did for TensorFlow.js (tfjs#8590) — is refused with an
 * error naming the adapter, before it trains anything. It is skipped only by
 * `rnn.getGpu({selfTest: false})` before the first model is built.
 */
import { getContext, type Context } from '../gpu/context';
import { GpuError } from '../gpu/device';
import { readback, upload } from '../gpu/io';
import { Graph } from '../autograd/tape';
import { rnn, type RnnOpConfig } from '../ops/rnn';
import { mul } from '../ops/elementwise';
import { sum } from '../ops/reduce';
import type { Tensor } from '../tensor';

/** The self-test's sizes: batch, steps, inputs, units. */
export const SELF_TEST_SIZES = { B: 2, T: 3, I: 2, H: 3 } as const;

/** The self-test's inputs: x, kernel, recurrent kernel, bias and the loss weights, from fixed formulas (float32-rounded when uploaded). */
export function selfTestInputs(cell: 'lstm' | 'gru'): { x: Float32Array; kernel: Float32Array; recurrentKernel: Float32Array; bias: Float32Array; lossWeights: Float32Array } {
  const { B, T, I, H } = SELF_TEST_SIZES;
  const GH = (cell === 'lstm' ? 4 : 3) * H;
  const f = (n: number, g: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => g(i));
  return {
    x: f(B * T * I, (i) => 0.8 * Math.sin(0.37 * i + 0.1)),
    kernel: f(I * GH, (i) => 0.5 * Math.sin(0.91 * i + 0.2)),
    recurrentKernel: f(H * GH, (i) => 0.5 * Math.cos(0.53 * i + 0.3)),
    // LSTM [4H]; GRU resetAfter [2, 3H] (input bias, recurrent bias)
    bias: f(cell === 'lstm' ? GH : 2 * GH, (i) => 0.1 * Math.sin(1.7 * i)),
    lossWeights: f(B * T * H, (i) => Math.cos(0.29 * i)),
  };
}

/** The tensors the self-test checks, in order: hSeq, then the gradients of Σ hSeq ⊙ lossWeights. */
export const SELF_TEST_TENSORS = ['hSeq', 'dX', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

/** Three weighted sums of a tensor's values (Σv, Σv·sin(i+1), Σv·cos(i/2)): what is compared. */
export function checksums(v: ArrayLike<number>): [number, number, number] {
  let a = 0, b = 0, c = 0;
  for (let i = 0; i < v.length; i++) {
    a += v[i]!;
    b += v[i]! * Math.sin(i + 1);
    c += v[i]! * Math.cos(i / 2);
  }
  return [a, b, c];
}

/**
 * The checksums of hSeq and the gradients, computed in float64 by the reference (test/reference/rnn.ts)
 * from selfTestInputs (test/unit/self-test.test.ts checks these numbers against it).
 */
export const SELF_TEST_EXPECTED: Record<'lstm' | 'gru', Record<(typeof SELF_TEST_TENSORS)[number], readonly [number, number, number]>> = {
  lstm: {
    hSeq: [-0.4025084865087015, -0.10401169766664531, 0.22031746417841766],
    dX: [0.1570742851789883, -0.08556179791611232, -0.540561753210361],
    dKernel: [-0.7506231717085744, -0.5016711905662069, 0.4399767813190075],
    dRecurrentKernel: [0.0965186106771191, 0.09467366466457605, -0.0649494508008812],
    dBias: [-1.0916534424480973, -0.6340922789182674, 0.6452726625390692],
  },
  gru: {
    hSeq: [1.0935156402940664, 0.35358677916599063, -0.44129384890481693],
    dX: [-0.7758171543969744, 0.09786069914271525, 1.2317940075553266],
    dKernel: [-0.7640860976730901, -0.595538201493659, 1.3490986014569946],
    dRecurrentKernel: [-0.2201801121486851, 0.0089003868672691, -0.11671366394104134],
    dBias: [-2.585715501670241, -0.639844036525927, 1.6536841555484514],
  },
};

/** Raised when a device fails the self-test: its results are wrong, so it is not used. */
export class SelfTestError extends GpuError {
  /** 'SelfTestError'. */
  override name = 'SelfTestError';
}

/** What a self-test found. */
export interface SelfTestResult {
  /** The adapter, e.g. 'mesa llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'. */
  adapter: string;
  /** Wall time of the test (compiling its kernels included). */
  ms: number;
  /** The largest |GPU − float64| checksum difference relative to its tolerance (≤ 1 passes). */
  worst: number;
  /** What failed ('' when it passed). */
  failures: string[];
}

/** The adapter in words, for messages. */
export function adapterName(ctx: Context): string {
  const i = ctx.gpu.info;
  return [i.vendor, i.architecture, i.description || i.device].filter((s) => s).join(' ') || 'unknown adapter';
}

/** Runs the self-test on `ctx`'s device (does not throw on a mismatch; see ensureSelfTest). */
export async function runSelfTest(ctx: Context): Promise<SelfTestResult> {
  const t0 = performance.now();
  const { B, T, I, H } = SELF_TEST_SIZES;
  const failures: string[] = [];
  let worst = 0;
  for (const cell of ['lstm', 'gru'] as const) {
    const d = selfTestInputs(cell);
    const GH = (cell === 'lstm' ? 4 : 3) * H;
    const cfg: RnnOpConfig = { cell, units: H, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, useBias: true };
    const g = new Graph(ctx, true);
    try {
      const mk = (shape: number[], data: Float32Array, grad: boolean, name: string): Tensor => {
        const t = g.alloc(shape, name, grad);
        upload(ctx.device, t, data);
        return t;
      };
      const x = mk([B, T, I], d.x, true, 'x');
      const k = mk([I, GH], d.kernel, true, 'kernel');
      const u = mk([H, GH], d.recurrentKernel, true, 'recurrentKernel');
      const b = mk(cell === 'lstm' ? [GH] : [2, GH], d.bias, true, 'bias');
      const out = await rnn(g, cfg, x, { kernel: k, recurrentKernel: u, bias: b });
      await g.backward(await sum(g, await mul(g, out.hSeq, mk([B, T, H], d.lossWeights, false, 'lossWeights'))));
      const enc = ctx.device.createCommandEncoder();
      g.encode(enc);
      ctx.device.queue.submit([enc.finish()]);
      const got = await readback(ctx.device, out.hSeq, g.grad(x), g.grad(k), g.grad(u), g.grad(b));
      ctx.gpu.checkErrors();
      SELF_TEST_TENSORS.forEach((name, i) => {
        const v = got[i]!;
        const sums = checksums(v);
        const scale = 1 + Array.from(v).reduce((s, a) => s + Math.abs(a), 0);
        sums.forEach((s, j) => {
          const want = SELF_TEST_EXPECTED[cell][name][j]!;
          const r = Number.isFinite(s) ? Math.abs(s - want) / (1e-4 * scale) : Infinity;
          worst = Math.max(worst, r);
          if (!(r <= 1)) failures.push(`${cell} ${name} checksum ${j}: ${s} (float64: ${want})`);
        });
      });
    } finally {
      g.dispose();
    }
  }
  return { adapter: adapterName(ctx), ms: performance.now() - t0, worst, failures };
}

const done = new WeakMap<Context, Promise<SelfTestResult | null>>();

/**
 * Runs the self-test once per device (null when skipped by `getGpu({selfTest: false})`); throws a
 * SelfTestError naming the adapter when it failed (every later call on that device does too).
 */
export async function ensureSelfTest(ctx: Context): Promise<SelfTestResult | null> {
  let p = done.get(ctx);
  if (!p) {
    p = ctx.gpu.selfTest ? runSelfTest(ctx) : Promise.resolve(null);
    done.set(ctx, p);
  }
  const r = await p;
  if (r && r.failures.length) {
    throw new SelfTestError(
      `The GPU adapter '${r.adapter}' failed the startup self-test: a tiny LSTM and GRU gave results that differ from float64 ` +
        `(${r.failures.slice(0, 3).join('; ')}${r.failures.length > 3 ? `; ${r.failures.length - 3} more` : ''}). Training on it would give wrong ` +
        `weights, so it is refused. Update the GPU driver or browser, or try another adapter; rnn.getGpu({selfTest: false}) skips this check.`,
    );
  }
  return r;
}

/** The shared context, self-tested: what models build on. */
export async function modelContext(): Promise<Context> {
  const ctx = await getContext();
  await ensureSelfTest(ctx);
  return ctx;
}

/**
 * Runs the startup self-test on the shared GPU now and reports it (`rnn.selfTest()`): the adapter,
 * the time and any failures (it does not throw; models refuse a failing device when they build).
 */
export async function selfTest(): Promise<SelfTestResult> {
  return runSelfTest(await getContext());
}
