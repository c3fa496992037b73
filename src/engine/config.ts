import { z } from 'zod';
import { ConfigError } from './errors';
import { getAt, liveIds, setAt, settingIds, SETTINGS, shapeAt, spec, valueText, type LiveId, type ShapeAt } from './settings';
import { scheduleOfKind } from './train/schedule';

export { MODEL_NAMES, type ModelName, type LrSchedule } from './settings';

// The schemas are derived from the settings table (settings.ts): bounds, defaults and field order live there.

export const LrpetConfigSchema = z.object(shapeAt('lrpet.') as ShapeAt<'lrpet.'>);
export type LrpetConfig = z.infer<typeof LrpetConfigSchema>;

const lrpetDefault = LrpetConfigSchema.default(LrpetConfigSchema.parse({}));

const RunConfigObject = z.object(shapeAt('', () => lrpetDefault) as ShapeAt<''> & { lrpet: typeof lrpetDefault });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Defaults that depend on another field (run.schema.json describes them; the PyTorch trainer applies the
 * same rules): without a schedule a run gets the paper's step schedule scaled to its epochs (×0.1 at ½ and
 * ¾: 200 and 300 of 400), as the CLI and the page make it; without `lrpet.rankFloors` VGG-16 gets the
 * official rank floors (its script always applies them) and every other model none.
 */
/** The official script always applies the VGG rank floors to VGG-16: its default; no other model has them by default. */
export const defaultRankFloors = (model: unknown): boolean => model === 'vgg16';

function withDependentDefaults(input: unknown): unknown {
  const given = input ?? {};
  if (!isRecord(given)) return given;
  let c = given;
  if (c.schedule === undefined) {
    const epochs = SETTINGS.epochs.type.safeParse(c.epochs ?? SETTINGS.epochs.default);
    if (epochs.success) c = { ...c, schedule: scheduleOfKind('step', epochs.data) };
  }
  const lrpet = c.lrpet ?? {};
  if (defaultRankFloors(c.model) && isRecord(lrpet) && lrpet.rankFloors === undefined) c = { ...c, lrpet: { ...lrpet, rankFloors: true } };
  return c;
}

export const RunConfigSchema = z.preprocess(withDependentDefaults, RunConfigObject);
export type RunConfig = z.infer<typeof RunConfigObject>;
export type RunConfigInput = z.input<typeof RunConfigObject>;

/** Parses and fills defaults; throws a ZodError with readable paths on bad input. */
export function parseRunConfig(input: unknown): RunConfig {
  return RunConfigSchema.parse(input ?? {});
}

/** The value at a path, or undefined where the path does not exist. */
function valueAt(config: Record<string, unknown>, path: string): unknown {
  let v: unknown = config;
  for (const k of path.split('.')) v = isRecord(v) ? v[k] : undefined;
  return v;
}

/**
 * A stored config (checkpoint, run log, run file, a run kept in the browser) was complete when it was
 * written: a field it lacks is a setting that did not exist then, so it means the old behaviour — the
 * table's `legacy` value where the default of a new run differs from it (weight decay on kernels only).
 */
function withLegacyValues(input: unknown): unknown {
  if (!isRecord(input)) return input;
  let out: Record<string, unknown> | null = null;
  for (const id of settingIds) {
    const s = spec(id);
    if (s.legacy === undefined || s.path === null || valueAt(input, s.path) !== undefined) continue;
    out ??= structuredClone(input);
    setAt(out, s.path, structuredClone(s.legacy));
  }
  return out ?? input;
}

/** The schema of stored configs: missing fields read as what they meant when the config was written (withLegacyValues). */
export const StoredRunConfigSchema = z.preprocess(withLegacyValues, RunConfigSchema);

/** Parses a stored config (a checkpoint's, a logged runStart's): see StoredRunConfigSchema. Not for new runs. */
export function parseStoredRunConfig(input: unknown): RunConfig {
  return StoredRunConfigSchema.parse(input);
}

/** Rules across fields of the two baselines; throws a ConfigError saying what to change. */
export function checkRunModes(c: RunConfig): void {
  if (c.posthoc && c.compactFromScratch) throw new ConfigError('posthoc and compactFromScratch are two different baselines: set only one');
  const mode = c.posthoc ? 'posthoc' : c.compactFromScratch ? 'compactFromScratch' : null;
  if (mode && !c.lrpet.enabled) throw new ConfigError(`${mode} needs lrpet.enabled: its ranks come from the LRPET settings`);
  if (c.posthoc && c.posthoc.fineTuneEpochs >= c.epochs) {
    throw new ConfigError(
      `posthoc.fineTuneEpochs (${c.posthoc.fineTuneEpochs}) must be less than epochs (${c.epochs}): the dense model needs at least one epoch before the projection`,
    );
  }
}

type LiveShape = { [K in LiveId]: z.ZodOptional<(typeof SETTINGS)[K]['type']> };

/** The settings that may change while a run is going (they apply at the next step or projection): those marked `live`. */
export const LiveUpdateSchema = z.object(Object.fromEntries(liveIds.map((id) => [id, SETTINGS[id].type.optional()])) as LiveShape);
export type LiveUpdate = z.infer<typeof LiveUpdateSchema>;

/** The config after a live update. A new p replaces a reduction target (the engine takes p mid-run). */
export function applyLiveUpdate(config: RunConfig, changes: LiveUpdate): RunConfig {
  const next = structuredClone(config);
  for (const id of liveIds) {
    const value = changes[id];
    const path = SETTINGS[id].path;
    if (value !== undefined && path !== null) setAt(next, path, structuredClone(value));
  }
  if (changes.prune !== undefined) next.lrpet.target = null;
  return next;
}

/** The config's value of a live setting (to compare with what a form or a change says). */
export const liveValue = <K extends LiveId>(config: RunConfig, id: K): LiveUpdate[K] => {
  const path = SETTINGS[id].path;
  return (path === null ? undefined : getAt(config, path)) as LiveUpdate[K];
};

/** A live update in a few words, in the table's order: "lr 0.01, p 0.75, ET off". */
export const describeChanges = (changes: LiveUpdate): string =>
  liveIds
    .filter((id) => changes[id] !== undefined)
    .map((id) => valueText(id, changes[id]))
    .join(', ');
