import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfigInput } from '../engine/config';
import type { EngineEvent, RunStartEvent } from '../engine/events';
import { runFileText } from '../engine/run-file';
import { syntheticDataset } from '../engine/testing/synthetic';
import { parseRunFile } from '../runs/file';
import { lossParity, spectrumParity } from './parity-criteria';
import { freePort, readEvents, readTrace, startPython, stepLosses, torchrunArgs, writeCifarDir, type Finished } from './torch-trainer';

/**
 * The PyTorch trainer on several processes (torchrun, gloo on the CPU) computes what one process with the
 * whole batch computes: 2 processes with synchronised BatchNorm against 1, the same global batch of 16 (each
 * process's forward sees 8), no augmentation, a projection every 2 steps; the 2-process run's losses and
 * spectra are within the parity criterion of the 1-process float64 run (parity.ts: 10 × the float32 noise,
 * the spread of 1-process float32 runs with the batch in other orders). And a worker killed mid-epoch under
 * torchrun --max_restarts 1: the job resumes from the last checkpoint, the log has every step once, and the
 * final weights equal the uninterrupted run's.
 */

const CONFIG: RunConfigInput = {
  model: 'resnet8-tiny',
  epochs: 3,
  batchSize: 16,
  lr: 0.05,
  momentum: 0.9,
  weightDecay: 5e-3,
  seed: 4,
  augment: false,
  lrpet: { prune: 0.5, interval: 2 },
};

let dir: string;
let runFile: string;
let dataDir: string;
const out = (name: string) => join(dir, name);
const train = (name: string, ...more: string[]) => ['train', '--config', runFile, '--data', dataDir, '--out', out(name), ...more];

function background(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return startPython(args, env).done.then((r) => {
    if (r.status !== 0) throw new Error(`python ${args.slice(0, 6).join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-4000)}`);
    return r;
  });
}

/** 2 processes, --max_restarts 1; the second process is held after step 3 (mid-epoch 2), then killed with SIGKILL. */
async function killedAndRestarted(): Promise<Finished> {
  const job = startPython(torchrunArgs(2, await freePort(), train('killed'), ['--max_restarts', '1']), { LRPET_TORCH_HOLD_AT: '1:3' });
  const pidFile = join(out('killed'), 'hold-1.pid');
  const t0 = Date.now();
  let ended: Finished | null = null;
  void job.done.then((r) => (ended = r));
  while (!existsSync(pidFile)) {
    if (ended) throw new Error(`the job ended before its worker was held: ${(ended as Finished).stderr.slice(-3000)}`);
    if (Date.now() - t0 > 240_000) throw new Error('the worker was not held in time');
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  return job.done;
}

let killed: Finished;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lrpet-ddp-'));
  dataDir = writeCifarDir(out('data'), syntheticDataset(32, 16, 12));
  runFile = out('run.json');
  writeFileSync(runFile, runFileText(parseRunConfig(CONFIG)));
  const runs = await Promise.all([
    background(['-m', 'lrpet_torch', ...train('f64', '--dtype', 'float64')]),
    background(['-m', 'lrpet_torch', ...train('f32')]),
    background(['-m', 'lrpet_torch', ...train('p1', '--permute-batch', '1')]),
    background(['-m', 'lrpet_torch', ...train('p2', '--permute-batch', '2')]),
    background(torchrunArgs(2, await freePort(), train('ddp', '--trace', out('trace')))),
    killedAndRestarted(),
    background(torchrunArgs(2, await freePort(), train('nosync', '--no-sync-bn'))),
  ]);
  killed = runs[5];
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('PyTorch DDP (2 processes, gloo, synchronised BatchNorm) equals one process', () => {
  it('each process computes half of every batch', () => {
    for (const rank of [0, 1]) {
      const trace = readTrace(out('trace'), rank);
      expect(trace).toHaveLength(6);
      for (const t of trace) {
        expect(t.indices).toHaveLength(16);
        expect([t.lo, t.hi]).toEqual(rank === 0 ? [0, 8] : [8, 16]);
        expect(t.shape).toEqual([8, 3, 32, 32]);
      }
    }
  });

  it('its losses and spectra are within the parity criterion of one process with the whole batch', () => {
    const ddp = readEvents(out('ddp'));
    const f64 = readEvents(out('f64'));
    const noise = ['f32', 'p1', 'p2'].map((n) => readEvents(out(n)));
    const parity = lossParity(stepLosses(ddp), stepLosses(f64), noise.map(stepLosses));
    console.log(`DDP parity: max |ddp − one64| ${parity.maxEngineDiff.toExponential(1)}, float32 noise ${parity.maxNoise.toExponential(1)}, worst step ${parity.worst.step}`);
    expect(parity.ok, JSON.stringify(parity.steps, null, 1)).toBe(true);
    const projections = (events: EngineEvent[]) => events.filter((e) => e.type === 'projection');
    expect(projections(ddp).map((e) => e.iteration)).toEqual([2, 4, 6]);
    const spectra = (events: EngineEvent[]) => projections(events).map((e) => new Map(e.layers.map((l) => [l.name, l.sigmaBefore])));
    const s = spectrumParity([2, 4, 6], spectra(ddp), spectra(f64), noise.map(spectra));
    expect(s.ok, JSON.stringify(s.projections)).toBe(true);
    const start = ddp[0] as RunStartEvent & { runtime: Record<string, unknown> };
    expect(start.backend).toBe('PyTorch DDP · 2 × CPU');
    expect(start.runtime).toMatchObject({ processes: 2, syncBatchNorm: true, device: 'cpu' });
    expect(parseRunFile(new Uint8Array(readFileSync(join(out('ddp'), 'events.jsonl'))), 'events.jsonl').status).toBe('finished');
  });

  it('the criterion is not blind: with BatchNorm statistics per process (--no-sync-bn) the 2 processes fail it', () => {
    const nosync = readEvents(out('nosync'));
    const parity = lossParity(stepLosses(nosync), stepLosses(readEvents(out('f64'))), ['f32', 'p1', 'p2'].map((n) => stepLosses(readEvents(out(n)))));
    console.log(`--no-sync-bn: max |ddp − one64| ${parity.maxEngineDiff.toExponential(1)} → ${parity.ok ? 'PASSED (bad)' : 'rejected'}`);
    expect(parity.ok).toBe(false);
    expect((nosync[0] as RunStartEvent & { runtime: Record<string, unknown> }).runtime.syncBatchNorm).toBe(false);
  });
});

describe('a worker killed mid-epoch under torchrun --max_restarts 1', () => {
  it('the job resumes from the last checkpoint: every step once in the log, the uninterrupted run’s final weights', () => {
    expect(killed.status, killed.stderr.slice(-3000)).toBe(0);
    const events = readEvents(out('killed'));
    expect(events.filter((e) => e.type === 'runStart').map((e) => (e as RunStartEvent).resumedFrom)).toEqual([null, 2]);
    expect(events.flatMap((e) => (e.type === 'step' ? [e.iteration] : []))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stepLosses(events)).toEqual(stepLosses(readEvents(out('ddp'))));
    for (const f of ['projected.safetensors', 'compact.safetensors']) {
      expect(Buffer.compare(readFileSync(join(out('killed'), f)), readFileSync(join(out('ddp'), f))), f).toBe(0);
    }
  });
});
