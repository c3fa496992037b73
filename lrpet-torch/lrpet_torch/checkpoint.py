"""The trainer's checkpoints: everything a run needs to go on exactly where it was (weights, optimiser,
data position, the order and augmentation RNG states, the sums of the epoch so far, and how long the
event log was then), written by the first process, atomically (a new file, then a rename)."""
import os

import torch

NAME = "checkpoint.pt"


def checkpoint_path(out):
    return os.path.join(out, NAME)


def save_checkpoint(out, state):
    path = checkpoint_path(out)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(out, device):
    return torch.load(checkpoint_path(out), map_location=device)
