/**
 * Browser side of the kernel correctness sweep (e2e/kernels.spec.ts bundles this with esbuild and
 * serves it from http://127.0.0.1). Publishes its outcome on window.__kernelSweep.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { CONV_SWEEP_BROWSER, REDUCE_SWEEP_BROWSER, formatResult, runSweep, type CheckResult } from '../../src/webgpu-kernels/sweep';

interface SweepOutcome {
  done: boolean;
  error?: string;
  adapter?: string;
  results: CheckResult[];
}

declare global {
  interface Window {
    __kernelSweep: SweepOutcome;
  }
}

const logEl = document.getElementById('log')!;
const outcome: SweepOutcome = { done: false, results: [] };
window.__kernelSweep = outcome;
const log = (line: string) => {
  logEl.textContent += `\n${line}`;
};

async function main(): Promise<void> {
  if (!('gpu' in navigator) || !navigator.gpu) throw new Error('navigator.gpu is missing: WebGPU is not available in this browser');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null: no WebGPU adapter');
  outcome.adapter = `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim();
  log(`adapter: ${outcome.adapter}`);
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  log(`backend: ${tf.getBackend()}`);
  await runSweep(tf, CONV_SWEEP_BROWSER, REDUCE_SWEEP_BROWSER, (r) => {
    outcome.results.push(r);
    log(formatResult(r));
  });
}

main()
  .catch((e: unknown) => {
    outcome.error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    log(`ERROR: ${outcome.error}`);
  })
  .finally(() => {
    outcome.done = true;
    log('done');
  });
