// elementwise.wgsl — unary activations, add/mul/sub, scale-and-shift and bias add, forward and
// backward side by side.
// All tensors are flat f32 arrays of `n` elements. Backward entry points ACCUMULATE into their
// gradient outputs (dx += ...), so a tensor used by several ops sums its gradients.
//! op: src/ops/elementwise.ts
//! reference: test/reference/ops.ts
//! test: test/unit/ops.test.ts

struct Params {
  n: u32,
  op: u32,      // unary: activation code (ACT_*); binary: BINARY_ADD, BINARY_MUL or BINARY_SUB
  cols: u32,    // biasAdd only: row length (bias size); 1 otherwise
  scale: f32,   // scale only: y = x * scale + shift
  shift: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [n]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;  // [n]
@group(0) @binding(3) var<storage, read> dy: array<f32>;       // [n]
@group(0) @binding(4) var<storage, read_write> dx: array<f32>; // [n]
@group(0) @binding(5) var<storage, read> a: array<f32>;        // [n]
@group(0) @binding(6) var<storage, read> b: array<f32>;        // [n] or [cols] (bias)
@group(0) @binding(7) var<storage, read_write> z: array<f32>;  // [n]

// y = act(x)
@compute @workgroup_size(64)
fn unaryForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  y[i] = activate(params.op, x[i]);
}

// dx += dy * act'(x), with act' written through the saved output y.
@compute @workgroup_size(64)
fn unaryBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  dx[i] += dy[i] * activateGrad(params.op, y[i]);
}

// z = a + b, a * b or a - b
@compute @workgroup_size(64)
fn binaryForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  switch params.op {
    case BINARY_MUL: { z[i] = a[i] * b[i]; }
    case BINARY_SUB: { z[i] = a[i] - b[i]; }
    default: { z[i] = a[i] + b[i]; }
  }
}

// dx += dy * ∂z/∂a: dy (add), dy * b (mul); for sub the TS op passes the sign through `op`: the
// gradient of `a` uses BINARY_ADD, that of `b` BINARY_SUB (dx -= dy). The TS op calls it once per
// input (swapping a/b), so x*x and x+x accumulate twice, correctly.
@compute @workgroup_size(64)
fn binaryBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  switch params.op {
    case BINARY_MUL: { dx[i] += dy[i] * b[i]; }
    case BINARY_SUB: { dx[i] -= dy[i]; }
    default: { dx[i] += dy[i]; }
  }
}

// y = x * scale + shift
@compute @workgroup_size(64)
fn scaleForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  y[i] = x[i] * params.scale + params.shift;
}

// dx += dy * scale
@compute @workgroup_size(64)
fn scaleBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  dx[i] += dy[i] * params.scale;
}

// z[r, c] = a[r, c] + b[c]   (rows = n / cols)
@compute @workgroup_size(64)
fn biasAddForward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  z[i] = a[i] + b[i % params.cols];
}
