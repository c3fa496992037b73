import { parseArgs } from 'node:util';
import { MODEL_NAMES, type ModelName, type RunConfigInput } from '../engine/config';
import { scheduleOfKind, type LrScheduleKind } from '../engine/train/schedule';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: lrpet <command> [options]

commands:
  flops     ranks, MACs and parameters of a model, dense vs compact
            --model M (${MODEL_NAMES.join(', ')})  --prune P | --target-flops F | --target-params F
            [--rank-floors] [--rank LAYER=R ...] [--json]
  train     train with LRPET and write the event log
            --model M --prune P --epochs E --batch B [--interval I] [--lr L] [--no-energy-transfer]
            [--beta X] [--no-bn-rect] [--no-lrpet] [--rank-floors] [--rank LAYER=R ...]
            [--target-flops F] [--start-epoch S] [--end-epoch S] [--schedule step|cosine|constant]
            [--train-limit N] [--test-limit N] [--seed S] [--data DIR] [--backend auto|webgpu|cpu]
            [--kernels fast|stock] [--log run.jsonl] [--save DIR] [--quiet]
  evaluate  load a saved model (model.json) with tf.loadGraphModel and report its test accuracy
            --model-dir DIR [--test-limit N] [--data DIR] [--backend auto|webgpu|cpu]
`;

function num(name: string, v: string | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got '${v}'`);
  return x;
}

export function parseModel(v: string | undefined): ModelName {
  if (!v) throw new UsageError('--model is required');
  if (!(MODEL_NAMES as readonly string[]).includes(v)) throw new UsageError(`unknown model '${v}' (choose from ${MODEL_NAMES.join(', ')})`);
  return v as ModelName;
}

export function parseRanks(list: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list ?? []) {
    const m = /^(.+)=(\d+)$/.exec(item);
    if (!m) throw new UsageError(`--rank takes LAYER=R (e.g. stage1/block1/conv1=4), got '${item}'`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export function parsePrune(v: string | undefined): number | undefined {
  const p = num('prune', v);
  if (p !== undefined && !(p >= 0 && p < 1)) throw new UsageError(`--prune must be in [0, 1), got ${v}`);
  return p;
}

export function parseTarget(flops: string | undefined, params: string | undefined): { metric: 'macs' | 'params'; reduction: number } | null {
  if (flops !== undefined && params !== undefined) throw new UsageError('give --target-flops or --target-params, not both');
  const v = flops ?? params;
  if (v === undefined) return null;
  const f = Number(v);
  if (!(f > 0 && f < 1)) throw new UsageError(`--target-${flops !== undefined ? 'flops' : 'params'} is the fraction removed, in (0, 1); got '${v}'`);
  return { metric: flops !== undefined ? 'macs' : 'params', reduction: f };
}

const TRAIN_OPTIONS = {
  model: { type: 'string' },
  prune: { type: 'string' },
  'target-flops': { type: 'string' },
  'target-params': { type: 'string' },
  'rank-floors': { type: 'boolean' },
  rank: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  interval: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  'no-energy-transfer': { type: 'boolean' },
  beta: { type: 'string' },
  'no-bn-rect': { type: 'boolean' },
  'no-lrpet': { type: 'boolean' },
  'no-augment': { type: 'boolean' },
  'start-epoch': { type: 'string' },
  'end-epoch': { type: 'string' },
  'train-limit': { type: 'string' },
  'test-limit': { type: 'string' },
  seed: { type: 'string' },
  data: { type: 'string' },
  backend: { type: 'string' },
  kernels: { type: 'string' },
  log: { type: 'string' },
  save: { type: 'string' },
  quiet: { type: 'boolean' },
  'model-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type ParsedArgs = ReturnType<typeof parseCli>;

export function parseCli(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: TRAIN_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

export function backendOption(v: string | undefined): 'auto' | 'webgpu' | 'cpu' {
  const b = v ?? 'auto';
  if (b !== 'auto' && b !== 'webgpu' && b !== 'cpu') throw new UsageError(`--backend must be auto, webgpu or cpu, got '${b}'`);
  return b;
}

export function kernelsOption(v: string | undefined): 'fast' | 'stock' {
  const k = v ?? 'fast';
  if (k !== 'fast' && k !== 'stock') throw new UsageError(`--kernels must be fast or stock, got '${k}'`);
  return k;
}

/** The run config the train command's flags describe. */
export function trainConfig(v: ParsedArgs['values']): RunConfigInput {
  const epochs = num('epochs', v.epochs, true) ?? 1;
  const schedule = v.schedule ?? 'step';
  if (!['step', 'cosine', 'constant'].includes(schedule)) throw new UsageError(`--schedule must be step, cosine or constant, got '${schedule}'`);
  return {
    model: parseModel(v.model),
    epochs,
    batchSize: num('batch', v.batch, true) ?? 128,
    lr: num('lr', v.lr) ?? 0.1,
    momentum: num('momentum', v.momentum) ?? 0.9,
    weightDecay: num('weight-decay', v['weight-decay']) ?? 1e-4,
    schedule: scheduleOfKind(schedule as LrScheduleKind, epochs),
    seed: num('seed', v.seed, true) ?? 1,
    trainLimit: num('train-limit', v['train-limit'], true) ?? null,
    testLimit: num('test-limit', v['test-limit'], true) ?? null,
    augment: !v['no-augment'],
    lrpet: {
      enabled: !v['no-lrpet'],
      prune: parsePrune(v.prune) ?? 0.57,
      target: parseTarget(v['target-flops'], v['target-params']),
      rankOverrides: parseRanks(v.rank),
      rankFloors: !!v['rank-floors'],
      interval: num('interval', v.interval, true) ?? null,
      startEpoch: num('start-epoch', v['start-epoch'], true) ?? 0,
      endEpoch: num('end-epoch', v['end-epoch'], true) ?? null,
      energyTransfer: !v['no-energy-transfer'],
      beta: num('beta', v.beta) ?? 0,
      bnRectification: !v['no-bn-rect'],
    },
  };
}
