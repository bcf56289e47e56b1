"""Checks a .weights.h5 written by webgpu-rnn against the one Keras 3 wrote for the same model.

    python3 check_weights_h5.py OURS.weights.h5 KERAS.weights.h5

Reads both with h5py and confirms that every dataset of Keras' file (its optimizer's aside) is in
ours at the same path with the same shape, dtype and bit-identical values, that ours has no
other dataset, and that every `vars` group carries the same `name` attribute. Prints one line
per problem and exits 1, or prints "ok: N datasets, M vars groups" and exits 0.
"""
import sys

import h5py
import numpy as np


def walk(f):
    datasets, groups = {}, {}

    def visit(name, obj):
        if name.startswith("optimizer"):
            return
        if isinstance(obj, h5py.Dataset):
            datasets[name] = obj
        elif name.split("/")[-1] == "vars":
            groups[name] = obj.attrs.get("name")

    f.visititems(visit)
    return datasets, groups


def main(ours_path, ref_path):
    problems = []
    with h5py.File(ours_path, "r") as ours, h5py.File(ref_path, "r") as ref:
        od, og = walk(ours)
        rd, rg = walk(ref)
        for path, r in sorted(rd.items()):
            o = od.get(path)
            if o is None:
                problems.append(f"missing dataset {path} {r.shape}")
                continue
            if o.shape != r.shape or o.dtype != r.dtype:
                problems.append(f"{path}: shape {o.shape} {o.dtype}, Keras has {r.shape} {r.dtype}")
                continue
            a, b = np.asarray(o), np.asarray(r)
            if a.tobytes() != b.tobytes():
                diff = np.abs(a.astype("float64") - b.astype("float64")).max()
                problems.append(f"{path}: values differ (max |diff| {diff})")
        for path in sorted(set(od) - set(rd)):
            problems.append(f"extra dataset {path} {od[path].shape}")
        for path, name in sorted(rg.items()):
            if path not in og:
                problems.append(f"missing group {path}")
            elif og[path] != name:
                problems.append(f"{path}: attribute name={og[path]!r}, Keras has {name!r}")
        for path in sorted(set(og) - set(rg)):
            problems.append(f"extra group {path}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {len(rd)} datasets, {len(rg)} vars groups")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
