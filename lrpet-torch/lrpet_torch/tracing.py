"""--trace FILE (for tests): each process writes, per step, the batch's image indices and crop/flip draws, the
share it computed and its input images (float32 NCHW, base64), to FILE.RANK.jsonl."""
import base64
import json

import numpy as np


class Trace:
    def __init__(self, path, rank):
        self.file = open(f"{path}.{rank}.jsonl", "w", encoding="utf-8")

    def step(self, iteration, indices, draws, lo, hi, x):
        record = {"iteration": iteration, "indices": [int(i) for i in indices], "lo": lo, "hi": hi, "shape": list(x.shape)}
        if draws is not None:
            record["dy"], record["dx"], record["flip"] = (d.tolist() for d in (draws[0], draws[1], draws[2].astype(bool)))
        record["images"] = base64.b64encode(np.ascontiguousarray(x.detach().float().cpu().numpy()).tobytes()).decode("ascii")
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
