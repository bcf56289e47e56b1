/**
 * Float64 references of LayerNormalization and BatchNormalization over the last axis (Keras 3:
 * keras/src/layers/normalization/{layer,batch}_normalization.py and ops.batch_normalization),
 * forward and backward. x is [rows, feats] row-major (rows = every other axis together); variances
 * are biased (divide by the count), as keras.ops.moments.
 *
 * Backward functions take dy (same shape as y) and return dx [rows, feats], dgamma [feats] and
 * dbeta [feats]; they are checked against central differences in test/unit/normalization.test.ts.
 */

export interface NormForward {
  y: Float64Array;
  mean: Float64Array;
  /** Biased variance. */
  variance: Float64Array;
}

export interface NormBackward {
  dx: Float64Array;
  dgamma: Float64Array;
  dbeta: Float64Array;
}

/** y = (x - mean_r) / sqrt(var_r + eps) · gamma + beta, statistics per row r. */
export function layerNormRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, rows: number, feats: number, eps: number): NormForward {
  const y = new Float64Array(rows * feats), mean = new Float64Array(rows), variance = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = 0; f < feats; f++) s += x[r * feats + f]!;
    const mu = s / feats;
    let q = 0;
    for (let f = 0; f < feats; f++) q += (x[r * feats + f]! - mu) ** 2;
    const va = q / feats;
    mean[r] = mu;
    variance[r] = va;
    for (let f = 0; f < feats; f++) y[r * feats + f] = ((x[r * feats + f]! - mu) / Math.sqrt(va + eps)) * gamma[f]! + beta[f]!;
  }
  return { y, mean, variance };
}

/**
 * Gradients of layerNormRef: with xhat = (x - mean)·rstd and dxhat = dy·gamma, per row
 *   dx = rstd · (dxhat - mean_f(dxhat) - xhat · mean_f(dxhat · xhat))
 *   dgamma = Σ_r dy·xhat,  dbeta = Σ_r dy
 */
export function layerNormBackwardRef(x: Float64Array, gamma: Float64Array, dy: Float64Array, rows: number, feats: number, eps: number): NormBackward {
  const { mean, variance } = layerNormRef(x, gamma, new Float64Array(feats), rows, feats, eps);
  const dx = new Float64Array(rows * feats), dgamma = new Float64Array(feats), dbeta = new Float64Array(feats);
  for (let r = 0; r < rows; r++) {
    const rstd = 1 / Math.sqrt(variance[r]! + eps);
    let a = 0, b = 0;
    for (let f = 0; f < feats; f++) {
      const i = r * feats + f;
      const xh = (x[i]! - mean[r]!) * rstd;
      const dh = dy[i]! * gamma[f]!;
      a += dh;
      b += dh * xh;
      dgamma[f]! += dy[i]! * xh;
      dbeta[f]! += dy[i]!;
    }
    a /= feats;
    b /= feats;
    for (let f = 0; f < feats; f++) {
      const i = r * feats + f;
      const xh = (x[i]! - mean[r]!) * rstd;
      dx[i] = rstd * (dy[i]! * gamma[f]! - a - xh * b);
    }
  }
  return { dx, dgamma, dbeta };
}

/** Training-mode batch normalization: statistics per feature over all rows. */
export function batchNormTrainRef(x: Float64Array, gamma: Float64Array, beta: Float64Array, rows: number, feats: number, eps: number): NormForward {
  const mean = new Float64Array(feats), variance = new Float64Array(feats);
  for (let f = 0; f < feats; f++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += x[r * feats + f]!;
    mean[f] = s / rows;
    let q = 0;
    for (let r = 0; r < rows; r++) q += (x[r * feats + f]! - mean[f]!) ** 2;
    variance[f] = q / rows;
  }
  return { y: batchNormInferenceRef(x, gamma, beta, mean, variance, rows, feats, eps), mean, variance };
}

/** Keras ops.batch_normalization with given statistics: (x - mean)·rsqrt(var + eps)·gamma + beta. */
export function batchNormInferenceRef(
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  rows: number,
  feats: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * feats);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < feats; f++) y[r * feats + f] = ((x[r * feats + f]! - mean[f]!) / Math.sqrt(variance[f]! + eps)) * gamma[f]! + beta[f]!;
  }
  return y;
}

/**
 * Gradients of batchNormTrainRef (through the batch statistics): per feature f
 *   s1 = Σ_r dy,  s2 = Σ_r dy·xhat;  dx = gamma·rstd·(dy - s1/rows - xhat·s2/rows)
 *   dgamma = s2,  dbeta = s1
 */
export function batchNormBackwardRef(x: Float64Array, gamma: Float64Array, dy: Float64Array, rows: number, feats: number, eps: number): NormBackward {
  const { mean, variance } = batchNormTrainRef(x, gamma, new Float64Array(feats), rows, feats, eps);
  const dx = new Float64Array(rows * feats), dgamma = new Float64Array(feats), dbeta = new Float64Array(feats);
  for (let f = 0; f < feats; f++) {
    const rstd = 1 / Math.sqrt(variance[f]! + eps);
    let s1 = 0, s2 = 0;
    for (let r = 0; r < rows; r++) {
      const i = r * feats + f;
      s1 += dy[i]!;
      s2 += dy[i]! * (x[i]! - mean[f]!) * rstd;
    }
    dgamma[f] = s2;
    dbeta[f] = s1;
    for (let r = 0; r < rows; r++) {
      const i = r * feats + f;
      const xh = (x[i]! - mean[f]!) * rstd;
      dx[i] = gamma[f]! * rstd * (dy[i]! - s1 / rows - (xh * s2) / rows);
    }
  }
  return { dx, dgamma, dbeta };
}

/** Keras moving statistics update: moving · momentum + batch · (1 - momentum). */
export function movingAverageRef(moving: Float64Array, batch: Float64Array, momentum: number): Float64Array {
  return moving.map((m, i) => m * momentum + batch[i]! * (1 - momentum));
}
