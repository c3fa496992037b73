"""The engine's rank plan (src/engine/plan.ts, lrpet/rank.ts, models/cost.ts): each layer's rank, and the
MACs and parameters of the dense and the compact model in the paper's convention (spec sections 2, 6, 7)."""
import math

from .models import layer_table


class PlanError(ValueError):
    pass


def rank_for_prune(n, p):
    """Spec section 2: r = max(1, floor(n - n*p)) in double precision, exactly as written."""
    if not (0 <= p < 1):
        raise PlanError(f"prune ratio p must be in [0, 1), got {p}")
    return max(1, math.floor(n - n * p))


def vgg_rank_floor(conv_index, n):
    """The official VGG-16 floors: at least 18 for the first conv, 43 for every other one (never above n)."""
    return min(n, 18 if conv_index == 0 else 43)


def round_up_rank(rank, multiple, n):
    """A rank rounded up to a multiple (the rankMultiple setting; 1: as it is), never above n."""
    return min(n, -(-rank // multiple) * multiple) if multiple > 1 else rank


def matrix_dims(layer):
    """O, K (the matrix view O x K) and the kernel shape [kh, kw, I, O] the engine reports."""
    if layer.kind == "conv":
        return layer.out_ch, layer.in_ch * layer.kernel * layer.kernel, [layer.kernel, layer.kernel, layer.in_ch, layer.out_ch]
    return layer.out_ch, layer.in_ch, [1, 1, layer.in_ch, layer.out_ch]


def dense_costs(layer):
    o, k, _ = matrix_dims(layer)
    pixels = layer.out_size * layer.out_size if layer.kind == "conv" else 1
    return pixels * o * k, o * k + (o if layer.bias else 0)


def split_costs(layer, rank):
    """The two halves of a rank-r layer: k x k (or in -> r) without bias, then 1 x 1 (or r -> out) with the layer's bias."""
    o, k, _ = matrix_dims(layer)
    pixels = layer.out_size * layer.out_size if layer.kind == "conv" else 1
    return pixels * rank * (k + o), rank * (k + o) + (o if layer.bias else 0)


def _plan_for_prune(layers, p, lrpet):
    enabled = lrpet.get("enabled", True)
    overrides = lrpet.get("rankOverrides") or {}
    names = [l.name for l in layers]
    for name in overrides:
        if name not in names:
            raise PlanError(f"rank override for unknown layer '{name}' (layers: {', '.join(names)})")
    multiple = int(lrpet.get("rankMultiple", 1) or 1)
    out, conv_index = [], 0
    for l in layers:
        o, k, kernel = matrix_dims(l)
        n = min(o, k)
        projected = bool(enabled and (l.kind == "conv" or lrpet.get("projectDense")))
        rank = n
        if projected:
            rank = rank_for_prune(n, p)
            if lrpet.get("rankFloors") and l.kind == "conv":
                rank = max(rank, vgg_rank_floor(conv_index, n))
            rank = round_up_rank(rank, multiple, n)
            if l.name in overrides:
                r = overrides[l.name]
                if isinstance(r, float) and r.is_integer():
                    r = int(r)
                if isinstance(r, bool) or not isinstance(r, int) or r < 1 or r > n:
                    raise PlanError(f"rank {r} is impossible for layer '{l.name}': its matrix is {o}×{k}, so 1 ≤ rank ≤ {n}")
                rank = r
        if l.kind == "conv":
            conv_index += 1
        macs_d, params_d = dense_costs(l)
        kept_dense = (not projected) or rank * (k + o) >= o * k
        macs_c, params_c = (macs_d, params_d) if kept_dense else split_costs(l, rank)
        out.append({
            "name": l.name, "kind": l.kind, "shape": [o, k], "kernel": kernel, "n": n, "rank": rank, "projected": projected,
            "bn": l.bn_name, "keptDense": kept_dense,
            "macsDense": macs_d, "macsCompact": macs_c, "paramsDense": params_d, "paramsCompact": params_c,
        })
    total = {key: sum(x[key] for x in out) for key in ("macsDense", "macsCompact", "paramsDense", "paramsCompact")}
    return {"prune": p, "layers": out, **total}


def _reduction(plan, metric):
    if metric == "macs":
        return 1 - plan["macsCompact"] / plan["macsDense"]
    return 1 - plan["paramsCompact"] / plan["paramsDense"]


def _solve_prune(layers, target, lrpet):
    """The smallest p whose reduction reaches the target (the reduction steps up with p: bisect its left edge)."""
    p_max = 1 - 1e-9
    best = _reduction(_plan_for_prune(layers, p_max, lrpet), target["metric"])
    if best < target["reduction"]:
        what = "FLOPs" if target["metric"] == "macs" else "parameter"
        raise PlanError(f"a {what} reduction of {target['reduction'] * 100:.1f}% cannot be reached: at most {best * 100:.1f}% with these settings")
    if _reduction(_plan_for_prune(layers, 0, lrpet), target["metric"]) >= target["reduction"]:
        return 0
    lo, hi = 0.0, p_max
    for _ in range(60):
        mid = (lo + hi) / 2
        if _reduction(_plan_for_prune(layers, mid, lrpet), target["metric"]) >= target["reduction"]:
            hi = mid
        else:
            lo = mid
    return hi


def plan_model(model, lrpet):
    """The engine's planModel: {prune, layers (the runStart event's LayerInfo), macsDense, macsCompact, paramsDense, paramsCompact}."""
    layers = layer_table(model)
    target = lrpet.get("target")
    p = _solve_prune(layers, target, lrpet) if target else lrpet["prune"]
    return _plan_for_prune(layers, p, lrpet)


def costs_of_compact(model, compact_layers):
    """MACs and parameters of the compact model a list of {name, rank, split} describes."""
    by_name = {c["name"]: c for c in compact_layers}
    macs = params = 0
    for l in layer_table(model):
        c = by_name.get(l.name)
        m, p = split_costs(l, c["rank"]) if c and c["split"] else dense_costs(l)
        macs += m
        params += p
    return macs, params
