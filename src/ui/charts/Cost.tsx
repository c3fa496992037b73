import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import type { CompactEvent, CostSummary, LayerInfo } from '../../engine/events';
import { fmtCount, fmtReduction } from '../state/format';
import { staggered } from '../stagger';
import { axisProps, ChartCard, COLORS, HtmlLegend, Sized } from './common';

export const CostChart = staggered(function CostChart({ layers, costs, compact, source }: { layers: LayerInfo[]; costs: CostSummary | null; compact: CompactEvent | null; source: 'plan' | 'run' }) {
  const data = useMemo(() => layers.filter((l) => l.projected).map((l, i) => ({ i: i + 1, name: l.name, kept: l.rank, cut: l.n - l.rank, n: l.n, dense: l.keptDense })), [layers]);
  const c = compact ?? costs;
  return (
    <ChartCard
      title="Ranks, MACs and parameters"
      testId="chart-cost"
      caption={`Per layer: the singular values kept (rank r, dark) and cut (light) out of n; totals count conv and dense multiply-accumulates and weights, the paper's convention${source === 'plan' ? ' — this is the plan for the settings on the left' : ''}.`}
    >
      {c ? (
        <div className="cost-totals" data-testid="cost-totals">
          <div>
            <span className="k">MACs</span> {fmtCount(c.macsDense)} → <b>{fmtCount(c.macsCompact)}</b> <span className="delta">{fmtReduction(c.macsDense, c.macsCompact)}</span>
          </div>
          <div>
            <span className="k">Params</span> {fmtCount(c.paramsDense)} → <b>{fmtCount(c.paramsCompact)}</b> <span className="delta">{fmtReduction(c.paramsDense, c.paramsCompact)}</span>
          </div>
        </div>
      ) : null}
      <Sized height={170}>
        {(w) => (
        <BarChart width={w} height={170} data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }} barCategoryGap={data.length > 30 ? 0 : 2}>
          <CartesianGrid stroke={COLORS.grid} vertical={false} />
          <XAxis dataKey="i" {...axisProps} interval="preserveStartEnd" />
          <YAxis {...axisProps} width={36} allowDecimals={false} />
          <Tooltip
            labelFormatter={(_l, payload) => {
              const d = payload?.[0]?.payload as (typeof data)[number] | undefined;
              return d ? `${d.name}: r = ${d.kept} of ${d.n}${d.dense ? ' (kept dense)' : ''}` : '';
            }}
            isAnimationActive={false}
          />
          <Bar dataKey="kept" name="rank r (kept)" stackId="s" fill={COLORS.test} isAnimationActive={false} />
          <Bar dataKey="cut" name="cut" stackId="s" fill="#c9d7e8" isAnimationActive={false} />
        </BarChart>
        )}
      </Sized>
      <HtmlLegend
        items={[
          { label: 'rank r (kept)', color: COLORS.test, kind: 'box' },
          { label: 'cut', color: '#c9d7e8', kind: 'box' },
        ]}
      />
    </ChartCard>
  );
});
