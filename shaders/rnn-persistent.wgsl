// rnn-persistent.wgsl — the persistent time-loop kernels of the cells with one recurrent matmul
// per step (SimpleRNN, LSTM, GRU resetAfter; GRU resetBefore has its own in its cell file).
// Workgroup w owns the batch rows [w*R, (w+1)*R) and loops over the steps [tStart, tEnd) of one
// chunk (the host splits T into chunks, one dispatch each, to stay clear of GPU watchdogs). A
// batch row depends only on itself, so workgroups never wait for each other — no grid barrier,
// which WebGPU does not have; within a workgroup, what one phase writes is read after
// `storageBarrier(); workgroupBarrier();`, always in the uniform time loop.
//! op: src/ops/rnn.ts
//! reference: test/reference/rnn.ts
//! test: test/unit/rnn.test.ts
//! include rnn-persistent-tiles.wgsl

// Forward over steps tStart..tEnd-1: the cell's input projection is in gates (SimpleRNN: hSeq) on
// entry; cellForward replaces it with what backward reads and writes h_t (and c_t).
@compute @workgroup_size(WG)
fn recurrentForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let row0 = firstRow(wid, nwg);
  for (var s = params.tStart; s < params.tEnd; s++) {
    forwardStep(row0, s, lid);
    storageBarrier();
    workgroupBarrier();
  }
}

// BPTT over steps tEnd-1 down to tStart. dhCarry (and dcCarry) hold dL/dh_s (dL/dc_s) from step
// s+1 on entry to step s and dL/dh_{s-1} (dL/dc_{s-1}) on exit; the host initialises them from the
// gradients of hLast / cLast (or zeros) before the first chunk. Per step: the cells write dG and
// the part of dh_{s-1} without a matmul, then dh_{s-1} (+)= m ⊙ (recurrent dG)·Uᵀ.
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
    dhFromDG(row0, lid, s, DG_ROW * H, DG_REC_OFF * H, REC_GATES * H, DH_ADDS);
    storageBarrier();
    workgroupBarrier();
  }
}
