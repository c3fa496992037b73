"""What a run does besides its training steps: test evaluation, LRPET's projection of every layer (computed
once, in float64, by the first process and sent to the others so they stay bit-identical), the gradient
norms of a step, BN recalibration and the state_dict files."""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import safetensors_np
from .data import EpochOrder, aug_draws, shard
from .models import layer_table
from .projection import energy_report, project_gram, short_side_eigen
from .rng import Rng, derive_seed

EVAL_BATCH = 500


@torch.no_grad()
def evaluate(module, images, procs=None, dtype=torch.float32, channels_last=False, autocast=None):
    """Test loss and accuracy in inference mode; with `procs` each process tests its share and the sums are combined."""
    was_training = module.training
    module.eval()
    lo, hi = shard(images.count, procs.world, procs.rank) if procs else (0, images.count)
    loss_sum, hits = 0.0, 0.0
    for start in range(lo, hi, EVAL_BATCH):
        x, y = images.batch(np.arange(start, min(hi, start + EVAL_BATCH)), None, dtype, channels_last)
        with autocast():
            logits = module(x)
        loss_sum += float(F.cross_entropy(logits.float(), y, reduction="sum"))
        hits += float((logits.argmax(1) == y).sum())
    if procs:
        loss_sum, hits = procs.all_sum([loss_sum, hits])
    module.train(was_training)
    return loss_sum / images.count, hits / images.count


def bn_scale(bn):
    """a = γ / √(v + ε) in float64 (spec section 3)."""
    return bn.weight.detach().double() / torch.sqrt(bn.running_var.double() + bn.eps)


@torch.no_grad()
def project_layers(module, model, plan_layers, settings, procs):
    """Projects every projected layer (spec sections 3-4) and returns the projection event's layers and its time in ms.
    The first process computes; the others receive the new weights."""
    t0 = time.perf_counter()
    modules = dict(module.named_modules())
    table = {l.name: l for l in layer_table(model)}
    reports = []
    for layer in plan_layers:
        if not layer["projected"]:
            continue
        info = table[layer["name"]]
        weight = modules[info.path].weight
        if procs.main:
            w64 = weight.detach().double().clone()
            use_bn = settings["bnRectification"] and info.bn
            a = bn_scale(modules[info.bn]) if use_bn else torch.ones(w64.shape[0], dtype=torch.float64, device=w64.device)
            reports.append(_project_one(layer, w64, a, settings))
            if not reports[-1]["skipped"]:
                weight.copy_(w64.to(weight.dtype))
        procs.broadcast(weight.data)
    return reports, (time.perf_counter() - t0) * 1000


def _project_one(layer, w64, a, s):
    base = {"name": layer["name"], "shape": layer["shape"], "rank": layer["rank"]}
    full = layer["rank"] >= layer["n"]
    if full:
        summary, sigma = None, short_side_eigen(a[:, None] * w64.reshape(w64.shape[0], -1))[0].tolist()
    else:
        summary, sigma = project_gram(w64, a, layer["rank"], s["beta"], s["energyTransfer"])
    if summary is None:
        # Nothing to cut (rank n) or sigma_1 < 1e-4: the layer is left exactly as it is; the event still has its spectrum.
        kept = 1.0 if full else energy_report(sigma, layer["rank"], 0.0, False, 1.0)["energyKeptBefore"]
        return {**base, "sigmaBefore": sigma, "sigmaAfter": sigma, "energyKeptBefore": kept, "energyKeptAfter": kept, "alpha": 1.0, "skipped": True}
    r = energy_report(summary["sigma"], layer["rank"], s["beta"], s["energyTransfer"], summary["alpha"])
    return {**base, "sigmaBefore": summary["sigma"], **r, "alpha": summary["alpha"] if s["energyTransfer"] else 1.0, "skipped": False}


@torch.no_grad()
def grad_norms(module, model, plan_layers):
    """Per layer in the plan's order: ‖∇W‖ of the loss gradient (before the update and its weight decay) and ‖∇W‖/‖W‖, five significant digits."""
    modules = dict(module.named_modules())
    table = {l.name: l.path for l in layer_table(model)}
    grad, ratio = [], []
    for layer in plan_layers:
        w = modules[table[layer["name"]]].weight
        g = math.sqrt(float((w.grad.double() ** 2).sum())) if w.grad is not None else float("nan")
        grad.append(float(f"{g:.5g}"))
        ratio.append(float(f"{g / math.sqrt(float((w.double() ** 2).sum())):.5g}"))
    return grad, ratio


@torch.no_grad()
def recalibrate_bn(module, train, cfg, dtype, channels_last, autocast):
    """BN recalibration (src/engine/train/bn-recalibration.ts): each BN's running mean and variance become the plain
    average of the statistics of `batches` training batches drawn from a seeded order of their own, in training mode."""
    batches = cfg["lrpet"]["bnRecalibrationBatches"]
    seed = derive_seed(cfg["seed"], "bn-recalibration")
    order = EpochOrder(train.count, Rng(derive_seed(seed, "order")))
    aug = Rng(derive_seed(seed, "augment")) if cfg["augment"] else None
    bns = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    sums = {m: [0.0, 0.0] for m in bns}

    def record(m, inputs):
        x = inputs[0].double()
        count = x.numel() // x.shape[1]
        mean = x.mean((0, 2, 3))
        var = x.var((0, 2, 3), unbiased=False) * count / max(1, count - 1)
        sums[m][0] = sums[m][0] + mean
        sums[m][1] = sums[m][1] + var

    hooks = [m.register_forward_pre_hook(record) for m in bns]
    was = module.training
    module.train()
    at = 0
    try:
        for _ in range(batches):
            if at >= train.count:
                order.reshuffle()
                at = 0
            idx = order.order[at:min(at + cfg["batchSize"], train.count)]
            at += len(idx)
            x, _ = train.batch(idx, aug_draws(aug, len(idx)) if aug else None, dtype, channels_last)
            with autocast():
                module(x)
    finally:
        for h in hooks:
            h.remove()
        module.train(was)
    for m in bns:
        m.running_mean.copy_((sums[m][0] / batches).to(m.running_mean.dtype))
        m.running_var.copy_((sums[m][1] / batches).to(m.running_var.dtype))


def save_state_dict(path, state_dict, model, variant):
    """A state_dict as safetensors (float32 tensors, the BN counters int64) with the engine's metadata."""
    tensors = {k: (v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()).contiguous() for k, v in state_dict.items()}
    safetensors_np.save(path, tensors, {"format": "pt", "lrpet.model": model, "lrpet.variant": variant})
