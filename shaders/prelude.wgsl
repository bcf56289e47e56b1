// prelude.wgsl — in front of every shader module (src/gpu/shader.ts), after the generated
// constants of src/gpu/wgsl-constants.ts (ACT_*, MERGE_*, CLIP_*, OPTIM_*, RNN_*: the numbers
// WGSL shares with TypeScript). Numerically stable activations and index helpers.

// NOTE: exp() of a non-positive argument never overflows, so this is finite for any finite x.
fn sigmoidStable(x: f32) -> f32 {
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

// NOTE: WGSL's tanh is "inherited from sinh/cosh" and may be NaN for |x| > ~88 (gpuweb#4458).
// tanh(±15) is ±1 in f32 already, so clamping changes no result and keeps exp() in range.
fn tanhStable(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

fn activate(code: u32, x: f32) -> f32 {
  switch code {
    case ACT_TANH: { return tanhStable(x); }
    case ACT_SIGMOID: { return sigmoidStable(x); }
    case ACT_RELU: { return max(x, 0.0); }
    case ACT_HARD_SIGMOID: { return clamp((x + 3.0) / 6.0, 0.0, 1.0); } // Keras 3 hard_sigmoid = relu6(x+3)/6
    case ACT_HARD_SIGMOID_TFJS: { return clamp(0.2 * x + 0.5, 0.0, 1.0); } // tfjs (and Keras 2) hard_sigmoid
    default: { return x; }
  }
}

// Derivative of an activation, written in terms of its OUTPUT y = activate(code, x).
fn activateGrad(code: u32, y: f32) -> f32 {
  switch code {
    case ACT_TANH: { return 1.0 - y * y; }
    case ACT_SIGMOID: { return y * (1.0 - y); }
    case ACT_RELU: { return select(0.0, 1.0, y > 0.0); }
    case ACT_HARD_SIGMOID: { return select(0.0, 1.0 / 6.0, y > 0.0 && y < 1.0); }
    case ACT_HARD_SIGMOID_TFJS: { return select(0.0, 0.2, y > 0.0 && y < 1.0); }
    default: { return 1.0; }
  }
}

// Flat invocation index of a 1-D kernel dispatched as (x, y) workgroups when x alone would
// exceed maxComputeWorkgroupsPerDimension (Kernel.groupsFor in src/gpu/shader.ts).
fn flatIndex(gid: vec3u, nwg: vec3u, wgX: u32) -> u32 {
  return gid.y * nwg.x * wgX + gid.x;
}
