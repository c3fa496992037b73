/**
 * The page's time-axis charts, laid out as in the playground (330 px settings column, the charts'
 * grid), fed a synthetic run of `?max=N` iterations — for checking axis labels at any run length
 * without training (e2e/ux.spec.ts).
 */
import { createRoot } from 'react-dom/client';
import type { EpochEvent } from '../../src/engine/events';
import { EnergyChart } from '../../src/ui/charts/Energy';
import { AccuracyChart, LossChart } from '../../src/ui/charts/LossAccuracy';
import { PerfChart } from '../../src/ui/charts/Perf';
import { ScheduleChart } from '../../src/ui/charts/Schedule';
import type { ProjectionSummary, StepPoint } from '../../src/ui/state/store';
import '../../src/ui/styles.css';

const max = Number(new URLSearchParams(location.search).get('max') ?? 100);
const points = Math.min(max, 300);
const steps: StepPoint[] = Array.from({ length: points }, (_, i) => {
  const iteration = Math.round(((i + 1) * max) / points);
  const t = iteration / max;
  return {
    iteration,
    epoch: Math.floor(t * 10),
    loss: 2.3 - 1.9 * t,
    accuracy: 0.1 + 0.8 * t,
    lossSmooth: 2.3 - 1.9 * t,
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
  testLoss: 2 - e * 0.15,
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
