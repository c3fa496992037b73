import { useMemo, useState } from 'react';
import { CartesianGrid, LineChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { axisProps, ChartCard, COLORS, Segmented, Sized, wholeXAxis, xRange } from '../charts/common';
import { staggered } from '../stagger';
import { energySeries, type EnergyAxis } from './energyData';
import { commonLayers, projectedRuns } from './runs';
import { runKey, type CompareRun } from './types';
import { useMeanOrLayer } from './useMeanOrLayer';

const H = 220;

export const CompareEnergy = staggered(function CompareEnergy({ runs }: { runs: CompareRun[] }) {
  const [axis, setAxis] = useState<EnergyAxis>('iteration');
  const { layer, picker } = useMeanOrLayer(useMemo(() => commonLayers(runs), [runs]), 'mean of layers');
  const data = useMemo(() => energySeries(runs, layer, axis), [runs, layer, axis]);
  const without = runs.length - projectedRuns(runs).length;
  const tools = (
    <>
      {picker}{' '}
      <Segmented
        label="x axis"
        value={axis}
        options={[
          { value: 'iteration', label: 'by iteration' },
          { value: 'projection', label: 'by projection #' },
        ]}
        onChange={setAxis}
      />
    </>
  );
  return (
    <ChartCard
      title="Energy kept"
      testId="compare-chart-energy"
      tools={tools}
      caption={
        <>
          Share of the energy (Σσ²) in the kept singular values just before each projection, {layer === null ? 'averaged over each run’s projected layers' : `of ${layer}`}.
          {without ? ` ${without} run${without > 1 ? 's' : ''} without projections ${without > 1 ? 'are' : 'is'} not drawn.` : ''}
        </>
      }
    >
      <Sized height={H} overlay={data.length ? null : 'No run has made a projection yet.'}>
        {(w) => (
          <LineChart width={w} height={H} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={COLORS.grid} />
            <XAxis dataKey="x" {...wholeXAxis(xRange(data, 'x', 'min', [0, 10]), w)} />
            <YAxis domain={data.length ? [(lo: number) => Math.max(0, Math.floor(lo * 10) / 10), 1] : [0.5, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} {...axisProps} width={44} />
            <Tooltip
              formatter={(v) => (typeof v === 'number' ? `${(v * 100).toFixed(2)}%` : String(v))}
              labelFormatter={(l) => (axis === 'iteration' ? `iteration ${l}` : `projection #${l}`)}
              isAnimationActive={false}
            />
            {runs.map((r, i) => (
              <Line
                key={runKey(i)}
                dataKey={runKey(i)}
                name={r.name}
                stroke={r.color}
                strokeWidth={2}
                dot={data.length < 60 ? { r: 2, fill: r.color, stroke: r.color } : false}
                connectNulls
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        )}
      </Sized>
    </ChartCard>
  );
});
