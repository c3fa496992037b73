"""The engine's initialisation (src/engine/models/params.ts initParams), value for value: the same seeded
draws in the same order, so a PyTorch run starts where the engine's run with the same seed starts.

Conv and linear weights are drawn in the engine's layout (HWIO, [in, out]) in graph order, one
normal() each times the family's standard deviation, then the bias of a ResNet's linear layer
(uniform(±1/√fan_in)); VGG biases are 0 (no draws). BatchNorm: γ 1, β 0, running mean 0, variance 1.
The normals go through Box-Muller with numpy's log and cos, which can differ from JavaScript's in the
last bit of a float64: after rounding to float32 that changes a weight by one ulp, rarely.
"""
import math

import numpy as np
import torch

from .models import MODELS, layer_table
from .rng import Rng


def _scale(family, layer):
    fan_in = layer.in_ch * layer.kernel * layer.kernel if layer.kind == "conv" else layer.in_ch
    if family == "vgg":
        # fan-out normal for convs, N(0, 0.01) for the classifier, zero biases
        std = math.sqrt(2 / (layer.kernel * layer.kernel * layer.out_ch)) if layer.kind == "conv" else 0.01
        return std, 0.0
    return math.sqrt(2 / fan_in), (1 / math.sqrt(fan_in) if layer.kind == "dense" else 0.0)


@torch.no_grad()
def init_like_engine(model, name, seed):
    """Writes the engine's initial values for `seed` (the run seed's 'init' stream) into a model built by build_model(name)."""
    family = MODELS[name][0]
    rng = Rng(seed)
    modules = dict(model.named_modules())
    for layer in layer_table(name):
        std, bound = _scale(family, layer)
        if layer.kind == "conv":
            k = layer.kernel
            shape = (k, k, layer.in_ch, layer.out_ch)
            values = (rng.normals(int(np.prod(shape))) * std).astype(np.float32).reshape(shape).transpose(3, 2, 0, 1)
        else:
            shape = (layer.in_ch, layer.out_ch)
            values = (rng.normals(int(np.prod(shape))) * std).astype(np.float32).reshape(shape).T
        module = modules[layer.path]
        module.weight.copy_(torch.from_numpy(np.ascontiguousarray(values)))
        if module.bias is not None:
            bias = (2 * rng.draws(layer.out_ch) - 1) * bound if bound > 0 else np.zeros(layer.out_ch)
            module.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_parameters()  # gamma 1, beta 0, running mean 0, variance 1, counter 0
