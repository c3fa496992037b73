import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { parseRunConfig, type RunConfig } from '../engine/config';
import { boundsText, cliFlags, inBounds, setAt, SETTINGS, settingIds, spec, type Bounds, type CliFlag, type CliSpec, type Setting, type SettingId } from '../engine/settings';
import { scheduleOfKind, type LrScheduleKind } from '../engine/train/schedule';
import { errorText } from '../engine/errors';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Options of the runner itself, not run settings (those come from the settings table). */
const RUNNER_OPTIONS = {
  json: { type: 'boolean' },
  data: { type: 'string' },
  backend: { type: 'string' },
  kernels: { type: 'string' },
  log: { type: 'string' },
  save: { type: 'string' },
  quiet: { type: 'boolean' },
  'max-seconds': { type: 'string' },
  config: { type: 'string' },
  'print-config': { type: 'boolean' },
  'model-dir': { type: 'string' },
  warmup: { type: 'string' },
  iterations: { type: 'string' },
  runtime: { type: 'string' },
  'padded-ranks': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Option = { type: 'string' | 'boolean'; multiple?: boolean };
const optionOf = (f: CliFlag): Option => ('sets' in f ? { type: 'boolean' } : f.multiple ? { type: 'string', multiple: true } : { type: 'string' });
const SETTING_OPTIONS: Record<string, Option> = Object.fromEntries(settingIds.flatMap((id) => cliFlags(id).map((f) => [f.flag, optionOf(f)])));

/** The parsed flags: the runner's own typed, the settings' by flag name. */
export type CliValues = { [K in keyof typeof RUNNER_OPTIONS]?: (typeof RUNNER_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string } & {
  readonly [flag: string]: string | boolean | string[] | undefined;
};

const usageOf = (f: CliFlag) => ('sets' in f ? `--${f.flag}` : `--${f.flag} ${f.arg}${f.multiple ? ' ...' : ''}`);

/**
 * A setting's flags in the help: a switch on one line (`--energy-transfer / --no-energy-transfer`, aliases
 * after), a value flag with its aliases (`--batch-size B, --batch B`); a setting read from several flags
 * (a target) one line each.
 */
function flagGroups(id: SettingId): CliFlag[][] {
  const flags = cliFlags(id);
  if (!flags.length) return [];
  return Array.isArray(spec(id).cli) ? flags.map((f) => [f]) : [[...flags]];
}
const shownDefault = (s: Setting) =>
  s.kind === 'boolean' ? (s.default ? 'on' : 'off') : s.default === null ? (s.kind === 'number' ? s.nullLabel : 'none') : typeof s.default === 'object' ? '' : String(s.default);

/** One line per flag group of the settings table: what it sets, its bounds or choices, its default. */
function settingLine(s: Setting, group: CliFlag[]): string {
  const f = group[0];
  let what: string;
  if (!('sets' in f) && f.help) what = f.help;
  else if ('sets' in f) what = `${s.name ?? s.label} on / off`;
  else if (s.kind === 'number') what = `${s.label}, ${s.bounds.int ? 'an integer ' : ''}${boundsText(s.bounds)}`;
  else if (s.kind === 'choice') what = `${s.label}: ${s.values.join(', ')}`;
  else what = `${s.label}${s.help ? `: ${s.help}` : ''}`;
  const required = !('sets' in f) && f.required;
  const dflt = (s.cli && !Array.isArray(s.cli) ? (s.cli as CliSpec).defaultText : undefined) ?? shownDefault(s);
  const usage = group.map(usageOf).join('sets' in f ? ' / ' : ', ');
  return wrap(`  ${usage.padEnd(26)} ${what}${required ? ' (required)' : dflt ? `  [${dflt}]` : ''}`, 100, 29);
}

/** Breaks a line at spaces before `width` columns, indenting the rest by `indent`. */
function wrap(line: string, width: number, indent: number): string {
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    if (cut <= indent) break;
    out.push(rest.slice(0, cut));
    rest = ' '.repeat(indent) + rest.slice(cut + 1);
  }
  return [...out, rest].join('\n');
}

const settingLines = settingIds.flatMap((id) => flagGroups(id).map((g) => settingLine(spec(id), g))).join('\n');

export const USAGE = `usage: lrpet <command> [options]

commands:
  flops     ranks, MACs and parameters of a model, dense vs compact
            --model M  [--prune P | --target-flops F | --target-params F] [--no-rank-floors] [--rank-multiple K] [--rank LAYER=R ...] [--json]
            (or --config run.json)
  train     train with LRPET and write the event log: --model M and any of the settings below, and
            [--data DIR] [--backend auto|webgpu|cpu] [--kernels fast|stock] [--log run.jsonl] [--save DIR] [--quiet]
            --config run.json: the settings of a run file (the page's "Run at scale…"); flags override them
            --print-config: print the run.json the settings make (for the page, lrpet train and lrpet-torch) and exit
            [--max-seconds S]: stop after S seconds (as Ctrl-C or SIGTERM do: the step in flight ends, the
            compact model is still built and the log is complete; a second signal quits at once)
  evaluate  load a saved model (model.json) with tf.loadGraphModel and report its test accuracy
            --model-dir DIR [--test-limit N] [--data DIR] [--backend auto|webgpu|cpu]
            (--model-dir FILE.safetensors: a projected or compact state_dict, e.g. of lrpet-torch)
  bench-infer
            inference speed of a --save'd run's dense (DIR/projected) and compact (DIR/compact) model:
            median, spread and images/s per batch size, the speed-up next to the MAC ratio; on tfjs (the
            graph models on the backend, and on WebGPU the engine's fused forward of the compact model) and
            on ONNX Runtime (CPU; DIR/projected.onnx and DIR/compact.onnx, written from the graph models)
            (a folder with projected.safetensors and compact.safetensors, e.g. lrpet-torch's --out, works too)
            --model-dir DIR [--runtime tfjs|ort|both (both)] [--batch 1,128] [--warmup 2] [--iterations 10]
            [--padded-ranks auto|always|never (auto: when the tfjs speed-up is below 0.8 of the MAC ratio, also
            time the compact model with ranks padded to multiples of 4 and 8)] [--json] [--backend auto|webgpu|cpu]

settings [default]:
${settingLines}
`;

function numberFlag(flag: string, raw: string, b: Bounds): number {
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${flag} must be a number, got '${raw}'`);
  if (b.int && !Number.isInteger(x)) throw new UsageError(`--${flag} must be an integer, got '${raw}'`);
  if (!inBounds(x, b)) throw new UsageError(`--${flag} must be ${boundsText(b)}, got ${raw}`);
  return x;
}

function parseRanks(list: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list ?? []) {
    const m = /^(.+)=(\d+)$/.exec(item);
    if (!m) throw new UsageError(`--rank takes LAYER=R (e.g. stage1/block1/conv1=4), got '${item}'`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function parseTarget(flops: string | undefined, params: string | undefined): { metric: 'macs' | 'params'; reduction: number } | null {
  if (flops !== undefined && params !== undefined) throw new UsageError('give --target-flops or --target-params, not both');
  const v = flops ?? params;
  if (v === undefined) return null;
  const f = Number(v);
  if (!(f > 0 && f < 1)) throw new UsageError(`--target-${flops !== undefined ? 'flops' : 'params'} is the fraction removed, in (0, 1); got '${v}'`);
  return { metric: flops !== undefined ? 'macs' : 'params', reduction: f };
}

const text = (v: CliValues, flag: string) => v[flag] as string | undefined;

/** Settings whose flags need more than one value read: by setting. */
const CUSTOM_READERS: Partial<Record<SettingId, (v: CliValues) => unknown>> = {
  rankOverrides: (v) => parseRanks([...((v['rank-overrides'] as string[] | undefined) ?? []), ...((v.rank as string[] | undefined) ?? [])]),
  target: (v) => parseTarget(text(v, 'target-flops'), text(v, 'target-params')),
  // The file is read by the train command; the config names it.
  init: (v) => (text(v, 'init') === undefined ? undefined : { name: basename(text(v, 'init')!) }),
};

/** A setting's value from its flag(s), checked against the table; undefined when not given. */
export function settingFromFlags(id: SettingId, v: CliValues): unknown {
  const custom = CUSTOM_READERS[id];
  if (custom) return custom(v);
  const s = spec(id);
  const flags = cliFlags(id);
  const given = flags.filter((g) => v[g.flag] !== undefined && v[g.flag] !== false);
  if (given.length > 1 && ('sets' in given[0] ? new Set(given.map((g) => 'sets' in g && g.sets)).size > 1 : true)) {
    throw new UsageError(`${given.map((g) => `--${g.flag}`).join(' and ')} set the same setting: give one`);
  }
  const f = given[0] ?? flags[0];
  if ('sets' in f) return given.length ? f.sets : undefined;
  const raw = text(v, f.flag);
  if (raw === undefined) {
    if (f.required) throw new UsageError(`--${f.flag} is required`);
    return undefined;
  }
  if (s.kind === 'number') return numberFlag(f.flag, raw, s.bounds);
  if (s.kind === 'choice') {
    if (!s.values.includes(raw)) throw new UsageError(`unknown ${f.flag} '${raw}' (choose from ${s.values.join(', ')})`);
    return raw;
  }
  throw new Error(`setting ${id} has a command-line flag but no reader`);
}

export type ParsedArgs = ReturnType<typeof parseCli>;

export function parseCli(argv: string[]): { values: CliValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...SETTING_OPTIONS, ...RUNNER_OPTIONS }, allowPositionals: true, strict: true });
    return { values: values as CliValues, positionals };
  } catch (e) {
    throw new UsageError(errorText(e).split('\n')[0]);
  }
}

export function backendOption(v: string | undefined): 'auto' | 'webgpu' | 'cpu' {
  const b = v ?? 'auto';
  if (b !== 'auto' && b !== 'webgpu' && b !== 'cpu') throw new UsageError(`--backend must be auto, webgpu or cpu, got '${b}'`);
  return b;
}

/** --max-seconds: a time limit in seconds (> 0), or null for none. */
export function maxSecondsOption(v: string | undefined): number | null {
  if (v === undefined) return null;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0) throw new UsageError(`--max-seconds must be a number of seconds > 0, got '${v}'`);
  return x;
}

export function kernelsOption(v: string | undefined): 'fast' | 'stock' {
  const k = v ?? 'fast';
  if (k !== 'fast' && k !== 'stock') throw new UsageError(`--kernels must be fast or stock, got '${k}'`);
  return k;
}

/**
 * The run config the flags describe (the flops command reads its model and compression settings from it),
 * over `base` (a run.json given with --config) where there is one. What neither gives is the settings
 * table's default; the schedule is given as a kind and scaled to the epochs — a base's schedule stays as it
 * is unless the flags name a schedule or change the epochs.
 */
export function trainConfig(v: CliValues, base: RunConfig | null = null): RunConfig {
  const input: Record<string, unknown> = base ? structuredClone(base) : {};
  let schedule: LrScheduleKind | undefined;
  for (const id of settingIds) {
    if (spec(id).cli === undefined) continue;
    // Over a run file only the flags given count (a flag's reader may have a value for "not given", like no rank overrides).
    if (base && cliFlags(id).every((f) => v[f.flag] === undefined)) continue;
    const value = settingFromFlags(id, v);
    if (value === undefined) continue;
    const path = spec(id).path;
    if (id === 'scheduleKind') schedule = value as LrScheduleKind;
    else if (path !== null) setAt(input, path, value);
    else throw new Error(`setting ${id} has a command-line flag but no place in the config`);
  }
  const config = parseRunConfig(input);
  if (base && schedule === undefined && settingFromFlags('epochs', v) === undefined) return config;
  return { ...config, schedule: scheduleOfKind(schedule ?? base?.schedule.kind ?? SETTINGS.scheduleKind.default, config.epochs) };
}
