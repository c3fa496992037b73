import { useEffect, useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceArea, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { ProjectionEvent } from '../../engine/events';
import { fmtNum, fmtPct } from '../state/format';
import { staggered } from '../stagger';
import { axisProps, ChartCard, COLORS, HtmlLegend, LayerSelect, Sized, wholeXAxis, xRange } from './common';
import { MatrixImages, type LoadMatrixImages } from './MatrixImages';
import { scrubAt, scrubPosition, type Scrub } from '../state/scrub';

export interface ScrubProps {
  spectra: ProjectionEvent[];
  /** The projection shown (its number), or null = follow the latest. */
  scrub: Scrub;
  setScrub: (s: Scrub) => void;
}

/** The projection-history scrubber shared by the spectrum chart and the heat map. */
function Scrubber({ spectra, scrub, setScrub }: ScrubProps) {
  const [playing, setPlaying] = useState(false);
  const last = spectra.length - 1;
  const at = scrubPosition(spectra, scrub);
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => {
      setScrub(scrubAt(spectra, at + 1));
      if (at >= last) setPlaying(false);
    }, 350);
    return () => clearInterval(t);
  }, [playing, at, last, spectra, setScrub]);
  if (spectra.length < 1) return null;
  const p = spectra[at];
  return (
    <div className="scrubber">
      <button
        type="button"
        className="icon"
        aria-label={playing ? 'Pause replay' : 'Replay projections'}
        onClick={() => {
          if (!playing && at >= last) setScrub(scrubAt(spectra, 0));
          setPlaying(!playing);
        }}
      >
        {playing ? '❚❚' : '▶'}
      </button>
      <label htmlFor="projection-scrubber">Projection</label>
      <input
        id="projection-scrubber"
        type="range"
        min={0}
        max={Math.max(0, last)}
        step={1}
        value={at}
        onChange={(e) => {
          setPlaying(false);
          setScrub(scrubAt(spectra, Number(e.target.value)));
        }}
      />
      <output htmlFor="projection-scrubber">
        #{p.index} · it {p.iteration}
        {scrub === null ? ' (latest)' : ''}
      </output>
    </div>
  );
}

interface SpectrumProps extends ScrubProps {
  layerNames: string[];
  layer: string | null;
  setLayer: (name: string) => void;
  /** The layer's matrix images at a projection, from the worker. */
  loadMatrixImages: LoadMatrixImages;
}

export const SpectrumChart = staggered(function SpectrumChart({ spectra, scrub, setScrub, layerNames, layer, setLayer, loadMatrixImages }: SpectrumProps) {
  const at = scrubPosition(spectra, scrub);
  const name = layer ?? layerNames[0] ?? null;
  const proj = at >= 0 ? spectra[at] : null;
  const entry = proj?.layers.find((l) => l.name === name) ?? null;
  const first = spectra[0]?.layers.find((l) => l.name === name) ?? null;
  const data = useMemo(() => {
    if (!entry) return [];
    const pos = (v: number | undefined) => (v !== undefined && v > 0 ? v : null);
    return entry.sigmaBefore.map((s, i) => ({ i: i + 1, before: pos(s), after: pos(entry.sigmaAfter[i]), first: pos(first?.sigmaBefore[i]) }));
  }, [entry, first]);
  const tools = layerNames.length ? <LayerSelect layers={layerNames} value={name ?? ''} onChange={setLayer} /> : null;
  return (
    <ChartCard
      title="Singular-value spectrum"
      testId="chart-spectrum"
      tools={tools}
      caption={
        <>
          σᵢ of the chosen layer&apos;s BN-merged matrix (log scale): before the projection (grey), after it (red, the kept ones scaled up by √α), and at the first
          projection (dotted); values right of the purple cut are removed. Below, the matrix itself, M = diag(a)·W (one row per output filter, columns by kernel
          position and input channel; blue negative, red positive, one scale for both): after the projection every row is a combination of just r patterns, so the
          rows repeat a few column patterns — the low rank made visible; between projections SGD adds the other directions back.
        </>
      }
    >
      {(
        <>
          <div className="chart-stats" data-testid="spectrum-stats">
            {entry ? (
              <>
                rank cut <b data-testid="rank-cut">r = {entry.rank}</b> of n = {entry.sigmaBefore.length} · energy kept before {fmtPct(entry.energyKeptBefore)} · α ={' '}
                {fmtNum(entry.alpha, 4)}
                {entry.skipped ? (entry.rank >= entry.sigmaBefore.length ? ' · not projected (full rank: nothing to cut)' : ' · skipped (σ₁ < 1e-4)') : ''}
              </>
            ) : (
              '\u00a0'
            )}
          </div>
          <Sized height={190} overlay={entry ? null : 'The spectrum appears at the first projection.'}>
            {(w) => (
            <LineChart width={w} height={190} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid stroke={COLORS.grid} />
              <XAxis dataKey="i" {...wholeXAxis(xRange(data, 'i', 1, [1, 16]), w)} />
              <YAxis scale="log" domain={entry ? ['auto', 'auto'] : [0.01, 10]} allowDataOverflow {...axisProps} width={48} tickFormatter={(v: number) => fmtNum(v, 2)} />
              <Tooltip formatter={(v) => (typeof v === 'number' ? fmtNum(v, 4) : String(v))} labelFormatter={(l) => `σ${l}`} isAnimationActive={false} />
              {entry ? <ReferenceArea x1={entry.rank + 0.5} x2={entry.sigmaBefore.length + 0.5} fill={COLORS.cut} fillOpacity={0.06} ifOverflow="hidden" /> : null}
              {entry ? (
                <ReferenceLine x={entry.rank + 0.5} stroke={COLORS.cut} strokeWidth={2} label={{ value: `cut r=${entry.rank}`, position: 'insideTopRight', fill: COLORS.cut, fontSize: 11 }} />
              ) : null}
              <Line dataKey="first" name="at projection #1" stroke={COLORS.before} strokeDasharray="2 3" dot={false} isAnimationActive={false} connectNulls />
              <Line dataKey="before" name="before" stroke={COLORS.axis} dot={{ r: 1.5 }} strokeWidth={1.5} isAnimationActive={false} />
              <Line dataKey="after" name="after" stroke={COLORS.after} dot={{ r: 1.5 }} strokeWidth={2} isAnimationActive={false} />
            </LineChart>
            )}
          </Sized>
          <HtmlLegend
            items={[
              { label: 'before projection', color: COLORS.axis },
              { label: 'after (×√α, tail cut)', color: COLORS.after },
              { label: 'at projection #1', color: COLORS.before, kind: 'dash' },
              { label: 'rank cut', color: COLORS.cut },
            ]}
          />
          <MatrixImages projection={entry ? proj : null} layer={name} load={loadMatrixImages} />
          {spectra.length ? <Scrubber spectra={spectra} scrub={scrub} setScrub={setScrub} /> : <div className="scrubber-space" />}
        </>
      )}
    </ChartCard>
  );
});
