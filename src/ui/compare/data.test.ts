import { describe, expect, it } from 'vitest';
import type { InferenceEvent } from '../../engine/events';
import { stepPoints } from '../state/store';
import { energySeries, MAX_ENERGY_POINTS } from './energyData';
import { commonGradLayers, gradSeries, MAX_GRAD_POINTS, runJumps } from './gradData';
import { accuracySeries, compactKey, lossSeries } from './lossData';
import { palette } from './palette';
import { replayEvents } from './replay';
import { decimate } from '../state/series';
import { commonLayers, lastIteration } from './runs';
import { commonProjectionIndices, spectrumAt } from './spectrumData';
import { summaryRows } from './summary';
import { projectedLayers, syntheticRun, type SyntheticRun } from './test-events';
import { runKey, type CompareRun } from './types';

const run = (i: number, o: SyntheticRun, live = false): CompareRun => ({
  id: `run-${i}`,
  name: `Run ${i}`,
  legend: `variant ${i}`,
  color: palette(i),
  state: replayEvents(syntheticRun(o), { live }),
  live,
});

// A: 24 iterations, projection every 4, compact model built.  B: 12 iterations, projection every 2,
// cut off (no end event), different energies and losses.  C: dense (no projections), 16 iterations.
const A = run(0, { iterations: 24, stepsPerEpoch: 8, interval: 4, compact: { testAccuracy: 0.7 }, end: 'finished', testAccuracy: (e) => 0.5 + 0.05 * e, epochMs: 1500 });
const B = run(1, {
  iterations: 12,
  stepsPerEpoch: 4,
  interval: 2,
  end: null,
  loss: (it) => 3 - it / 10,
  energy: (k, j) => 0.5 + 0.01 * k + 0.02 * j,
  testAccuracy: (e) => 0.4 + 0.1 * e,
  epochMs: 700,
});
const C = run(2, { iterations: 16, stepsPerEpoch: 8, interval: null, end: 'finished', testAccuracy: (e) => 0.6 + 0.01 * e, epochMs: 2000 });
const runs = [A, B, C];
const names = projectedLayers.map((l) => l.name);

describe('lossSeries', () => {
  it('has one smoothed-loss column per run over the union of iterations, sorted by x', () => {
    const rows = lossSeries(runs);
    expect(rows.map((r) => r.x)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(rows.filter((r) => r[runKey(0)] != null)).toHaveLength(24);
    expect(rows.filter((r) => r[runKey(1)] != null)).toHaveLength(12);
    expect(rows.filter((r) => r[runKey(2)] != null)).toHaveLength(16);
    // Beyond B's last iteration B has no value (not a stale copy).
    expect(rows[12][runKey(1)]).toBeUndefined();
    // The values are the store's smoothed loss, not the raw one.
    expect(rows[5][runKey(1)]).toBe(stepPoints(B.state)[5].lossSmooth);
    expect(rows[5][runKey(1)]).not.toBe(3 - 6 / 10);
  });

  it('uses the decimated step points of long runs', () => {
    const long = run(3, { iterations: 5000, stepsPerEpoch: 1000, interval: null, end: 'finished' });
    const rows = lossSeries([long, B]);
    expect(rows.length).toBeLessThanOrEqual(300 + 12);
    expect(rows.at(-1)?.x).toBe(5000);
  });

  it('turns a NaN loss into a gap', () => {
    const bad = run(4, { iterations: 3, stepsPerEpoch: 3, interval: null, loss: () => Number.NaN });
    expect(lossSeries([bad]).map((r) => r[runKey(0)])).toEqual([null, null, null]);
  });
});

describe('accuracySeries', () => {
  it("puts each epoch's test accuracy at the epoch's iteration and the compact model at the run's end", () => {
    const rows = accuracySeries(runs);
    const at = (x: number) => rows.find((r) => r.x === x);
    expect(rows.map((r) => r.x)).toEqual([4, 8, 12, 16, 24]);
    expect(at(8)?.[runKey(0)]).toBeCloseTo(0.55);
    expect(at(8)?.[runKey(1)]).toBeCloseTo(0.6);
    expect(at(16)?.[runKey(2)]).toBeCloseTo(0.62);
    expect(at(24)?.[runKey(0)]).toBeCloseTo(0.65);
    expect(at(24)?.[compactKey(0)]).toBe(0.7);
    expect(rows.filter((r) => r[compactKey(1)] !== undefined || r[compactKey(2)] !== undefined)).toEqual([]);
  });
});

describe('commonLayers and energySeries', () => {
  it('ignores runs without projections when intersecting layer names', () => {
    expect(C.state.projections).toHaveLength(0);
    expect(commonLayers(runs)).toEqual(names);
    expect(commonLayers([C])).toEqual([]);
    const renamed: CompareRun = { ...B, state: { ...B.state, layerNames: names.slice(1) } };
    expect(commonLayers([A, renamed])).toEqual(names.slice(1));
  });

  it('gives the mean over layers per projection, at its iteration', () => {
    const rows = energySeries(runs, null);
    const a = rows.filter((r) => r[runKey(0)] != null);
    const b = rows.filter((r) => r[runKey(1)] != null);
    expect(a.map((r) => r.x)).toEqual([4, 8, 12, 16, 20, 24]);
    expect(b.map((r) => r.x)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(rows.some((r) => r[runKey(2)] !== undefined)).toBe(false);
    const meanJ = names.reduce((s, _n, j) => s + j, 0) / names.length;
    expect(a[1][runKey(0)]).toBeCloseTo(0.8 + 0.001 * 2 + 0.01 * meanJ, 10);
    expect(b[2][runKey(1)]).toBeCloseTo(0.5 + 0.01 * 3 + 0.02 * meanJ, 10);
  });

  it('gives one chosen layer, by projection index when asked, and nothing for a run without it', () => {
    const j = 2;
    const rows = energySeries(runs, names[j], 'projection');
    expect(rows.map((r) => r.x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows[3][runKey(0)]).toBeCloseTo(0.8 + 0.004 + 0.01 * j, 10);
    expect(rows[3][runKey(1)]).toBeCloseTo(0.5 + 0.04 + 0.02 * j, 10);
    expect(energySeries(runs, 'no-such-layer')).toEqual([]);
  });

  it('draws a bounded number of points per run, keeping the first and the last projection', () => {
    const many = run(5, { iterations: 1000, stepsPerEpoch: 500, interval: 1, end: 'finished' });
    const rows = energySeries([many], null);
    expect(rows).toHaveLength(MAX_ENERGY_POINTS);
    expect(rows[0].x).toBe(1);
    expect(rows.at(-1)?.x).toBe(1000);
    expect(decimate([1, 2, 3], 5)).toEqual([1, 2, 3]);
    expect(decimate([0, 1, 2, 3, 4, 5, 6, 7, 8], 3)).toEqual([0, 4, 8]);
  });
});

describe('commonProjectionIndices and spectrumAt', () => {
  const layer = names[1];

  it('offers only the projection indices every projecting run has', () => {
    expect(commonProjectionIndices(runs, layer)).toEqual([1, 2, 3, 4, 5, 6]);
    const short = run(6, { iterations: 8, stepsPerEpoch: 8, interval: 4, end: 'finished' });
    expect(commonProjectionIndices([A, short, C], layer)).toEqual([1, 2]);
    expect(commonProjectionIndices([C], layer)).toEqual([]);
    expect(commonProjectionIndices(runs, 'no-such-layer')).toEqual([]);
  });

  it("gives each run's σ before the projection and its rank cut; a dense run has none", () => {
    const spec = spectrumAt(runs, layer, 3);
    const l = projectedLayers[1];
    expect(spec.rows).toHaveLength(l.n);
    expect(spec.rows[0]).toEqual({ i: 1, [runKey(0)]: 2, [runKey(1)]: 2 });
    expect(spec.rows[4][runKey(0)]).toBeCloseTo(2 / (1 + 4 * 3), 12);
    expect(spec.cuts[0]).toEqual({ run: 0, rank: l.rank, n: l.n, iteration: 12, energyKeptBefore: 0.8 + 0.003 + 0.01, skipped: false });
    expect(spec.cuts[1]?.iteration).toBe(6);
    expect(spec.cuts[2]).toBeNull();
    // An index one run lacks: that run has no cut and no column.
    const late = spectrumAt(runs, layer, 1000);
    expect(late.cuts).toEqual([null, null, null]);
    expect(late.rows).toEqual([]);
  });

  it('leaves non-positive singular values out of the log-scale data', () => {
    const zeroed: CompareRun = {
      ...A,
      state: {
        ...A.state,
        spectra: A.state.spectra.map((p) => ({ ...p, layers: p.layers.map((x) => ({ ...x, sigmaBefore: x.sigmaBefore.map((v, i) => (i === 0 ? 0 : v)) })) })),
      },
    };
    expect(spectrumAt([zeroed], layer, 1).rows[0][runKey(0)]).toBeNull();
  });
});

describe('gradient-norm series', () => {
  // With energy transfer (projections leave the gradients as they were) and without (×1.5 after each), and a run that recorded none.
  const et = run(8, { iterations: 24, stepsPerEpoch: 8, interval: 4, grads: { every: 3, jump: 1 } });
  const noEt = run(9, { iterations: 24, stepsPerEpoch: 8, interval: 4, grads: { every: 3, jump: 1.5 } });
  const all = [et, noEt, A];
  const gradLayers = et.state.gradLayers;

  it('offers the layers of the runs that recorded gradients (dense layers included)', () => {
    expect(A.state.gradNorms).toEqual([]);
    expect(commonGradLayers(all)).toEqual(gradLayers);
    expect(gradLayers).toContain('fc');
    expect(commonGradLayers([A])).toEqual([]);
  });

  it("draws each run's records of one layer, or their geometric mean, at their iterations", () => {
    const j = gradLayers.indexOf('fc');
    const rows = gradSeries(all, 'fc', 'ratio');
    // Every 3rd step, each projection's step (4, 8, …) and the one after it.
    const expected = Array.from({ length: 24 }, (_, i) => i + 1).filter((it) => it % 3 === 0 || it % 4 === 0 || (it > 1 && it % 4 === 1));
    expect(rows.map((r) => r.x)).toEqual(expected);
    expect(rows.find((r) => r.x === 3)![runKey(0)]).toBeCloseTo(0.01 * (j + 1), 12);
    expect(rows.find((r) => r.x === 5)![runKey(1)]).toBeCloseTo(0.015 * (j + 1), 12);
    expect(rows.some((r) => r[runKey(2)] !== undefined)).toBe(false);
    const mean = gradSeries(all, null, 'grad');
    const geo = Math.exp(gradLayers.reduce((s, _n, k) => s + Math.log(0.1 * (k + 1)), 0) / gradLayers.length);
    expect(mean.find((r) => r.x === 3)![runKey(0)]).toBeCloseTo(geo, 10);
    expect(gradSeries(all, 'no-such-layer', 'ratio')).toEqual([]);
  });

  it('says by how much a projection changes the gradients in each run', () => {
    // Projections at 4, 8, …, 24: the last has no step after it.
    expect(runJumps(all, null, 'ratio')).toEqual([
      { factor: expect.closeTo(1, 10), count: 5 },
      { factor: expect.closeTo(1.5, 10), count: 5 },
      { factor: null, count: 0 },
    ]);
  });

  it('draws a bounded number of points per run', () => {
    const long = run(10, { iterations: 2000, stepsPerEpoch: 500, interval: 100, grads: { every: 1, jump: 2 } });
    const rows = gradSeries([long], 'fc', 'ratio');
    expect(rows).toHaveLength(MAX_GRAD_POINTS);
    expect(rows.at(-1)!.x).toBe(2000);
  });
});

describe('summaryRows', () => {
  it('reports accuracy, costs, time, iterations and status per run, and marks the best accuracy', () => {
    const [a, b, c] = summaryRows(runs);
    expect(a).toMatchObject({ id: 'run-0', name: 'Run 0', legend: 'variant 0', phase: 'finished', accuracy: 0.7, accuracySource: 'compact', timeMs: 4500, iterations: 24, best: false });
    expect(a.macs).toEqual({ value: A.state.compact!.macsCompact, dense: A.state.compact!.macsDense, compact: true });
    expect(a.macs!.value).toBeLessThan(a.macs!.dense);
    expect(a.params?.compact).toBe(true);
    // B was cut off: last epoch's accuracy (epoch 3 → 0.7 too, a tie with A's compact model), stopped.
    expect(b).toMatchObject({ phase: 'stopped', accuracySource: 'epoch', timeMs: 2100, iterations: 12 });
    expect(b.accuracy).toBeCloseTo(0.7);
    // C is dense: its dense costs, no reduction.
    expect(c.macs).toEqual({ value: C.state.start!.macsDense, dense: C.state.start!.macsDense, compact: false });
    expect(c.accuracy).toBeCloseTo(0.62);
    expect(c.best).toBe(false);
  });

  it('highlights the highest accuracy (ties all count), only when two or more runs have one', () => {
    const best = summaryRows([A, C]);
    expect(best.map((r) => r.best)).toEqual([true, false]);
    const tie = summaryRows([A, { ...A, id: 'copy' }]);
    expect(tie.map((r) => r.best)).toEqual([true, true]);
    expect(summaryRows([A])[0].best).toBe(false);
    const fresh = run(7, { iterations: 2, stepsPerEpoch: 8, interval: null }, true);
    const [f] = summaryRows([fresh, C]);
    expect(f).toMatchObject({ accuracy: null, accuracySource: null, timeMs: null, iterations: 2, phase: 'running', live: true, best: false });
    expect(summaryRows([fresh, C])[1].best).toBe(false);
  });

  it('shows the latest inference measurement: the speed-up at the largest batch timed, next to the MAC ratio', () => {
    expect(summaryRows([A])[0].inference).toBeNull();
    const timing = (medianMs: number, batch: number) => ({ samples: 3, medianMs, minMs: medianMs, maxMs: medianMs, q1Ms: medianMs, q3Ms: medianMs, imagesPerSec: (batch / medianMs) * 1000 });
    const measured = (time: number, speedup128: number): InferenceEvent => ({
      type: 'inference',
      time,
      backend: 'webgpu',
      device: null,
      denseSource: 'projected',
      warmup: 1,
      iterations: 3,
      macsDense: 200,
      macsCompact: 100,
      paramsDense: 20,
      paramsCompact: 10,
      macRatio: 2,
      paramRatio: 2,
      splitRanks: [4, 8],
      batches: [
        { batch: 128, dense: timing(100 * speedup128, 128), compact: timing(100, 128), speedup: speedup128 },
        { batch: 1, dense: timing(2, 1), compact: timing(2, 1), speedup: 1 },
      ],
    });
    const events = [...syntheticRun({ iterations: 8, stepsPerEpoch: 4, interval: 4, compact: { testAccuracy: 0.6 }, end: 'finished' }), measured(1, 1.2), measured(2, 1.5)];
    const [r] = summaryRows([{ ...A, state: replayEvents(events) }]);
    expect(r.inference).toEqual({ batch: 128, speedup: 1.5, macRatio: 2, backend: 'webgpu' });
  });

  it('lastIteration is 0 for an empty state', () => {
    expect(lastIteration(replayEvents([]))).toBe(0);
  });
});
