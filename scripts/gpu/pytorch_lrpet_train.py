#!/usr/bin/env python3
"""LRPET training in PyTorch on CIFAR-10, the accuracy anchor of the GPU run: the same recipe as
`lrpet train` so that their test accuracies can stand side by side.

Reuses the project's PyTorch reference (reference/pytorch: the networks with the official names, the
spec's projection with BN rectification and energy transfer, the weight-decay groups), written from
the method spec. What it adds is the training loop of the engine's recipe:
  - data: the first --train-limit images of data_batch_*.bin (in file order), the test images every
    k-th record of test_batch.bin (as the engine's strideSubset), normalised with the CIFAR mean/std;
    augmentation: a random 32x32 crop of the image padded by 4 black pixels and a horizontal flip
    half the time; a fresh random order each epoch, the last batch smaller (no drop_last);
  - init: conv and linear weights Kaiming-normal fan-in (std sqrt(2/fan_in)), linear bias PyTorch's
    default, BN gamma 1 beta 0 (ResNets; the engine's rule);
  - SGD momentum 0.9, weight decay on every parameter (--wd-scope all, the official code's) or on
    the kernels only; lr schedule 'step' (x0.1 at round(E/2) and round(3E/4) epochs), 'cosine'
    (per iteration, to 0) or 'constant';
  - a projection every --interval iterations (default: one epoch) in float64 (the engine's SVD is
    float64 too), a test after each epoch, and at the end one more projection if the weights moved
    since the last one: the final test accuracy is the projected model's, which the compact model
    computes exactly.
fp32 training with TF32 off on CUDA (as WebGPU computes in fp32); CPU when no CUDA (tiny sizes only).

Usage: python3 scripts/gpu/pytorch_lrpet_train.py --data DIR --model resnet20 --prune 0.5 --epochs 4
         [--batch 128] [--train-limit 20000] [--test-limit 10000] [--lr 0.1] [--schedule step]
         [--rank-multiple K] [--interval N] [--seed 1] [--max-seconds S] [--device auto|cuda|cpu] [--out accuracy-torch.json]
"""
import argparse
import glob
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'reference', 'pytorch'))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from lrpet_models import CIFAR_MEAN, CIFAR_STD, build_model, conv_bn_pairs  # noqa: E402
from lrpet_reference import param_groups, project, rank_for  # noqa: E402


def read_split(paths):
    recs = [np.fromfile(p, dtype=np.uint8).reshape(-1, 3073) for p in paths]
    rec = np.concatenate(recs) if recs else np.zeros((0, 3073), np.uint8)
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(np.int64)


def stride_subset(n, limit):
    """The engine's strideSubset: record floor(i * n / limit) for i < limit."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.array([(i * n) // limit for i in range(limit)])


def milestones(epochs):
    # JavaScript's Math.round (half up), as the engine's paperMilestones.
    return [math.floor(epochs / 2 + 0.5), math.floor(epochs * 3 / 4 + 0.5)]


def learning_rate(base, schedule, epoch, progress, ms):
    if schedule == 'constant':
        return base
    if schedule == 'step':
        return base * 0.1 ** sum(1 for m in ms if epoch >= m)
    return base * (1 + math.cos(math.pi * min(1.0, progress))) / 2  # cosine to 0


def init_like_engine(model):
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.kaiming_normal_(mod.weight, mode='fan_in', nonlinearity='relu')


@torch.no_grad()
def project_model(model, prune, beta=0.0, energy_transfer=True, bn_rectification=True, rank_multiple=1):
    """The reference's projection of every conv, in float64, written back in the weight's dtype."""
    kept = []
    for _, conv, bn in conv_bn_pairs(model):
        w = conv.weight
        n = min(w.shape[0], w[0].numel())
        rank = rank_for(n, prune, rank_multiple)
        if rank >= n:
            continue  # nothing to cut: the engine leaves such a layer as it is
        w64 = w.detach().to(torch.float64).clone()
        if bn_rectification:
            a = (bn.weight.detach().to(torch.float64) / torch.sqrt(bn.running_var.to(torch.float64) + bn.eps))
        else:
            a = torch.ones(w.shape[0], dtype=torch.float64, device=w.device)
        summary = project(w64, a, rank, beta, energy_transfer)
        if summary is not None:
            w.copy_(w64.to(w.dtype))
            s = torch.tensor(summary['sigma'], dtype=torch.float64)
            kept.append(float((s[:rank] ** 2).sum() / (s ** 2).sum()))
    return kept


@torch.no_grad()
def evaluate(model, x_u8, y, mean, std, batch=1000):
    model.eval()
    correct, loss = 0, 0.0
    for s in range(0, len(y), batch):
        xb = (x_u8[s:s + batch].float() / 255 - mean) / std
        out = model(xb)
        loss += float(F.cross_entropy(out, y[s:s + batch], reduction='sum'))
        correct += int((out.argmax(1) == y[s:s + batch]).sum())
    model.train()
    return correct / len(y), loss / len(y)


def augment(x_u8, gen):
    """Random crop of the 4-pixel black-padded image and a horizontal flip half the time (uint8, on x's device)."""
    b = x_u8.shape[0]
    dev = x_u8.device
    padded = F.pad(x_u8, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (b,), generator=gen, device='cpu').to(dev)
    dx = torch.randint(0, 9, (b,), generator=gen, device='cpu').to(dev)
    flip = (torch.rand(b, generator=gen, device='cpu') < 0.5).to(dev)
    ar = torch.arange(32, device=dev)
    rows = (dy[:, None] + ar[None, :])  # [B, 32]
    cols_base = torch.where(flip[:, None], 31 - ar[None, :], ar[None, :])
    cols = dx[:, None] + cols_base  # [B, 32]
    bi = torch.arange(b, device=dev)[:, None, None, None]
    ci = torch.arange(3, device=dev)[None, :, None, None]
    return padded[bi, ci, rows[:, None, :, None], cols[:, None, None, :]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='folder with data_batch_*.bin and test_batch.bin')
    ap.add_argument('--model', default='resnet20')
    ap.add_argument('--prune', type=float, default=0.5)
    ap.add_argument('--rank-multiple', type=int, default=1, help='ranks rounded up to a multiple of this, never above n (the engine\'s --rank-multiple)')
    ap.add_argument('--epochs', type=int, required=True)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--train-limit', type=int, default=None)
    ap.add_argument('--test-limit', type=int, default=None)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--momentum', type=float, default=0.9)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--wd-scope', default='all', choices=['all', 'kernels'])
    ap.add_argument('--schedule', default='step', choices=['step', 'cosine', 'constant'])
    ap.add_argument('--interval', type=int, default=None, help='iterations between projections (default: one epoch)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--max-seconds', type=float, default=None, help='stop training after this long (the final projection and test still run)')
    ap.add_argument('--device', default='auto', choices=['auto', 'cuda', 'cpu'])
    ap.add_argument('--out', default='accuracy-torch.json')
    a = ap.parse_args()

    if a.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('pytorch_lrpet_train: --device cuda, but CUDA is not available')
    dev = torch.device('cuda' if a.device in ('auto', 'cuda') and torch.cuda.is_available() else 'cpu')
    if dev.type == 'cuda':
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    else:
        print('pytorch_lrpet_train: no CUDA, running on the CPU (tiny sizes only)', flush=True)

    train_files = sorted(glob.glob(os.path.join(a.data, 'data_batch_*.bin')), key=lambda p: int(p.rsplit('_', 1)[1].split('.')[0]))
    test_file = os.path.join(a.data, 'test_batch.bin')
    if not train_files or not os.path.exists(test_file):
        raise SystemExit(f'pytorch_lrpet_train: no CIFAR-10 binary batches in {a.data}')
    xtr, ytr = read_split(train_files)
    if a.train_limit is not None:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    xte, yte = read_split([test_file])
    pick = stride_subset(len(yte), a.test_limit)
    xte, yte = xte[pick], yte[pick]

    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    model = build_model(a.model)
    init_like_engine(model)
    model = model.to(dev).train()
    opt = torch.optim.SGD(param_groups(model, a.wd_scope, a.weight_decay), lr=a.lr, momentum=a.momentum)
    mean = torch.tensor(CIFAR_MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD, device=dev).view(1, 3, 1, 1)
    xtr_t, ytr_t = torch.from_numpy(xtr).to(dev), torch.from_numpy(ytr).to(dev)
    xte_t, yte_t = torch.from_numpy(xte).to(dev), torch.from_numpy(yte).to(dev)

    n = len(ytr)
    steps_per_epoch = math.ceil(n / a.batch)
    interval = a.interval or steps_per_epoch
    ms = milestones(a.epochs)
    meta = {'torch': torch.__version__, 'cuda': torch.version.cuda, 'device': torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu', 'tf32': False}
    config = dict(vars(a), stepsPerEpoch=steps_per_epoch, interval=interval, milestones=ms if a.schedule == 'step' else None, trainImages=n, testImages=len(yte))
    print(f"# PyTorch LRPET {a.model} p={a.prune} on {meta['device']}: {a.epochs} epochs x {steps_per_epoch} steps, batch {a.batch}, "
          f"{n} training / {len(yte)} test images, {a.schedule} schedule, a projection every {interval} iterations", flush=True)

    epochs, projections = [], 0
    iteration, last_projection = 0, 0
    stopped = False
    t_start = time.perf_counter()

    def save(final=None):
        with open(a.out, 'w') as f:
            json.dump({'meta': meta, 'config': config, 'epochs': epochs, 'final': final, 'stoppedEarly': stopped,
                       'seconds': time.perf_counter() - t_start}, f, indent=2)

    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen).to(dev)
        loss_sum, hits = 0.0, 0
        for s in range(steps_per_epoch):
            lr = learning_rate(a.lr, a.schedule, epoch, iteration / (a.epochs * steps_per_epoch), ms)
            for g in opt.param_groups:
                g['lr'] = lr
            idx = order[s * a.batch:(s + 1) * a.batch]
            xb = (augment(xtr_t[idx], gen).float() / 255 - mean) / std
            out = model(xb)
            loss = F.cross_entropy(out, ytr_t[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            iteration += 1
            loss_sum += float(loss) * len(idx)
            hits += int((out.argmax(1) == ytr_t[idx]).sum())
            if iteration % interval == 0:
                project_model(model, a.prune, rank_multiple=a.rank_multiple)
                projections += 1
                last_projection = iteration
            if a.max_seconds is not None and time.perf_counter() - t_start > a.max_seconds:
                stopped = True
                break
        acc, tloss = evaluate(model, xte_t, yte_t, mean, std)
        seen = min(n, (s + 1) * a.batch)
        epochs.append({'epoch': epoch, 'lr': lr, 'trainLoss': loss_sum / seen, 'trainAccuracy': hits / seen, 'testAccuracy': acc, 'testLoss': tloss,
                       'afterProjection': last_projection == iteration, 'seconds': time.perf_counter() - t0})
        print(f"  epoch {epoch + 1}: train loss {loss_sum / seen:.4f} acc {hits / seen:.2%} | test acc {acc:.2%} | lr {lr:.4g} | "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        save()
        if stopped:
            print(f'  --max-seconds {a.max_seconds}: stopped at iteration {iteration}', flush=True)
            break
    if last_projection != iteration:
        project_model(model, a.prune, rank_multiple=a.rank_multiple)
        projections += 1
    acc, tloss = evaluate(model, xte_t, yte_t, mean, std)
    final = {'testAccuracy': acc, 'testLoss': tloss, 'projections': projections, 'iterations': iteration}
    save(final)
    print(f'final (projected; the compact model computes the same): test acc {acc:.2%} after {projections} projections, '
          f'{time.perf_counter() - t_start:.1f} s; wrote {a.out}', flush=True)


if __name__ == '__main__':
    main()
