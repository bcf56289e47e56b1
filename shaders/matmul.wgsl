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
  // NOTE: plain matrices skip the division (a uniform branch): integer division has no SIMD
  // form on CPUs, so software adapters pay for it on every load.
  if (inner == 0xffffffffu) { return off + r * rowStride; }
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

// ---------------------------------------------------------------- direct (barrier-free) GEMM
// Each invocation computes a 4x4 block of C straight from global memory: no workgroup memory,
// no barriers. Faster than the tiled kernel wherever barriers are expensive (CPU/software
// adapters run each invocation group as a coroutine) and for the skinny shapes of small RNNs;
// src/ops/matmul.ts chooses between the two.

var<private> accD: array<vec4f, 4>; // rows m0..m0+3, each a vec4 over columns n0..n0+3

fn directTile(gid: vec3u) {
  accD = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= params.M || n0 >= params.N) { return; }
  // Rows/columns past the edge are clamped to valid addresses; their results are never stored.
  let mi = min(vec4u(m0, m0 + 1u, m0 + 2u, m0 + 3u), vec4u(params.M - 1u));
  let ni = min(vec4u(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4u(params.N - 1u));
  let aT = params.transA == 1u;
  let bT = params.transB == 1u;
  // When k indexes the stored operand's COLUMNS, each lane's row address is fixed (computed once,
  // divisions included). When k indexes its ROWS (transA, or B not transposed), the row view
  // (r / inner, r % inner) is advanced incrementally: no integer division inside the loop (CPU
  // adapters have no SIMD division, and a view's division per load made weight-gradient GEMMs
  // 10x slower there).
  var aRows = vec4u(0u);
  if (!aT) {
    aRows = vec4u(rowAddr(mi.x, params.aOff, params.aInner, params.aOuter, params.aRowStride),
                  rowAddr(mi.y, params.aOff, params.aInner, params.aOuter, params.aRowStride),
                  rowAddr(mi.z, params.aOff, params.aInner, params.aOuter, params.aRowStride),
                  rowAddr(mi.w, params.aOff, params.aInner, params.aOuter, params.aRowStride));
  }
  var bRows = vec4u(0u);
  if (bT) {
    bRows = vec4u(rowAddr(ni.x, params.bOff, params.bInner, params.bOuter, params.bRowStride),
                  rowAddr(ni.y, params.bOff, params.bInner, params.bOuter, params.bRowStride),
                  rowAddr(ni.z, params.bOff, params.bInner, params.bOuter, params.bRowStride),
                  rowAddr(ni.w, params.bOff, params.bInner, params.bOuter, params.bRowStride));
  }
  var aOuterIdx = 0u; var aInnerIdx = 0u; // row cursor of A over k (transA)
  var bOuterIdx = 0u; var bInnerIdx = 0u; // row cursor of B over k (!transB)
  for (var k = 0u; k < params.K; k++) {
    var ao: vec4u;
    if (aT) {
      ao = vec4u(params.aOff + aOuterIdx * params.aOuter + aInnerIdx * params.aRowStride) + mi;
      aInnerIdx++;
      if (aInnerIdx == params.aInner) { aInnerIdx = 0u; aOuterIdx++; }
    } else {
      ao = aRows + vec4u(k);
    }
    var bo: vec4u;
    if (bT) {
      bo = bRows + vec4u(k);
    } else {
      bo = vec4u(params.bOff + bOuterIdx * params.bOuter + bInnerIdx * params.bRowStride) + ni;
      bInnerIdx++;
      if (bInnerIdx == params.bInner) { bInnerIdx = 0u; bOuterIdx++; }
    }
    let bv = vec4f(b[bo.x], b[bo.y], b[bo.z], b[bo.w]);
    accD[0] += a[ao.x] * bv;
    accD[1] += a[ao.y] * bv;
    accD[2] += a[ao.z] * bv;
    accD[3] += a[ao.w] * bv;
  }
}

fn storeDirect(gid: vec3u, biasRow: vec4f) {
  for (var i = 0u; i < 4u; i++) {
    let m = gid.y * 4u + i;
    if (m >= params.M) { return; }
    for (var j = 0u; j < 4u; j++) {
      let n = gid.x * 4u + j;
      if (n < params.N) {
        let idx = cAddr(m, n);
        let v = accD[i][j] + biasRow[j];
        c[idx] = select(v, c[idx] + v, params.accumulate == 1u);
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn matmulDirect(@builtin(global_invocation_id) gid: vec3u) {
  directTile(gid);
  storeDirect(gid, vec4f(0.0));
}

@compute @workgroup_size(8, 8)
fn matmulDirectBias(@builtin(global_invocation_id) gid: vec3u) {
  directTile(gid);
  let n = min(vec4u(gid.x * 4u) + vec4u(0u, 1u, 2u, 3u), vec4u(params.N - 1u)) + vec4u(params.biasOff);
  storeDirect(gid, vec4f(bias[n.x], bias[n.y], bias[n.z], bias[n.w]));
}
