import { z } from 'zod';
import { ConfigError } from './errors';
import { getAt, liveIds, setAt, SETTINGS, shapeAt, valueText, type LiveId, type ShapeAt } from './settings';

export { MODEL_NAMES, type ModelName, type LrSchedule } from './settings';

// The schemas are derived from the settings table (settings.ts): bounds, defaults and field order live there.

export const LrpetConfigSchema = z.object(shapeAt('lrpet.') as ShapeAt<'lrpet.'>);
export type LrpetConfig = z.infer<typeof LrpetConfigSchema>;

const lrpetDefault = LrpetConfigSchema.default(LrpetConfigSchema.parse({}));

export const RunConfigSchema = z.object(shapeAt('', () => lrpetDefault) as ShapeAt<''> & { lrpet: typeof lrpetDefault });
export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/** Parses and fills defaults; throws a ZodError with readable paths on bad input. */
export function parseRunConfig(input: unknown): RunConfig {
  return RunConfigSchema.parse(input ?? {});
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
