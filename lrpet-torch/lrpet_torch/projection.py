"""LRPET's projection of a conv weight (spec sections 3-4) and the optimiser's parameter groups: the one
copy the PyTorch reference (reference/pytorch/lrpet_reference.py) and the trainer both use."""
import math

import torch

RECTIFY_EPS = 1e-5  # the regularised inverse a / (a^2 + eps) of spec section 3
SKIP_SIGMA = 1e-4  # spec section 4: a layer whose sigma_1 is below this is left alone


def rank_for(n, p, multiple=1):
    """Spec section 2: r = max(1, floor(n - n*p)) in double precision, then rounded up to a multiple of
    `multiple` (the engine's lrpet.rankMultiple, default 1: the paper's rank), never above n."""
    if int(multiple) != multiple or multiple < 1:
        raise ValueError(f"rank multiple must be an integer >= 1, got {multiple!r}")
    r = max(1, math.floor(n - n * p))
    return min(n, -(-r // int(multiple)) * int(multiple))


@torch.no_grad()
def project(weight, a, rank, beta, energy_transfer):
    """Spec sections 3-4 on one conv weight [O, I, k, k], in place, in the weight's own dtype.

    M = diag(a) W;  M = U S V^T;  S -> S';  W' = diag(a / (a^2 + eps)) U S' V^T.
    Returns a summary (singular values before, alpha), or None when the layer is skipped.
    """
    out_ch = weight.shape[0]
    w = weight.reshape(out_ch, -1)
    m = a[:, None] * w
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    if not s[0] >= SKIP_SIGMA:
        return None
    r = min(rank, s.numel())
    energy = (s * s).sum()
    kept = (s[:r] * s[:r]).sum()
    alpha = (energy - beta * beta * (energy - kept)) / kept if energy_transfer else torch.ones((), dtype=s.dtype, device=s.device)
    s_new = s.clone()
    s_new[:r] *= torch.sqrt(alpha)
    s_new[r:] *= beta
    m_new = (u * s_new) @ vh
    inv = a / (a * a + RECTIFY_EPS)
    weight.copy_((inv[:, None] * m_new).reshape(weight.shape))
    return {"sigma": s.tolist(), "alpha": float(alpha)}


def energy_report(sigma, rank, beta, energy_transfer, alpha):
    """The projection event's spectrum after, and the energy kept before and after (src/engine/linalg/projection.ts)."""
    r = min(rank, len(sigma))
    root = math.sqrt(alpha) if energy_transfer else 1.0
    after = [root * x if i < r else beta * x for i, x in enumerate(sigma)]
    e = sum(x * x for x in sigma)
    ek = sum(x * x for x in sigma[:r])
    t2 = sum(x * x for x in after)
    k2 = sum(x * x for x in after[:r])
    return {"sigmaAfter": after, "energyKeptBefore": ek / e if e > 0 else 1.0, "energyKeptAfter": k2 / t2 if t2 > 0 else 1.0}


def param_groups(model, scope, weight_decay):
    """Weight decay on every parameter ('all', the official code's optim.SGD(model.parameters(), ...)) or on conv/linear weights only ('kernels')."""
    if scope == "all":
        return [{"params": list(model.parameters()), "weight_decay": weight_decay}]
    if scope != "kernels":
        raise ValueError(f"wd_scope must be 'kernels' or 'all', got {scope!r}")
    kernels, rest = [], []
    for mod in model.modules():
        for pname, p in mod.named_parameters(recurse=False):
            is_kernel = isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)) and pname == "weight"
            (kernels if is_kernel else rest).append(p)
    return [{"params": kernels, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def short_side_eigen(m):
    """Singular values of m (O x K, float64), descending, and the singular vectors of its short side (columns,
    descending): from the eigen-decomposition of the n x n Gram matrix, as the engine computes them — several
    times faster than an SVD of a wide matrix (VGG-16's 512 x 4608), and as accurate where it matters (the top
    singular values and the subspace they span)."""
    wide = m.shape[0] <= m.shape[1]
    # A contiguous transpose: several times faster in a generic BLAS than multiplying by the transposed view.
    gram = m @ m.T.contiguous() if wide else m.T.contiguous() @ m
    lam, vec = torch.linalg.eigh(gram)
    lam, vec = lam.flip(0), vec.flip(1)
    return torch.sqrt(torch.clamp(lam, min=0)), vec, wide


@torch.no_grad()
def project_gram(w64, a, rank, beta, energy_transfer):
    """The projection of `project` (spec sections 3-4) on a float64 weight, in place, through the Gram matrix:
    M' = beta M + (sqrt(alpha) - beta) P M with P the projector onto the top-r singular subspace (the engine's form).
    Returns {"sigma", "alpha"}, or None when the layer is skipped (sigma_1 < 1e-4) with {"sigma"} in `skipped_sigma`."""
    out_ch = w64.shape[0]
    m = a[:, None] * w64.reshape(out_ch, -1)
    sigma, vec, wide = short_side_eigen(m)
    if not sigma[0] >= SKIP_SIGMA:
        return None, sigma.tolist()
    r = min(rank, sigma.numel())
    energy = (sigma * sigma).sum()
    kept = (sigma[:r] * sigma[:r]).sum()
    alpha = float((energy - beta * beta * (energy - kept)) / kept) if energy_transfer else 1.0
    top = vec[:, :r]
    projected = top @ (top.T @ m) if wide else (m @ top) @ top.T
    m_new = beta * m + (math.sqrt(alpha) - beta) * projected
    inv = a / (a * a + RECTIFY_EPS)
    w64.copy_((inv[:, None] * m_new).reshape(w64.shape))
    return {"sigma": sigma.tolist(), "alpha": alpha}, None
