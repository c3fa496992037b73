import type { ModelName } from '../config';
import type { GraphNode, ModelGraph } from './graph';

const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1; // PyTorch convention: running = (1 − m)·running + m·batch

export interface ResNetSpec {
  blocksPerStage: number;
  widths: [number, number, number];
}

/** CIFAR ResNet (He et al. 2016, §4.2) with option-A shortcuts: no shortcut convs. */
function buildResNet(name: string, spec: ResNetSpec): ModelGraph {
  const nodes: GraphNode[] = [];
  let size = 32;
  const conv = (nm: string, input: string, inC: number, outC: number, stride: number): string => {
    const outSize = Math.floor((size + 2 - 3) / stride) + 1;
    nodes.push({ op: 'conv', name: nm, input, inChannels: inC, outChannels: outC, kernel: 3, stride, pad: 1, bias: false, inSize: size, outSize });
    size = outSize;
    return nm;
  };
  const bn = (nm: string, input: string, c: number): string => {
    nodes.push({ op: 'bn', name: nm, input, channels: c, epsilon: BN_EPS, momentum: BN_MOMENTUM });
    return nm;
  };
  const relu = (nm: string, input: string): string => {
    nodes.push({ op: 'relu', name: nm, input });
    return nm;
  };

  let x = relu('stem/relu', bn('stem/bn', conv('stem/conv', 'input', 3, spec.widths[0], 1), spec.widths[0]));
  let channels = spec.widths[0];
  spec.widths.forEach((width, s) => {
    for (let b = 0; b < spec.blocksPerStage; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const p = `stage${s + 1}/block${b + 1}`;
      const blockIn = x;
      let y = relu(`${p}/relu1`, bn(`${p}/bn1`, conv(`${p}/conv1`, blockIn, channels, width, stride), width));
      y = bn(`${p}/bn2`, conv(`${p}/conv2`, y, width, width, 1), width);
      let shortcut = blockIn;
      if (stride !== 1 || channels !== width) {
        shortcut = `${p}/shortcut`;
        nodes.push({ op: 'shortcutA', name: shortcut, input: blockIn, inChannels: channels, outChannels: width, stride });
      }
      nodes.push({ op: 'add', name: `${p}/add`, inputs: [y, shortcut] });
      x = relu(`${p}/relu2`, `${p}/add`);
      channels = width;
    }
  });
  nodes.push({ op: 'gap', name: 'pool', input: x });
  nodes.push({ op: 'dense', name: 'fc', input: 'pool', inFeatures: channels, outFeatures: 10 });
  return { name, inputSize: 32, inputChannels: 3, numClasses: 10, init: 'resnet', nodes, output: 'fc' };
}

/** VGG with BN (conv3×3 with bias + BN + ReLU; 'M' = 2×2 max pool), then one dense layer to 10 classes. */
function buildVgg(name: string, pattern: (number | 'M')[]): ModelGraph {
  const nodes: GraphNode[] = [];
  let size = 32;
  let channels = 3;
  let x = 'input';
  let i = 0;
  let pool = 0;
  for (const item of pattern) {
    if (item === 'M') {
      pool++;
      nodes.push({ op: 'maxpool', name: `pool${pool}`, input: x, size: 2 });
      x = `pool${pool}`;
      size = Math.floor(size / 2);
      continue;
    }
    i++;
    nodes.push({ op: 'conv', name: `conv${i}`, input: x, inChannels: channels, outChannels: item, kernel: 3, stride: 1, pad: 1, bias: true, inSize: size, outSize: size });
    nodes.push({ op: 'bn', name: `bn${i}`, input: `conv${i}`, channels: item, epsilon: BN_EPS, momentum: BN_MOMENTUM });
    nodes.push({ op: 'relu', name: `relu${i}`, input: `bn${i}` });
    x = `relu${i}`;
    channels = item;
  }
  // Spatial size is 1×1 after five pools; global average pooling makes smaller variants work too.
  nodes.push({ op: 'gap', name: 'flatten', input: x });
  nodes.push({ op: 'dense', name: 'fc', input: 'flatten', inFeatures: channels, outFeatures: 10 });
  return { name, inputSize: 32, inputChannels: 3, numClasses: 10, init: 'vgg', nodes, output: 'fc' };
}

const VGG16_PATTERN: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export function buildModel(name: ModelName): ModelGraph {
  switch (name) {
    case 'resnet20':
    case 'resnet32':
    case 'resnet44':
    case 'resnet56':
    case 'resnet110': {
      const depth = Number(name.slice('resnet'.length));
      return buildResNet(name, { blocksPerStage: (depth - 2) / 6, widths: [16, 32, 64] });
    }
    case 'vgg16':
      return buildVgg(name, VGG16_PATTERN);
    case 'resnet8-tiny':
      // 1 block per stage, 8/16/32 channels: 7 convs, for tests.
      return buildResNet(name, { blocksPerStage: 1, widths: [8, 16, 32] });
    case 'resnet14-narrow':
      // 2 blocks per stage, 8/16/32 channels: a quick-look model.
      return buildResNet(name, { blocksPerStage: 2, widths: [8, 16, 32] });
    case 'vgg-tiny':
      return buildVgg(name, [16, 'M', 32, 'M', 64, 'M']);
  }
}
