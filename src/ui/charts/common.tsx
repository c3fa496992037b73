import { useEffect, useId, useState, type ReactNode } from 'react';
import { ReferenceLine, Text, type TextProps } from 'recharts';
import type { Marker } from '../state/store';
import { niceTicks, tickCountFor, tickLabel, valueTicks } from './ticks';
import './charts.css';

export const COLORS = {
  train: '#f28e2b',
  trainFaint: '#f8c99a',
  test: '#1f77b4',
  compact: '#2ca02c',
  before: '#9aa7b8',
  after: '#e15759',
  cut: '#6f42c1',
  alpha: '#8c564b',
  mean: '#1f77b4',
  min: '#17becf',
  grid: '#e8ecf1',
  axis: '#6b7785',
  lr: '#6f42c1',
  projection: '#e15759',
};

export function ChartCard({ title, caption, children, tools, testId, wide }: { title: string; caption: ReactNode; children: ReactNode; tools?: ReactNode; testId?: string; wide?: boolean }) {
  return (
    <figure className={`card${wide ? ' wide' : ''}`} data-testid={testId} aria-label={title}>
      <div className="card-head">
        <h3>{title}</h3>
        {tools ? <div className="card-tools">{tools}</div> : null}
      </div>
      <div className="card-body">{children}</div>
      <figcaption>{caption}</figcaption>
    </figure>
  );
}

/**
 * What a chart shows before it has data. It fills its card's body, or, below other content in the body
 * (a second chart of the card), takes `height` px of its own — filling the body there would push it over
 * the caption.
 */
export function Empty({ children, height }: { children: ReactNode; height?: number }) {
  return (
    <div className={`empty${height === undefined ? '' : ' sized-empty'}`} style={height === undefined ? undefined : { height }}>
      {children}
    </div>
  );
}

/** Vertical dashed lines where a setting was changed mid-run (from configChange events). */
export function markerLines(markers: Marker[], yAxisId?: string) {
  return markers.map((m, i) => (
    <ReferenceLine
      key={`m${i}`}
      x={m.iteration}
      yAxisId={yAxisId}
      stroke={COLORS.cut}
      strokeDasharray="4 3"
      ifOverflow="extendDomain"
      label={{ value: m.label, position: 'insideTopLeft', fontSize: 10, fill: COLORS.cut }}
    />
  ));
}

export const axisProps = { stroke: COLORS.axis, fontSize: 11, tickLine: false } as const;

/** What Recharts hands a custom tick: Text's props plus the tick. */
type TickProps = TextProps & { payload: { value: number }; tickFormatter?: unknown; visibleTicksCount?: number; index?: number; padding?: unknown };

/**
 * A whole-number x axis (iterations, indices) over [lo, hi] for a chart `width` px wide: round ticks
 * inside the range (ticks.ts), and a label on an end of the axis aligned inwards, so it neither runs
 * into the y axes' labels at the corners nor is cut off at the chart's edge.
 */
export function wholeXAxis([lo, hi]: [number, number], width: number) {
  const ticks = niceTicks(lo, hi, tickCountFor(width - 90));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- not SVG attributes
  const tick = ({ payload, tickFormatter, visibleTicksCount, index, padding, ...text }: TickProps) => (
    <Text {...text} textAnchor={payload.value === lo && lo !== hi ? 'start' : payload.value === hi && lo !== hi ? 'end' : 'middle'}>
      {tickLabel(payload.value, ticks)}
    </Text>
  );
  return { type: 'number' as const, domain: [lo, hi], ticks, interval: 0 as const, allowDecimals: false, tick, ...axisProps };
}

/**
 * A linear value (y) axis for the values of `keys` in `rows` (`fallback` without any): round ticks with
 * the axis ending on round values (ticks.ts valueTicks), one about every 40 px of a plot `height` px high.
 */
export function valueYAxis(rows: readonly Record<string, unknown>[], keys: readonly string[], height: number, fallback: [number, number]) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    for (const k of keys) {
      const v = r[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const { domain, ticks } = hi < lo ? valueTicks(fallback[0], fallback[1], 5) : valueTicks(lo, hi, Math.max(3, Math.min(6, Math.floor(height / 40))));
  // The ticks are round already: printed as they are (a fixed number of digits would make 2.295 and 2.3 alike).
  return { type: 'number' as const, domain, ticks, interval: 0 as const, allowDataOverflow: true, tickFormatter: (v: number) => String(v), ...axisProps };
}

/** The axis range of `key` over `rows`: from `from` (or the smallest value) to the largest; `fallback` without values. */
export function xRange(rows: readonly Record<string, unknown>[], key: string, from: number | 'min', fallback: [number, number]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi < lo) return fallback;
  const start = from === 'min' ? lo : from;
  return [start, Math.max(hi, start)];
}

/** Width of a block, from a ResizeObserver (no forced layouts on every update, unlike measuring in render). */
export function Sized({ height, children, overlay }: { height: number; children: (width: number) => ReactNode; overlay?: ReactNode }) {
  const [width, setWidth] = useState(0);
  const [el, setEl] = useState<HTMLDivElement | null>(null);
  useEffect(() => {
    if (!el) return;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0].contentRect.width);
      if (w > 0) setWidth(w);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return (
    <div ref={setEl} className="sized" style={{ height }}>
      {width > 0 ? children(width) : null}
      {overlay ? <div className="overlay">{overlay}</div> : null}
    </div>
  );
}

export interface LegendItem {
  label: string;
  color: string;
  kind?: 'line' | 'dash' | 'dot' | 'faint' | 'box';
}

/** A static legend (Recharts' own measures itself on every update). */
export function HtmlLegend({ items }: { items: LegendItem[] }) {
  return (
    <div className="legend">
      {items.map((it) => (
        <span key={it.label} className="legend-item">
          <i className={`swatch ${it.kind ?? 'line'}`} style={{ color: it.color }} />
          {it.label}
        </span>
      ))}
    </div>
  );
}

/** The layer picker of the spectrum and energy charts; `extra` options come first (e.g. "mean of layers"). */
export function LayerSelect({ layers, value, onChange, extra }: { layers: string[]; value: string; onChange: (name: string) => void; extra?: { value: string; label: string } }) {
  return (
    <label className="inline">
      Layer{' '}
      <select aria-label="Layer" value={value} onChange={(e) => onChange(e.target.value)}>
        {extra ? <option value={extra.value}>{extra.label}</option> : null}
        {layers.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A small two-or-more-way switch (radio buttons styled as a segmented control) for a chart's tools. */
export function Segmented<T extends string>({ label, value, options, onChange }: { label: string; value: T; options: readonly { value: T; label: string }[]; onChange: (v: T) => void }) {
  const group = useId();
  return (
    <div className="segmented small" role="radiogroup" aria-label={label}>
      {options.map((o) => (
        <label key={o.value}>
          <input type="radio" name={group} checked={value === o.value} onChange={() => onChange(o.value)} />
          {o.label}
        </label>
      ))}
    </div>
  );
}
