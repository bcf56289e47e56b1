#!/usr/bin/env python3
"""cuDNN reference for `npm run bench` (docs/performance.md, "Real GPU (H100)").

Times one training step (forward + backward + Adam, MSE) of PyTorch's cuDNN nn.LSTM / nn.GRU on
the benchmark's configurations, FP32 with TF32 OFF (WebGPU has no tensor cores), and separately
with TF32 allowed. Same shapes as bench/configs.ts; head = Linear(H, 1) on the last output.
Prints a table and writes JSON to $OUT (or the current folder).

UNTESTED: no work session has had a GPU yet. Needs only torch (the lent H100 image has it).
    python3 bench/cudnn_rnn.py [--steps 50] [--configs lstm20x2,lstm128]

Note: cuDNN's GRU is reset_after=True (Keras 3 default), i.e. it matches `gru20x2-ra`, not
tfjs's resetAfter=false `gru20x2`.
"""
import argparse
import json
import os
import statistics
import time

import torch

CONFIGS = {
    # id: (cell, units per layer, B, T, I)
    "lstm20x2": ("lstm", [20, 20], 32, 50, 1),
    "lstm128": ("lstm", [128], 64, 50, 8),
    "gru20x2-ra": ("gru", [20, 20], 32, 50, 1),
    "lstm256": ("lstm", [256], 64, 100, 32),
}


def training_flops(cell, units, B, T, I):
    """Same count as bench/configs.ts trainingFlops (docs/kernel-design.md section 5)."""
    G = 4 if cell == "lstm" else 3
    total, inp = 0, I
    for layer, H in enumerate(units):
        total += 6 * T * B * G * H * (inp + H)
        if layer == 0:
            total -= 2 * T * B * G * H * inp
        inp = H
    return total


class Net(torch.nn.Module):
    def __init__(self, cell, units, I):
        super().__init__()
        assert len(set(units)) == 1, "stacked layers of equal width only"
        rnn = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        self.rnn = rnn(I, units[0], num_layers=len(units), batch_first=True)
        self.head = torch.nn.Linear(units[0], 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1])


def set_tf32(allow):
    """TF32 on/off for cuDNN RNNs and matmuls. Newer torch has per-backend `fp32_precision`
    knobs and may reject mixing them with the legacy allow_tf32 flags: use one API only."""
    rnn_knobs = getattr(torch.backends.cudnn, "rnn", None)
    if rnn_knobs is not None and hasattr(rnn_knobs, "fp32_precision"):
        prec = "tf32" if allow else "ieee"
        for knob in (torch.backends.cudnn.rnn, torch.backends.cudnn, torch.backends.cuda.matmul):
            if hasattr(knob, "fp32_precision"):
                knob.fp32_precision = prec
    else:
        torch.backends.cuda.matmul.allow_tf32 = allow
        torch.backends.cudnn.allow_tf32 = allow


def time_config(cid, steps, rounds, tf32):
    cell, units, B, T, I = CONFIGS[cid]
    set_tf32(tf32)
    torch.manual_seed(0)
    dev = torch.device("cuda")
    net = Net(cell, units, I).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(B, T, I, device=dev) * 2 - 1
    y = torch.rand(B, 1, device=dev) * 2 - 1
    loss_fn = torch.nn.MSELoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    ms = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps - 1):
            step()
        step().item()  # awaited readback, as on the WebGPU side
        ms.append((time.perf_counter() - t0) * 1000 / steps)
    med = statistics.median(ms)
    q = statistics.quantiles(ms, n=4) if len(ms) > 1 else [med, med, med]
    flops = training_flops(cell, units, B, T, I)
    return {
        "id": cid, "tf32": tf32, "msPerStep": ms, "median": med, "q1": q[0], "q3": q[2],
        "samplesPerSec": B * 1000 / med, "gflops": flops / (med * 1e6), "flopsPerStep": flops,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    a = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device")
    results = []
    for cid in a.configs.split(","):
        for tf32 in (False, True):
            r = time_config(cid, a.steps, a.rounds, tf32)
            results.append(r)
            print(f"{cid:12s} tf32={'on ' if tf32 else 'off'} {r['median']:9.3f} ms/step "
                  f"(IQR {r['q1']:.3f}-{r['q3']:.3f})  {r['samplesPerSec']:10.0f} samples/s  {r['gflops']:8.1f} GFLOP/s")
    rec = {
        "schema": "webgpu-rnn-bench-cudnn/1",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "results": results,
    }
    out = os.environ.get("OUT", ".")
    path = os.path.join(out, f"{time.strftime('%Y-%m-%dT%H%M')}-cudnn-{rec['device'].lower().replace(' ', '-')}.json")
    with open(path, "w") as f:
        json.dump(rec, f, indent=2)
    print("JSON:", path)


if __name__ == "__main__":
    main()
