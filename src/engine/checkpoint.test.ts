import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import { checkCheckpointBytes, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint';
import { parseRunConfig } from './config';
import type { EngineEvent, StepEvent } from './events';
import { createRun } from './run/run';
import { syntheticDataset } from './testing/synthetic';

let tf: typeof tfType;
beforeAll(async () => {
  tf = (await loadTf('webgpu')).tf;
}, 120_000);

const config = { model: 'resnet8-tiny' as const, epochs: 2, batchSize: 8, lr: 0.05, seed: 9, buildCompact: false, lrpet: { prune: 0.5, interval: 3 } };

describe('checkpoints', () => {
  it('resume continues exactly as an uninterrupted run (same backend, same seed)', async () => {
    const data = syntheticDataset(32, 8);
    const full: StepEvent[] = [];
    const a = createRun({ tf, data, config, onEvent: (e) => e.type === 'step' && full.push(e) });
    await a.start();
    a.dispose();

    const first: EngineEvent[] = [];
    const b = createRun({ tf, data, config, onEvent: (e) => first.push(e) });
    const done = b.start();
    while (first.filter((e) => e.type === 'step').length < 5) await new Promise((r) => setTimeout(r, 10));
    const saved = await b.checkpoint();
    b.stop();
    await done;
    b.dispose();
    expect(saved.iteration).toBeGreaterThanOrEqual(5);
    expect(saved.epoch).toBe(1); // 4 steps per epoch: mid-way through the second epoch

    const restored = decodeCheckpoint(encodeCheckpoint(saved));
    const rest: StepEvent[] = [];
    const starts: EngineEvent[] = [];
    const c = createRun({ tf, data, config, resume: restored, onEvent: (e) => (e.type === 'step' ? rest.push(e) : starts.push(e)) });
    await c.start();
    c.dispose();
    expect(starts.find((e) => e.type === 'runStart')).toMatchObject({ resumedFrom: saved.iteration });
    expect(rest.map((s) => s.iteration)).toEqual(full.filter((s) => s.iteration > saved.iteration).map((s) => s.iteration));
    const expected = full.filter((s) => s.iteration > saved.iteration).map((s) => s.loss);
    rest.forEach((s, i) => expect(s.loss).toBeCloseTo(expected[i], 5));
  }, 300_000);

  it('reads version-1 checkpoints (no firstLoss, no compact phase) and refuses unknown versions', () => {
    const v2 = {
      version: 2,
      time: 1,
      config: parseRunConfig(config),
      iteration: 3,
      epoch: 0,
      step: 3,
      projections: 1,
      lastProjectionIteration: 3,
      epochSums: { loss: 6, hits: 4, seen: 24 },
      order: Uint32Array.from([2, 0, 1]),
      orderRngState: 5,
      augmentRngState: 6,
      firstLoss: 2.3,
      compact: null,
      tensors: [{ key: 'fc/bias', shape: [2], data: Float32Array.from([1, 2]) }],
      snapshotMs: 12,
    } satisfies Checkpoint;
    const { firstLoss: _f, compact: _c, ...rest } = v2;
    const v1 = decodeCheckpoint(encodeCheckpoint({ ...rest, version: 1 } as unknown as Checkpoint));
    expect(v1).toMatchObject({ version: 2, firstLoss: null, compact: null, iteration: 3, step: 3 });
    expect(Array.from(v1.order)).toEqual([2, 0, 1]);
    expect(Array.from(v1.tensors[0].data)).toEqual([1, 2]);
    // The snapshot's cost is not part of the state: it is not stored.
    const bytes = encodeCheckpoint(v2);
    checkCheckpointBytes(bytes);
    expect(decodeCheckpoint(bytes)).toMatchObject({ firstLoss: 2.3, snapshotMs: 0 });
    expect(() => checkCheckpointBytes(bytes.subarray(0, bytes.length - 4))).toThrow(/expected \d+ bytes, got/);
    expect(() => decodeCheckpoint(encodeCheckpoint({ ...v2, version: 3 } as unknown as Checkpoint))).toThrow(/unsupported version 3/);
  });

  it('rejects damaged checkpoint bytes with a clear message', () => {
    expect(() => decodeCheckpoint(new Uint8Array([1, 2, 3]))).toThrow(/not a valid LRPET checkpoint/);
    expect(() => decodeCheckpoint(new Uint8Array(64))).toThrow(/wrong magic/);
    expect(() => checkCheckpointBytes(new Uint8Array(64))).toThrow(/wrong magic/);
  });
});
