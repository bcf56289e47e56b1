#!/usr/bin/env python3
"""PyTorch on the CPU for `npm run bench -- --vs-torch` (bench/torch.ts starts it; docs/performance.md,
"Against PyTorch on the CPU").

One long-lived process per thread count: `/usr/bin/python3 bench/torch_rnn.py --threads K`. It
reads one JSON request per line on stdin and answers one JSON line on stdout:

  (on start)  {"ready": true, "torch": ..., "threads": K, "blas": ..., "blasThreads": ...}
              or {"fatal": "..."} when torch cannot be imported
  setup       {"cmd": "setup", "config": {cell, units, B, T, I, resetAfter}, "seed": s}
              builds nn.LSTM / nn.GRU layers (batch_first, one module per layer, all but the
              last returning sequences) + Linear(H, 1) on the last output, Adam(lr 1e-3), MSE;
              x uniform in [-1, 1) [B, T, I], y uniform [B, 1]; PyTorch's own initial weights
              → {"initialLoss": ...}
  round       {"cmd": "round", "steps": N, "T": T} → N training steps (zero_grad, forward, MSE,
              backward, Adam step) at sequence length T, the last ending with loss.item()
              → {"ms": total wall ms, "stepMs": [ms of each step]}
  loss        {"cmd": "loss", "T": T} → {"loss": MSE of the untrained or current model}
Every answer echoes the request's "id"; a failed request answers {"id", "error", "trace"}.

The thread count is fixed per process: torch.set_num_threads(K) (OpenMP inside ATen), and
OpenBLAS's own pthread pool is set to K too (openblas_set_num_threads; libopenblas0-pthread does
not follow torch.set_num_threads). Start it without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.
"""
import argparse
import ctypes
import json
import sys
import time
import traceback


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()

try:
    import torch
except Exception as e:  # noqa: BLE001 -- any import failure is reported, never skipped
    send({"fatal": f"cannot import torch in {sys.executable}: {type(e).__name__}: {e}"})
    sys.exit(3)

torch.set_num_threads(args.threads)
try:
    torch.set_num_interop_threads(args.threads)
except RuntimeError:
    pass


def blas():
    """The BLAS library torch loaded (Debian's torch uses the system BLAS) and its thread count."""
    path = None
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if ("libopenblas" in p or "/libblas.so" in p) and p.startswith("/"):
                path = p
                if "openblas" in p:
                    break
    threads = None
    if path:
        try:
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_set_num_threads"):
                lib.openblas_set_num_threads(args.threads)
                threads = lib.openblas_get_num_threads()
        except OSError:
            pass
    return path, threads


# Load the BLAS (a first matmul) before asking which one it is.
torch.ones(2, 2) @ torch.ones(2, 2)
BLAS, BLAS_THREADS = blas()


class Net(torch.nn.Module):
    def __init__(self, cell, units, I):
        super().__init__()
        rnn = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        layers, inp = [], I
        for H in units:
            layers.append(rnn(inp, H, batch_first=True))
            inp = H
        self.layers = torch.nn.ModuleList(layers)
        self.head = torch.nn.Linear(inp, 1)

    def forward(self, x):
        for layer in self.layers:
            x, _ = layer(x)
        return self.head(x[:, -1])


class Bench:
    def __init__(self, cfg, seed):
        if cfg["cell"] not in ("lstm", "gru"):
            raise ValueError(f"cell {cfg['cell']!r} has no torch.nn counterpart")
        if cfg["cell"] == "gru" and cfg.get("resetAfter") is False:
            raise ValueError("torch.nn.GRU is resetAfter=true only")
        self.cfg = cfg
        self.seed = seed
        torch.manual_seed(seed)
        self.net = Net(cfg["cell"], cfg["units"], cfg["I"])
        self.net.train()
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.loss_fn = torch.nn.MSELoss()
        self.data = {}

    def batch(self, T):
        if T not in self.data:
            g = torch.Generator().manual_seed(self.seed + T)
            B, I = self.cfg["B"], self.cfg["I"]
            self.data[T] = (torch.rand(B, T, I, generator=g) * 2 - 1, torch.rand(B, 1, generator=g) * 2 - 1)
        return self.data[T]

    def step(self, x, y):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.net(x), y)
        loss.backward()
        self.opt.step()
        return loss

    def round(self, steps, T):
        x, y = self.batch(T)
        times = []
        t0 = time.perf_counter()
        for i in range(steps):
            ts = time.perf_counter()
            loss = self.step(x, y)
            if i == steps - 1:
                loss.item()  # the readback that ends a run, as on the WebGPU sides
            times.append((time.perf_counter() - ts) * 1000)
        return {"ms": (time.perf_counter() - t0) * 1000, "stepMs": times}

    def loss(self, T):
        x, y = self.batch(T)
        with torch.no_grad():
            return float(self.loss_fn(self.net(x), y))


def main():
    send({
        "ready": True, "torch": torch.__version__, "python": sys.version.split()[0], "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(), "blas": BLAS, "blasThreads": BLAS_THREADS,
    })
    bench = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        rid = req.get("id")
        try:
            cmd = req["cmd"]
            if cmd == "setup":
                bench = None
                bench = Bench(req["config"], int(req.get("seed", 0)))
                res = {"initialLoss": bench.loss(req["config"]["T"])}
            elif cmd == "round":
                if bench is None:
                    raise RuntimeError("round before setup")
                res = bench.round(int(req["steps"]), int(req["T"]))
            elif cmd == "loss":
                if bench is None:
                    raise RuntimeError("loss before setup")
                res = {"loss": bench.loss(int(req["T"]))}
            else:
                raise ValueError(f"unknown command {cmd!r}")
            send({"id": rid, **res})
        except Exception as e:  # noqa: BLE001 -- reported to the runner
            send({"id": rid, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()})


if __name__ == "__main__":
    main()
