"""CIFAR-10 as the engine reads, orders and augments it (src/engine/data/cifar.ts and batcher.ts).

- The files: data_batch_N.bin in N order, then test_batch.bin; records of 1 label byte + 3072 pixel bytes.
- trainLimit keeps the first N training images; testLimit takes every k-th test image (strideSubset).
- The order: one seeded Fisher-Yates shuffle per epoch from the run's 'order' stream.
- Augmentation: per image, in batch order, three draws of the 'augment' stream: dy = int(9) - 4,
  dx = int(9) - 4, flip = next() < 0.5; the output pixel (y, x) is the source pixel
  (y + dy, (flip ? 31 - x : x) + dx), black outside the image (black before normalising).
- Normalisation: (v / 255 - mean) / std computed in float64 and rounded to float32, per channel.
"""
import glob
import math
import os
import re

import numpy as np
import torch
import torch.nn.functional as F

from .models import CIFAR_MEAN, CIFAR_STD

RECORD = 3073


class DataError(ValueError):
    pass


def _read_batch(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise DataError(f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records ({RECORD} bytes each) — the file is truncated or not a CIFAR-10 binary batch")
    rec = raw.reshape(-1, RECORD)
    if rec[:, 0].max() > 9:
        raise DataError(f"{path}: a record has label {int(rec[:, 0].max())}; CIFAR-10 labels are 0-9 — not a CIFAR-10 binary batch")
    return rec[:, 1:].reshape(-1, 3, 32, 32), rec[:, 0].astype(np.int64)


def read_cifar(folder):
    """(train images uint8 [N, 3, 32, 32], train labels, test images, test labels) of a folder of CIFAR-10 binary batches."""
    if not os.path.isdir(folder):
        raise DataError(f"dataset folder {folder} does not exist")
    train = [p for p in glob.glob(os.path.join(folder, "data_batch_*.bin")) if re.search(r"data_batch_(\d+)\.bin$", p)]
    train.sort(key=lambda p: int(re.search(r"data_batch_(\d+)\.bin$", p).group(1)))
    test = os.path.join(folder, "test_batch.bin")
    if not train:
        raise DataError(f"no data_batch_*.bin training file found in {folder}")
    if not os.path.exists(test):
        raise DataError(f"no test_batch.bin found in {folder}")
    parts = [_read_batch(p) for p in train]
    xte, yte = _read_batch(test)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), xte, yte


def limit_split(x, y, limit):
    return (x, y) if limit is None or limit >= len(y) else (x[:limit], y[:limit])


def stride_subset(x, y, limit):
    """The engine's strideSubset: record floor(i * n / limit) for i < limit (the test copy may be sorted by class)."""
    if limit is None or limit >= len(y):
        return x, y
    pick = np.array([(i * len(y)) // limit for i in range(limit)], dtype=np.int64)
    return x[pick], y[pick]


def steps_per_epoch(count, batch):
    return math.ceil(count / batch)


class EpochOrder:
    """The seeded order of an epoch; drawn at the start and again before every later epoch (reshuffle)."""

    def __init__(self, count, rng):
        self.count = count
        self.rng = rng
        self.order = np.arange(count, dtype=np.int64)
        self.reshuffle()

    def reshuffle(self):
        order = list(range(self.count))
        self.rng.shuffle(order)
        self.order = np.asarray(order, dtype=np.int64)


def aug_draws(rng, n):
    """The crop offsets and flips of n images, in batch order (three draws an image)."""
    u = rng.draws(3 * n).reshape(n, 3)
    return np.floor(u[:, 0] * 9).astype(np.int64) - 4, np.floor(u[:, 1] * 9).astype(np.int64) - 4, u[:, 2] < 0.5


def shard(n, world, rank):
    """The images [lo, hi) of a batch of n that a rank computes: contiguous, sizes differing by at most one."""
    base, extra = divmod(n, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


class Images:
    """A split on the device as uint8, and the normalisation table; batches are built on the device."""

    def __init__(self, x_u8, y, device):
        self.x = torch.from_numpy(np.ascontiguousarray(x_u8)).to(device)
        self.y = torch.from_numpy(y).to(device)
        self.count = len(y)
        lut = (np.arange(256, dtype=np.float64)[None, :] / 255 - np.array(CIFAR_MEAN)[:, None]) / np.array(CIFAR_STD)[:, None]
        self.lut = torch.from_numpy(lut.astype(np.float32)).to(device)  # [3, 256]
        self.channel = torch.arange(3, device=device)[None, :, None, None]

    def batch(self, indices, draws=None, dtype=torch.float32, channels_last=False):
        """Normalised NCHW images of `indices`, cropped and flipped by `draws` (dy, dx, flip arrays) when given; and their labels."""
        idx = torch.from_numpy(np.asarray(indices, dtype=np.int64)).to(self.x.device)
        x = self.x[idx]
        if draws is not None:
            dev = x.device
            dy, dx, flip = (torch.from_numpy(np.asarray(d)).to(dev) for d in draws)
            ar = torch.arange(32, device=dev)
            rows = dy[:, None] + 4 + ar[None, :]
            cols = torch.where(flip[:, None], 31 - ar[None, :], ar[None, :]) + dx[:, None] + 4
            padded = F.pad(x, (4, 4, 4, 4))
            b = torch.arange(len(idx), device=dev)[:, None, None, None]
            x = padded[b, self.channel, rows[:, None, :, None], cols[:, None, None, :]]
        out = self.lut[self.channel, x.long()].to(dtype)
        if channels_last:
            out = out.contiguous(memory_format=torch.channels_last)
        return out, self.y[idx]
