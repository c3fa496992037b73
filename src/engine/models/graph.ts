import type { ModelName } from '../config';

/**
 * A CNN as a list of nodes in topological order. Each node's output is named by its `name`;
 * `input` / `inputs` name the nodes it consumes ('input' is the image batch, NHWC 32×32×3).
 * Static shapes are kept on the nodes so that costs and ranks can be computed without tfjs.
 */
export type GraphNode = ConvNode | BatchNormNode | ReluNode | AddNode | ShortcutANode | MaxPoolNode | GlobalAvgPoolNode | DenseNode;

export interface ConvNode {
  op: 'conv';
  name: string;
  input: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Symmetric zero padding on each side (PyTorch convention: 1 for 3×3). */
  pad: number;
  bias: boolean;
  inSize: number;
  outSize: number;
}
export interface BatchNormNode {
  op: 'bn';
  name: string;
  input: string;
  channels: number;
  epsilon: number;
  momentum: number;
}
export interface ReluNode {
  op: 'relu';
  name: string;
  input: string;
}
export interface AddNode {
  op: 'add';
  name: string;
  inputs: [string, string];
}
/** ResNet "option A" shortcut: x[:, ::stride, ::stride, :] with channels zero-padded to outChannels (half on each side). */
export interface ShortcutANode {
  op: 'shortcutA';
  name: string;
  input: string;
  inChannels: number;
  outChannels: number;
  stride: number;
}
export interface MaxPoolNode {
  op: 'maxpool';
  name: string;
  input: string;
  size: number;
}
export interface GlobalAvgPoolNode {
  op: 'gap';
  name: string;
  input: string;
}
export interface DenseNode {
  op: 'dense';
  name: string;
  input: string;
  inFeatures: number;
  outFeatures: number;
  /** Absent = true: only the first half of a split dense layer has no bias. */
  bias?: boolean;
}

export type InitScheme = 'resnet' | 'vgg';

export interface ModelGraph {
  name: ModelName | string;
  inputSize: number;
  inputChannels: number;
  numClasses: number;
  /** The official code's initialisation for this family (initParams): 'resnet' fan-in Kaiming, 'vgg' fan-out convs and a N(0, 0.01) classifier. */
  init: InitScheme;
  nodes: GraphNode[];
  /** Name of the node whose output is the logits. */
  output: string;
}

export type WeightNode = ConvNode | DenseNode;

/** Whether a conv or dense layer adds a bias (dense layers do unless they say otherwise). */
export function hasBias(node: WeightNode): boolean {
  return node.op === 'conv' ? node.bias : node.bias !== false;
}

export function weightNodes(graph: ModelGraph): WeightNode[] {
  return graph.nodes.filter((n): n is WeightNode => n.op === 'conv' || n.op === 'dense');
}

export function convNodes(graph: ModelGraph): ConvNode[] {
  return graph.nodes.filter((n): n is ConvNode => n.op === 'conv');
}

/** The nodes that consume `name`'s output. */
function consumers(graph: ModelGraph, name: string): GraphNode[] {
  return graph.nodes.filter((n) => ('inputs' in n ? n.inputs.includes(name) : n.input === name));
}

/**
 * The BatchNorm that directly consumes a conv's output, found from the graph (never by counting
 * layers). A conv whose output also feeds something else is not rectified by that BN.
 */
export function bnAfter(graph: ModelGraph, convName: string): BatchNormNode | null {
  const users = consumers(graph, convName);
  if (users.length === 1 && users[0].op === 'bn') return users[0];
  return null;
}
