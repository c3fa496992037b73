import { useMemo } from 'react';
import { CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { fmtNum } from '../state/format';
import type { ProjectionSummary, StepPoint } from '../state/store';
import { staggered } from '../stagger';
import { mergeByX } from './merge';
import { axisProps, ChartCard, COLORS, HtmlLegend, Sized, wholeXAxis, xRange } from './common';

export const PerfChart = staggered(function PerfChart({ steps, projections, released }: { steps: StepPoint[]; projections: ProjectionSummary[]; released: { numTensors: number } | null }) {
  const data = useMemo(() => steps.map((s) => ({ x: s.iteration, ips: s.imagesPerSec, ms: s.stepMs, tensors: s.numTensors })), [steps]);
  const rows = useMemo(() => mergeByX(data, projections.map((p) => ({ x: p.iteration, projMs: p.projectionMs }))), [data, projections]);
  const last = steps[steps.length - 1];
  const lastProj = projections[projections.length - 1];
  return (
    <ChartCard
      title="Speed and memory"
      testId="chart-perf"
      caption="Training throughput (images/s), time per step and per projection (SVD of every layer, in float64 on the CPU), and how many tensors tfjs holds — flat means nothing leaks."
    >
      {(
        <>
          <div className="chart-stats">
            {last ? (
              <>
                {fmtNum(last.imagesPerSec)} img/s · step {fmtNum(last.stepMs)} ms{lastProj ? ` · projection ${fmtNum(lastProj.projectionMs)} ms` : ''} · <span data-testid="tensor-count">{last.numTensors} tensors</span>
              </>
            ) : (
              '\u00a0'
            )}
            {released ? <span data-testid="released"> · after the run: {released.numTensors} tensors left</span> : null}
          </div>
          <Sized height={180} overlay={data.length ? null : 'Throughput and timings appear with the first step.'}>
            {(w) => (
            <ComposedChart width={w} height={180} data={rows} margin={{ top: 8, right: 4, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={COLORS.grid} />
              <XAxis dataKey="x" {...wholeXAxis(xRange(rows, 'x', 0, [0, 10]), w)} />
              <YAxis yAxisId="ips" domain={data.length ? [0, 'auto'] : [0, 10]} tickFormatter={(v: number) => fmtNum(v, 2)} {...axisProps} width={44} />
              <YAxis yAxisId="ms" orientation="right" domain={data.length ? [0, 'auto'] : [0, 1000]} tickFormatter={(v: number) => fmtNum(v, 2)} {...axisProps} width={44} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? fmtNum(v) : String(v))} labelFormatter={(l) => `iteration ${l}`} isAnimationActive={false} />
              <Line yAxisId="ips" dataKey="ips" name="images/s" stroke={COLORS.test} dot={false} strokeWidth={2} isAnimationActive={false} connectNulls />
              <Line yAxisId="ms" dataKey="ms" name="step ms" stroke={COLORS.train} dot={false} strokeWidth={1.5} isAnimationActive={false} connectNulls />
              <Line yAxisId="ms" dataKey="projMs" name="projection ms" stroke="none" dot={{ r: 3, fill: COLORS.projection, stroke: COLORS.projection }} isAnimationActive={false} />
            </ComposedChart>
            )}
          </Sized>
          <HtmlLegend
            items={[
              { label: 'images/s (left)', color: COLORS.test },
              { label: 'step ms (right)', color: COLORS.train },
              { label: 'projection ms (right)', color: COLORS.projection, kind: 'dot' },
            ]}
          />
        </>
      )}
    </ChartCard>
  );
});
