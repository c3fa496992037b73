import { useMemo, useState } from 'react';
import { CartesianGrid, ComposedChart, Line, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { GradNormsEvent } from '../../engine/events';
import { fmtNum } from '../state/format';
import { gradValue, jumpFactor, jumpText, logRange, METRIC_OPTIONS, projectionJumps, type GradMetric } from '../state/gradients';
import type { ProjectionSummary } from '../state/store';
import { decimate } from '../state/series';
import { staggered } from '../stagger';
import { axisProps, ChartCard, COLORS, Empty, HtmlLegend, LayerSelect, Segmented, Sized, wholeXAxis, xRange } from './common';
import { HeatRows, type HeatRow } from './HeatRows';
import { mergeByX } from './merge';

interface Props {
  gradNorms: GradNormsEvent[];
  /** The layers the events report, in their order. */
  layers: string[];
  projections: ProjectionSummary[];
  layer: string | null;
  setLayer: (name: string) => void;
}

const H = 190;
/** The layers × time map before its first record: about as tall as the map of a small model. */
const HEAT_EMPTY_HEIGHT = 120;
const MEAN = '';
/** At most: points on the line (evenly spread over the run), projections marked and before/after dots (the latest). */
const MAX_POINTS = 300;
const MAX_MARKS = 40;
const MAX_DOTS = 80;

/**
 * The log axis' range over every plotted value (all keys but x), with a margin: Recharts' 'auto' on a log
 * scale can cut off the smallest points and draw them on the axis line.
 */
function plottedRange(data: readonly Record<string, unknown>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of data) {
    for (const [k, v] of Object.entries(row)) {
      if (k === 'x' || typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return hi < lo ? [0.01, 1] : [lo / 1.2, hi * 1.2];
}

/** The frame of the gradient charts: grid, iterations across, a log scale up, the tooltip (elements: Recharts takes them as children). */
export const gradFrame = (data: readonly Record<string, unknown>[], width: number) => [
  <CartesianGrid key="grid" stroke={COLORS.grid} />,
  <XAxis key="x" dataKey="x" {...wholeXAxis(xRange(data, 'x', 0, [0, 10]), width)} />,
  <YAxis key="y" scale="log" domain={plottedRange(data)} allowDataOverflow {...axisProps} width={48} tickFormatter={(v: number) => fmtNum(v, 2)} />,
  <Tooltip key="tip" formatter={(v) => (typeof v === 'number' ? fmtNum(v, 4) : String(v))} labelFormatter={(l) => `iteration ${l}`} isAnimationActive={false} />,
];

export const GradFlowChart = staggered(function GradFlowChart({ gradNorms, layers, projections, layer, setLayer }: Props) {
  const [metric, setMetric] = useState<GradMetric>('ratio');
  const [picked, setPicked] = useState<string | null>(null);
  // The layer shared with the other charts, unless the mean was picked here.
  const name = picked === MEAN ? null : layer !== null && layers.includes(layer) ? layer : (layers[0] ?? null);
  const idx = name === null ? null : layers.indexOf(name);
  const data = useMemo(() => {
    const around = gradNorms.filter((e) => e.reasons.some((r) => r !== 'sample')).slice(-MAX_DOTS);
    const dot = (key: 'before' | 'after', reason: 'beforeProjection' | 'afterProjection') =>
      around.filter((e) => e.reasons.includes(reason)).map((e) => ({ x: e.iteration, [key]: gradValue(e, metric, idx) }));
    return mergeByX(
      decimate(gradNorms, MAX_POINTS).map((e) => ({ x: e.iteration, value: gradValue(e, metric, idx) })),
      dot('before', 'beforeProjection'),
      dot('after', 'afterProjection'),
    );
  }, [gradNorms, metric, idx]);
  const marks = useMemo(() => projections.slice(-MAX_MARKS).map((p) => p.iteration + 0.5), [projections]);
  const jumps = useMemo(() => projectionJumps(gradNorms, projections, metric, idx), [gradNorms, projections, metric, idx]);
  const range = useMemo(() => logRange(gradNorms, metric), [gradNorms, metric]);
  const rows = useMemo(
    (): HeatRow[] =>
      layers.map((_, r) => ({
        cells: gradNorms.map((e) => {
          const v = gradValue(e, metric, r);
          return v === null || !range ? NaN : range[1] > range[0] ? (Math.log10(v) - range[0]) / (range[1] - range[0]) : 1;
        }),
      })),
    [layers, gradNorms, metric, range],
  );
  // A red line before each column of a step that came right after a projection.
  const heatMarks = useMemo(() => gradNorms.flatMap((e, j) => (e.reasons.includes('afterProjection') ? [j / gradNorms.length] : [])), [gradNorms]);
  const label = METRIC_OPTIONS.find((o) => o.value === metric)!.label;
  const tools = (
    <>
      <LayerSelect
        layers={layers}
        value={name ?? MEAN}
        onChange={(n) => {
          setPicked(n);
          if (n !== MEAN) setLayer(n);
        }}
        extra={{ value: MEAN, label: 'geometric mean of layers' }}
      />{' '}
      <Segmented label="Gradient chart shows" value={metric} options={METRIC_OPTIONS} onChange={setMetric} />
    </>
  );
  const last = gradNorms.at(-1);
  return (
    <ChartCard
      title="Gradient flow"
      testId="chart-gradients"
      tools={tools}
      wide
      caption={
        <>
          Per layer: {label} of the loss gradient every few steps (<i>Gradient norms every</i>) and always on the step right before (grey) and right after (red) each
          projection; above for the chosen layer (log scale; dashed red: projections), below for every layer, one column per recorded step (red lines: projections). The
          paper argues that projection pushes gradients towards vanishing and that energy transfer eases it: look at the grey → red jump, and compare a run without energy
          transfer (Compare). Behind a BatchNorm a layer&apos;s gradient grows as its weights shrink (‖∇W‖ ∝ 1/‖W‖), so a projection that removes much energy without energy
          transfer makes {label} jump up rather than vanish; in our small runs no vanishing showed (README).
        </>
      }
    >
      <div className="chart-stats" data-testid="grad-stats">
        {last ? (
          <>
            across a projection, {label} of {name ?? 'the layers (geometric mean)'} changes <b data-testid="grad-jump">{jumpText(jumpFactor(jumps))}</b>
            {jumps.length ? ` (geometric mean over ${jumps.length} projection${jumps.length > 1 ? 's' : ''})` : ' (no projection with a step after it yet)'}
          </>
        ) : (
          '\u00a0'
        )}
      </div>
      <Sized height={H} overlay={data.length ? null : 'Gradient norms appear at the first recorded step.'}>
        {(w) => (
          <ComposedChart width={w} height={H} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            {gradFrame(data, w)}
            {marks.map((x) => (
              <ReferenceLine key={x} x={x} stroke={COLORS.projection} strokeOpacity={0.35} strokeDasharray="3 3" ifOverflow="extendDomain" />
            ))}
            <Line dataKey="value" name={name ?? 'geometric mean'} stroke={COLORS.test} strokeWidth={1.5} dot={false} isAnimationActive={false} connectNulls />
            <Line dataKey="before" name="before projection" stroke="none" dot={{ r: 3, fill: COLORS.axis, stroke: COLORS.axis }} isAnimationActive={false} />
            <Line dataKey="after" name="after projection" stroke="none" dot={{ r: 3, fill: COLORS.after, stroke: COLORS.after }} isAnimationActive={false} />
          </ComposedChart>
        )}
      </Sized>
      <HtmlLegend
        items={[
          { label: `${label}: ${name ?? 'geometric mean of layers'}`, color: COLORS.test },
          { label: 'step before a projection', color: COLORS.axis, kind: 'dot' },
          { label: 'step after it', color: COLORS.after, kind: 'dot' },
          { label: 'projection', color: COLORS.projection, kind: 'dash' },
        ]}
      />
      {gradNorms.length && range ? (
        <HeatRows
          names={layers}
          rows={rows}
          selected={name}
          onPick={(n) => {
            setPicked(n);
            setLayer(n);
          }}
          describe={(n) => {
            const v = last ? gradValue(last, metric, layers.indexOf(n)) : null;
            return `${n}: ${label} ${v === null ? '–' : fmtNum(v, 3)} at iteration ${last?.iteration ?? '–'}`;
          }}
          legend={[fmtNum(10 ** range[0], 2), fmtNum(10 ** range[1], 2)]}
          ariaLabel={`${label} of every layer over the recorded steps`}
          marks={heatMarks}
        />
      ) : (
        <Empty height={HEAT_EMPTY_HEIGHT}>The layers × time map fills as steps are recorded.</Empty>
      )}
    </ChartCard>
  );
});
