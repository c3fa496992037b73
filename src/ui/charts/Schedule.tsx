import { useMemo } from 'react';
import { CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { fmtNum } from '../state/format';
import type { Marker, ProjectionSummary, StepPoint } from '../state/store';
import { staggered } from '../stagger';
import { mergeByX } from './merge';
import { axisProps, ChartCard, COLORS, HtmlLegend, markerLines, Sized, wholeXAxis, xRange } from './common';

export const ScheduleChart = staggered(function ScheduleChart({ steps, projections, markers }: { steps: StepPoint[]; projections: ProjectionSummary[]; markers: Marker[] }) {
  const lr = useMemo(() => steps.map((s) => ({ x: s.iteration, lr: s.lr })), [steps]);
  const data = useMemo(() => mergeByX(lr, projections.map((p) => ({ x: p.iteration, projection: 0.5 }))), [lr, projections]);
  return (
    <ChartCard
      title="Schedule"
      testId="chart-schedule"
      caption="Learning rate per step (line) and when each projection happened (red ticks); dashed lines mark settings changed during the run, which take effect at the next step or projection."
    >
      {(
        <>
        <Sized height={160} overlay={lr.length ? null : 'The learning rate and the projections show up once training runs.'}>
          {(w) => (
          <ComposedChart width={w} height={160} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={COLORS.grid} />
            <XAxis dataKey="x" {...wholeXAxis(xRange(data, 'x', 0, [0, 10]), w)} />
            <YAxis yAxisId="lr" domain={lr.length ? [0, 'auto'] : [0, 0.1]} tickFormatter={(v: number) => fmtNum(v, 2)} {...axisProps} width={44} />
            <YAxis yAxisId="p" hide domain={[0, 8]} />
            <Tooltip formatter={(v, n) => (n === 'projection' ? '' : typeof v === 'number' ? fmtNum(v, 4) : String(v))} labelFormatter={(l) => `iteration ${l}`} isAnimationActive={false} />
            <Line yAxisId="lr" dataKey="lr" name="learning rate" type="stepAfter" stroke={COLORS.lr} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
            <Line yAxisId="p" dataKey="projection" name="projection" stroke="none" dot={{ r: 3.5, fill: COLORS.projection, stroke: COLORS.projection }} isAnimationActive={false} />
            {markerLines(markers, 'lr')}
          </ComposedChart>
          )}
        </Sized>
        <HtmlLegend
          items={[
            { label: 'learning rate', color: COLORS.lr },
            { label: 'projection', color: COLORS.projection, kind: 'dot' },
            ...(markers.length ? [{ label: 'setting changed', color: COLORS.cut, kind: 'dash' as const }] : []),
          ]}
        />
        </>
      )}
    </ChartCard>
  );
});
