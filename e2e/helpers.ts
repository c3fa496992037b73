import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { fillBatch } from '../src/engine/data/batcher';
import { parseBatchFile, strideSubset } from '../src/engine/data/cifar';
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

const TEST_RECORD_BYTES = 3073;
/** The training set's per-channel mean and std of the official recipe, written out here (not the engine's constants). */
const TEST_MEAN = [0.4914, 0.4822, 0.4465];
const TEST_STD = [0.2023, 0.1994, 0.201];

/**
 * The test images the page evaluates on, read here without the engine's code, so that the accuracy
 * expected of a downloaded model does not come from the code under test. test_batch.bin is records of
 * 3073 bytes: a label byte, then 1024 red, 1024 green and 1024 blue bytes (rows of 32 pixels). "The test
 * subset is spread evenly over the test set" (README): of N records, image i of `count` is record
 * ⌊i · N / count⌋ (all N when count ≥ N). Each pixel v becomes (v / 255 − mean_c) / std_c; NHWC.
 */
function readTestSubset(bytes: Uint8Array, count: number): { x: Float32Array; labels: Uint8Array; records: number[] } {
  if (bytes.length === 0 || bytes.length % TEST_RECORD_BYTES !== 0) throw new Error(`test_batch.bin: ${bytes.length} bytes is not a whole number of ${TEST_RECORD_BYTES}-byte records`);
  const total = bytes.length / TEST_RECORD_BYTES;
  const n = Math.min(count, total);
  const records = Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
  const x = new Float32Array(n * 3072);
  const labels = new Uint8Array(n);
  records.forEach((r, i) => {
    const at = r * TEST_RECORD_BYTES;
    labels[i] = bytes[at];
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) x[i * 3072 + p * 3 + c] = (bytes[at + 1 + c * 1024 + p] / 255 - TEST_MEAN[c]) / TEST_STD[c];
    }
  });
  return { x, labels, records };
}

/**
 * Throws unless the engine (what the page runs: strideSubset for the test limit, fillBatch to
 * normalise) picks the same records and gives the same inputs as readTestSubset: a change of either
 * rule fails here, naming the first difference, instead of only shifting an accuracy.
 */
function checkEngineTestSubset(bytes: Uint8Array, count: number, mine: ReturnType<typeof readTestSubset>): void {
  const split = strideSubset(parseBatchFile({ name: 'test_batch.bin', bytes }), count);
  if (split.count !== mine.records.length) throw new Error(`the engine's test subset has ${split.count} images, the README's rule ${mine.records.length}`);
  for (const [i, r] of mine.records.entries()) {
    const record = bytes.subarray(r * TEST_RECORD_BYTES + 1, (r + 1) * TEST_RECORD_BYTES);
    const image = split.images.subarray(i * 3072, (i + 1) * 3072);
    if (split.labels[i] !== mine.labels[i] || image.some((v, k) => v !== record[k])) {
      throw new Error(`the engine's test subset is not spread evenly as the README says: its image ${i} is not record ⌊${i} · ${bytes.length / TEST_RECORD_BYTES} / ${mine.records.length}⌋ = ${r}`);
    }
  }
  const x = new Float32Array(mine.x.length);
  fillBatch(split, Array.from({ length: split.count }, (_, i) => i), x, null);
  for (let k = 0; k < x.length; k++) {
    if (!(Math.abs(x[k] - mine.x[k]) <= 1e-6)) {
      const c = k % 3;
      throw new Error(`the engine normalises test images otherwise: value ${k} (channel ${c}) is ${x[k]}, (v / 255 − ${TEST_MEAN[c]}) / ${TEST_STD[c]} gives ${mine.x[k]}`);
    }
  }
}

/** The first `count` images of CIFAR-10's test set as the page evaluates them (readTestSubset), checked against the engine's picks. */
export function testImages(count: number): { x: tf.Tensor4D; labels: Uint8Array } {
  const found = findDatasetDir();
  if (!found.dir) throw new Error(`no CIFAR-10 folder for the e2e tests: ${found.problem}`);
  const bytes = new Uint8Array(readFileSync(join(found.dir, 'test_batch.bin')));
  const mine = readTestSubset(bytes, count);
  checkEngineTestSubset(bytes, count, mine);
  return { x: tf.tensor4d(mine.x, [mine.records.length, 32, 32, 3]), labels: mine.labels };
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
