/**
 * What one checkpoint costs, next to a training step of the same model on the same backend, and how
 * often the worker's checkpoint policy (src/runs/checkpoint-policy.ts) takes one at that cost:
 *  - snapshot: clone and read back every variable (weights, BN statistics, momentum) — holds up training;
 *  - encode: one binary blob (src/engine/checkpoint.ts) — holds up training (in the worker);
 *  - write: RunStore.putCheckpoint into IndexedDB. In Node that is fake-indexeddb: it structured-clones
 *    the bytes as the browser does, but keeps them in memory (no disk), so a browser's write is slower;
 *    the page measures its own writes and backs off by itself.
 *
 *   npx tsx bench/checkpoint.ts [--models resnet56,vgg16] [--batch 128] [--backend auto|webgpu|cpu]
 */
import 'fake-indexeddb/auto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { encodeCheckpoint } from '../src/engine/checkpoint';
import type { ModelName } from '../src/engine/config';
import type { StepEvent } from '../src/engine/events';
import { createRun } from '../src/engine/run/run';
import { SETTINGS } from '../src/engine/settings';
import { syntheticDataset } from '../src/engine/testing/synthetic';
import { loadTf } from '../src/node/webgpu-node';
import { RunStore } from '../src/runs/store';
import { MAX_CHECKPOINT_SHARE } from '../src/runs/checkpoint-policy';

export interface CheckpointTiming {
  model: ModelName;
  backend: string;
  batch: number;
  /** Median of the steps before the timed checkpoints (the first, which compiles shaders, is not counted). */
  stepMs: number;
  bytes: number;
  /** Medians over the timed checkpoints. */
  snapshotMs: number;
  encodeMs: number;
  writeMs: number;
  /** snapshot + encode + write. */
  costMs: number;
  /** The policy's interval at this cost: the setting's default, or longer when the checkpoints would cost more than the share allowed. */
  intervalMs: number;
  /** costMs / intervalMs. */
  share: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

export async function timeCheckpoints(o: { models: ModelName[]; batch: number; backend: 'auto' | 'webgpu' | 'cpu'; checkpoints?: number }): Promise<CheckpointTiming[]> {
  const { tf, backend } = await loadTf(o.backend);
  const store = await RunStore.open(`bench-checkpoints-${Date.now()}`);
  const everyMs = (SETTINGS.checkpointMinutes.default as number) * 60_000;
  const out: CheckpointTiming[] = [];
  try {
    for (const model of o.models) {
      const timed = o.checkpoints ?? 3;
      // Steps 2, 3, … each end in a pause and a checkpoint (one untimed, then the timed ones): each
      // checkpoint reads weights that the step before just changed, as in a real run.
      const steps = timed + 3;
      const events: StepEvent[] = [];
      let onPause: (() => void) | null = null;
      const run = createRun({
        tf,
        data: syntheticDataset(o.batch * steps, 8),
        config: { model, epochs: 1, batchSize: o.batch, augment: false, buildCompact: false, lrpet: { enabled: false } },
        onEvent: (e) => {
          if (e.type === 'step') {
            events.push(e);
            if (e.iteration >= 2 && e.iteration < steps) run.pause();
          } else if (e.type === 'state' && e.state === 'paused') onPause?.();
        },
      });
      try {
        const record = await store.createRun({ name: model, source: 'browser' });
        const snapshot: number[] = [];
        const encode: number[] = [];
        const write: number[] = [];
        let bytes = 0;
        const pauses = () => new Promise<void>((resolve) => (onPause = resolve));
        let paused = pauses();
        const done = run.start();
        const ended = done.then((end): never => {
          throw new Error(`${model}: the run ended (${end.ended}${end.message ? `: ${end.message}` : ''}) before the checkpoints were timed`);
        });
        ended.catch(() => undefined);
        for (let i = 0; i <= timed; i++) {
          await Promise.race([paused, ended]);
          paused = pauses();
          const c = await run.checkpoint();
          const t0 = now();
          const encoded = encodeCheckpoint(c);
          const t1 = now();
          await store.putCheckpoint(record.id, encoded, { iteration: c.iteration, epoch: c.epoch, eventCount: 0, time: c.time, reason: 'interval' });
          const t2 = now();
          bytes = encoded.byteLength;
          run.resume();
          if (i === 0) continue;
          snapshot.push(c.snapshotMs);
          encode.push(t1 - t0);
          write.push(t2 - t1);
        }
        await done;
        const [s, e, w] = [median(snapshot), median(encode), median(write)];
        const costMs = s + e + w;
        const intervalMs = Math.max(everyMs, costMs / MAX_CHECKPOINT_SHARE);
        out.push({ model, backend, batch: o.batch, stepMs: median(events.slice(1).map((x) => x.stepMs)), bytes, snapshotMs: s, encodeMs: e, writeMs: w, costMs, intervalMs, share: costMs / intervalMs });
      } finally {
        run.dispose();
      }
    }
  } finally {
    store.close();
  }
  return out;
}

export function printCheckpointRows(rows: CheckpointTiming[]): void {
  const head = ['checkpoint of', 'MB', 'snapshot ms', 'encode ms', 'write ms', 'cost ms', 'step ms', 'cost in steps', 'interval s', 'share'];
  const body = rows.map((r) => [
    `${r.model} (${r.backend}, batch ${r.batch})`,
    (r.bytes / 2 ** 20).toFixed(1),
    r.snapshotMs.toFixed(1),
    r.encodeMs.toFixed(1),
    r.writeMs.toFixed(1),
    r.costMs.toFixed(1),
    r.stepMs.toFixed(1),
    (r.costMs / r.stepMs).toFixed(2),
    (r.intervalMs / 1000).toFixed(0),
    `${(100 * r.share).toFixed(2)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  console.log(
    `  interval: the page's policy at this cost — every ${(SETTINGS.checkpointMinutes.default as number) * 60} s of training (the default), ` +
      `later when ${100 * MAX_CHECKPOINT_SHARE}% of the training time would not pay for it (cost / ${MAX_CHECKPOINT_SHARE}); share = cost / interval.` +
      `\n  write: fake-indexeddb in Node (a structured clone, no disk); the page measures its real writes and backs off by itself.`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { models: { type: 'string' }, batch: { type: 'string' }, backend: { type: 'string' } } });
  const rows = await timeCheckpoints({
    models: (values.models ?? 'resnet56,vgg16').split(',') as ModelName[],
    batch: Number(values.batch ?? 128),
    backend: (values.backend ?? 'auto') as 'auto',
  });
  printCheckpointRows(rows);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
