/**
 * Layer and batch normalization over the last axis (shaders/normalization.wgsl), forward and
 * backward side by side. x [..., F] is viewed as [rows, F].
 *   layerNorm:  per row:      y = (x - mean)·rstd·gamma + beta,  rstd = 1/sqrt(var + eps)
 *               backward:     dx += rstd·(dxhat - mean(dxhat) - xhat·mean(dxhat·xhat)); dgamma += Σ dy·xhat; dbeta += Σ dy
 *   batchNorm:  per feature:  batch statistics in training graphs (and the moving-average update of
 *               movingMean/movingVar, in the arena, on the GPU), moving statistics otherwise
 *               backward:     dx += gamma·rstd·(dy - mean(dy) - xhat·mean(dy·xhat)); same dgamma, dbeta
 * gamma / beta may be null (Keras scale=false / center=false): constant ones / zeros are bound.
 */
import type { Graph } from '../autograd/tape';
import type { Tensor } from '../tensor';

interface Dims {
  rows: number;
  feats: number;
}

function dims(name: string, x: Tensor, gamma: Tensor | null, beta: Tensor | null): Dims {
  const feats = x.shape[x.shape.length - 1]!;
  for (const [k, t] of [['gamma', gamma], ['beta', beta]] as const) {
    if (t && t.size !== feats) throw new RangeError(`${name}: ${k} has ${t.size} elements, the last input axis has ${feats}`);
  }
  return { rows: x.size / feats, feats };
}

/** A graph-owned [F] tensor filled with `value` (stands in for an absent gamma or beta). */
function constant(g: Graph, feats: number, value: number, name: string): Tensor {
  const t = g.alloc([feats], name);
  g.ctx.device.queue.writeBuffer(t.buffer, t.byteOffset, new Float32Array(feats).fill(value));
  return t;
}

/** Where dgamma / dbeta go: the parameter's gradient, or a scratch buffer that is not read. */
function gradOrScratch(g: Graph, t: Tensor | null, feats: number, name: string): { t: Tensor; write: boolean } {
  return t?.requiresGrad ? { t: g.grad(t), write: true } : { t: g.alloc([feats], name), write: false };
}

/**
 * LayerNormalization over the last axis (Keras 3 `LayerNormalization(axis=-1)`). Differentiable
 * in x, gamma and beta.
 */
export async function layerNorm(g: Graph, x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number, name = 'layerNorm'): Promise<Tensor> {
  const { rows, feats } = dims(name, x, gamma, beta);
  const gm = gamma ?? constant(g, feats, 1, `${name}/ones`);
  const bt = beta ?? constant(g, feats, 0, `${name}/zeros`);
  const params = { rows, feats, epsilon, momentum: 0, training: g.training, writeGamma: false, writeBeta: false };
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const grad = g.needsGrad(...inputs);
  const y = g.alloc(x.shape, name, grad);
  const mean = g.alloc([rows], `${name}/mean`);
  const rstd = g.alloc([rows], `${name}/rstd`);
  g.forward.dispatch(await g.kernel('normalization', 'layerNormForward'), { x, gamma: gm, beta: bt, y, mean, rstd }, params, rows);
  if (!grad) return y;
  g.record({
    name,
    inputs,
    outputs: [y],
    saved: [x, mean, rstd],
    backward: async () => {
      const dy = g.gradIfAny(y);
      if (!dy) return;
      const bp = g.backwardProgram;
      if (x.requiresGrad) {
        bp.dispatch(await g.kernel('normalization', 'layerNormBackwardInput'), { x, gamma: gm, mean, rstd, dy, dx: g.grad(x) }, params, rows);
      }
      const dg = gradOrScratch(g, gamma, feats, `${name}/dgamma (unused)`);
      const db = gradOrScratch(g, beta, feats, `${name}/dbeta (unused)`);
      if (dg.write || db.write) {
        bp.dispatch(
          await g.kernel('normalization', 'layerNormBackwardParams'),
          { x, mean, rstd, dy, dgamma: dg.t, dbeta: db.t },
          { ...params, writeGamma: dg.write, writeBeta: db.write },
          feats,
        );
      }
    },
  });
  return y;
}

/** BatchNormalization options (Keras 3 defaults: momentum 0.99, epsilon 1e-3). */
export interface BatchNormOptions {
  epsilon: number;
  momentum: number;
}

/**
 * BatchNormalization over all axes but the last (Keras 3 `BatchNormalization(axis=-1)`). In a
 * training graph (g.training) it normalises with the batch statistics and updates
 * movingMean/movingVar on the GPU as moving·momentum + batch·(1 - momentum) each time the graph
 * runs; otherwise it uses the moving statistics. Differentiable in x, gamma and beta (training
 * graphs); the moving statistics receive no gradient.
 */
export async function batchNorm(
  g: Graph,
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  movingMean: Tensor,
  movingVar: Tensor,
  opts: BatchNormOptions,
  name = 'batchNorm',
): Promise<Tensor> {
  const { rows, feats } = dims(name, x, gamma, beta);
  if (movingMean.size !== feats || movingVar.size !== feats) throw new RangeError(`${name}: moving statistics must have ${feats} elements`);
  const gm = gamma ?? constant(g, feats, 1, `${name}/ones`);
  const bt = beta ?? constant(g, feats, 0, `${name}/zeros`);
  const params = { rows, feats, epsilon: opts.epsilon, momentum: opts.momentum, training: g.training, writeGamma: false, writeBeta: false };
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const grad = g.needsGrad(...inputs);
  const y = g.alloc(x.shape, name, grad);
  const mean = g.alloc([feats], `${name}/mean`);
  const rstd = g.alloc([feats], `${name}/rstd`);
  g.forward.dispatch(await g.kernel('normalization', 'batchNormStats'), { x, mean, rstd, movingMean, movingVar }, params, feats);
  g.forward.dispatch(await g.kernel('normalization', 'batchNormApply'), { x, gamma: gm, beta: bt, mean, rstd, y }, params, x.size);
  if (!grad) return y;
  g.record({
    name,
    inputs,
    outputs: [y],
    saved: [x, mean, rstd],
    backward: async () => {
      const dy = g.gradIfAny(y);
      if (!dy) return;
      const bp = g.backwardProgram;
      const dg = gradOrScratch(g, gamma, feats, `${name}/dgamma (unused)`);
      const db = gradOrScratch(g, beta, feats, `${name}/dbeta (unused)`);
      const sums = g.alloc([2, feats], `${name}/sums`);
      const p = { ...params, writeGamma: dg.write, writeBeta: db.write };
      bp.dispatch(await g.kernel('normalization', 'batchNormBackwardParams'), { x, mean, rstd, dy, dgamma: dg.t, dbeta: db.t, sums }, p, feats);
      if (x.requiresGrad) {
        bp.dispatch(await g.kernel('normalization', 'batchNormBackwardInput'), { x, gamma: gm, mean, rstd, dy, sums, dx: g.grad(x) }, p, x.size);
      }
    },
  });
  return y;
}
