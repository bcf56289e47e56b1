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
//   h0, c0, hLast, cLast, dhCarry, dcCarry   [B, H]
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

struct Params {
  B: u32,
  T: u32,
  H: u32,
  rowsPerGroup: u32,  // R: batch rows owned by one workgroup
  tStart: u32,        // this dispatch's chunk of steps: [tStart, tEnd)
  tEnd: u32,
  act: u32,           // activation code (prelude.wgsl)
  recAct: u32,        // recurrent activation code
  hasH0: u32,         // 0: h0 is zeros (the h0 binding is a placeholder)
  hasC0: u32,         // 0: c0 is zeros (LSTM)
  hasRecBias: u32,    // GRU resetAfter: 1 when bias row 1 (recurrent bias) exists
  hasDHSeq: u32,      // backward: 1 when hSeq received a gradient
}

const WG = 64u; // invocations per workgroup (RNN_WORKGROUP in src/ops/rnn.ts)

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> recurrentKernel: array<f32>;  // [H, GH]
@group(0) @binding(2) var<storage, read> h0: array<f32>;               // [B, H]
@group(0) @binding(3) var<storage, read> c0: array<f32>;               // [B, H]
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

// First batch row owned by this workgroup (dispatches may be split over y, see Kernel.groupsFor).
fn firstRow(wid: vec3u, nwg: vec3u) -> u32 {
  return (wid.y * nwg.x + wid.x) * params.rowsPerGroup;
}

// h_{t-1}[b, k]: h0 (or zeros) at t = 0, else hSeq[b, t-1, k].
fn prevH(b: u32, t: u32, k: u32) -> f32 {
  if (t == 0u) {
    if (params.hasH0 == 1u) { return h0[b * params.H + k]; }
    return 0.0;
  }
  return hSeq[(b * params.T + t - 1u) * params.H + k];
}

// c_{t-1}[b, k] (LSTM): c0 (or zeros) at t = 0, else cSeq[b, t-1, k].
fn prevC(b: u32, t: u32, k: u32) -> f32 {
  if (t == 0u) {
    if (params.hasC0 == 1u) { return c0[b * params.H + k]; }
    return 0.0;
  }
  return cSeq[(b * params.T + t - 1u) * params.H + k];
}

// Lane g < nGates: Σ_k h_{t-1}[b, k] · U[k, g*H + j]  (the recurrent pre-activation of unit j);
// lanes >= nGates are 0. NOTE: the gate columns are gathered into one vec4 per k, with no
// dynamically indexed vector lanes and no branch inside the k loop: both compile to slow code
// (private-memory spills) on some drivers, lavapipe included.
fn recurrentDots(b: u32, t: u32, j: u32, nGates: u32, gh: u32) -> vec4f {
  let H = params.H;
  var acc = vec4f(0.0);
  // lanes >= nGates re-read column j and are masked out at the end
  let o = vec4u(0u, select(0u, H, nGates > 1u), select(0u, 2u * H, nGates > 2u), select(0u, 3u * H, nGates > 3u));
  if (t == 0u) {
    if (params.hasH0 == 0u) { return acc; }
    let hb = b * H;
    for (var k = 0u; k < H; k++) {
      let u = k * gh + j;
      acc += h0[hb + k] * vec4f(recurrentKernel[u + o.x], recurrentKernel[u + o.y], recurrentKernel[u + o.z], recurrentKernel[u + o.w]);
    }
  } else {
    let hb = (b * params.T + t - 1u) * H;
    for (var k = 0u; k < H; k++) {
      let u = k * gh + j;
      acc += hSeq[hb + k] * vec4f(recurrentKernel[u + o.x], recurrentKernel[u + o.y], recurrentKernel[u + o.z], recurrentKernel[u + o.w]);
    }
  }
  return select(vec4f(0.0), acc, vec4<bool>(true, nGates > 1u, nGates > 2u, nGates > 3u));
}

// Σ_{c in [c0, c1)} dG[rowBase + c] · U[k, c]: gradient reaching h_{t-1}[b, k] through the
// recurrent matmul (rowBase = start of the recurrent-part gradients of row (b, t)).
fn dGDotU(rowBase: u32, k: u32, gh: u32, colStart: u32, colEnd: u32) -> f32 {
  var acc = 0.0;
  for (var c = colStart; c < colEnd; c++) {
    acc += dG[rowBase + c] * recurrentKernel[k * gh + c];
  }
  return acc;
}

// dL/dh_t[b, j] from the step above (carried) plus what hSeq itself received.
fn incomingDh(b: u32, t: u32, j: u32) -> f32 {
  var dh = dhCarry[b * params.H + j];
  if (params.hasDHSeq == 1u) { dh += dHSeq[(b * params.T + t) * params.H + j]; }
  return dh;
}

// ---------------------------------------------------------------- forward

// SimpleRNN: hSeq holds x_t·K + b on entry; h_t = act(that + h_{t-1}·U) replaces it.
@compute @workgroup_size(64)
fn simpleRnnForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var t = params.tStart; t < params.tEnd; t++) {
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let at = (b * params.T + t) * H + j;
        let h = activate(params.act, hSeq[at] + recurrentDots(b, t, j, 1u, H).x);
        hSeq[at] = h;
        if (t + 1u == params.T) { hLast[b * H + j] = h; }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// LSTM: gates holds x_t·K + b on entry; replaced by the activated i, f, g, o.
@compute @workgroup_size(64)
fn lstmForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 4u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var t = params.tStart; t < params.tEnd; t++) {
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        let pre = vec4f(gates[base], gates[base + H], gates[base + 2u * H], gates[base + 3u * H])
                + recurrentDots(b, t, j, 4u, GH);
        let gi = activate(params.recAct, pre.x);
        let gf = activate(params.recAct, pre.y);
        let gc = activate(params.act, pre.z);
        let go = activate(params.recAct, pre.w);
        let c = gf * prevC(b, t, j) + gi * gc;
        let h = go * activate(params.act, c);
        gates[base] = gi;
        gates[base + H] = gf;
        gates[base + 2u * H] = gc;
        gates[base + 3u * H] = go;
        let at = (b * params.T + t) * H + j;
        cSeq[at] = c;
        hSeq[at] = h;
        if (t + 1u == params.T) {
          hLast[b * H + j] = h;
          cLast[b * H + j] = c;
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = true: gates holds x_t·K + b[0] on entry; replaced by z, r, hh.
@compute @workgroup_size(64)
fn gruForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var t = params.tStart; t < params.tEnd; t++) {
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        var rec = recurrentDots(b, t, j, 3u, GH); // [rz, rr, rh]
        if (params.hasRecBias == 1u) {
          rec += vec4f(bias[GH + j], bias[GH + H + j], bias[GH + 2u * H + j], 0.0);
        }
        let z = activate(params.recAct, gates[base] + rec.x);
        let r = activate(params.recAct, gates[base + H] + rec.y);
        let hh = activate(params.act, gates[base + 2u * H] + r * rec.z);
        let h = z * prevH(b, t, j) + (1.0 - z) * hh;
        gates[base] = z;
        gates[base + H] = r;
        gates[base + 2u * H] = hh;
        let at = (b * params.T + t) * H + j;
        recH[at] = rec.z;
        hSeq[at] = h;
        if (t + 1u == params.T) { hLast[b * H + j] = h; }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = false: gates holds x_t·K + b on entry; replaced by z, r, hh. Two phases per
// step: z, r and r*h_{t-1} first, then (after a barrier) the candidate, which needs all of r*h.
@compute @workgroup_size(64)
fn gruResetBeforeForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                         @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var t = params.tStart; t < params.tEnd; t++) {
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        let rec = recurrentDots(b, t, j, 2u, GH); // [rz, rr]
        let z = activate(params.recAct, gates[base] + rec.x);
        let r = activate(params.recAct, gates[base + H] + rec.y);
        gates[base] = z;
        gates[base + H] = r;
        rhPrev[(b * params.T + t) * H + j] = r * prevH(b, t, j);
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        let rhBase = (b * params.T + t) * H;
        var pre = gates[base + 2u * H];
        for (var k = 0u; k < H; k++) {
          pre += rhPrev[rhBase + k] * recurrentKernel[k * GH + 2u * H + j];
        }
        let hh = activate(params.act, pre);
        let z = gates[base];
        let h = z * prevH(b, t, j) + (1.0 - z) * hh;
        gates[base + 2u * H] = hh;
        hSeq[rhBase + j] = h;
        if (t + 1u == params.T) { hLast[b * H + j] = h; }
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// ---------------------------------------------------------------- backward (BPTT)
// Steps run from tEnd-1 down to tStart. dhCarry (and dcCarry) hold dL/dh_t (dL/dc_t) coming from
// step t+1 on entry to step t and dL/dh_{t-1} (dL/dc_{t-1}) on exit; the host initialises them
// from the gradients of hLast / cLast (or zeros) before the first chunk.

// SimpleRNN: dG = dh * act'(h); dh_{t-1} = dG·Uᵀ.
@compute @workgroup_size(64)
fn simpleRnnBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var s = params.tStart; s < params.tEnd; s++) {
    let t = params.tEnd - 1u - (s - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let at = (b * params.T + t) * H + j;
        dG[at] = incomingDh(b, t, j) * activateGrad(params.act, hSeq[at]);
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let k = p % H;
      if (b < params.B) {
        dhCarry[b * H + k] = dGDotU((b * params.T + t) * H, k, H, 0u, H);
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// LSTM: h = o*act(c), c = f*c_{t-1} + i*g.
//   do = dh*act(c); dc = dc_carry + dh*o*act'(c); di = dc*g; df = dc*c_{t-1}; dg = dc*i
//   dc_{t-1} = dc*f; dh_{t-1} = dG·Uᵀ
@compute @workgroup_size(64)
fn lstmBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 4u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var s = params.tStart; s < params.tEnd; s++) {
    let t = params.tEnd - 1u - (s - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        let gi = gates[base];
        let gf = gates[base + H];
        let gc = gates[base + 2u * H];
        let go = gates[base + 3u * H];
        let actC = activate(params.act, cSeq[(b * params.T + t) * H + j]);
        let dh = incomingDh(b, t, j);
        let dc = dcCarry[b * H + j] + dh * go * activateGrad(params.act, actC);
        dG[base] = dc * gc * activateGrad(params.recAct, gi);
        dG[base + H] = dc * prevC(b, t, j) * activateGrad(params.recAct, gf);
        dG[base + 2u * H] = dc * gi * activateGrad(params.act, gc);
        dG[base + 3u * H] = dh * actC * activateGrad(params.recAct, go);
        dcCarry[b * H + j] = dc * gf;
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let k = p % H;
      if (b < params.B) {
        dhCarry[b * H + k] = dGDotU((b * params.T + t) * GH, k, GH, 0u, GH);
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = true: h = z*h_{t-1} + (1-z)*hh, hh = act(xh + r*rh).
//   dHH = dh*(1-z)*act'(hh); dZ = dh*(h_{t-1} - hh)*ra'(z); dR = dHH*rh*ra'(r)
//   input part [dZ, dR, dHH]; recurrent part [dZ, dR, dHH*r]
//   dh_{t-1} = dh*z + (recurrent part)·Uᵀ
@compute @workgroup_size(64)
fn gruBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var s = params.tStart; s < params.tEnd; s++) {
    let t = params.tEnd - 1u - (s - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        let dBase = (b * params.T + t) * 2u * GH + j;
        let z = gates[base];
        let r = gates[base + H];
        let hh = gates[base + 2u * H];
        let dh = incomingDh(b, t, j);
        let dPreH = dh * (1.0 - z) * activateGrad(params.act, hh);
        let dPreZ = dh * (prevH(b, t, j) - hh) * activateGrad(params.recAct, z);
        let dPreR = dPreH * recH[(b * params.T + t) * H + j] * activateGrad(params.recAct, r);
        dG[dBase] = dPreZ;
        dG[dBase + H] = dPreR;
        dG[dBase + 2u * H] = dPreH;
        dG[dBase + GH] = dPreZ;
        dG[dBase + GH + H] = dPreR;
        dG[dBase + GH + 2u * H] = dPreH * r;
        dhCarry[b * H + j] = dh * z;
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let k = p % H;
      if (b < params.B) {
        dhCarry[b * H + k] += dGDotU((b * params.T + t) * 2u * GH + GH, k, GH, 0u, GH);
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}

// GRU, resetAfter = false: hh = act(xh + (r*h_{t-1})·U_h). Three phases per step:
//   A: dHH = dh*(1-z)*act'(hh), dZ = dh*(h_{t-1} - hh)*ra'(z); carry = dh*z
//   B: dRH = U_h·dHH (needs all of dHH); dR = dRH*h_{t-1}*ra'(r); carry += dRH*r
//   C: carry += [dZ, dR]·U_{z,r}ᵀ (needs all of dR)
@compute @workgroup_size(64)
fn gruResetBeforeBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                          @builtin(local_invocation_index) lid: u32) {
  let H = params.H;
  let GH = 3u * H;
  let row0 = firstRow(wid, nwg);
  let pairs = params.rowsPerGroup * H;
  for (var s = params.tStart; s < params.tEnd; s++) {
    let t = params.tEnd - 1u - (s - params.tStart);
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let j = p % H;
      if (b < params.B) {
        let base = (b * params.T + t) * GH + j;
        let z = gates[base];
        let hh = gates[base + 2u * H];
        let dh = incomingDh(b, t, j);
        dG[base] = dh * (prevH(b, t, j) - hh) * activateGrad(params.recAct, z);
        dG[base + 2u * H] = dh * (1.0 - z) * activateGrad(params.act, hh);
        dhCarry[b * H + j] = dh * z;
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let k = p % H;
      if (b < params.B) {
        let rowBase = (b * params.T + t) * GH;
        let dRH = dGDotU(rowBase, k, GH, 2u * H, GH);
        let r = gates[rowBase + H + k];
        dG[rowBase + H + k] = dRH * prevH(b, t, k) * activateGrad(params.recAct, r);
        dhCarry[b * H + k] += dRH * r;
      }
    }
    storageBarrier();
    workgroupBarrier();
    for (var p = lid; p < pairs; p += WG) {
      let b = row0 + p / H;
      let k = p % H;
      if (b < params.B) {
        dhCarry[b * H + k] += dGDotU((b * params.T + t) * GH, k, GH, 0u, 2u * H);
      }
    }
    storageBarrier();
    workgroupBarrier();
  }
}
