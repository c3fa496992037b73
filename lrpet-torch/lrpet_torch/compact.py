"""The compact model (spec section 6) in PyTorch, with the official names.

The compact model is the official network (models.py) with every split layer replaced by an
nn.Sequential of two layers named as the authors' compact model names them:
    <conv>.C.weight  [r, I, k, k]  the k x k conv to r channels (same stride and padding, no bias)
    <conv>.N.weight  [O, r, 1, 1]  the 1 x 1 conv back to O channels
    <conv>.N.bias    [O]           only where the original conv had a bias (VGG)
e.g. layer2.0.conv1.C.weight / layer2.0.conv1.N.weight, or features.3.C.weight / features.3.N.weight.
Layers kept dense keep their official names; a split linear layer is linear.C / linear.N (Linear).
Files written before these names (<conv>.0 / <conv>.1) still load: load_compact reads both.
The ranks are read from the shapes, the architecture from the file's metadata ("lrpet.model").

    from lrpet_torch.compact import load_compact
    model = load_compact("compact.safetensors").eval()
    logits = model(images)   # NCHW, normalised as in models.py

    python3 -m lrpet_torch.compact compact.safetensors     # prints the module and its size
"""
import sys
from collections import OrderedDict

import torch
from torch import nn

from .models import build_model, layer_table
from .projection import short_side_eigen

try:  # the safetensors package when installed, else the small numpy reader of this package
    from safetensors.torch import load_file as _load_file, safe_open as _safe_open

    def read_safetensors(path):
        with _safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
        return _load_file(path), metadata
except ImportError:
    from . import safetensors_np

    def read_safetensors(path):
        tensors, metadata = safetensors_np.load(path)
        return {k: torch.from_numpy(v) for k, v in tensors.items()}, metadata

# The two halves of a split layer: the official names, and those of files written before them.
HALVES = ("C", "N")
LEGACY_HALVES = ("0", "1")
ZERO_SIGMA = 1e-5  # spec section 6: a layer with sigma_1 below this outputs zeros


def split_layer(layer, rank):
    """The two layers a rank-r conv (or linear) layer becomes, with fresh weights."""
    if isinstance(layer, nn.Conv2d):
        first = nn.Conv2d(layer.in_channels, rank, layer.kernel_size, stride=layer.stride, padding=layer.padding, dilation=layer.dilation, bias=False)
        second = nn.Conv2d(rank, layer.out_channels, 1, bias=layer.bias is not None)
    else:
        first = nn.Linear(layer.in_features, rank, bias=False)
        second = nn.Linear(rank, layer.out_features, bias=layer.bias is not None)
    return nn.Sequential(OrderedDict([(HALVES[0], first), (HALVES[1], second)]))


def official_names(model_name, state_dict):
    """The state_dict with a legacy split layer's `<layer>.0.*` / `<layer>.1.*` keys renamed to `<layer>.C.*` / `<layer>.N.*`."""
    paths = {l.path for l in layer_table(model_name)}
    out = OrderedDict()
    for key, value in state_dict.items():
        prefix, _, rest = key.rpartition(".")  # rest: weight / bias
        layer, _, half = prefix.rpartition(".")
        if layer in paths and half in LEGACY_HALVES and rest in ("weight", "bias"):
            key = f"{layer}.{HALVES[LEGACY_HALVES.index(half)]}.{rest}"
        out[key] = value
    return out


def compact_model(model_name, state_dict):
    """The compact architecture that `state_dict` describes (official or legacy names), with its weights loaded (strict=True)."""
    state_dict = official_names(model_name, state_dict)
    model = build_model(model_name)
    for layer in layer_table(model_name):
        first = f"{layer.path}.{HALVES[0]}.weight"
        if first in state_dict:
            parent_name, _, child = layer.path.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, split_layer(model.get_submodule(layer.path), state_dict[first].shape[0]))
    model.load_state_dict(state_dict, strict=True)
    return model


def load_compact(path, model_name=None):
    """Reads compact.safetensors and returns the module (float32, in training mode as PyTorch builds it)."""
    state_dict, metadata = read_safetensors(path)
    model_name = model_name or metadata.get("lrpet.model")
    if not model_name:
        raise ValueError(f"{path}: no 'lrpet.model' in the metadata; pass model_name")
    return compact_model(model_name, state_dict)


@torch.no_grad()
def split_weight(weight, rank):
    """A truncated SVD of a conv (O, I, k, k) or linear (O, I) weight, in float64: C = sqrt(s) V^T (r x I[xkxk]),
    N = U sqrt(s) (O x r[x1x1]); and sigma_1. Of a weight of rank <= r (a projected one) C and N compute it exactly.
    Through the Gram matrix of the short side (projection.short_side_eigen): singular values below 1e-12 sigma_1 give
    zero factors (they contribute nothing)."""
    w = weight.detach().to(torch.float64).reshape(weight.shape[0], -1)
    s, vec, wide = short_side_eigen(w)
    top = vec[:, :rank]
    s = s[:rank]
    keep = s > s[0] * 1e-12
    root = torch.where(keep, torch.sqrt(s), torch.zeros_like(s))
    inv_root = torch.where(keep, 1 / torch.sqrt(torch.where(keep, s, torch.ones_like(s))), torch.zeros_like(s))
    if wide:  # top = U_r: C = diag(1/sqrt(s)) U_r^T W, N = U_r diag(sqrt(s))
        c = inv_root[:, None] * (top.T @ w)
        n = top * root[None, :]
    else:  # top = V_r: C = diag(sqrt(s)) V_r^T, N = W V_r diag(1/sqrt(s))
        c = root[:, None] * top.T
        n = (w @ top) * inv_root[None, :]
    if weight.dim() == 4:
        return c.reshape(rank, *weight.shape[1:]), n.reshape(weight.shape[0], rank, 1, 1), float(s[0])
    return c, n, float(s[0])


@torch.no_grad()
def compact_state_dict(model_name, dense_state, plan_layers, zero_sigma=ZERO_SIGMA):
    """The compact model of a (projected) dense state_dict (official names): each projected layer that gains from
    splitting becomes C and N at its planned rank (spec section 6); a layer with sigma_1 < zero_sigma becomes a
    rank-1 split with zero weights (its output is its bias). Returns (state_dict, [{name, rank, split, zero}])."""
    by_name = {p["name"]: p for p in plan_layers}
    paths = {l.name: l.path for l in layer_table(model_name)}
    split = {}
    layers = []
    for name, path in paths.items():
        p = by_name[name]
        if not p["projected"] or p["keptDense"]:
            layers.append({"name": name, "rank": p["rank"], "split": False, "zero": False})
            continue
        c, n, sigma1 = split_weight(dense_state[f"{path}.weight"], p["rank"])
        zero = not sigma1 >= zero_sigma
        if zero:
            c, n = torch.zeros_like(c[:1]), torch.zeros_like(n[:, :1])
        split[path] = (c.to(torch.float32), n.to(torch.float32))
        layers.append({"name": name, "rank": 1 if zero else p["rank"], "split": True, "zero": zero})
    out = OrderedDict()
    for key, value in dense_state.items():
        prefix, _, rest = key.rpartition(".")
        if prefix in split and rest == "weight":
            out[f"{prefix}.{HALVES[0]}.weight"], out[f"{prefix}.{HALVES[1]}.weight"] = split[prefix]
        elif prefix in split and rest == "bias":
            out[f"{prefix}.{HALVES[1]}.bias"] = value
        else:
            out[key] = value
    return out, layers


@torch.no_grad()
def authors_split(model_name, dense_state, plan_layers):
    """The authors' decomposition of a checkpoint: each projected layer that gains from splitting becomes C and N from a
    truncated SVD of its raw weight at the planned rank (no BN rectification, no zero-layer rule); returns the module."""
    paths = {l.name: l.path for l in layer_table(model_name)}
    state = OrderedDict(dense_state)
    for p in plan_layers:
        if not p["projected"] or p["keptDense"]:
            continue
        path = paths[p["name"]]
        c, n, _ = split_weight(state.pop(f"{path}.weight"), p["rank"])
        state[f"{path}.C.weight"], state[f"{path}.N.weight"] = c.float(), n.float()
        if f"{path}.bias" in state:
            state[f"{path}.N.bias"] = state.pop(f"{path}.bias")
    return compact_model(model_name, {k: v.float() if v.is_floating_point() else v for k, v in state.items()})


def main(argv):
    if len(argv) != 1:
        sys.exit("usage: python3 -m lrpet_torch.compact compact.safetensors")
    m = load_compact(argv[0])
    print(m)
    weights = [p for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.Linear)) for p in mod.parameters()]
    print(f"{sum(p.numel() for p in weights):,} conv/linear parameters")


if __name__ == "__main__":
    main(sys.argv[1:])
