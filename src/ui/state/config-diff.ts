import type { LrSchedule, RunConfig } from '../../engine/config';
import { getAt, SETTINGS, settingIds, spec, valueText, type SettingId } from '../../engine/settings';
export type ComparedConfig = RunConfig;

/** One readable setting: `dim` says what it is about, `text` is what a reader sees. */
interface Setting {
  dim: string;
  text: string;
  /** A default not worth a subtitle (e.g. "no rank overrides"); still shown when it is what differs. */
  quiet?: boolean;
}

function scheduleText(s: LrSchedule): string {
  if (s.kind === 'constant') return 'constant lr';
  if (s.kind === 'cosine') return s.minLr > 0 ? `cosine lr to ${s.minLr}` : 'cosine lr';
  return s.milestones.length ? `lr ×${s.gamma} at epochs ${s.milestones.join(', ')}` : 'constant lr';
}

function methodText(c: ComparedConfig): string {
  if (c.compactFromScratch) return 'compact from scratch';
  if (c.posthoc) {
    // The plain post-hoc SVD has neither; say so only when one is on.
    const extras = [c.lrpet.energyTransfer ? ` + ${SETTINGS.energyTransfer.name}` : '', c.lrpet.bnRectification ? ` + ${SETTINGS.bnRectification.name}` : ''].join('');
    return `post-hoc${extras} (fine-tune ${c.posthoc.fineTuneEpochs} ep)`;
  }
  return c.lrpet.enabled ? 'LRPET' : 'dense (no LRPET)';
}

/** A setting as the table words it ("batch 32", "energy transfer: on"); `minor` ones are quiet at their default. */
function setting(c: ComparedConfig, id: SettingId): Setting {
  const s = spec(id);
  const value = getAt(c, s.path!);
  return { dim: id, text: valueText(id, value, 'long'), quiet: s.minor && sameValue(value, s.default) };
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

const imagesText = (c: ComparedConfig, id: 'trainLimit' | 'testLimit', all: string): Setting => {
  const n = c[id];
  return { dim: id, text: n === null ? `all ${all} images` : `${spec(id).short} ${n} ${spec(id).unit}` };
};

/** Settings worded by more than valueText, or together with another (null: said by another's words). */
const WORDED: Partial<Record<SettingId, ((c: ComparedConfig) => Setting) | null>> = {
  model: (c) => ({ dim: 'model', text: c.model }),
  epochs: (c) => ({ dim: 'epochs', text: `${c.epochs} epochs` }),
  lrSchedule: (c) => ({ dim: 'schedule', text: scheduleText(c.schedule) }),
  trainLimit: (c) => imagesText(c, 'trainLimit', 'training'),
  testLimit: (c) => imagesText(c, 'testLimit', 'test'),
  init: (c) => ({ dim: 'init', text: `init: ${c.init ? c.init.name : 'from the seed'}`, quiet: !c.init }),
  // The method: LRPET, dense, or one of the baselines (methodText).
  lrpetEnabled: null,
  posthoc: null,
  compactFromScratch: null,
  prune: (c) =>
    c.lrpet.target ? { dim: 'prune', text: `${c.lrpet.target.metric === 'macs' ? 'FLOPs' : 'parameters'} −${Math.round(c.lrpet.target.reduction * 1000) / 10}%` } : setting(c, 'prune'),
  target: null,
  rankOverrides: (c) => {
    const overrides = Object.entries(c.lrpet.rankOverrides);
    return { dim: 'ranks', text: overrides.length ? `ranks ${overrides.map(([n, r]) => `${n}:${r}`).join(', ')}` : 'no rank overrides', quiet: !overrides.length };
  },
  interval: (c) => ({ dim: 'interval', text: c.lrpet.interval === null ? 'projection every epoch' : `projection every ${c.lrpet.interval} ${spec('interval').unit}` }),
  startEpoch: (c) => {
    const { startEpoch, endEpoch } = c.lrpet;
    const all = startEpoch === 0 && endEpoch === null;
    return { dim: 'window', text: all ? 'projections in every epoch' : `projections in epochs ${startEpoch}–${endEpoch ?? 'last'}`, quiet: all };
  },
  endEpoch: null,
};

/**
 * The settings of one run as readable pairs, in the settings table's order. Only settings that matter for
 * the run's method are listed: LRPET's (lrpet.*) only where something is compressed, and of those the ones
 * that act during training (not the rank plan's) only for LRPET itself, not for post-hoc or from scratch.
 */
function settingsOf(c: ComparedConfig): Setting[] {
  const compressed = c.lrpet.enabled || !!c.posthoc || !!c.compactFromScratch;
  const projecting = compressed && !c.posthoc && !c.compactFromScratch;
  const out: Setting[] = [{ dim: 'method', text: methodText(c) }];
  for (const id of settingIds) {
    const s = spec(id);
    if (s.path === null) continue;
    if (s.path.startsWith('lrpet.') && !(s.plan ? compressed : projecting)) continue;
    const worded = WORDED[id];
    if (worded === null) continue;
    out.push(worded ? worded(c) : setting(c, id));
  }
  return out;
}

/**
 * What the runs share (`common`, for a subtitle) and, for each run, a short label of what sets it apart
 * (`perRun`, the legend). A setting differs when two runs that both have it disagree. Where most runs agree
 * on a differing setting (a unique most common value, held by two or more), a run is labelled only by where
 * it departs from that; a run that departs nowhere (the reference) is labelled by all its differing values.
 */
export function describeDifferences(configs: readonly ComparedConfig[]): { common: string[]; perRun: string[][] } {
  const runs = configs.map(settingsOf);
  const dims: string[] = [];
  for (const run of runs) for (const s of run) if (!dims.includes(s.dim)) dims.push(s.dim);

  const common: string[] = [];
  const differing = new Map<string, string | null>(); // dim → the value most runs have, if there is one
  for (const dim of dims) {
    const present = runs.flatMap((run) => run.filter((s) => s.dim === dim));
    const counts = new Map<string, number>();
    for (const s of present) counts.set(s.text, (counts.get(s.text) ?? 0) + 1);
    if (counts.size === 1) {
      if (!present[0].quiet) common.push(present[0].text);
      continue;
    }
    const ranked = [...counts].sort((a, b) => b[1] - a[1]);
    differing.set(dim, ranked[0][1] >= 2 && ranked[0][1] > ranked[1][1] ? ranked[0][0] : null);
  }

  const perRun = runs.map((run) => {
    const values = run.filter((s) => differing.has(s.dim));
    const departures = values.filter((s) => differing.get(s.dim) !== s.text);
    return (departures.length ? departures : values).map((s) => s.text);
  });
  return { common, perRun };
}
