import { z } from 'zod';
import { defaultRankFloors, type ModelName } from '../../engine/config';
import { planModel } from '../../engine/plan';
import { formIds, pageRange, spec, urlKeys, type FormId, type NumberSetting, type SETTINGS } from '../../engine/settings';
import { presetById, type FormState, type Preset } from './form';

/**
 * The playground's whole configuration as a query string: every FormState field under its setting's id,
 * in a fixed order, so a link reproduces the form exactly (and reads like the settings it holds). Older
 * links used short keys (`p`, `et`, `wdscope`): they still read (settings.ts urlKeys).
 */

export interface Range {
  min: number;
  max: number;
  int: boolean;
}

type NumberFormId = { [K in FormId]: (typeof SETTINGS)[K] extends { kind: 'number' } ? K : never }[FormId];
const isNumberField = (id: FormId): id is NumberFormId => spec(id).kind === 'number';

/**
 * Allowed values: the page ranges of the settings table (src/engine/settings.ts), inside the engine's bounds.
 * Start and end epoch are also checked against epochs − 1, once the epochs are known.
 */
export const RANGES = Object.fromEntries(formIds.filter(isNumberField).map((id) => [id, pageRange(spec(id) as NumberSetting)])) as Record<NumberFormId, Range>;

const rangeSchema = (r: Range) => {
  const n = z.number().min(r.min).max(r.max);
  return r.int ? n.int() : n;
};

/** What a valid form looks like (start/end against the epoch count is checked by `formFromSearch`). */
export const FormStateSchema: z.ZodType<FormState> = z.object(
  Object.fromEntries(
    formIds.map((id) => {
      const s = spec(id);
      if (s.kind !== 'number') return [id, s.type];
      const n = rangeSchema(pageRange(s));
      return [id, s.nullable ? n.nullable() : n];
    }),
  ),
) as unknown as z.ZodType<FormState>;

/** Query keys the page reads itself (backend choice, kernels): not form settings, ignored without a note. */
export const PAGE_KEYS = ['backend', 'kernels'] as const;

const numberText = z.string().trim().min(1).transform(Number).pipe(z.number());
const switchText = z.enum(['1', '0', 'on', 'off', 'true', 'false', 'yes', 'no']);

type Notes = string[];

/** One FormState field ↔ its URL value. `read` returns undefined (with a note naming `key`) when the text is unusable. */
interface FieldCodec {
  field: FormId;
  write: (f: FormState) => string;
  read: (raw: string, f: FormState, notes: Notes, key: string) => Partial<FormState> | undefined;
}

/** A field's codec under its URL keys (the id first: what links are written with). */
type Codec = FieldCodec & { keys: readonly string[] };

/** Rounds (when an integer is needed) and clamps, reporting each change. */
function fitRange(key: string, x: number, r: Range, notes: Notes): number {
  let v = x;
  if (r.int && !Number.isInteger(v)) {
    v = Math.round(v);
    notes.push(`${key} ${x} is not a whole number: using ${v}`);
  }
  if (v < r.min) {
    notes.push(`${key} ${v} is below the minimum ${r.min}: using ${r.min}`);
    v = r.min;
  } else if (v > r.max) {
    notes.push(`${key} ${v} is above the maximum ${r.max}: using ${r.max}`);
    v = r.max;
  }
  return v;
}

const shown = (v: unknown) => (v === null ? 'none' : typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

const valueOf = (f: FormState, field: FormId): unknown => (f as Record<FormId, unknown>)[field];

function numberCodec(field: NumberFormId, nullWord?: string): FieldCodec {
  const range: Range = RANGES[field];
  return {
    field,
    write: (f) => (valueOf(f, field) === null ? nullWord! : String(valueOf(f, field))),
    read: (raw, f, notes, key) => {
      if (nullWord !== undefined && raw.trim() === nullWord) return { [field]: null };
      const parsed = numberText.safeParse(raw);
      if (!parsed.success) {
        const kept = valueOf(f, field) === null ? nullWord : shown(valueOf(f, field));
        notes.push(`${key}: "${raw}" is not a number${nullWord ? ` or "${nullWord}"` : ''}, kept ${kept}`);
        return undefined;
      }
      return { [field]: fitRange(key, parsed.data, range, notes) };
    },
  };
}

function switchCodec(field: FormId): FieldCodec {
  return {
    field,
    write: (f) => (valueOf(f, field) ? '1' : '0'),
    read: (raw, f, notes, key) => {
      const parsed = switchText.safeParse(raw.trim().toLowerCase());
      if (!parsed.success) {
        notes.push(`${key}: "${raw}" is not 1 or 0, kept ${shown(valueOf(f, field))}`);
        return undefined;
      }
      return { [field]: ['1', 'on', 'true', 'yes'].includes(parsed.data) };
    },
  };
}

function choiceCodec(field: FormId, values: readonly string[]): FieldCodec {
  const schema = z.enum(values as [string, ...string[]]);
  return {
    field,
    write: (f) => String(valueOf(f, field)),
    read: (raw, f, notes, key) => {
      const parsed = schema.safeParse(raw.trim());
      if (!parsed.success) {
        notes.push(`${key}: "${raw}" is not one of ${values.join(', ')}, kept ${String(valueOf(f, field))}`);
        return undefined;
      }
      return { [field]: parsed.data };
    },
  };
}

const projectedLayers = new Map<ModelName, Map<string, number>>();
/** The layers of a model that can be given a rank (the projected convolutions), with their largest rank. */
export function rankableLayers(model: ModelName): Map<string, number> {
  let layers = projectedLayers.get(model);
  if (!layers) {
    const plan = planModel(model, { enabled: true, prune: 0, target: null, rankOverrides: {}, rankFloors: false, projectDense: false });
    layers = new Map(plan.layers.filter((l) => l.projected).map((l) => [l.name, l.n]));
    projectedLayers.set(model, layers);
  }
  return layers;
}

const rankEntry = z.tuple([z.string().trim().min(1), numberText]);

const ranksCodec: FieldCodec = {
  field: 'rankOverrides',
  write: (f) =>
    Object.entries(f.rankOverrides)
      .map(([name, r]) => `${name}:${r}`)
      .join(','),
  read: (raw, f, notes, key) => {
    const layers = rankableLayers(f.model);
    const ranks: Record<string, number> = {};
    for (const item of raw.split(',')) {
      if (!item.trim()) continue;
      const colon = item.lastIndexOf(':');
      const parsed = rankEntry.safeParse(colon < 0 ? [item] : [item.slice(0, colon), item.slice(colon + 1)]);
      if (!parsed.success) {
        notes.push(`${key}: "${item}" is not layer:rank, dropped`);
        continue;
      }
      const [name, rank] = parsed.data;
      const n = layers.get(name);
      if (n === undefined) {
        notes.push(`${key}: ${f.model} has no projected layer "${name}", dropped`);
        continue;
      }
      ranks[name] = fitRange(`rank of ${name}`, rank, { min: 1, max: n, int: true }, notes);
    }
    return { rankOverrides: ranks };
  },
};

/** Codecs for the form settings of kind 'custom' (values with their own shape), by setting. */
const CUSTOM_CODECS: Partial<Record<FormId, FieldCodec>> = { rankOverrides: ranksCodec };

function fieldCodec(id: FormId): FieldCodec {
  const s = spec(id);
  switch (s.kind) {
    case 'number':
      return numberCodec(id as NumberFormId, s.nullable ? s.nullWord : undefined);
    case 'boolean':
      return switchCodec(id);
    case 'choice':
      return choiceCodec(id, s.values);
    case 'custom': {
      const codec = CUSTOM_CODECS[id];
      if (!codec) throw new Error(`setting ${id} has a URL key but no codec`);
      return codec;
    }
  }
}

const codecOf = (id: FormId): Codec => ({ ...fieldCodec(id), keys: urlKeys(id) });

/** The URL keys, in the order `formToSearch` writes them (the settings table's order). */
const CODECS: Codec[] = formIds.map(codecOf);

/** Leaves the characters that are legal in a query value readable (layer names, rank lists). */
const encodeValue = (v: string) => encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%2C/gi, ',');

/** Every form field as a query string (no leading '?'), keys always in the same order. */
export function formToSearch(form: FormState): string {
  return CODECS.map((c) => `${c.keys[0]}=${encodeValue(c.write(form))}`).join('&');
}

/** A preset as a link: the whole form spelled out, so the link keeps working if the preset changes. */
export function presetLink(preset: Preset): string {
  return `?${formToSearch(preset.form)}`;
}

/** Projections happen within [0, epochs − 1], and the end is not before the start. */
function fitEpochWindow(f: FormState, notes: Notes): FormState {
  const last = f.epochs - 1;
  let { startEpoch, endEpoch } = f;
  if (startEpoch > last) {
    notes.push(`start ${startEpoch} is above the maximum ${last} (the last epoch): using ${last}`);
    startEpoch = last;
  }
  if (endEpoch !== null && endEpoch > last) {
    notes.push(`end ${endEpoch} is above the maximum ${last} (the last epoch): using ${last}`);
    endEpoch = last;
  }
  if (endEpoch !== null && endEpoch < startEpoch) {
    notes.push(`end ${endEpoch} is before start ${startEpoch}: using ${startEpoch}`);
    endEpoch = startEpoch;
  }
  return startEpoch === f.startEpoch && endEpoch === f.endEpoch ? f : { ...f, startEpoch, endEpoch };
}

/**
 * The form a query string describes: `preset=quick|paper` (or `fallback`) first, then each key on top.
 * Nothing in the URL can make the form invalid: bad values are kept out, out-of-range ones clamped,
 * and every such change is explained in `notes` (for a notice on the page).
 */
export function formFromSearch(search: string, fallback: FormState): { form: FormState; notes: string[] } {
  const params = new URLSearchParams(search);
  const notes: Notes = [];
  const last = (key: string): string | null => {
    const all = params.getAll(key);
    if (all.length > 1) notes.push(`${key} is given ${all.length} times: using the last (${all[all.length - 1]})`);
    return all.length ? all[all.length - 1] : null;
  };

  const preset = last('preset');
  let f: FormState = structuredClone(fallback);
  if (preset === 'quick' || preset === 'paper' || preset === 'vgg') f = structuredClone(presetById(preset).form);
  else if (preset !== null) notes.push(`preset: "${preset}" is not quick, paper or vgg, ignored`);

  const known = new Set<string>(['preset', ...PAGE_KEYS, ...CODECS.flatMap((c) => c.keys)]);
  for (const key of new Set(params.keys())) {
    if (!known.has(key)) notes.push(`unknown setting "${key}" ignored`);
  }

  const modelBefore = f.model;
  for (const codec of CODECS) {
    const given = codec.keys.filter((k) => params.has(k));
    if (given.length > 1) notes.push(`${given.join(' and ')} both set ${codec.keys[0]}: using ${given[0]}`);
    const key = given[0] ?? codec.keys[0];
    const raw = last(key);
    if (codec.field === 'rankOverrides' && raw === null && f.model !== modelBefore && Object.keys(f.rankOverrides).length) {
      notes.push(`rank overrides are for ${modelBefore}, not ${f.model}: cleared`);
      f = { ...f, rankOverrides: {} };
    }
    // A link that changes the model and says nothing of the floors: the model's own default (VGG-16 has them).
    if (codec.field === 'rankFloors' && raw === null && f.model !== modelBefore) f = { ...f, rankFloors: defaultRankFloors(f.model) };
    if (raw === null) continue;
    const change = codec.read(raw, f, notes, key);
    if (change) f = { ...f, ...change };
  }
  return { form: fitEpochWindow(f, notes), notes };
}
