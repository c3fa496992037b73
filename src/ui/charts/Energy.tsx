import { useMemo } from 'react';
import { CartesianGrid, ComposedChart, Line, Tooltip, XAxis, YAxis } from 'recharts';
import { fmtNum } from '../state/format';
import type { Marker, ProjectionSummary } from '../state/store';
import { staggered } from '../stagger';
import { axisProps, ChartCard, COLORS, HtmlLegend, markerLines, Sized, wholeXAxis, xRange } from './common';

export const EnergyChart = staggered(function EnergyChart({ projections, layerNames, layer, markers }: { projections: ProjectionSummary[]; layerNames: string[]; layer: string | null; markers: Marker[] }) {
  const idx = Math.max(0, layer ? layerNames.indexOf(layer) : 0);
  const name = layerNames[idx];
  const data = useMemo(
    () =>
      projections.map((p) => {
        const e = p.energyKeptBefore.filter(Number.isFinite);
        const a = p.alpha.filter(Number.isFinite);
        return {
          x: p.iteration,
          layer: p.energyKeptBefore[idx],
          mean: e.reduce((s, v) => s + v, 0) / Math.max(1, e.length),
          min: e.length ? Math.min(...e) : NaN,
          alpha: p.alpha[idx],
          alphaMean: a.reduce((s, v) => s + v, 0) / Math.max(1, a.length),
        };
      }),
    [projections, idx],
  );
  return (
    <ChartCard
      title="Energy"
      testId="chart-energy"
      caption="Share of each layer's energy (Σσ²) in the singular values it keeps, measured just before each projection — it climbs as training learns to live in the low-rank space — and the transfer factor α = E/E_K that restores the norm (right axis)."
    >
      {(
        <>
        <Sized height={210} overlay={data.length ? null : 'One point per projection: the energy kept and α.'}>
          {(w) => (
          <ComposedChart width={w} height={210} data={data} margin={{ top: 8, right: 4, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={COLORS.grid} />
            <XAxis dataKey="x" {...wholeXAxis(xRange(data, 'x', 'min', [0, 10]), w)} />
            <YAxis yAxisId="e" domain={data.length ? [(lo: number) => Math.max(0, Math.floor(lo * 10) / 10), 1] : [0.5, 1]} tickFormatter={(v: number) => `${Math.round(v * 100)}%`} {...axisProps} width={44} />
            <YAxis yAxisId="a" orientation="right" domain={data.length ? [1, 'auto'] : [1, 2]} tickFormatter={(v: number) => fmtNum(v, 3)} {...axisProps} width={40} />
            <Tooltip
              formatter={(v, n) => (typeof v === 'number' ? (String(n).startsWith('α') ? fmtNum(v, 4) : `${(v * 100).toFixed(2)}%`) : String(v))}
              labelFormatter={(l) => `iteration ${l}`}
              isAnimationActive={false}
            />
            <Line yAxisId="e" dataKey="layer" name={`kept: ${name ?? 'layer'}`} stroke={COLORS.test} strokeWidth={2} dot={data.length < 60 ? { r: 2 } : false} isAnimationActive={false} />
            <Line yAxisId="e" dataKey="mean" name="kept: mean of layers" stroke={COLORS.min} strokeWidth={1.5} dot={false} isAnimationActive={false} />
            <Line yAxisId="e" dataKey="min" name="kept: lowest layer" stroke={COLORS.min} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
            <Line yAxisId="a" dataKey="alpha" name={`α: ${name ?? 'layer'}`} stroke={COLORS.alpha} strokeWidth={1.5} dot={false} isAnimationActive={false} />
            {markerLines(markers, 'e')}
          </ComposedChart>
          )}
        </Sized>
        <HtmlLegend
          items={[
            { label: `kept: ${name ?? 'layer'}`, color: COLORS.test },
            { label: 'kept: mean of layers', color: COLORS.min },
            { label: 'kept: lowest layer', color: COLORS.min, kind: 'dash' },
            { label: `α: ${name ?? 'layer'} (right)`, color: COLORS.alpha },
          ]}
        />
        </>
      )}
    </ChartCard>
  );
});
