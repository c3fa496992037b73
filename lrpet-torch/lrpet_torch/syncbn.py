"""BatchNorm over the global batch when each process holds a part of it, so that N processes compute what
one process with the whole batch computes.

On CUDA this is PyTorch's nn.SyncBatchNorm. In PyTorch 1.13 that is CUDA-only ("expected input tensor
to be on GPU"), so on the CPU (gloo) the BatchNorms become CpuSyncBatchNorm: forward, each process
gathers every process's count, mean and sum of squared deviations per channel and combines them
(Chan et al.'s parallel variance, in float64) into the global batch's mean and biased variance; backward,
the per-channel sums of dy and dy·x̂ are summed over the processes, as in PyTorch's own SyncBatchNorm.
The gradients of γ and β stay per process (DistributedDataParallel averages them).
"""
import torch
import torch.distributed as dist
from torch import nn


class _SyncBnFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group, world):
        c = x.shape[1]
        count = x.numel() // c
        if count:
            mean = x.mean((0, 2, 3))
            m2 = ((x - mean.view(1, c, 1, 1)) ** 2).sum((0, 2, 3))
        else:
            mean = m2 = x.new_zeros(c)
        mine = torch.cat([x.new_tensor([count], dtype=torch.float64), mean.double(), m2.double()])
        gathered = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather(gathered, mine, group=group)
        stats = torch.stack(gathered)  # [world, 1 + 2C]
        n_r, mean_r, m2_r = stats[:, :1], stats[:, 1:1 + c], stats[:, 1 + c:]
        total = n_r.sum()
        g_mean = (n_r * mean_r).sum(0) / total
        g_m2 = (m2_r + n_r * (mean_r - g_mean) ** 2).sum(0)
        var = g_m2 / total
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(g_mean.to(running_mean.dtype), alpha=momentum)
            running_var.mul_(1 - momentum).add_((var * total / max(1.0, float(total) - 1)).to(running_var.dtype), alpha=momentum)
        mean_x = g_mean.to(x.dtype).view(1, c, 1, 1)
        invstd = torch.rsqrt(var + eps).to(x.dtype).view(1, c, 1, 1)
        xhat = (x - mean_x) * invstd
        ctx.save_for_backward(xhat, weight, invstd)
        ctx.total, ctx.group = float(total), group
        return xhat * weight.view(1, c, 1, 1) + bias.view(1, c, 1, 1)

    @staticmethod
    def backward(ctx, dy):
        xhat, weight, invstd = ctx.saved_tensors
        c = dy.shape[1]
        sum_dy = dy.sum((0, 2, 3))
        sum_dy_xhat = (dy * xhat).sum((0, 2, 3))
        both = torch.cat([sum_dy, sum_dy_xhat])
        dist.all_reduce(both, group=ctx.group)
        g_dy, g_dy_xhat = both[:c] / ctx.total, both[c:] / ctx.total
        dx = (weight.view(1, c, 1, 1) * invstd) * (dy - g_dy.view(1, c, 1, 1) - xhat * g_dy_xhat.view(1, c, 1, 1))
        return dx, sum_dy_xhat, sum_dy, None, None, None, None, None, None


class CpuSyncBatchNorm(nn.BatchNorm2d):
    """A BatchNorm2d whose training-mode statistics are those of the global batch (see the module's comment)."""

    group = None  # the process group (set by convert); None: the default group

    def forward(self, x):
        if not self.training or not dist.is_initialized() or dist.get_world_size(self.group) == 1:
            return super().forward(x)
        self.num_batches_tracked.add_(1)
        world = dist.get_world_size(self.group)
        return _SyncBnFunction.apply(x, self.weight, self.bias, self.running_mean, self.running_var, self.eps, self.momentum, self.group, world)


def sync_batchnorm(model, device, group=None):
    """The model with every BatchNorm2d synchronised over the processes (nn.SyncBatchNorm on CUDA, CpuSyncBatchNorm on the CPU)."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is nn.BatchNorm2d:
                sync = CpuSyncBatchNorm(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats)
                sync.load_state_dict(child.state_dict())
                sync.group = group
                sync.to(child.weight.device, child.weight.dtype)
                setattr(module, child_name, sync)
    return model
