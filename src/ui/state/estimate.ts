import type { BackendInfo } from '../../worker/protocol';

/**
 * A rough training-speed estimate (images/s) for software renderers, where it matters most: there is
 * no GPU and people should know what to expect. Measured on a 2-core x86 machine (headless Chromium
 * 156, tfjs 4.22, SwiftShader; ResNet-8-tiny and ResNet-20, batches of 16 and 64): seconds per training
 * image grow like a·(forward MMACs)^b, plus a fixed cost per step. Returns null for real GPUs: they
 * vary too much, and the measured speed is shown as soon as a run starts.
 */
const SOFTWARE_RATES: Record<BackendInfo['backend'], { a: number; b: number; stepOverheadS: number }> = {
  webgpu: { a: 0.113, b: 0.805, stepOverheadS: 0.3 },
  webgl: { a: 0.0148, b: 1.3, stepOverheadS: 0.41 },
  // tfjs's plain-JavaScript backend: about as fast as SwiftShader's WebGPU here
  cpu: { a: 0.113, b: 0.805, stepOverheadS: 0.05 },
};

export function estimateImagesPerSec(info: BackendInfo | null, forwardMacs: number, batchSize: number): number | null {
  if (!info || !info.software || !(forwardMacs > 0)) return null;
  const r = SOFTWARE_RATES[info.backend];
  const secondsPerStep = batchSize * r.a * (forwardMacs / 1e6) ** r.b + r.stepOverheadS;
  return batchSize / secondsPerStep;
}

/** Seconds for `images` training images plus `evalImages` forward passes at `ips` training images/s. */
export function estimateSeconds(ips: number, images: number, evalImages: number): number {
  return images / ips + evalImages / (ips * 3);
}
