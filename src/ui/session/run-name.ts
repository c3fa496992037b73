import type { FormState } from '../state/form';

/** A run's default name: model, compression and when it started ("resnet20 p=0.57 · Mar 3, 14:05"). */
export const runName = (f: FormState, at: Date): string =>
  `${f.model}${f.lrpetEnabled ? ` p=${f.compression === 'flops' ? `FLOPs −${Math.round(f.flopsTarget * 100)}%` : f.prune}` : ' dense'} · ${at.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })}`;
