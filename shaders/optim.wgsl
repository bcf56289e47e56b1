// optim.wgsl — optimizer updates over the flat parameter arena (one dispatch per update for the
// whole model). Adam follows Keras 3 exactly:
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (g - m) * (1 - beta1);  v += (g*g - v) * (1 - beta2);  p -= alpha * m / (sqrt(v) + eps)
// The step counter t lives on the GPU (state[0]), advanced by adamStep, so a training step needs
// no CPU write of per-step values.

struct Params {
  n: u32,
  learningRate: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;     // [n] parameters
@group(0) @binding(2) var<storage, read> g: array<f32>;           // [n] gradients
@group(0) @binding(3) var<storage, read_write> m: array<f32>;     // [n] first moments
@group(0) @binding(4) var<storage, read_write> v: array<f32>;     // [n] second moments
@group(0) @binding(5) var<storage, read_write> state: array<f32>; // [1] step counter t
@group(0) @binding(6) var<storage, read> stateIn: array<f32>;     // [1] step counter (read-only view)

@compute @workgroup_size(1)
fn adamStep() {
  state[0] = state[0] + 1.0;
}

@compute @workgroup_size(64)
fn adamUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  let t = stateIn[0];
  let alpha = params.learningRate * sqrt(1.0 - pow(params.beta2, t)) / (1.0 - pow(params.beta1, t));
  let gi = g[i];
  let mi = m[i] + (gi - m[i]) * (1.0 - params.beta1);
  let vi = v[i] + (gi * gi - v[i]) * (1.0 - params.beta2);
  m[i] = mi;
  v[i] = vi;
  p[i] = p[i] - alpha * mi / (sqrt(vi) + params.epsilon);
}

// p -= lr * g
@compute @workgroup_size(64)
fn sgdUpdate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg, 64u);
  if (i >= params.n) { return; }
  p[i] = p[i] - params.learningRate * g[i];
}
