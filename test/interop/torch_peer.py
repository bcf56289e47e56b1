"""The Python side of the interop tests (test/interop/peer.ts starts it once per test file).

Reads one JSON request per line on stdin and answers one JSON line on stdout, so torch and onnx are
imported once. Tensors travel as {"shape": [...], "data": [...]} (JSON numbers round-trip float64
exactly). Requests:
  run         build the module from a safetensors file (python/webgpu_rnn_torch.py: topology from
              its metadata), float64, forward on the inputs; with targets also the gradients of the
              summed per-output mean squared errors (over the kept steps where a mask is given), by state_dict key
  read        a safetensors file through the module's reader: tensors (as float64 lists) and metadata
  write       tensors to a safetensors file through the module's writer
  keys        the state_dict keys and shapes of the module built from a topology or a model.json path
  build_error the error message of building a topology (or null)
  onnx_check  onnx.checker.check_model with full_check on a file: null, or the error message
"""
import json
import sys
import traceback

import torch

import webgpu_rnn_torch as wr

torch.set_num_threads(1)


def tensor(t, dtype=torch.float64):
    return torch.tensor(t["data"], dtype=dtype).reshape(t["shape"])


def plain(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def mse(y, t, mask):
    """Keras 3's mean squared error; with a [B, T] mask (Keras masking) the mean over the kept steps."""
    if mask is None:
        return ((y - t) ** 2).mean()
    m = tensor(mask)
    return (((y - t) ** 2).mean(-1) * m).sum() / m.sum()


def run(req):
    model = wr.load(req["path"], dtype=torch.float64)
    model.train(bool(req.get("train", False)))
    xs = [tensor(x) for x in req["inputs"]]
    out = model(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    res = {"outputs": [plain(o) for o in outs], "keys": list(model.state_dict().keys())}
    if req.get("targets") is not None:
        masks = req.get("lossMasks") or [None] * len(outs)
        loss = sum(mse(o, tensor(t), m) for o, t, m in zip(outs, req["targets"], masks))
        model.zero_grad()
        loss.backward()
        res["loss"] = float(loss)
        res["grads"] = {k: plain(p.grad) for k, p in model.named_parameters() if p.grad is not None}
    return res


def read(req):
    tensors, meta = wr.load_safetensors(req["path"])
    return {"tensors": {k: {"dtype": str(v.dtype), **plain(v)} for k, v in tensors.items()}, "metadata": meta}


def write(req):
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
    tensors = {k: tensor(v, dtypes[v["dtype"]]) for k, v in req["tensors"].items()}
    wr.save_safetensors(tensors, req["path"], req.get("metadata"))
    return {}


def keys(req):
    """The state_dict keys and shapes of the module built from a topology (e.g. a saved model.json)."""
    model = wr.build_model(req["topology"])
    return {"keys": {k: list(v.shape) for k, v in model.state_dict().items()}}


def build_error(req):
    try:
        wr.build_model(req["topology"])
        return {"error": None}
    except Exception as e:  # noqa: BLE001 (the message is the answer)
        return {"error": f"{type(e).__name__}: {e}"}


def onnx_check(req):
    import onnx
    try:
        onnx.checker.check_model(onnx.load(req["path"]), full_check=True)
        return {"error": None}
    except Exception as e:  # noqa: BLE001
        return {"error": f"{type(e).__name__}: {e}"}


HANDLERS = {"run": run, "read": read, "write": write, "keys": keys, "build_error": build_error, "onnx_check": onnx_check}


def main():
    versions = {"torch": torch.__version__}
    try:
        import onnx
        versions["onnx"] = onnx.__version__
    except ImportError as e:
        versions["onnx_error"] = str(e)
    print(json.dumps({"ready": True, **versions}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            res = {"id": req["id"], **HANDLERS[req["cmd"]](req)}
        except Exception as e:  # noqa: BLE001 (reported to the test)
            res = {"id": req["id"], "failure": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()}
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
