"""The processes of a run: one (python3 -m lrpet_torch), or N under torchrun (RANK, WORLD_SIZE, LOCAL_RANK and
the rendezvous in the environment). NCCL between GPUs, gloo between CPU processes."""
import os

import torch
import torch.distributed as dist


class Processes:
    def __init__(self, device="auto"):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.nodes = max(1, self.world // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", str(self.world)))))
        self.restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("--device cuda, but CUDA is not available")
        cuda = device in ("auto", "cuda") and torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        else:
            self.device = torch.device("cpu")
        self.group = None
        if self.world > 1:
            dist.init_process_group("nccl" if cuda else "gloo")
            # The BatchNorm synchronisation on the CPU talks on a group of its own, apart from DDP's gradient buckets.
            self.group = None if cuda else dist.new_group(backend="gloo")

    @property
    def main(self):
        return self.rank == 0

    def label(self):
        """The run's backend as the page shows it: 'PyTorch DDP · 8 × GPU', 'PyTorch · CPU'."""
        kind = "GPU" if self.device.type == "cuda" else "CPU"
        return f"PyTorch DDP · {self.world} × {kind}" if self.world > 1 else f"PyTorch · {kind}"

    def device_name(self):
        return torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"

    def all_sum(self, values):
        """Sums a list of floats over the processes (float64)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def broadcast(self, tensor):
        if self.world > 1:
            dist.broadcast(tensor, 0)

    def broadcast_object(self, obj):
        """The first process's `obj` (picklable; tensors on the CPU) on every process."""
        if self.world == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, 0)
        return box[0]

    def barrier(self):
        if self.world > 1:
            dist.barrier()

    def close(self):
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
