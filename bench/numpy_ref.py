#!/usr/bin/env python3
"""float64 LAPACK reference (numpy) for src/engine/linalg: used by its tests and by bench/projection.ts.

Usage:
  python3 bench/numpy_ref.py compute IN OUT   # reference results for every item of IN, written to OUT
  python3 bench/numpy_ref.py bench IN         # times Gram + eigh per group, prints JSON to stdout

File format (both directions): b"LRPB", uint32 LE header length, header JSON (utf-8), zero padding to
a multiple of 8 bytes, then float64 LE payload. header = {"items": [{..., "arrays": {name: [offset,
length]}}], ...}; offsets/lengths count float64 elements from the start of the payload.

Item ops for "compute":
  project: wt (K*O, HWIO flattened, K rows x O cols), optional scale (O), rank, beta, energyTransfer
           -> sigma (all n singular values of M = diag(a) W, W = wt^T), weights (new wt, K*O),
              sigmaAfter, and scalars alpha, energyKeptBefore, energyKeptAfter in the header.
  svd:     wt (K*O) -> sigma (all singular values of W = wt^T)
  eigh:    a (n*n symmetric) -> values (descending)
For "bench": every item has wt, scale, K, O and a "group"; the timed work per group is, for every
item, G = M M^T (or M^T M when K < O) and numpy.linalg.eigh(G), on float64 M = diag(a) W prepared
beforehand. Each group is timed `repeats` times (header: an int or {group: int}) with
time.perf_counter after one warm-up run; the median is reported.
"""
import json
import struct
import sys
import time

try:
    import numpy as np
except ImportError:  # pragma: no cover
    sys.stderr.write("numpy is required: apt-get install python3-numpy\n")
    sys.exit(3)

RECTIFY_EPS = 1e-5


def read_container(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"LRPB":
        raise ValueError("not an LRPB file")
    (hlen,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8 : 8 + hlen].decode("utf-8"))
    start = 8 + hlen
    start += (-start) % 8
    payload = np.frombuffer(data, dtype="<f8", offset=start)
    return header, payload


def write_container(path, header, arrays_per_item):
    chunks = []
    pos = 0
    for item, arrays in zip(header["items"], arrays_per_item):
        item["arrays"] = {}
        for name, arr in arrays.items():
            a = np.ascontiguousarray(arr, dtype="<f8").ravel()
            item["arrays"][name] = [pos, int(a.size)]
            chunks.append(a)
            pos += a.size
    hbytes = json.dumps(header).encode("utf-8")
    head = b"LRPB" + struct.pack("<I", len(hbytes)) + hbytes
    head += b"\0" * ((-len(head)) % 8)
    with open(path, "wb") as f:
        f.write(head)
        for a in chunks:
            f.write(a.tobytes())


def arr(payload, item, name):
    spec = item.get("arrays", {}).get(name)
    if spec is None:
        return None
    off, n = spec
    return payload[off : off + n]


def transfer_energy(s, r, beta, energy_transfer):
    n = s.size
    r = min(int(r), n)
    ek = float(np.sum(s[:r] ** 2))
    ep = float(np.sum(s[r:] ** 2))
    e = ek + ep
    alpha = (e - beta * beta * ep) / ek if (energy_transfer and ek > 0) else 1.0
    out = s.copy()
    out[:r] = np.sqrt(alpha) * s[:r]
    out[r:] = beta * s[r:]
    tot = float(np.sum(out**2))
    return out, alpha, (ek / e if e > 0 else 1.0), (float(np.sum(out[:r] ** 2)) / tot if tot > 0 else 1.0)


def do_project(item, payload):
    K, O = item["K"], item["O"]
    wt = arr(payload, item, "wt").reshape(K, O)
    scale = arr(payload, item, "scale")
    a = np.ones(O) if scale is None else np.asarray(scale, dtype=np.float64)
    M = a[:, None] * wt.T
    U, S, Vt = np.linalg.svd(M, full_matrices=False)
    S2, alpha, ekb, eka = transfer_energy(S, item["rank"], item["beta"], item["energyTransfer"])
    Mp = (U * S2) @ Vt
    Wp = (a / (a * a + RECTIFY_EPS))[:, None] * Mp
    meta = {"alpha": alpha if item["energyTransfer"] else 1.0, "energyKeptBefore": ekb, "energyKeptAfter": eka}
    return meta, {"sigma": S, "sigmaAfter": S2, "weights": Wp.T}


def do_svd(item, payload):
    K, O = item["K"], item["O"]
    wt = arr(payload, item, "wt").reshape(K, O)
    return {}, {"sigma": np.linalg.svd(wt, compute_uv=False)}


def do_eigh(item, payload):
    n = item["n"]
    a = arr(payload, item, "a").reshape(n, n)
    return {}, {"values": np.linalg.eigvalsh(a)[::-1]}


def compute(inp, outp):
    header, payload = read_container(inp)
    ops = {"project": do_project, "svd": do_svd, "eigh": do_eigh}
    out_items, out_arrays = [], []
    for item in header["items"]:
        meta, arrays = ops[item["op"]](item, payload)
        out_items.append({"id": item.get("id"), **meta})
        out_arrays.append(arrays)
    write_container(outp, {"items": out_items}, out_arrays)


def bench(inp):
    header, payload = read_container(inp)
    rep_spec = header.get("repeats", 5)  # an int, or {group: int}
    groups = {}
    for item in header["items"]:
        K, O = item["K"], item["O"]
        wt = arr(payload, item, "wt").reshape(K, O)
        scale = arr(payload, item, "scale")
        a = np.ones(O) if scale is None else np.asarray(scale, dtype=np.float64)
        M = np.ascontiguousarray(a[:, None] * wt.T)
        groups.setdefault(item["group"], []).append(M)
    result = {}
    for name, mats in groups.items():
        repeats = int(rep_spec.get(name, 5) if isinstance(rep_spec, dict) else rep_spec)
        times = []
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            for M in mats:
                O, K = M.shape
                G = M @ M.T if O <= K else M.T @ M
                np.linalg.eigh(G)
            times.append((time.perf_counter() - t0) * 1000.0)
        times = times[1:]  # first run is a warm-up
        result[name] = {"medianMs": float(np.median(times)), "timesMs": times, "matrices": len(mats)}
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "?")
    except Exception:  # older numpy
        blas = "?"
    print(json.dumps({"numpy": np.__version__, "blas": blas, "groups": result}))


def main(argv):
    if len(argv) >= 4 and argv[1] == "compute":
        compute(argv[2], argv[3])
    elif len(argv) >= 3 and argv[1] == "bench":
        bench(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
