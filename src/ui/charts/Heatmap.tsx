import { useMemo, useState } from 'react';
import type { ProjectionEvent } from '../../engine/events';
import { fmtPct } from '../state/format';
import type { ProjectionSummary } from '../state/store';
import { staggered } from '../stagger';
import { ChartCard, Empty, Segmented } from './common';
import { logNorm } from './heat';
import { scrubPosition, type Scrub } from '../state/scrub';
import { HeatRows, type HeatRow } from './HeatRows';

type Mode = 'spectra' | 'energy';

interface Props {
  spectra: ProjectionEvent[];
  projections: ProjectionSummary[];
  layerNames: string[];
  scrub: Scrub;
  layer: string | null;
  setLayer: (name: string) => void;
}

export const LayersHeatmap = staggered(function LayersHeatmap({ spectra, projections, layerNames, scrub, layer, setLayer }: Props) {
  const [mode, setMode] = useState<Mode>('spectra');
  const at = scrubPosition(spectra, scrub);
  const proj = at >= 0 ? spectra[at] : null;
  const energyRange = useMemo(() => {
    let lo = 1;
    for (const p of projections) for (const e of p.energyKeptBefore) if (Number.isFinite(e)) lo = Math.min(lo, e);
    return lo;
  }, [projections]);
  const rows = useMemo(
    (): HeatRow[] =>
      layerNames.map((name, r) => {
        if (mode === 'energy') {
          return { cells: projections.map((p) => (energyRange < 1 ? (p.energyKeptBefore[r] - energyRange) / (1 - energyRange) : 1)) };
        }
        const l = proj?.layers.find((x) => x.name === name);
        if (!l) return { cells: [] };
        const n = l.sigmaBefore.length;
        return { cells: l.sigmaBefore.map((s) => logNorm(s, l.sigmaBefore[0])), tick: l.rank / n };
      }),
    [mode, proj, projections, layerNames, energyRange],
  );

  const tools = (
    <Segmented
      label="Heat map shows"
      value={mode}
      options={[
        { value: 'spectra', label: 'spectra' },
        { value: 'energy', label: 'energy over time' },
      ]}
      onChange={setMode}
    />
  );
  const describe = (name: string) => {
    if (mode === 'spectra') {
      const l = proj?.layers.find((x) => x.name === name);
      return l ? `${name}: r = ${l.rank} of ${l.sigmaBefore.length}, energy kept ${fmtPct(l.energyKeptBefore)}` : name;
    }
    const last = projections[projections.length - 1];
    return last ? `${name}: energy kept before the latest projection ${fmtPct(last.energyKeptBefore[layerNames.indexOf(name)])}` : name;
  };

  return (
    <ChartCard
      title="All layers at a glance"
      testId="chart-heatmap"
      tools={tools}
      caption={
        mode === 'spectra'
          ? 'One row per layer: σᵢ/σ₁ before the selected projection (yellow = large, purple = 1000× smaller), index stretched to the row; the white tick is the rank cut. Click a row (or use the arrow keys) to inspect it.'
          : 'One row per layer, one column per projection: the share of energy in the kept singular values before each projection (yellow = close to 100%). Click a row (or use the arrow keys) to inspect it.'
      }
    >
      {!layerNames.length || (mode === 'spectra' ? !proj : !projections.length) ? (
        <Empty>Filled at the first projection.</Empty>
      ) : (
        <HeatRows
          names={layerNames}
          rows={rows}
          selected={layer}
          onPick={setLayer}
          describe={describe}
          legend={mode === 'spectra' ? ['10⁻³ σ₁', 'σ₁'] : [fmtPct(energyRange, 0), '100%']}
          ariaLabel={mode === 'spectra' ? 'normalised singular values of every layer' : 'energy kept per layer over projections'}
        />
      )}
    </ChartCard>
  );
});
