import { useMemo, useState } from 'react';
import { LineChart, Line } from 'recharts';
import { gradFrame } from '../charts/GradFlow';
import { ChartCard, Segmented, Sized } from '../charts/common';
import { jumpText, METRIC_OPTIONS, type GradMetric } from '../state/gradients';
import { staggered } from '../stagger';
import { commonGradLayers, gradSeries, runJumps } from './gradData';
import { runKey, type CompareRun } from './types';
import { useMeanOrLayer } from './useMeanOrLayer';

const H = 220;

export const CompareGradients = staggered(function CompareGradients({ runs }: { runs: CompareRun[] }) {
  const [metric, setMetric] = useState<GradMetric>('ratio');
  const { layer, picker } = useMeanOrLayer(useMemo(() => commonGradLayers(runs), [runs]), 'geometric mean of layers');
  const data = useMemo(() => gradSeries(runs, layer, metric), [runs, layer, metric]);
  const jumps = useMemo(() => runJumps(runs, layer, metric), [runs, layer, metric]);
  const label = METRIC_OPTIONS.find((o) => o.value === metric)!.label;
  const tools = (
    <>
      {picker}{' '}
      <Segmented label="Gradient chart shows" value={metric} options={METRIC_OPTIONS} onChange={setMetric} />
    </>
  );
  return (
    <ChartCard
      title="Gradient flow"
      testId="compare-chart-gradients"
      tools={tools}
      caption={
        <>
          {label} of the loss gradient at each recorded step (log scale), {layer === null ? 'geometric mean over each run’s layers' : `of ${layer}`}. Above: how much a projection
          changes it, from the step right before each projection to the one right after (×1: not at all). The paper argues that projection pushes gradients towards
          vanishing and energy transfer eases it: compare runs with and without energy transfer. Behind BatchNorm, shrinking weights make ‖∇W‖/‖W‖ jump up rather than
          vanish (README).
        </>
      }
    >
      <div className="chart-stats compare-cuts" data-testid="compare-grad-jumps">
        {runs.map((r, i) => (
          <span key={`${i}:${r.id}`} style={{ color: r.color }}>
            {r.name}: {jumps[i].count ? `${jumpText(jumps[i].factor)} across ${jumps[i].count} projection${jumps[i].count > 1 ? 's' : ''}` : 'no projection recorded'}
          </span>
        ))}
      </div>
      <Sized height={H} overlay={data.length ? null : 'No run has recorded gradient norms yet.'}>
        {(w) => (
          <LineChart width={w} height={H} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            {gradFrame(data, w)}
            {runs.map((r, i) => (
              <Line key={runKey(i)} dataKey={runKey(i)} name={r.name} stroke={r.color} strokeWidth={1.5} dot={false} connectNulls isAnimationActive={false} />
            ))}
          </LineChart>
        )}
      </Sized>
    </ChartCard>
  );
});
