// sequence.wgsl — small kernels on [B, T, F] sequences that the recurrent layers use around the
// recurrent op: dropout masks (a counter-based RNG on the GPU), broadcast mask multiplies, Keras
// Masking's step mask, Bidirectional's merge, and single time steps (custom cells). Each is
// elementwise, one invocation per output element; src/ops/sequence.ts records them.
//! op: src/ops/sequence.ts
//! reference: test/reference/sequence.ts
//! test: test/unit/sequence.test.ts

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

@group(0) @binding(0) var<uniform> dparams: DropoutParams;
@group(0) @binding(1) var<storage, read_write> rngState: array<u32>;  // [4]: [0] = step counter
@group(0) @binding(2) var<storage, read_write> maskOut: array<f32>;   // [n]

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

@group(0) @binding(3) var<uniform> mparams: MaskMulParams;
@group(0) @binding(4) var<storage, read> mulIn: array<f32>;
@group(0) @binding(5) var<storage, read> mulMask: array<f32>;
@group(0) @binding(6) var<storage, read_write> mulOut: array<f32>;

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

@group(0) @binding(7) var<uniform> sparams: StepMaskParams;
@group(0) @binding(8) var<storage, read> stepIn: array<f32>;          // [rows, F]
@group(0) @binding(9) var<storage, read_write> stepMaskOut: array<f32>; // [rows]

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
  mode: u32,     // MERGE_CONCAT, MERGE_SUM, MERGE_MUL or MERGE_AVE
  hasMask: u32,
}

@group(0) @binding(10) var<uniform> gparams: MergeParams;
@group(0) @binding(11) var<storage, read> mergeA: array<f32>;           // [rows, H]
@group(0) @binding(12) var<storage, read> mergeB: array<f32>;           // [rows, H]
@group(0) @binding(13) var<storage, read> mergeMask: array<f32>;        // [rows]
@group(0) @binding(14) var<storage, read_write> merged: array<f32>;     // [rows, H] or [rows, 2H]
@group(0) @binding(15) var<storage, read> dMerged: array<f32>;          // like merged
@group(0) @binding(16) var<storage, read_write> dMergeA: array<f32>;    // [rows, H] +=
@group(0) @binding(17) var<storage, read_write> dMergeB: array<f32>;    // [rows, H] +=

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
    case MERGE_CONCAT: {
      merged[r * 2u * H + j] = a;
      merged[r * 2u * H + H + j] = b;
    }
    case MERGE_SUM: { merged[i] = a + b; }
    case MERGE_MUL: { merged[i] = a * b; }
    case MERGE_AVE, default: { merged[i] = 0.5 * (a + b); }
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
    case MERGE_CONCAT: {
      da = dMerged[r * 2u * H + j];
      db = dMerged[r * 2u * H + H + j];
    }
    case MERGE_SUM: {
      da = dMerged[i];
      db = da;
    }
    case MERGE_MUL: {
      da = dMerged[i] * mergeB[i] * m;
      db = dMerged[i] * mergeA[i] * m;
    }
    case MERGE_AVE, default: {
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

@group(0) @binding(18) var<uniform> tparams: SliceParams;
@group(0) @binding(19) var<storage, read> sliceSrc: array<f32>;
@group(0) @binding(20) var<storage, read_write> sliceDst: array<f32>;

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

// ---------------------------------------------------------------- time reversal (goBackwards)
// out[b, t, :] (+)= x[b, T-1-t, :] for x, out [B, T, F]. Its own inverse: the backward is the same
// kernel on the gradient, accumulating.

struct ReverseParams {
  n: u32,          // B*T*F
  T: u32,
  F: u32,
  accumulate: u32,
}

@group(0) @binding(21) var<uniform> rparams: ReverseParams;
@group(0) @binding(22) var<storage, read> reverseIn: array<f32>;         // [B, T, F]
@group(0) @binding(23) var<storage, read_write> reverseOut: array<f32>;  // [B, T, F]

@compute @workgroup_size(64)
fn reverseSteps(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= rparams.n) { return; }
  let f = i % rparams.F;
  let bt = i / rparams.F;
  let t = bt % rparams.T;
  let b = bt / rparams.T;
  let v = reverseIn[(b * rparams.T + rparams.T - 1u - t) * rparams.F + f];
  reverseOut[i] = select(v, reverseOut[i] + v, rparams.accumulate == 1u);
}

// ---------------------------------------------------------------- repeat a vector over steps (RepeatVector)
// repeatSteps: out[b, t, f] = x[b, f] for t < T;  sumSteps: dx[b, f] += Σ_t dOut[b, t, f].

struct RepeatParams {
  B: u32,
  T: u32,
  F: u32,
}

@group(0) @binding(24) var<uniform> pparams: RepeatParams;
@group(0) @binding(25) var<storage, read> repeatIn: array<f32>;          // [B, F] (sumSteps: [B, T, F])
@group(0) @binding(26) var<storage, read_write> repeatOut: array<f32>;   // [B, T, F] (sumSteps: [B, F], +=)

@compute @workgroup_size(64)
fn repeatSteps(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= pparams.B * pparams.T * pparams.F) { return; }
  let f = i % pparams.F;
  let b = i / (pparams.T * pparams.F);
  repeatOut[i] = repeatIn[b * pparams.F + f];
}

@compute @workgroup_size(64)
fn sumSteps(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= pparams.B * pparams.F) { return; }
  let f = i % pparams.F;
  let b = i / pparams.F;
  var s = 0.0;
  for (var t = 0u; t < pparams.T; t++) { s += repeatIn[(b * pparams.T + t) * pparams.F + f]; }
  repeatOut[i] += s;
}

// ---------------------------------------------------------------- Gaussian noise (Keras GaussianNoise)
// out[i] = x[i] + stddev · z_i, z_i ~ N(0, 1) by Box–Muller from two hashes of (seed, counter, i)
// (the dropout RNG's counter in rngState[0], advanced once per training step by rngAdvance).
// Training only; its backward is dx += dy.

struct NoiseParams {
  n: u32,
  stddev: f32,
  seed: u32,
}

@group(0) @binding(27) var<uniform> nparams: NoiseParams;
@group(0) @binding(28) var<storage, read> noiseIn: array<f32>;          // [n]
@group(0) @binding(29) var<storage, read_write> noiseOut: array<f32>;   // [n]
@group(0) @binding(30) var<storage, read> noiseRng: array<u32>;         // [4]: [0] = step counter

@compute @workgroup_size(64)
fn gaussianNoise(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= nparams.n) { return; }
  let key = pcgHash(pcgHash(nparams.seed ^ 0x6d2b79f5u) + noiseRng[0]);
  let h1 = pcgHash(key ^ pcgHash(2u * i));
  let h2 = pcgHash(key ^ pcgHash(2u * i + 1u));
  let u1 = (f32(h1 >> 8u) + 1.0) * (1.0 / 16777216.0); // (0, 1]: log(u1) is finite
  let u2 = f32(h2 >> 8u) * (1.0 / 16777216.0);         // [0, 1)
  let z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  noiseOut[i] = noiseIn[i] + nparams.stddev * z;
}
