// simple-rnn-cell.wgsl — the SimpleRNN cell (Keras 3): h_t = act(x_t·K + b + h_{t-1}·U), forward and
// backward for one (row b, unit j) pair at processing step s. With the shared time loops it
// includes, this file is the SimpleRNN kernel module (entry points recurrentForward /
// recurrentBackward, stepForward / stepBackward / stepDh); src/ops/rnn-cells.ts names it.
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//! include rnn-persistent.wgsl
//! include rnn-step.wgsl

const GATES = 1u;       // gate blocks of U's columns (its single "gate" is h_t itself)
const REC_GATES = 1u;   // columns of U (in blocks of H) in the recurrent matmul h_{t-1}·U
const DG_ROW = 1u;      // a dG row is DG_ROW*H floats ...
const DG_REC_OFF = 0u;  // ... whose recurrent part starts at DG_REC_OFF*H
const DH_ADDS = false;  // dh_{s-1} = m ⊙ dG·Uᵀ overwrites dhCarry (the cell leaves nothing there)

// Forward. hSeq holds x_t·K + b on entry (SimpleRNN has no gates buffer); h_t replaces it.
// rec.x = (h_{t-1} ⊙ m)·U[:, j].
fn cellForward(b: u32, s: u32, j: u32, rec: vec4f) {
  if (b >= params.B || j >= params.H) { return; }
  var h: f32;
  if (stepMasked(b, s)) {
    h = prevH(b, s, j);
  } else {
    h = activate(ACT, hSeq[rowOf(b, s) * params.H + j] + rec.x);
  }
  storeH(b, s, j, h);
}

// Backward: dG = dh * act'(h_t) (act' from the saved output).
fn cellBackward(b: u32, s: u32, j: u32) {
  let at = rowOf(b, s) * params.H + j;
  if (stepMasked(b, s)) {
    dG[at] = 0.0;
    passMaskedDh(b, s, j);
    return;
  }
  dG[at] = incomingDh(b, s, j) * activateGrad(ACT, hSeq[at]);
}
