"""Loads the playground's compact model (compact.safetensors) as a PyTorch module.

The compact model is the official network (lrpet_models.py) with every split conv replaced by an
nn.Sequential of two convs, named by the split naming of the export:
    <conv>.0.weight  [r, I, k, k]  the k x k conv to r channels (same stride and padding, no bias)
    <conv>.1.weight  [O, r, 1, 1]  the 1 x 1 conv back to O channels
    <conv>.1.bias    [O]           only where the original conv had a bias (VGG)
e.g. layer2.0.conv1.0.weight / layer2.0.conv1.1.weight, or features.3.0.weight / features.3.1.weight.
Layers kept dense keep their official names; a split dense layer is linear.0 / linear.1 (Linear).
The ranks are read from the shapes, the architecture from the file's metadata ("lrpet.model").

    from lrpet_compact import load_compact
    model = load_compact("compact.safetensors").eval()
    logits = model(images)   # NCHW, normalised as in lrpet_models.py
"""
import sys

import torch
from torch import nn

from lrpet_models import build_model

try:  # the safetensors package when installed, else the small numpy reader next to this file
    from safetensors.torch import load_file as _load_file, safe_open as _safe_open

    def read_safetensors(path):
        with _safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
        return _load_file(path), metadata
except ImportError:
    import safetensors_np

    def read_safetensors(path):
        tensors, metadata = safetensors_np.load(path)
        return {k: torch.from_numpy(v) for k, v in tensors.items()}, metadata


def split_layer(layer, rank):
    """The two layers a rank-r conv (or linear) layer becomes, with fresh weights."""
    if isinstance(layer, nn.Conv2d):
        return nn.Sequential(
            nn.Conv2d(layer.in_channels, rank, layer.kernel_size, stride=layer.stride, padding=layer.padding,
                      dilation=layer.dilation, bias=False),
            nn.Conv2d(rank, layer.out_channels, 1, bias=layer.bias is not None),
        )
    return nn.Sequential(nn.Linear(layer.in_features, rank, bias=False), nn.Linear(rank, layer.out_features, bias=layer.bias is not None))


def compact_model(model_name, state_dict):
    """The compact architecture that `state_dict` describes, with its weights loaded (strict=True)."""
    model = build_model(model_name)
    for name, module in list(model.named_modules()):
        first = f"{name}.0.weight"
        if isinstance(module, (nn.Conv2d, nn.Linear)) and first in state_dict:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, split_layer(module, state_dict[first].shape[0]))
    model.load_state_dict(state_dict, strict=True)
    return model


def load_compact(path, model_name=None):
    """Reads compact.safetensors and returns the module (float32, in training mode as PyTorch builds it)."""
    state_dict, metadata = read_safetensors(path)
    model_name = model_name or metadata.get("lrpet.model")
    if not model_name:
        raise ValueError(f"{path}: no 'lrpet.model' in the metadata; pass model_name")
    return compact_model(model_name, state_dict)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 lrpet_compact.py compact.safetensors")
    m = load_compact(sys.argv[1])
    print(m)
    weights = [p for mod in m.modules() if isinstance(mod, (nn.Conv2d, nn.Linear)) for p in mod.parameters()]
    print(f"{sum(p.numel() for p in weights):,} conv/linear parameters")
