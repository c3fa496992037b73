import type { BackendInfo } from '../../worker/protocol';

/**
 * A rough training-speed estimate (images/s) for software renderers, where it matters most: there is
 * no GPU and people should know what to expect. Calibrated on a 2-core x86 machine (headless Chromium
 * 156, tfjs 4.22); a training step costs about 3× the forward MACs plus a fixed cost per batch.
 * Returns null for real GPUs: they vary too much, and the measured speed is shown once a run starts.
 */
export const SOFTWARE_RATES: Record<BackendInfo['backend'], { macsPerSec: number; stepOverheadMs: number }> = {
  // MACs per second of training work (3× forward MACs per image) and fixed milliseconds per step
  webgpu: { macsPerSec: 50e6, stepOverheadMs: 400 },
  webgl: { macsPerSec: 190e6, stepOverheadMs: 250 },
  cpu: { macsPerSec: 60e6, stepOverheadMs: 50 },
};

export function estimateImagesPerSec(info: BackendInfo | null, forwardMacs: number, batchSize: number): number | null {
  if (!info || !info.software || !(forwardMacs > 0)) return null;
  const r = SOFTWARE_RATES[info.backend];
  const secondsPerStep = (3 * forwardMacs * batchSize) / r.macsPerSec + r.stepOverheadMs / 1000;
  return batchSize / secondsPerStep;
}

/** Seconds for `images` training images plus `evalImages` forward passes at `ips` training images/s. */
export function estimateSeconds(ips: number, images: number, evalImages: number): number {
  return images / ips + evalImages / (ips * 3);
}
