// loss.wgsl — mean squared error over a window of time steps, forward and backward.
// pred and truth are [rows, steps, feats] (a 2-D [rows, feats] truth is steps = 1). Only time
// steps t0 <= t < t1 count, which gives plain MSE (0, steps), Keras's last_time_step_mse
// (steps-1, steps) and the weather lesson's warm-up-excluded loss (50, steps) with one kernel.
//! op: src/ops/loss.ts
//! reference: test/reference/ops.ts
//! test: test/unit/ops.test.ts

struct Params {
  rows: u32,
  steps: u32,
  feats: u32,
  t0: u32,
  t1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;       // [rows, steps, feats]
@group(0) @binding(2) var<storage, read> truth: array<f32>;     // [rows, steps, feats]
@group(0) @binding(3) var<storage, read_write> loss: array<f32>; // [1]
@group(0) @binding(4) var<storage, read> dLoss: array<f32>;      // [1]
@group(0) @binding(5) var<storage, read_write> dPred: array<f32>;// [rows, steps, feats]

fn windowCount() -> u32 { return params.rows * (params.t1 - params.t0) * params.feats; }

// j-th element of the window -> flat index into pred/truth
fn windowIndex(j: u32) -> u32 {
  let w = (params.t1 - params.t0) * params.feats;
  let r = j / w;
  let rem = j % w;
  return (r * params.steps + params.t0 + rem / params.feats) * params.feats + rem % params.feats;
}

var<workgroup> partial: array<f32, 256>;

// loss[0] = mean over the window of (pred - truth)^2. One workgroup, tree reduction.
@compute @workgroup_size(256)
fn mseForward(@builtin(local_invocation_index) lid: u32) {
  let n = windowCount();
  var s = 0.0;
  for (var j = lid; j < n; j += 256u) {
    let i = windowIndex(j);
    let d = pred[i] - truth[i];
    s += d * d;
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { partial[lid] += partial[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { loss[0] = partial[0] / f32(n); }
}

// dPred += dLoss * 2 (pred - truth) / n inside the window (nothing outside it).
@compute @workgroup_size(64)
fn mseBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flatIndex(gid, nwg, 64u);
  let n = windowCount();
  if (j >= n) { return; }
  let i = windowIndex(j);
  dPred[i] += dLoss[0] * 2.0 * (pred[i] - truth[i]) / f32(n);
}

struct AccParams {
  slot: u32,
  weight: f32,
}
@group(0) @binding(6) var<uniform> acc: AccParams;
@group(0) @binding(7) var<storage, read_write> totals: array<f32>; // [slots]

// totals[slot] += weight * loss[0]; a running (per-epoch) sum that is read back once.
@compute @workgroup_size(1)
fn accumulateScalar() {
  totals[acc.slot] += acc.weight * loss[0];
}
