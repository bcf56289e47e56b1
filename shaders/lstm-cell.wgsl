// lstm-cell.wgsl — the LSTM cell (Keras 3, gate blocks i, f, c, o), forward and backward for one
// (row b, unit j) pair at processing step s:
//   [zi, zf, zc, zo] = x_t·K + b + h_{t-1}·U;  i, f, o = ra(z·), g = act(zc)
//   c_t = f*c_{t-1} + i*g;  h_t = o*act(c_t)
// With the shared time loops it includes, this file is the LSTM kernel module (entry points
// recurrentForward / recurrentBackward, stepForward / stepBackward / stepDh).
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//! include rnn-persistent.wgsl
//! include rnn-step.wgsl

const GATES = 4u;       // gate blocks of U's columns and of a gates row
const REC_GATES = 4u;   // columns of U (in blocks of H) in the recurrent matmul h_{t-1}·U
const DG_ROW = 4u;      // a dG row is DG_ROW*H floats ...
const DG_REC_OFF = 0u;  // ... whose recurrent part starts at DG_REC_OFF*H
const DH_ADDS = false;  // dh_{s-1} = m ⊙ dG·Uᵀ overwrites dhCarry

// Forward. rec = (h_{t-1} ⊙ m)·U for the four gates of unit j; gates holds x_t·K + b on entry and
// gets the activated i, f, g, o (zeros on a masked step); c_t goes to cSeq.
fn cellForward(b: u32, s: u32, j: u32, rec: vec4f) {
  let H = params.H;
  if (b >= params.B || j >= H) { return; }
  let row = rowOf(b, s);
  let base = row * 4u * H + j;
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
  cSeq[row * H + j] = c;
  if (s + 1u == params.T) { cLast[b * H + j] = c; }
  storeH(b, s, j, h);
}

// Backward, from the saved activated gates and c_t (act(c_t) is recomputed):
//   do = dh*act(c); dc = dc_carry + dh*o*act'(c); di = dc*g; df = dc*c_{t-1}; dg = dc*i;
//   dc_{t-1} = dc*f  (each d· times its activation's derivative for dG)
fn cellBackward(b: u32, s: u32, j: u32) {
  let H = params.H;
  let row = rowOf(b, s);
  let base = row * 4u * H + j;
  if (stepMasked(b, s)) {
    dG[base] = 0.0;
    dG[base + H] = 0.0;
    dG[base + 2u * H] = 0.0;
    dG[base + 3u * H] = 0.0;
    passMaskedDh(b, s, j);
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
