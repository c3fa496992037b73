import { parseRunConfig } from '../../engine/config';
import type { RunRecord } from '../../runs/records';
import { emptySummary } from '../../runs/summary';
import { seededItems } from '../session/batch';
import { ablationBatch, type AblationId } from '../state/ablations';
import { presetById } from '../state/form';

const form = { ...presetById('quick').form, trainLimit: 64, testLimit: 50, epochs: 2, seed: 7 };

/**
 * Stored records of a finished ablation batch, as the page keeps them: `accuracy[arm][k]` is the compact
 * model's test accuracy of the arm's run with the k-th seed (dense runs: the last epoch's). Costs: dense
 * 1000 MACs / 100 parameters, compact 400 / 40.
 */
export function batchRecords(batchId: string, accuracy: Partial<Record<AblationId, number[]>>, o: { data?: string; t0?: number } = {}): RunRecord[] {
  const arms = ablationBatch(form, Object.keys(accuracy) as AblationId[]);
  const seeds = Math.max(...Object.values(accuracy).map((a) => a.length));
  return seededItems(arms, seeds).flatMap((item, i): RunRecord[] => {
    const k = item.seed - form.seed;
    const acc = accuracy[item.id]?.[k];
    if (acc === undefined) return [];
    const dense = item.id === 'dense';
    const t = (o.t0 ?? 1_000_000) + i;
    return [
      {
        id: `${batchId}-${item.id}-${item.seed}`,
        name: `${item.label}${seeds > 1 ? ` · seed ${item.seed}` : ''} · resnet8-tiny`,
        createdAt: t,
        updatedAt: t,
        status: 'finished',
        source: 'browser',
        batch: { id: batchId, label: item.label, arm: item.id, seed: item.seed, seeds, ...(o.data && { data: o.data }) },
        config: parseRunConfig(item.config),
        backend: 'webgpu',
        eventCount: 20,
        summary: {
          ...emptySummary(),
          epochsDone: 2,
          testAccuracy: dense ? acc : acc - 0.001,
          compactAccuracy: dense ? null : acc,
          macsDense: 1000,
          macsCompact: dense ? 1000 : 400,
          paramsDense: 100,
          paramsCompact: dense ? 100 : 40,
        },
        checkpoint: null,
        hasModel: !dense,
        bytes: 1,
      },
    ];
  });
}
