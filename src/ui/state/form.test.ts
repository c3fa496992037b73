import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../engine/config';
import { paperMilestones } from '../../engine/train/schedule';
import { applyLiveUpdate } from '../../engine/config';
import { defaultForm, formFromConfig, liveDiff, planFor, presetById, PRESETS, toRunConfig, type FormState } from './form';

describe('presets', () => {
  it('"Paper recipe" is the authors\' CIFAR-10 setup', () => {
    const c = parseRunConfig(toRunConfig(presetById('paper').form));
    expect(c.model).toBe('resnet56');
    expect(c.lrpet.prune).toBe(0.57);
    expect(c.epochs).toBe(400);
    expect(c.lr).toBe(0.1);
    expect(c.schedule).toEqual({ kind: 'step', milestones: [200, 300], gamma: 0.1 });
    expect(c.batchSize).toBe(128);
    expect(c.lrpet.interval).toBeNull(); // one projection per epoch
    expect(c.trainLimit).toBeNull();
    const p = planFor(presetById('paper').form).plan!;
    expect(p.macsCompact / 1e6).toBeCloseTo(56.06, 2);
    expect(p.paramsCompact / 1e6).toBeCloseTo(0.3945, 4);
  });

  it('"Quick look" is tiny and projects often', () => {
    const f = presetById('quick').form;
    const c = parseRunConfig(toRunConfig(f));
    expect(c.model).toBe('resnet8-tiny');
    const steps = Math.ceil(c.trainLimit! / c.batchSize);
    expect((steps * c.epochs) / c.lrpet.interval!).toBeGreaterThanOrEqual(20); // many projections
    expect(c.trainLimit).toBeLessThanOrEqual(1000);
  });

  it('checkpoint every half minute of training by default (page-side, not part of the engine config)', () => {
    for (const p of PRESETS) expect(p.form.checkpointMinutes).toBe(0.5);
    expect(toRunConfig(presetById('quick').form)).not.toHaveProperty('checkpointMinutes');
  });

  it('every preset gives a valid engine config', () => {
    for (const p of PRESETS) expect(() => parseRunConfig(toRunConfig(p.form))).not.toThrow();
  });
});

describe('plan preview', () => {
  it('solves p for a FLOPs target', () => {
    const r = planFor({ ...presetById('paper').form, compression: 'flops', flopsTarget: 0.55 });
    expect(r.error).toBeNull();
    expect(1 - r.plan!.macsCompact / r.plan!.macsDense).toBeGreaterThanOrEqual(0.55);
  });
  it('explains impossible settings instead of throwing', () => {
    const f = presetById('quick').form;
    expect(planFor({ ...f, rankOverrides: { 'stem/conv': 99 } }).error).toMatch(/rank 99 is impossible/);
    expect(planFor({ ...f, compression: 'flops', flopsTarget: 0.999 }).error).toMatch(/cannot be reached/);
  });
  it('the step schedule scales with the run', () => {
    expect(paperMilestones(400)).toEqual([200, 300]);
    expect(paperMilestones(6)).toEqual([3, 5]);
  });
});

describe('live changes', () => {
  const f = presetById('quick').form;
  const reported = parseRunConfig(toRunConfig(f));
  it('sends only what differs from the settings the engine reported', () => {
    expect(liveDiff(reported, { ...f })).toEqual({ update: null, error: null });
    expect(liveDiff(reported, { ...f, lr: 0.01, beta: 0.2 }).update).toEqual({ lr: 0.01, beta: 0.2 });
    expect(liveDiff(reported, { ...f, interval: null }).update).toEqual({ interval: null });
    expect(liveDiff(reported, { ...f, rankOverrides: { 'stem/conv': 2 } }).update).toEqual({ rankOverrides: { 'stem/conv': 2 } });
    expect(liveDiff(reported, { ...f, prune: 0.75 }).update).toEqual({ prune: 0.75 });
    // Settings a run cannot change are not sent.
    expect(liveDiff(reported, { ...f, seed: 9, epochs: 2 }).update).toBeNull();
  });
  it('turns a FLOPs target into p (the engine takes p mid-run)', () => {
    const r = liveDiff(reported, { ...f, compression: 'flops', flopsTarget: 0.6 });
    expect(r.error).toBeNull();
    expect(r.update?.prune).toBeGreaterThan(0.5);
    expect(planFor({ ...f, prune: r.update!.prune! }).plan!.macsCompact / planFor(f).plan!.macsDense).toBeLessThanOrEqual(0.4);
    // A run started with that target: the same target in the form is no change.
    const flops = { ...f, compression: 'flops' as const, flopsTarget: 0.6 };
    expect(liveDiff(parseRunConfig(toRunConfig(flops)), flops)).toEqual({ update: null, error: null });
  });
  it('reports an impossible target without sending it', () => {
    const r = liveDiff(reported, { ...f, compression: 'flops', flopsTarget: 0.999, lr: 0.02 });
    expect(r.error).toMatch(/cannot be reached/);
    expect(r.update).toEqual({ lr: 0.02 });
  });
});

describe('live changes against the config the run reported', () => {
  const f = presetById('quick').form;
  const reported = (form: FormState) => parseRunConfig(toRunConfig(form));
  it('sends what differs from the reported config, nothing once it is applied', () => {
    const start = reported(f);
    expect(liveDiff(start, f)).toEqual({ update: null, error: null });
    const next = { ...f, lr: 0.01, interval: null, endEpoch: 4, rankOverrides: { 'stem/conv': 2 }, energyTransfer: false, beta: 0.1, prune: 0.6 };
    const { update } = liveDiff(start, next);
    expect(update).toEqual({ lr: 0.01, interval: null, endEpoch: 4, rankOverrides: { 'stem/conv': 2 }, energyTransfer: false, beta: 0.1, prune: 0.6 });
    expect(liveDiff(applyLiveUpdate(start, update!), next)).toEqual({ update: null, error: null });
  });
  it('settings a run cannot change are not sent', () => {
    expect(liveDiff(reported(f), { ...f, epochs: 9, batchSize: 8, seed: 3, model: 'vgg-tiny', checkpointMinutes: 5 }).update).toBeNull();
  });
  it('a FLOPs target: unchanged is nothing; a new one is solved into p once', () => {
    const flops = { ...f, compression: 'flops' as const, flopsTarget: 0.5 };
    const start = reported(flops);
    expect(liveDiff(start, flops).update).toBeNull();
    const { update } = liveDiff(start, { ...flops, flopsTarget: 0.6 });
    expect(update?.prune).toBeGreaterThan(0.5);
    const after = applyLiveUpdate(start, update!);
    expect(after.lrpet.target).toBeNull();
    expect(liveDiff(after, { ...flops, flopsTarget: 0.6 }).update).toBeNull();
    // back to a prune ratio: that p, even if it equals the one the target was solved from
    expect(liveDiff(start, { ...flops, compression: 'prune' }).update).toEqual({ prune: f.prune });
  });
});

describe('formFromConfig', () => {
  it('gives back the form a config came from (page-only settings from the base)', () => {
    const base = { ...defaultForm(), checkpointMinutes: 7, flopsTarget: 0.3 };
    for (const form of [...PRESETS.map((p) => p.form), { ...presetById('quick').form, compression: 'flops' as const, flopsTarget: 0.6, rankOverrides: { 'stem/conv': 2 }, scheduleKind: 'cosine' as const }]) {
      const back = formFromConfig(parseRunConfig(toRunConfig(form)), base);
      expect(back).toEqual({ ...form, checkpointMinutes: 7, flopsTarget: form.compression === 'flops' ? form.flopsTarget : 0.3 });
    }
  });
  it('a parameters target (CLI only) keeps the config\'s p', () => {
    const c = parseRunConfig({ lrpet: { prune: 0.4, target: { metric: 'params', reduction: 0.5 } } });
    expect(formFromConfig(c, defaultForm())).toMatchObject({ compression: 'prune', prune: 0.4 });
  });
});

describe('the form\'s defaults are the engine\'s', () => {
  it('a default form gives the engine\'s default config: the paper\'s recipe', () => {
    const c = parseRunConfig(toRunConfig(defaultForm()));
    expect(c).toEqual(parseRunConfig({}));
    expect(c).toMatchObject({ epochs: 400, schedule: { kind: 'step', milestones: [200, 300], gamma: 0.1 }, weightDecayScope: 'all', lrpet: { bnRecalibrationBatches: 0 } });
  });
  it('any epoch count: the form\'s step schedule is the one the engine takes without a schedule', () => {
    for (const epochs of [1, 3, 10, 57, 400]) {
      const { schedule: _s, ...rest } = toRunConfig({ ...defaultForm(), epochs });
      expect(parseRunConfig(rest).schedule, String(epochs)).toEqual(parseRunConfig(toRunConfig({ ...defaultForm(), epochs })).schedule);
    }
  });
});

describe('the form of a run', () => {
  it('a run started from a form gives that form back; what a run config does not hold comes from the base', () => {
    for (const p of PRESETS) {
      const f = { ...p.form, checkpointMinutes: 0.5 };
      expect(formFromConfig(parseRunConfig(toRunConfig(f)), { ...presetById('paper').form, checkpointMinutes: 0.5 })).toEqual(f);
    }
    const flops = { ...presetById('quick').form, compression: 'flops' as const, flopsTarget: 0.4, lr: 0.02, rankOverrides: { 'stem/conv': 3 } };
    expect(formFromConfig(parseRunConfig(toRunConfig(flops)), presetById('quick').form)).toEqual(flops);
  });
  it('a live change the engine reported shows in the form', () => {
    const f = presetById('quick').form;
    const changed = parseRunConfig({ ...toRunConfig(f), lr: 0.003, lrpet: { ...toRunConfig(f).lrpet, prune: 0.7, target: null } });
    expect(formFromConfig(changed, presetById('paper').form)).toMatchObject({ model: 'resnet8-tiny', lr: 0.003, prune: 0.7, compression: 'prune', trainLimit: 512 });
    expect(liveDiff(changed, formFromConfig(changed, f)).update).toBeNull();
  });
});

describe('the paper presets', () => {
  it("plan the authors' compact models: ResNet-56 at p = 0.57, VGG-16 with the official floors at p = 0.99", () => {
    const resnet = planFor(presetById('paper').form).plan!;
    expect([Number((resnet.macsCompact / 1e6).toFixed(2)), Number((resnet.paramsCompact / 1e6).toFixed(4))]).toEqual([56.06, 0.3945]);
    const vgg = planFor(presetById('vgg').form).plan!;
    expect([Number((vgg.macsCompact / 1e6).toFixed(2)), Math.floor(vgg.paramsCompact / 1e4) / 100]).toEqual([81.29, 1.62]);
  });
});
