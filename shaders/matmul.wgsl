// matmul.wgsl — C (+)= op(A) · op(B) (+ bias), tiled GEMM with strided "row views".
//
// Logical shapes: op(A) is [M, K], op(B) is [K, N], C is [M, N]. With transA, A is stored [K, M];
// with transB, B is stored [N, K]. Every operand is addressed through a row view:
//   element (row r, col c) of the STORED matrix = off + (r / inner) * outer + (r % inner) * rowStride + c
// With inner >= rows this is a plain row-major matrix at offset `off`. The RNN layers use the
// two-level form to address "all batches, time steps 1..T-1" of a [B, T, H] sequence as one
// [B*(T-1), H] matrix without copying it (weight gradients summed over time as one GEMM).
//
// Entry points (src/ops/matmul.ts gemmEntry chooses): `matmul` — 32x32 outputs per 16x16
// workgroup (2x2 per invocation), K staged 16 at a time through workgroup memory; `matmulDirect`
// — a 4x4 block per invocation straight from global memory (no barriers); `matmulDirect8x8` — the
// same with 8x8 blocks (up to 64x64 per workgroup; both direct kernels read aligned, consecutive operand rows as vec4s through
// a4 / b4 under the pipeline constants A_VEC / B_VEC). Each has a `…Bias` twin that adds bias[n]
// to every row. `transpose` makes a transposed copy (BPTT reads Uᵀ so that an invocation's units
// are consecutive addresses) and `gatesByUnit` U with each unit's gates side by side (the forward).
//! op: src/ops/matmul.ts
//! reference: test/reference/ops.ts
//! test: test/unit/ops.test.ts

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

// Direct kernels: op(A)'s rows m0.. of every k are 4-aligned and consecutive in memory, read as
// vec4s from a4 (A_VEC); the same for op(B)'s columns n0.. (B_VEC). Pipeline constants, not
// params: SwiftShader runs both sides of a branch on a runtime value (the scalar loads as well).
override A_VEC: bool = false;
override B_VEC: bool = false;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;   // [N] at biasOff (matmulBias only)
// a and b again, as vec4s (the direct kernels, under A_VEC / B_VEC): CPU adapters load each element
// of a vector in one per-lane loop with one bounds check, instead of one loop per element.
@group(0) @binding(8) var<storage, read> a4: array<vec4f>;
@group(0) @binding(9) var<storage, read> b4: array<vec4f>;

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

// Invocations per side of a direct-4x4 workgroup (src/ops/matmul.ts): 8 (32x32 outputs), or 4
// (16x16) for small products on CPU adapters, so that they still span enough workgroups for
// every CPU thread.
override GW: u32 = 8u;

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
  // Uniforms read inside the loop are copied to locals first: CPU adapters re-load (and bounds-check)
  // a uniform on every access in a loop.
  let K = params.K;
  let aOff = params.aOff; let aOuter = params.aOuter; let aInner = params.aInner; let aStride = params.aRowStride;
  let bOff = params.bOff; let bOuter = params.bOuter; let bInner = params.bInner; let bStride = params.bRowStride;
  var aOuterIdx = 0u; var aInnerIdx = 0u; // row cursor of A over k (transA)
  var bOuterIdx = 0u; var bInnerIdx = 0u; // row cursor of B over k (!transB)
  for (var k = 0u; k < K; k++) {
    var ao: vec4u;
    if (aT) {
      ao = vec4u(aOff + aOuterIdx * aOuter + aInnerIdx * aStride) + mi;
      aInnerIdx++;
      if (aInnerIdx == aInner) { aInnerIdx = 0u; aOuterIdx++; }
    } else {
      ao = aRows + vec4u(k);
    }
    var bo: vec4u;
    if (bT) {
      bo = bRows + vec4u(k);
    } else {
      bo = vec4u(bOff + bOuterIdx * bOuter + bInnerIdx * bStride) + ni;
      bInnerIdx++;
      if (bInnerIdx == bInner) { bInnerIdx = 0u; bOuterIdx++; }
    }
    var bv: vec4f;
    if (B_VEC) { bv = b4[bo.x / 4u]; } else { bv = vec4f(b[bo.x], b[bo.y], b[bo.z], b[bo.w]); }
    var av: vec4f;
    if (A_VEC) { av = a4[ao.x / 4u]; } else { av = vec4f(a[ao.x], a[ao.y], a[ao.z], a[ao.w]); }
    accD[0] += av.x * bv;
    accD[1] += av.y * bv;
    accD[2] += av.z * bv;
    accD[3] += av.w * bv;
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

@compute @workgroup_size(GW, GW)
fn matmulDirect(@builtin(global_invocation_id) gid: vec3u) {
  directTile(gid);
  storeDirect(gid, vec4f(0.0));
}

@compute @workgroup_size(GW, GW)
fn matmulDirectBias(@builtin(global_invocation_id) gid: vec3u) {
  directTile(gid);
  let n = min(vec4u(gid.x * 4u) + vec4u(0u, 1u, 2u, 3u), vec4u(params.N - 1u)) + vec4u(params.biasOff);
  storeDirect(gid, vec4f(bias[n.x], bias[n.y], bias[n.z], bias[n.w]));
}

// ---------------------------------------------------------------- direct GEMM, 8x8 blocks
// The same as matmulDirect with an 8x8 block of C per invocation (64x64 per workgroup): per k, 8
// loads of A and 8 of B feed 64 multiply-adds instead of 8 feeding 16. On CPU adapters every
// per-invocation load is a gather (SwiftShader: 4 scalar loads with bounds checks), so this is
// ~1.9x faster there for the RNN weight gradients (dU of LSTM(128), B=64: 534 → 285 ms on
// SwiftShader); src/ops/matmul.ts picks it for large products on software adapters. The body is
// unrolled by hand (c{row}_{half}: row m0+row, columns n0+4*half..+3) so that every accumulator is
// a plain register: a dynamically indexed private array is memory on those compilers.

fn directTile8x8(gid: vec3u) -> array<vec4f, 16> {
  let m0 = gid.y * 8u;
  let n0 = gid.x * 8u;
  if (m0 >= params.M || n0 >= params.N) { return array<vec4f, 16>(); }
  let aT = params.transA == 1u;
  let bT = params.transB == 1u;
  let K = params.K;
  let aOff = params.aOff; let aOuter = params.aOuter; let aInner = params.aInner; let aStride = params.aRowStride;
  let bOff = params.bOff; let bOuter = params.bOuter; let bInner = params.bInner; let bStride = params.bRowStride;
  // rows / columns past the edge are clamped to valid addresses; their results are never stored
  let mi0 = min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.M - 1u));
  let mi1 = min(vec4u(m0) + vec4u(4u, 5u, 6u, 7u), vec4u(params.M - 1u));
  let ni0 = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(params.N - 1u));
  let ni1 = min(vec4u(n0) + vec4u(4u, 5u, 6u, 7u), vec4u(params.N - 1u));
  // fixed row addresses when k runs along a row (as in directTile)
  var aRows0 = vec4u(0u);
  var aRows1 = vec4u(0u);
  if (!aT) {
    aRows0 = vec4u(rowAddr(mi0.x, aOff, aInner, aOuter, aStride), rowAddr(mi0.y, aOff, aInner, aOuter, aStride), rowAddr(mi0.z, aOff, aInner, aOuter, aStride), rowAddr(mi0.w, aOff, aInner, aOuter, aStride));
    aRows1 = vec4u(rowAddr(mi1.x, aOff, aInner, aOuter, aStride), rowAddr(mi1.y, aOff, aInner, aOuter, aStride), rowAddr(mi1.z, aOff, aInner, aOuter, aStride), rowAddr(mi1.w, aOff, aInner, aOuter, aStride));
  }
  var bRows0 = vec4u(0u);
  var bRows1 = vec4u(0u);
  if (bT) {
    bRows0 = vec4u(rowAddr(ni0.x, bOff, bInner, bOuter, bStride), rowAddr(ni0.y, bOff, bInner, bOuter, bStride), rowAddr(ni0.z, bOff, bInner, bOuter, bStride), rowAddr(ni0.w, bOff, bInner, bOuter, bStride));
    bRows1 = vec4u(rowAddr(ni1.x, bOff, bInner, bOuter, bStride), rowAddr(ni1.y, bOff, bInner, bOuter, bStride), rowAddr(ni1.z, bOff, bInner, bOuter, bStride), rowAddr(ni1.w, bOff, bInner, bOuter, bStride));
  }
  var c0_0 = vec4f(0.0);
  var c0_1 = vec4f(0.0);
  var c1_0 = vec4f(0.0);
  var c1_1 = vec4f(0.0);
  var c2_0 = vec4f(0.0);
  var c2_1 = vec4f(0.0);
  var c3_0 = vec4f(0.0);
  var c3_1 = vec4f(0.0);
  var c4_0 = vec4f(0.0);
  var c4_1 = vec4f(0.0);
  var c5_0 = vec4f(0.0);
  var c5_1 = vec4f(0.0);
  var c6_0 = vec4f(0.0);
  var c6_1 = vec4f(0.0);
  var c7_0 = vec4f(0.0);
  var c7_1 = vec4f(0.0);
  var aOuterIdx = 0u; var aInnerIdx = 0u; // row cursor of A over k (transA)
  var bOuterIdx = 0u; var bInnerIdx = 0u; // row cursor of B over k (!transB)
  for (var k = 0u; k < K; k++) {
    var ao0: vec4u;
    var ao1: vec4u;
    if (aT) {
      let base = aOff + aOuterIdx * aOuter + aInnerIdx * aStride;
      ao0 = vec4u(base) + mi0;
      ao1 = vec4u(base) + mi1;
      aInnerIdx++;
      if (aInnerIdx == aInner) { aInnerIdx = 0u; aOuterIdx++; }
    } else {
      ao0 = aRows0 + vec4u(k);
      ao1 = aRows1 + vec4u(k);
    }
    var bo0: vec4u;
    var bo1: vec4u;
    if (bT) {
      bo0 = bRows0 + vec4u(k);
      bo1 = bRows1 + vec4u(k);
    } else {
      let base = bOff + bOuterIdx * bOuter + bInnerIdx * bStride;
      bo0 = vec4u(base) + ni0;
      bo1 = vec4u(base) + ni1;
      bInnerIdx++;
      if (bInnerIdx == bInner) { bInnerIdx = 0u; bOuterIdx++; }
    }
    var b0: vec4f;
    var b1: vec4f;
    if (B_VEC) {
      let i = bo0.x / 4u; // bo0.x: the row's start + n0
      b0 = b4[i];
      b1 = b4[i + 1u];
    } else {
      b0 = vec4f(b[bo0.x], b[bo0.y], b[bo0.z], b[bo0.w]);
      b1 = vec4f(b[bo1.x], b[bo1.y], b[bo1.z], b[bo1.w]);
    }
    var av0: vec4f;
    var av1: vec4f;
    if (A_VEC) {
      let i = ao0.x / 4u;
      av0 = a4[i];
      av1 = a4[i + 1u];
    } else {
      av0 = vec4f(a[ao0.x], a[ao0.y], a[ao0.z], a[ao0.w]);
      av1 = vec4f(a[ao1.x], a[ao1.y], a[ao1.z], a[ao1.w]);
    }
    c0_0 += av0.x * b0;
    c0_1 += av0.x * b1;
    c1_0 += av0.y * b0;
    c1_1 += av0.y * b1;
    c2_0 += av0.z * b0;
    c2_1 += av0.z * b1;
    c3_0 += av0.w * b0;
    c3_1 += av0.w * b1;
    c4_0 += av1.x * b0;
    c4_1 += av1.x * b1;
    c5_0 += av1.y * b0;
    c5_1 += av1.y * b1;
    c6_0 += av1.z * b0;
    c6_1 += av1.z * b1;
    c7_0 += av1.w * b0;
    c7_1 += av1.w * b1;
  }
  return array<vec4f, 16>(c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1, c6_0, c6_1, c7_0, c7_1);
}

// Component j (< 4) of v, without a dynamically indexed vector.
fn pickLane(v: vec4f, j: u32) -> f32 {
  return select(select(select(v.w, v.z, j == 2u), v.y, j == 1u), v.x, j == 0u);
}

fn storeDirect8x8(gid: vec3u, acc: array<vec4f, 16>, bias0: vec4f, bias1: vec4f) {
  for (var i = 0u; i < 8u; i++) {
    let m = gid.y * 8u + i;
    if (m >= params.M) { return; }
    for (var j = 0u; j < 8u; j++) {
      let n = gid.x * 8u + j;
      if (n < params.N) {
        let idx = cAddr(m, n);
        let v = pickLane(acc[2u * i + j / 4u], j % 4u) + pickLane(select(bias0, bias1, j >= 4u), j % 4u);
        c[idx] = select(v, c[idx] + v, params.accumulate == 1u);
      }
    }
  }
}

// Invocations per workgroup along N and M of the 8x8 kernels (src/ops/matmul.ts direct8x8Workgroup
// fits them to the product: full lanes, enough workgroups for every CPU thread).
override GX8: u32 = 8u;
override GY8: u32 = 8u;

@compute @workgroup_size(GX8, GY8)
fn matmulDirect8x8(@builtin(global_invocation_id) gid: vec3u) {
  storeDirect8x8(gid, directTile8x8(gid), vec4f(0.0), vec4f(0.0));
}

@compute @workgroup_size(GX8, GY8)
fn matmulDirect8x8Bias(@builtin(global_invocation_id) gid: vec3u) {
  let n = min(vec4u(gid.x * 8u) + vec4u(0u, 1u, 2u, 3u), vec4u(params.N - 1u)) + vec4u(params.biasOff);
  let n1 = min(vec4u(gid.x * 8u) + vec4u(4u, 5u, 6u, 7u), vec4u(params.N - 1u)) + vec4u(params.biasOff);
  storeDirect8x8(gid, directTile8x8(gid), vec4f(bias[n.x], bias[n.y], bias[n.z], bias[n.w]),
                 vec4f(bias[n1.x], bias[n1.y], bias[n1.z], bias[n1.w]));
}

// ---------------------------------------------------------------- layout copies (RNN weights)
struct TransposeParams {
  rows: u32,
  cols: u32,
  outStride: u32,  // transpose: floats per output row (>= rows; the padding is not written)
}

@group(0) @binding(5) var<uniform> tparams: TransposeParams;
@group(0) @binding(6) var<storage, read> transposeIn: array<f32>;         // [rows, cols]
@group(0) @binding(7) var<storage, read_write> transposeOut: array<f32>;  // [cols, outStride]

// transposeOut[c, r] = transposeIn[r, c]
@compute @workgroup_size(64)
fn transpose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= tparams.rows * tparams.cols) { return; }
  let r = i / tparams.cols;
  let c = i % tparams.cols;
  transposeOut[c * tparams.outStride + r] = transposeIn[i];
}

// The recurrent kernel by unit: transposeIn is U [rows, G*H] in gate blocks (cols = H units,
// outStride = G gate blocks, G <= 4); transposeOut[(r*H + j)*4 + g] = U[r, g*H + j], and 0 for
// g >= G: the gates of unit j at input r are one vec4 (the persistent forward kernels read them so).
@compute @workgroup_size(64)
fn gatesByUnit(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  let H = tparams.cols;
  if (i >= tparams.rows * H * 4u) { return; }
  let g = i % 4u;
  let j = (i / 4u) % H;
  let r = i / (4u * H);
  var v = 0.0;
  if (g < tparams.outStride) { v = transposeIn[r * tparams.outStride * H + g * H + j]; }
  transposeOut[i] = v;
}
