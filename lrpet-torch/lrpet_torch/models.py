"""The CIFAR-10 networks of the LRPET playground in PyTorch, with the module names of the official
code, so the playground's exported state_dicts (projected.safetensors) load with strict=True:

- CIFAR ResNet (He et al. 2016, option-A shortcuts): conv1, bn1, layer1..3 (BasicBlock: conv1, bn1,
  conv2, bn2; the shortcut subsamples x[:, :, ::2, ::2] and zero-pads the channels, no parameters),
  linear (with bias).
- VGG-16-BN: features (Conv2d 3x3 with bias, BatchNorm2d, ReLU per conv; MaxPool2d(2) per 'M') and
  classifier (one Linear to 10 classes).

Written from the method spec (shared docs/lrpet.md, section 8), not copied from the authors' code.
The playground's small test variants (resnet8-tiny, resnet14-narrow, vgg-tiny) are the same
modules with other widths/patterns.

    model = build_model("resnet20")
    tensors, _ = lrpet_torch.safetensors_np.load("projected.safetensors")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)

Input: NCHW float images normalised with the CIFAR-10 mean (0.4914, 0.4822, 0.4465) and std
(0.2023, 0.1994, 0.2010); output: logits [N, 10].
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

# name: ("resnet", blocks per stage, stage widths) or ("vgg", pattern)
MODELS = {
    "resnet20": ("resnet", 3, (16, 32, 64)),
    "resnet32": ("resnet", 5, (16, 32, 64)),
    "resnet44": ("resnet", 7, (16, 32, 64)),
    "resnet56": ("resnet", 9, (16, 32, 64)),
    "resnet110": ("resnet", 18, (16, 32, 64)),
    "resnet8-tiny": ("resnet", 1, (8, 16, 32)),
    "resnet14-narrow": ("resnet", 2, (8, 16, 32)),
    "vgg16": ("vgg", VGG16),
    "vgg-tiny": ("vgg", [16, "M", 32, "M", 64, "M"]),
}

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.stride = stride
        self.extra = planes - in_planes

    def shortcut(self, x):
        if self.stride == 1 and self.extra == 0:
            return x
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, blocks, widths=(16, 32, 64), num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        planes = widths[0]
        stages = []
        for s, width in enumerate(widths):
            layers = []
            for b in range(blocks):
                layers.append(BasicBlock(planes, width, 2 if s > 0 and b == 0 else 1))
                planes = width
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(planes, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(out.mean((2, 3)))


class VggBn(nn.Module):
    def __init__(self, pattern, num_classes=10):
        super().__init__()
        layers = []
        channels = 3
        for item in pattern:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, item, 3, padding=1), nn.BatchNorm2d(item), nn.ReLU(inplace=True)]
                channels = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        # VGG-16 ends at 1x1 after five pools, where this mean is the official flatten; the
        # smaller variants end larger and need the pooling.
        return self.classifier(self.features(x).mean((2, 3)))


def build_model(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (choose from {', '.join(MODELS)})")
    spec = MODELS[name]
    return CifarResNet(spec[1], spec[2]) if spec[0] == "resnet" else VggBn(spec[1])


def conv_bn_pairs(model):
    """(conv name, conv, BatchNorm that consumes its output) for every conv of a model built here."""
    pairs = []
    if isinstance(model, CifarResNet):
        pairs.append(("conv1", model.conv1, model.bn1))
        for s in (1, 2, 3):
            for i, block in enumerate(getattr(model, f"layer{s}")):
                pairs.append((f"layer{s}.{i}.conv1", block.conv1, block.bn1))
                pairs.append((f"layer{s}.{i}.conv2", block.conv2, block.bn2))
    else:
        mods = list(model.features)
        for k, m in enumerate(mods):
            if isinstance(m, nn.Conv2d):
                pairs.append((f"features.{k}", m, mods[k + 1]))
    return pairs


def normalise(images_u8, dtype=torch.float32):
    """uint8 NCHW (the CIFAR binary layout) -> normalised float images, computed in float64."""
    x = torch.as_tensor(images_u8).to(torch.float64) / 255.0
    mean = torch.tensor(CIFAR_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD, dtype=torch.float64).view(1, 3, 1, 1)
    return ((x - mean) / std).to(dtype)


@dataclass(frozen=True)
class Layer:
    """A conv or linear layer as the engine's graph names it (src/engine/models/builders.ts)."""
    name: str  # the engine's name: 'stem/conv', 'stage2/block1/conv1', 'conv3', 'fc'
    path: str  # the module path: 'conv1', 'layer2.0.conv1', 'features.7', 'linear'
    kind: str  # 'conv' or 'dense'
    out_ch: int
    in_ch: int
    kernel: int
    stride: int
    out_size: int  # spatial size of the output (1 for dense)
    bias: bool
    bn: str  # the module path of the BatchNorm that consumes the output, or None
    bn_name: str  # the engine's name of that BatchNorm, or None


def layer_table(name):
    """Every conv and linear layer of a model in the engine's graph order (the order of its events and of its initialisation)."""
    spec = MODELS.get(name)
    if spec is None:
        raise ValueError(f"unknown model {name!r} (choose from {', '.join(MODELS)})")
    layers = []
    if spec[0] == "resnet":
        blocks, widths = spec[1], spec[2]
        size, ch = 32, widths[0]
        layers.append(Layer("stem/conv", "conv1", "conv", widths[0], 3, 3, 1, 32, False, "bn1", "stem/bn"))
        for s, width in enumerate(widths):
            for b in range(blocks):
                stride = 2 if s > 0 and b == 0 else 1
                size = (size + 2 - 3) // stride + 1
                p, e = f"layer{s + 1}.{b}", f"stage{s + 1}/block{b + 1}"
                layers.append(Layer(f"{e}/conv1", f"{p}.conv1", "conv", width, ch, 3, stride, size, False, f"{p}.bn1", f"{e}/bn1"))
                layers.append(Layer(f"{e}/conv2", f"{p}.conv2", "conv", width, width, 3, 1, size, False, f"{p}.bn2", f"{e}/bn2"))
                ch = width
        layers.append(Layer("fc", "linear", "dense", 10, ch, 1, 1, 1, True, None, None))
        return layers
    size, ch, index, i = 32, 3, 0, 0
    for item in spec[1]:
        if item == "M":
            size //= 2
            index += 1
            continue
        i += 1
        layers.append(Layer(f"conv{i}", f"features.{index}", "conv", item, ch, 3, 1, size, True, f"features.{index + 1}", f"bn{i}"))
        ch = item
        index += 3
    layers.append(Layer("fc", "classifier", "dense", 10, ch, 1, 1, 1, True, None, None))
    return layers
