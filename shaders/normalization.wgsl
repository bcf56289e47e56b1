// normalization.wgsl — LayerNormalization and BatchNormalization over the LAST axis (Keras 3),
// forward and backward. Inputs are viewed as x [rows, feats]: rows = every other axis together
// (B, or B·T for sequences). Variances are biased (divide by the count), as ops.moments.
//
// LayerNorm (per row r, over its feats):
//   mean_r, var_r;  rstd_r = 1/sqrt(var_r + eps);  xhat = (x - mean_r)·rstd_r;  y = xhat·gamma + beta
//   dx    += rstd_r · (dxhat - mean_f(dxhat) - xhat · mean_f(dxhat·xhat)),  dxhat = dy·gamma
//   dgamma += Σ_r dy·xhat;   dbeta += Σ_r dy
// BatchNorm (per feature f, over all rows):
//   training:  mean_f, var_f from the batch; moving = moving·momentum + batch·(1 - momentum)
//   inference: mean_f = movingMean_f, var_f = movingVar_f
//   y = (x - mean_f)·rstd_f·gamma_f + beta_f
//   backward (training): s1_f = Σ_r dy, s2_f = Σ_r dy·xhat;  dgamma += s2;  dbeta += s1;
//   dx += gamma_f·rstd_f·(dy - s1_f/rows - xhat·s2_f/rows)
// Every gradient output ACCUMULATES (+=), as the tape requires; y, mean, rstd, sums are overwritten.
// Naive kernels (one invocation per row, feature or element, two-pass moments): barrier-free.
//! op: src/ops/normalization.ts
//! reference: test/reference/normalization.ts
//! test: test/unit/normalization.test.ts

struct Params {
  rows: u32,
  feats: u32,
  epsilon: f32,
  momentum: f32,    // BatchNorm moving-average momentum
  training: u32,    // BatchNorm: 1 = batch statistics (+ moving update), 0 = moving statistics
  writeGamma: u32,  // backward: accumulate into dgamma (0: the layer has no gamma)
  writeBeta: u32,   // backward: accumulate into dbeta (0: the layer has no beta)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                 // [rows, feats]
@group(0) @binding(2) var<storage, read> gamma: array<f32>;             // [feats] (ones when scale=false)
@group(0) @binding(3) var<storage, read> beta: array<f32>;              // [feats] (zeros when center=false)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;           // [rows, feats]
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;        // LN [rows] / BN [feats], saved for backward
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;        // LN [rows] / BN [feats], saved for backward
@group(0) @binding(7) var<storage, read> dy: array<f32>;                // [rows, feats]
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;          // [rows, feats]  +=
@group(0) @binding(9) var<storage, read_write> dgamma: array<f32>;      // [feats]  +=
@group(0) @binding(10) var<storage, read_write> dbeta: array<f32>;      // [feats]  +=
@group(0) @binding(11) var<storage, read_write> movingMean: array<f32>; // [feats] (a view of the parameter arena)
@group(0) @binding(12) var<storage, read_write> movingVar: array<f32>;  // [feats] (a view of the parameter arena)
@group(0) @binding(13) var<storage, read_write> sums: array<f32>;       // [2, feats]: s1 = Σ dy, s2 = Σ dy·xhat

// ---------------------------------------------------------------- LayerNormalization

// One invocation per row: y, mean[r], rstd[r].
@compute @workgroup_size(64)
fn layerNormForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg, 64u);
  if (r >= params.rows) { return; }
  let F = params.feats;
  let base = r * F;
  var s = 0.0;
  for (var f = 0u; f < F; f++) { s += x[base + f]; }
  let mu = s / f32(F);
  var q = 0.0;
  for (var f = 0u; f < F; f++) { let d = x[base + f] - mu; q += d * d; }
  let rs = 1.0 / sqrt(q / f32(F) + params.epsilon);
  mean[r] = mu;
  rstd[r] = rs;
  for (var f = 0u; f < F; f++) { y[base + f] = (x[base + f] - mu) * rs * gamma[f] + beta[f]; }
}

// One invocation per row: dx += rstd·(dxhat - mean(dxhat) - xhat·mean(dxhat·xhat)).
@compute @workgroup_size(64)
fn layerNormBackwardInput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg, 64u);
  if (r >= params.rows) { return; }
  let F = params.feats;
  let base = r * F;
  let mu = mean[r];
  let rs = rstd[r];
  var a = 0.0; // Σ dxhat
  var b = 0.0; // Σ dxhat·xhat
  for (var f = 0u; f < F; f++) {
    let dh = dy[base + f] * gamma[f];
    a += dh;
    b += dh * (x[base + f] - mu) * rs;
  }
  a /= f32(F);
  b /= f32(F);
  for (var f = 0u; f < F; f++) {
    let xh = (x[base + f] - mu) * rs;
    dx[base + f] += rs * (dy[base + f] * gamma[f] - a - xh * b);
  }
}

// One invocation per feature: dgamma += Σ_r dy·xhat, dbeta += Σ_r dy.
@compute @workgroup_size(64)
fn layerNormBackwardParams(@builtin(global_invocation_id) gid: vec3u) {
  let f = gid.x;
  if (f >= params.feats) { return; }
  let F = params.feats;
  var sg = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let d = dy[r * F + f];
    sg += d * (x[r * F + f] - mean[r]) * rstd[r];
    sb += d;
  }
  if (params.writeGamma == 1u) { dgamma[f] += sg; }
  if (params.writeBeta == 1u) { dbeta[f] += sb; }
}

// ---------------------------------------------------------------- BatchNormalization

// One invocation per feature: mean[f], rstd[f] from the batch (and the moving-average update),
// or from the moving statistics in inference.
@compute @workgroup_size(64)
fn batchNormStats(@builtin(global_invocation_id) gid: vec3u) {
  let f = gid.x;
  if (f >= params.feats) { return; }
  let F = params.feats;
  if (params.training == 0u) {
    mean[f] = movingMean[f];
    rstd[f] = 1.0 / sqrt(movingVar[f] + params.epsilon);
    return;
  }
  var s = 0.0;
  for (var r = 0u; r < params.rows; r++) { s += x[r * F + f]; }
  let mu = s / f32(params.rows);
  var q = 0.0;
  for (var r = 0u; r < params.rows; r++) { let d = x[r * F + f] - mu; q += d * d; }
  let va = q / f32(params.rows);
  mean[f] = mu;
  rstd[f] = 1.0 / sqrt(va + params.epsilon);
  // Keras: moving_mean * momentum + mean * (1 - momentum); same for the variance (biased).
  movingMean[f] = movingMean[f] * params.momentum + mu * (1.0 - params.momentum);
  movingVar[f] = movingVar[f] * params.momentum + va * (1.0 - params.momentum);
}

// One invocation per element: y = (x - mean_f)·rstd_f·gamma_f + beta_f.
@compute @workgroup_size(64)
fn batchNormApply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.rows * params.feats) { return; }
  let f = i % params.feats;
  y[i] = (x[i] - mean[f]) * rstd[f] * gamma[f] + beta[f];
}

// One invocation per feature: sums = (Σ dy, Σ dy·xhat); dgamma += s2, dbeta += s1.
@compute @workgroup_size(64)
fn batchNormBackwardParams(@builtin(global_invocation_id) gid: vec3u) {
  let f = gid.x;
  if (f >= params.feats) { return; }
  let F = params.feats;
  let mu = mean[f];
  let rs = rstd[f];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let d = dy[r * F + f];
    s1 += d;
    s2 += d * (x[r * F + f] - mu) * rs;
  }
  sums[f] = s1;
  sums[F + f] = s2;
  if (params.writeGamma == 1u) { dgamma[f] += s2; }
  if (params.writeBeta == 1u) { dbeta[f] += s1; }
}

// One invocation per element: dx += gamma·rstd·(dy - s1/rows - xhat·s2/rows).
@compute @workgroup_size(64)
fn batchNormBackwardInput(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.rows * params.feats) { return; }
  let F = params.feats;
  let f = i % F;
  let n = f32(params.rows);
  let rs = rstd[f];
  let xh = (x[i] - mean[f]) * rs;
  dx[i] += gamma[f] * rs * (dy[i] - sums[f] / n - xh * sums[F + f] / n);
}
