// matmul.wgsl — C (+)= op(A) · op(B) (+ bias), tiled GEMM with strided "row views".
//
// Logical shapes: op(A) is [M, K], op(B) is [K, N], C is [M, N]. With transA, A is stored [K, M];
// with transB, B is stored [N, K]. Every operand is addressed through a row view:
//   element (row r, col c) of the STORED matrix = off + (r / inner) * outer + (r % inner) * rowStride + c
// With inner >= rows this is a plain row-major matrix at offset `off`. The RNN layers use the
// two-level form to address "all batches, time steps 1..T-1" of a [B, T, H] sequence as one
// [B*(T-1), H] matrix without copying it (weight gradients summed over time as one GEMM).
//
// Tile: 32x32 outputs per 16x16 workgroup (2x2 per invocation), K staged 16 at a time.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  accumulate: u32,  // 1: C += result, 0: C = result
  transA: u32,
  transB: u32,
  aOff: u32, aInner: u32, aOuter: u32, aRowStride: u32,
  bOff: u32, bInner: u32, bOuter: u32, bRowStride: u32,
  cOff: u32, cInner: u32, cOuter: u32, cRowStride: u32,
  biasOff: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;   // [N] at biasOff (matmulBias only)

const TILE = 32u;
const BK = 16u;

var<workgroup> tileA: array<f32, 512>; // [BK, TILE]: tileA[k * TILE + m]
var<workgroup> tileB: array<f32, 512>; // [BK, TILE]: tileB[k * TILE + n]
var<private> acc: array<f32, 4>;       // this invocation's 2x2 outputs, row-major

fn rowAddr(r: u32, off: u32, inner: u32, outer: u32, rowStride: u32) -> u32 {
  return off + (r / inner) * outer + (r % inner) * rowStride;
}

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
  if (params.transA == 0u) {
    return a[rowAddr(m, params.aOff, params.aInner, params.aOuter, params.aRowStride) + k];
  }
  return a[rowAddr(k, params.aOff, params.aInner, params.aOuter, params.aRowStride) + m];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
  if (params.transB == 0u) {
    return b[rowAddr(k, params.bOff, params.bInner, params.bOuter, params.bRowStride) + n];
  }
  return b[rowAddr(n, params.bOff, params.bInner, params.bOuter, params.bRowStride) + k];
}

fn cAddr(m: u32, n: u32) -> u32 {
  return rowAddr(m, params.cOff, params.cInner, params.cOuter, params.cRowStride) + n;
}

// Fills acc with this invocation's 2x2 block of op(A)·op(B).
fn gemmTile(wid: vec3u, lid: vec3u) {
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let flat = lid.y * 16u + lid.x;
  acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var k0 = 0u; k0 < params.K; k0 += BK) {
    for (var e = flat; e < BK * TILE; e += 256u) {
      let kk = e / TILE;
      let mm = e % TILE;
      tileA[e] = loadA(m0 + mm, k0 + kk);
      tileB[e] = loadB(k0 + kk, n0 + mm);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let a0 = tileA[kk * TILE + lid.y * 2u];
      let a1 = tileA[kk * TILE + lid.y * 2u + 1u];
      let b0 = tileB[kk * TILE + lid.x * 2u];
      let b1 = tileB[kk * TILE + lid.x * 2u + 1u];
      acc[0] += a0 * b0;
      acc[1] += a0 * b1;
      acc[2] += a1 * b0;
      acc[3] += a1 * b1;
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  gemmTile(wid, lid);
  for (var i = 0u; i < 2u; i++) {
    for (var j = 0u; j < 2u; j++) {
      let m = wid.y * TILE + lid.y * 2u + i;
      let n = wid.x * TILE + lid.x * 2u + j;
      if (m < params.M && n < params.N) {
        let idx = cAddr(m, n);
        let v = acc[i * 2u + j];
        c[idx] = select(v, c[idx] + v, params.accumulate == 1u);
      }
    }
  }
}

// Same, plus bias[n] added to every row (Dense's x·W + b in one pass).
@compute @workgroup_size(16, 16)
fn matmulBias(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  gemmTile(wid, lid);
  for (var i = 0u; i < 2u; i++) {
    for (var j = 0u; j < 2u; j++) {
      let m = wid.y * TILE + lid.y * 2u + i;
      let n = wid.x * TILE + lid.x * 2u + j;
      if (m < params.M && n < params.N) {
        let idx = cAddr(m, n);
        let v = acc[i * 2u + j] + bias[params.biasOff + n];
        c[idx] = select(v, c[idx] + v, params.accumulate == 1u);
      }
    }
  }
}
