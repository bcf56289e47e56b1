"""webgpu-rnn models as torch.nn.Modules.

Builds the torch.nn.Module that matches a webgpu-rnn topology (the ``model.json`` of a saved
model, or the topology ``rnn.io.toPyTorch(model)`` writes into the safetensors metadata), with
exactly the state_dict keys the export writes, and reads and writes safetensors files without the
``safetensors`` package (the format is small; this follows its specification).

    import webgpu_rnn_torch as wr
    model = wr.load("model.safetensors")      # module + weights, from the file alone
    y = model(x)                               # x: [batch, time, features], batch first
    wr.save(model, "trained.safetensors")      # for rnn.io.fromPyTorch(model, bytes)

Layers: SimpleRNN (nn.RNN), LSTM, GRU (resetAfter: true only), Bidirectional, stacked recurrent
layers (one module: weight_ih_l0, weight_ih_l1, ...), Dense / TimeDistributed (nn.Linear),
LayerNormalization, BatchNormalization, Masking (padding at the end of sequences, run as packed
sequences), Flatten, RepeatVector, Reshape, GaussianNoise, Dropout, the merge layers; functional
graphs with several inputs and outputs, shared layers and initial states. Keras-style dropout inside
recurrent layers is not applied (a warning says so). Needs torch (tested with 1.13) and numpy.
"""
import json
import struct
import warnings
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

__all__ = ["build_model", "load", "save", "load_safetensors", "save_safetensors", "KerasModel"]

TOPOLOGY_KEY = "webgpu_rnn_topology"
RECURRENT = {"SimpleRNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}

# ------------------------------------------------------------------------------ safetensors

# dtype -> (numpy little-endian type, torch dtype), in the reference's order (increasing alignment)
_DTYPES = OrderedDict([
    ("BOOL", ("|b1", torch.bool)), ("U8", ("<u1", torch.uint8)), ("I8", ("<i1", torch.int8)),
    ("I16", ("<i2", torch.int16)), ("F16", ("<f2", torch.float16)), ("BF16", ("<u2", torch.bfloat16)),
    ("I32", ("<i4", torch.int32)), ("F32", ("<f4", torch.float32)), ("F64", ("<f8", torch.float64)),
    ("I64", ("<i8", torch.int64)),
])


def load_safetensors(source):
    """Reads a safetensors file (a path or bytes): (OrderedDict name -> tensor, metadata dict)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        with open(source, "rb") as f:
            data = f.read()
    if len(data) < 8:
        raise ValueError("safetensors: the file is shorter than its 8-byte header size")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError(f"safetensors: bad header size {n} for a {len(data)}-byte file")
    text = data[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("safetensors: the header must start with '{'")
    header = json.loads(text, object_pairs_hook=_no_duplicates)
    buf = data[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    spans, out = [], OrderedDict()
    for name, info in header.items():
        dtype, shape, (begin, end) = info["dtype"], list(info["shape"]), info["data_offsets"]
        if dtype not in _DTYPES:
            raise ValueError(f"safetensors: tensor '{name}': unsupported dtype {dtype}")
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(_DTYPES[dtype][0]).itemsize
        if end - begin != size or begin < 0 or end > len(buf):
            raise ValueError(f"safetensors: tensor '{name}': data_offsets [{begin}, {end}] do not hold {dtype} {shape}")
        spans.append((begin, end, name))
        arr = np.frombuffer(buf[begin:end], dtype=_DTYPES[dtype][0]).copy()
        if dtype == "BF16":
            t = torch.from_numpy((arr.astype(np.uint32) << 16).view(np.float32)).to(torch.bfloat16)
        else:
            t = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")))
        out[name] = t.reshape(shape)
    at = 0
    for begin, end, name in sorted(spans):
        if begin != at:
            raise ValueError(f"safetensors: tensor '{name}' starts at byte {begin}, expected {at} (a hole or an overlap)")
        at = end
    if at != len(buf):
        raise ValueError(f"safetensors: the tensors cover {at} of the {len(buf)} data bytes")
    return out, dict(meta)


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise ValueError(f"safetensors: key '{k}' appears twice")
    return OrderedDict(pairs)


def save_safetensors(tensors, path=None, metadata=None):
    """Writes name -> tensor as safetensors (to `path` when given) and returns the bytes."""
    items = []
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        dtype = next((k for k, v in _DTYPES.items() if v[1] == t.dtype), None)
        if dtype is None:
            raise ValueError(f"safetensors: tensor '{name}': dtype {t.dtype} cannot be written")
        arr = t.view(torch.int16).numpy() if dtype == "BF16" else t.numpy()
        items.append((name, dtype, list(t.shape), arr.astype(_DTYPES[dtype][0]).tobytes()))
    order = list(_DTYPES)
    items.sort(key=lambda it: (-order.index(it[1]), it[0]))  # the reference: wider dtypes first, then names
    header, offset = OrderedDict(), 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, dtype, shape, raw in items:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # 8-byte alignment of the data
    out = struct.pack("<Q", len(text)) + text + b"".join(it[3] for it in items)
    if path is not None:
        with open(path, "wb") as f:
            f.write(out)
    return out


# ------------------------------------------------------------------------------ the graph (as src/io/graph.ts)

def _topology(source):
    """A topology dict from a dict (modelTopology or a whole model.json), a JSON string or a path."""
    if isinstance(source, str) and not source.lstrip().startswith("{"):
        with open(source, "r", encoding="utf-8") as f:
            source = f.read()
    if isinstance(source, (str, bytes)):
        source = json.loads(source)
    return source.get("modelTopology", source)


def _inner(layer):
    inner = layer["config"].get("layer")
    return inner if isinstance(inner, dict) and "className" in inner else None


def _count(layer):
    def states(c):
        return (2 if c["className"] == "LSTM" else 1) if c["config"].get("returnState") else 0
    if layer["className"] in RECURRENT:
        return 1 + states(layer)
    if layer["className"] == "Bidirectional" and _inner(layer):
        return 1 + 2 * states(_inner(layer))
    return 1


def _input_shape(c):
    s = c.get("shape") or c.get("inputShape")
    return list(s) if s else list((c.get("batchShape") or c.get("batchInputShape"))[1:])


def _graph(topo):
    """(inputs [(key, name, shape)], calls, outputs) in the order src/io/graph.ts uses."""
    cfg = topo["config"]
    if topo["className"] == "Sequential":
        name = cfg.get("name", "model")
        layers = [l for l in cfg["layers"] if l["className"] != "InputLayer"]
        shape = cfg.get("inputShape") or _input_shape(cfg["layers"][0]["config"])
        prev, calls = f"{name}_input:0:0", []
        inputs = [(prev, f"{name}_input", shape)]
        for l in layers:
            outs = [f"{l['name']}:0:{i}" for i in range(_count(l))]
            calls.append({"layer": l, "node": 0, "inputs": [prev], "states": [], "outputs": outs})
            prev = outs[0]
        return inputs, calls, [prev]
    ref = lambda r: f"{r[0]}:{r[1]}:{r[2]}"  # noqa: E731
    by = {l["name"]: l for l in cfg["layers"]}
    inputs = [(ref(r), r[0], _input_shape(by[r[0]]["config"])) for r in cfg["inputLayers"]]
    known = {k for k, _, _ in inputs}
    pending = []
    for l in cfg["layers"]:
        if l["className"] == "InputLayer":
            continue
        for k, n in enumerate(l.get("inboundNodes") or []):
            pending.append({"layer": l, "node": k, "inputs": [ref(r) for r in n["inputs"]],
                            "states": [ref(r) for r in n.get("initialState") or []],
                            "outputs": [f"{l['name']}:{k}:{i}" for i in range(_count(l))]})
    calls = []
    while pending:
        i = next((i for i, c in enumerate(pending) if all(t in known for t in c["inputs"] + c["states"])), None)
        if i is None:
            raise ValueError(f"layer '{pending[0]['layer']['name']}' reads a tensor that no call makes")
        c = pending.pop(i)
        known.update(c["outputs"])
        calls.append(c)
    return inputs, calls, [ref(r) for r in cfg["outputLayers"]]


def _recurrent(call):
    """(cell layer, bidirectional, mergeMode) of a recurrent call, else None."""
    l = call["layer"]
    if l["className"] in RECURRENT:
        return l, False, ""
    inner = _inner(l) if l["className"] == "Bidirectional" else None
    if inner and inner["className"] in RECURRENT:
        return inner, True, l["config"].get("mergeMode", "concat")
    return None


def _stacks(calls, outputs, a, b):
    """src/io/pytorch-map.ts's rule: call b continues call a's stack (one torch module, layer l1, l2…)."""
    ra, rb = _recurrent(a), _recurrent(b)
    if not ra or not rb or ra[1] != rb[1] or ra[0]["className"] != rb[0]["className"]:
        return False
    if ra[1] and (ra[2] != "concat" or rb[2] != "concat"):
        return False
    ca, cb = ra[0]["config"], rb[0]["config"]
    if any(ca.get(k) != cb.get(k) for k in ("units", "useBias", "activation", "recurrentActivation", "resetAfter")):
        return False
    if not ca.get("returnSequences") or ca.get("returnState") or cb.get("returnState") or ca.get("goBackwards") or cb.get("goBackwards"):
        return False
    if len(a["layer"].get("inboundNodes") or [0]) > 1 or len(b["layer"].get("inboundNodes") or [0]) > 1 or a["states"] or b["states"]:
        return False
    t = a["outputs"][0]
    return b["inputs"] == [t] and t not in outputs and sum(t in c["inputs"] or t in c["states"] for c in calls) == 1


def _groups(calls, outputs):
    groups, done = [], set()
    for c in calls:
        if id(c) in done:
            continue
        group = [c]
        done.add(id(c))
        while True:
            nxt = next((n for n in calls if id(n) not in done and _stacks(calls, outputs, group[-1], n)), None)
            if nxt is None:
                break
            group.append(nxt)
            done.add(id(nxt))
        groups.append(group)
    return groups


# ------------------------------------------------------------------------------ layers

def _act(name, where):
    acts = {None: lambda x: x, "linear": lambda x: x, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "relu": torch.relu, "hardSigmoid": lambda x: torch.clamp((x + 3) / 6, 0, 1),
            "hardSigmoidTfjs": lambda x: torch.clamp(0.2 * x + 0.5, 0, 1)}
    if name not in acts:
        raise ValueError(f"{where}: unknown activation '{name}'")
    return acts[name]


def _shapes(layer, ins, states=()):
    """Output shapes (without batch) of a call; the modules need the last axis."""
    c, k, x = layer["config"], layer["className"], ins[0]
    if k == "Dense":
        return [x[:-1] + [c["units"]]]
    if k == "TimeDistributed":
        return [[x[0]] + _shapes(_inner(layer), [x[1:]])[0]]
    if _recurrent({"layer": layer}):
        cell, bi, mode = _recurrent({"layer": layer})
        h = cell["config"]["units"]
        out = h * 2 if bi and mode == "concat" else h
        main = [x[0], out] if cell["config"].get("returnSequences") else [out]
        return [main] + [[h]] * (_count(layer) - 1)
    if k == "Flatten":
        return [[int(np.prod(x))]]
    if k == "RepeatVector":
        return [[c["n"]] + x]
    if k == "Reshape":
        t = list(c["targetShape"])
        if -1 in t:
            t[t.index(-1)] = int(np.prod(x)) // -int(np.prod(t)) if None not in x else None
        return [t]
    if k == "Concatenate":
        axis = c.get("axis", -1)
        axis = axis - 1 if axis > 0 else len(x) + axis
        s = list(x)
        s[axis] = None if any(i[axis] is None for i in ins) else sum(i[axis] for i in ins)
        return [s]
    if k == "RNN":
        cell = c.get("cell", {}).get("className", "?")
        raise NotImplementedError(f"layer '{layer['name']}' (RNN with the custom cell {cell}) has no torch.nn counterpart")
    return [list(x)]


def _norm(k, c, features, where):
    scale, center = c.get("scale", True), c.get("center", True)
    if scale != center:
        raise ValueError(f"{where}: torch learns both a scale and a shift or neither (scale {scale}, center {center})")
    if k == "LayerNormalization":
        return nn.LayerNorm(features, eps=c.get("epsilon", 1e-3), elementwise_affine=scale)
    return nn.BatchNorm1d(features, eps=c.get("epsilon", 1e-3), momentum=1 - c.get("momentum", 0.99), affine=scale)


def _module(group, shapes):
    """The torch module of a call group (a stack, or one layer), or None for layers without weights."""
    call = group[0]
    layer, where = call["layer"], f"layer '{call['layer']['name']}' ({call['layer']['className']})"
    rec = _recurrent(call)
    if rec:
        cell, bi, _ = rec
        c, kind = cell["config"], cell["className"]
        act, gate = c.get("activation", "tanh"), c.get("recurrentActivation", "sigmoid")
        kw = dict(input_size=shapes[call["inputs"][0]][-1], hidden_size=c["units"], num_layers=len(group),
                  bias=c.get("useBias", True), batch_first=True, bidirectional=bi)
        if kind == "SimpleRNN":
            if act not in ("tanh", "relu"):
                raise ValueError(f"{where}: activation '{act}' has no torch.nn.RNN equivalent")
            kw["nonlinearity"] = act
        elif act != "tanh" or gate != "sigmoid":
            raise ValueError(f"{where}: torch.nn.{kind} has tanh and sigmoid only, not {act} / {gate}")
        elif kind == "GRU" and c.get("resetAfter", True) is False:
            raise ValueError(f"{where}: resetAfter false cannot be expressed by torch.nn.GRU")
        if any(g["layer"]["config"].get(d) or (_inner(g["layer"]) or {}).get("config", {}).get(d)
               for g in group for d in ("dropout", "recurrentDropout")):
            warnings.warn(f"{where}: Keras-style dropout / recurrentDropout is not applied in torch")
        return RECURRENT[kind](**kw)
    inner = _inner(layer) if layer["className"] == "TimeDistributed" else None
    kind, c = (inner["className"], inner["config"]) if inner else (layer["className"], layer["config"])
    features = shapes[call["inputs"][0]][-1]
    if kind == "Dense":
        return nn.Linear(features, c["units"], bias=c.get("useBias", True))
    if kind in ("LayerNormalization", "BatchNormalization"):
        return _norm(kind, c, features, where)
    return None


def _apply(module, layer, x, training):
    """One layer without recurrence (TimeDistributed folds time into the batch)."""
    k, c = layer["className"], layer["config"]
    if k == "TimeDistributed":
        b, t = x.shape[:2]
        y = _apply(module, _inner(layer), x.reshape((b * t,) + tuple(x.shape[2:])), training)
        return y.reshape((b, t) + tuple(y.shape[1:]))
    if k == "Dense":
        return _act(c.get("activation"), layer.get("name", k))(module(x))
    if k == "LayerNormalization":
        return module(x)
    if k == "BatchNormalization":
        return module(x.transpose(1, 2)).transpose(1, 2) if x.dim() == 3 else module(x)
    if k == "Flatten":
        return x.reshape(x.shape[0], -1)
    if k == "RepeatVector":
        return x.unsqueeze(1).expand(x.shape[0], c["n"], x.shape[-1])
    if k == "Reshape":
        return x.reshape((x.shape[0],) + tuple(c["targetShape"]))
    if k == "GaussianNoise":
        return x + torch.randn_like(x) * c["stddev"] if training and c["stddev"] > 0 else x
    if k == "Dropout":
        return nn.functional.dropout(x, c.get("rate", 0.0), training)
    raise NotImplementedError(f"layer '{layer.get('name', k)}': {k} is not supported")


def _merge(kind, c, xs):
    if kind == "Concatenate":
        return torch.cat(xs, dim=c.get("axis", -1))
    if kind == "Subtract":
        return xs[0] - xs[1]
    y = xs[0]
    for x in xs[1:]:
        y = y * x if kind == "Multiply" else y + x
    return y / len(xs) if kind == "Average" else y


def _run(module, call, values, masks, training):
    layer, xs = call["layer"], [values[t] for t in call["inputs"]]
    k = layer["className"]
    if k == "Masking":
        mask = (xs[0] != layer["config"].get("maskValue", 0)).any(-1)
        y = xs[0] * mask.unsqueeze(-1).to(xs[0].dtype)
        values[call["outputs"][0]], masks[call["outputs"][0]] = y, mask
        return
    if k in ("Concatenate", "Add", "Subtract", "Multiply", "Average"):
        y = _merge(k, layer["config"], xs)
        ms = [masks[t] for t in call["inputs"] if masks.get(t) is not None]
        mask = None
        for m in ms:
            mask = m if mask is None else mask & m
        values[call["outputs"][0]] = y
        if mask is not None and y.dim() >= 2 and y.shape[:2] == mask.shape:
            masks[call["outputs"][0]] = mask
        return
    y = _apply(module, layer, xs[0], training)
    values[call["outputs"][0]] = y
    m = masks.get(call["inputs"][0])
    if m is not None and y.dim() == 3 and y.shape[:2] == xs[0].shape[:2]:  # src/model/topology.ts's rule
        masks[call["outputs"][0]] = m


def _run_recurrent(module, group, values, masks, training):
    first, last = group[0], group[-1]
    cell, bi, mode = _recurrent(last)
    c = cell["config"]
    where = f"layer '{first['layer']['name']}'"
    x, mask = values[first["inputs"][0]], masks.get(first["inputs"][0])
    states = [values[t] for t in first["states"]]
    if c.get("goBackwards"):
        x = x.flip(1)
        mask = mask.flip(1) if mask is not None else None
    n = 2 if cell["className"] == "LSTM" else 1
    h0 = None
    if states:  # [h(, c)] per direction -> torch's [directions, B, H] each
        per = [torch.stack(states[i::n]) for i in range(n)]
        h0 = tuple(per) if n == 2 else per[0]
    lengths = None
    if mask is not None:
        lengths = mask.sum(1)
        steps = torch.arange(mask.shape[1], device=mask.device)
        if bool((lengths == 0).any()) or not bool((mask == (steps[None, :] < lengths[:, None])).all()):
            raise ValueError(f"{where}: the mask must be padding at the end of every sequence (at least one step kept) to run as packed sequences")
        x = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    y, hn = module(x, h0)
    hs = hn if n == 1 else hn[0]
    if lengths is not None:
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=mask.shape[1])
    d = 2 if bi else 1
    if c.get("returnSequences"):
        if lengths is not None and not bi:  # Keras: a masked step outputs the state it carries
            y = torch.where(mask.unsqueeze(-1), y, hs[-1].unsqueeze(1))
        main = y if not bi or mode == "concat" else _merge_dirs(mode, y[..., :c["units"]], y[..., c["units"]:])
    else:
        main = hs[-1] if not bi else (torch.cat([hs[-2], hs[-1]], -1) if mode == "concat" else _merge_dirs(mode, hs[-2], hs[-1]))
    outs = [main]
    if c.get("returnState"):
        for k in range(d):
            outs += [hs[-d + k]] + ([hn[1][-d + k]] if n == 2 else [])
    for key, v in zip(last["outputs"], outs):
        values[key] = v
    if c.get("returnSequences") and mask is not None:
        masks[last["outputs"][0]] = mask


def _merge_dirs(mode, f, b):
    return {"sum": lambda: f + b, "mul": lambda: f * b, "ave": lambda: (f + b) / 2}[mode]()


class KerasModel(nn.Module):
    """The torch.nn.Module of a webgpu-rnn topology: forward(*inputs), batch-first [B, T, F] tensors."""

    def __init__(self, topology):
        super().__init__()
        self.topology = _topology(topology)
        inputs, calls, self._outputs = _graph(self.topology)
        self._inputs = [(k, name) for k, name, _ in inputs]
        shapes = {k: list(s) for k, _, s in inputs}
        for c in calls:
            for key, s in zip(c["outputs"], _shapes(c["layer"], [shapes[t] for t in c["inputs"]])):
                shapes[key] = s
        self._plan = []
        for group in _groups(calls, self._outputs):
            name = group[0]["layer"]["name"].replace(".", "_")
            if group[0]["node"] == 0:
                module = _module(group, shapes)
                if module is not None:
                    self.add_module(name, module)
            self._plan.append((name, group))

    def forward(self, *xs):
        if len(xs) != len(self._inputs):
            raise ValueError(f"the model takes {len(self._inputs)} inputs ({', '.join(n for _, n in self._inputs)}), got {len(xs)}")
        values, masks = {k: x for (k, _), x in zip(self._inputs, xs)}, {}
        for name, group in self._plan:
            module = getattr(self, name, None) if name in self._modules else None
            if _recurrent(group[0]):
                _run_recurrent(module, group, values, masks, self.training)
            else:
                _run(module, group[0], values, masks, self.training)
        out = [values[k] for k in self._outputs]
        return out[0] if len(out) == 1 else tuple(out)


def build_model(topology):
    """The torch.nn.Module for a topology: a dict (modelTopology or model.json), a JSON string or a path."""
    return KerasModel(topology)


def load(path, dtype=torch.float32):
    """Builds the module from a safetensors file of rnn.io.toPyTorch (topology in its metadata) and loads the weights."""
    tensors, meta = load_safetensors(path)
    if TOPOLOGY_KEY not in meta:
        raise ValueError(f"{path}: no '{TOPOLOGY_KEY}' in the metadata; use build_model(topology) and load_state_dict")
    model = build_model(json.loads(meta[TOPOLOGY_KEY]))
    model.load_state_dict(tensors, strict=True)
    return model.to(dtype)


def save(model, path=None):
    """Writes the module's state_dict (float32) and topology as safetensors, for rnn.io.fromPyTorch."""
    module = getattr(model, "module", model)  # unwraps DistributedDataParallel
    sd = OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in module.state_dict().items())
    return save_safetensors(sd, path, {"format": "pt", TOPOLOGY_KEY: json.dumps(module.topology)})


if __name__ == "__main__":
    import sys
    print(load(sys.argv[1]))
