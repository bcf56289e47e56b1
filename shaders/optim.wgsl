// optim.wgsl — optimizer updates over the flat parameter arena (ONE update dispatch for the
// whole model), with Keras 3 gradient clipping and decoupled weight decay fused in.
//
// Per step, in order (keras/src/optimizers/base_optimizer.py, `_backend_apply_gradients`):
//   1. clip the gradients (at most one mode):
//        clipvalue       g = clip(g, -c, c)
//        clipnorm        g = g * c / max(‖g_var‖, c)       per variable (`_clip_by_norm`)
//        globalClipnorm  g = g * c / max(‖g_all‖, c)       (`clip_by_global_norm`: c·min(1/‖g‖, 1/c))
//   2. weight decay     p = p - p * wd * lr              (`_apply_weight_decay`; AdamW's default)
//   3. the update (lr is the step's learning rate, t the 1-based step):
//        Adam     alpha = lr·sqrt(1-β2^t)/(1-β1^t);  m += (g-m)(1-β1);  v += (g²-v)(1-β2);
//                 p -= alpha·m / (sqrt(v) + ε)
//        SGD      momentum 0: p -= lr·g;  else m = μ·m - lr·g;  p += m  (nesterov: p += μ·m - lr·g)
//        RMSprop  v = ρ·v + (1-ρ)·g²;  [centered: mg = ρ·mg + (1-ρ)·g;  den = v - mg² + ε]  else den = v + ε
//                 inc = lr·g / sqrt(den);  momentum 0: p -= inc;  else m = μ·m + inc;  p -= m
//
// Step-dependent values (lr, Adam's alpha) are computed on the CPU in float64 from the step counter
// and written ONCE per step into aux[0..4) with queue.writeBuffer before the step is submitted.
// Norms never leave the GPU: clipPartials writes Σg² per chunk into aux; the global norm is
// summed by every update workgroup itself (design §4.4: 2 dispatches); per-variable norms are
// finished by clipFinalize (3 dispatches). All sums run in a fixed order: deterministic.
// Only trainable variables are touched: `table` lists them, everything else (moving statistics,
// alignment padding) is left as it is.
//! op: src/optim/optimizers.ts
//! reference: test/reference/optimizers.ts
//! test: test/unit/optimizers.test.ts

struct Params {
  n: u32,            // arena length in elements (padding included)
  nVars: u32,        // trainable variables listed in `table`
  nChunks: u32,      // chunks of the norm reduction
  clip: f32,         // the clip threshold c of the active mode
  weightDecay: f32,  // wd (0: none)
  beta1: f32,        // Adam
  beta2: f32,        // Adam
  epsilon: f32,      // Adam, RMSprop
  rho: f32,          // RMSprop
  momentum: f32,     // SGD, RMSprop (0: no momentum buffer)
  nesterov: u32,     // SGD
  centered: u32,     // RMSprop
}

// The clip mode is compiled into the update kernels (src/optim/optimizers.ts): the compiler then
// drops the other modes — on CPU adapters (SwiftShader) both sides of a non-constant branch run,
// and the global mode's workgroup barriers alone make every invocation a coroutine there.
override CLIP_MODE: u32;  // CLIP_NONE, CLIP_VALUE, CLIP_NORM (per variable) or CLIP_GLOBAL_NORM

// aux layout (f32): [lr, alpha, 0, 0 | partial Σg² per chunk (nChunks) | max(‖g_v‖, c) per variable (nVars)];
// the partials start at OPTIM_AUX_PARTIALS (4).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;      // [n] parameters
@group(0) @binding(2) var<storage, read> g: array<f32>;            // [n] gradients
@group(0) @binding(3) var<storage, read_write> m: array<f32>;      // [slots] Adam m / SGD & RMSprop momentum
@group(0) @binding(4) var<storage, read_write> v: array<f32>;      // [slots] Adam v / RMSprop velocity
@group(0) @binding(5) var<storage, read_write> mg: array<f32>;     // [slots] RMSprop average gradient (centered)
// table (u32): [offset, size] × nVars | [start, end) × nChunks | [firstChunk, endChunk) × nVars |
//   slot offset × nVars (where a variable's moments start in m, v, mg: only trainable variables have them)
@group(0) @binding(6) var<storage, read> table: array<u32>;
@group(0) @binding(7) var<storage, read> aux: array<f32>;          // see layout above (update kernels)
@group(0) @binding(8) var<storage, read_write> auxOut: array<f32>; // the same buffer (norm kernels)

// ---------------------------------------------------------------- norm reduction

var<workgroup> red256: array<f32, 256>;

// aux[OPTIM_AUX_PARTIALS + c] = Σ g² over chunk c (one workgroup per chunk; chunks never span variables).
@compute @workgroup_size(256)
fn clipPartials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.y * nwg.x + wid.x;
  var s = 0.0;
  if (c < params.nChunks) {
    let base = 2u * params.nVars + 2u * c;
    let end = table[base + 1u];
    for (var j = table[base] + lid; j < end; j += 256u) {
      let x = g[j];
      s += x * x;
    }
  }
  red256[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { red256[lid] += red256[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u && c < params.nChunks) { auxOut[OPTIM_AUX_PARTIALS + c] = red256[0]; }
}

// Per-variable clipnorm: aux[OPTIM_AUX_PARTIALS + nChunks + v] = max(‖g_v‖, c), the denominator of
// Keras's `_clip_by_norm` (its l2norm is sqrt(Σg²), or 0 when Σg² = 0).
@compute @workgroup_size(64)
fn clipFinalize(@builtin(global_invocation_id) gid: vec3u) {
  let vi = gid.x;
  if (vi >= params.nVars) { return; }
  let base = 2u * params.nVars + 2u * params.nChunks + 2u * vi;
  var s = 0.0;
  for (var c = table[base]; c < table[base + 1u]; c++) { s += auxOut[OPTIM_AUX_PARTIALS + c]; }
  auxOut[OPTIM_AUX_PARTIALS + params.nChunks + vi] = max(sqrt(s), params.clip);
}

// ---------------------------------------------------------------- shared by the updates

var<workgroup> red64: array<f32, 64>;

// Global clipnorm scale c / max(‖g‖, c), from the chunk partials (every workgroup sums them in
// the same order). Must be called from uniform control flow.
fn globalScale(lid: u32) -> f32 {
  var s = 0.0;
  for (var c = lid; c < params.nChunks; c += 64u) { s += aux[OPTIM_AUX_PARTIALS + c]; }
  red64[lid] = s;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w >>= 1u) {
    if (lid < w) { red64[lid] += red64[lid + w]; }
    workgroupBarrier();
  }
  return params.clip / max(sqrt(red64[0]), params.clip);
}

// Index of the trainable variable holding arena element i, or -1 (padding, non-trainable).
fn varIndex(i: u32) -> i32 {
  if (params.nVars == 0u) { return -1; }
  var lo = 0u;
  var hi = params.nVars;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (table[2u * mid] <= i) { lo = mid; } else { hi = mid; }
  }
  let off = table[2u * lo];
  if (i < off || i >= off + table[2u * lo + 1u]) { return -1; }
  return i32(lo);
}

// The clipped gradient of element i (of variable vi); gs is the global clip scale.
fn clippedGrad(i: u32, vi: u32, gs: f32) -> f32 {
  let gi = g[i];
  switch CLIP_MODE {
    case CLIP_VALUE: { return clamp(gi, -params.clip, params.clip); }
    case CLIP_NORM: { return gi * params.clip / aux[OPTIM_AUX_PARTIALS + params.nChunks + vi]; }
    case CLIP_GLOBAL_NORM: { return gi * gs; }
    default: { return gi; }
  }
}

// Keras `_apply_weight_decay`: variable - variable * wd * lr (before the update).
fn decayed(i: u32) -> f32 {
  let pi = p[i];
  return pi - pi * params.weightDecay * aux[0];
}

// The element an update invocation owns and its clipped gradient; ok = false past the arena's end
// and in padding / non-trainable variables (left untouched). Called first thing in every update
// entry point: globalScale's barrier needs uniform control flow.
struct GradSlot {
  i: u32,   // arena element (p, g)
  s: u32,   // moment slot (m, v, mg)
  ok: bool,
  g: f32,
}

fn gradSlot(gid: vec3u, nwg: vec3u, lid: u32) -> GradSlot {
  var gs = 1.0;
  if (CLIP_MODE == CLIP_GLOBAL_NORM) { gs = globalScale(lid); }
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return GradSlot(i, 0u, false, 0.0); }
  let vi = varIndex(i);
  if (vi < 0) { return GradSlot(i, 0u, false, 0.0); }
  let vj = u32(vi);
  let s = table[4u * params.nVars + 2u * params.nChunks + vj] + (i - table[2u * vj]);
  return GradSlot(i, s, true, clippedGrad(i, vj, gs));
}

// ---------------------------------------------------------------- updates

@compute @workgroup_size(64)
fn adamUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let slot = gradSlot(gid, nwg, lid);
  if (!slot.ok) { return; }
  let i = slot.i;
  let gi = slot.g;
  let alpha = aux[1];
  let mi = m[slot.s] + (gi - m[slot.s]) * (1.0 - params.beta1);
  let si = v[slot.s] + (gi * gi - v[slot.s]) * (1.0 - params.beta2);
  m[slot.s] = mi;
  v[slot.s] = si;
  p[i] = decayed(i) - alpha * mi / (sqrt(si) + params.epsilon);
}

@compute @workgroup_size(64)
fn sgdUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let slot = gradSlot(gid, nwg, lid);
  if (!slot.ok) { return; }
  let i = slot.i;
  let gi = slot.g;
  let lr = aux[0];
  let pi = decayed(i);
  if (params.momentum == 0.0) {
    p[i] = pi - gi * lr;
    return;
  }
  let mi = m[slot.s] * params.momentum - gi * lr;
  m[slot.s] = mi;
  if (params.nesterov == 1u) {
    p[i] = pi + (mi * params.momentum - gi * lr);
  } else {
    p[i] = pi + mi;
  }
}

@compute @workgroup_size(64)
fn rmspropUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let slot = gradSlot(gid, nwg, lid);
  if (!slot.ok) { return; }
  let i = slot.i;
  let gi = slot.g;
  let lr = aux[0];
  let rho = params.rho;
  let si = rho * v[slot.s] + (1.0 - rho) * (gi * gi);
  v[slot.s] = si;
  var den = si + params.epsilon;
  if (params.centered == 1u) {
    let a = rho * mg[slot.s] + (1.0 - rho) * gi;
    mg[slot.s] = a;
    den = si - a * a + params.epsilon;
  }
  let inc = lr * gi / sqrt(den);
  let pi = decayed(i);
  if (params.momentum > 0.0) {
    let mi = params.momentum * m[slot.s] + inc;
    m[slot.s] = mi;
    p[i] = pi - mi;
  } else {
    p[i] = pi - inc;
  }
}
