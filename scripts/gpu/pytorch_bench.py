#!/usr/bin/env python3
"""Native anchor for bench/gpu.ts: the same networks and training step in PyTorch, images/s.

Mirrors bench/gpu-model.ts one-to-one:
  - CIFAR ResNet-20 / ResNet-56 with option-A shortcuts (identity, or x[:, :, ::2, ::2] with the
    channels zero-padded planes//4 on each side), BN after every conv, ReLU, global average pool,
    Linear(64, 10); CIFAR VGG-16 (13 x conv3x3-BN-ReLU, 2x2 max-pool after each stage,
    Linear(512, 10)). Convolutions without bias, as in the tfjs model.
  - BN in training mode, softmax cross-entropy, torch.optim.SGD(lr, momentum=0.9,
    weight_decay=5e-4) on all parameters, random CIFAR-shaped data generated once on the GPU.
  - fp32. By default strict fp32 (TF32 off for cuDNN convs and matmuls, as WebGPU computes in
    fp32); --tf32 turns PyTorch's default TF32 convs back on. NCHW unless --channels-last.

Usage: python3 scripts/gpu/pytorch_bench.py [--models resnet20,resnet56,vgg16] [--batches 128,512]
         [--warmup 5] [--iters 50] [--max-seconds 10] [--tf32] [--channels-last] [--device auto|cuda|cpu]
         [--out pytorch-bench.json]
--device auto uses CUDA when there is one, else the CPU (a dry run's fallback: the JSON and the table
then say 'cpu', and the numbers are no GPU's).
"""
import argparse
import json
import sys
import time


def build(name, torch, nn, F):
    class ShortcutA(nn.Module):
        def __init__(self, planes):
            super().__init__()
            self.p = planes // 4

        def forward(self, x):
            return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.p, self.p))

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.sc = nn.Identity() if stride == 1 and cin == cout else ShortcutA(cout)

        def forward(self, x):
            o = F.relu(self.b1(self.c1(x)))
            o = self.b2(self.c2(o))
            return F.relu(o + self.sc(x))

    class ResNet(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.c = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.b = nn.BatchNorm2d(16)
            layers, cin = [], 16
            for width in (16, 32, 64):
                for i in range(n):
                    stride = 2 if i == 0 and width != 16 else 1
                    layers.append(Block(cin, width, stride))
                    cin = width
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            h = self.layers(F.relu(self.b(self.c(x))))
            return self.fc(h.mean(dim=(2, 3)))

    class VGG16(nn.Module):
        CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']

        def __init__(self):
            super().__init__()
            layers, cin = [], 3
            for v in self.CFG:
                if v == 'M':
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(cin, v, 3, 1, 1, bias=False), nn.BatchNorm2d(v), nn.ReLU(inplace=False)]
                    cin = v
            self.features = nn.Sequential(*layers)
            self.fc = nn.Linear(512, 10)

        def forward(self, x):
            return self.fc(torch.flatten(self.features(x), 1))

    if name == 'resnet20':
        m = ResNet(3)
    elif name == 'resnet56':
        m = ResNet(9)
    elif name == 'vgg16':
        m = VGG16()
    else:
        raise SystemExit(f'unknown model {name}')
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode='fan_in', nonlinearity='relu')
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', default='resnet20,resnet56,vgg16')
    ap.add_argument('--batches', default='128,512')
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--iters', type=int, default=50)
    ap.add_argument('--max-seconds', type=float, default=10.0)
    ap.add_argument('--lr', type=float, default=0.02)
    ap.add_argument('--tf32', action='store_true', help="allow TF32 (PyTorch's default for cuDNN convs)")
    ap.add_argument('--channels-last', action='store_true')
    ap.add_argument('--device', default='auto', choices=['auto', 'cuda', 'cpu'])
    ap.add_argument('--out', default='pytorch-bench.json')
    a = ap.parse_args()

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    cuda = torch.cuda.is_available() and a.device != 'cpu'
    if a.device == 'cuda' and not cuda:
        print('pytorch_bench: CUDA is not available', file=sys.stderr)
        sys.exit(2)
    if not cuda:
        print('pytorch_bench: NO CUDA, timing on the CPU (a dry run; these are not GPU numbers)', file=sys.stderr)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = a.tf32
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    dev = torch.device('cuda' if cuda else 'cpu')
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    meta = {
        'torch': torch.__version__,
        'cuda': torch.version.cuda,
        'cudnn': torch.backends.cudnn.version() if cuda else None,
        'device': torch.cuda.get_device_name(0) if cuda else 'cpu',
        'tf32': a.tf32,
        'channels_last': a.channels_last,
        'args': vars(a),
    }
    print(f"# PyTorch {meta['torch']} CUDA {meta['cuda']} cuDNN {meta['cudnn']} on {meta['device']}, "
          f"fp32 ({'TF32 allowed' if a.tf32 else 'strict, TF32 off'}), {'channels_last' if a.channels_last else 'NCHW'}")
    rows = []

    def save():  # after every row: a run cut short still leaves what it measured
        with open(a.out, 'w') as f:
            json.dump({'meta': meta, 'steps': rows}, f, indent=2)
    for name in [s for s in a.models.split(',') if s]:
        for batch in [int(s) for s in a.batches.split(',') if s]:
            torch.manual_seed(0)
            model = build(name, torch, nn, F).to(dev).to(memory_format=fmt).train()
            opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
            x = torch.randn(batch, 3, 32, 32, device=dev).to(memory_format=fmt)
            y = torch.randint(0, 10, (batch,), device=dev)
            lossf = nn.CrossEntropyLoss()

            def step():
                opt.zero_grad(set_to_none=True)
                loss = lossf(model(x), y)
                loss.backward()
                opt.step()
                return loss

            for _ in range(a.warmup):
                step()
            sync()
            t0 = time.perf_counter()
            n = 0
            while n < a.iters:
                loss = step()
                n += 1
                if n % 10 == 0:
                    sync()
                    if time.perf_counter() - t0 > a.max_seconds:
                        break
            sync()
            dt = time.perf_counter() - t0
            row = {'model': name, 'batch': batch, 'steps': n, 'msPerStep': 1000 * dt / n,
                   'imgPerSec': batch * n / dt, 'finalLoss': float(loss.item())}
            rows.append(row)
            save()
            print(f"  {name:9s} b{batch:<4d} {row['imgPerSec']:10.1f} img/s  ({row['msPerStep']:.2f} ms/step over {n} steps)", flush=True)
            del model, opt, x, y
            if cuda:
                torch.cuda.empty_cache()
    save()
    print(f'wrote {a.out}')


if __name__ == '__main__':
    main()
