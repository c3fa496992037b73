import { useId, useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import { axisProps, ChartCard, COLORS, LayerSelect, Sized, wholeXAxis, xRange } from '../charts/common';
import { fmtNum, fmtPct } from '../state/format';
import { staggered } from '../stagger';
import { commonLayers } from './runs';
import { commonProjectionIndices, spectrumAt } from './spectrumData';
import { runKey, type CompareRun } from './types';

const H = 210;

/** The latest of `indices` not after `wanted` (null wanted: the latest of all). */
function pickIndex(indices: number[], wanted: number | null): number | null {
  if (!indices.length) return null;
  if (wanted === null) return indices[indices.length - 1];
  let at = indices[0];
  for (const i of indices) if (i <= wanted) at = i;
  return at;
}

export const CompareSpectrum = staggered(function CompareSpectrum({ runs }: { runs: CompareRun[] }) {
  const [picked, setPicked] = useState<string | null>(null);
  /** Wanted projection index; null follows the latest one all runs have. */
  const [wanted, setWanted] = useState<number | null>(null);
  const sliderId = useId();
  const layers = useMemo(() => commonLayers(runs), [runs]);
  const layer = picked !== null && layers.includes(picked) ? picked : (layers[0] ?? null);
  const indices = useMemo(() => (layer === null ? [] : commonProjectionIndices(runs, layer)), [runs, layer]);
  const index = pickIndex(indices, wanted);
  const spec = useMemo(() => (layer === null || index === null ? null : spectrumAt(runs, layer, index)), [runs, layer, index]);
  const pos = index === null ? 0 : indices.indexOf(index);

  const tools = layers.length ? <LayerSelect layers={layers} value={layer ?? ''} onChange={setPicked} /> : null;

  return (
    <ChartCard
      title="Singular-value spectrum"
      testId="compare-chart-spectrum"
      tools={tools}
      caption="σᵢ of the same layer before the same projection in each run (log scale); a dashed line in the run’s colour marks its rank cut (values right of it are removed). Only projections every run has can be chosen."
    >
      <div className="chart-stats compare-cuts" data-testid="compare-cuts">
        {spec
          ? spec.cuts.map((c, i) => {
              const r = runs[i];
              return (
                <span key={`${i}:${r.id}`} style={{ color: r.color }}>
                  {r.name}: {c ? `r = ${c.rank} of ${c.n} · kept ${fmtPct(c.energyKeptBefore)} · it ${c.iteration}${c.skipped ? ' · skipped' : ''}` : 'no projection'}
                </span>
              );
            })
          : '\u00a0'}
      </div>
      <Sized height={H} overlay={spec ? null : 'Appears when the runs have a projection in common.'}>
        {(w) => (
          <LineChart width={w} height={H} data={spec?.rows ?? []} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={COLORS.grid} />
            <XAxis dataKey="i" {...wholeXAxis(xRange(spec?.rows ?? [], 'i', 1, [1, 16]), w)} />
            <YAxis scale="log" domain={spec ? ['auto', 'auto'] : [0.01, 10]} allowDataOverflow {...axisProps} width={48} tickFormatter={(v: number) => fmtNum(v, 2)} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? fmtNum(v, 4) : String(v))} labelFormatter={(l) => `σ${l}`} isAnimationActive={false} />
            {spec?.cuts.map((c, i) =>
              c ? <ReferenceLine key={`cut${i}`} x={c.rank + 0.5} stroke={runs[i].color} strokeWidth={1.5} strokeDasharray="5 3" ifOverflow="hidden" /> : null,
            )}
            {runs.map((r, i) => (
              <Line key={runKey(i)} dataKey={runKey(i)} name={r.name} stroke={r.color} strokeWidth={2} dot={false} isAnimationActive={false} />
            ))}
          </LineChart>
        )}
      </Sized>
      {indices.length ? (
        <div className="scrubber">
          <label htmlFor={sliderId}>Projection</label>
          <input
            id={sliderId}
            type="range"
            min={0}
            max={indices.length - 1}
            step={1}
            value={pos}
            disabled={indices.length < 2}
            onChange={(e) => {
              const k = Number(e.target.value);
              setWanted(k >= indices.length - 1 ? null : indices[k]);
            }}
          />
          <output htmlFor={sliderId}>
            #{index}
            {wanted === null ? ' (latest in common)' : ''}
          </output>
        </div>
      ) : (
        <div className="scrubber-space" />
      )}
    </ChartCard>
  );
});
