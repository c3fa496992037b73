import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { CIFAR_MEAN, CIFAR_STD, parseBatchFile, strideSubset } from '../src/engine/data/cifar';
import { findDatasetDir } from '../scripts/serve.mjs';

declare global {
  interface Window {
    __lrpetLongTasks: { start: number; duration: number }[];
    __lrpetCsp: string[];
  }
}

/** Records long tasks (PerformanceObserver 'longtask') and CSP violations from page load on. */
export async function installProbes(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__lrpetLongTasks = [];
    window.__lrpetCsp = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__lrpetLongTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    document.addEventListener('securitypolicyviolation', (e) => window.__lrpetCsp.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
}

export async function longTasksSince(page: Page, since: number): Promise<{ start: number; duration: number }[]> {
  return page.evaluate((t) => window.__lrpetLongTasks.filter((e) => e.start >= t), since);
}

/** The page's clock (performance.now()), to mark when something started. */
export const pageNow = (page: Page) => page.evaluate(() => performance.now());

/**
 * On a CPU-only machine the "GPU" is SwiftShader, running inside Chromium's GPU process on the same
 * cores as the page — and Chromium raises that process's priority (nice −8), so it can starve the
 * page's main thread in a way a real GPU never would. For the long-task measurement this lowers the
 * GPU process of the browser this test worker launched to nice 10 (all its threads; Linux only; no
 * root needed). Returns how many threads were changed.
 */
export function lowerGpuProcessPriority(): number {
  if (process.platform !== 'linux') return 0;
  let rows: [number, number, string][];
  try {
    rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [Number(m[1]), Number(m[2]), m[3]]);
  } catch {
    return 0;
  }
  const parent = new Map(rows.map(([pid, ppid]) => [pid, ppid]));
  const mine = (pid: number) => {
    for (let p: number | undefined = pid, i = 0; p !== undefined && p > 1 && i < 32; p = parent.get(p), i++) if (p === process.pid) return true;
    return false;
  };
  let changed = 0;
  for (const [pid, , args] of rows) {
    if (!args.includes('--type=gpu-process') || !mine(pid)) continue;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        setPriority(Number(tid), 10);
        changed++;
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return changed;
}

/** The first `count` images of CIFAR-10's test set picked as the engine does (evenly spread), normalised NHWC. */
export function testImages(count: number): { x: tf.Tensor4D; labels: Uint8Array } {
  const found = findDatasetDir();
  if (!found.dir) throw new Error(`no CIFAR-10 folder for the e2e tests: ${found.problem}`);
  const split = strideSubset(parseBatchFile({ name: 'test_batch.bin', bytes: new Uint8Array(readFileSync(join(found.dir, 'test_batch.bin'))) }), count);
  const out = new Float32Array(split.count * 3072);
  for (let i = 0; i < split.count; i++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        out[i * 3072 + p * 3 + c] = (split.images[i * 3072 + c * 1024 + p] / 255 - CIFAR_MEAN[c]) / CIFAR_STD[c];
      }
    }
  }
  return { x: tf.tensor4d(out, [split.count, 32, 32, 3]), labels: split.labels };
}

/**
 * Loads a downloaded model zip (model.json + weights.bin) the way a user would: the two files served
 * over HTTP and tf.loadGraphModel('…/model.json') in Node (tfjs's CPU backend).
 */
export async function loadZippedGraphModel(zip: Uint8Array): Promise<{ model: tf.GraphModel; files: string[] }> {
  const files = unzipSync(zip);
  const server: Server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    const body = files[name];
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    res.end(Buffer.from(body));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  try {
    await tf.setBackend('cpu');
    const model = await tf.loadGraphModel(`http://127.0.0.1:${port}/model.json`);
    return { model, files: Object.keys(files).sort() };
  } finally {
    server.close();
  }
}

/** Accuracy of a graph model on normalised images. */
export async function accuracyOf(model: tf.GraphModel, x: tf.Tensor4D, labels: Uint8Array): Promise<number> {
  const logits = model.predict(x) as tf.Tensor2D;
  const pred = await tf.argMax(logits, 1).data();
  logits.dispose();
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hits++;
  return hits / labels.length;
}
