import { liveValue, parseRunConfig, type LiveUpdate, type LrpetConfig, type RunConfig, type RunConfigInput } from '../../engine/config';
import { planModel, type ModelPlan } from '../../engine/plan';
import { formIds, getAt, isLive, liveIds, setAt, spec, type FormId, type SettingValue } from '../../engine/settings';
import { scheduleOfKind } from '../../engine/train/schedule';

/**
 * Everything the controls edit: the settings that have a URL key in the settings table (src/engine/settings.ts),
 * in its order. Plain data: presets and the URL are just values of this. Page fields (`compression`,
 * `flopsTarget`, `schedule` as a kind, `checkpointMinutes`) are turned into the engine's config by `toRunConfig`.
 */
export type FormState = { [K in FormId]: SettingValue<K> };
export type Compression = FormState['compression'];
export type LrScheduleKind = FormState['schedule'];

export interface Preset {
  id: 'quick' | 'paper';
  name: string;
  description: string;
  form: FormState;
}

/** The table's defaults, as a form. */
export function defaultForm(): FormState {
  return Object.fromEntries(formIds.map((id) => [id, structuredClone(spec(id).default)])) as FormState;
}

const base = defaultForm();

export const PRESETS: Preset[] = [
  {
    id: 'quick',
    name: 'Quick look',
    description: 'A tiny ResNet on 512 images, a projection every 4 steps: the spectra start moving within seconds on a GPU (a few minutes on a software renderer).',
    form: { ...base, model: 'resnet8-tiny', prune: 0.5, interval: 4, lr: 0.05, schedule: 'constant', batchSize: 32, epochs: 6, trainLimit: 512, testLimit: 500 },
  },
  {
    id: 'paper',
    name: 'Paper recipe',
    description: 'ResNet-56, p = 0.57 (ranks 6/13/27), 400 epochs, lr 0.1 ×0.1 at epochs 200 and 300, batch 128, one projection per epoch — the authors\' CIFAR-10 setup (days in a browser).',
    form: { ...base, model: 'resnet56', prune: 0.57, epochs: 400, schedule: 'step' },
  },
];

export const presetById = (id: Preset['id']): Preset => PRESETS.find((p) => p.id === id)!;

/** The reduction target the form's compression settings describe (the page offers FLOPs targets only). */
const targetOf = (f: Pick<FormState, 'compression' | 'flopsTarget'>): LrpetConfig['target'] =>
  f.compression === 'flops' ? { metric: 'macs', reduction: f.flopsTarget } : null;

/** The engine config the form describes: each setting at its place, the page fields turned into theirs, the rest the engine's defaults. */
export function toRunConfig(f: FormState): RunConfigInput {
  const c: RunConfigInput = {};
  for (const id of formIds) {
    const path = spec(id).path;
    if (path !== null) setAt(c, path, structuredClone(f[id]));
  }
  setAt(c, 'lrpet.target', targetOf(f));
  c.schedule = scheduleOfKind(f.schedule, f.epochs);
  return c;
}

/**
 * The form a stored or resumed run's config describes; page-only settings come from `base`. A parameters
 * target (CLI only) cannot be shown: the form keeps the config's p for it.
 */
export function formFromConfig(config: RunConfig, base: FormState): FormState {
  const f: Record<string, unknown> = { ...base };
  for (const id of formIds) {
    const path = spec(id).path;
    if (path !== null) f[id] = structuredClone(getAt(config, path));
  }
  const target = config.lrpet.target;
  f.compression = target?.metric === 'macs' ? 'flops' : 'prune';
  if (target?.metric === 'macs') f.flopsTarget = target.reduction;
  f.schedule = config.schedule.kind;
  return f as FormState;
}

export interface PlanResult {
  plan: Omit<ModelPlan, 'graph'> | null;
  error: string | null;
}

/** Ranks, MACs and parameters for the form, computed on the spot (pure, fast). */
export function planFor(f: Pick<FormState, 'model' | 'lrpet' | 'compression' | 'prune' | 'flopsTarget' | 'rankFloors' | 'rankOverrides'> & Partial<Pick<FormState, 'rankMultiple'>>): PlanResult {
  try {
    const plan = planModel(f.model, { enabled: f.lrpet, prune: f.prune, target: targetOf(f), rankOverrides: f.rankOverrides, rankFloors: f.rankFloors, rankMultiple: f.rankMultiple, projectDense: false });
    const { graph: _graph, ...rest } = plan;
    return { plan: rest, error: null };
  } catch (e) {
    return { plan: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Whether a form field may change during a run (the engine's LiveUpdate, or a page field the page turns into one). */
export const isLiveField = (k: keyof FormState): boolean => isLive(k);

/** Same value: numbers, switches, null, and flat records (rank overrides) or objects (a target) compared by content. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

type LiveResult = { update: LiveUpdate | null; error: string | null };

/**
 * The LiveUpdate that turns the config a run last reported (runStart's config with each configChange
 * applied) into what the form says, or null when nothing live differs. A FLOPs target is solved here into p
 * (the engine takes p mid-run); an unreachable one is reported in `error` and the rest still sent.
 */
export function liveDiff(reported: RunConfig, next: FormState): LiveResult;
/** The same from the form a run was last given (until the page keeps the reported config). */
export function liveDiff(applied: FormState, next: FormState): LiveResult;
export function liveDiff(from: RunConfig | FormState, next: FormState): LiveResult {
  const reported = typeof from.lrpet === 'boolean' ? parseRunConfig(toRunConfig(from as FormState)) : (from as RunConfig);
  const u: Record<string, unknown> = {};
  for (const id of liveIds) {
    const want = (next as Record<string, unknown>)[id];
    if (id !== 'prune' && !same(want, liveValue(reported, id))) u[id] = want;
  }
  const done = (error: string | null): LiveResult => ({ update: Object.keys(u).length ? (u as LiveUpdate) : null, error });
  const target = targetOf(next);
  const had = reported.lrpet;
  if (target ? same(target, had.target) : had.target === null && next.prune === had.prune) return done(null);
  let p = next.prune;
  if (target) {
    const r = planFor(next);
    if (!r.plan) return done(r.error);
    p = r.plan.prune;
  }
  if (p !== had.prune || had.target !== null) u.prune = p;
  return done(null);
}
