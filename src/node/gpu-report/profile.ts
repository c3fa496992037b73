// Where the GPU time of one training step goes: tf.profile's kernel records (on WebGPU each kernel's
// time is the sum of its programs' timestamp-query times) grouped by tfjs kernel, by WGSL program and
// into the op families that matter for a conv net.

/** One record of tf.profile's `kernels` (the fields used here). */
export interface ProfiledKernel {
  name: string;
  /** Milliseconds of GPU time; a backend without timers gives an error object instead. */
  kernelTimeMs: number | { error: string } | null;
  /** WebGPU: 'ProgramName: ms, ProgramName: ms' for the programs the kernel dispatched. */
  extraInfo?: string | null;
  inputShapes?: (number[] | null)[];
}

export interface TimeShare {
  name: string;
  ms: number;
  /** Kernel calls (byKernel, byFamily) or program dispatches (byProgram). */
  calls: number;
  /** Of the summed GPU time. */
  share: number;
}

export interface ProfileSummary {
  /** Kernel calls recorded. */
  kernelCalls: number;
  /** WGSL program dispatches (from extraInfo; 0 when the backend gives none). */
  dispatches: number;
  /** Sum of the kernels' GPU times. */
  gpuMs: number;
  /** Whether any kernel got a time (false: no timestamp queries, every time is 0 or an error). */
  timed: boolean;
  byFamily: TimeShare[];
  byKernel: TimeShare[];
  byProgram: TimeShare[];
  /** The slowest single calls, with their input shapes. */
  slowest: { name: string; ms: number; inputShapes: (number[] | null)[] }[];
}

/** The op family of a tfjs kernel name: the convolutions' three passes apart, the rest by kind. */
export function kernelFamily(name: string): string {
  if (name === 'Conv2DBackpropFilter' || name === 'DepthwiseConv2dNativeBackpropFilter') return 'conv backprop-filter';
  if (name === 'Conv2DBackpropInput' || name === 'DepthwiseConv2dNativeBackpropInput') return 'conv backprop-input';
  if (/^(Fused)?Conv2D$|^DepthwiseConv2dNative$|^FusedDepthwiseConv2D$/.test(name)) return 'conv forward';
  if (/^(_FusedMatMul|BatchMatMul|MatMul)$/.test(name)) return 'matmul';
  if (/BatchNorm/.test(name)) return 'batch norm';
  if (/^(Sum|Mean|Max|Min|Prod|All|Any|ArgMax|ArgMin)$/.test(name)) return 'reduction';
  if (/^(Reshape|Identity|Cast|Cast_|Slice|Concat|Pad|PadV2|Transpose|Tile|GatherV2|StridedSlice|MirrorPad)$/.test(name)) return 'data movement';
  return 'element-wise and other';
}

const msOf = (k: ProfiledKernel): number => (typeof k.kernelTimeMs === 'number' && Number.isFinite(k.kernelTimeMs) ? k.kernelTimeMs : 0);

/** 'A: 0.5, B: 1.25' → [['A', 0.5], ['B', 1.25]] (a name may hold ': ' itself: split at the last one). */
export function parsePrograms(extraInfo: string | null | undefined): [string, number][] {
  if (!extraInfo) return [];
  return extraInfo
    .split(', ')
    .filter(Boolean)
    .flatMap((item): [string, number][] => {
      const cut = item.lastIndexOf(': ');
      const ms = Number(item.slice(cut + 2));
      return cut > 0 && Number.isFinite(ms) ? [[item.slice(0, cut), ms]] : [];
    });
}

function shares(map: Map<string, { ms: number; calls: number }>, total: number): TimeShare[] {
  return [...map.entries()].map(([name, v]) => ({ name, ms: v.ms, calls: v.calls, share: total > 0 ? v.ms / total : 0 })).sort((a, b) => b.ms - a.ms || a.name.localeCompare(b.name));
}

function add(map: Map<string, { ms: number; calls: number }>, name: string, ms: number): void {
  const e = map.get(name) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  map.set(name, e);
}

export function summariseProfile(kernels: readonly ProfiledKernel[], slowest = 15): ProfileSummary {
  const byKernel = new Map<string, { ms: number; calls: number }>();
  const byFamily = new Map<string, { ms: number; calls: number }>();
  const byProgram = new Map<string, { ms: number; calls: number }>();
  let gpuMs = 0;
  let dispatches = 0;
  for (const k of kernels) {
    const ms = msOf(k);
    gpuMs += ms;
    add(byKernel, k.name, ms);
    add(byFamily, kernelFamily(k.name), ms);
    for (const [program, pms] of parsePrograms(k.extraInfo)) {
      add(byProgram, program, pms);
      dispatches++;
    }
  }
  return {
    kernelCalls: kernels.length,
    dispatches,
    gpuMs,
    timed: kernels.some((k) => msOf(k) > 0),
    byFamily: shares(byFamily, gpuMs),
    byKernel: shares(byKernel, gpuMs),
    byProgram: shares(byProgram, gpuMs),
    slowest: kernels
      .map((k) => ({ name: k.name, ms: msOf(k), inputShapes: k.inputShapes ?? [] }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, slowest),
  };
}
