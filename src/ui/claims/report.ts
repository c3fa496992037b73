import { fmtCount, fmtReduction } from '../state/format';
import { PAPER, type ArmResult, type BatchReport, type ClaimResult } from './claims';
import { NOISE_RULE, pct, sampleText } from './stats';

/** What the numbers hold for: the runs' own data, never a benchmark. */
export const DATA_CAVEAT =
  'Accuracies hold for these runs on this data only; they are not benchmark results. A CIFAR-10 copy decoded from JPEGs (lossy), such as the one this project’s own tests use, gives a little lower accuracy than the original dataset.';

export const VERDICT_LABEL: Record<ClaimResult['verdict'], string> = {
  supported: 'supported',
  contradicted: 'not supported',
  'within-noise': 'within the noise',
  'no-estimate': 'one seed: no noise estimate',
  'not-run': 'not run',
};

export const seedsText = (r: BatchReport): string =>
  r.seeds.length ? `${r.seedsPerArm ?? r.seeds.length} seed${(r.seedsPerArm ?? r.seeds.length) === 1 ? '' : 's'} per arm (${r.seeds.join(', ')})` : 'seeds not recorded';

export const costText = (value: number | null, dense: number | null): string =>
  value === null ? '–' : `${fmtCount(value)}${dense !== null && dense !== value ? ` (${fmtReduction(dense, value)})` : ''}`;

export const armAccuracyText = (a: ArmResult): string => (a.accuracy ? sampleText(a.accuracy) : '–');

/** Markdown table cells: no pipes or line breaks from names. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** The claims panel as a Markdown report. */
export function reportMarkdown(r: BatchReport, now: Date = new Date()): string {
  const lines = [
    `# LRPET ablation batch: the paper's claims, measured`,
    '',
    `Claims from ${PAPER}, each tested by a pair of arms of one ablation batch run in this browser.`,
    '',
    `- Batch: ${r.batchId}, started ${new Date(r.createdAt).toISOString()}; report written ${now.toISOString()}`,
    `- Settings shared by all runs: ${r.common.join(' · ') || '–'}`,
    `- Seeds: ${seedsText(r)}`,
    `- Backend: ${r.backends.join(', ') || 'not recorded'}`,
    `- Data: ${r.data.join('; ') || 'not recorded'}. ${DATA_CAVEAT}`,
    `- Noise rule: ${NOISE_RULE}.`,
    ...(r.notCounted.length ? [`- Not counted (did not finish): ${r.notCounted.join('; ')}`] : []),
    '',
    '## Claims',
    '',
  ];
  r.claims.forEach((c, i) => {
    lines.push(`${i + 1}. **${c.spec.statement}** (${c.spec.reference})`, '');
    if (c.measured) lines.push(`   - Measured: ${c.measured}`);
    if (c.method && c.alternative && c.verdict !== 'not-run') lines.push(`   - MACs of the compact model: ${c.method.label} ${costText(c.method.macs, c.method.macsDense)}, ${c.alternative.label} ${costText(c.alternative.macs, c.alternative.macsDense)}`);
    lines.push(`   - Verdict: **${VERDICT_LABEL[c.verdict]}** — ${c.conclusion}`, '');
  });
  lines.push(
    '## Arms',
    '',
    '| Arm | What differs | Runs counted | Final test accuracy (mean ± sd) | Last-epoch test accuracy | MACs | Parameters | Per seed |',
    '|---|---|---|---|---|---|---|---|',
    ...r.arms.map((a) => {
      const perSeed = a.runs.map((m) => `${m.seed ?? '?'}: ${m.counted && m.accuracy !== null ? pct(m.accuracy) : 'not counted'}`).join(', ');
      return `| ${cell(a.label)} | ${cell(a.differs || '–')} | ${a.runs.filter((m) => m.counted).length} of ${a.runs.length} | ${armAccuracyText(a)}${a.accuracy ? `, ${a.accuracyOf === 'compact' ? 'compact model' : a.accuracyOf}` : ''} | ${a.lastEpoch ? sampleText(a.lastEpoch) : '–'} | ${costText(a.macs, a.macsDense)} | ${costText(a.params, a.paramsDense)} | ${cell(perSeed)} |`;
    }),
    '',
    'Final test accuracy is the compact model’s when the run built one, else (the dense baseline) the last epoch’s; ± is the sample standard deviation over seeds.',
    '',
  );
  return lines.join('\n');
}

const csvField = (v: string | number | null): string => {
  if (v === null) return '';
  const s = String(v);
  // Quote what needs it; a leading =, +, - or @ would be read as a formula by spreadsheets.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) || safe !== s ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** One row per run of the batch: what the claims were computed from. */
export function reportCsv(r: BatchReport): string {
  const head = ['batch', 'arm', 'arm_label', 'seed', 'run', 'counted', 'final_test_accuracy', 'final_accuracy_of', 'last_epoch_test_accuracy', 'macs', 'params', 'macs_dense', 'params_dense', 'backend', 'data'];
  const rows = r.arms.flatMap((a) =>
    a.runs.map((m) => [r.batchId, a.arm, a.label, m.seed, m.name, m.counted ? 'yes' : 'no', m.accuracy, m.accuracyOf, m.lastEpochAccuracy, m.macs, m.params, m.macsDense, m.paramsDense, m.backend, r.data.join('; ')]),
  );
  return [head, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
