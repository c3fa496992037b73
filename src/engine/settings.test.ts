import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { describeChanges, LiveUpdateSchema, LrpetConfigSchema, parseRunConfig, parseStoredRunConfig, RunConfigSchema, type LiveUpdate, type RunConfig, type RunConfigInput } from './config';
import { boundsText, valueText, formIds, liveIds, MODEL_NAMES, pageRange, SETTINGS, settingIds, spec, LrScheduleSchema, cliFlags, urlKeys } from './settings';

/**
 * The schemas as they were written by hand before they were derived from the table (a fixed reference:
 * checkpoints and stored runs hold RunConfigs, so the derived schema must parse exactly like this one),
 * with the settings added since: weight decay scope, BN recalibration, the paper's 400 epochs and its
 * step schedule scaled to the epochs when none is given, VGG-16's official rank floors when not set, the rank multiple.
 */
const Before = (() => {
  const lrpet = z.object({
    enabled: z.boolean().default(true),
    prune: z.number().min(0).lt(1).default(0.57),
    target: z
      .object({ metric: z.enum(['macs', 'params']), reduction: z.number().gt(0).lt(1) })
      .nullable()
      .default(null),
    rankOverrides: z.record(z.string(), z.number().int().min(1)).default({}),
    rankFloors: z.boolean().default(false),
    rankMultiple: z.number().int().min(1).max(16).default(1),
    interval: z.number().int().min(1).nullable().default(null),
    startEpoch: z.number().int().min(0).default(0),
    endEpoch: z.number().int().min(0).nullable().default(null),
    energyTransfer: z.boolean().default(true),
    beta: z.number().min(0).lt(1).default(0),
    bnRectification: z.boolean().default(true),
    projectDense: z.boolean().default(false),
    bnRecalibrationBatches: z.number().int().min(0).default(0),
  });
  const object = z.object({
    model: z.enum(MODEL_NAMES).default('resnet20'),
    epochs: z.number().int().min(1).default(400),
    batchSize: z.number().int().min(1).max(4096).default(128),
    lr: z.number().positive().default(0.1),
    momentum: z.number().min(0).lt(1).default(0.9),
    weightDecay: z.number().min(0).default(1e-4),
    weightDecayScope: z.enum(['all', 'kernels']).default('all'),
    schedule: LrScheduleSchema.default({ kind: 'step', milestones: [200, 300], gamma: 0.1 }),
    seed: z.number().int().min(0).default(1),
    trainLimit: z.number().int().min(1).nullable().default(null),
    testLimit: z.number().int().min(1).nullable().default(null),
    augment: z.boolean().default(true),
    buildCompact: z.boolean().default(true),
    stepEventEvery: z.number().int().min(1).default(1),
    gradNormEvery: z.number().int().min(0).default(10),
    lrpet: lrpet.default(lrpet.parse({})),
    init: z.object({ name: z.string().min(1).max(300) }).nullable().default(null),
    posthoc: z.object({ fineTuneEpochs: z.number().int().min(1) }).nullable().default(null),
    compactFromScratch: z.boolean().default(false),
  });
  const stepAtHalfAndThreeQuarters = (input: unknown) => {
    const c = (input ?? {}) as { epochs?: unknown; schedule?: unknown };
    if (typeof c !== 'object' || c.schedule !== undefined) return c;
    const e = c.epochs ?? 400;
    if (!(Number.isInteger(e) && (e as number) >= 1)) return c;
    return { ...c, schedule: { kind: 'step', milestones: [Math.round((e as number) / 2), Math.round(((e as number) * 3) / 4)], gamma: 0.1 } };
  };
  const vggFloors = (input: unknown) => {
    const c = input as { model?: unknown; lrpet?: { rankFloors?: unknown } };
    return c?.model === 'vgg16' && c.lrpet?.rankFloors === undefined ? { ...c, lrpet: { ...c.lrpet, rankFloors: true } } : c;
  };
  const run = z.preprocess((input) => vggFloors(stepAtHalfAndThreeQuarters(input)), object);
  const live = z.object({
    lr: z.number().positive().optional(),
    interval: z.number().int().min(1).nullable().optional(),
    startEpoch: z.number().int().min(0).optional(),
    endEpoch: z.number().int().min(0).nullable().optional(),
    prune: z.number().min(0).lt(1).optional(),
    rankOverrides: z.record(z.string(), z.number().int().min(1)).optional(),
    rankMultiple: z.number().int().min(1).max(16).optional(),
    energyTransfer: z.boolean().optional(),
    beta: z.number().min(0).lt(1).optional(),
    bnRectification: z.boolean().optional(),
  });
  return { lrpet, object, run, live };
})();

const outcome = (schema: z.ZodType, input: unknown) => {
  const r = schema.safeParse(input);
  return r.success ? { ok: r.data } : { issues: r.error.issues.map((i) => [i.path.join('.'), i.code]) };
};

describe('schemas derived from the settings table', () => {
  it('have the types of the hand-written ones', () => {
    expectTypeOf<RunConfig>().toEqualTypeOf<z.output<typeof Before.object>>();
    expectTypeOf<RunConfigInput>().toEqualTypeOf<z.input<typeof Before.object>>();
    expectTypeOf<z.output<typeof LrpetConfigSchema>>().toEqualTypeOf<z.output<typeof Before.lrpet>>();
    expectTypeOf<LiveUpdate>().toEqualTypeOf<z.output<typeof Before.live>>();
  });

  it('parse every input as the hand-written ones did: defaults, each bound, bad types', () => {
    const inputs: unknown[] = [
      undefined,
      {},
      { lrpet: {} },
      { model: 'vgg16', epochs: 400, lr: 0.05, schedule: { kind: 'cosine' }, lrpet: { prune: 0.99, target: { metric: 'params', reduction: 0.5 } } },
      { model: 'vgg16' },
      { model: 'vgg16', lrpet: { rankFloors: false } },
      { model: 'vgg-tiny', lrpet: {} },
      { model: 'resnet99' },
      { epochs: 0 },
      { epochs: 1.5 },
      { batchSize: 4096 },
      { batchSize: 4097 },
      { lr: 0 },
      { momentum: 1 },
      { weightDecay: -1 },
      { seed: -1 },
      { trainLimit: 0 },
      { testLimit: null },
      { stepEventEvery: 0 },
      { gradNormEvery: -1 },
      { gradNormEvery: 2.5 },
      { posthoc: { fineTuneEpochs: 0 } },
      { posthoc: { fineTuneEpochs: 2 }, compactFromScratch: 'yes' },
      { lrpet: { prune: 1 } },
      { lrpet: { prune: -0.1 } },
      { lrpet: { beta: 0.999 } },
      { lrpet: { beta: 1 } },
      { lrpet: { target: { metric: 'macs', reduction: 1 } } },
      { lrpet: { rankOverrides: { 'stem/conv': 0 } } },
      { lrpet: { interval: 0, startEpoch: -1, endEpoch: 2.5 } },
      { lrpet: { energyTransfer: 1 } },
      { schedule: { kind: 'step', milestones: [1, 2], gamma: 0 } },
      { epochs: 20 },
      { epochs: 3, schedule: { kind: 'constant' } },
      { epochs: 'many' },
      { weightDecayScope: 'kernels' },
      { weightDecayScope: 'biases' },
      { lrpet: { bnRecalibrationBatches: 50 } },
      { lrpet: { bnRecalibrationBatches: -1 } },
      { lrpet: { bnRecalibrationBatches: 2.5 } },
    ];
    for (const input of inputs) expect(outcome(RunConfigSchema, input), JSON.stringify(input)).toEqual(outcome(Before.run, input));
    const updates: unknown[] = [{}, { lr: 0.01, prune: 0.3 }, { lr: 0 }, { prune: 1 }, { interval: null, endEpoch: null }, { beta: 1 }, { rankOverrides: { a: 2 } }, { energyTransfer: 'no' }];
    for (const u of updates) expect(outcome(LiveUpdateSchema, u), JSON.stringify(u)).toEqual(outcome(Before.live, u));
  });
});

describe('the settings table', () => {
  it('every page range lies within the engine bounds, and every default within both', () => {
    for (const id of settingIds) {
      const s = spec(id);
      if (s.kind !== 'number') continue;
      const type = s.type;
      if (s.default !== null) expect(type.safeParse(s.default).success, id).toBe(true);
      if (s.url === undefined) continue;
      const r = pageRange(s);
      expect(type.safeParse(r.min).success && type.safeParse(r.max).success, id).toBe(true);
      if (s.default !== null) expect(s.default >= r.min && s.default <= r.max, id).toBe(true);
    }
  });

  it('keys are unique: URL keys and command-line flags, aliases included', () => {
    const urls = formIds.flatMap((id) => urlKeys(id));
    expect(new Set(urls).size).toBe(urls.length);
    const flags = settingIds.flatMap((id) => cliFlags(id).map((f) => f.flag));
    expect(new Set(flags).size).toBe(flags.length);
  });

  it("a setting's URL key is its id and its flag the id in kebab case; every older spelling is an alias", () => {
    for (const id of formIds) expect(urlKeys(id)[0]).toBe(id);
    expect(cliFlags('weightDecayScope').map((f) => f.flag)).toEqual(['weight-decay-scope', 'wd-scope']);
    expect(cliFlags('energyTransfer')).toEqual([
      { flag: 'energy-transfer', sets: true },
      { flag: 'no-energy-transfer', sets: false },
    ]);
    // The keys and flags that existed before the ids became the names (links and scripts must not break).
    const oldUrl = ['model', 'lrpet', 'comp', 'p', 'flops', 'floors', 'ranks', 'interval', 'start', 'end', 'et', 'beta', 'bn', 'bnrecal', 'lr', 'wdscope', 'sched', 'batch', 'epochs', 'seed', 'train', 'test', 'aug', 'ckpt', 'grads'];
    const urls = new Set(formIds.flatMap((id) => urlKeys(id)));
    for (const k of oldUrl) expect(urls.has(k), k).toBe(true);
    const oldFlags = ['model', 'no-lrpet', 'prune', 'target-flops', 'target-params', 'rank-floors', 'rank', 'interval', 'start-epoch', 'end-epoch', 'no-energy-transfer', 'beta', 'no-bn-rect', 'bn-recal', 'lr', 'momentum', 'weight-decay', 'wd-scope', 'schedule', 'batch', 'epochs', 'seed', 'train-limit', 'test-limit', 'no-augment', 'grad-norm-every', 'init'];
    const flags = new Set(settingIds.flatMap((id) => cliFlags(id).map((f) => f.flag)));
    for (const f of oldFlags) expect(flags.has(f), f).toBe(true);
  });

  it('a switch alias sets the value away from its default', () => {
    for (const id of settingIds) {
      const s = spec(id);
      for (const f of cliFlags(id).slice(2)) if ('sets' in f) expect(f.sets, id).toBe(!s.default);
    }
  });

  it('live settings are exactly the engine\'s LiveUpdate', () => {
    expect([...liveIds].sort()).toEqual(Object.keys(Before.live.shape).sort());
    expect(SETTINGS.prune.live && SETTINGS.lr.live).toBe(true);
  });

  it('says bounds in words', () => {
    expect(boundsText({ min: 0, lt: 1 })).toBe('in [0, 1)');
    expect(boundsText({ int: true, min: 1 })).toBe('≥ 1');
    expect(boundsText({ gt: 0 })).toBe('> 0');
    expect(boundsText({ int: true, min: 1, max: 4096 })).toBe('in [1, 4096]');
  });
});

describe('settings in words', () => {
  it('a live change, as a chart marks it', () => {
    expect(describeChanges({ lr: 0.0125, energyTransfer: false, interval: null, endEpoch: null, rankOverrides: { 'stem/conv': 2 }, prune: 0.56341 })).toBe(
      'p 0.563, ranks, interval one epoch, end last, ET off, lr 0.0125',
    );
    expect(describeChanges({ interval: 8, startEpoch: 2, beta: 0.2, bnRectification: true })).toBe('interval 8, start 2, β 0.2, BN rect on');
    expect(describeChanges({})).toBe('');
  });
  it('in full, as a comparison of runs says it', () => {
    expect(valueText('energyTransfer', true, 'long')).toBe('energy transfer: on');
    expect(valueText('augment', false, 'long')).toBe('augmentation: off');
    expect(valueText('prune', 0.56341, 'long')).toBe('p 0.56341');
    expect(valueText('weightDecay', 1e-4, 'long')).toBe('weight decay 0.0001');
  });
});

describe("the engine's defaults: the authors' recipe", () => {
  it('400 epochs, lr ×0.1 at 200 and 300, weight decay 1e-4 on every parameter, no BN recalibration', () => {
    expect(parseRunConfig({})).toMatchObject({
      epochs: 400,
      lr: 0.1,
      momentum: 0.9,
      batchSize: 128,
      weightDecay: 1e-4,
      weightDecayScope: 'all',
      schedule: { kind: 'step', milestones: [200, 300], gamma: 0.1 },
      lrpet: { prune: 0.57, beta: 0, bnRecalibrationBatches: 0 },
    });
  });

  it('without a schedule, the step schedule at ½ and ¾ of the epochs given; a schedule given is kept', () => {
    expect(parseRunConfig({ epochs: 20 }).schedule).toEqual({ kind: 'step', milestones: [10, 15], gamma: 0.1 });
    expect(parseRunConfig({ epochs: 2 }).schedule).toEqual({ kind: 'step', milestones: [1, 2], gamma: 0.1 });
    expect(parseRunConfig({ epochs: 20, schedule: { kind: 'step', milestones: [], gamma: 0.1 } }).schedule).toEqual({ kind: 'step', milestones: [], gamma: 0.1 });
    expect(() => parseRunConfig({ epochs: 0 })).toThrow(/epochs/);
  });
});

describe('stored configs (checkpoints, logs, run files) keep the meaning they had', () => {
  const stored = (c: RunConfig) => JSON.parse(JSON.stringify(c)) as Record<string, unknown>;

  it("a config from before the weight decay scope existed decays kernels only; new runs every parameter", () => {
    const { weightDecayScope: _w, ...old } = stored(parseRunConfig({ model: 'resnet8-tiny', epochs: 3 }));
    expect(parseStoredRunConfig(old).weightDecayScope).toBe('kernels');
    expect(parseRunConfig(old).weightDecayScope).toBe('all');
    // Nothing else changes: the old config's own values stay (its schedule is not re-derived).
    expect(parseStoredRunConfig(old)).toEqual({ ...parseRunConfig(old), weightDecayScope: 'kernels' });
  });

  it('a stored config that names its scope keeps it; settings without a legacy value take their default', () => {
    for (const scope of ['all', 'kernels'] as const) expect(parseStoredRunConfig(parseRunConfig({ weightDecayScope: scope })).weightDecayScope).toBe(scope);
    const old = stored(parseRunConfig({}));
    delete (old.lrpet as Record<string, unknown>).bnRecalibrationBatches;
    expect(parseStoredRunConfig(old).lrpet.bnRecalibrationBatches).toBe(0);
    expect(() => parseStoredRunConfig({ ...old, weightDecayScope: 'biases' })).toThrow();
  });

  it('only the weight decay scope has a legacy value', () => {
    expect(settingIds.filter((id) => spec(id).legacy !== undefined)).toEqual(['weightDecayScope']);
    expect(SETTINGS.weightDecayScope.legacy).toBe('kernels');
  });
});
