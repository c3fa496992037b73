import { useEffect, useMemo, useRef, useState } from 'react';
import type { ProjectionEvent } from '../../engine/events';
import { fmtPct } from '../state/format';
import type { ProjectionSummary } from '../state/store';
import { staggered } from '../stagger';
import { ChartCard, Empty, Segmented } from './common';
import { logNorm, ramp } from './heat';

type Mode = 'spectra' | 'energy';

interface Props {
  spectra: ProjectionEvent[];
  projections: ProjectionSummary[];
  layerNames: string[];
  scrub: number | null;
  layer: string | null;
  setLayer: (name: string) => void;
}

const LABEL = 124;
const CSS_HEIGHT = 220;

/** Canvas width in CSS pixels, following its container. */
function useWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [w, setW] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver((entries) => {
      const cw = Math.round(entries[0].contentRect.width);
      if (cw > 0) setW(cw);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return w;
}

export const LayersHeatmap = staggered(function LayersHeatmap({ spectra, projections, layerNames, scrub, layer, setLayer }: Props) {
  const [mode, setMode] = useState<Mode>('spectra');
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);
  const W = useWidth(box);
  const [hover, setHover] = useState<string | null>(null);
  const at = scrub === null ? spectra.length - 1 : Math.min(scrub, spectra.length - 1);
  const proj = at >= 0 ? spectra[at] : null;
  const rows = layerNames.length;
  const rowH = rows ? Math.max(3, Math.min(28, Math.floor(CSS_HEIGHT / rows))) : 0;
  const H = rows * rowH;
  const dpr = typeof devicePixelRatio === 'number' ? Math.min(3, devicePixelRatio) : 1;
  const energyRange = useMemo(() => {
    let lo = 1;
    for (const p of projections) for (const e of p.energyKeptBefore) if (Number.isFinite(e)) lo = Math.min(lo, e);
    return lo;
  }, [projections]);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !rows) return;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = `${Math.min(11.5, rowH - 1)}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    const plotW = W - LABEL;
    layerNames.forEach((name, r) => {
      const y = r * rowH;
      if (rowH >= 8) {
        ctx.fillStyle = name === layer ? '#111' : '#6b7785';
        ctx.fillText(name.length > 21 ? `…${name.slice(-20)}` : name, 0, y + rowH / 2);
      }
      if (mode === 'spectra' && proj) {
        const l = proj.layers.find((x) => x.name === name);
        if (!l) return;
        const n = l.sigmaBefore.length;
        const s1 = l.sigmaBefore[0];
        for (let i = 0; i < n; i++) {
          const [R, G, B] = ramp(logNorm(l.sigmaBefore[i], s1));
          ctx.fillStyle = `rgb(${R},${G},${B})`;
          const x0 = LABEL + Math.floor((i * plotW) / n);
          const x1 = LABEL + Math.floor(((i + 1) * plotW) / n);
          ctx.fillRect(x0, y, Math.max(1, x1 - x0), rowH - (rowH > 4 ? 1 : 0));
        }
        const cx = LABEL + Math.round((l.rank * plotW) / n);
        ctx.fillStyle = '#fff';
        ctx.fillRect(cx - 1, y, 2, rowH);
      } else if (mode === 'energy') {
        const cols = projections.length;
        for (let j = 0; j < cols; j++) {
          const e = projections[j].energyKeptBefore[r];
          const t = energyRange < 1 ? (e - energyRange) / (1 - energyRange) : 1;
          const [R, G, B] = ramp(t);
          ctx.fillStyle = `rgb(${R},${G},${B})`;
          const x0 = LABEL + Math.floor((j * plotW) / cols);
          const x1 = LABEL + Math.floor(((j + 1) * plotW) / cols);
          ctx.fillRect(x0, y, Math.max(1, x1 - x0), rowH - (rowH > 4 ? 1 : 0));
        }
      }
      if (name === layer) {
        ctx.strokeStyle = '#111';
        ctx.lineWidth = 1;
        ctx.strokeRect(LABEL + 0.5, y + 0.5, plotW - 1, rowH - 1);
      }
    });
  }, [mode, proj, projections, layerNames, layer, rows, rowH, H, W, dpr, energyRange]);

  const rowAt = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const y = ((e.clientY - rect.top) / rect.height) * H;
    return layerNames[Math.min(rows - 1, Math.max(0, Math.floor(y / rowH)))] ?? null;
  };

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
  const hoverInfo = (() => {
    if (!hover) return null;
    const r = layerNames.indexOf(hover);
    if (mode === 'spectra') {
      const l = proj?.layers.find((x) => x.name === hover);
      return l ? `${hover}: r = ${l.rank} of ${l.sigmaBefore.length}, energy kept ${fmtPct(l.energyKeptBefore)}` : hover;
    }
    const last = projections[projections.length - 1];
    return last ? `${hover}: energy kept before the latest projection ${fmtPct(last.energyKeptBefore[r])}` : hover;
  })();

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
      <div ref={box}>
      {!rows || (mode === 'spectra' ? !proj : !projections.length) ? (
        <Empty>Filled at the first projection.</Empty>
      ) : (
        <div className="heatmap">
          <canvas
            ref={canvas}
            width={Math.round(W * dpr)}
            height={Math.round(H * dpr)}
            style={{ width: W, height: H }}
            role="img"
            tabIndex={0}
            aria-label={`${mode === 'spectra' ? 'normalised singular values of every layer' : 'energy kept per layer over projections'}; arrow keys pick the layer${layer ? ` (now ${layer})` : ''}`}
            onKeyDown={(e) => {
              const i = layer ? layerNames.indexOf(layer) : -1;
              const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: rows - 1 }[e.key];
              if (to === undefined) return;
              e.preventDefault();
              const n = layerNames[Math.min(rows - 1, Math.max(0, to))];
              setLayer(n);
              setHover(n);
            }}
            onBlur={() => setHover(null)}
            onMouseMove={(e) => setHover(rowAt(e))}
            onMouseLeave={() => setHover(null)}
            onClick={(e) => {
              const n = rowAt(e);
              if (n) setLayer(n);
            }}
          />
          <div className="heat-legend">
            <span>{mode === 'spectra' ? '10⁻³ σ₁' : fmtPct(energyRange, 0)}</span>
            <span className="ramp" />
            <span>{mode === 'spectra' ? 'σ₁' : '100%'}</span>
            <span className="hover-info">{hoverInfo ?? '\u00a0'}</span>
          </div>
        </div>
      )}
      </div>
    </ChartCard>
  );
});
