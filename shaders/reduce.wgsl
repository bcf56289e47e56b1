// reduce.wgsl — reductions and their (broadcast) backward. Outputs with `accumulate` = 1 add to
// what is there (gradient accumulation); with 0 they overwrite.
//! op: src/ops/reduce.ts
//! reference: test/reference/ops.ts
//! test: test/unit/ops.test.ts

struct Params {
  rows: u32,
  cols: u32,
  scale: f32,       // result is scale * sum (1/count for a mean)
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [rows, cols]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // sumRows: [cols]; sumAll: [1]
@group(0) @binding(3) var<storage, read> dOut: array<f32>;       // [1]
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;   // [rows * cols]

// out[c] (+)= scale * sum_r x[r, c]: column sums, e.g. a bias gradient over all rows.
@compute @workgroup_size(64)
fn sumRows(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= params.cols) { return; }
  var s = 0.0;
  for (var r = 0u; r < params.rows; r++) { s += x[r * params.cols + c]; }
  let v = s * params.scale;
  out[c] = select(v, out[c] + v, params.accumulate == 1u);
}

var<workgroup> partial: array<f32, 256>;

// out[0] (+)= scale * sum of all rows*cols elements. One workgroup; a tree reduction.
@compute @workgroup_size(256)
fn sumAll(@builtin(local_invocation_index) lid: u32) {
  let n = params.rows * params.cols;
  var s = 0.0;
  for (var i = lid; i < n; i += 256u) { s += x[i]; }
  partial[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w >>= 1u) {
    if (lid < w) { partial[lid] += partial[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let v = partial[0] * params.scale;
    out[0] = select(v, out[0] + v, params.accumulate == 1u);
  }
}

// dx[i] += scale * dOut[0]: backward of sumAll (and of a mean with scale = 1/n).
@compute @workgroup_size(64)
fn sumAllBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.rows * params.cols) { return; }
  dx[i] += params.scale * dOut[0];
}

// dx[i] += scale * x[i] (accumulate = 1) or dx[i] = scale * x[i]: gradient pass-through and copies.
@compute @workgroup_size(64)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.rows * params.cols) { return; }
  let v = params.scale * x[i];
  dx[i] = select(v, dx[i] + v, params.accumulate == 1u);
}
