"""The engine's random numbers (src/engine/rng.ts), bit for bit: mulberry32 and its seed derivation.

mulberry32's state advances by a constant each draw, so draw k of a stream is a pure function of the
start state and k: `draws(n)` computes n of them at once with numpy (uint32 arithmetic wraps as
JavaScript's Math.imul and `>>> 0` do).
"""
import math

import numpy as np

_STEP = 0x6D2B79F5
_U32 = 0xFFFFFFFF


def _hash(t):
    """mulberry32's output for the (already advanced) uint32 states `t` (a numpy uint32 array)."""
    t = t.copy()
    t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
    t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
    return t ^ (t >> np.uint32(14))


class Rng:
    """The engine's Rng: `state` is one uint32, so it checkpoints as a plain int."""

    def __init__(self, state):
        self.state = int(state) & _U32

    def uint32(self, n):
        """The next n raw outputs as uint32, advancing the state by n draws."""
        k = np.arange(1, n + 1, dtype=np.uint64)
        states = ((np.uint64(self.state) + k * np.uint64(_STEP)) & np.uint64(_U32)).astype(np.uint32)
        self.state = (self.state + n * _STEP) & _U32
        with np.errstate(over="ignore"):
            return _hash(states)

    def draws(self, n):
        """The next n values of next(): uniform in [0, 1) as float64 (exactly uint32 / 2^32)."""
        return self.uint32(n).astype(np.float64) / 4294967296.0

    def next(self):
        return float(self.draws(1)[0])

    def int(self, max_exclusive):
        return math.floor(self.next() * max_exclusive)

    def normals(self, n):
        """n draws of normal() (Box-Muller, one value per pair of draws; a u of exactly 0 is drawn again)."""
        out = np.empty(n, dtype=np.float64)
        done = 0
        while done < n:
            want = n - done
            u = self.draws(2 * want)
            zero = np.flatnonzero(u[0::2] == 0.0)
            if zero.size == 0:
                out[done:] = np.sqrt(-2.0 * np.log(u[0::2])) * np.cos(2.0 * math.pi * u[1::2])
                return out
            # Rare: the pairs before the first zero u are good; rewind to just after that zero and go on.
            good = int(zero[0])
            out[done:done + good] = np.sqrt(-2.0 * np.log(u[0:2 * good:2])) * np.cos(2.0 * math.pi * u[1:2 * good:2])
            done += good
            self.state = (self.state - (2 * want - (2 * good + 1)) * _STEP) & _U32
        return out

    def shuffle(self, a):
        """Fisher-Yates in place, as the engine's shuffle (j = int(i + 1) for i from the end)."""
        n = len(a)
        if n < 2:
            return
        u = self.draws(n - 1)
        sizes = np.arange(n, 1, -1, dtype=np.float64)  # i + 1 for i = n-1 .. 1
        js = np.floor(u * sizes).astype(np.int64).tolist()
        items = list(a) if not isinstance(a, list) else a
        for i, j in zip(range(n - 1, 0, -1), js):
            items[i], items[j] = items[j], items[i]
        if items is not a:
            a[:] = items


def derive_seed(seed, stream):
    """deriveSeed: FNV-1a over the stream name's characters, started from 2166136261 ^ seed."""
    h = (2166136261 ^ (int(seed) & _U32)) & _U32
    for ch in stream:
        h = ((h ^ ord(ch)) * 16777619) & _U32
    return h
