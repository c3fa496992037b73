import type * as tfType from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf } from '../node/webgpu-node';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import type { EngineEvent, StepEvent } from './events';
import { createRun } from './run';
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

  it('rejects damaged checkpoint bytes with a clear message', () => {
    expect(() => decodeCheckpoint(new Uint8Array([1, 2, 3]))).toThrow(/not a valid LRPET checkpoint/);
    expect(() => decodeCheckpoint(new Uint8Array(64))).toThrow(/wrong magic/);
  });
});
