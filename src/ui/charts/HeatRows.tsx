import { useEffect, useRef, useState } from 'react';
import { Sized } from './common';
import { ramp } from './heat';

/** One row of a heat map: its cells' values in [0, 1] (NaN: left blank), spread evenly over the row. */
export interface HeatRow {
  cells: ArrayLike<number>;
  /** A white tick at this fraction of the row (e.g. the rank cut). */
  tick?: number;
}

interface Props {
  /** Row labels (layer names), top to bottom. */
  names: string[];
  rows: HeatRow[];
  selected: string | null;
  onPick: (name: string) => void;
  /** What the row under the pointer is, in words. */
  describe: (name: string) => string;
  /** The ramp's two ends. */
  legend: [string, string];
  ariaLabel: string;
  /** Vertical lines across all rows, at these fractions of the plotted width. */
  marks?: number[];
}

const LABEL = 124;
const CSS_HEIGHT = 220;
const MARK = '#e15759';

/** Layers as rows of coloured cells on a canvas, labelled on the left; a click picks a row, hovering names it. */
export function HeatRows(p: Props) {
  const [hover, setHover] = useState<string | null>(null);
  const rowH = p.names.length ? Math.max(3, Math.min(28, Math.floor(CSS_HEIGHT / p.names.length))) : 0;
  return (
    <div className="heatmap">
      <Sized height={p.names.length * rowH}>{(width) => <HeatCanvas {...p} width={width} rowH={rowH} setHover={setHover} />}</Sized>
      <div className="heat-legend">
        <span>{p.legend[0]}</span>
        <span className="ramp" />
        <span>{p.legend[1]}</span>
        <span className="hover-info">{hover ? p.describe(hover) : '\u00a0'}</span>
      </div>
    </div>
  );
}

function HeatCanvas({ names, rows, selected, onPick, ariaLabel, marks, width: W, rowH, setHover }: Props & { width: number; rowH: number; setHover: (name: string | null) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const count = names.length;
  const H = count * rowH;
  const dpr = typeof devicePixelRatio === 'number' ? Math.min(3, devicePixelRatio) : 1;

  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || !count) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = `${Math.min(11.5, rowH - 1)}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    const plotW = W - LABEL;
    const gap = rowH > 4 ? 1 : 0;
    names.forEach((name, r) => {
      const y = r * rowH;
      if (rowH >= 8) {
        ctx.fillStyle = name === selected ? '#111' : '#6b7785';
        ctx.fillText(name.length > 21 ? `…${name.slice(-20)}` : name, 0, y + rowH / 2);
      }
      const row = rows[r];
      const n = row?.cells.length ?? 0;
      for (let i = 0; i < n; i++) {
        const t = row.cells[i];
        if (!Number.isFinite(t)) continue;
        const [R, G, B] = ramp(t);
        ctx.fillStyle = `rgb(${R},${G},${B})`;
        const x0 = LABEL + Math.floor((i * plotW) / n);
        const x1 = LABEL + Math.floor(((i + 1) * plotW) / n);
        ctx.fillRect(x0, y, Math.max(1, x1 - x0), rowH - gap);
      }
      if (row?.tick !== undefined) {
        ctx.fillStyle = '#fff';
        ctx.fillRect(LABEL + Math.round(row.tick * plotW) - 1, y, 2, rowH);
      }
      if (name === selected) {
        ctx.strokeStyle = '#111';
        ctx.lineWidth = 1;
        ctx.strokeRect(LABEL + 0.5, y + 0.5, plotW - 1, rowH - 1);
      }
    });
    ctx.fillStyle = MARK;
    for (const m of marks ?? []) ctx.fillRect(LABEL + Math.round(m * plotW), 0, 1, H);
  }, [names, rows, selected, marks, count, rowH, H, W, dpr]);

  const rowAt = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    const y = ((e.clientY - rect.top) / rect.height) * H;
    return names[Math.min(count - 1, Math.max(0, Math.floor(y / rowH)))] ?? null;
  };

  return (
    <canvas
      ref={canvas}
      width={Math.round(W * dpr)}
      height={Math.round(H * dpr)}
      style={{ width: W, height: H }}
      role="img"
      tabIndex={0}
      aria-label={`${ariaLabel}; arrow keys pick the layer${selected ? ` (now ${selected})` : ''}`}
      onKeyDown={(e) => {
        const i = selected ? names.indexOf(selected) : -1;
        const to = ({ ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: count - 1 } as Record<string, number>)[e.key];
        if (to === undefined || !count) return;
        e.preventDefault();
        const n = names[Math.min(count - 1, Math.max(0, to))];
        onPick(n);
        setHover(n);
      }}
      onBlur={() => setHover(null)}
      onMouseMove={(e) => setHover(rowAt(e))}
      onMouseLeave={() => setHover(null)}
      onClick={(e) => {
        const n = rowAt(e);
        if (n) onPick(n);
      }}
    />
  );
}
