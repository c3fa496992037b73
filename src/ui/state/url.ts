import { z } from 'zod';
import { MODEL_NAMES, type ModelName } from '../../engine/config';
import { planModel } from '../../engine/plan';
import { presetById, type Compression, type FormState, type LrScheduleKind, type Preset } from './form';

/**
 * The playground's whole configuration as a query string: every FormState field under a short key,
 * in a fixed order, so a link reproduces the form exactly (and reads like the settings it holds).
 */

interface Range {
  min: number;
  max: number;
  int: boolean;
}

/**
 * Allowed values. The engine's schema (src/engine/config.ts) gives the lower bounds and the open upper
 * bounds (p, β, FLOPs target < 1; batch ≤ 4096); the other maximums are the playground's.
 */
export const RANGES = {
  prune: { min: 0, max: 0.99, int: false },
  flopsTarget: { min: 0.01, max: 0.99, int: false },
  interval: { min: 1, max: 1_000_000, int: true },
  /** The upper bound is epochs − 1, checked once the epochs are known. */
  startEpoch: { min: 0, max: 9999, int: true },
  endEpoch: { min: 0, max: 9999, int: true },
  beta: { min: 0, max: 0.99, int: false },
  lr: { min: 1e-6, max: 10, int: false },
  batchSize: { min: 1, max: 4096, int: true },
  epochs: { min: 1, max: 10000, int: true },
  seed: { min: 0, max: 2 ** 31 - 1, int: true },
  trainLimit: { min: 1, max: 50000, int: true },
  testLimit: { min: 1, max: 10000, int: true },
  checkpointMinutes: { min: 0.05, max: 120, int: false },
} as const satisfies Record<string, Range>;

const rangeSchema = (r: Range) => {
  const n = z.number().min(r.min).max(r.max);
  return r.int ? n.int() : n;
};

/** What a valid form looks like (start/end against the epoch count is checked by `formFromSearch`). */
export const FormStateSchema = z.object({
  model: z.enum(MODEL_NAMES),
  lrpet: z.boolean(),
  compression: z.enum(['prune', 'flops']),
  prune: rangeSchema(RANGES.prune),
  flopsTarget: rangeSchema(RANGES.flopsTarget),
  rankFloors: z.boolean(),
  rankOverrides: z.record(z.string(), z.number().int().min(1)),
  interval: rangeSchema(RANGES.interval).nullable(),
  startEpoch: rangeSchema(RANGES.startEpoch),
  endEpoch: rangeSchema(RANGES.endEpoch).nullable(),
  energyTransfer: z.boolean(),
  beta: rangeSchema(RANGES.beta),
  bnRectification: z.boolean(),
  lr: rangeSchema(RANGES.lr),
  schedule: z.enum(['step', 'cosine', 'constant']),
  batchSize: rangeSchema(RANGES.batchSize),
  epochs: rangeSchema(RANGES.epochs),
  seed: rangeSchema(RANGES.seed),
  trainLimit: rangeSchema(RANGES.trainLimit).nullable(),
  testLimit: rangeSchema(RANGES.testLimit).nullable(),
  augment: z.boolean(),
  checkpointMinutes: rangeSchema(RANGES.checkpointMinutes),
});

/** Query keys the page reads itself (backend choice, kernels): not form settings, ignored without a note. */
export const PAGE_KEYS = ['backend', 'kernels'] as const;

const numberText = z.string().trim().min(1).transform(Number).pipe(z.number());
const switchText = z.enum(['1', '0', 'on', 'off', 'true', 'false', 'yes', 'no']);

type Notes = string[];

/** One URL key ↔ one FormState field. `read` returns undefined (with a note) when the text is unusable. */
interface Codec {
  key: string;
  field: keyof FormState;
  write: (f: FormState) => string;
  read: (raw: string, f: FormState, notes: Notes) => Partial<FormState> | undefined;
}

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

function numberCodec<K extends keyof typeof RANGES & keyof FormState>(key: string, field: K, nullWord?: string): Codec {
  const range: Range = RANGES[field];
  return {
    key,
    field,
    write: (f) => (f[field] === null ? nullWord! : String(f[field])),
    read: (raw, f, notes) => {
      if (nullWord !== undefined && raw.trim() === nullWord) return { [field]: null };
      const parsed = numberText.safeParse(raw);
      if (!parsed.success) {
        const kept = f[field] === null ? nullWord : shown(f[field]);
        notes.push(`${key}: "${raw}" is not a number${nullWord ? ` or "${nullWord}"` : ''}, kept ${kept}`);
        return undefined;
      }
      return { [field]: fitRange(key, parsed.data, range, notes) };
    },
  };
}

function switchCodec(key: string, field: 'lrpet' | 'rankFloors' | 'energyTransfer' | 'bnRectification' | 'augment'): Codec {
  return {
    key,
    field,
    write: (f) => (f[field] ? '1' : '0'),
    read: (raw, f, notes) => {
      const parsed = switchText.safeParse(raw.trim().toLowerCase());
      if (!parsed.success) {
        notes.push(`${key}: "${raw}" is not 1 or 0, kept ${shown(f[field])}`);
        return undefined;
      }
      return { [field]: ['1', 'on', 'true', 'yes'].includes(parsed.data) };
    },
  };
}

function choiceCodec<K extends 'model' | 'compression' | 'schedule'>(key: string, field: K, values: readonly FormState[K][]): Codec {
  const schema = z.enum(values as unknown as [string, ...string[]]);
  return {
    key,
    field,
    write: (f) => f[field],
    read: (raw, f, notes) => {
      const parsed = schema.safeParse(raw.trim());
      if (!parsed.success) {
        notes.push(`${key}: "${raw}" is not one of ${values.join(', ')}, kept ${f[field]}`);
        return undefined;
      }
      return { [field]: parsed.data as FormState[K] };
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

const ranksCodec: Codec = {
  key: 'ranks',
  field: 'rankOverrides',
  write: (f) =>
    Object.entries(f.rankOverrides)
      .map(([name, r]) => `${name}:${r}`)
      .join(','),
  read: (raw, f, notes) => {
    const layers = rankableLayers(f.model);
    const ranks: Record<string, number> = {};
    for (const item of raw.split(',')) {
      if (!item.trim()) continue;
      const colon = item.lastIndexOf(':');
      const parsed = rankEntry.safeParse(colon < 0 ? [item] : [item.slice(0, colon), item.slice(colon + 1)]);
      if (!parsed.success) {
        notes.push(`ranks: "${item}" is not layer:rank, dropped`);
        continue;
      }
      const [name, rank] = parsed.data;
      const n = layers.get(name);
      if (n === undefined) {
        notes.push(`ranks: ${f.model} has no projected layer "${name}", dropped`);
        continue;
      }
      ranks[name] = fitRange(`rank of ${name}`, rank, { min: 1, max: n, int: true }, notes);
    }
    return { rankOverrides: ranks };
  },
};

/** The URL keys, in the order `formToSearch` writes them (the FormState order). */
const CODECS: Codec[] = [
  choiceCodec('model', 'model', MODEL_NAMES),
  switchCodec('lrpet', 'lrpet'),
  choiceCodec<'compression'>('comp', 'compression', ['prune', 'flops'] satisfies Compression[]),
  numberCodec('p', 'prune'),
  numberCodec('flops', 'flopsTarget'),
  switchCodec('floors', 'rankFloors'),
  ranksCodec,
  numberCodec('interval', 'interval', 'epoch'),
  numberCodec('start', 'startEpoch'),
  numberCodec('end', 'endEpoch', 'last'),
  switchCodec('et', 'energyTransfer'),
  numberCodec('beta', 'beta'),
  switchCodec('bn', 'bnRectification'),
  numberCodec('lr', 'lr'),
  choiceCodec<'schedule'>('sched', 'schedule', ['step', 'cosine', 'constant'] satisfies LrScheduleKind[]),
  numberCodec('batch', 'batchSize'),
  numberCodec('epochs', 'epochs'),
  numberCodec('seed', 'seed'),
  numberCodec('train', 'trainLimit', 'all'),
  numberCodec('test', 'testLimit', 'all'),
  switchCodec('aug', 'augment'),
  numberCodec('ckpt', 'checkpointMinutes'),
];

/** Leaves the characters that are legal in a query value readable (layer names, rank lists). */
const encodeValue = (v: string) => encodeURIComponent(v).replace(/%2F/gi, '/').replace(/%3A/gi, ':').replace(/%2C/gi, ',');

/** Every form field as a query string (no leading '?'), keys always in the same order. */
export function formToSearch(form: FormState): string {
  return CODECS.map((c) => `${c.key}=${encodeValue(c.write(form))}`).join('&');
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
  if (preset === 'quick' || preset === 'paper') f = structuredClone(presetById(preset).form);
  else if (preset !== null) notes.push(`preset: "${preset}" is not quick or paper, ignored`);

  const known = new Set<string>(['preset', ...PAGE_KEYS, ...CODECS.map((c) => c.key)]);
  for (const key of new Set(params.keys())) {
    if (!known.has(key)) notes.push(`unknown setting "${key}" ignored`);
  }

  const modelBefore = f.model;
  for (const codec of CODECS) {
    const raw = last(codec.key);
    if (codec === ranksCodec && raw === null && f.model !== modelBefore && Object.keys(f.rankOverrides).length) {
      notes.push(`rank overrides are for ${modelBefore}, not ${f.model}: cleared`);
      f = { ...f, rankOverrides: {} };
    }
    if (raw === null) continue;
    const change = codec.read(raw, f, notes);
    if (change) f = { ...f, ...change };
  }
  return { form: fitEpochWindow(f, notes), notes };
}
