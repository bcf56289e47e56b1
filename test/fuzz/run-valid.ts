/**
 * Runs one valid fuzz case through the public API and checks every number against the float64
 * reference (test/fuzz/model-ref.ts). Two training steps, each checked in two parts so errors
 * cannot hide behind each other or compound:
 *   1. `model.gradients(x, y)` at the current weights vs the reference gradient at those weights
 *      (GRAD tolerance), and trainOnBatch's loss vs the reference loss (FORWARD);
 *   2. the weights after `trainOnBatch` vs the reference optimizer applied to the GPU's own
 *      gradient (FORWARD) — so Adam's division by √v of a gradient that is zero up to float32
 *      rounding compares like with like.
 * Optionally predict() after the two steps vs the reference forward pass.
 */
import * as rnn from '../../src/index';
import { randomArray } from '../helpers/rng';
import { FORWARD, GRAD, type Tolerance } from '../helpers/tolerances';
import { modelRef, newOptState, optimizerStepRef, weightShapes } from './model-ref';
import { buildLoss, buildModel, buildOptimizer, type ValidCase } from './valid-cases';

/** Distance to a kink below which a comparison is not meaningful in float32 (values are O(1)). */
export const KINK_MARGIN = 1e-3;

/** Why a valid case failed, or null. */
export interface ValidResult {
  /** 'ok', or what went wrong. */
  status: 'ok' | 'mismatch' | 'error' | 'skipped';
  /** The first problem found (or why it was skipped). */
  detail: string;
  /** Data redrawn because it sat on a kink. */
  redraws: number;
}

/** null when |got - want| <= atol + rtol·|want| everywhere, else a description of the worst element. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, what: string): string | null {
  if (got.length !== want.length) return `${what}: ${got.length} values, expected ${want.length}`;
  let bad = 0, worst = -1, worstDiff = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const diff = g === w ? 0 : Math.abs(g - w);
    if (!(diff <= tol.atol + tol.rtol * Math.abs(w))) {
      bad++;
      const d = Number.isNaN(diff) ? Infinity : diff;
      if (d > worstDiff) [worstDiff, worst] = [d, i];
    }
  }
  return bad ? `${what}: ${bad}/${want.length} values outside atol ${tol.atol} rtol ${tol.rtol}; worst [${worst}] got ${got[worst]} expected ${want[worst]}` : null;
}

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);
const f32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a));

/** The model's output size per row of a case: [steps, features]. */
function outputShape(c: ValidCase): [number | null, number] {
  let T: number | null = c.T, F = c.I;
  for (const l of c.layers) {
    if (l.kind === 'dense') F = l.units;
    else {
      F = l.bidi === 'concat' ? 2 * l.units : l.units;
      if (!l.returnSequences) T = null;
    }
  }
  return [T, F];
}

/** Runs a case; never throws (an exception is a result). */
export async function runValid(c: ValidCase): Promise<ValidResult> {
  let model: rnn.Sequential | null = null;
  let redraws = 0;
  try {
    model = buildModel(c);
    model.compile({ optimizer: buildOptimizer(c.opt), loss: buildLoss(c.loss) });
    const [To, K] = outputShape(c);
    const xShape = [c.B, c.T, c.I], yShape = To === null ? [c.B, K] : [c.B, To, K];
    const yLen = c.B * (To ?? 1) * K;
    const w0 = (await model.getWeights()).map((t) => f64(t.data));
    const shapes = (await model.getWeights()).map((t) => [...t.shape]);
    const want = weightShapes(c);
    if (JSON.stringify(shapes) !== JSON.stringify(want)) return { status: 'mismatch', detail: `weight shapes ${JSON.stringify(shapes)}, expected ${JSON.stringify(want)} (${model.weightNames.join(', ')})`, redraws };
    // Data away from kinks (relu 0, hardSigmoid ±3, mae's |error| = 0) at the starting weights.
    let x: Float64Array, y: Float64Array;
    for (;;) {
      x = f32(randomArray(c.B * c.T * c.I, c.seed + 101 * redraws + 1, -2, 2));
      y = f32(randomArray(yLen, c.seed + 101 * redraws + 2, -1, 1));
      if (modelRef(c, w0, x, y).kink > KINK_MARGIN) break;
      if (++redraws === 8) return { status: 'skipped', detail: 'every data draw sits on a kink', redraws };
    }
    const X = { data: Float32Array.from(x), shape: xShape }, Y = { data: Float32Array.from(y), shape: yShape };
    const state = newOptState(w0);
    let w = w0;
    for (let step = 1; step <= 2; step++) {
      const ref = modelRef(c, w, x, y);
      const checkGrads = ref.kink > KINK_MARGIN; // step 2's weights may have moved onto a kink
      const g = (await model.gradients(X, Y)).map((t) => f64(t.data));
      if (checkGrads) {
        for (let i = 0; i < g.length; i++) {
          const bad = compare(g[i]!, ref.grads[i]!, GRAD, `step ${step}: gradient of ${model.weightNames[i]}`);
          if (bad) return { status: 'mismatch', detail: bad, redraws };
        }
      }
      const loss = await model.trainOnBatch(X, Y);
      const badLoss = compare([loss], [ref.loss], FORWARD, `step ${step}: trainOnBatch loss`);
      if (badLoss) return { status: 'mismatch', detail: badLoss, redraws };
      const next = optimizerStepRef(c.opt, w, g, state, step);
      const after = (await model.getWeights()).map((t) => f64(t.data));
      for (let i = 0; i < after.length; i++) {
        const bad = compare(after[i]!, next[i]!, FORWARD, `step ${step}: ${model.weightNames[i]} after the ${c.opt.name} update`);
        if (bad) return { status: 'mismatch', detail: bad, redraws };
      }
      w = after;
    }
    if (c.predict) {
      const ref = modelRef(c, w, x, y);
      const out = (await model.predict(X)) as rnn.HostTensor;
      const bad = compare(out.data, ref.out, FORWARD, 'predict after two steps');
      if (bad) return { status: 'mismatch', detail: bad, redraws };
    }
    return { status: 'ok', detail: '', redraws };
  } catch (e) {
    return { status: 'error', detail: `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`, redraws };
  } finally {
    try {
      model?.dispose();
    } catch {
      // a failed dispose is reported by the GPU watch (leaks), not here
    }
  }
}
