import { splitBatch } from './worker-batch';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../engine/config';
import type { EngineEvent, GradNormsEvent, LayerProjection, ProjectionEvent, StepEvent } from '../../engine/events';
import { planModel } from '../../engine/plan';
import type { WorkerMessage } from '../../worker/protocol';
import { initialRunState, MAX_GRAD_NORMS, MAX_SPECTRA, MAX_STEP_POINTS, runReducer, stepPoints, type RunState } from './store';

const plan = planModel('resnet8-tiny', { prune: 0.5, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
const projected = plan.layers.filter((l) => l.projected);

const runStart: EngineEvent = {
  type: 'runStart',
  time: 0,
  resumedFrom: null,
  config: parseRunConfig({ model: 'resnet8-tiny', epochs: 2 }),
  prune: 0.5,
  backend: 'webgpu',
  trainSize: 64,
  testSize: 50,
  stepsPerEpoch: 4,
  layers: plan.layers,
  macsDense: plan.macsDense,
  macsCompact: plan.macsCompact,
  paramsDense: plan.paramsDense,
  paramsCompact: plan.paramsCompact,
};

const step = (iteration: number, loss = 2.3): StepEvent => ({
  type: 'step',
  time: iteration,
  iteration,
  epoch: 0,
  loss,
  accuracy: 0.1,
  lr: 0.05,
  imagesPerSec: 10,
  stepMs: 100,
  numTensors: 60,
});

const projection = (index: number, iteration: number): ProjectionEvent => ({
  type: 'projection',
  time: iteration,
  index,
  iteration,
  epoch: 0,
  projectionMs: 5,
  testAccuracy: null,
  layers: projected.map(
    (l, i): LayerProjection => ({
      name: l.name,
      shape: l.shape,
      rank: l.rank,
      sigmaBefore: Array.from({ length: l.n }, (_, k) => 1 / (k + 1)),
      sigmaAfter: Array.from({ length: l.n }, (_, k) => (k < l.rank ? 1.1 / (k + 1) : 0)),
      energyKeptBefore: 0.9 + i * 0.01,
      energyKeptAfter: 1,
      alpha: 1.1,
      skipped: false,
    }),
  ),
});

const events = (...e: EngineEvent[]): WorkerMessage[] => e.map((event) => ({ kind: 'event', event }));
const apply = (s: RunState, ...m: WorkerMessage[]) => runReducer(s, { type: 'batch', parts: splitBatch(m), at: 1 });

describe('run store (reducer over the engine event stream)', () => {
  it('follows a run: start, steps, projections, a live change, the compact model, the end', () => {
    let s = runReducer(initialRunState(), { type: 'starting', at: 0 });
    expect(s.phase).toBe('loading');
    s = apply(s, { kind: 'progress', progress: { label: 'loading test_batch.bin', loaded: 1, total: 2 } });
    expect(s.progress?.label).toContain('test_batch');
    s = apply(s, ...events(runStart, { type: 'state', time: 0, state: 'running', iteration: 0, epoch: 0 }, step(1), step(2, 2.1), projection(1, 2)));
    expect(s.phase).toBe('running');
    expect(s.progress).toBeNull();
    expect(s.layerNames).toEqual(projected.map((l) => l.name));
    expect(stepPoints(s).map((p) => p.iteration)).toEqual([1, 2]);
    expect(stepPoints(s)[1].lossSmooth).toBeGreaterThan(2.1); // smoothed lags behind
    expect(s.projections).toHaveLength(1);
    expect(s.projections[0].energyKeptBefore).toHaveLength(projected.length);
    expect(s.spectra).toHaveLength(1);

    const layers = plan.layers.map((l) => ({ ...l, rank: l.projected ? 1 : l.rank }));
    s = apply(s, ...events({ type: 'configChange', time: 3, iteration: 2, epoch: 0, changes: { prune: 0.75, lr: 0.01 }, config: parseRunConfig({ model: 'resnet8-tiny', epochs: 2, lr: 0.01, lrpet: { prune: 0.75 } }), layers }));
    expect(s.markers).toEqual([{ iteration: 2, label: 'p 0.75, lr 0.01' }]); // in the settings table's order
    expect(s.layers).toBe(layers);

    s = apply(s, ...events({ type: 'state', time: 4, state: 'paused', iteration: 2, epoch: 0 }));
    expect(s.phase).toBe('paused');
    s = runReducer(s, { type: 'stopping' });
    expect(s.phase).toBe('stopping');
    s = apply(
      s,
      ...events(
        {
          type: 'compact',
          time: 5,
          testAccuracy: 0.12,
          testLoss: 2.2,
          denseTestAccuracy: 0.12,
          layers: [],
          macsDense: 1,
          macsCompact: 0.5,
          paramsDense: 1,
          paramsCompact: 0.5,
        },
        { type: 'state', time: 6, state: 'stopped', iteration: 2, epoch: 0 },
      ),
      { kind: 'exports', compact: true, projected: true, pytorch: { compact: true, projected: true } },
      { kind: 'released', numTensors: 0, numBytes: 0 },
    );
    expect(s.phase).toBe('stopped');
    expect(s.compact?.testAccuracy).toBe(0.12);
    expect(s.exports).toEqual({ compact: true, projected: true, pytorch: { compact: true, projected: true } });
    expect(s.released?.numTensors).toBe(0);
    s = runReducer(s, { type: 'ended', ended: 'stopped' });
    expect(s.phase).toBe('stopped');
    expect(s.eventCount).toBe(9);
  });

  it('keeps gradient-norm events, with the names of all layers (dense ones too) in their order', () => {
    const g: GradNormsEvent = { type: 'gradNorms', time: 3, iteration: 3, epoch: 0, reasons: ['sample'], grad: plan.layers.map(() => 1), ratio: plan.layers.map(() => 0.1) };
    const s = apply(runReducer(initialRunState(), { type: 'starting', at: 0 }), ...events(runStart, step(3), g));
    expect(s.gradLayers).toEqual(plan.layers.map((l) => l.name));
    expect(s.gradLayers.at(-1)).toBe('fc');
    expect(s.layerNames).not.toContain('fc');
    expect(s.gradNorms).toEqual([g]);
  });

  it('stays bounded on long runs', () => {
    let s = apply(runReducer(initialRunState(), { type: 'starting', at: 0 }), ...events(runStart));
    const grads = (iteration: number): GradNormsEvent => ({ type: 'gradNorms', time: iteration, iteration, epoch: 0, reasons: ['sample'], grad: [1], ratio: [0.1] });
    for (let b = 0; b < 200; b++) {
      const batch: EngineEvent[] = [];
      for (let i = 1; i <= 50; i++) batch.push(step(b * 50 + i), grads(b * 50 + i));
      batch.push(projection(b + 1, (b + 1) * 50));
      s = apply(s, ...events(...batch));
    }
    expect(s.gradNorms.length).toBeLessThanOrEqual(MAX_GRAD_NORMS);
    expect(s.gradNorms.at(-1)!.iteration).toBe(10_000);
    expect(s.gradNorms[0].iteration).toBe(1);
    expect(stepPoints(s).length).toBeLessThanOrEqual(MAX_STEP_POINTS + 1);
    expect(stepPoints(s).at(-1)!.iteration).toBe(10_000);
    expect(s.spectra.length).toBeLessThanOrEqual(MAX_SPECTRA);
    expect(s.spectra.at(-1)!.index).toBe(200);
    expect(s.projections).toHaveLength(200);
  });

  it('says what it waits for: a progress message until an engine event after it, an activity until the next event', () => {
    const progress = (label: string): WorkerMessage => ({ kind: 'progress', progress: { label, loaded: 0, total: null } });
    const activity = (a: 'compiling' | 'building-compact', message: string): EngineEvent => ({ type: 'activity', time: 1, activity: a, message });
    let s = runReducer(initialRunState(), { type: 'starting', at: 0 });
    s = apply(s, progress('loading data_batch_1.bin'), progress('building resnet8-tiny'));
    expect(s.progress?.label).toBe('building resnet8-tiny');
    s = apply(s, ...events(runStart, { type: 'state', time: 0, state: 'running', iteration: 0, epoch: 0 }, activity('compiling', 'compiling GPU kernels (the first step)…')));
    expect([s.progress, s.activity?.message]).toEqual([null, 'compiling GPU kernels (the first step)…']);
    s = apply(s, ...events(step(1)));
    expect(s.activity).toBeNull();
    // The end: events, then the worker prepares the downloads — in one batch, in that order.
    s = apply(s, ...events(activity('building-compact', 'building the compact model…')));
    expect(s.activity?.activity).toBe('building-compact');
    s = apply(s, ...events({ type: 'state', time: 2, state: 'finished', iteration: 1, epoch: 0 }), progress('preparing the downloads (exporting the models)'));
    expect([s.activity, s.progress?.label]).toEqual([null, 'preparing the downloads (exporting the models)']);
    s = apply(s, { kind: 'exports', compact: true, projected: true, pytorch: { compact: true, projected: true } });
    expect(s.progress).toBeNull();
  });

  it('returns the same state for an empty batch, and records failures', () => {
    const s0 = initialRunState();
    expect(apply(s0)).toBe(s0);
    const f = runReducer(s0, { type: 'failed', message: 'data: test_batch.bin is truncated' });
    expect(f.phase).toBe('failed');
    expect(f.failure).toContain('truncated');
    const e = runReducer(s0, { type: 'ended', ended: 'error', message: 'the loss became NaN' });
    expect(e.phase).toBe('failed');
    expect(e.failure).toBe('the loss became NaN');
  });
});
