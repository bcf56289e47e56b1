// gru-reset-before-cell.wgsl — the GRU cell with resetAfter = false (Keras's original form; gate
// blocks z, r, h) and its persistent kernels, for one (row b, unit j) pair at processing step s:
//   z = ra(x_t·K_z + b_z + h_{t-1}·U_z);  r = ra(x_t·K_r + b_r + h_{t-1}·U_r)
//   hh = act(x_t·K_h + b_h + (r * h_{t-1})·U_h);  h_t = z*h_{t-1} + (1-z)*hh
// The candidate needs the whole row r*h_{t-1} before its matmul, so a step has two phases forward
// and three backward (one dispatch per chunk of steps like the other cells; no per-step kernels).
// With recurrent dropout m, (r * (h_{t-1} ⊙ m))·U_h. Entry points: recurrentForward / Backward.
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//! include rnn-persistent-tiles.wgsl

const GATES = 3u;      // gate blocks of U's columns and of a gates (and dG) row
const REC_GATES = 2u;  // the fused recurrent matmul h_{t-1}·U covers z and r only

// Forward phase 1. rec = [rz, rr, 0, 0]; gates holds x_t·K + b on entry and gets z, r (zeros on a
// masked step); rhPrev gets r * (h_{t-1} ⊙ m), the candidate matmul's input.
fn cellForward(b: u32, s: u32, j: u32, rec: vec4f) {
  let H = params.H;
  let row = rowOf(b, s);
  let base = row * 3u * H + j;
  var z = 0.0;
  var r = 0.0;
  if (!stepMasked(b, s)) {
    z = activate(REC_ACT, gates[base] + rec.x);
    r = activate(REC_ACT, gates[base + H] + rec.y);
  }
  gates[base] = z;
  gates[base + H] = r;
  rhPrev[row * H + j] = r * prevH(b, s, j) * recMask(b, j);
}

// Forward phase 2, every pair of the workgroup's rows: hh = act(xh + rhPrev·U_h) into gates, h_t.
fn candidateForward(row0: u32, s: u32, lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  for (var p = lid; p < params.rowsPerGroup * H; p += WG) {
    let b = row0 + p / H;
    let j = p % H;
    if (b < params.B) {
      let row = rowOf(b, s);
      let base = row * GH + j;
      let hp = prevH(b, s, j);
      var hh = 0.0;
      var h = hp;
      if (!stepMasked(b, s)) {
        var pre = gates[base + 2u * H];
        for (var k = 0u; k < H; k++) {
          pre += rhPrev[row * H + k] * recurrentGates[k * H + j].z; // U_h[k, j]
        }
        hh = activate(ACT, pre);
        let z = gates[base];
        h = z * hp + (1.0 - z) * hh;
      }
      gates[base + 2u * H] = hh;
      storeH(b, s, j, h);
    }
  }
}

// Backward phase A: dHH = dh*(1-z)*act'(hh), dZ = dh*(h_{t-1} - hh)*ra'(z); dh_{t-1} = dh*z so far.
fn cellBackward(b: u32, s: u32, j: u32) {
  let H = params.H;
  let base = rowOf(b, s) * 3u * H + j;
  let dh = incomingDh(b, s, j);
  if (stepMasked(b, s)) {
    dG[base] = 0.0;
    dG[base + 2u * H] = 0.0;
    dhCarry[b * H + j] = dh;
    return;
  }
  let z = gates[base];
  let hh = gates[base + 2u * H];
  dG[base] = dh * (prevH(b, s, j) - hh) * activateGrad(REC_ACT, z);
  dG[base + 2u * H] = dh * (1.0 - z) * activateGrad(ACT, hh);
  dhCarry[b * H + j] = dh * z;
}

// Backward phase B (needs all of dHH): dRH = U_h·dHH; dR = dRH*(h_{t-1} ⊙ m)*ra'(r) into dG;
// dh_{t-1} += dRH*r*m. dRH in the register blocks of dGDotUBlock (columns 2H..3H).
fn resetGateBackward(row0: u32, s: u32, lid: u32) {
  let H = params.H;
  let GH = 3u * H;
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
          if (r0 + q < params.rowsPerGroup && b < params.B) {
            let at = rowOf(b, s) * GH + H + k;
            if (stepMasked(b, s)) {
              dG[at] = 0.0;
            } else {
              let m = recMask(b, k);
              let dRH = lane(d[2u * q + e / 4u], e % 4u);
              let r = gates[at];
              dG[at] = dRH * prevH(b, s, k) * m * activateGrad(REC_ACT, r);
              dhCarry[b * H + k] += dRH * r * m;
            }
          }
        }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn recurrentForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let row0 = firstRow(wid, nwg);
  for (var s = params.tStart; s < params.tEnd; s++) {
    forwardStep(row0, s, lid); // z, r and r*h_{t-1}
    storageBarrier();
    workgroupBarrier();
    candidateForward(row0, s, lid);
    storageBarrier();
    workgroupBarrier();
  }
}

// BPTT (see rnn-persistent.wgsl's recurrentBackward for the carries): phases A, B, then
// C: dh_{t-1} += m ⊙ ([dZ, dR]·U_{z,r}ᵀ) (needs all of dR).
@compute @workgroup_size(WG)
fn recurrentBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let row0 = firstRow(wid, nwg);
  for (var i = params.tStart; i < params.tEnd; i++) {
    let s = params.tEnd - 1u - (i - params.tStart);
    backwardCells(row0, s, lid);
    storageBarrier();
    workgroupBarrier();
    resetGateBackward(row0, s, lid);
    storageBarrier();
    workgroupBarrier();
    dhFromDG(row0, lid, s, 3u * H, 0u, 2u * H, true);
    storageBarrier();
    workgroupBarrier();
  }
}
