import { useMemo, useState } from 'react';
import { CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { axisProps, ChartCard, COLORS, Segmented, Sized, valueYAxis, wholeXAxis, xRange } from '../charts/common';
import { fmtNum } from '../state/format';
import { staggered } from '../stagger';
import { accuracySeries, compactKey, lossSeries } from './lossData';
import { runKey, type CompareRun } from './types';

type Metric = 'loss' | 'accuracy';
const H = 230;
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

export const CompareLoss = staggered(function CompareLoss({ runs }: { runs: CompareRun[] }) {
  const [metric, setMetric] = useState<Metric>('loss');
  const acc = metric === 'accuracy';
  const data = useMemo(() => (acc ? accuracySeries(runs) : lossSeries(runs)), [runs, acc]);
  const fmt = acc ? pct : (v: number) => fmtNum(v);
  const tools = (
    <Segmented
      label="Chart shows"
      value={metric}
      options={[
        { value: 'loss', label: 'training loss' },
        { value: 'accuracy', label: 'test accuracy' },
      ]}
      onChange={setMetric}
    />
  );
  return (
    <ChartCard
      title={acc ? 'Test accuracy' : 'Training loss'}
      testId="compare-chart-loss"
      tools={tools}
      wide
      caption={
        acc
          ? 'Test accuracy at the end of each epoch, placed at that epoch’s last iteration; the larger ringed dot is the compact model, at the run’s end.'
          : 'Training loss per iteration, smoothed the same way as on the run page; long runs are drawn from evenly spaced averages.'
      }
    >
      <Sized height={H} overlay={data.length ? null : acc ? 'No run has finished an epoch yet.' : 'No run has trained a step yet.'}>
        {(w) => (
          <ComposedChart width={w} height={H} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={COLORS.grid} />
            <XAxis dataKey="x" {...wholeXAxis(xRange(data, 'x', 0, [0, 10]), w)} />
            {acc ? (
              <YAxis {...axisProps} width={44} domain={[(lo: number) => Math.max(0, Math.floor(lo * 10) / 10), (hi: number) => Math.min(1, Math.ceil(hi * 10) / 10)]} tickFormatter={fmt} />
            ) : (
              <YAxis {...valueYAxis(data, runs.map((_, i) => runKey(i)), H, [0, 2.5])} width={44} />
            )}
            <Tooltip formatter={(v) => (typeof v === 'number' ? fmt(v) : String(v))} labelFormatter={(l) => `iteration ${l}`} isAnimationActive={false} />
            {runs.map((r, i) => (
              <Line
                key={runKey(i)}
                dataKey={runKey(i)}
                name={r.name}
                stroke={r.color}
                strokeWidth={2}
                dot={acc ? { r: 2.5, fill: r.color, stroke: r.color } : false}
                connectNulls
                isAnimationActive={false}
              />
            ))}
            {acc
              ? runs.map((r, i) =>
                  r.state.compact ? (
                    <Line
                      key={compactKey(i)}
                      dataKey={compactKey(i)}
                      name={`${r.name}: compact model`}
                      stroke="none"
                      dot={{ r: 5, fill: r.color, stroke: '#fff', strokeWidth: 2 }}
                      legendType="none"
                      isAnimationActive={false}
                    />
                  ) : null,
                )
              : null}
          </ComposedChart>
        )}
      </Sized>
    </ChartCard>
  );
});
