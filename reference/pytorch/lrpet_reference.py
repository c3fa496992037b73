#!/usr/bin/env python3
"""An independent PyTorch reference of LRPET training, for the playground's parity test
(src/node/torch-parity.test.ts). Written from the method spec (shared docs/lrpet.md), not from the
playground's engine and not from the authors' code.

Commands (all files are safetensors with the official PyTorch names, see lrpet_models.py):
  init    --model M --seed S --out FILE
          Kaiming-normal conv/linear weights, small random biases and a non-trivial BatchNorm state
          (gamma, beta, running mean and variance), so that every tensor's name and layout matters.
  train   --config JSON --init FILE --data FILE --out RESULT.json
          Trains from FILE on the images of the CIFAR-binary FILE (one full batch, no augmentation)
          once in float64 and in float32 (once per batch order in float32_orders, default one) and
          writes the per-step losses and every projection's singular values. A JSON list of
          configurations gives a list of results, trained in one process. Config keys: model, steps,
          lr, momentum, weight_decay, wd_scope ('kernels': conv/linear weights only, 'all': every
          parameter), prune, interval, energy_transfer, beta, bn_rectification, final_hard_projection
          (beta > 0: end with one hard projection, beta = 0 and no energy transfer, instead of a final
          soft one), skip_full_rank (layers of rank n are not projected), rank_multiple (ranks rounded up
          to a multiple of it, never above n; default 1) and bn_eps (only to make a deliberately wrong
          reference).
  plan    --cases '[[MODEL, P, K, FLOORS], ...]' --out RESULT.json
          For each case, every conv's rank (with FLOORS the official VGG floors, 18 then 43) and the
          dense and compact MACs (output sizes from a forward pass; a split conv costs
          H*W*r*(I*k*k + O), a layer that gains nothing from splitting stays dense).
  logits  --model M --weights FILE [--compact] --data FILE --out RESULT.json [--wrong NAME ...]
          Loads FILE with load_state_dict(strict=True) (the compact module for --compact) and writes
          its inference-mode logits in float64 and float32; with --wrong, also those of deliberately
          wrong references (WRONG_LOGITS: bn_eps, kernels_hw) under "wrong", for the negative controls.
  names   MODEL...
          Prints every model's state_dict as JSON: {model: [[name, shape, dtype], ...]}.

Exit code 3 with a message when torch is missing.
"""
import argparse
import json
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover
    sys.stderr.write(f"PyTorch and numpy are required ({e}): apt-get install python3-torch python3-numpy\n")
    sys.exit(3)

import safetensors_np
from lrpet_compact import compact_model
from lrpet_models import build_model, conv_bn_pairs, normalise
from lrpet_torch.projection import param_groups, project, rank_for  # noqa: F401 (the one copy, shared with the trainer)


def read_cifar_bin(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 3073:
        raise ValueError(f"{path}: not whole CIFAR-10 records")
    rec = raw.reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32), torch.as_tensor(rec[:, 0].astype(np.int64))


def load_weights(path):
    tensors, metadata = safetensors_np.load(path)
    return {k: torch.from_numpy(v) for k, v in tensors.items()}, metadata


def save_weights(path, model, metadata):
    safetensors_np.save(path, {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, metadata)


def project_model(model, cfg, beta, energy_transfer):
    layers = {}
    for name, conv, bn in conv_bn_pairs(model):
        w = conv.weight
        n = min(w.shape[0], w[0].numel())
        rank = rank_for(n, cfg["prune"], cfg.get("rank_multiple", 1))
        if cfg.get("skip_full_rank") and rank >= n:
            continue
        if cfg["bn_rectification"]:
            a = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        else:
            a = torch.ones(w.shape[0], dtype=w.dtype)
        summary = project(w.data, a, rank, beta, energy_transfer)
        layers[name] = {"rank": rank, "skipped": summary is None, **(summary or {})}
    return layers


def train(cfg, init, images_u8, labels, dtype):
    torch.manual_seed(0)
    model = build_model(cfg["model"])
    model.load_state_dict(init, strict=True)
    model = model.to(dtype)
    if "bn_eps" in cfg:
        for _, _, bn in conv_bn_pairs(model):
            bn.eps = cfg["bn_eps"]
    x = normalise(images_u8, dtype)
    opt = torch.optim.SGD(param_groups(model, cfg.get("wd_scope", "kernels"), cfg["weight_decay"]), lr=cfg["lr"], momentum=cfg["momentum"])
    losses, projections = [], []
    last_projection = 0
    model.train()
    for it in range(1, cfg["steps"] + 1):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if it % cfg["interval"] == 0:
            projections.append({"iteration": it, "layers": project_model(model, cfg, cfg["beta"], cfg["energy_transfer"])})
            last_projection = it
    if cfg.get("final_hard_projection") and cfg["beta"] > 0:
        # Soft projections leave the weights full rank: before the compact model, one hard cut (beta = 0)
        # that keeps the kept singular values as they are (no energy transfer), instead of a final soft one.
        projections.append({"iteration": cfg["steps"], "hard": True, "layers": project_model(model, cfg, 0.0, False)})
    elif last_projection != cfg["steps"]:
        # The weights moved after the last scheduled projection: project once more (as the playground does before building its compact model).
        projections.append({"iteration": cfg["steps"], "layers": project_model(model, cfg, cfg["beta"], cfg["energy_transfer"])})
    return model, {"losses": losses, "projections": projections}


def cmd_init(args):
    torch.manual_seed(args.seed)
    model = build_model(args.model)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(mod.weight)
                if mod.bias is not None:
                    mod.bias.uniform_(-0.1, 0.1)
            elif isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0.0, 0.1)
                mod.running_mean.normal_(0.0, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
    save_weights(args.out, model, {"format": "pt", "lrpet.model": args.model, "lrpet.variant": "dense"})


def train_result(cfg, init, images, labels, save_prefix=None):
    # float32 runs, one per order of the batch: a loss is a mean over the batch, so the order changes
    # only the rounding: the spread of these runs is float32 noise.
    orders = cfg.get("float32_orders") or [list(range(len(labels)))]
    runs = [(torch.float64, list(range(len(labels))))] + [(torch.float32, order) for order in orders]
    result = {"float64": None, "float32": []}
    for dtype, order in runs:
        t0 = time.perf_counter()
        model, out = train(cfg, init, images[order], labels[order], dtype)
        out["seconds"] = time.perf_counter() - t0
        if dtype == torch.float64:
            result["float64"] = out
        else:
            result["float32"].append(out)
        if save_prefix and len(result["float32"]) <= 1:
            name = "float64" if dtype == torch.float64 else "float32"
            save_weights(f"{save_prefix}{name}.safetensors", model, {"format": "pt", "lrpet.model": cfg["model"], "lrpet.variant": "dense"})
    return result


def cmd_train(args):
    with open(args.config) as f:
        cfg = json.load(f)
    init, _ = load_weights(args.init)
    images, labels = read_cifar_bin(args.data)
    torch.set_num_threads(1)
    if isinstance(cfg, list):  # several configurations in one process (torch is imported once)
        if args.save_prefix:
            raise ValueError("--save-prefix takes a single configuration")
        result = [train_result(c, init, images, labels) for c in cfg]
    else:
        result = train_result(cfg, init, images, labels, args.save_prefix)
    with open(args.out, "w") as f:
        json.dump(result, f)


@torch.no_grad()
def _bn_eps_1e3(model):
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.eps = 1e-3


@torch.no_grad()
def _kernels_hw(model):
    for mod in model.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.weight.copy_(mod.weight.transpose(2, 3).clone())


# Deliberately wrong references for the logits criterion's negative controls: a numerics detail
# (BatchNorm's epsilon 1e-3 instead of 1e-5) and a layout error that strict loading cannot see
# (every square conv kernel with its height and width axes swapped, [O, I, kw, kh]).
WRONG_LOGITS = {"bn_eps": _bn_eps_1e3, "kernels_hw": _kernels_hw}


def cmd_logits(args):
    state_dict, metadata = load_weights(args.weights)
    images, _ = read_cifar_bin(args.data)
    result = {"wrong": {}}
    for wrong in [None] + (args.wrong or []):
        out = result if wrong is None else result["wrong"].setdefault(wrong, {})
        for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            model = compact_model(args.model, state_dict) if args.compact else build_model(args.model)
            if not args.compact:
                model.load_state_dict(state_dict, strict=True)
            model = model.to(dtype).eval()
            if wrong is not None:
                WRONG_LOGITS[wrong](model)
            with torch.no_grad():
                out[name] = model(normalise(images, dtype)).tolist()
    result["metadata"] = metadata
    with open(args.out, "w") as f:
        json.dump(result, f)


def cmd_names(args):
    out = {m: [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in build_model(m).state_dict().items()] for m in args.models}
    json.dump(out, sys.stdout)


def plan(model_name, prune, multiple=1, floors=False):
    """Every conv's rank and the dense and compact MACs of one plan (see the plan command)."""
    model = build_model(model_name)
    sizes = {}
    hooks = [m.register_forward_hook(lambda mod, _i, out: sizes.__setitem__(mod, out.shape[-2] * out.shape[-1]))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    layers, dense, compact = [], 0, 0
    for i, (name, conv, _bn) in enumerate(conv_bn_pairs(model)):
        o, k = conv.weight.shape[0], conv.weight[0].numel()
        n = min(o, k)
        if floors:  # the floor applies before the rounding
            r = max(rank_for(n, prune), min(n, 18 if i == 0 else 43))
            r = min(n, -(-r // multiple) * multiple)
        else:
            r = rank_for(n, prune, multiple)
        split = r * (k + o) < o * k
        macs = sizes[conv] * o * k
        dense += macs
        compact += sizes[conv] * r * (k + o) if split else macs
        layers.append({"name": name, "rank": r, "split": split})
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            dense += m.in_features * m.out_features
            compact += m.in_features * m.out_features
    return {"layers": layers, "macsDense": dense, "macsCompact": compact}


def cmd_plan(args):
    cases = json.loads(args.cases)
    with open(args.out, "w") as f:
        json.dump([plan(m, p, k, bool(fl)) for m, p, k, fl in cases], f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("init")
    p.add_argument("--model", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p = sub.add_parser("train")
    p.add_argument("--config", required=True)
    p.add_argument("--init", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--save-prefix", default=None, help="also write the final weights to PREFIXfloat32/64.safetensors")
    p = sub.add_parser("logits")
    p.add_argument("--model", required=True)
    p.add_argument("--weights", required=True)
    p.add_argument("--compact", action="store_true")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--wrong", action="append", choices=sorted(WRONG_LOGITS), help="also a deliberately wrong reference (repeatable)")
    p = sub.add_parser("names")
    p.add_argument("models", nargs="+")
    p = sub.add_parser("plan")
    p.add_argument("--cases", required=True, help='JSON list of [model, prune, rank multiple, rank floors]')
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    {"init": cmd_init, "train": cmd_train, "logits": cmd_logits, "names": cmd_names, "plan": cmd_plan}[args.command](args)


if __name__ == "__main__":
    main()
