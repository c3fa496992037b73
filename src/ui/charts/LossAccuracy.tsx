import { useMemo } from 'react';
import { CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import type { CompactEvent, EpochEvent } from '../../engine/events';
import { fmtNum } from '../state/format';
import type { Marker, StepPoint } from '../state/store';
import { staggered } from '../stagger';
import { mergeByX } from './merge';
import { axisProps, ChartCard, COLORS, HtmlLegend, markerLines, Sized, valueYAxis, wholeXAxis, xRange } from './common';

interface Props {
  steps: StepPoint[];
  epochs: EpochEvent[];
  compact: CompactEvent | null;
  markers: Marker[];
  lastIteration: number;
}

const H = 210;

function Chart({ steps, epochs, compact, markers, lastIteration, metric }: Props & { metric: 'loss' | 'accuracy' }) {
  const acc = metric === 'accuracy';
  const train = useMemo(() => steps.map((s) => ({ x: s.iteration, raw: acc ? s.accuracy : s.loss, smooth: acc ? s.accuracySmooth : s.lossSmooth })), [steps, acc]);
  const test = useMemo(() => epochs.map((e) => ({ x: e.iteration, y: acc ? e.testAccuracy : e.testLoss })), [epochs, acc]);
  const data = useMemo(
    () => mergeByX(train, test.map((t) => ({ x: t.x, test: t.y })), compact ? [{ x: lastIteration, compact: acc ? compact.testAccuracy : compact.testLoss }] : []),
    [train, test, compact, lastIteration, acc],
  );
  const fmt = (v: number) => (acc ? `${(v * 100).toFixed(0)}%` : fmtNum(v));
  return (
    <>
      <Sized height={H} overlay={train.length ? null : `Press Start: the training ${metric} appears here after the first step.`}>
        {(w) => (
          <ComposedChart width={w} height={H} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={COLORS.grid} />
            <XAxis dataKey="x" {...wholeXAxis(xRange(data, 'x', 0, [0, 10]), w)} />
            {acc ? <YAxis {...axisProps} width={44} domain={[0, 1]} tickFormatter={fmt} /> : <YAxis {...valueYAxis(data, ['raw', 'smooth', 'test', 'compact'], H, [0, 2.5])} width={44} />}
            <Tooltip formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} labelFormatter={(l) => `iteration ${l}`} isAnimationActive={false} />
            <Line dataKey="raw" name="train (per step)" stroke={COLORS.trainFaint} dot={false} strokeWidth={1} isAnimationActive={false} connectNulls />
            <Line dataKey="smooth" name="train (smoothed)" stroke={COLORS.train} dot={false} strokeWidth={2} isAnimationActive={false} connectNulls />
            <Line dataKey="test" name="test (projected net)" stroke={COLORS.test} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} connectNulls />
            <Line dataKey="compact" name="compact model" stroke="none" dot={{ r: 5, fill: COLORS.compact, stroke: COLORS.compact }} isAnimationActive={false} legendType="none" />
            {markerLines(markers)}
          </ComposedChart>
        )}
      </Sized>
      <HtmlLegend
        items={[
          { label: 'train (per step)', color: COLORS.trainFaint, kind: 'faint' },
          { label: 'train (smoothed)', color: COLORS.train },
          { label: 'test, projected net', color: COLORS.test },
          ...(compact ? [{ label: 'compact model', color: COLORS.compact, kind: 'dot' as const }] : []),
        ]}
      />
    </>
  );
}

export const LossChart = staggered(function LossChart(p: Props) {
  return (
    <ChartCard title="Loss" testId="chart-loss" caption="Cross-entropy: training loss per step (faint) and smoothed, test loss at the end of each epoch on the projected network; the green dot is the compact model.">
      <Chart {...p} metric="loss" />
    </ChartCard>
  );
});

export const AccuracyChart = staggered(function AccuracyChart(p: Props) {
  return (
    <ChartCard title="Accuracy" testId="chart-accuracy" caption="Top-1 accuracy: training batches (smoothed) and the test set after each projection; dashed lines mark settings changed during the run.">
      <Chart {...p} metric="accuracy" />
    </ChartCard>
  );
});
