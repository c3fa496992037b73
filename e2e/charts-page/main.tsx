/**
 * The page's time-axis charts, laid out as in the playground (330 px settings column, the charts'
 * grid), fed a synthetic run of `?max=N` iterations whose training loss falls from `?loss=HI,LO`
 * (default 2.3 to 0.4) — for checking axis labels at any run length and value range without training
 * (e2e/ux.spec.ts).
 */
import { createRoot } from 'react-dom/client';
import type { EpochEvent } from '../../src/engine/events';
import { EnergyChart } from '../../src/ui/charts/Energy';
import { AccuracyChart, LossChart } from '../../src/ui/charts/LossAccuracy';
import { PerfChart } from '../../src/ui/charts/Perf';
import { ScheduleChart } from '../../src/ui/charts/Schedule';
import type { ProjectionSummary, StepPoint } from '../../src/ui/state/store';
import '../../src/ui/styles.css';

const params = new URLSearchParams(location.search);
const max = Number(params.get('max') ?? 100);
const [lossHi, lossLo] = (params.get('loss') ?? '2.3,0.4').split(',').map(Number);
const lossAt = (t: number) => lossHi - (lossHi - lossLo) * t;
const points = Math.min(max, 300);
const steps: StepPoint[] = Array.from({ length: points }, (_, i) => {
  const iteration = Math.round(((i + 1) * max) / points);
  const t = iteration / max;
  return {
    iteration,
    epoch: Math.floor(t * 10),
    // Per-step losses scatter around the smoothed curve, as a real run's do.
    loss: lossAt(t) * (1 + 0.08 * Math.sin(i * 7.3)),
    accuracy: 0.1 + 0.8 * t,
    lossSmooth: lossAt(t),
    accuracySmooth: 0.1 + 0.8 * t,
    lr: t < 0.5 ? 0.1 : t < 0.75 ? 0.01 : 0.001,
    imagesPerSec: 900 + 100 * Math.sin(i),
    stepMs: 140,
    numTensors: 212,
  };
});
const every = Math.max(1, Math.round(max / 10));
const epochs = Array.from({ length: Math.floor(max / every) }, (_, e) => ({
  type: 'epoch',
  time: 0,
  epoch: e,
  iteration: (e + 1) * every,
  trainLoss: 1,
  trainAccuracy: 0.5,
  testLoss: lossAt(Math.min(1, (e + 1) / 10)) + 0.05,
  testAccuracy: 0.2 + e * 0.07,
  afterProjection: true,
  epochMs: 1000,
  numTensors: 212,
})) as EpochEvent[];
const projections: ProjectionSummary[] = epochs.map((e, i) => ({
  index: i + 1,
  iteration: e.iteration,
  epoch: e.epoch,
  projectionMs: 120,
  testAccuracy: e.testAccuracy,
  energyKeptBefore: [0.8 + 0.02 * i, 0.7 + 0.025 * i],
  alpha: [1.2 - 0.02 * i, 1.3 - 0.025 * i],
  ranks: [4, 8],
}));
const lastIteration = steps.at(-1)!.iteration;

createRoot(document.getElementById('root')!).render(
  <main className="layout">
    <aside className="side" style={{ height: 400 }} />
    <section className="board">
      <div className="grid">
        <LossChart steps={steps} epochs={epochs} compact={null} markers={[]} lastIteration={lastIteration} />
        <AccuracyChart steps={steps} epochs={epochs} compact={null} markers={[]} lastIteration={lastIteration} />
        <EnergyChart projections={projections} layerNames={['a', 'b']} layer="a" markers={[]} />
        <ScheduleChart steps={steps} projections={projections} markers={[]} />
        <PerfChart steps={steps} projections={projections} released={null} />
      </div>
    </section>
  </main>,
);
