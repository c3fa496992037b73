import '../../worker/zod-setup';
import { describe, expect, it } from 'vitest';
import { batchesIn, batchReport, CLAIMS } from './claims';
import { batchRecords } from './test-records';

describe('the claims of one ablation batch', () => {
  it('two arms, one seed: both arms with numbers, the energy-transfer claim with no noise estimate, the others not run', () => {
    const records = batchRecords('b1', { lrpet: [0.45], 'no-et': [0.41] }, { data: 'CIFAR-10 binary files in the local folder /data/cifar' });
    const r = batchReport(records, 'b1');
    expect(r.arms.map((a) => [a.arm, a.label, a.accuracy])).toEqual([
      ['lrpet', 'LRPET', { n: 1, mean: 0.45, sd: null }],
      ['no-et', 'No energy transfer', { n: 1, mean: 0.41, sd: null }],
    ]);
    expect(r.arms[0]).toMatchObject({ differs: 'energy transfer: on', macs: 400, macsDense: 1000, params: 40, accuracyOf: 'compact' });
    expect(r.arms[1].differs).toBe('energy transfer: off');
    expect(r.claims.map((c) => [c.spec.id, c.verdict])).toEqual([
      ['energy-transfer', 'no-estimate'],
      ['posthoc', 'not-run'],
      ['scratch', 'not-run'],
    ]);
    const et = r.claims[0];
    expect(et.measured).toBe('Final test accuracy of the compact model: LRPET 45.00% (one seed) vs No energy transfer 41.00% (one seed); LRPET − No energy transfer: +4.00 points; one seed: no noise estimate.');
    expect(et.conclusion).toBe('LRPET is higher by 4.00 points here; with one seed this cannot be told from noise (run more seeds per arm).');
    expect(r.claims[1].conclusion).toBe('Not run in this batch (it needs the “Post-hoc SVD” arm).');
    expect(r).toMatchObject({ seeds: [7], seedsPerArm: 1, backends: ['webgpu'], data: ['CIFAR-10 binary files in the local folder /data/cifar'], notCounted: [] });
    expect(r.common).toContain('resnet8-tiny');
    expect(r.common.join(' ')).not.toMatch(/seed/);
  });

  it('three seeds: mean ± sd per arm and a verdict by the 2·SE rule for each claim', () => {
    const records = batchRecords('b2', {
      lrpet: [0.7, 0.72, 0.74], // mean 0.72, sd 0.02
      'no-et': [0.68, 0.69, 0.7], // Δ 0.03 > 2·SE 0.0258: supported
      posthoc: [0.66, 0.7, 0.74], // Δ 0.02 ≤ 2·SE 0.0516: within the noise
      scratch: [0.75, 0.76, 0.77], // Δ −0.04 beyond 2·SE 0.0179: not supported
    });
    const r = batchReport(records, 'b2');
    expect(r.seeds).toEqual([7, 8, 9]);
    expect(r.seedsPerArm).toBe(3);
    const lrpet = r.arms.find((a) => a.arm === 'lrpet')!;
    expect(lrpet.accuracy!.mean).toBeCloseTo(0.72, 12);
    expect(lrpet.accuracy!.sd).toBeCloseTo(0.02, 12);
    expect(lrpet.runs.map((m) => m.seed)).toEqual([7, 8, 9]);
    const by = Object.fromEntries(r.claims.map((c) => [c.spec.id, c]));
    expect(by['energy-transfer'].verdict).toBe('supported');
    expect(by['energy-transfer'].measured).toContain('LRPET 72.00% ± 2.00 (3 seeds) vs No energy transfer 69.00% ± 1.00 (3 seeds)');
    expect(by['energy-transfer'].measured).toContain('+3.00 points, beyond the noise (2·SE = 2.58 points)');
    expect(by['energy-transfer'].conclusion).toBe('Supported by this batch: LRPET is higher by 3.00 points, beyond the noise.');
    expect(by.posthoc.verdict).toBe('within-noise');
    expect(by.posthoc.conclusion).toBe('Not shown by this batch: the difference is within the noise.');
    expect(by.scratch.verdict).toBe('contradicted');
    expect(by.scratch.conclusion).toBe('Not supported by this batch: Compact from scratch is higher by 4.00 points, beyond the noise.');
    expect(by.pretrained).toBeUndefined();
  });

  it('the pre-trained claim appears with runs of that arm (“not lower”: within the noise is consistent with it)', () => {
    const records = batchRecords('b3', { lrpet: [0.7, 0.72, 0.74], 'no-et': [0.7, 0.71, 0.72] });
    // Runs of the arm the torch branch adds (its records name it 'pretrained').
    const pre = batchRecords('b3', { lrpet: [0.69, 0.71, 0.73] }).map((r, i) => ({
      ...r,
      id: `pre-${i}`,
      createdAt: r.createdAt + 100,
      batch: { ...r.batch!, arm: 'pretrained', label: 'LRPET from the dense baseline' },
    }));
    const r = batchReport([...records, ...pre], 'b3');
    const c = r.claims.find((x) => x.spec.id === 'pretrained')!;
    expect(CLAIMS.find((x) => x.id === 'pretrained')!.alternative).toBe('pretrained');
    expect(c.verdict).toBe('within-noise');
    expect(c.conclusion).toBe('Consistent with the claim: LRPET from the dense baseline is no better here — the difference is within the noise.');
    expect(r.arms.map((a) => a.label)).toEqual(['LRPET', 'No energy transfer', 'LRPET from the dense baseline']);
  });

  it('runs that did not finish are left out and named; records from before arms were stored are grouped by label', () => {
    const records = batchRecords('b4', { lrpet: [0.7, 0.72], 'no-et': [0.6, 0.62] });
    records[3] = { ...records[3], status: 'stopped' }; // no-et, seed 8
    const old = records.map((r) => ({ ...r, batch: { id: r.batch!.id, label: r.batch!.label } }));
    for (const recs of [records, old]) {
      const r = batchReport(recs, 'b4');
      const noEt = r.arms.find((a) => a.label === 'No energy transfer')!;
      expect(noEt.arm).toBe('no-et');
      expect(noEt.accuracy).toEqual({ n: 1, mean: 0.6, sd: null });
      expect(r.notCounted).toEqual([records[3].name]);
      // LRPET has two seeds, No ET one counted: no noise estimate, and it says which arm.
      expect(r.claims[0].measured).toContain('No energy transfer has one seed: no noise estimate');
    }
  });

  it('lists the stored batches, newest first; runs of other batches and runs without one are not mixed in', () => {
    const records = [...batchRecords('old', { lrpet: [0.5] }, { t0: 10 }), ...batchRecords('new', { lrpet: [0.6], dense: [0.7] }, { t0: 50 })];
    const solo = { ...records[0], id: 'solo', batch: null };
    expect(batchesIn([...records, solo])).toEqual([
      { id: 'new', createdAt: 50, runs: 2 },
      { id: 'old', createdAt: 10, runs: 1 },
    ]);
    const r = batchReport([...records, solo], 'new');
    expect(r.arms.map((a) => [a.arm, a.accuracyOf, a.macs])).toEqual([
      ['lrpet', 'compact', 400],
      ['dense', 'last epoch', 1000],
    ]);
    expect(r.claims.every((c) => c.verdict === 'not-run')).toBe(true);
  });
});
