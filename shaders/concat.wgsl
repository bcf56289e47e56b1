// concat.wgsl — copies between column ranges of row-major matrices: the forward and backward of
// concatenation and slicing along any axis (src/ops/concat.ts views a tensor as [rows, cols] with
// rows = the dimensions before the axis). One invocation per copied element.
//! op: src/ops/concat.ts
//! reference: test/reference/concat.ts
//! test: test/unit/concat.test.ts

struct Params {
  rows: u32,
  cols: u32,        // columns copied per row
  srcCols: u32,     // row length of src
  srcOff: u32,      // first copied column of src
  dstCols: u32,     // row length of dst
  dstOff: u32,      // first written column of dst
  accumulate: u32,  // 1: dst += src (gradients), 0: dst = src
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;        // [rows, srcCols]
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;  // [rows, dstCols]

// dst[r, dstOff + c] (+)= src[r, srcOff + c] for r < rows, c < cols
@compute @workgroup_size(64)
fn copyColumns(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols;
  let c = i % params.cols;
  let v = src[r * params.srcCols + params.srcOff + c];
  let at = r * params.dstCols + params.dstOff + c;
  dst[at] = select(v, dst[at] + v, params.accumulate == 1u);
}
