import { speedupVerdict } from '../../engine/infer/report';
import type { Phase } from '../state/store';
import { lastIteration } from './runs';
import type { CompareRun } from './types';

export interface CostCell {
  /** Compact-model count when the run built one, else the dense network's. */
  value: number;
  dense: number;
  compact: boolean;
}

export interface SummaryRow {
  id: string;
  name: string;
  legend: string;
  color: string;
  phase: Phase;
  live: boolean;
  /** Where it trained: the page's backend (webgpu, webgl, cpu) or the PyTorch trainer's ("PyTorch DDP · 8 × GPU"); null before its start. */
  backend: string | null;
  /** Final test accuracy: the compact model's when built, else the last epoch's; null before the first epoch. */
  accuracy: number | null;
  accuracySource: 'compact' | 'epoch' | null;
  macs: CostCell | null;
  params: CostCell | null;
  /** Sum of the epochs' times (ms); null before the first epoch. */
  timeMs: number | null;
  iterations: number;
  /** The compact model's measured inference speed-up over the dense one at the largest batch timed (the run's latest measurement), next to its MAC ratio. */
  inference: { batch: number; speedup: number; macRatio: number; backend: string } | null;
  /** Highest accuracy among the runs (ties all count); only set when at least two runs have one. */
  best: boolean;
}

export function summaryRows(runs: readonly CompareRun[]): SummaryRow[] {
  const rows = runs.map((r): SummaryRow => {
    const s = r.state;
    const lastEpoch = s.epochs[s.epochs.length - 1];
    const accuracy = s.compact ? s.compact.testAccuracy : (lastEpoch?.testAccuracy ?? null);
    const cost = s.compact ?? s.start;
    const compact = s.compact !== null;
    return {
      id: r.id,
      name: r.name,
      legend: r.legend,
      color: r.color,
      phase: s.phase,
      live: r.live,
      backend: s.start?.backend ?? null,
      accuracy: accuracy !== null && Number.isFinite(accuracy) ? accuracy : null,
      accuracySource: s.compact ? 'compact' : lastEpoch ? 'epoch' : null,
      macs: cost ? { value: compact ? cost.macsCompact : cost.macsDense, dense: cost.macsDense, compact } : null,
      params: cost ? { value: compact ? cost.paramsCompact : cost.paramsDense, dense: cost.paramsDense, compact } : null,
      timeMs: s.epochs.length ? s.epochs.reduce((t, e) => t + e.epochMs, 0) : null,
      iterations: lastIteration(s),
      inference: inferenceCell(s.inference),
      best: false,
    };
  });
  const accs = rows.map((r) => r.accuracy).filter((a): a is number => a !== null);
  if (accs.length >= 2) {
    const top = Math.max(...accs);
    for (const r of rows) r.best = r.accuracy === top;
  }
  return rows;
}

function inferenceCell(e: CompareRun['state']['inference']): SummaryRow['inference'] {
  const v = e ? speedupVerdict(e) : null;
  return e && v ? { batch: v.batch, speedup: v.speedup, macRatio: v.macRatio, backend: e.backend } : null;
}
