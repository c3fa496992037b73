"""The end of a run, as the engine's LRPET mode ends it (src/engine/run/modes.ts, buildCompact): one more
projection if the weights moved since the last one (after soft projections, β > 0, a hard cut instead),
BN recalibration if asked, then the compact model — built from the projected weights, tested, reported —
and the two state_dict files with the official names."""
import os

import torch

from .compact import compact_model, compact_state_dict
from .ops import evaluate, recalibrate_bn, save_state_dict
from .plan import costs_of_compact


def _pct(x):
    return f"{x * 100:.2f}%"


def finish_run(run):
    cfg, p, log, procs = run.cfg, run.progress, run.log, run.procs
    lp = cfg["lrpet"]
    if not lp["enabled"] or not cfg["buildCompact"]:
        if procs.main:
            save_state_dict(os.path.join(run.args.out, "projected.safetensors"), run.module.state_dict(), cfg["model"], "dense")
        return
    hard = lp["beta"] > 0
    final = run.project(beta=0.0, energyTransfer=False) if hard else run.project() if p.last_projection_iteration != p.iteration else None
    if final:
        log.emit("activity", activity="evaluating", message=f"testing the projected model on {run.test.count} images…")
    test_loss, test_acc = run.evaluate()
    if final:
        run.projection_event(final, test_acc)
    if hard:
        log.emit("log", level="info", message=(
            f"β = {lp['beta']}: the soft projections leave every layer at full rank, so one hard projection (β = 0, kept singular values unchanged) "
            f"cut them to rank r before the compact model was built; test accuracy after it {_pct(test_acc)}"))
    bn_recal = None
    batches = lp["bnRecalibrationBatches"]
    if batches > 0:
        # Every process recalibrates on the whole batches (the same statistics everywhere, nothing to send).
        recalibrate_bn(run.module, run.train, cfg, run.dtype, run.args.channels_last, run.autocast)
        after_loss, after_acc = run.evaluate()
        log.emit("log", level="info", message=(
            f"BN recalibration: running statistics recomputed over {batches} training batch{'' if batches == 1 else 'es'} "
            f"(average of the batch statistics); test accuracy {_pct(test_acc)} → {_pct(after_acc)}"))
        bn_recal = {"batches": batches, "testAccuracyBefore": test_acc, "testAccuracyAfter": after_acc, "testLossBefore": test_loss, "testLossAfter": after_loss}
        test_loss, test_acc = after_loss, after_acc
    if procs.main:
        out = run.args.out
        dense_state = run.module.state_dict()
        save_state_dict(os.path.join(out, "projected.safetensors"), dense_state, cfg["model"], "dense")
        log.emit("activity", activity="building-compact", message="building the compact model (splitting the convolutions)…")
        state, layers = compact_state_dict(cfg["model"], dense_state, run.plan["layers"])
        save_state_dict(os.path.join(out, "compact.safetensors"), state, cfg["model"], "compact")
        log.emit("activity", activity="evaluating-compact", message=f"testing the compact model on {run.test.count} images…")
        model = compact_model(cfg["model"], {k: v.float() if v.is_floating_point() else v for k, v in state.items()}).to(run.device, run.dtype)
        if run.args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        c_loss, c_acc = evaluate(model, run.test, None, run.dtype, run.args.channels_last, run.autocast)
        macs, params = costs_of_compact(cfg["model"], layers)
        log.emit("compact", macsDense=run.plan["macsDense"], paramsDense=run.plan["paramsDense"], macsCompact=macs, paramsCompact=params,
                 testAccuracy=c_acc, testLoss=c_loss, denseTestAccuracy=test_acc, layers=layers, hardProjection=hard, bnRecalibration=bn_recal)
    procs.barrier()
