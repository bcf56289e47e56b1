// rnn-step.wgsl — the per-step recurrent kernels (timeLoop 'step'): ONE dispatch per processing
// step forward and TWO per step backward, each tiled over (batch rows × hidden units), for wide
// layers on real GPUs where a persistent grid of ceil(B/R) workgroups would leave most of the GPU
// idle. src/ops/rnn-step.ts records them; src/ops/rnn-tuning.ts chooses (docs/design.md §6.1).
// Every dispatch uses rnn-common's Params with tStart = s, tEnd = s + 1; the dispatch boundaries
// order the steps. Buffers, options and the cell maths are the persistent kernels', so either
// time loop's backward reads what either's forward wrote. Included by the SimpleRNN, LSTM and GRU
// (resetAfter) cell files, which define GATES, cellForward, cellBackward and the dG layout.
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//! include rnn-common.wgsl
//
// Forward (stepForward), grid (ceil(H / tile units), ceil(B / RNN_STEP_ROWS)): a workgroup of
// STEP_WG invocations computes RNN_STEP_ROWS = 8 rows × RNN_STEP_UNITS = 16 units × GATES gates of
// h_{s-1}·U (SimpleRNN, one gate: 4 × 16 units, 4 per vec4 lane). K = H is walked in chunks of
// STEP_K: (h_{s-1} ⊙ m) [8, 32] and the U columns [32, 16 × vec4] are staged in workgroup
// memory (1 KB + 8 KB); each invocation accumulates 2 rows × 1 unit × 4 lanes, then runs the
// cell's forward for its pairs. Sums run over k = 0..H-1 in order, as in the persistent kernels.
// Backward, step s (last step first):
//   (a) stepBackward, one invocation per (b, j) of B*H: cellBackward (dG, dcCarry, the part of
//       dh_{s-1} without a matmul: GRU's dh*z, or dh itself on a masked step).
//   (b) stepDh, grid (ceil(H / RNN_STEP_DH_UNITS), ceil(B / RNN_STEP_ROWS)): dh_{s-1} (+)=
//       m ⊙ dGrec_s·Uᵀ for the unmasked rows, 8 rows × 32 units a workgroup, the recurrent dG
//       columns in chunks of STEP_DH_K = 64 with dGrec [8, 64] and Uᵀ [64, 32] staged (2 KB +
//       8 KB); each invocation accumulates 2 rows × 2 units.

// Invocations per workgroup: forward, RNN_STEP_UNITS unit columns × RNN_STEP_ROWS/2 row pairs;
// stepDh, RNN_STEP_DH_UNITS/2 unit pairs × RNN_STEP_ROWS/2 row pairs (64 with the default tiles).
const STEP_WG = RNN_STEP_UNITS * (RNN_STEP_ROWS / 2u);
const_assert STEP_WG == (RNN_STEP_DH_UNITS / 2u) * (RNN_STEP_ROWS / 2u);
const STEP_K = 32u;                      // forward: K chunk
const STEP_DH_K = 64u;                   // backward (b): chunk of dG columns
const STEP_PACKED = GATES == 1u;         // SimpleRNN: the 4 lanes of a vec4 are 4 units, not 4 gates
const STEP_TILE_UNITS = select(RNN_STEP_UNITS, 4u * RNN_STEP_UNITS, STEP_PACKED);

var<workgroup> psH: array<f32, RNN_STEP_ROWS * STEP_K>;                // h_{s-1} ⊙ m (0 past B or H)
var<workgroup> psU: array<vec4f, STEP_K * RNN_STEP_UNITS>;             // the 4 lane columns of U per unit
var<workgroup> psDG: array<f32, RNN_STEP_ROWS * STEP_DH_K>;            // recurrent dG of step s
var<workgroup> psUT: array<f32, STEP_DH_K * RNN_STEP_DH_UNITS>;        // Uᵀ[c, k]

// Unit of lane l of tile column u: gate lanes hold gate block l of unit j0 + u; packed lanes
// (SimpleRNN) hold unit j0 + u + l*RNN_STEP_UNITS of its single gate.
fn stepUnit(j0: u32, u: u32, l: u32) -> u32 {
  return j0 + u + select(0u, l * RNN_STEP_UNITS, STEP_PACKED);
}

// U[k, column of lane l of tile column u], or 0 for a lane past the gates or a unit past H.
fn stepWeight(k: u32, j0: u32, u: u32, l: u32) -> f32 {
  let H = params.H;
  let j = stepUnit(j0, u, l);
  let gate = select(l, 0u, STEP_PACKED);
  if (j >= H || gate >= GATES) { return 0.0; }
  return recurrentKernel[k * GATES * H + gate * H + j];
}

// Σ_k (h_{s-1} ⊙ m)[b, k]·U[k, lane columns] of tile column lid % RNN_STEP_UNITS for the rows
// b = row0 + lid / RNN_STEP_UNITS (element 0) and b + RNN_STEP_ROWS/2 (element 1). Rows past B and
// units past H give 0. Call in uniform control flow (barriers).
fn stepRecTile(s: u32, row0: u32, j0: u32, lid: u32) -> array<vec4f, 2> {
  let H = params.H;
  let u = lid % RNN_STEP_UNITS;
  let r = lid / RNN_STEP_UNITS;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  for (var k0 = 0u; k0 < H; k0 += STEP_K) {
    for (var i = lid; i < RNN_STEP_ROWS * STEP_K; i += STEP_WG) {
      let b = row0 + i / STEP_K;
      let k = k0 + i % STEP_K;
      var v = 0.0;
      if (b < params.B && k < H) { v = prevH(b, s, k) * recMask(b, k); }
      psH[i] = v;
    }
    for (var i = lid; i < STEP_K * RNN_STEP_UNITS; i += STEP_WG) {
      let k = k0 + i / RNN_STEP_UNITS;
      let uu = i % RNN_STEP_UNITS;
      var w = vec4f(0.0);
      if (k < H) {
        w = vec4f(stepWeight(k, j0, uu, 0u), stepWeight(k, j0, uu, 1u), stepWeight(k, j0, uu, 2u), stepWeight(k, j0, uu, 3u));
      }
      psU[i] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < STEP_K; kk++) {
      let w = psU[kk * RNN_STEP_UNITS + u];
      a0 += psH[r * STEP_K + kk] * w;
      a1 += psH[(r + RNN_STEP_ROWS / 2u) * STEP_K + kk] * w;
    }
    workgroupBarrier();
  }
  return array<vec4f, 2>(a0, a1);
}

// The cell's forward for row b and tile column unit j (SimpleRNN: its 4 packed units).
fn stepCells(b: u32, s: u32, j: u32, rec: vec4f) {
  if (STEP_PACKED) {
    cellForward(b, s, j, vec4f(rec.x));
    cellForward(b, s, j + RNN_STEP_UNITS, vec4f(rec.y));
    cellForward(b, s, j + 2u * RNN_STEP_UNITS, vec4f(rec.z));
    cellForward(b, s, j + 3u * RNN_STEP_UNITS, vec4f(rec.w));
  } else {
    cellForward(b, s, j, rec);
  }
}

// Forward step s = tStart.
@compute @workgroup_size(STEP_WG)
fn stepForward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = params.tStart;
  let j0 = wid.x * STEP_TILE_UNITS;
  let row0 = wid.y * RNN_STEP_ROWS;
  let acc = stepRecTile(s, row0, j0, lid);
  let b = row0 + lid / RNN_STEP_UNITS;
  let j = j0 + lid % RNN_STEP_UNITS;
  stepCells(b, s, j, acc[0]);
  stepCells(b + RNN_STEP_ROWS / 2u, s, j, acc[1]);
}

// Backward (a), step s = tStart, one invocation per (b, j).
@compute @workgroup_size(STEP_WG)
fn stepBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let H = params.H;
  let i = flatIndex(gid, nwg, STEP_WG);
  if (i >= params.B * H) { return; }
  cellBackward(i / H, params.tStart, i % H);
}

// dhCarry[b, k] (= or, with `adds`, +=) m[b, k] * d for an unmasked row b < B and unit k < H.
fn stepDhStore(b: u32, s: u32, k: u32, d: f32, adds: bool) {
  let H = params.H;
  if (b >= params.B || k >= H || stepMasked(b, s)) { return; }
  let v = recMask(b, k) * d;
  if (adds) { dhCarry[b * H + k] += v; } else { dhCarry[b * H + k] = v; }
}

// Backward (b), step s = tStart: the tile of dh_{s-1} (+)= m ⊙ (dGrec_s·Uᵀ) of workgroup wid
// (units wid.x*RNN_STEP_DH_UNITS.., rows wid.y*RNN_STEP_ROWS..). The recurrent dG of row b is
// dG[rowOf(b, s)*DG_ROW*H + DG_REC_OFF*H + c], c < REC_GATES*H. Invocation lid: units
// k0 + 2*(lid % 16) + {0, 1} of rows row0 + lid/16 and row0 + lid/16 + 4.
@compute @workgroup_size(STEP_WG)
fn stepDh(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let s = params.tStart;
  let gh = REC_GATES * H;
  let stride = DG_ROW * H;
  let off = DG_REC_OFF * H;
  let k0 = wid.x * RNN_STEP_DH_UNITS;
  let row0 = wid.y * RNN_STEP_ROWS;
  let kq = (lid % (RNN_STEP_DH_UNITS / 2u)) * 2u;
  let r = lid / (RNN_STEP_DH_UNITS / 2u);
  var a0 = vec2f(0.0);
  var a1 = vec2f(0.0);
  for (var c0 = 0u; c0 < gh; c0 += STEP_DH_K) {
    for (var i = lid; i < RNN_STEP_ROWS * STEP_DH_K; i += STEP_WG) {
      let b = row0 + i / STEP_DH_K;
      let c = c0 + i % STEP_DH_K;
      var v = 0.0;
      if (b < params.B && c < gh) { v = dG[rowOf(b, s) * stride + off + c]; }
      psDG[i] = v;
    }
    for (var i = lid; i < STEP_DH_K * RNN_STEP_DH_UNITS; i += STEP_WG) {
      let c = c0 + i / RNN_STEP_DH_UNITS;
      let k = k0 + i % RNN_STEP_DH_UNITS;
      var v = 0.0;
      if (c < gh && k < H) { v = lane(recurrentKernelT[c * utRowVec4s() + k / 4u], k % 4u); }
      psUT[i] = v;
    }
    workgroupBarrier();
    for (var cc = 0u; cc < STEP_DH_K; cc++) {
      let w = vec2f(psUT[cc * RNN_STEP_DH_UNITS + kq], psUT[cc * RNN_STEP_DH_UNITS + kq + 1u]);
      a0 += psDG[r * STEP_DH_K + cc] * w;
      a1 += psDG[(r + RNN_STEP_ROWS / 2u) * STEP_DH_K + cc] * w;
    }
    workgroupBarrier();
  }
  let b = row0 + r;
  let k = k0 + kq;
  stepDhStore(b, s, k, a0.x, DH_ADDS);
  stepDhStore(b, s, k + 1u, a0.y, DH_ADDS);
  stepDhStore(b + RNN_STEP_ROWS / 2u, s, k, a1.x, DH_ADDS);
  stepDhStore(b + RNN_STEP_ROWS / 2u, s, k + 1u, a1.y, DH_ADDS);
}
