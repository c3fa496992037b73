"""The training loop: the engine's run (src/engine/run.ts) in PyTorch, on one process or N under torchrun.

The run's batch is the global batch: every process draws the same order and augmentation (the engine's
RNG streams), takes its contiguous share of each batch and computes the gradient of the global mean
loss (DistributedDataParallel sums the shares), with BatchNorm statistics over the whole batch unless
--no-sync-bn. Projections are computed by the first process and sent to the others. Events, checkpoints
and the safetensors files are written by the first process.
"""
import contextlib
import json
import math
import os
import signal
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from . import safetensors_np
from .checkpoint import load_checkpoint, save_checkpoint
from .compact import authors_split
from .data import EpochOrder, Images, aug_draws, limit_split, read_cifar, shard, steps_per_epoch, stride_subset
from .finish import finish_run
from .initialise import init_like_engine
from .models import build_model
from .ops import evaluate, grad_norms, project_layers
from .plan import plan_model
from .projection import param_groups
from .rng import Rng, derive_seed
from .syncbn import sync_batchnorm
from .tracing import Trace

EXPLODING_FLOOR, EXPLODING_FACTOR = 20, 10


class RunError(RuntimeError):
    pass


@dataclass
class Progress:
    iteration: int = 0
    epoch: int = 0
    step: int = 0
    projections: int = 0
    last_projection_iteration: int = -1
    loss_sum: float = 0.0
    hits: float = 0.0
    seen: int = 0
    first_loss: float = None


class BnStatistics:
    """The BatchNorm running statistics and counters as views of two flat tensors, so that a step that is not
    applied (a diverging loss, a stop) puts them back in two copies."""

    def __init__(self, module):
        bns = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        self.flats = []
        for names in (("running_mean", "running_var"), ("num_batches_tracked",)):
            tensors = [(m, n) for m in bns for n in names]
            if not tensors:
                continue
            flat = torch.cat([getattr(m, n).reshape(-1) for m, n in tensors])
            at = 0
            for m, n in tensors:
                t = getattr(m, n)
                setattr(m, n, flat[at:at + t.numel()].view_as(t))
                at += t.numel()
            self.flats.append((flat, torch.empty_like(flat)))

    def save(self):
        for flat, saved in self.flats:
            saved.copy_(flat)

    def restore(self):
        for flat, saved in self.flats:
            flat.copy_(saved)


def load_init(path, model, name):
    """Initial weights from a state_dict file with the official names (num_batches_tracked may be absent)."""
    tensors, metadata = safetensors_np.load(path)
    if metadata.get("lrpet.variant") == "compact" or any(k.endswith((".C.weight", ".N.weight")) for k in tensors):
        raise RunError(f"{path}: this is a compact (split) model's file; start from a dense model's weights (e.g. projected.safetensors) of {name}")
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    own = model.state_dict()
    for key, value in own.items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = value.clone()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [f"{k} is {list(state[k].shape)}, {name} needs {list(v.shape)}" for k, v in own.items() if k in state and state[k].shape != v.shape]
    if missing or extra or shapes:
        raise RunError(f"{path}: these weights do not fit {name}: " + "; ".join(filter(None, [
            f"missing {len(missing)} tensors ({', '.join(missing[:4])})" if missing else "",
            f"{len(extra)} tensors {name} does not have ({', '.join(extra[:4])})" if extra else "",
            f"wrong shapes: {'; '.join(shapes[:3])}" if shapes else ""])))
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise RunError(f"{path}: {', '.join(bad[:3])} hold NaN or infinite values")
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)


class Trainer:
    def __init__(self, cfg, args, procs, log):
        self.cfg, self.args, self.procs, self.log = cfg, args, procs, log
        if cfg.get("posthoc") or cfg.get("compactFromScratch"):
            raise RunError("the PyTorch trainer runs LRPET and dense runs; the post-hoc and compact-from-scratch baselines run in the page or with lrpet train")
        self.device = procs.device
        self.dtype = torch.float64 if args.dtype == "float64" else torch.float32
        xtr, ytr, xte, yte = read_cifar(args.data)
        xtr, ytr = limit_split(xtr, ytr, cfg["trainLimit"])
        xte, yte = stride_subset(xte, yte, cfg["testLimit"])
        if not len(ytr) or not len(yte):
            raise RunError("the dataset has no training or no test images")
        self.train, self.test = Images(xtr, ytr, self.device), Images(xte, yte, self.device)
        self.plan = plan_model(cfg["model"], cfg["lrpet"])
        self.steps_per_epoch = steps_per_epoch(self.train.count, cfg["batchSize"])
        last = self.train.count - (self.steps_per_epoch - 1) * cfg["batchSize"]
        if last < procs.world:
            raise RunError(f"each epoch ends with a batch of {last} images, fewer than the {procs.world} processes: change batchSize or trainLimit")
        model = build_model(cfg["model"])
        if args.init:
            load_init(args.init, model, cfg["model"])
        else:
            init_like_engine(model, cfg["model"], derive_seed(cfg["seed"], "init"))
        model = model.to(self.device, self.dtype)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.sync_bn = procs.world > 1 and not args.no_sync_bn
        if self.sync_bn:
            model = sync_batchnorm(model, self.device, procs.group)
        self.module = model
        self.bn_stats = BnStatistics(model)
        self.net = DistributedDataParallel(model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                                           broadcast_buffers=not self.sync_bn) if procs.world > 1 else model
        self.opt = torch.optim.SGD(param_groups(model, cfg["weightDecayScope"], cfg["weightDecay"]), lr=cfg["lr"], momentum=cfg["momentum"])
        self.order = EpochOrder(self.train.count, Rng(derive_seed(cfg["seed"], "order")))
        self.aug = Rng(derive_seed(cfg["seed"], "augment"))
        self.progress = Progress()
        self.stop_signal = 0
        # --max-seconds: training stops after the step in flight once this much time has passed (the end of the run still comes)
        self.deadline = time.perf_counter() + args.max_seconds if getattr(args, "max_seconds", None) else None
        self.time_up = False
        self.diverged = None
        self.trace = Trace(args.trace, procs.rank) if args.trace else None
        self.resumed_from = None
        # reproduce: the authors' script's number, from the best test accuracy before the projection in the last `window` epochs
        self.window = getattr(args, "authors_window", None)
        self.authors = {"accuracy": -1.0, "epoch": None, "state": None, "epochs": []}

    def autocast(self):
        if self.args.amp == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # --- checkpoints -------------------------------------------------------------------------------

    def checkpoint(self):
        if self.procs.main:
            save_checkpoint(self.args.out, {
                "version": 1, "config": self.cfg, "model": self.module.state_dict(), "optimizer": self.opt.state_dict(),
                "progress": asdict(self.progress), "order": self.order.order, "order_rng": self.order.rng.state,
                "aug_rng": self.aug.state, "events_bytes": self.log.tell(), "world": self.procs.world, "authors": self.authors,
            })
        self.procs.barrier()

    def restore(self):
        # The first process reads the checkpoint (on several nodes the others may not see its --out) and sends it.
        ck = self.procs.broadcast_object(load_checkpoint(self.args.out, "cpu") if self.procs.main else None)
        if ck["config"]["model"] != self.cfg["model"]:
            raise RunError(f"the checkpoint in {self.args.out} is of {ck['config']['model']}, not {self.cfg['model']}")
        changed = ck["config"] != self.cfg
        # A resumed run goes on with the checkpoint's settings, as the engine's does.
        self.cfg = ck["config"]
        self.module.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.progress = Progress(**ck["progress"])
        self.order.order = np.asarray(ck["order"], dtype=np.int64)
        self.order.rng.state = ck["order_rng"]
        self.aug.state = ck["aug_rng"]
        self.authors = ck.get("authors", self.authors)
        self.resumed_from = self.progress.iteration
        return ck["events_bytes"], changed, ck["world"]

    # --- the run ------------------------------------------------------------------------------------

    def run_start(self):
        p = self.plan
        runtime = {"framework": "pytorch", "torch": torch.__version__, "processes": self.procs.world, "nodes": self.procs.nodes,
                   "device": self.device.type, "deviceName": self.procs.device_name(), "syncBatchNorm": self.sync_bn,
                   "amp": self.args.amp, "channelsLast": bool(self.args.channels_last), "dtype": str(self.dtype).replace("torch.", "")}
        self.log.emit("runStart", resumedFrom=self.resumed_from, config=self.cfg, prune=p["prune"], backend=self.procs.label(),
                      runtime=runtime, trainSize=self.train.count, testSize=self.test.count, stepsPerEpoch=self.steps_per_epoch,
                      layers=p["layers"], macsDense=p["macsDense"], macsCompact=p["macsCompact"], paramsDense=p["paramsDense"], paramsCompact=p["paramsCompact"])
        self.state("running")

    def state(self, s):
        self.log.emit("state", state=s, iteration=self.progress.iteration, epoch=self.progress.epoch)

    def projection_due(self, epoch, iteration):
        lp = self.cfg["lrpet"]
        if not lp["enabled"]:
            return False
        end = lp["endEpoch"] if lp["endEpoch"] is not None else self.cfg["epochs"] - 1
        return lp["startEpoch"] <= epoch <= end and iteration % (lp["interval"] or self.steps_per_epoch) == 0

    def project(self, **override):
        settings = {**self.cfg["lrpet"], **override}
        layers, ms = project_layers(self.module, self.cfg["model"], self.plan["layers"], settings, self.procs)
        self.progress.last_projection_iteration = self.progress.iteration
        self.progress.projections += 1
        return layers, ms

    def projection_event(self, projection, test_accuracy):
        p = self.progress
        self.log.emit("projection", index=p.projections, iteration=p.iteration, epoch=p.epoch, layers=projection[0], projectionMs=projection[1], testAccuracy=test_accuracy)

    def evaluate(self):
        return evaluate(self.module, self.test, self.procs, self.dtype, self.args.channels_last, self.autocast)

    def learning_rate(self):
        c, p = self.cfg, self.progress
        s = c["schedule"]
        if s["kind"] == "constant":
            return c["lr"]
        if s["kind"] == "step":
            return c["lr"] * s["gamma"] ** sum(1 for m in s["milestones"] if p.epoch >= m)
        progress = p.iteration / (c["epochs"] * self.steps_per_epoch)
        return s["minLr"] + (c["lr"] - s["minLr"]) * (1 + math.cos(math.pi * min(1, progress))) / 2

    def train_epochs(self):
        p, c = self.progress, self.cfg
        while p.epoch < c["epochs"]:
            t0 = time.perf_counter()
            end_projection = None
            while p.step < self.steps_per_epoch:
                due = self.projection_due(p.epoch, p.iteration + 1)
                if not self.step(due):
                    return False
                if due:
                    if self.window and p.step == self.steps_per_epoch and p.epoch >= c["epochs"] - self.window:
                        self.authors_check()
                    projection = self.project()
                    if p.step == self.steps_per_epoch:
                        end_projection = projection
                    else:
                        self.projection_event(projection, None)
            self.log.emit("activity", activity="evaluating", message=f"testing on {self.test.count} images…")
            test_loss, test_acc = self.evaluate()
            if end_projection:
                self.projection_event(end_projection, test_acc)
            self.log.emit("epoch", epoch=p.epoch, iteration=p.iteration, trainLoss=p.loss_sum / max(1, p.seen), trainAccuracy=p.hits / max(1, p.seen),
                          testLoss=test_loss, testAccuracy=test_acc, afterProjection=end_projection is not None,
                          epochMs=(time.perf_counter() - t0) * 1000, numTensors=0, **self.memory())
            if p.epoch + 1 < c["epochs"]:
                self.order.reshuffle()
            p.epoch, p.step, p.loss_sum, p.hits, p.seen = p.epoch + 1, 0, 0.0, 0.0, 0
            self.checkpoint()
        return True

    def authors_check(self):
        """The authors' script tests before the epoch's projection and keeps the best checkpoint of its last epochs."""
        _, acc = self.evaluate()
        a = self.authors
        a["epochs"].append({"epoch": self.progress.epoch, "testAccuracy": acc})
        if acc > a["accuracy"]:
            state = {k: v.detach().cpu().clone() for k, v in self.module.state_dict().items()} if self.procs.main else None
            a.update(accuracy=acc, epoch=self.progress.epoch, state=state)

    def authors_result(self):
        a = self.authors
        if self.procs.main and a["state"] is not None:
            model = authors_split(self.cfg["model"], a["state"], self.plan["layers"]).to(self.device, self.dtype)
            loss, acc = evaluate(model, self.test, None, self.dtype, self.args.channels_last, self.autocast)
            with open(os.path.join(self.args.out, "authors.json"), "w", encoding="utf-8") as f:
                json.dump({"done": True, "epoch": a["epoch"], "beforeProjectionAccuracy": a["accuracy"], "accuracy": acc, "loss": loss, "epochs": a["epochs"]}, f, indent=2)

    def memory(self):
        if self.device.type != "cuda":
            return {}
        used = torch.cuda.memory_allocated(self.device)
        return {"memory": {"numBytes": used, "gpuBytesInUse": used, "gpuBytesAllocated": torch.cuda.memory_reserved(self.device)}}

    def step(self, projection_due):
        """One step on the next batch; False when the run ends here (a signal, or a diverging loss: the step is not applied)."""
        p, c, procs = self.progress, self.cfg, self.procs
        t0 = time.perf_counter()
        start = p.step * c["batchSize"]
        idx = self.order.order[start:start + c["batchSize"]]
        n = len(idx)
        aug_state = self.aug.state
        draws = aug_draws(self.aug, n) if c["augment"] else None
        if self.args.permute_batch is not None:  # the same batch in another order: only the rounding changes (tests)
            perm = np.random.default_rng([self.args.permute_batch, p.iteration]).permutation(n)
            idx, draws = idx[perm], (tuple(d[perm] for d in draws) if draws else None)
        lo, hi = shard(n, procs.world, procs.rank)
        x, y = self.train.batch(idx[lo:hi], tuple(d[lo:hi] for d in draws) if draws else None, self.dtype, self.args.channels_last)
        if self.trace:
            self.trace.step(p.iteration + 1, idx, draws, lo, hi, x)
        lr = self.learning_rate()
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.bn_stats.save()
        self.opt.zero_grad(set_to_none=True)
        with self.autocast():
            logits = self.net(x)
        loss_sum = F.cross_entropy(logits.float() if self.dtype == torch.float32 else logits, y, reduction="sum")
        # DDP averages the processes' gradients: each computes its share of the global mean loss, times the processes.
        (loss_sum * (procs.world / n)).backward()
        hits = (logits.argmax(1) == y).sum()
        late = float(procs.main and self.deadline is not None and time.perf_counter() > self.deadline)
        total_loss, total_hits, stop, late = procs.all_sum([float(loss_sum), float(hits), float(self.stop_signal), late])
        loss = total_loss / n
        diverged = None if stop else self.divergence(loss, lr, p.iteration + 1)
        if stop or diverged:
            # Nothing of this step is kept: it is taken again after a resume.
            self.bn_stats.restore()
            self.aug.state = aug_state
        if stop:
            return False
        if diverged:
            self.diverged = diverged
            self.log.emit("error", code=diverged[0], message=diverged[1], iteration=p.iteration, epoch=p.epoch)
            return False
        after_projection = p.iteration > 0 and p.last_projection_iteration == p.iteration
        reasons = self.grad_norm_reasons(p.iteration + 1, projection_due, after_projection)
        norms = grad_norms(self.module, c["model"], self.plan["layers"]) if reasons and procs.main else None
        self.opt.step()
        p.iteration += 1
        p.step += 1
        p.loss_sum += loss * n
        p.hits += total_hits
        p.seen += n
        if p.first_loss is None:
            p.first_loss = loss
        ms = (time.perf_counter() - t0) * 1000
        if p.iteration % c["stepEventEvery"] == 0:
            self.log.emit("step", iteration=p.iteration, epoch=p.epoch, loss=loss, accuracy=total_hits / n, lr=lr, imagesPerSec=n / ms * 1000,
                          stepMs=ms, numTensors=0, **self.memory())
        if norms:
            self.log.emit("gradNorms", iteration=p.iteration, epoch=p.epoch, reasons=reasons, grad=norms[0], ratio=norms[1])
        self.test_hold()
        if late:
            self.time_up = True
            self.log.emit("log", level="info", message=f"--max-seconds {self.args.max_seconds}: training stopped after iteration {p.iteration}")
            return False
        return True

    def grad_norm_reasons(self, iteration, before, after):
        every = self.cfg["gradNormEvery"]
        if every <= 0:
            return []
        return [r for r, on in (("sample", iteration % every == 0), ("beforeProjection", before), ("afterProjection", after)) if on]

    def divergence(self, loss, lr, iteration):
        if not math.isfinite(loss):
            return "nan", f"the loss became {loss} at iteration {iteration} (learning rate {lr}); the run stopped before applying that step. Lower the learning rate."
        first = self.progress.first_loss
        if first is None:
            return None
        limit = max(EXPLODING_FLOOR, EXPLODING_FACTOR * first)
        if loss <= limit:
            return None
        return "exploding", (f"the loss jumped to {loss:.4g} at iteration {iteration}, above {limit:.3g} (the larger of {EXPLODING_FLOOR} and {EXPLODING_FACTOR}× the first step's "
                             f"{first:.4g}): training is diverging at learning rate {lr}, so the run stopped before applying that step. Lower the learning rate, e.g. to {lr / 10}.")

    def test_hold(self):
        """For the tests that kill or stop a worker ($LRPET_TORCH_HOLD_AT=RANK:ITERATION): on the first attempt, that
        process waits after that step, its pid in OUT/hold-RANK.pid, until it is killed or signalled (SIGTERM, SIGINT)."""
        hold = os.environ.get("LRPET_TORCH_HOLD_AT")
        if not hold or self.procs.restart:
            return
        rank, iteration = (int(v) for v in hold.split(":"))
        if rank == self.procs.rank and iteration == self.progress.iteration:
            with open(os.path.join(self.args.out, f"hold-{rank}.pid"), "w") as f:
                f.write(str(os.getpid()))
            while not self.stop_signal:
                time.sleep(0.05)

    def on_signal(self, signum, _frame):
        self.stop_signal = signum

    def run(self, resume):
        """Trains to the end, or until a signal (checkpoint, exit 128 + signal); returns the exit code."""
        log_offset, changed, world = (None, False, None)
        if resume:
            log_offset, changed, world = self.restore()
            self.plan = plan_model(self.cfg["model"], self.cfg["lrpet"])
        self.log.open(log_offset)
        self.run_start()
        if changed:
            self.log.emit("log", level="warn", message="run.json differs from the checkpoint's settings: the run goes on with the checkpoint's")
        if world is not None and world != self.procs.world:
            self.log.emit("log", level="info", message=f"resumed on {self.procs.world} processes (checkpointed on {world}): the same global batch, split differently")
        if not resume:
            self.checkpoint()
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        self.log.emit("activity", activity="compiling", message="the first step…")
        finished = self.train_epochs()
        if self.stop_signal and not self.diverged:
            self.checkpoint()
            name = signal.Signals(self.stop_signal).name
            self.log.emit("log", level="info", message=f"{name}: stopped after iteration {self.progress.iteration} with a checkpoint; --resume goes on from there")
            self.state("stopped")
            return 128 + self.stop_signal
        finish_run(self)
        if self.window and finished:
            self.authors_result()
        self.state("finished" if finished else "stopped")
        return 1 if self.diverged else 0
