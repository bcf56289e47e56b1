// rnn.wgsl — persistent recurrent kernels for SimpleRNN, LSTM and GRU: the time loop of the
// forward pass and of backpropagation through time (BPTT). The sequence-parallel GEMMs (input
// projection, weight gradients, dX) are matmul.wgsl's; see src/ops/rnn.ts for the whole op.
//
// Layouts (row-major f32, batch-major sequences; G gate blocks, GH = G*H):
//   recurrentKernel U  [H, GH]       column g*H + j is unit j of gate block g
//                                    (SimpleRNN: 1 block; LSTM: i, f, c, o; GRU: z, r, h)
//   gates              [B, T, GH]    on entry to a forward kernel: the input projection
//                                    x_t·K + input bias; overwritten with the ACTIVATED gates
//                                    (what backward reads). SimpleRNN has no gates buffer: its
//                                    projection is written into hSeq and overwritten with h_t.
//   hSeq               [B, T, H]     h_t
//   cSeq               [B, T, H]     LSTM c_t
//   recH               [B, T, H]     GRU resetAfter: rh = h_{t-1}·U_h + b_rec_h (multiplied by r)
//   rhPrev             [B, T, H]     GRU resetAfter=false: r_t * h_{t-1} (the input of U_h)
//   aux               [·]           h0 [B, H], c0 [B, H], the recurrent-dropout mask [B, H] and the
//                                   sequence mask [B, T] packed into ONE read-only buffer at the
//                                   offsets h0Off, c0Off, recMaskOff, seqMaskOff (each present only
//                                   when its has* flag is 1): every entry point binds at most 8
//                                   storage buffers and LSTM needs 7 others.
//   hLast, cLast, dhCarry, dcCarry   [B, H]
//   dHSeq              [B, T, H]     gradient arriving on hSeq (hasDHSeq = 0: none)
//   dG                 [B, T, GH]    pre-activation gradients (= gradient of the x_t·K columns
//                                    and of the h_{t-1}·U columns);
//                      [B, T, 2, GH] GRU resetAfter: [input part | recurrent part] per row, which
//                                    also matches the [2, 3H] bias layout for the bias gradient.
//
// Work split: workgroup w owns the batch rows [w*R, (w+1)*R) (R = rowsPerGroup, chosen by the
// host so that R*H is about the workgroup size) and loops over the steps tStart..tEnd-1 of one
// chunk (the host splits T into chunks, one dispatch each, to stay clear of GPU watchdogs). Its
// 64 invocations stride over the R*H (row, unit) pairs. A batch row depends only on itself, so
// workgroups never wait for each other; within a workgroup, values written to global memory in
// one phase are read by other invocations after `storageBarrier(); workgroupBarrier();`. All
// barriers sit in the (uniform) time loop, outside the per-pair loops.
//
// Maths (ra = recurrentActivation, act = activation; derivatives from the saved OUTPUTS):
//   SimpleRNN: h = act(x·K + b + h_{t-1}·U)
//   LSTM:      i,f,o = ra(.), g = act(.), c = f*c_{t-1} + i*g, h = o*act(c)
//   GRU after: z = ra(xz + rz), r = ra(xr + rr), hh = act(xh + r*rh), h = z*h_{t-1} + (1-z)*hh
//              with [rz, rr, rh] = h_{t-1}·U + b_rec
//   GRU before: z, r as above (no recurrent bias), hh = act(xh + (r*h_{t-1})·U_h)
//
// Options (all flags in the params, so one pipeline serves every combination):
//   reverse     processing step s runs on time index T-1-s (Bidirectional's backward layer):
//               h_{s-1} is stored at time T-s, outputs land at their own time index, so hSeq is
//               already in input order; hLast is the state after the last processed step.
//   recMask     recurrent dropout (Keras): h_{t-1} ⊙ m (m [B, H], fixed over time) wherever
//               h_{t-1} enters a recurrent matmul (h·U; GRU resetBefore: (r*(h⊙m))·U_h); GRU's
//               z*h_{t-1} mix and LSTM's c use the undropped state.
//   seqMask     Keras masking: a step with seqMask[b, t] == 0 carries the state through unchanged
//               (h_t = h_{t-1}, c_t = c_{t-1}; its hSeq row is that carried state, i.e. the
//               previous output) and receives / passes no gradient except dh_t → dh_{t-1}.

struct Params {
  B: u32,
  T: u32,
  H: u32,
  rowsPerGroup: u32,  // R: batch rows owned by one workgroup
  tStart: u32,        // this dispatch's chunk of processing steps: [tStart, tEnd)
  tEnd: u32,
  h0Off: u32,         // offsets into aux (see the layouts above)
  c0Off: u32,
  recMaskOff: u32,
  seqMaskOff: u32,
}

// Per-layer switches, fixed when the pipeline is built (src/ops/rnn.ts recurrentConstants): the
// shader compiler removes the branches not taken. That matters on CPU adapters: SwiftShader runs
// both sides of every `if` (masked) when the condition is not a constant, so the unused options'
// code cost as much as the used path (specialising halved the LSTM(128) forward kernel there).
override ACT: u32;             // activation code (prelude.wgsl)
override REC_ACT: u32;         // recurrent activation code
override HAS_H0: bool;         // false: h0 is zeros (nothing at aux[h0Off])
override HAS_C0: bool;         // false: c0 is zeros (LSTM)
override HAS_REC_BIAS: bool;   // GRU resetAfter: true when bias row 1 (recurrent bias) exists
override HAS_DH_SEQ: bool;     // backward: true when hSeq received a gradient
override REVERSE: bool;        // walk time backwards (step s is time T-1-s)
override HAS_REC_MASK: bool;   // recurrent-dropout mask at aux[recMaskOff + b*H + k]
override HAS_SEQ_MASK: bool;   // sequence mask at aux[seqMaskOff + b*T + t]
override STAGED: bool;         // forward: h_{s-1} of the rows fits hSh (8-row blocks), else the per-row path

// Invocations per workgroup of the persistent kernels (recurrentConstants in src/ops/rnn.ts: 64,
// or fewer for narrow layers on CPU adapters, where a workgroup runs on one thread and every
// idle invocation group still walks each loop body once).
override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> recurrentKernel: array<f32>;  // [H, GH]
@group(0) @binding(2) var<storage, read> aux: array<f32>;              // h0 | c0 | recMask | seqMask
@group(0) @binding(4) var<storage, read> bias: array<f32>;             // [2, 3H] GRU resetAfter (row 1 read)
@group(0) @binding(5) var<storage, read_write> gates: array<f32>;      // [B, T, GH]
@group(0) @binding(6) var<storage, read_write> hSeq: array<f32>;       // [B, T, H]
@group(0) @binding(7) var<storage, read_write> cSeq: array<f32>;       // [B, T, H]
@group(0) @binding(8) var<storage, read_write> recH: array<f32>;       // [B, T, H]
@group(0) @binding(9) var<storage, read_write> rhPrev: array<f32>;     // [B, T, H]
@group(0) @binding(10) var<storage, read_write> hLast: array<f32>;     // [B, H]
@group(0) @binding(11) var<storage, read_write> cLast: array<f32>;     // [B, H]
@group(0) @binding(12) var<storage, read> dHSeq: array<f32>;           // [B, T, H]
@group(0) @binding(13) var<storage, read_write> dG: array<f32>;        // [B, T, GH] or [B, T, 2, GH]
@group(0) @binding(14) var<storage, read_write> dhCarry: array<f32>;   // [B, H]
@group(0) @binding(15) var<storage, read_write> dcCarry: array<f32>;   // [B, H]
@group(0) @binding(37) var<storage, read> recurrentKernelT: array<f32>; // [GH, H]: Uᵀ, read by BPTT

// First batch row owned by this workgroup (dispatches may be split over y, see Kernel.groupsFor).
fn firstRow(wid: vec3u, nwg: vec3u) -> u32 {
  return (wid.y * nwg.x + wid.x) * params.rowsPerGroup;
}

// Row index b*T + t of processing step s of batch row b (t = s, or T-1-s when reversed).
fn rowOf(b: u32, s: u32) -> u32 {
  return b * params.T + select(s, params.T - 1u - s, REVERSE);
}

// Keras masking: true when step s of row b is masked (skipped, state carried).
fn stepMasked(b: u32, s: u32) -> bool {
  if (!HAS_SEQ_MASK) { return false; }
  return aux[params.seqMaskOff + rowOf(b, s)] == 0.0;
}

// Recurrent-dropout factor of unit k of row b (1 without recurrent dropout).
fn recMask(b: u32, k: u32) -> f32 {
  if (!HAS_REC_MASK) { return 1.0; }
  return aux[params.recMaskOff + b * params.H + k];
}

// h_{s-1}[b, k] (undropped): h0 (or zeros) at s = 0, else the hSeq row of step s-1.
fn prevH(b: u32, s: u32, k: u32) -> f32 {
  if (s == 0u) {
    if (HAS_H0) { return aux[params.h0Off + b * params.H + k]; }
    return 0.0;
  }
  return hSeq[rowOf(b, s - 1u) * params.H + k];
}

// c_{s-1}[b, k] (LSTM): c0 (or zeros) at s = 0, else the cSeq row of step s-1.
fn prevC(b: u32, s: u32, k: u32) -> f32 {
  if (s == 0u) {
    if (HAS_C0) { return aux[params.c0Off + b * params.H + k]; }
    return 0.0;
  }
  return cSeq[rowOf(b, s - 1u) * params.H + k];
}

// Lane g < nGates: Σ_k (h_{s-1} ⊙ recMask)[b, k] · U[k, g*H + j]  (the recurrent pre-activation of
// unit j); lanes >= nGates are 0. NOTE: the gate columns are gathered into one vec4 per k, with no
// dynamically indexed vector lanes and no branch inside the k loops (the mask / no-mask choice is
// a uniform branch around them): both compile to slow code (private-memory spills) on some
// drivers, lavapipe included.
fn recurrentDots(b: u32, s: u32, j: u32, nGates: u32, gh: u32) -> vec4f {
  let H = params.H;
  var acc = vec4f(0.0);
  // lanes >= nGates re-read column j and are masked out at the end
  let o = vec4u(0u, select(0u, H, nGates > 1u), select(0u, 2u * H, nGates > 2u), select(0u, 3u * H, nGates > 3u));
  let mb = params.recMaskOff + b * H;
  let masked = HAS_REC_MASK;
  if (s == 0u) {
    if (!HAS_H0) { return acc; }
    let hb = params.h0Off + b * H;
    if (masked) {
      for (var k = 0u; k < H; k++) {
        let u = k * gh + j;
        acc += aux[hb + k] * aux[mb + k] * vec4f(recurrentKernel[u + o.x], recurrentKernel[u + o.y], recurrentKernel[u + o.z], recurrentKernel[u + o.w]);
      }
    } else {
      for (var k = 0u; k < H; k++) {
        let u = k * gh + j;
        acc += aux[hb + k] * vec4f(recurrentKernel[u + o.x], recurrentKernel[u + o.y], recurrentKernel[u + o.z], recurrentKernel[u + o.w]);
      }
    }
  } else {
    let hb = rowOf(b, s - 1u) * H;
    if (masked) {
      for (var k = 0u; k < H; k++) {
        let u = k * gh + j;
        acc += hSeq[hb + k] * aux[mb + k] * vec4f(recurrentKernel[u + o.x], recurrentKernel[u + o.y], recurrentKernel[u + o.z], recurrentKernel[u + o.w]);
      }
    } else {
      for (var k = 0u; k < H; k++) {
        let u = k * gh + j;
        acc += hSeq[hb + k] * vec4f(recurrentKernel[u + o.x], recurrentKernel[u + o.y], recurrentKernel[u + o.z], recurrentKernel[u + o.w]);
      }
    }
  }
  return select(vec4f(0.0), acc, vec4<bool>(true, nGates > 1u, nGates > 2u, nGates > 3u));
}

// dL/dh_s[b, j] from the step processed after it (carried) plus what hSeq itself received.
fn incomingDh(b: u32, s: u32, j: u32) -> f32 {
  var dh = dhCarry[b * params.H + j];
  if (HAS_DH_SEQ) { dh += dHSeq[rowOf(b, s) * params.H + j]; }
  return dh;
}

// ---------------------------------------------------------------- row blocking
// Each recurrent matmul is blocked so that one load feeds several multiply-adds. Forward: RB = 8
// batch rows × 4 units per invocation (per k: 8 h loads and 16 U loads feed 128 multiply-adds;
// on SwiftShader 1.25x faster than 8 × 2 and 1.7x faster than 8 × 1 at LSTM(128)), the
// rows' (h_{s-1} ⊙ recMask) staged in workgroup memory (when R, padded to a multiple of RB, times
// H fits it; the host sizes R so that it does for H <= 512); otherwise the per-row path
// (recurrentDots) is used. The backward matmul dG·Uᵀ reads the rows' dG straight from storage and
// always blocks (BRB × BKB below). On CPU adapters every per-invocation load is a gather, so the
// loads per multiply-add set the speed: U was re-read from memory for every row before blocking.

const RB = 8u;
var<workgroup> hSh: array<f32, 4096>; // [roundUp(R, RB), H]: h_{s-1} ⊙ recMask of the workgroup's rows (0 past B)

fn paddedRows() -> u32 {
  return ((params.rowsPerGroup + RB - 1u) / RB) * RB;
}

// Fills hSh for processing step s (call in uniform control flow, then workgroupBarrier()).
fn stageHPrev(row0: u32, s: u32, lid: u32) {
  let n = paddedRows() * params.H;
  for (var i = lid; i < n; i += WG) {
    let r = i / params.H;
    let k = i % params.H;
    let b = row0 + r;
    var v = 0.0;
    if (r < params.rowsPerGroup && b < params.B) { v = prevH(b, s, k) * recMask(b, k); }
    hSh[i] = v;
  }
}

// recurrentDots for the 8 staged rows rb..rb+7 and the 4 units j0..j0+3 at once (lanes >= nGates
// are 0): element 4*q + u is row rb+q, unit j0+u. Units past H re-read H-1 (the caller skips them).
fn recurrentDotsBlock(rb: u32, j0: u32, nGates: u32, gh: u32) -> array<vec4f, 32> {
  let H = params.H;
  let o = vec4u(0u, select(0u, H, nGates > 1u), select(0u, 2u * H, nGates > 2u), select(0u, 3u * H, nGates > 3u));
  let h0 = rb * H;
  let ju = min(vec4u(j0) + vec4u(0u, 1u, 2u, 3u), vec4u(H - 1u));
  var a00 = vec4f(0.0);
  var a01 = vec4f(0.0);
  var a02 = vec4f(0.0);
  var a03 = vec4f(0.0);
  var a10 = vec4f(0.0);
  var a11 = vec4f(0.0);
  var a12 = vec4f(0.0);
  var a13 = vec4f(0.0);
  var a20 = vec4f(0.0);
  var a21 = vec4f(0.0);
  var a22 = vec4f(0.0);
  var a23 = vec4f(0.0);
  var a30 = vec4f(0.0);
  var a31 = vec4f(0.0);
  var a32 = vec4f(0.0);
  var a33 = vec4f(0.0);
  var a40 = vec4f(0.0);
  var a41 = vec4f(0.0);
  var a42 = vec4f(0.0);
  var a43 = vec4f(0.0);
  var a50 = vec4f(0.0);
  var a51 = vec4f(0.0);
  var a52 = vec4f(0.0);
  var a53 = vec4f(0.0);
  var a60 = vec4f(0.0);
  var a61 = vec4f(0.0);
  var a62 = vec4f(0.0);
  var a63 = vec4f(0.0);
  var a70 = vec4f(0.0);
  var a71 = vec4f(0.0);
  var a72 = vec4f(0.0);
  var a73 = vec4f(0.0);
  for (var k = 0u; k < H; k++) {
    let ub = vec4u(k * gh) + ju;
    let u0 = vec4f(recurrentKernel[ub.x + o.x], recurrentKernel[ub.x + o.y], recurrentKernel[ub.x + o.z], recurrentKernel[ub.x + o.w]);
    let u1 = vec4f(recurrentKernel[ub.y + o.x], recurrentKernel[ub.y + o.y], recurrentKernel[ub.y + o.z], recurrentKernel[ub.y + o.w]);
    let u2 = vec4f(recurrentKernel[ub.z + o.x], recurrentKernel[ub.z + o.y], recurrentKernel[ub.z + o.z], recurrentKernel[ub.z + o.w]);
    let u3 = vec4f(recurrentKernel[ub.w + o.x], recurrentKernel[ub.w + o.y], recurrentKernel[ub.w + o.z], recurrentKernel[ub.w + o.w]);
    let hk = h0 + k;
    let x0 = hSh[hk];
    a00 += x0 * u0;
    a01 += x0 * u1;
    a02 += x0 * u2;
    a03 += x0 * u3;
    let x1 = hSh[hk + H];
    a10 += x1 * u0;
    a11 += x1 * u1;
    a12 += x1 * u2;
    a13 += x1 * u3;
    let x2 = hSh[hk + 2u * H];
    a20 += x2 * u0;
    a21 += x2 * u1;
    a22 += x2 * u2;
    a23 += x2 * u3;
    let x3 = hSh[hk + 3u * H];
    a30 += x3 * u0;
    a31 += x3 * u1;
    a32 += x3 * u2;
    a33 += x3 * u3;
    let x4 = hSh[hk + 4u * H];
    a40 += x4 * u0;
    a41 += x4 * u1;
    a42 += x4 * u2;
    a43 += x4 * u3;
    let x5 = hSh[hk + 5u * H];
    a50 += x5 * u0;
    a51 += x5 * u1;
    a52 += x5 * u2;
    a53 += x5 * u3;
    let x6 = hSh[hk + 6u * H];
    a60 += x6 * u0;
    a61 += x6 * u1;
    a62 += x6 * u2;
    a63 += x6 * u3;
    let x7 = hSh[hk + 7u * H];
    a70 += x7 * u0;
    a71 += x7 * u1;
    a72 += x7 * u2;
    a73 += x7 * u3;
  }
  let m = select(vec4f(0.0), vec4f(1.0), vec4<bool>(true, nGates > 1u, nGates > 2u, nGates > 3u));
  return array<vec4f, 32>(a00 * m, a01 * m, a02 * m, a03 * m, a10 * m, a11 * m, a12 * m, a13 * m, a20 * m, a21 * m, a22 * m, a23 * m, a30 * m, a31 * m, a32 * m, a33 * m, a40 * m, a41 * m, a42 * m, a43 * m, a50 * m, a51 * m, a52 * m, a53 * m, a60 * m, a61 * m, a62 * m, a63 * m, a70 * m, a71 * m, a72 * m, a73 * m);
}

// BPTT's dG·Uᵀ is blocked BRB = 8 rows × BKB = 8 units per invocation: per column c, 8 dG loads
// and 8 Uᵀ loads feed 64 multiply-adds. On CPU adapters every per-invocation load is a gather
// (SwiftShader: 4 scalar loads with bounds checks), so loads per multiply-add set the speed (8 × 8
// measured 1.25x faster than 8 × 4 on SwiftShader and lavapipe at LSTM(128), 8 × 4 2.7x faster
// than 4 × 1); the rows stay the uniform outer loop so that dG reads are broadcasts where the
// compiler sees it (lavapipe). Invocations with no units left idle (cheap on CPUs: whole SIMD
// groups skip).
const BRB = 8u;
const BKB = 8u;

fn bwdRowBlocks() -> u32 {
  return (params.rowsPerGroup + BRB - 1u) / BRB;
}

// Component i (< 4) of v, without a dynamically indexed vector (slow code on some drivers).
fn lane(v: vec4f, i: u32) -> f32 {
  return select(select(select(v.w, v.z, i == 2u), v.y, i == 1u), v.x, i == 0u);
}

// Σ_{c in [colStart, colEnd)} dG[base_q + c] · U[k0 + i, c] for the 8 rows q whose dG offsets are
// ba (q = 0..3) and bb (q = 4..7) and the 8 units k0..k0+7 (clamped to H-1; the caller discards
// those past H): element 2*q + i/4 of the result holds units 4*(i/4)..+3 of row q. U is read
// transposed (Uᵀ[c, k], made once per step by transposeU).
fn dGDotUBlock(ba: vec4u, bb: vec4u, k0: u32, colStart: u32, colEnd: u32) -> array<vec4f, 16> {
  let H = params.H;
  let ki = min(vec4u(k0) + vec4u(0u, 1u, 2u, 3u), vec4u(H - 1u));
  let kj = min(vec4u(k0) + vec4u(4u, 5u, 6u, 7u), vec4u(H - 1u));
  var a00 = vec4f(0.0);
  var a01 = vec4f(0.0);
  var a10 = vec4f(0.0);
  var a11 = vec4f(0.0);
  var a20 = vec4f(0.0);
  var a21 = vec4f(0.0);
  var a30 = vec4f(0.0);
  var a31 = vec4f(0.0);
  var a40 = vec4f(0.0);
  var a41 = vec4f(0.0);
  var a50 = vec4f(0.0);
  var a51 = vec4f(0.0);
  var a60 = vec4f(0.0);
  var a61 = vec4f(0.0);
  var a70 = vec4f(0.0);
  var a71 = vec4f(0.0);
  for (var c = colStart; c < colEnd; c++) {
    let ub = c * H;
    let u = vec4f(recurrentKernelT[ub + ki.x], recurrentKernelT[ub + ki.y], recurrentKernelT[ub + ki.z], recurrentKernelT[ub + ki.w]);
    let v = vec4f(recurrentKernelT[ub + kj.x], recurrentKernelT[ub + kj.y], recurrentKernelT[ub + kj.z], recurrentKernelT[ub + kj.w]);
    let d0 = dG[ba.x + c];
    a00 += d0 * u;
    a01 += d0 * v;
    let d1 = dG[ba.y + c];
    a10 += d1 * u;
    a11 += d1 * v;
    let d2 = dG[ba.z + c];
    a20 += d2 * u;
    a21 += d2 * v;
    let d3 = dG[ba.w + c];
    a30 += d3 * u;
    a31 += d3 * v;
    let d4 = dG[bb.x + c];
    a40 += d4 * u;
    a41 += d4 * v;
    let d5 = dG[bb.y + c];
    a50 += d5 * u;
    a51 += d5 * v;
    let d6 = dG[bb.z + c];
    a60 += d6 * u;
    a61 += d6 * v;
    let d7 = dG[bb.w + c];
    a70 += d7 * u;
    a71 += d7 * v;
  }
  return array<vec4f, 16>(a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71);
}

// Storage offsets rowOf(b, s) * stride + off of the 4 rows row0+rb.. (rows past R or B are
// clamped to a valid row; their results are discarded by the caller).
fn blockBases(row0: u32, rb: u32, s: u32, stride: u32, off: u32) -> vec4u {
  let last = min(row0 + params.rowsPerGroup, params.B) - 1u;
  return vec4u(rowOf(min(row0 + rb, last), s), rowOf(min(row0 + rb + 1u, last), s),
               rowOf(min(row0 + rb + 2u, last), s), rowOf(min(row0 + rb + 3u, last), s)) * stride + vec4u(off);
}

// ---------------------------------------------------------------- forward

// The cells (shared by the persistent kernels and the per-step ones at the end of the file).

// SimpleRNN cell, forward, for (b, j) at step s (nothing past B or H): hSeq holds x_t·K + b on
// entry, h_t = act(that + rec) replaces it.
fn simpleCell(b: u32, s: u32, j: u32, rec: f32) {
  let H = params.H;
  if (b >= params.B || j >= H) { return; }
  let at = rowOf(b, s) * H + j;
  var h: f32;
  if (stepMasked(b, s)) {
    h = prevH(b, s, j);
  } else {
    h = activate(ACT, hSeq[at] + rec);
  }
  hSeq[at] = h;
  if (s + 1u == params.T) { hLast[b * H + j] = h; }
}

// LSTM cell, forward: rec = the recurrent pre-activations of i, f, c, o; gates (x_t·K + b on
// entry) are replaced by the activated i, f, g, o (zeros on a masked step).
fn lstmCell(b: u32, s: u32, j: u32, rec: vec4f) {
  let H = params.H;
  if (b >= params.B || j >= H) { return; }
  let GH = 4u * H;
  let row = rowOf(b, s);
  let base = row * GH + j;
  var c: f32;
  var h: f32;
  var act4 = vec4f(0.0);
  if (stepMasked(b, s)) {
    c = prevC(b, s, j);
    h = prevH(b, s, j);
  } else {
    let pre = vec4f(gates[base], gates[base + H], gates[base + 2u * H], gates[base + 3u * H]) + rec;
    act4 = vec4f(activate(REC_ACT, pre.x), activate(REC_ACT, pre.y),
                 activate(ACT, pre.z), activate(REC_ACT, pre.w));
    c = act4.y * prevC(b, s, j) + act4.x * act4.z;
    h = act4.w * activate(ACT, c);
  }
  gates[base] = act4.x;
  gates[base + H] = act4.y;
  gates[base + 2u * H] = act4.z;
  gates[base + 3u * H] = act4.w;
  let at = row * H + j;
  cSeq[at] = c;
  hSeq[at] = h;
  if (s + 1u == params.T) {
    hLast[b * H + j] = h;
    cLast[b * H + j] = c;
  }
}

// GRU cell (resetAfter), forward: recIn = [rz, rr, rh, 0] without the recurrent bias; gates
// (x_t·K + b[0] on entry) are replaced by z, r, hh.
fn gruCell(b: u32, s: u32, j: u32, recIn: vec4f) {
  let H = params.H;
  if (b >= params.B || j >= H) { return; }
  let GH = 3u * H;
  let row = rowOf(b, s);
  let base = row * GH + j;
  let hp = prevH(b, s, j);
  var rec = recIn;
  var g3 = vec3f(0.0);
  var rh = 0.0;
  var h = hp;
  if (!stepMasked(b, s)) {
    if (HAS_REC_BIAS) {
      rec += vec4f(bias[GH + j], bias[GH + H + j], bias[GH + 2u * H + j], 0.0);
    }
    let z = activate(REC_ACT, gates[base] + rec.x);
    let r = activate(REC_ACT, gates[base + H] + rec.y);
    let hh = activate(ACT, gates[base + 2u * H] + r * rec.z);
    g3 = vec3f(z, r, hh);
    rh = rec.z;
    h = z * hp + (1.0 - z) * hh;
  }
  gates[base] = g3.x;
  gates[base + H] = g3.y;
  gates[base + 2u * H] = g3.z;
  let at = row * H + j;
  recH[at] = rh;
  hSeq[at] = h;
  if (s + 1u == params.T) { hLast[b * H + j] = h; }
}

// The forward kernels' work split for one step: task p of row block ob. Staged (CPU adapters):
// the 8 rows of block ob × the 4 units 4p..4p+3, the recurrent dots of all 32 pairs at once;
// otherwise (GPUs, or too wide to stage): one (row, unit) pair p of the workgroup's R*H, its dots
// in recs[0]. Pairs past R or B are left to the caller's check (their recs are zeros).
struct ForwardTile {
  r0: u32,       // first row of the tile (relative to the workgroup's first row)
  j0: u32,       // first unit
  nRows: u32,
  nUnits: u32,
  recs: array<vec4f, 32>,  // [row q][unit u] at 4*q + u
}

fn forwardRowBlocks() -> u32 {
  return select(1u, paddedRows() / RB, STAGED);
}

fn forwardTasks() -> u32 {
  return select(params.rowsPerGroup * params.H, (params.H + 3u) / 4u, STAGED);
}

fn forwardTile(row0: u32, s: u32, ob: u32, p: u32, nGates: u32, gh: u32) -> ForwardTile {
  var t: ForwardTile;
  if (STAGED) {
    t.r0 = ob * RB;
    t.j0 = 4u * p;
    t.nRows = RB;
    t.nUnits = min(4u, params.H - t.j0);
    t.recs = recurrentDotsBlock(t.r0, t.j0, nGates, gh);
  } else {
    t.r0 = p / params.H;
    t.j0 = p % params.H;
    t.nRows = 1u;
    t.nUnits = 1u;
    let b = row0 + t.r0;
    if (b < params.B) { t.recs[0] = recurrentDots(b, s, t.j0, nGates, gh); }
  }
  return t;
}

// SimpleRNN: hSeq holds x_t·K + b on entry; h_t = act(that + h_{t-1}·U) replaces it.
@compute @workgroup_size(WG)
fn simpleRnnForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let row0 = firstRow(wid, nwg);
  for (var s = params.tStart; s < params.tEnd; s++) {
    if (STAGED) { stageHPrev(row0, s, lid); }
    workgroupBarrier();
    // Staged: the row block is the (uniform) outer loop, so the staged-h reads are the same for
    // every invocation (broadcast loads); invocations stride over groups of 4 units.
    for (var ob = 0u; ob < forwardRowBlocks(); ob++) {
      for (var p = lid; p < forwardTasks(); p += WG) {
        let t = forwardTile(row0, s, ob, p, 1u, H);
        for (var q = 0u; q < t.nRows; q++) {
          for (var u = 0u; u < t.nUnits; u++) {
            let j = t.j0 + u;
            let b = row0 + t.r0 + q;
            if (t.r0 + q < params.rowsPerGroup && b < params.B) {
              let rec = t.recs[4u * q + u];
              simpleCell(b, s, j, rec.x);
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// LSTM: gates holds x_t·K + b on entry; replaced by the activated i, f, g, o (zeros on masked steps).
@compute @workgroup_size(WG)
fn lstmForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 4u * H;
  let row0 = firstRow(wid, nwg);
  for (var s = params.tStart; s < params.tEnd; s++) {
    if (STAGED) { stageHPrev(row0, s, lid); }
    workgroupBarrier();
    // Staged: the row block is the (uniform) outer loop, so the staged-h reads are the same for
    // every invocation (broadcast loads); invocations stride over groups of 4 units.
    for (var ob = 0u; ob < forwardRowBlocks(); ob++) {
      for (var p = lid; p < forwardTasks(); p += WG) {
        let t = forwardTile(row0, s, ob, p, 4u, GH);
        for (var q = 0u; q < t.nRows; q++) {
          for (var u = 0u; u < t.nUnits; u++) {
            let j = t.j0 + u;
            let b = row0 + t.r0 + q;
            if (t.r0 + q < params.rowsPerGroup && b < params.B) {
              let rec = t.recs[4u * q + u];
              lstmCell(b, s, j, rec);
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = true: gates holds x_t·K + b[0] on entry; replaced by z, r, hh.
@compute @workgroup_size(WG)
fn gruForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  for (var s = params.tStart; s < params.tEnd; s++) {
    if (STAGED) { stageHPrev(row0, s, lid); }
    workgroupBarrier();
    // Staged: the row block is the (uniform) outer loop, so the staged-h reads are the same for
    // every invocation (broadcast loads); invocations stride over groups of 4 units.
    for (var ob = 0u; ob < forwardRowBlocks(); ob++) {
      for (var p = lid; p < forwardTasks(); p += WG) {
        let t = forwardTile(row0, s, ob, p, 3u, GH);
        for (var q = 0u; q < t.nRows; q++) {
          for (var u = 0u; u < t.nUnits; u++) {
            let j = t.j0 + u;
            let b = row0 + t.r0 + q;
            if (t.r0 + q < params.rowsPerGroup && b < params.B) {
              let rec = t.recs[4u * q + u];
              gruCell(b, s, j, rec);
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = false: gates holds x_t·K + b on entry; replaced by z, r, hh. Two phases per
// step: z, r and r*(h_{t-1} ⊙ recMask) first, then (after a barrier) the candidate, which needs all
// of r*h.
@compute @workgroup_size(WG)
fn gruResetBeforeForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                         @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var s = params.tStart; s < params.tEnd; s++) {
    if (STAGED) { stageHPrev(row0, s, lid); }
    workgroupBarrier();
    // Staged: the row block is the (uniform) outer loop, so the staged-h reads are the same for
    // every invocation (broadcast loads); invocations stride over groups of 4 units.
    for (var ob = 0u; ob < forwardRowBlocks(); ob++) {
      for (var p = lid; p < forwardTasks(); p += WG) {
        let t = forwardTile(row0, s, ob, p, 2u, GH);
        for (var q = 0u; q < t.nRows; q++) {
          for (var u = 0u; u < t.nUnits; u++) {
            let j = t.j0 + u;
            let b = row0 + t.r0 + q;
            if (t.r0 + q < params.rowsPerGroup && b < params.B) {
              let rec = t.recs[4u * q + u];
              let row = rowOf(b, s);
              let base = row * GH + j;
              var z = 0.0;
              var r = 0.0;
              if (!stepMasked(b, s)) {
                // rec = [rz, rr, 0, 0]
                z = activate(REC_ACT, gates[base] + rec.x);
                r = activate(REC_ACT, gates[base + H] + rec.y);
              }
              gates[base] = z;
              gates[base + H] = r;
              rhPrev[row * H + j] = r * prevH(b, s, j) * recMask(b, j);
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let row = rowOf(b, s);
        let base = row * GH + j;
        let rhBase = row * H;
        let hp = prevH(b, s, j);
        var hh = 0.0;
        var h = hp;
        if (!stepMasked(b, s)) {
          var pre = gates[base + 2u * H];
          for (var k = 0u; k < H; k++) {
            pre += rhPrev[rhBase + k] * recurrentKernel[k * GH + 2u * H + j];
          }
          hh = activate(ACT, pre);
          let z = gates[base];
          h = z * hp + (1.0 - z) * hh;
        }
        gates[base + 2u * H] = hh;
        hSeq[rhBase + j] = h;
        if (s + 1u == params.T) { hLast[b * H + j] = h; }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// ---------------------------------------------------------------- backward (BPTT)
// Processing steps run from tEnd-1 down to tStart. dhCarry (and dcCarry) hold dL/dh_s (dL/dc_s)
// coming from step s+1 on entry to step s and dL/dh_{s-1} (dL/dc_{s-1}) on exit; the host
// initialises them from the gradients of hLast / cLast (or zeros) before the first chunk.
// A masked step writes dG = 0 and passes dh (and dc) straight through to step s-1.
// m = recMask (1 without recurrent dropout): what reaches h_{s-1} through a matmul is m ⊙ (dG·Uᵀ).

// The cells' backward (shared by both strategies), for (b, j) at step s: the pre-activation
// gradients dG from dh_s = incomingDh (and dc_s), the dc carry, and the part of dh_{s-1} that needs
// no matmul (GRU's dh*z; on a masked step dh itself, passed straight through). The matmul part
// m ⊙ (dG·Uᵀ) follows once every dG of the step is written.

// SimpleRNN: dG = dh * act'(h).
fn simpleCellGrad(b: u32, s: u32, j: u32) {
  let H = params.H;
  let at = rowOf(b, s) * H + j;
  let dh = incomingDh(b, s, j);
  if (stepMasked(b, s)) {
    dG[at] = 0.0;
    dhCarry[b * H + j] = dh;
  } else {
    dG[at] = dh * activateGrad(ACT, hSeq[at]);
  }
}

// LSTM: h = o*act(c), c = f*c_{t-1} + i*g:
//   do = dh*act(c); dc = dc_carry + dh*o*act'(c); di = dc*g; df = dc*c_{t-1}; dg = dc*i; dc_{t-1} = dc*f
fn lstmCellGrad(b: u32, s: u32, j: u32) {
  let H = params.H;
  let GH = 4u * H;
  let row = rowOf(b, s);
  let base = row * GH + j;
  if (stepMasked(b, s)) {
    dG[base] = 0.0;
    dG[base + H] = 0.0;
    dG[base + 2u * H] = 0.0;
    dG[base + 3u * H] = 0.0;
    dhCarry[b * H + j] = incomingDh(b, s, j);
    return;
  }
  let gi = gates[base];
  let gf = gates[base + H];
  let gc = gates[base + 2u * H];
  let go = gates[base + 3u * H];
  let actC = activate(ACT, cSeq[row * H + j]);
  let dh = incomingDh(b, s, j);
  let dc = dcCarry[b * H + j] + dh * go * activateGrad(ACT, actC);
  dG[base] = dc * gc * activateGrad(REC_ACT, gi);
  dG[base + H] = dc * prevC(b, s, j) * activateGrad(REC_ACT, gf);
  dG[base + 2u * H] = dc * gi * activateGrad(ACT, gc);
  dG[base + 3u * H] = dh * actC * activateGrad(REC_ACT, go);
  dcCarry[b * H + j] = dc * gf;
}

// GRU, resetAfter = true: h = z*h_{t-1} + (1-z)*hh, hh = act(xh + r*rh):
//   dHH = dh*(1-z)*act'(hh); dZ = dh*(h_{t-1} - hh)*ra'(z); dR = dHH*rh*ra'(r)
//   input part [dZ, dR, dHH]; recurrent part [dZ, dR, dHH*r]; dh_{t-1} = dh*z + m ⊙ (...)
fn gruCellGrad(b: u32, s: u32, j: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row = rowOf(b, s);
  let base = row * GH + j;
  let dBase = row * 2u * GH + j;
  let dh = incomingDh(b, s, j);
  var d3 = vec3f(0.0); // dZ, dR, dHH (pre-activation)
  var r = 0.0;
  var carry = dh;
  if (!stepMasked(b, s)) {
    let z = gates[base];
    r = gates[base + H];
    let hh = gates[base + 2u * H];
    let dPreH = dh * (1.0 - z) * activateGrad(ACT, hh);
    let dPreZ = dh * (prevH(b, s, j) - hh) * activateGrad(REC_ACT, z);
    let dPreR = dPreH * recH[row * H + j] * activateGrad(REC_ACT, r);
    d3 = vec3f(dPreZ, dPreR, dPreH);
    carry = dh * z;
  }
  dG[dBase] = d3.x;
  dG[dBase + H] = d3.y;
  dG[dBase + 2u * H] = d3.z;
  dG[dBase + GH] = d3.x;
  dG[dBase + GH + H] = d3.y;
  dG[dBase + GH + 2u * H] = d3.z * r;
  dhCarry[b * H + j] = carry;
}

// SimpleRNN: simpleCellGrad, then dh_{s-1} = m ⊙ (dG·Uᵀ).
@compute @workgroup_size(WG)
fn simpleRnnBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var i = params.tStart; i < params.tEnd; i++) {
    let s = params.tEnd - 1u - (i - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      if (b < params.B) { simpleCellGrad(b, s, p % H); }
    }
    storageBarrier();
    workgroupBarrier();
    for (var ob = 0u; ob < bwdRowBlocks(); ob++) { // uniform row block: dG reads are broadcasts
      let r0 = ob * BRB;
      let ba = blockBases(row0, r0, s, H, 0u);
      let bb = blockBases(row0, r0 + 4u, s, H, 0u);
      for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
        let d = dGDotUBlock(ba, bb, k0, 0u, H);
        for (var q = 0u; q < BRB; q++) {
          let b = row0 + r0 + q;
          for (var e = 0u; e < min(BKB, H - k0); e++) {
            let k = k0 + e;
            let dk = lane(d[2u * q + e / 4u], e % 4u);
            // (a masked step's dh was passed through by the cell)
            if (r0 + q < params.rowsPerGroup && b < params.B && !stepMasked(b, s)) {
              dhCarry[b * H + k] = recMask(b, k) * dk;
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// LSTM: lstmCellGrad, then dh_{t-1} = m ⊙ (dG·Uᵀ).
@compute @workgroup_size(WG)
fn lstmBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 4u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var i = params.tStart; i < params.tEnd; i++) {
    let s = params.tEnd - 1u - (i - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      if (b < params.B) { lstmCellGrad(b, s, p % H); }
    }
    storageBarrier();
    workgroupBarrier();
    for (var ob = 0u; ob < bwdRowBlocks(); ob++) { // uniform row block: dG reads are broadcasts
      let r0 = ob * BRB;
      let ba = blockBases(row0, r0, s, GH, 0u);
      let bb = blockBases(row0, r0 + 4u, s, GH, 0u);
      for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
        let d = dGDotUBlock(ba, bb, k0, 0u, GH);
        for (var q = 0u; q < BRB; q++) {
          let b = row0 + r0 + q;
          for (var e = 0u; e < min(BKB, H - k0); e++) {
            let k = k0 + e;
            let dk = lane(d[2u * q + e / 4u], e % 4u);
            // (a masked step's dh was passed through by the cell)
            if (r0 + q < params.rowsPerGroup && b < params.B && !stepMasked(b, s)) {
              dhCarry[b * H + k] = recMask(b, k) * dk;
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = true: gruCellGrad, then dh_{t-1} += m ⊙ ((recurrent part of dG)·Uᵀ).
@compute @workgroup_size(WG)
fn gruBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var i = params.tStart; i < params.tEnd; i++) {
    let s = params.tEnd - 1u - (i - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      if (b < params.B) { gruCellGrad(b, s, p % H); }
    }
    storageBarrier();
    workgroupBarrier();
    for (var ob = 0u; ob < bwdRowBlocks(); ob++) { // uniform row block: dG reads are broadcasts
      let r0 = ob * BRB;
      let ba = blockBases(row0, r0, s, 2u * GH, GH);
      let bb = blockBases(row0, r0 + 4u, s, 2u * GH, GH);
      for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
        let d = dGDotUBlock(ba, bb, k0, 0u, GH);
        for (var q = 0u; q < BRB; q++) {
          let b = row0 + r0 + q;
          for (var e = 0u; e < min(BKB, H - k0); e++) {
            let k = k0 + e;
            let dk = lane(d[2u * q + e / 4u], e % 4u);
            if (r0 + q < params.rowsPerGroup && b < params.B && !stepMasked(b, s)) {
              dhCarry[b * H + k] += recMask(b, k) * dk;
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = false: hh = act(xh + (r*(h_{t-1} ⊙ m))·U_h). Three phases per step:
//   A: dHH = dh*(1-z)*act'(hh), dZ = dh*(h_{t-1} - hh)*ra'(z); carry = dh*z
//   B: dRH = U_h·dHH (needs all of dHH); dR = dRH*(h_{t-1} ⊙ m)*ra'(r); carry += dRH*r*m
//   C: carry += m ⊙ ([dZ, dR]·U_{z,r}ᵀ) (needs all of dR)
@compute @workgroup_size(WG)
fn gruResetBeforeBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var i = params.tStart; i < params.tEnd; i++) {
    let s = params.tEnd - 1u - (i - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = rowOf(b, s) * GH + j;
        let dh = incomingDh(b, s, j);
        if (stepMasked(b, s)) {
          dG[base] = 0.0;
          dG[base + 2u * H] = 0.0;
          dhCarry[b * H + j] = dh;
        } else {
          let z = gates[base];
          let hh = gates[base + 2u * H];
          dG[base] = dh * (prevH(b, s, j) - hh) * activateGrad(REC_ACT, z);
          dG[base + 2u * H] = dh * (1.0 - z) * activateGrad(ACT, hh);
          dhCarry[b * H + j] = dh * z;
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var ob = 0u; ob < bwdRowBlocks(); ob++) { // uniform row block: dG reads are broadcasts
      let r0 = ob * BRB;
      let ba = blockBases(row0, r0, s, GH, 0u);
      let bb = blockBases(row0, r0 + 4u, s, GH, 0u);
      for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
        let d = dGDotUBlock(ba, bb, k0, 2u * H, GH);
        for (var q = 0u; q < BRB; q++) {
          let b = row0 + r0 + q;
          for (var e = 0u; e < min(BKB, H - k0); e++) {
            let k = k0 + e;
            let dk = lane(d[2u * q + e / 4u], e % 4u);
            if (r0 + q < params.rowsPerGroup && b < params.B) {
              let rowBase = rowOf(b, s) * GH;
              if (stepMasked(b, s)) {
                dG[rowBase + H + k] = 0.0;
              } else {
                let m = recMask(b, k);
                let dRH = dk;
                let r = gates[rowBase + H + k];
                dG[rowBase + H + k] = dRH * prevH(b, s, k) * m * activateGrad(REC_ACT, r);
                dhCarry[b * H + k] += dRH * r * m;
              }
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var ob = 0u; ob < bwdRowBlocks(); ob++) { // uniform row block: dG reads are broadcasts
      let r0 = ob * BRB;
      let ba = blockBases(row0, r0, s, GH, 0u);
      let bb = blockBases(row0, r0 + 4u, s, GH, 0u);
      for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
        let d = dGDotUBlock(ba, bb, k0, 0u, 2u * H);
        for (var q = 0u; q < BRB; q++) {
          let b = row0 + r0 + q;
          for (var e = 0u; e < min(BKB, H - k0); e++) {
            let k = k0 + e;
            let dk = lane(d[2u * q + e / 4u], e % 4u);
            if (r0 + q < params.rowsPerGroup && b < params.B && !stepMasked(b, s)) {
              dhCarry[b * H + k] += recMask(b, k) * dk;
            }
          }
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// ---------------------------------------------------------------- dropout masks (PCG hash RNG)
// Keras dropout masks: m = 1/(1-rate) with probability 1-rate, else 0, drawn per element from a
// hash of (seed, stream, step counter, element index). The counter lives on the GPU
// (rngState[0]) and `rngAdvance` increments it once per training step, so every step draws new
// masks with no upload from the CPU.

struct DropoutParams {
  n: u32,         // mask elements
  rate: f32,      // drop probability in (0, 1)
  scale: f32,     // 1 / (1 - rate)
  seed: u32,
  stream: u32,    // which mask of the layer (0: input, 1: recurrent)
}

@group(0) @binding(16) var<uniform> dparams: DropoutParams;
@group(0) @binding(17) var<storage, read_write> rngState: array<u32>;  // [4]: [0] = step counter
@group(0) @binding(18) var<storage, read_write> maskOut: array<f32>;   // [n]

// PCG-RXS-M-XS 32-bit output permutation of one LCG step (Jarzynski & Olano, "Hash Functions for
// GPU Rendering", JCGT 2020): a good 32-bit integer hash.
fn pcgHash(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(64)
fn dropoutMask(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= dparams.n) { return; }
  let key = pcgHash(pcgHash(pcgHash(dparams.seed) ^ (dparams.stream * 0x9e3779b9u)) + rngState[0]);
  let u = f32(pcgHash(key ^ pcgHash(i)) >> 8u) * (1.0 / 16777216.0); // uniform in [0, 1)
  maskOut[i] = select(0.0, dparams.scale, u >= dparams.rate);
}

// rngState[0] += 1 (one invocation; a separate dispatch, so every mask of the step saw the old value).
@compute @workgroup_size(1)
fn rngAdvance() {
  rngState[0] = rngState[0] + 1u;
}

// ---------------------------------------------------------------- broadcast mask multiply
// x viewed as [B, T, F]; out[b, t, f] (+)= x[b, t, f] * mask[b*sB + t*sT + f*sF]. Used for input
// dropout (mask [B, F]: sB = F, sT = 0, sF = 1) and its backward, Keras Masking's output
// (mask [B, T]: sB = T, sT = 1, sF = 0), and h ⊙ recMask for the recurrent-weight gradient.

struct MaskMulParams {
  n: u32,           // B*T*F
  T: u32,
  F: u32,
  sB: u32,
  sT: u32,
  sF: u32,
  accumulate: u32,  // 1: out += ..., 0: out = ...
}

@group(0) @binding(19) var<uniform> mparams: MaskMulParams;
@group(0) @binding(20) var<storage, read> mulIn: array<f32>;
@group(0) @binding(21) var<storage, read> mulMask: array<f32>;
@group(0) @binding(22) var<storage, read_write> mulOut: array<f32>;

@compute @workgroup_size(64)
fn maskMul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= mparams.n) { return; }
  let f = i % mparams.F;
  let bt = i / mparams.F;
  let t = bt % mparams.T;
  let b = bt / mparams.T;
  let v = mulIn[i] * mulMask[b * mparams.sB + t * mparams.sT + f * mparams.sF];
  mulOut[i] = select(v, mulOut[i] + v, mparams.accumulate == 1u);
}

// ---------------------------------------------------------------- Keras Masking: the step mask
// stepMaskOut[r] = 1 if any feature of row r (= b*T + t) differs from maskValue, else 0.

struct StepMaskParams {
  rows: u32,
  F: u32,
  maskValue: f32,
}

@group(0) @binding(23) var<uniform> sparams: StepMaskParams;
@group(0) @binding(24) var<storage, read> stepIn: array<f32>;          // [rows, F]
@group(0) @binding(25) var<storage, read_write> stepMaskOut: array<f32>; // [rows]

@compute @workgroup_size(64)
fn stepMask(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flatIndex(gid, nwg, 64u);
  if (r >= sparams.rows) { return; }
  var keep = 0.0;
  for (var f = 0u; f < sparams.F; f++) {
    keep = select(keep, 1.0, stepIn[r * sparams.F + f] != sparams.maskValue);
  }
  stepMaskOut[r] = keep;
}

// ---------------------------------------------------------------- Bidirectional merge
// a = forward output, b = backward output, both [rows, H] (rows = B*T with returnSequences, else
// B), each multiplied by the step mask first when hasMask (Keras zeroes masked outputs inside
// Bidirectional). mode 0 concat -> [rows, 2H] = [a | b]; 1 sum a+b; 2 mul a*b; 3 ave (a+b)/2.

struct MergeParams {
  n: u32,        // rows*H
  H: u32,
  mode: u32,
  hasMask: u32,
}

@group(0) @binding(26) var<uniform> gparams: MergeParams;
@group(0) @binding(27) var<storage, read> mergeA: array<f32>;           // [rows, H]
@group(0) @binding(28) var<storage, read> mergeB: array<f32>;           // [rows, H]
@group(0) @binding(29) var<storage, read> mergeMask: array<f32>;        // [rows]
@group(0) @binding(30) var<storage, read_write> merged: array<f32>;     // [rows, H] or [rows, 2H]
@group(0) @binding(31) var<storage, read> dMerged: array<f32>;          // like merged
@group(0) @binding(32) var<storage, read_write> dMergeA: array<f32>;    // [rows, H] +=
@group(0) @binding(33) var<storage, read_write> dMergeB: array<f32>;    // [rows, H] +=

fn mergeFactor(r: u32) -> f32 {
  if (gparams.hasMask == 0u) { return 1.0; }
  return mergeMask[r];
}

@compute @workgroup_size(64)
fn bidirectionalMerge(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= gparams.n) { return; }
  let H = gparams.H;
  let r = i / H;
  let j = i % H;
  let m = mergeFactor(r);
  let a = mergeA[i] * m;
  let b = mergeB[i] * m;
  switch gparams.mode {
    case 0u: {
      merged[r * 2u * H + j] = a;
      merged[r * 2u * H + H + j] = b;
    }
    case 1u: { merged[i] = a + b; }
    case 2u: { merged[i] = a * b; }
    default: { merged[i] = 0.5 * (a + b); }
  }
}

@compute @workgroup_size(64)
fn bidirectionalMergeBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= gparams.n) { return; }
  let H = gparams.H;
  let r = i / H;
  let j = i % H;
  let m = mergeFactor(r);
  var da = 0.0;
  var db = 0.0;
  switch gparams.mode {
    case 0u: {
      da = dMerged[r * 2u * H + j];
      db = dMerged[r * 2u * H + H + j];
    }
    case 1u: {
      da = dMerged[i];
      db = da;
    }
    case 2u: {
      da = dMerged[i] * mergeB[i] * m;
      db = dMerged[i] * mergeA[i] * m;
    }
    default: {
      da = 0.5 * dMerged[i];
      db = da;
    }
  }
  dMergeA[i] += da * m;
  dMergeB[i] += db * m;
}

// ---------------------------------------------------------------- time slices (custom cells)
// A sequence [B, T, F] and one step [B, F] of it at time t.
//   takeStep: step (+)= seq[:, t, :]      (forward of slicing; backward of putStep)
//   putStep:  seq[:, t, :] (+)= step      (forward of stacking; backward of slicing)

struct SliceParams {
  n: u32,          // B*F
  T: u32,
  F: u32,
  t: u32,
  accumulate: u32,
}

@group(0) @binding(34) var<uniform> tparams: SliceParams;
@group(0) @binding(35) var<storage, read> sliceSrc: array<f32>;
@group(0) @binding(36) var<storage, read_write> sliceDst: array<f32>;

@compute @workgroup_size(64)
fn takeStep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= tparams.n) { return; }
  let b = i / tparams.F;
  let f = i % tparams.F;
  let v = sliceSrc[(b * tparams.T + tparams.t) * tparams.F + f];
  sliceDst[i] = select(v, sliceDst[i] + v, tparams.accumulate == 1u);
}

@compute @workgroup_size(64)
fn putStep(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= tparams.n) { return; }
  let b = i / tparams.F;
  let f = i % tparams.F;
  let at = (b * tparams.T + tparams.t) * tparams.F + f;
  sliceDst[at] = select(sliceSrc[i], sliceDst[at] + sliceSrc[i], tparams.accumulate == 1u);
}

// ---------------------------------------------------------------- Uᵀ for BPTT
struct TransposeParams {
  rows: u32, // H
  cols: u32, // G*H
}

@group(0) @binding(38) var<uniform> uparams: TransposeParams;
@group(0) @binding(39) var<storage, read_write> transposeOut: array<f32>; // [cols, rows]

// transposeOut[c, r] = recurrentKernel[r, c]
@compute @workgroup_size(64)
fn transposeU(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= uparams.rows * uparams.cols) { return; }
  let r = i / uparams.cols;
  let c = i % uparams.cols;
  transposeOut[c * uparams.rows + r] = recurrentKernel[i];
}

// ---------------------------------------------------------------- per-step (hidden-sliced) kernels
// Strategy A of docs/kernel-design.md §4.2 ("per-step fused dispatch, hidden-sliced"): the
// alternative to the persistent kernels above for wide layers on real GPUs, where a persistent
// grid of ceil(B/R) workgroups leaves most of the GPU idle and each of its invocations walks
// ≥ 2 units × H per step. src/ops/rnn-step.ts records them and rnnStrategy (src/ops/rnn.ts)
// chooses. ONE dispatch per processing step forward, TWO per step backward, all with the Params
// of the persistent kernels and tStart = s, tEnd = s + 1 (s = the processing step; rowsPerGroup
// is unused). Steps are ordered by the dispatch boundaries (WebGPU orders dispatches that touch
// the same buffer), so nothing here waits for another workgroup and there is no time loop.
// Semantics, buffers and layouts are exactly the persistent kernels' (same helpers rowOf, prevH,
// prevC, stepMasked, recMask, incomingDh; same options), so the backward of either strategy reads
// what the forward of either wrote.
//
// Forward (simpleRnnStepForward, lstmStepForward, gruStepForward): grid (unit tiles, batch tiles).
// A workgroup of PS_WG = 64 invocations computes PS_ROWS = 8 batch rows × PS_UNITS = 16 units × G
// gates of h_{s-1}·U (SimpleRNN, one gate: 4·PS_UNITS = 64 units, 4 per vec4 instead of gates).
// K = H is walked in chunks of PS_K = 32: (h_{s-1} ⊙ recMask) [8, 32] and the U columns [32, 16]
// (one vec4 of gate columns per unit) are staged in workgroup memory (1 KB + 8 KB), then each
// invocation accumulates 2 rows × 1 unit × 4 lanes in registers (one staged U vec4 feeds 2 rows;
// the staged h reads are broadcasts). Then the cell epilogue of simpleRnnForward / lstmForward /
// gruForward for its (row, unit) pairs. The sums run over k = 0..H-1 in order, as in the
// persistent kernels.
//
// Backward, step s (last step first):
//   (a) simpleRnnStepBackward, lstmStepBackward, gruStepBackward: one invocation per (b, j): dG of
//       step s from dh = incomingDh and the saved gates, dcCarry (LSTM), and the part of dh_{s-1}
//       that needs no matmul, written to dhCarry: GRU's dh*z, or dh itself on a masked step.
//   (b) simpleRnnStepDh, lstmStepDh, gruStepDh: dh_{s-1}[b, k] = recMask ⊙ Σ_c dGrec_s[b, c]·U[k, c]
//       for the rows whose step s is not masked, written to dhCarry (SimpleRNN, LSTM) or added to
//       the dh*z part (GRU). Grid (unit tiles, batch tiles); a workgroup computes PS_ROWS = 8 rows ×
//       PS_DH_UNITS = 32 units, walking the G·H recurrent dG columns in chunks of PS_DH_K = 64 with
//       dGrec [8, 64] and Uᵀ [64, 32] (the BPTT copy recurrentKernelT: coalesced rows) staged
//       (2 KB + 8 KB); each invocation accumulates 2 rows × 2 units. Masked rows keep what (a) wrote.
//
// GRU resetAfter=false stays on the persistent kernels (its candidate needs all of r*h_{t-1}
// before U_h: one more dispatch per step each way); rnnStrategy never picks 'step' for it.

const PS_WG = 64u;       // invocations per workgroup (STEP_WORKGROUP in src/ops/rnn-step.ts)
const PS_ROWS = 8u;      // batch rows per tile (STEP_ROWS)
const PS_UNITS = 16u;    // forward: units per tile and gate lane (STEP_UNITS; SimpleRNN: ×4)
const PS_K = 32u;        // forward: K chunk
const PS_DH_UNITS = 32u; // backward (b): units per tile (STEP_DH_UNITS)
const PS_DH_K = 64u;     // backward (b): chunk of dG columns

var<workgroup> psH: array<f32, 256>;      // [PS_ROWS, PS_K]: h_{s-1} ⊙ recMask (0 past B or H)
var<workgroup> psU: array<vec4f, 512>;    // [PS_K, PS_UNITS]: the 4 lane columns of U per unit
var<workgroup> psDG: array<f32, 512>;     // [PS_ROWS, PS_DH_K]: recurrent dG of step s
var<workgroup> psUT: array<f32, 2048>;    // [PS_DH_K, PS_DH_UNITS]: Uᵀ[c, k]

// Unit of lane l of tile column u: gate lanes (packed = false) hold gate block l of unit j0 + u;
// packed lanes (SimpleRNN) hold unit j0 + u + l*PS_UNITS of its single gate.
fn perStepUnit(j0: u32, u: u32, l: u32, packed: bool) -> u32 {
  return j0 + u + select(0u, l * PS_UNITS, packed);
}

// U[k, column of lane l of tile column u], or 0 for a lane past the gates or a unit past H.
fn perStepWeight(k: u32, j0: u32, u: u32, l: u32, nGates: u32, packed: bool) -> f32 {
  let H = params.H;
  let j = perStepUnit(j0, u, l, packed);
  let gate = select(l, 0u, packed);
  if (j >= H || gate >= nGates) { return 0.0; }
  return recurrentKernel[k * nGates * H + gate * H + j];
}

// Σ_k (h_{s-1} ⊙ recMask)[b, k]·U[k, lane columns] of tile column lid % PS_UNITS for the rows
// b = row0 + lid / PS_UNITS (element 0) and b + PS_ROWS/2 (element 1). Rows past B and units past
// H give 0. Call in uniform control flow (barriers).
fn perStepRecTile(s: u32, row0: u32, j0: u32, lid: u32, nGates: u32, packed: bool) -> array<vec4f, 2> {
  let H = params.H;
  let u = lid % PS_UNITS;
  let r = lid / PS_UNITS;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  for (var k0 = 0u; k0 < H; k0 += PS_K) {
    for (var i = lid; i < PS_ROWS * PS_K; i += PS_WG) {
      let b = row0 + i / PS_K;
      let k = k0 + i % PS_K;
      var v = 0.0;
      if (b < params.B && k < H) { v = prevH(b, s, k) * recMask(b, k); }
      psH[i] = v;
    }
    for (var i = lid; i < PS_K * PS_UNITS; i += PS_WG) {
      let k = k0 + i / PS_UNITS;
      let uu = i % PS_UNITS;
      var w = vec4f(0.0);
      if (k < H) {
        w = vec4f(perStepWeight(k, j0, uu, 0u, nGates, packed), perStepWeight(k, j0, uu, 1u, nGates, packed),
                  perStepWeight(k, j0, uu, 2u, nGates, packed), perStepWeight(k, j0, uu, 3u, nGates, packed));
      }
      psU[i] = w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < PS_K; kk++) {
      let w = psU[kk * PS_UNITS + u];
      a0 += psH[r * PS_K + kk] * w;
      a1 += psH[(r + PS_ROWS / 2u) * PS_K + kk] * w;
    }
    workgroupBarrier();
  }
  return array<vec4f, 2>(a0, a1);
}

// The 4 packed units j, j + PS_UNITS, ... of row b.
fn perStepSimpleCells(b: u32, s: u32, j: u32, rec: vec4f) {
  simpleCell(b, s, j, rec.x);
  simpleCell(b, s, j + PS_UNITS, rec.y);
  simpleCell(b, s, j + 2u * PS_UNITS, rec.z);
  simpleCell(b, s, j + 3u * PS_UNITS, rec.w);
}

// Forward step s = tStart. Grid (ceil(H / (4*PS_UNITS)), ceil(B / PS_ROWS)).
@compute @workgroup_size(64)
fn simpleRnnStepForward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = params.tStart;
  let j0 = wid.x * 4u * PS_UNITS;
  let row0 = wid.y * PS_ROWS;
  let acc = perStepRecTile(s, row0, j0, lid, 1u, true);
  let b = row0 + lid / PS_UNITS;
  let j = j0 + lid % PS_UNITS;
  perStepSimpleCells(b, s, j, acc[0]);
  perStepSimpleCells(b + PS_ROWS / 2u, s, j, acc[1]);
}

// Forward step s = tStart. Grid (ceil(H / PS_UNITS), ceil(B / PS_ROWS)).
@compute @workgroup_size(64)
fn lstmStepForward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = params.tStart;
  let j0 = wid.x * PS_UNITS;
  let row0 = wid.y * PS_ROWS;
  let acc = perStepRecTile(s, row0, j0, lid, 4u, false);
  let b = row0 + lid / PS_UNITS;
  let j = j0 + lid % PS_UNITS;
  lstmCell(b, s, j, acc[0]);
  lstmCell(b + PS_ROWS / 2u, s, j, acc[1]);
}

// Forward step s = tStart (GRU resetAfter). Grid (ceil(H / PS_UNITS), ceil(B / PS_ROWS)).
@compute @workgroup_size(64)
fn gruStepForward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = params.tStart;
  let j0 = wid.x * PS_UNITS;
  let row0 = wid.y * PS_ROWS;
  let acc = perStepRecTile(s, row0, j0, lid, 3u, false);
  let b = row0 + lid / PS_UNITS;
  let j = j0 + lid % PS_UNITS;
  gruCell(b, s, j, acc[0]);
  gruCell(b + PS_ROWS / 2u, s, j, acc[1]);
}

// Backward (a), step s = tStart, one invocation per (b, j) of B*H: as simpleRnnBackward's first
// phase; a masked step passes dh (with hSeq's own gradient) to dhCarry.
@compute @workgroup_size(64)
fn simpleRnnStepBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let H = params.H;
  let i = flatIndex(gid, nwg, PS_WG);
  if (i >= params.B * H) { return; }
  simpleCellGrad(i / H, params.tStart, i % H);
}

// Backward (a), step s = tStart: as lstmBackward's first phase (dcCarry updated here).
@compute @workgroup_size(64)
fn lstmStepBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let H = params.H;
  let i = flatIndex(gid, nwg, PS_WG);
  if (i >= params.B * H) { return; }
  lstmCellGrad(i / H, params.tStart, i % H);
}

// Backward (a), step s = tStart: as gruBackward's first phase (dhCarry = dh*z, or dh if masked).
@compute @workgroup_size(64)
fn gruStepBackward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let H = params.H;
  let i = flatIndex(gid, nwg, PS_WG);
  if (i >= params.B * H) { return; }
  gruCellGrad(i / H, params.tStart, i % H);
}

// dhCarry[b, k] (= or +=) recMask(b, k) * d for an unmasked row b < B and unit k < H.
fn perStepDhStore(b: u32, s: u32, k: u32, d: f32, accumulate: bool) {
  let H = params.H;
  if (b >= params.B || k >= H || stepMasked(b, s)) { return; }
  let v = recMask(b, k) * d;
  dhCarry[b * H + k] = select(v, dhCarry[b * H + k] + v, accumulate);
}

// Backward (b) for step s = tStart: the tile of dh_{s-1} = recMask ⊙ (dGrec_s·Uᵀ) of workgroup
// wid (units wid.x*PS_DH_UNITS.., rows wid.y*PS_ROWS..). The recurrent dG of row b is
// dG[rowOf(b, s)*stride + off + c], c < gh. Invocation lid: units k0 + 2*(lid % 16) + {0, 1} of
// rows row0 + lid/16 and row0 + lid/16 + 4. Call in uniform control flow (barriers).
fn perStepDhTile(wid: vec3u, lid: u32, gh: u32, stride: u32, off: u32, accumulate: bool) {
  let H = params.H;
  let s = params.tStart;
  let k0 = wid.x * PS_DH_UNITS;
  let row0 = wid.y * PS_ROWS;
  let kq = (lid % (PS_DH_UNITS / 2u)) * 2u;
  let r = lid / (PS_DH_UNITS / 2u);
  var a0 = vec2f(0.0);
  var a1 = vec2f(0.0);
  for (var c0 = 0u; c0 < gh; c0 += PS_DH_K) {
    for (var i = lid; i < PS_ROWS * PS_DH_K; i += PS_WG) {
      let b = row0 + i / PS_DH_K;
      let c = c0 + i % PS_DH_K;
      var v = 0.0;
      if (b < params.B && c < gh) { v = dG[rowOf(b, s) * stride + off + c]; }
      psDG[i] = v;
    }
    for (var i = lid; i < PS_DH_K * PS_DH_UNITS; i += PS_WG) {
      let c = c0 + i / PS_DH_UNITS;
      let k = k0 + i % PS_DH_UNITS;
      var v = 0.0;
      if (c < gh && k < H) { v = recurrentKernelT[c * H + k]; }
      psUT[i] = v;
    }
    workgroupBarrier();
    for (var cc = 0u; cc < PS_DH_K; cc++) {
      let w = vec2f(psUT[cc * PS_DH_UNITS + kq], psUT[cc * PS_DH_UNITS + kq + 1u]);
      a0 += psDG[r * PS_DH_K + cc] * w;
      a1 += psDG[(r + PS_ROWS / 2u) * PS_DH_K + cc] * w;
    }
    workgroupBarrier();
  }
  let b = row0 + r;
  let k = k0 + kq;
  perStepDhStore(b, s, k, a0.x, accumulate);
  perStepDhStore(b, s, k + 1u, a0.y, accumulate);
  perStepDhStore(b + PS_ROWS / 2u, s, k, a1.x, accumulate);
  perStepDhStore(b + PS_ROWS / 2u, s, k + 1u, a1.y, accumulate);
}

// Backward (b), grid (ceil(H / PS_DH_UNITS), ceil(B / PS_ROWS)): dhCarry = m ⊙ (dG·Uᵀ).
@compute @workgroup_size(64)
fn simpleRnnStepDh(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  perStepDhTile(wid, lid, params.H, params.H, 0u, false);
}

// Backward (b): dhCarry = m ⊙ (dG·Uᵀ) over the 4H gate columns.
@compute @workgroup_size(64)
fn lstmStepDh(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  perStepDhTile(wid, lid, 4u * params.H, 4u * params.H, 0u, false);
}

// Backward (b): dhCarry (= dh*z from (a)) += m ⊙ (dGrec·Uᵀ), dGrec = the recurrent half of a
// [2, 3H] dG row.
@compute @workgroup_size(64)
fn gruStepDh(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  perStepDhTile(wid, lid, 3u * params.H, 6u * params.H, 3u * params.H, true);
}
