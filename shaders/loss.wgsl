// loss.wgsl — the regression losses and metrics (Keras 3 formulas), forward and backward, over a
// window of time steps, with Keras masking and sample weights.
//   per (row r, step t): l_rt = mean over feats of e(pred - truth), e = LOSS_MSE d², LOSS_MAE |d|,
//                        LOSS_HUBER 0.5 d² if |d| <= delta else delta (|d| - 0.5 delta)
//   w_rt = mask[r, t] (Keras masking; 1 without) · sampleWeight[r] (1 without), for t0 <= t < t1
//   loss = Σ w_rt l_rt / den,  den = Σ mask (+ 1e-7) with a mask, else rows·(t1 - t0)
// which is Keras's "sum_over_batch_size" reduction with the mask folded into the sample weights
// (keras/src/losses/loss.py, apply_mask). Metrics sum Σ w l and Σ w for Keras's Mean metrics.
// pred and truth are [rows, steps, feats] (2-D outputs: steps = 1).
//! op: src/ops/loss.ts
//! reference: test/reference/ops.ts
//! test: test/unit/ops.test.ts

struct Params {
  rows: u32,
  steps: u32,
  feats: u32,
  t0: u32,
  t1: u32,
  delta: f32,     // Huber's threshold
}

override LOSS: u32;          // LOSS_MSE, LOSS_MAE or LOSS_HUBER
override HAS_MASK: bool;     // mask [rows, steps]
override HAS_WEIGHT: bool;   // sampleWeight [rows]

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pred: array<f32>;         // [rows, steps, feats]
@group(0) @binding(2) var<storage, read> truth: array<f32>;        // [rows, steps, feats]
@group(0) @binding(3) var<storage, read> mask: array<f32>;         // [rows, steps]
@group(0) @binding(4) var<storage, read> sampleWeight: array<f32>; // [rows]
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;   // [1]
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;  // [4]: Σ w l, den (the loss's divisor), Σ w, 0
@group(0) @binding(7) var<storage, read> dLoss: array<f32>;        // [1]
@group(0) @binding(8) var<storage, read> statsIn: array<f32>;      // [4]: what lossForward wrote to stats
@group(0) @binding(9) var<storage, read_write> dPred: array<f32>;  // [rows, steps, feats] +=

fn elementLoss(d: f32) -> f32 {
  let a = abs(d);
  switch LOSS {
    case LOSS_MAE: { return a; }
    case LOSS_HUBER: { return select(params.delta * (a - 0.5 * params.delta), 0.5 * d * d, a <= params.delta); }
    default: { return d * d; }
  }
}

// d elementLoss / d pred
fn elementGrad(d: f32) -> f32 {
  switch LOSS {
    case LOSS_MAE: { return sign(d); }
    case LOSS_HUBER: { return select(params.delta * sign(d), d, abs(d) <= params.delta); }
    default: { return 2.0 * d; }
  }
}

// w_rt for row r and step t (inside the window).
fn rowWeight(r: u32, t: u32) -> f32 {
  var w = 1.0;
  if (HAS_MASK) { w *= mask[r * params.steps + t]; }
  if (HAS_WEIGHT) { w *= sampleWeight[r]; }
  return w;
}

const LOSS_WG = 64u;
var<workgroup> partial: array<vec3f, LOSS_WG>; // Σ w l, Σ mask, Σ w

// loss = Σ w l / den; stats = [Σ w l, den, Σ w, 0]. One workgroup: each invocation sums its
// (row, step) pairs, then invocation 0 adds the LOSS_WG partial sums in order. One barrier: a tree
// reduction over 256 invocations (8 barriers) took 0.84 ms of a 12 ms training step on SwiftShader,
// where every barrier suspends and resumes every invocation group.
@compute @workgroup_size(LOSS_WG)
fn lossForward(@builtin(local_invocation_index) lid: u32) {
  let width = params.t1 - params.t0;
  let n = params.rows * width;
  var s = vec3f(0.0);
  for (var j = lid; j < n; j += LOSS_WG) {
    let r = j / width;
    let t = params.t0 + j % width;
    let base = (r * params.steps + t) * params.feats;
    var l = 0.0;
    for (var f = 0u; f < params.feats; f++) { l += elementLoss(pred[base + f] - truth[base + f]); }
    let w = rowWeight(r, t);
    var m = 1.0;
    if (HAS_MASK) { m = mask[r * params.steps + t]; }
    s += vec3f(w * l / f32(params.feats), m, w);
  }
  partial[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var tot = vec3f(0.0);
    for (var i = 0u; i < LOSS_WG; i++) { tot += partial[i]; }
    let den = select(f32(n), tot.y + 1e-7, HAS_MASK);
    loss[0] = tot.x / den;
    stats[0] = tot.x;
    stats[1] = den;
    stats[2] = tot.z;
    stats[3] = 0.0;
  }
}

// dPred += dLoss · w_rt · e'(pred - truth) / (feats · den) inside the window (nothing outside it).
@compute @workgroup_size(64)
fn lossBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flatIndex(gid, nwg, 64u);
  let width = params.t1 - params.t0;
  if (j >= params.rows * width * params.feats) { return; }
  let f = j % params.feats;
  let rt = j / params.feats;
  let r = rt / width;
  let t = params.t0 + rt % width;
  let i = (r * params.steps + t) * params.feats + f;
  dPred[i] += dLoss[0] * rowWeight(r, t) * elementGrad(pred[i] - truth[i]) / (f32(params.feats) * statsIn[1]);
}

struct AccParams {
  slot: u32,
  weight: f32,
}
@group(0) @binding(10) var<uniform> acc: AccParams;
@group(0) @binding(11) var<storage, read_write> totals: array<f32>; // [slots]
@group(0) @binding(12) var<storage, read> accIn: array<f32>;        // a scalar ([1]), or a loss's stats ([4])

// totals[slot] += weight · accIn[0]: a running (per-epoch) sum that is read back once.
@compute @workgroup_size(1)
fn accumulateScalar() {
  totals[acc.slot] += acc.weight * accIn[0];
}

// totals[slot] += Σ w l, totals[slot + 1] += Σ w (from a loss's stats): a Keras Mean metric's
// running sums.
@compute @workgroup_size(1)
fn accumulateMetric() {
  totals[acc.slot] += accIn[0];
  totals[acc.slot + 1u] += accIn[2];
}
