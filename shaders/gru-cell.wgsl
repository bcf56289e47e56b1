// gru-cell.wgsl — the GRU cell with resetAfter = true (Keras 3's default and cuDNN's form; gate
// blocks z, r, h), forward and backward for one (row b, unit j) pair at processing step s:
//   [xz, xr, xh] = x_t·K + b[0];  [rz, rr, rh] = h_{t-1}·U + b[1]
//   z = ra(xz + rz);  r = ra(xr + rr);  hh = act(xh + r*rh);  h_t = z*h_{t-1} + (1-z)*hh
// With the shared time loops it includes, this file is the GRU kernel module (entry points
// recurrentForward / recurrentBackward, stepForward / stepBackward / stepDh). resetAfter = false:
// gru-reset-before-cell.wgsl.
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//! include rnn-persistent.wgsl
//! include rnn-step.wgsl

const GATES = 3u;       // gate blocks of U's columns and of a gates row
const REC_GATES = 3u;   // columns of U (in blocks of H) in the recurrent matmul h_{t-1}·U
const DG_ROW = 6u;      // a dG row is [input part | recurrent part], 2 * 3H floats ...
const DG_REC_OFF = 3u;  // ... whose recurrent part starts at 3H
const DH_ADDS = true;   // dh_{s-1} = dh*z (left by the cell) + m ⊙ dGrec·Uᵀ

// Forward. rec = [rz, rr, rh, 0] without the recurrent bias; gates holds x_t·K + b[0] on entry and
// gets z, r, hh (zeros on a masked step); recH gets rh (what dR needs).
fn cellForward(b: u32, s: u32, j: u32, recIn: vec4f) {
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
  recH[row * H + j] = rh;
  storeH(b, s, j, h);
}

// Backward:
//   dHH = dh*(1-z)*act'(hh);  dZ = dh*(h_{t-1} - hh)*ra'(z);  dR = dHH*rh*ra'(r)
//   input part [dZ, dR, dHH]; recurrent part [dZ, dR, dHH*r]; dh_{t-1} = dh*z (+ the matmul part)
fn cellBackward(b: u32, s: u32, j: u32) {
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
