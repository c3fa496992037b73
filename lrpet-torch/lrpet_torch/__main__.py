"""lrpet_torch: the LRPET playground's runs on PyTorch, on one GPU or many (DistributedDataParallel).

  python3 -m lrpet_torch train --config run.json --data DIR --out DIR [--init FILE.safetensors] [--resume]
  torchrun --nproc_per_node N -m lrpet_torch train --config run.json --data DIR --out DIR
  python3 -m lrpet_torch reproduce cifar10 --data DIR --out DIR       (the paper's CIFAR-10 table)

Run from the repository root with PYTHONPATH=lrpet-torch (or pip install ./lrpet-torch). Needs torch and numpy.
"""
import argparse
import os
import sys

from .config import ConfigFileError, load_run_file, run_file_text
from .data import DataError
from .plan import PlanError, plan_model


class UsageError(ValueError):
    pass


def train_parser(sub):
    p = sub.add_parser("train", help="train a run.json (under torchrun: on every process)", description="Train the run a run.json describes.")
    p.add_argument("--config", required=True, help="the run file (run.json: the page's Run at scale…, or npx lrpet train … --print-config)")
    p.add_argument("--data", help="folder with CIFAR-10's data_batch_*.bin and test_batch.bin")
    p.add_argument("--out", help="folder for events.jsonl, checkpoint.pt, projected.safetensors and compact.safetensors")
    p.add_argument("--init", help="start from these weights: a state_dict (.safetensors) of the model with the official names")
    p.add_argument("--resume", action="store_true", help="go on from OUT/checkpoint.pt (after torchrun restarts the workers this is automatic)")
    p.add_argument("--print-config", action="store_true", help="print the complete run.json (defaults filled in) and exit")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="stop training after this many seconds (after the step in flight; the final projection and the compact model still come)")
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"])
    p.add_argument("--amp", choices=["bf16"], default=None, help="bfloat16 autocast (default: float32, as the engine)")
    p.add_argument("--channels-last", action="store_true", help="channels-last memory format (NHWC convolutions)")
    p.add_argument("--no-sync-bn", action="store_true",
                   help="BatchNorm statistics of each process's share only (faster on many GPUs; the batch statistics, and so the training, "
                        "then differ from one process with the whole batch, and the running statistics are the first process's)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"], help=argparse.SUPPRESS)  # float64: the tests' reference
    p.add_argument("--permute-batch", type=int, default=None, help=argparse.SUPPRESS)  # tests: the batch in another order
    p.add_argument("--trace", default=None, help=argparse.SUPPRESS)  # tests: every step's indices, draws and images


def cmd_train(a):
    cfg = load_run_file(a.config)
    if a.init:
        cfg["init"] = cfg["init"] or {"name": os.path.basename(a.init)[:300]}
    elif cfg["init"] is not None:
        raise UsageError(f"{a.config} starts from the weights '{cfg['init']['name']}': give them with --init FILE")
    plan_model(cfg["model"], cfg["lrpet"])  # a rank override or target that cannot work fails here
    if a.print_config:
        sys.stdout.write(run_file_text(cfg))
        return 0
    if not a.data or not a.out:
        raise UsageError("train needs --data DIR and --out DIR")
    import torch

    from .distributed import Processes
    from .events import EventLog
    from .trainer import Trainer

    torch.backends.cuda.matmul.allow_tf32 = False  # float32 as the engine computes it
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    procs = Processes(a.device)
    try:
        os.makedirs(a.out, exist_ok=True)
        events = os.path.join(a.out, "events.jsonl")
        # The first process's --out decides (on several nodes the others may not see it).
        decision = start_or_resume(a, procs.restart, events) if procs.main else None
        decision = procs.broadcast_object(decision)
        if decision not in ("start", "resume"):
            raise UsageError(decision)
        resume = decision == "resume"
        trainer = Trainer(cfg, a, procs, EventLog(events, procs.main))
        try:
            code = trainer.run(resume)
        finally:
            trainer.log.close()
        if trainer.diverged and procs.main:
            sys.stderr.write(f"lrpet_torch: the run ended with an error: {trainer.diverged[1]}\n")
        return code
    finally:
        procs.close()


def start_or_resume(a, restart, events):
    """'resume', 'start', or why neither (the first process decides from its --out)."""
    from .checkpoint import checkpoint_path

    has_checkpoint = os.path.exists(checkpoint_path(a.out))
    if a.resume and not has_checkpoint:
        return f"--resume: there is no checkpoint in {a.out}"
    if a.resume or (restart > 0 and has_checkpoint):
        return "resume"
    if restart == 0 and (has_checkpoint or os.path.exists(events)):
        return f"{a.out} holds a run already: --resume to continue it, or give another --out"
    return "start"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m lrpet_torch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train_parser(sub)
    from .reproduce import reproduce_parser

    reproduce_parser(sub)
    a = parser.parse_args(argv)
    try:
        if a.command == "train":
            return cmd_train(a)
        from .reproduce import cmd_reproduce

        return cmd_reproduce(a)
    except (ConfigFileError, PlanError, DataError, UsageError) as e:
        sys.stderr.write(f"lrpet_torch: {e}\n")
        return 2
    except RuntimeError as e:
        if type(e).__name__ != "RunError":
            raise
        sys.stderr.write(f"lrpet_torch: {e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
