// rnn-common.wgsl — what every recurrent kernel shares: the Params of a dispatch, the per-layer
// pipeline constants, the buffers, and the helpers that read the previous state and the masks.
// Included by the cell files (simple-rnn-cell, lstm-cell, gru-cell, gru-reset-before-cell),
// whose modules hold the kernels; src/ops/rnn.ts records them (docs/design.md §6).
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//
// Layouts (row-major f32, batch-major sequences; G = GATES gate blocks of the cell, GH = G*H):
//   recurrentKernel U  [H, GH]       column g*H + j is unit j of gate block g
//   recurrentKernelT   [GH, HT]      Uᵀ, rows padded to HT = H rounded up to 8 (BPTT reads 8
//                                    consecutive units as 2 vec4s; the padding is never used)
//   recurrentGates     [H, H] vec4   U by unit: element k*H + j holds the gates of unit j at
//                                    input k, (U[k, j], U[k, H+j], U[k, 2H+j], U[k, 3H+j]), 0 past
//                                    GATES (the persistent forward kernels read it)
//   gates              [B, T, GH]    forward: the input projection x_t·K + input bias on entry,
//                                    overwritten with the ACTIVATED gates (what backward reads).
//                                    SimpleRNN has none: its projection is written into hSeq.
//   hSeq               [B, T, H]     h_t
//   cSeq / recH / rhPrev [B, T, H]   the cell's extra saved tensor: LSTM c_t; GRU resetAfter
//                                    rh = h_{t-1}·U_h + b_rec_h; GRU resetBefore r_t * h_{t-1}
//   aux                [·]           h0 [B, H], c0 [B, H], the recurrent-dropout mask [B, H] and
//                                    the sequence mask [B, T] in ONE read-only buffer at h0Off,
//                                    c0Off, recMaskOff, seqMaskOff (each only with its HAS_*):
//                                    an entry point binds at most 8 storage buffers.
//   hLast, cLast, dhCarry, dcCarry   [B, H]
//   dHSeq              [B, T, H]     the gradient arriving on hSeq (read when HAS_DH_SEQ)
//   dG                 [B, T, GH]    pre-activation gradients; GRU resetAfter [B, T, 2, GH]:
//                                    [input part | recurrent part] (the [2, 3H] bias layout)
//
// Options (compiled in as pipeline constants, see below):
//   REVERSE       processing step s runs on time T-1-s (Bidirectional's backward layer); outputs
//                 land at their own time index, so hSeq is in input order.
//   HAS_REC_MASK  recurrent dropout: h_{t-1} ⊙ m wherever h_{t-1} enters a recurrent matmul
//                 (GRU's z*h_{t-1} mix and LSTM's c use the undropped state).
//   HAS_SEQ_MASK  Keras masking: a step with seqMask[b, t] == 0 carries the state through
//                 (h_t = h_{t-1}, c_t = c_{t-1}; its hSeq row is the carried state) and passes
//                 only dh_t → dh_{t-1} back.

struct Params {
  B: u32,
  T: u32,
  H: u32,
  rowsPerGroup: u32,  // persistent kernels: R, the batch rows owned by one workgroup
  tStart: u32,        // this dispatch's processing steps: [tStart, tEnd)
  tEnd: u32,
  h0Off: u32,         // offsets into aux (see the layouts above)
  c0Off: u32,
  recMaskOff: u32,
  seqMaskOff: u32,
}

// Per-layer switches, fixed when the pipeline is built (src/ops/rnn-tuning.ts recurrentConstants):
// the compiler removes the branches not taken. That matters on CPU adapters: SwiftShader runs
// both sides of every `if` whose condition is not a constant, so unused options would cost as
// much as the used path (specialising halved the LSTM(128) forward kernel there).
override ACT: u32;             // activation code (ACT_* in the prelude)
override REC_ACT: u32;         // recurrent activation code
override HAS_H0: bool;         // false: h0 is zeros (nothing at aux[h0Off])
override HAS_C0: bool;         // false: c0 is zeros (LSTM)
override HAS_REC_BIAS: bool;   // GRU resetAfter: true when bias row 1 (recurrent bias) exists
override HAS_DH_SEQ: bool;     // backward: true when hSeq received a gradient
override REVERSE: bool;        // walk time backwards (step s is time T-1-s)
override HAS_REC_MASK: bool;   // recurrent-dropout mask at aux[recMaskOff + b*H + k]
override HAS_SEQ_MASK: bool;   // sequence mask at aux[seqMaskOff + b*T + t]
override STAGED: bool;         // persistent forward: h_{s-1} of the rows staged in 8-row blocks
override WIDE_ROWS: bool;      // ... of 16 rows instead (lavapipe; rnn-persistent-tiles.wgsl forwardWide)
override WG: u32;              // invocations per workgroup of the persistent kernels

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> recurrentKernel: array<f32>;   // [H, GH]
@group(0) @binding(2) var<storage, read> recurrentKernelT: array<vec4f>; // [GH, HT/4]
@group(0) @binding(3) var<storage, read> aux: array<f32>;               // h0 | c0 | recMask | seqMask
@group(0) @binding(4) var<storage, read> bias: array<f32>;              // [2, 3H] GRU resetAfter (row 1 read)
@group(0) @binding(5) var<storage, read_write> gates: array<f32>;       // [B, T, GH]
@group(0) @binding(6) var<storage, read_write> hSeq: array<f32>;        // [B, T, H]
@group(0) @binding(7) var<storage, read_write> cSeq: array<f32>;        // [B, T, H]
@group(0) @binding(8) var<storage, read_write> recH: array<f32>;        // [B, T, H]
@group(0) @binding(9) var<storage, read_write> rhPrev: array<f32>;      // [B, T, H]
@group(0) @binding(10) var<storage, read_write> hLast: array<f32>;      // [B, H]
@group(0) @binding(11) var<storage, read_write> cLast: array<f32>;      // [B, H]
@group(0) @binding(12) var<storage, read> dHSeq: array<f32>;            // [B, T, H]
@group(0) @binding(13) var<storage, read_write> dG: array<f32>;         // [B, T, GH] or [B, T, 2, GH]
@group(0) @binding(14) var<storage, read_write> dhCarry: array<f32>;    // [B, H]
@group(0) @binding(15) var<storage, read_write> dcCarry: array<f32>;    // [B, H]
@group(0) @binding(16) var<storage, read> recurrentGates: array<vec4f>; // [H, H]

// vec4s per row of recurrentKernelT (HT / 4).
fn utRowVec4s() -> u32 {
  return (params.H + 7u) / 8u * 2u;
}

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

// dL/dh_s[b, j] from the step processed after it (carried) plus what hSeq itself received.
fn incomingDh(b: u32, s: u32, j: u32) -> f32 {
  var dh = dhCarry[b * params.H + j];
  if (HAS_DH_SEQ) { dh += dHSeq[rowOf(b, s) * params.H + j]; }
  return dh;
}

// Stores h (and the final state after the last step) for (b, j) at step s.
fn storeH(b: u32, s: u32, j: u32, h: f32) {
  hSeq[rowOf(b, s) * params.H + j] = h;
  if (s + 1u == params.T) { hLast[b * params.H + j] = h; }
}

// Backward, a masked step: no pre-activation gradient, dh passed straight through to step s-1.
fn passMaskedDh(b: u32, s: u32, j: u32) {
  dhCarry[b * params.H + j] = incomingDh(b, s, j);
}
