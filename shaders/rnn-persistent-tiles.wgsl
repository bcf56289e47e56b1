// rnn-persistent-tiles.wgsl — how a persistent recurrent workgroup shares one time step among its
// WG invocations: the forward recurrent matmul h_{s-1}·U in register blocks, the cells' epilogue
// over the (row, unit) pairs, and BPTT's dh_{s-1} = m ⊙ (dG·Uᵀ) in register blocks. The time
// loops that call these are in rnn-persistent.wgsl and gru-reset-before-cell.wgsl; the cell file
// of the module defines GATES, REC_GATES, cellForward and cellBackward.
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//
// Why blocks: on CPU adapters every load an invocation makes is a gather (SwiftShader: four scalar
// loads, each bounds-checked; lavapipe: a loop over the lanes), so the loads per multiply-add set
// the speed. Forward: 8 batch rows (RNN_ROW_BLOCK) × 4 units per invocation, the rows' h_{s-1} ⊙
// recMask staged in workgroup memory (per k: 8 h loads and 16 U loads feed 128 multiply-adds) — for
// CPU adapters (STAGED); 16 rows on lavapipe (WIDE_ROWS: forwardWide, dhFromDGWide). GPUs (or rows
// too wide to stage) take one (row, unit) pair per invocation (recurrentDots). BPTT: 8 rows × 8
// units per invocation (BRB × BKB), dG read straight from storage. Measurements: docs/performance.md.
//! include rnn-common.wgsl

var<workgroup> hSh: array<f32, RNN_STAGE_FLOATS>; // [roundUp(R, rowBlock()), H]: h_{s-1} ⊙ recMask (0 past B)

// ---------------------------------------------------------------- forward: h_{s-1}·U

// The gates of the 4 units ju at input k, one vec4 per unit (recurrentGates: U by unit).
struct UnitQuad { u0: vec4f, u1: vec4f, u2: vec4f, u3: vec4f }
fn quadGates(k: u32, ju: vec4u) -> UnitQuad {
  let ub = vec4u(k * params.H) + ju;
  return UnitQuad(recurrentGates[ub.x], recurrentGates[ub.y], recurrentGates[ub.z], recurrentGates[ub.w]);
}

// Lane g < nGates: Σ_k (h_{s-1} ⊙ recMask)[b, k] · U[k, g*H + j] (the recurrent pre-activation of
// unit j); lanes >= nGates are 0. NOTE: no branch inside the k loops (the mask / no-mask choice is
// a uniform branch around them): that compiles to slow code on some drivers, lavapipe included.
fn recurrentDots(b: u32, s: u32, j: u32, nGates: u32) -> vec4f {
  let H = params.H;
  var acc = vec4f(0.0);
  let mb = params.recMaskOff + b * H;
  if (s == 0u) {
    if (!HAS_H0) { return acc; }
    let hb = params.h0Off + b * H;
    if (HAS_REC_MASK) {
      for (var k = 0u; k < H; k++) { acc += aux[hb + k] * aux[mb + k] * recurrentGates[k * H + j]; }
    } else {
      for (var k = 0u; k < H; k++) { acc += aux[hb + k] * recurrentGates[k * H + j]; }
    }
  } else {
    let hb = rowOf(b, s - 1u) * H;
    if (HAS_REC_MASK) {
      for (var k = 0u; k < H; k++) { acc += hSeq[hb + k] * aux[mb + k] * recurrentGates[k * H + j]; }
    } else {
      for (var k = 0u; k < H; k++) { acc += hSeq[hb + k] * recurrentGates[k * H + j]; }
    }
  }
  return select(vec4f(0.0), acc, gateLanes(nGates));
}

// The lanes g < nGates of a gates vec4 (recurrentGates holds every gate of the cell; a cell whose
// recurrent matmul covers fewer, GRU resetBefore's z and r, drops the rest).
fn gateLanes(nGates: u32) -> vec4<bool> {
  return vec4<bool>(true, nGates > 1u, nGates > 2u, nGates > 3u);
}

// Rows per staged block: 8, or 16 on lavapipe (WIDE_ROWS, see forwardWide).
fn rowBlock() -> u32 {
  return select(RNN_ROW_BLOCK, RNN_ROW_BLOCK_WIDE, WIDE_ROWS);
}

fn paddedRows() -> u32 {
  return ((params.rowsPerGroup + rowBlock() - 1u) / rowBlock()) * rowBlock();
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
fn recurrentDotsBlock(rb: u32, j0: u32, nGates: u32) -> array<vec4f, 32> {
  let H = params.H;
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
    let g = quadGates(k, ju);
    let hk = h0 + k;
    let x0 = hSh[hk];
    a00 += x0 * g.u0;
    a01 += x0 * g.u1;
    a02 += x0 * g.u2;
    a03 += x0 * g.u3;
    let x1 = hSh[hk + H];
    a10 += x1 * g.u0;
    a11 += x1 * g.u1;
    a12 += x1 * g.u2;
    a13 += x1 * g.u3;
    let x2 = hSh[hk + 2u * H];
    a20 += x2 * g.u0;
    a21 += x2 * g.u1;
    a22 += x2 * g.u2;
    a23 += x2 * g.u3;
    let x3 = hSh[hk + 3u * H];
    a30 += x3 * g.u0;
    a31 += x3 * g.u1;
    a32 += x3 * g.u2;
    a33 += x3 * g.u3;
    let x4 = hSh[hk + 4u * H];
    a40 += x4 * g.u0;
    a41 += x4 * g.u1;
    a42 += x4 * g.u2;
    a43 += x4 * g.u3;
    let x5 = hSh[hk + 5u * H];
    a50 += x5 * g.u0;
    a51 += x5 * g.u1;
    a52 += x5 * g.u2;
    a53 += x5 * g.u3;
    let x6 = hSh[hk + 6u * H];
    a60 += x6 * g.u0;
    a61 += x6 * g.u1;
    a62 += x6 * g.u2;
    a63 += x6 * g.u3;
    let x7 = hSh[hk + 7u * H];
    a70 += x7 * g.u0;
    a71 += x7 * g.u1;
    a72 += x7 * g.u2;
    a73 += x7 * g.u3;
  }
  let m = select(vec4f(0.0), vec4f(1.0), gateLanes(nGates));
  return array<vec4f, 32>(a00 * m, a01 * m, a02 * m, a03 * m, a10 * m, a11 * m, a12 * m, a13 * m, a20 * m, a21 * m, a22 * m, a23 * m, a30 * m, a31 * m, a32 * m, a33 * m, a40 * m, a41 * m, a42 * m, a43 * m, a50 * m, a51 * m, a52 * m, a53 * m, a60 * m, a61 * m, a62 * m, a63 * m, a70 * m, a71 * m, a72 * m, a73 * m);
}

// lavapipe (WIDE_ROWS): the staged rows ob*16.. of the block × the 4 units 4p..4p+3, cellForward
// included. lavapipe turns every load whose address is not a constant into a loop over the
// lanes (a branch, a bounds check and a scalar load each), whether the address is the same for
// every lane or not, so loads per multiply-add set the speed: 16 rows share each U load here
// (32 loads per 256 multiply-adds, against 24 per 128 in the 8-row block). The accumulators are
// an array indexed only in constant-trip loops, which lavapipe unrolls into registers;
// SwiftShader would keep it in memory and takes the 8-row block (docs/performance.md).
fn forwardWide(row0: u32, s: u32, ob: u32, p: u32) {
  let H = params.H;
  let j0 = 4u * p;
  let ju = min(vec4u(j0) + vec4u(0u, 1u, 2u, 3u), vec4u(H - 1u));
  let h0 = ob * RNN_ROW_BLOCK_WIDE * H;
  var acc = array<vec4f, 4u * RNN_ROW_BLOCK_WIDE>();
  for (var k = 0u; k < H; k++) {
    let g = quadGates(k, ju);
    for (var q = 0u; q < RNN_ROW_BLOCK_WIDE; q++) {
      let x = vec4f(hSh[h0 + q * H + k]);
      acc[4u * q] = fma(x, g.u0, acc[4u * q]);
      acc[4u * q + 1u] = fma(x, g.u1, acc[4u * q + 1u]);
      acc[4u * q + 2u] = fma(x, g.u2, acc[4u * q + 2u]);
      acc[4u * q + 3u] = fma(x, g.u3, acc[4u * q + 3u]);
    }
  }
  let m = select(vec4f(0.0), vec4f(1.0), gateLanes(REC_GATES));
  for (var q = 0u; q < RNN_ROW_BLOCK_WIDE; q++) {
    let r = ob * RNN_ROW_BLOCK_WIDE + q;
    for (var u = 0u; u < 4u; u++) {
      if (j0 + u < H && r < params.rowsPerGroup && row0 + r < params.B) {
        cellForward(row0 + r, s, j0 + u, acc[4u * q + u] * m);
      }
    }
  }
}

// One task of the forward work split for step s: task p of row block ob. Staged (CPU adapters):
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
  return select(1u, paddedRows() / rowBlock(), STAGED);
}

fn forwardTasks() -> u32 {
  return select(params.rowsPerGroup * params.H, (params.H + 3u) / 4u, STAGED);
}

fn forwardTile(row0: u32, s: u32, ob: u32, p: u32) -> ForwardTile {
  var t: ForwardTile;
  if (STAGED) {
    t.r0 = ob * RNN_ROW_BLOCK;
    t.j0 = 4u * p;
    t.nRows = RNN_ROW_BLOCK;
    t.nUnits = min(4u, params.H - t.j0);
    t.recs = recurrentDotsBlock(t.r0, t.j0, REC_GATES);
  } else {
    t.r0 = p / params.H;
    t.j0 = p % params.H;
    t.nRows = 1u;
    t.nUnits = 1u;
    let b = row0 + t.r0;
    if (b < params.B) { t.recs[0] = recurrentDots(b, s, t.j0, REC_GATES); }
  }
  return t;
}

// Step s forward for the workgroup's rows: stage h_{s-1} (CPU adapters), then cellForward for every
// (row, unit) pair with its recurrent pre-activations. Call in uniform control flow; the caller
// puts `storageBarrier(); workgroupBarrier();` after it before the next step reads hSeq.
fn forwardStep(row0: u32, s: u32, lid: u32) {
  if (STAGED) { stageHPrev(row0, s, lid); }
  workgroupBarrier();
  // Staged: the row block is the (uniform) outer loop, so the staged-h reads are the same for
  // every invocation (broadcast loads); invocations stride over groups of 4 units.
  for (var ob = 0u; ob < forwardRowBlocks(); ob++) {
    for (var p = lid; p < forwardTasks(); p += WG) {
      if (STAGED && WIDE_ROWS) {
        forwardWide(row0, s, ob, p);
        continue;
      }
      let t = forwardTile(row0, s, ob, p);
      for (var q = 0u; q < t.nRows; q++) {
        for (var u = 0u; u < t.nUnits; u++) {
          let b = row0 + t.r0 + q;
          if (t.r0 + q < params.rowsPerGroup && b < params.B) {
            cellForward(b, s, t.j0 + u, t.recs[4u * q + u]);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- backward: dG·Uᵀ

// cellBackward for every (row, unit) pair of the workgroup's rows at step s (dG of the step and
// the part of dh_{s-1} that needs no matmul).
fn backwardCells(row0: u32, s: u32, lid: u32) {
  let H = params.H;
  for (var p = lid; p < params.rowsPerGroup * H; p += WG) {
    let b = row0 + p / H;
    if (b < params.B) { cellBackward(b, s, p % H); }
  }
}

// BPTT's dG·Uᵀ is blocked BRB rows × BKB units per invocation: per column c, 8 dG loads and 8 Uᵀ
// loads feed 64 multiply-adds (8 × 8 measured 1.25x faster than 8 × 4 on SwiftShader and
// lavapipe at LSTM(128)); the rows stay the uniform outer loop so that dG reads are broadcasts
// where the compiler sees it (lavapipe). Invocations with no units left idle (cheap on CPUs).
const BRB = 8u;
const BKB = 8u;

fn bwdRowBlocks() -> u32 {
  return (params.rowsPerGroup + BRB - 1u) / BRB;
}

// Component i (< 4) of v, without a dynamically indexed vector (slow code on some drivers).
fn lane(v: vec4f, i: u32) -> f32 {
  return select(select(select(v.w, v.z, i == 2u), v.y, i == 1u), v.x, i == 0u);
}

// Storage offsets rowOf(b, s) * stride + off of the 4 rows row0+rb.. (rows past R or B are
// clamped to a valid row; their results are discarded by the caller).
fn blockBases(row0: u32, rb: u32, s: u32, stride: u32, off: u32) -> vec4u {
  let last = min(row0 + params.rowsPerGroup, params.B) - 1u;
  return vec4u(rowOf(min(row0 + rb, last), s), rowOf(min(row0 + rb + 1u, last), s),
               rowOf(min(row0 + rb + 2u, last), s), rowOf(min(row0 + rb + 3u, last), s)) * stride + vec4u(off);
}

// Σ_{c in [colStart, colEnd)} dG[base_q + c] · U[k0 + i, c] for the 8 rows q whose dG offsets are
// ba (q = 0..3) and bb (q = 4..7) and the 8 units k0..k0+7 (clamped to H-1; the caller discards
// those past H): element 2*q + i/4 of the result holds units 4*(i/4)..+3 of row q. U is read
// transposed (recurrentKernelT, made once per step), 8 units as 2 vec4s (k0 is a multiple of 8,
// its rows are padded to a multiple of 8: units past H read padding, their results are dropped).
fn dGDotUBlock(ba: vec4u, bb: vec4u, k0: u32, colStart: u32, colEnd: u32) -> array<vec4f, 16> {
  let rv = utRowVec4s();
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
    let ub = c * rv + k0 / 4u;
    let u = recurrentKernelT[ub];
    let v = recurrentKernelT[ub + 1u];
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

// lavapipe (WIDE_ROWS): dhFromDG's blocks are 16 rows × 8 units (24 loads per column feed 128
// multiply-adds, against 16 per 64), accumulated in an array as in forwardWide.
fn dhFromDGWide(row0: u32, lid: u32, s: u32, stride: u32, off: u32, cols: u32, adds: bool) {
  let H = params.H;
  let last = min(row0 + params.rowsPerGroup, params.B) - 1u;
  for (var ob = 0u; ob < (params.rowsPerGroup + RNN_ROW_BLOCK_WIDE - 1u) / RNN_ROW_BLOCK_WIDE; ob++) {
    let r0 = ob * RNN_ROW_BLOCK_WIDE;
    // dG offsets of the block's rows (rows past R or B clamped to a valid one, results dropped)
    var base = array<u32, RNN_ROW_BLOCK_WIDE>();
    for (var q = 0u; q < RNN_ROW_BLOCK_WIDE; q++) { base[q] = rowOf(min(row0 + r0 + q, last), s) * stride + off; }
    for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
      let rv = utRowVec4s();
      var acc = array<vec4f, 2u * RNN_ROW_BLOCK_WIDE>();
      for (var c = 0u; c < cols; c++) {
        let ub = c * rv + k0 / 4u; // as in dGDotUBlock
        let u = recurrentKernelT[ub];
        let v = recurrentKernelT[ub + 1u];
        for (var q = 0u; q < RNN_ROW_BLOCK_WIDE; q++) {
          let d = vec4f(dG[base[q] + c]);
          acc[2u * q] = fma(d, u, acc[2u * q]);
          acc[2u * q + 1u] = fma(d, v, acc[2u * q + 1u]);
        }
      }
      for (var q = 0u; q < RNN_ROW_BLOCK_WIDE; q++) {
        let b = row0 + r0 + q;
        for (var e = 0u; e < BKB; e++) {
          let k = k0 + e;
          if (k < H && r0 + q < params.rowsPerGroup && b < params.B && !stepMasked(b, s)) {
            let val = recMask(b, k) * lane(acc[2u * q + e / 4u], e % 4u);
            if (adds) { dhCarry[b * H + k] += val; } else { dhCarry[b * H + k] = val; }
          }
        }
      }
    }
  }
}

// dh_{s-1}[b, k] (= or, with `adds`, +=) recMask(b, k) · Σ_{c < cols} dG[rowOf(b, s)*stride + off + c]·U[k, c]
// for the workgroup's rows whose step s is not masked (a masked step's dh was passed through by
// the cell). Call after every dG of the step is written (storageBarrier + workgroupBarrier).
fn dhFromDG(row0: u32, lid: u32, s: u32, stride: u32, off: u32, cols: u32, adds: bool) {
  if (WIDE_ROWS) {
    dhFromDGWide(row0, lid, s, stride, off, cols, adds);
    return;
  }
  let H = params.H;
  for (var ob = 0u; ob < bwdRowBlocks(); ob++) { // uniform row block: dG reads are broadcasts
    let r0 = ob * BRB;
    let ba = blockBases(row0, r0, s, stride, off);
    let bb = blockBases(row0, r0 + 4u, s, stride, off);
    for (var k0 = lid * BKB; k0 < H; k0 += WG * BKB) {
      let d = dGDotUBlock(ba, bb, k0, 0u, cols);
      for (var q = 0u; q < BRB; q++) {
        let b = row0 + r0 + q;
        for (var e = 0u; e < min(BKB, H - k0); e++) {
          let k = k0 + e;
          if (r0 + q < params.rowsPerGroup && b < params.B && !stepMasked(b, s)) {
            let v = recMask(b, k) * lane(d[2u * q + e / 4u], e % 4u);
            if (adds) { dhCarry[b * H + k] += v; } else { dhCarry[b * H + k] = v; }
          }
        }
      }
    }
  }
}
