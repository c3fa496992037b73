import { z } from 'zod';
import { scheduleOfKind } from './train/schedule';

/**
 * Every setting of a run, once: its type and bounds, default, label and help, whether it may change
 * mid-run, its command-line flag and its URL key. The engine's schemas (config.ts), live updates, the
 * page's form, URL codec and controls, change labels, run comparisons and the CLI are derived from it.
 * Adding a setting is one entry here plus the code that uses the value.
 */

export const MODEL_NAMES = [
  'resnet20',
  'resnet32',
  'resnet44',
  'resnet56',
  'resnet110',
  'vgg16',
  // Small variants for tests and quick looks: same structure, fewer blocks / narrower.
  'resnet8-tiny',
  'resnet14-narrow',
  'vgg-tiny',
] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const LrScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }),
  /** lr × gamma at each milestone epoch (official CIFAR recipe: [200, 300], gamma 0.1). */
  z.object({ kind: z.literal('step'), milestones: z.array(z.number().int().min(0)), gamma: z.number().positive().max(1) }),
  z.object({ kind: z.literal('cosine'), minLr: z.number().min(0).default(0) }),
]);
export type LrSchedule = z.infer<typeof LrScheduleSchema>;

/** Numeric bounds as the engine checks them: `min`/`max` closed, `gt`/`lt` open. */
export interface Bounds {
  int?: boolean;
  min?: number;
  gt?: number;
  max?: number;
  lt?: number;
}

/** On the command line: a flag with a value (`--prune P`), or a switch that sets the value (`--no-energy-transfer`). */
export type CliFlag = { flag: string; arg: string; required?: boolean; multiple?: boolean; help?: string } | { flag: string; sets: boolean; help?: string };

/**
 * How a setting is given on the command line. Its flag is its id in kebab case (`weightDecayScope` →
 * `--weight-decay-scope`); a switch has two, `--x` (on) and `--no-x` (off). Older or shorter spellings
 * keep working as aliases (`--wd-scope`, `--batch`, `--no-bn-rect`).
 */
export interface CliSpec {
  /** The value's name in the help ('P'); a switch has none. */
  arg?: string;
  required?: true;
  multiple?: true;
  help?: string;
  aliases?: readonly (string | { flag: string; sets: boolean })[];
  /** The default in words, where it is not the value's own (one that depends on the model). */
  defaultText?: string;
}

/** A setting with a URL key is a field of the page's form; the key is its id, older keys (`p`, `wdscope`) still read. */
export type UrlSpec = true | { aliases: readonly string[] };

interface Common {
  /**
   * Where the value lives in RunConfig ('lr', 'lrpet.prune'). null: a page or command-line value that
   * the form / CLI turns into a config field (a FLOPs target into lrpet.target, a schedule kind into schedule).
   */
  path: string | null;
  /** Feeds the rank plan (ranks, MACs, parameters): a change re-plans, and mid-run changes the ranks. */
  plan?: true;
  /** The control's label. */
  label: string;
  /** A few letters for change markers and run comparisons ('p', 'β', 'ET'). */
  short: string;
  /** How running text names a switch ('energy transfer: off'); `short` when absent. */
  name?: string;
  help?: string;
  unit?: string;
  /** May change while a run is going: a config setting is then part of the engine's LiveUpdate; a page field is turned into one (a FLOPs target into p). */
  live?: true;
  /** Not worth a mention in a comparison's subtitle while at its default (β 0, no rank overrides). */
  minor?: true;
  /** On the command line: a CliSpec, or the flags themselves where one setting is read from several (a target). */
  cli?: CliSpec | readonly CliFlag[];
  url?: UrlSpec;
  /**
   * What a config stored before this setting existed meant (checkpoints, run logs, run files have no
   * such field): the old behaviour, where it differs from the default a new run gets. See parseStoredRunConfig.
   */
  legacy?: unknown;
}

interface NumberCommon extends Common {
  bounds: Bounds;
  /** The range the page offers (controls and links), where it is narrower than the engine's or the engine's is open. */
  page?: { min?: number; max?: number };
}

function numberType(b: Bounds): z.ZodNumber {
  let t = z.number();
  if (b.int) t = t.int();
  if (b.min !== undefined) t = t.min(b.min);
  if (b.gt !== undefined) t = t.gt(b.gt);
  if (b.max !== undefined) t = t.max(b.max);
  if (b.lt !== undefined) t = t.lt(b.lt);
  return t;
}

function number<const O extends NumberCommon & { default: number }>(o: O) {
  const type = numberType(o.bounds);
  return { ...o, kind: 'number' as const, nullable: false as const, type, schema: type.default(o.default) };
}

/** A number or null; `nullWord` stands for null in links, `nullLabel` on the page. */
function numberOrNull<const O extends NumberCommon & { default: number | null; nullWord: string; nullLabel: string }>(o: O) {
  const type = numberType(o.bounds).nullable();
  return { ...o, kind: 'number' as const, nullable: true as const, type, schema: type.default(o.default) };
}

function boolean<const O extends Common & { default: boolean }>(o: O) {
  const type = z.boolean();
  return { ...o, kind: 'boolean' as const, type, schema: type.default(o.default) };
}

function choice<const V extends readonly [string, ...string[]], const O extends Common>(o: O & { values: V; default: V[number]; optionLabels?: Record<V[number], string> }) {
  const type = z.enum(o.values);
  return { ...o, kind: 'choice' as const, type, schema: type.default(o.default as never) };
}

/** A value with its own shape (rank overrides, a target, the lr schedule): parsed and written by code that knows it. */
function custom<T extends z.ZodType, const O extends Common>(o: O & { type: T; default: z.output<T> }) {
  return { ...o, kind: 'custom' as const, schema: (o.type as z.ZodType).default(o.default as never) as z.ZodDefault<T> };
}

/** A share in (0, 1): a reduction target. */
const openFraction: Bounds = { gt: 0, lt: 1 };

/** The authors' CIFAR-10 run length; the default schedule is theirs, ×0.1 at epochs 200 and 300. */
export const PAPER_EPOCHS = 400;

const TargetSchema = z.object({ metric: z.enum(['macs', 'params']), reduction: numberType(openFraction) }).nullable();

/**
 * In the page's order (the URL writes its keys in this order). One entry a setting: its type, bounds and
 * default; its words (label, short, help); where it can be given (command-line flag, URL key).
 */
export const SETTINGS = {
  model: choice({
    path: 'model', values: MODEL_NAMES, default: 'resnet20', plan: true, cli: { arg: 'M', required: true }, url: true,
    label: 'Model', short: 'model',
    optionLabels: {
      resnet20: 'ResNet-20', resnet32: 'ResNet-32', resnet44: 'ResNet-44', resnet56: 'ResNet-56', resnet110: 'ResNet-110', vgg16: 'VGG-16-BN',
      'resnet8-tiny': 'ResNet-8 tiny (8/16/32 ch)', 'resnet14-narrow': 'ResNet-14 narrow (8/16/32 ch)', 'vgg-tiny': 'VGG tiny (16-32-64)',
    },
  }),
  lrpetEnabled: boolean({
    path: 'lrpet.enabled', default: true, plan: true, cli: { aliases: [{ flag: 'no-lrpet', sets: false }] }, url: { aliases: ['lrpet'] },
    label: 'LRPET (low-rank projection)', short: 'LRPET', help: 'off: a dense baseline, no projections',
  }),
  compression: choice({
    path: null, values: ['prune', 'flops'], default: 'prune', live: true, plan: true, url: { aliases: ['comp'] },
    label: 'Compression given as', short: 'compression', optionLabels: { prune: 'Prune ratio', flops: 'FLOPs target' },
  }),
  prune: number({
    path: 'lrpet.prune', bounds: { min: 0, lt: 1 }, page: { max: 0.99 }, default: 0.57, live: true, plan: true, cli: { arg: 'P' }, url: { aliases: ['p'] },
    label: 'Prune ratio (p)', short: 'p', help: "fraction of each layer's singular values removed: r = ⌊n − n·p⌋",
  }),
  flopsTarget: number({
    path: null, bounds: openFraction, page: { min: 0.01, max: 0.99 }, default: 0.55, live: true, plan: true, url: { aliases: ['flops'] },
    label: 'FLOPs reduction target', short: 'FLOPs', help: 'p is solved to remove this share of MACs',
  }),
  target: custom({
    path: 'lrpet.target', type: TargetSchema, default: null, plan: true,
    label: 'Reduction target', short: 'target', help: 'solve p so that this share of MACs (FLOPs) or parameters is removed; p is ignored then',
    cli: [
      { flag: 'target-flops', arg: 'F', help: 'solve p to remove this share of MACs (FLOPs), in (0, 1)' },
      { flag: 'target-params', arg: 'F', help: 'solve p to remove this share of parameters, in (0, 1)' },
    ],
  }),
  rankFloors: boolean({
    path: 'lrpet.rankFloors', default: false, minor: true, plan: true, cli: { defaultText: 'on for vgg16, off for the other models' }, url: { aliases: ['floors'] },
    label: 'Official VGG rank floors (18, then 43)', short: 'floors', name: 'VGG rank floors',
    // Not given, VGG-16 gets them (config.ts, withDependentDefaults): the official script always applies them.
    help: 'on by default for vgg16 (its official script always applies them), off for the other models',
  }),
  rankMultiple: number({
    path: 'lrpet.rankMultiple', bounds: { int: true, min: 1, max: 16 }, default: 1, live: true, minor: true, plan: true, cli: { arg: 'M' }, url: true,
    label: 'Rank multiple', short: 'rank ×',
    help: "each projected layer's rank rounded up to a multiple of this (never above n): 4 or 8 suit GPU kernels' vector loads; 1 = the paper's ranks. Rank overrides are kept as given",
  }),
  rankOverrides: custom({
    path: 'lrpet.rankOverrides', type: z.record(z.string(), z.number().int().min(1)), default: {}, live: true, minor: true, plan: true, cli: { arg: 'LAYER=R', multiple: true, aliases: ['rank'] }, url: { aliases: ['ranks'] },
    label: 'Rank overrides', short: 'ranks', help: 'per-layer ranks, by conv layer name',
  }),
  interval: numberOrNull({
    path: 'lrpet.interval', bounds: { int: true, min: 1 }, page: { max: 1_000_000 }, default: null, live: true, cli: { arg: 'I' }, url: true,
    nullWord: 'epoch', nullLabel: 'one epoch',
    label: 'Projection interval (iterations)', short: 'interval', unit: 'iterations', help: 'empty = once per epoch (the paper)',
  }),
  startEpoch: number({
    path: 'lrpet.startEpoch', bounds: { int: true, min: 0 }, page: { max: 9999 }, default: 0, live: true, cli: { arg: 'S' }, url: { aliases: ['start'] },
    label: 'Start epoch', short: 'start',
  }),
  endEpoch: numberOrNull({
    path: 'lrpet.endEpoch', bounds: { int: true, min: 0 }, page: { max: 9999 }, default: null, nullWord: 'last', nullLabel: 'last', live: true, cli: { arg: 'S' }, url: { aliases: ['end'] },
    label: 'End epoch', short: 'end',
  }),
  energyTransfer: boolean({
    path: 'lrpet.energyTransfer', default: true, live: true, cli: {}, url: { aliases: ['et'] },
    label: 'Energy transfer', short: 'ET', name: 'energy transfer', help: 'put the removed energy back on the kept singular values',
  }),
  beta: number({
    path: 'lrpet.beta', bounds: { min: 0, lt: 1 }, page: { max: 0.99 }, default: 0, live: true, minor: true, cli: { arg: 'X' }, url: true,
    label: 'β (soft factor)', short: 'β', help: 'cut values are scaled by β instead of set to 0',
  }),
  bnRectification: boolean({
    path: 'lrpet.bnRectification', default: true, live: true, cli: { aliases: [{ flag: 'no-bn-rect', sets: false }] }, url: { aliases: ['bn'] },
    label: 'BN rectification', short: 'BN rect', name: 'BN rectification', help: 'project diag(γ/σ)·W, the conv as BN scales it',
  }),
  projectDense: boolean({
    path: 'lrpet.projectDense', default: false, minor: true, plan: true,
    label: 'Project dense layers', short: 'project dense', name: 'dense layers projected', help: 'also project the fully connected layers (off in the paper)',
  }),
  bnRecalibrationBatches: number({
    path: 'lrpet.bnRecalibrationBatches', bounds: { int: true, min: 0 }, page: { max: 10000 }, default: 0, minor: true, cli: { arg: 'N', aliases: ['bn-recal'] }, url: { aliases: ['bnrecal'] },
    label: 'BN recalibration (batches)', short: 'BN recal', unit: 'batches',
    help: 'after the final projection, recompute every BN running mean and variance as the average over N training batches (0: off)',
  }),
  lr: number({
    path: 'lr', bounds: { gt: 0 }, page: { min: 1e-6, max: 10 }, default: 0.1, live: true, cli: { arg: 'L' }, url: true,
    label: 'Learning rate', short: 'lr',
  }),
  momentum: number({ path: 'momentum', bounds: { min: 0, lt: 1 }, default: 0.9, label: 'Momentum', short: 'momentum', cli: { arg: 'M' } }),
  weightDecay: number({ path: 'weightDecay', bounds: { min: 0 }, default: 1e-4, label: 'Weight decay', short: 'weight decay', cli: { arg: 'W' } }),
  weightDecayScope: choice({
    path: 'weightDecayScope', values: ['all', 'kernels'], default: 'all', legacy: 'kernels', url: { aliases: ['wdscope'] },
    cli: { arg: 'SCOPE', aliases: ['wd-scope'], help: 'weight decay on: all (every parameter: conv/dense kernels, biases, BN γ and β, as the official code) or kernels' },
    label: 'Weight decay on', short: 'wd scope', help: 'the official code decays every parameter, BN γ and β and biases included',
    optionLabels: { all: 'All parameters (official code)', kernels: 'Conv and dense kernels only' },
  }),
  scheduleKind: choice({
    path: null, values: ['step', 'cosine', 'constant'], default: 'step', url: { aliases: ['sched'] },
    cli: { arg: 'KIND', aliases: ['schedule'], help: "LR schedule: step (×0.1 at ½ and ¾ of the run, the paper's), cosine or constant" },
    label: 'LR schedule', short: 'schedule', optionLabels: { step: '×0.1 at ½ and ¾ of the run (paper)', cosine: 'Cosine', constant: 'Constant' },
  }),
  /** Without a schedule the engine takes the paper's step schedule scaled to the run's epochs (parseRunConfig); this default is that for the default epochs. */
  lrSchedule: custom({ path: 'schedule', type: LrScheduleSchema, default: scheduleOfKind('step', PAPER_EPOCHS), label: 'LR schedule', short: 'schedule' }),
  batchSize: number({
    path: 'batchSize', bounds: { int: true, min: 1, max: 4096 }, default: 128, cli: { arg: 'B', aliases: ['batch'] }, url: { aliases: ['batch'] },
    label: 'Batch size', short: 'batch',
  }),
  epochs: number({
    path: 'epochs', bounds: { int: true, min: 1 }, page: { max: 10000 }, default: PAPER_EPOCHS, cli: { arg: 'E' }, url: true,
    label: 'Epochs', short: 'epochs',
  }),
  seed: number({
    path: 'seed', bounds: { int: true, min: 0 }, page: { max: 2 ** 31 - 1 }, default: 1, cli: { arg: 'S' }, url: true,
    label: 'Seed', short: 'seed',
  }),
  trainLimit: numberOrNull({
    path: 'trainLimit', bounds: { int: true, min: 1 }, page: { max: 50000 }, default: null, nullWord: 'all', nullLabel: 'all 50 000', cli: { arg: 'N' }, url: { aliases: ['train'] },
    label: 'Training images', short: 'train', unit: 'images',
  }),
  testLimit: numberOrNull({
    path: 'testLimit', bounds: { int: true, min: 1 }, page: { max: 10000 }, default: null, nullWord: 'all', nullLabel: 'all 10 000', cli: { arg: 'N' }, url: { aliases: ['test'] },
    label: 'Test images', short: 'test', unit: 'images',
  }),
  augment: boolean({
    path: 'augment', default: true, cli: {}, url: { aliases: ['aug'] },
    label: 'Augment (crop + flip)', short: 'augment', name: 'augmentation',
  }),
  checkpointMinutes: number({
    path: null, bounds: { gt: 0 }, page: { min: 0.05, max: 120 }, default: 0.5, url: { aliases: ['ckpt'] },
    label: 'Checkpoint every (minutes of training)', short: 'checkpoint', unit: 'minutes',
    help: 'at most this much training is lost to a reload, a crash or a lost GPU; also after projections, at every pause and stop, and when the page is closed — but never so often that checkpoints take more than 2% of the training time',
  }),
  buildCompact: boolean({
    path: 'buildCompact', default: true, minor: true,
    label: 'Build the compact model', short: 'compact', name: 'compact model built', help: 'build and evaluate the compact model at the end of an LRPET run (the two baselines always report theirs)',
  }),
  stepEventEvery: number({ path: 'stepEventEvery', bounds: { int: true, min: 1 }, default: 1, minor: true, label: 'Step event every (iterations)', short: 'step events' }),
  gradNormEvery: number({
    path: 'gradNormEvery', bounds: { int: true, min: 0 }, page: { max: 100_000 }, default: 10, minor: true, cli: { arg: 'K' }, url: { aliases: ['grads'] },
    label: 'Gradient norms every (iterations)', short: 'grad norms', unit: 'iterations',
    help: 'per-layer ‖∇W‖ and ‖∇W‖/‖W‖ every K steps and on the steps right before and after each projection; 0: off',
  }),
  init: custom({
    path: 'init', type: z.object({ name: z.string().min(1).max(300) }).nullable(), default: null,
    cli: { arg: 'FILE', help: "start from these weights: a .safetensors file of the model's dense weights with the official PyTorch names (e.g. an earlier run's projected.safetensors)" },
    label: 'Initial weights', short: 'init', help: 'null: initialised from the seed; else the name of the weights file the run started from (the weights are given with the run)',
  }),
  posthoc: custom({
    path: 'posthoc', type: z.object({ fineTuneEpochs: z.number().int().min(1) }).nullable(), default: null,
    label: 'Post-hoc baseline', short: 'post-hoc', help: 'train dense for epochs − fineTuneEpochs epochs, project once (with the lrpet settings), then fine-tune the compact model',
  }),
  compactFromScratch: boolean({
    path: 'compactFromScratch', default: false,
    label: 'Compact from scratch', short: 'from scratch', help: "baseline: train the compact architecture (the plan's ranks) from random initialisation, no projections",
  }),
};

type Table = typeof SETTINGS;
export type SettingId = keyof Table;
export type SettingValue<K extends SettingId> = z.output<Table[K]['type']>;

/** A table entry as generic code sees it (the table's own types are exact, for the derived schemas). */
export type Setting = Common & { type: z.ZodType; schema: z.ZodType } & (
    | (NumberCommon & { kind: 'number'; nullable: boolean; default: number | null; nullWord?: string; nullLabel?: string })
    | { kind: 'boolean'; default: boolean }
    | { kind: 'choice'; values: readonly string[]; default: string; optionLabels?: Record<string, string> }
    | { kind: 'custom'; default: unknown }
  );
export type NumberSetting = Setting & { kind: 'number' };

/** The config settings that may change mid-run: the engine's LiveUpdate. */
export type LiveId = { [K in SettingId]: Table[K] extends { live: true; path: string } ? K : never }[SettingId];
/** The settings that are fields of the page's form (those with a URL key). */
export type FormId = { [K in SettingId]: Table[K] extends { url: UrlSpec } ? K : never }[SettingId];

export const settingIds: readonly SettingId[] = Object.keys(SETTINGS) as SettingId[];
export const spec = (id: SettingId): Setting => SETTINGS[id] as Setting;
/** May change mid-run: a LiveUpdate field, or a page field the page turns into one (a FLOPs target into p). */
export const isLive = (id: string): boolean => id in SETTINGS && spec(id as SettingId).live === true;
export const liveIds: readonly LiveId[] = settingIds.filter((id): id is LiveId => isLive(id) && spec(id).path !== null);
export const formIds: readonly FormId[] = settingIds.filter((id): id is FormId => spec(id).url !== undefined);
/** The settings that feed the rank plan. */
export const planIds: readonly SettingId[] = settingIds.filter((id) => spec(id).plan === true);
/** `weightDecayScope` → `weight-decay-scope`. */
export const kebab = (id: string): string => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * A setting's command-line flags, the one named after it first, then its aliases: `--x V` (and aliases with
 * a value); for a switch `--x` and `--no-x`, and the aliases that set it.
 */
export function cliFlags(id: SettingId): readonly CliFlag[] {
  const s = spec(id);
  if (s.cli === undefined) return [];
  if (Array.isArray(s.cli)) return s.cli as readonly CliFlag[];
  const c = s.cli as CliSpec;
  const flag = kebab(id);
  const withValue = (f: string): CliFlag => ({ flag: f, arg: c.arg ?? 'V', ...(c.required && { required: true }), ...(c.multiple && { multiple: true }), ...(c.help && { help: c.help }) });
  const own: CliFlag[] = s.kind === 'boolean' ? [{ flag, sets: true }, { flag: `no-${flag}`, sets: false }] : [withValue(flag)];
  const aliases = (c.aliases ?? []).map((a): CliFlag => (typeof a === 'string' ? withValue(a) : a));
  return [...own, ...aliases];
}

/** A form setting's URL keys: its id (what links are written with), then the older keys links may still hold. */
export function urlKeys(id: SettingId): readonly string[] {
  const u = spec(id).url;
  if (u === undefined) return [];
  return u === true ? [id] : [id, ...u.aliases];
}

/**
 * A setting's value in a few words: "lr 0.01", "ET off", "end last", "ranks". `long` names switches in full
 * ("energy transfer: off") and numbers exactly (short: three significant digits, for a chart marker).
 */
export function valueText(id: SettingId, value: unknown, style: 'short' | 'long' = 'short'): string {
  const s = spec(id);
  if (s.kind === 'boolean') return style === 'long' ? `${s.name ?? s.short}: ${value ? 'on' : 'off'}` : `${s.short} ${value ? 'on' : 'off'}`;
  if (s.kind === 'custom') return s.short;
  if (value === null && s.kind === 'number') return `${s.short} ${s.nullLabel}`;
  if (typeof value === 'number' && style === 'short') return `${s.short} ${Number(value.toPrecision(3))}`;
  return `${s.short} ${String(value)}`;
}

/** The closed range the page offers for a number: its `page` range where given, else the engine's closed bounds. */
export function pageRange(s: NumberSetting): { min: number; max: number; int: boolean } {
  const min = s.page?.min ?? s.bounds.min;
  const max = s.page?.max ?? s.bounds.max;
  if (min === undefined || max === undefined) throw new Error(`setting '${s.label}' needs a page range: its engine bounds are open`);
  return { min, max, int: !!s.bounds.int };
}

/** The bounds in words: "in [0, 1)", "≥ 1", "> 0". */
export function boundsText(b: Bounds): string {
  const lo = b.min !== undefined ? `[${b.min}` : b.gt !== undefined ? `(${b.gt}` : null;
  const hi = b.max !== undefined ? `${b.max}]` : b.lt !== undefined ? `${b.lt})` : null;
  if (lo && hi) return `in ${lo}, ${hi}`;
  if (lo) return `${b.min !== undefined ? '≥' : '>'} ${b.min ?? b.gt}`;
  if (hi) return `${b.max !== undefined ? '≤' : '<'} ${b.max ?? b.lt}`;
  return 'any number';
}

export const inBounds = (x: number, b: Bounds): boolean =>
  (!b.int || Number.isInteger(x)) &&
  (b.min === undefined || x >= b.min) &&
  (b.gt === undefined || x > b.gt) &&
  (b.max === undefined || x <= b.max) &&
  (b.lt === undefined || x < b.lt);

/** The value at a setting's path ('lrpet.prune') in a config. */
export function getAt(config: object, path: string): unknown {
  let v: unknown = config;
  for (const k of path.split('.')) v = (v as Record<string, unknown>)[k];
  return v;
}

/** Sets the value at a path, creating the objects on the way (for building a config input). */
export function setAt(config: object, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = config as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys[keys.length - 1]] = value;
}

type FieldAt<P, Prefix extends string> = P extends `${Prefix}${infer F}` ? (F extends `${string}.${string}` ? never : F) : never;
/** The zod shape of the settings whose path is `prefix` + one field name. */
export type ShapeAt<Prefix extends string> = { [K in SettingId as FieldAt<Table[K]['path'], Prefix>]: Table[K]['schema'] };

/**
 * The zod shape of the settings at `prefix` + field, in table order; a nested group ('lrpet.') found on
 * the way is put where its first setting stands, as `group(name)`.
 */
export function shapeAt(prefix: string, group: (name: string) => z.ZodType = () => z.never()): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const id of settingIds) {
    const s = spec(id);
    if (s.path === null || !s.path.startsWith(prefix)) continue;
    const rest = s.path.slice(prefix.length);
    const dot = rest.indexOf('.');
    if (dot < 0) shape[rest] = s.schema;
    else if (!(rest.slice(0, dot) in shape)) shape[rest.slice(0, dot)] = group(rest.slice(0, dot));
  }
  return shape;
}
