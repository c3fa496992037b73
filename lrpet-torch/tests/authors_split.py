"""The official names, checked the authors' way (for src/node/torch-trainer.test.ts): this script applies the
authors' decomposition as their script describes it — per conv, a truncated SVD of the raw weight, C = √σ·Vᵀ
as a k×k conv, N = U·√σ as a 1×1 conv, the two in an nn.Sequential in place of the conv — to a projected
state_dict, in its own code (numpy), and compares the result with a compact.safetensors: the same keys and
shapes, the file loads into that module with strict=True, and both give the same logits (float64). Files with
the names before the official ones (.0/.1) must load with lrpet_torch.compact as well.

  authors_split.py LAYERS.json IMAGES.bin PROJECTED COMPACT [PROJECTED COMPACT ...]   -> a JSON list of reports on stdout
LAYERS.json: the runStart event's layers (name, rank, projected, keptDense).
"""
import json
import sys
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from lrpet_torch.compact import compact_model
from lrpet_torch.models import build_model, layer_table, normalise
from lrpet_torch.safetensors_np import load


def authors_module(model_name, projected, layers):
    model = build_model(model_name).double()
    state = {k: torch.from_numpy(v) for k, v in projected.items()}
    model.load_state_dict(state, strict=True)
    paths = {l.name: l.path for l in layer_table(model_name)}
    for layer in layers:
        if not layer["projected"] or layer["keptDense"] or layer["kind"] != "conv":
            continue
        path, r = paths[layer["name"]], layer["rank"]
        conv = model.get_submodule(path)
        w = conv.weight.detach().numpy().astype(np.float64)
        o = w.shape[0]
        u, s, vt = np.linalg.svd(w.reshape(o, -1), full_matrices=False)
        c = nn.Conv2d(conv.in_channels, r, conv.kernel_size, stride=conv.stride, padding=conv.padding, bias=False).double()
        n = nn.Conv2d(r, o, 1, bias=conv.bias is not None).double()
        with torch.no_grad():
            c.weight.copy_(torch.from_numpy((np.sqrt(s[:r])[:, None] * vt[:r]).reshape(r, *w.shape[1:])))
            n.weight.copy_(torch.from_numpy((u[:, :r] * np.sqrt(s[:r])[None, :]).reshape(o, r, 1, 1)))
            if conv.bias is not None:
                n.bias.copy_(conv.bias)
        parent, _, child = path.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, child, nn.Sequential(OrderedDict([("C", c), ("N", n)])))
    return model.eval()


def report(projected_path, compact_path, layers_path, images_path):
    projected, meta = load(projected_path)
    compact, cmeta = load(compact_path)
    layers = json.load(open(layers_path))
    model_name = meta["lrpet.model"]
    raw = np.fromfile(images_path, dtype=np.uint8).reshape(-1, 3073)
    x = normalise(raw[:, 1:].reshape(-1, 3, 32, 32), torch.float64)

    ours = authors_module(model_name, projected, layers)
    want = {k: list(v.shape) for k, v in ours.state_dict().items()}
    have = {k: list(v.shape) for k, v in compact.items()}
    theirs = authors_module(model_name, projected, layers)
    theirs.load_state_dict({k: torch.from_numpy(v).double() if v.dtype.kind == "f" else torch.from_numpy(v) for k, v in compact.items()}, strict=True)
    legacy = OrderedDict((k.replace(".C.", ".0.").replace(".N.", ".1."), torch.from_numpy(v)) for k, v in compact.items())
    loaded = compact_model(model_name, legacy).double().eval()
    dense = build_model(model_name).double()
    dense.load_state_dict({k: torch.from_numpy(v) for k, v in projected.items()}, strict=True)
    with torch.no_grad():
        a, b, c, d = ours(x), theirs(x), loaded(x), dense.eval()(x)
    return {
        "model": model_name, "variant": cmeta.get("lrpet.variant"),
        "keys": list(have), "missing": sorted(set(want) - set(have)), "unexpected": sorted(set(have) - set(want)),
        "shapeMismatches": sorted(k for k in want if k in have and want[k] != have[k]),
        "splitKeys": sorted(k for k in have if ".C." in k or ".N." in k),
        "scale": float(a.abs().max()), "authorsVsFile": float((a - b).abs().max()), "legacyVsFile": float((c - b).abs().max()),
        "authorsVsProjected": float((a - d).abs().max()),
    }


if __name__ == "__main__":
    layers, images, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    json.dump([report(files[i], files[i + 1], layers, images) for i in range(0, len(files), 2)], sys.stdout)
