import type { RunRecord } from '../../runs/records';
import { valueText } from '../../engine/settings';
import { ablationIdOfLabel, ablationLabel } from '../state/ablations';
import { describeDifferences, type ComparedConfig } from '../state/config-diff';
import { difference, differenceText, points, sampleOf, sampleText, type Difference, type Sample } from './stats';

/** One run of a batch, as the claims read it (from its stored record: the panel comes back after a reload). */
export interface RunMeasure {
  id: string;
  name: string;
  seed: number | null;
  /** Counted in its arm's numbers: it finished and has a test accuracy. */
  counted: boolean;
  /** The compact model's test accuracy when the run built one, else the last epoch's (the dense baseline). */
  accuracy: number | null;
  accuracyOf: 'compact' | 'last epoch';
  /** Test accuracy of the last epoch (for LRPET runs: the projected dense model's). */
  lastEpochAccuracy: number | null;
  macs: number | null;
  params: number | null;
  macsDense: number | null;
  paramsDense: number | null;
  backend: string | null;
}

export interface ArmResult {
  /** The ablation id (ui/state/ablations.ts), or the label when the record does not say. */
  arm: string;
  label: string;
  /** What sets this arm apart from the others of the batch (its settings). */
  differs: string;
  runs: RunMeasure[];
  accuracy: Sample | null;
  accuracyOf: 'compact' | 'last epoch' | 'mixed';
  lastEpoch: Sample | null;
  /** Costs of the arm's (compact) model; the same for every seed. */
  macs: number | null;
  params: number | null;
  macsDense: number | null;
  paramsDense: number | null;
}

export interface ClaimSpec {
  id: string;
  /** The claim in plain words. */
  statement: string;
  /** Where the paper makes it (PAPER). */
  reference: string;
  /** The arm the claim is for (LRPET) and the one it is measured against. */
  method: string;
  alternative: string;
  /** 'higher': the method's accuracy is higher; 'not-lower': the alternative's is not higher. */
  expect: 'higher' | 'not-lower';
  /** Listed as "not run" when the batch lacks an arm; otherwise (false) left out. */
  listWhenNotRun: boolean;
}

/** The paper the claims come from (each claim's `reference` says where in it). */
export const PAPER = 'Guo et al., “Compact Model Training by Low-Rank Projection with Energy Transfer”, IEEE TNNLS 2024 (arXiv 2204.05566)';

/** The paper's claims an ablation batch can test, each as a pair of arms. */
export const CLAIMS: readonly ClaimSpec[] = [
  {
    id: 'energy-transfer',
    statement:
      'Energy transfer helps: putting the energy each projection removes back onto the kept singular values gives a more accurate compact model than dropping it (without it every projection shrinks each layer’s norm and the gradients fade with depth).',
    reference: 'the paper’s energy transfer and its ablation',
    method: 'lrpet',
    alternative: 'no-et',
    expect: 'higher',
    listWhenNotRun: true,
  },
  {
    id: 'posthoc',
    statement: 'LRPET beats the usual route — train the dense model, cut it once by SVD, fine-tune the compact model — at the same total number of epochs.',
    reference: 'the paper’s comparison with decomposing a trained model and re-training',
    method: 'lrpet',
    alternative: 'posthoc',
    expect: 'higher',
    listWhenNotRun: true,
  },
  {
    id: 'scratch',
    statement: 'LRPET beats training the compact architecture (the same ranks) from scratch: relaxing back to the full weight space between projections uses more of the model’s capacity.',
    reference: 'the paper’s comparison with training the compact model directly',
    method: 'lrpet',
    alternative: 'scratch',
    expect: 'higher',
    listWhenNotRun: true,
  },
  {
    id: 'pretrained',
    statement: 'A pre-trained dense model is not a better initialisation for the low-rank model: LRPET from random initialisation does at least as well as LRPET started from the dense baseline’s trained weights.',
    reference: 'the paper’s abstract: a well pre-trained model is not a good initialisation for a low-rank model',
    method: 'lrpet',
    // The ablation row "LRPET from the dense baseline" (ui/state/ablations.ts); shown only when the batch has such runs.
    alternative: 'pretrained',
    expect: 'not-lower',
    listWhenNotRun: false,
  },
];

export type Verdict = 'supported' | 'contradicted' | 'within-noise' | 'no-estimate' | 'not-run';

export interface ClaimResult {
  spec: ClaimSpec;
  method: ArmResult | null;
  alternative: ArmResult | null;
  diff: Difference | null;
  verdict: Verdict;
  /** What was measured, with numbers ("LRPET: 71.23% ± 1.20 (3 seeds) · …"). */
  measured: string;
  /** What that says about the claim. */
  conclusion: string;
}

export interface BatchReport {
  batchId: string;
  createdAt: number;
  arms: ArmResult[];
  claims: ClaimResult[];
  /** Settings every run of the batch shares (seed aside). */
  common: string[];
  seeds: number[];
  seedsPerArm: number | null;
  backends: string[];
  data: string[];
  /** Runs of the batch left out of the numbers (stopped, failed, still going), by name. */
  notCounted: string[];
}

const finite = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);

function measure(r: RunRecord): RunMeasure {
  const s = r.summary;
  const compact = finite(s.compactAccuracy);
  const last = finite(s.testAccuracy);
  const accuracy = compact ?? last;
  const built = compact !== null;
  return {
    id: r.id,
    name: r.name,
    seed: r.batch?.seed ?? r.config?.seed ?? null,
    counted: (r.status === 'finished' || r.status === 'imported') && accuracy !== null && r.summary.epochsDone > 0,
    accuracy,
    accuracyOf: built ? 'compact' : 'last epoch',
    lastEpochAccuracy: last,
    macs: built ? finite(s.macsCompact) : finite(s.macsDense),
    params: built ? finite(s.paramsCompact) : finite(s.paramsDense),
    macsDense: finite(s.macsDense),
    paramsDense: finite(s.paramsDense),
    backend: r.backend,
  };
}

const armOf = (r: RunRecord): string => r.batch?.arm ?? ablationIdOfLabel(r.batch?.label ?? '') ?? r.batch?.label ?? '?';
const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** The ablation batches among the stored runs, newest first. */
export function batchesIn(records: readonly RunRecord[]): { id: string; createdAt: number; runs: number }[] {
  const by = new Map<string, { id: string; createdAt: number; runs: number }>();
  for (const r of records) {
    if (!r.batch) continue;
    const b = by.get(r.batch.id) ?? { id: r.batch.id, createdAt: r.createdAt, runs: 0 };
    b.createdAt = Math.min(b.createdAt, r.createdAt);
    b.runs++;
    by.set(r.batch.id, b);
  }
  return [...by.values()].sort((a, b) => b.createdAt - a.createdAt);
}

function armsOf(runs: readonly RunRecord[]): ArmResult[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of runs) groups.set(armOf(r), [...(groups.get(armOf(r)) ?? []), r]);
  const entries = [...groups];
  // One config per arm (its first run's, seed aside) says what sets the arms apart.
  const configs = entries.map(([, rs]) => rs.find((r) => r.config)?.config ?? null);
  const diff = configs.every((c) => c !== null) && configs.length > 1 ? describeDifferences(configs.map((c) => ({ ...c!, seed: 0 }) as ComparedConfig)).perRun : null;
  return entries.map(([arm, rs], i) => {
    const measures = rs.map(measure).sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
    const counted = measures.filter((m) => m.counted);
    const kinds = unique(counted.map((m) => m.accuracyOf));
    const first = counted[0] ?? measures[0];
    return {
      arm,
      label: rs[0].batch?.label ?? arm,
      differs: diff ? diff[i].join(', ') : '',
      runs: measures,
      accuracy: sampleOf(counted.map((m) => m.accuracy!)),
      accuracyOf: kinds.length === 1 ? kinds[0] : kinds.length ? 'mixed' : 'compact',
      lastEpoch: sampleOf(counted.flatMap((m) => (m.lastEpochAccuracy === null ? [] : [m.lastEpochAccuracy]))),
      macs: first?.macs ?? null,
      params: first?.params ?? null,
      macsDense: first?.macsDense ?? null,
      paramsDense: first?.paramsDense ?? null,
    };
  });
}

function conclusion(spec: ClaimSpec, a: ArmResult, b: ArmResult, d: Difference): { verdict: Verdict; text: string } {
  const higher = d.delta > 0;
  const by = points(d.delta, false);
  const lead = d.delta === 0 ? `${a.label} and ${b.label} are level` : higher ? `${a.label} is higher by ${by}` : `${b.label} is higher by ${by}`;
  if (d.noise === 'none') return { verdict: 'no-estimate', text: `${lead} here; with one seed this cannot be told from noise (run more seeds per arm).` };
  if (d.noise === 'within') {
    return spec.expect === 'not-lower'
      ? { verdict: 'within-noise', text: `Consistent with the claim: ${b.label} is no better here — the difference is within the noise.` }
      : { verdict: 'within-noise', text: `Not shown by this batch: the difference is within the noise.` };
  }
  return higher
    ? { verdict: 'supported', text: `Supported by this batch: ${lead}, beyond the noise.` }
    : { verdict: 'contradicted', text: `Not supported by this batch: ${lead}, beyond the noise.` };
}

function claimResult(spec: ClaimSpec, arms: readonly ArmResult[]): ClaimResult | null {
  const a = arms.find((x) => x.arm === spec.method) ?? null;
  const b = arms.find((x) => x.arm === spec.alternative) ?? null;
  if (!a || !b) {
    if (!spec.listWhenNotRun) return null;
    const missing = [!a ? spec.method : null, !b ? spec.alternative : null].filter((x) => x !== null);
    return { spec, method: a, alternative: b, diff: null, verdict: 'not-run', measured: '', conclusion: `Not run in this batch (it needs the ${missing.map((m) => `“${ablationLabel(m) ?? m}”`).join(' and ')} arm${missing.length > 1 ? 's' : ''}).` };
  }
  if (!a.accuracy || !b.accuracy) {
    const none = [a, b].filter((x) => !x.accuracy).map((x) => x.label);
    return { spec, method: a, alternative: b, diff: null, verdict: 'not-run', measured: '', conclusion: `No finished run of ${none.join(' and ')} to measure.` };
  }
  const d = difference(a.accuracy, b.accuracy);
  const what = (x: ArmResult) => `${x.label} ${sampleText(x.accuracy!)}`;
  const measured = `Final test accuracy of the compact model: ${what(a)} vs ${what(b)}; ${differenceText(d, { label: a.label, sample: a.accuracy }, { label: b.label, sample: b.accuracy })}.`;
  const c = conclusion(spec, a, b, d);
  return { spec, method: a, alternative: b, diff: d, verdict: c.verdict, measured, conclusion: c.text };
}


/** The claims panel's content for one batch, from its runs' stored records. */
export function batchReport(records: readonly RunRecord[], batchId: string): BatchReport {
  const runs = records.filter((r) => r.batch?.id === batchId).sort((a, b) => a.createdAt - b.createdAt);
  const arms = armsOf(runs);
  const seeds = unique(runs.flatMap((r) => { const s = r.batch?.seed ?? r.config?.seed; return s === undefined ? [] : [s]; })).sort((a, b) => a - b);
  const configs = runs.flatMap((r) => (r.config ? [r.config] : []));
  const seedTexts = new Set(seeds.map((s) => valueText('seed', s, 'long')));
  const common = configs.length ? describeDifferences(configs).common.filter((t) => !seedTexts.has(t)) : [];
  const notCounted = arms.flatMap((a) => a.runs.filter((m) => !m.counted).map((m) => m.name));
  return {
    batchId,
    createdAt: runs[0]?.createdAt ?? 0,
    arms,
    claims: CLAIMS.map((c) => claimResult(c, arms)).filter((c): c is ClaimResult => c !== null),
    common,
    seeds,
    seedsPerArm: runs.find((r) => r.batch?.seeds !== undefined)?.batch?.seeds ?? null,
    backends: unique(runs.flatMap((r) => (r.backend ? [r.backend] : []))),
    data: unique(runs.flatMap((r) => (r.batch?.data ? [r.batch.data] : []))),
    notCounted,
  };
}
