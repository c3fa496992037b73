import { useState } from 'react';
import type { LayerInfo } from '../../engine/events';
import { fmtCount } from '../state/format';
import './rank-table.css';

/**
 * Per-layer ranks: the plan's rank for each projected layer, with a box to override single layers.
 * During a run, the rank the engine uses now is shown too (it changes at the next projection).
 */
export function RankTable({
  layers,
  runLayers,
  overrides,
  disabled,
  onChange,
}: {
  layers: LayerInfo[];
  runLayers: LayerInfo[] | null;
  overrides: Record<string, number>;
  disabled: boolean;
  onChange: (o: Record<string, number>) => void;
}) {
  const [open, setOpen] = useState(false);
  const projected = layers.filter((l) => l.projected);
  const running = new Map(runLayers?.map((l) => [l.name, l.rank]) ?? []);
  const n = Object.keys(overrides).length;
  return (
    <details className="rank-table" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>
        Per-layer ranks ({projected.length} layers{n ? `, ${n} overridden` : ''})
      </summary>
      {open ? (
        <>
          {n ? (
            <button type="button" className="link" onClick={() => onChange({})} disabled={disabled}>
              clear overrides
            </button>
          ) : null}
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col">n</th>
                  <th scope="col">Rank</th>
                  <th scope="col" title="MACs dense → compact">MACs</th>
                </tr>
              </thead>
              <tbody>
                {projected.map((l) => {
                  const id = `rank-${l.name.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
                  const over = overrides[l.name];
                  const now = running.get(l.name);
                  return (
                    <tr key={l.name} className={over !== undefined ? 'overridden' : undefined}>
                      <td title={`matrix ${l.shape[0]} × ${l.shape[1]} (O × I·k·k)`}>
                        <label htmlFor={id}>
                          <span className="sr-only">Rank of </span>
                          {l.name}
                        </label>
                      </td>
                      <td className="num">{l.n}</td>
                      <td>
                        <input
                          id={id}
                          type="number"
                          min={1}
                          max={l.n}
                          step={1}
                          value={over ?? l.rank}
                          disabled={disabled}
                          onChange={(e) => {
                            const v = Number(e.target.value);
                            if (!Number.isInteger(v) || v < 1 || v > l.n) return;
                            onChange({ ...overrides, [l.name]: v });
                          }}
                        />
                        {now !== undefined && now !== (over ?? l.rank) ? <span className="pending" title="the run uses this rank until the next projection">now {now}</span> : null}
                        {l.keptDense ? <span className="kept" title="r·(K+O) ≥ O·K: splitting saves nothing, kept dense in the compact model">dense</span> : null}
                      </td>
                      <td className="num">
                        {fmtCount(l.macsDense)}→{fmtCount(l.macsCompact)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </details>
  );
}
