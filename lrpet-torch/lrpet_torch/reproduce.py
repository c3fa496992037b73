"""`reproduce cifar10`: the paper's CIFAR-10 table in one command — the authors' three settings trained with
their recipe (the engine's defaults: 400 epochs, SGD lr 0.1 ×0.1 at 200 and 300, batch 128, weight decay
1e-4 on every parameter, crop + flip), one after the other, then a table beside the published numbers:

- MACs and parameters counted from compact.safetensors's own tensor shapes (spec section 7);
- the final compact model's test accuracy (the engine's way: tested after the last projection);
- the number the authors' script reports: the checkpoint with the best test accuracy in the last quarter of
  the epochs (300-399 of 400), tested before that epoch's projection, split by a truncated SVD of its raw
  weights at the planned ranks, tested.

Each setting writes its own folder under --out; run again, it skips finished settings and resumes the one
that was interrupted. --epochs/--train-limit/--test-limit shorten it (the window is then the last quarter
of the epochs given, at least the last one).
"""
import argparse
import json
import os
import sys

from .compact import read_safetensors
from .config import parse_run_config, run_file_text, FORMAT
from .models import layer_table

# name, model, prune, the paper's MACs, parameters and top-1 (spec section 10)
SETTINGS = [
    ("resnet56-p0.57", "resnet56", 0.57, 56.06e6, 0.39e6, 93.27),
    ("resnet110-p0.65", "resnet110", 0.65, 93.78e6, 0.65e6, 93.61),
    ("vgg16-floors", "vgg16", 0.99, 81.29e6, 1.62e6, 93.52),
]


def reproduce_parser(sub):
    p = sub.add_parser("reproduce", help="the paper's CIFAR-10 table: three settings, 400 epochs each", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dataset", choices=["cifar10"])
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=400)
    p.add_argument("--train-limit", type=int, default=None, help="(a dry run) the first N training images")
    p.add_argument("--test-limit", type=int, default=None, help="(a dry run) N test images")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1, help="(a dry run) another learning rate: a few images in small batches diverge at the paper's 0.1")
    p.add_argument("--only", default=None, help="comma-separated setting names (default all three)")
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    p.add_argument("--amp", choices=["bf16"], default=None)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--no-sync-bn", action="store_true")


def setting_config(model, prune, a):
    value = {"format": FORMAT, "model": model, "epochs": a.epochs, "batchSize": a.batch, "lr": a.lr, "lrpet": {"prune": prune}, "trainLimit": a.train_limit, "testLimit": a.test_limit}
    return parse_run_config(value, f"the {model} setting")


def costs_from_state_dict(model, state):
    """MACs and parameters of a (compact or dense) state_dict from its tensors' shapes and each layer's output size."""
    macs = params = 0
    for layer in layer_table(model):
        pixels = layer.out_size * layer.out_size if layer.kind == "conv" else 1
        halves = [f"{layer.path}.C", f"{layer.path}.N"] if f"{layer.path}.C.weight" in state else [layer.path]
        for h in halves:
            w = state[f"{h}.weight"]
            macs += pixels * w.numel()
            params += w.numel() + (state[f"{h}.bias"].numel() if f"{h}.bias" in state else 0)
    return macs, params


def cmd_reproduce(a):
    from types import SimpleNamespace

    from .__main__ import cmd_train

    chosen = [s for s in SETTINGS if a.only is None or s[0] in a.only.split(",")]
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for name, model, prune, paper_macs, paper_params, paper_top1 in chosen:
        folder = os.path.join(a.out, name)
        os.makedirs(folder, exist_ok=True)
        cfg = setting_config(model, prune, a)
        run_file = os.path.join(a.out, f"{name}.run.json")
        with open(run_file, "w", encoding="utf-8") as f:
            f.write(run_file_text(cfg))
        summary = os.path.join(folder, "authors.json")
        if not (os.path.exists(summary) and json.load(open(summary)).get("done")):
            resume = os.path.exists(os.path.join(folder, "checkpoint.pt"))
            args = SimpleNamespace(config=run_file, data=a.data, out=folder, init=None, resume=resume, print_config=False, device=a.device, amp=a.amp,
                                   channels_last=a.channels_last, no_sync_bn=a.no_sync_bn, dtype="float32", permute_batch=None, trace=None,
                                   authors_window=max(1, a.epochs // 4))
            code = cmd_train(args)
            if code != 0:
                sys.stderr.write(f"lrpet_torch reproduce: the {name} run did not finish (exit {code}); run the command again to resume it\n")
                return code
        rows.append(table_row(name, model, folder, paper_macs, paper_params, paper_top1))
    write_table(a.out, rows, a)
    return 0


def table_row(name, model, folder, paper_macs, paper_params, paper_top1):
    state, _ = read_safetensors(os.path.join(folder, "compact.safetensors"))
    macs, params = costs_from_state_dict(model, state)
    compact = [json.loads(line) for line in open(os.path.join(folder, "events.jsonl"), encoding="utf-8") if '"type":"compact"' in line][-1]
    authors = json.load(open(os.path.join(folder, "authors.json")))
    return {"setting": name, "macs": macs, "params": params, "paperMacs": paper_macs, "paperParams": paper_params,
            "compactAccuracy": compact["testAccuracy"] * 100, "authorsAccuracy": authors["accuracy"] * 100, "authorsEpoch": authors["epoch"],
            "paperTop1": paper_top1}


def write_table(out, rows, a):
    with open(os.path.join(out, "table.json"), "w", encoding="utf-8") as f:
        json.dump({"epochs": a.epochs, "trainLimit": a.train_limit, "testLimit": a.test_limit, "rows": rows}, f, indent=2)
    lines = [
        "| setting | MACs (paper) | parameters (paper) | compact model top-1 | authors' script top-1 (epoch) | paper top-1 |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['macs'] / 1e6:.2f}M ({r['paperMacs'] / 1e6:.2f}M) | {r['params'] / 1e6:.3f}M ({r['paperParams'] / 1e6:.2f}M) | "
                     f"{r['compactAccuracy']:.2f} | {r['authorsAccuracy']:.2f} ({r['authorsEpoch'] + 1}) | {r['paperTop1']:.2f} |")
    note = f"{a.epochs} epochs" + (f", {a.train_limit} training images" if a.train_limit else "") + (f", {a.test_limit} test images" if a.test_limit else "")
    text = "\n".join([
        f"LRPET on CIFAR-10 ({note}); paper: Guo et al., TNNLS 2024, 400 epochs (it gives parameters cut to two decimals).",
        "Compact model: tested after the last projection (the engine's way). Authors' script: the best test accuracy before",
        "a projection in the last quarter of the epochs, that checkpoint split by a truncated SVD of its raw weights, tested.",
        "", *lines, ""])
    with open(os.path.join(out, "table.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
