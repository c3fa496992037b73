/**
 * The rankMultiple setting: each projected layer's rank from p (and the VGG floors) rounded up to a
 * multiple, never above n, and the FLOPs-target solver accounting for it — against the PyTorch
 * reference's independent planning (reference/pytorch/lrpet_reference.py `plan`: ranks from the conv
 * weights' shapes, MACs from a forward pass's output sizes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../engine/config';
import { roundRankUp } from '../engine/lrpet/rank';
import { planModel } from '../engine/plan';
import { readJson, runReference } from './torch-ref';

const dir = mkdtempSync(join(tmpdir(), 'lrpet-rankmult-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RefPlan {
  layers: { name: string; rank: number; split: boolean }[];
  macsDense: number;
  macsCompact: number;
}

/** The reference's plans of several cases, in one python process. */
function reference(cases: [string, number, number, boolean][]): RefPlan[] {
  const out = join(dir, `plans-${Math.random().toString(36).slice(2)}.json`);
  runReference(['plan', '--cases', JSON.stringify(cases), '--out', out]);
  return readJson<RefPlan[]>(out);
}

const base = { target: null, rankOverrides: {}, projectDense: false };

describe('rank multiple', () => {
  it('rounds up, never above n', () => {
    expect([6, 13, 27].map((r) => roundRankUp(r, 64, 4))).toEqual([8, 16, 28]);
    expect([6, 13, 27].map((r) => roundRankUp(r, 64, 8))).toEqual([8, 16, 32]);
    expect(roundRankUp(13, 14, 8)).toBe(14);
    expect(roundRankUp(16, 16, 16)).toBe(16);
    expect(roundRankUp(5, 16, 1)).toBe(5);
    expect(() => roundRankUp(5, 16, 0)).toThrow(/integer ≥ 1/);
  });

  it('is a setting: default 1, bounds 1…16, in the lrpet config', () => {
    expect(parseRunConfig({}).lrpet.rankMultiple).toBe(1);
    expect(parseRunConfig({ lrpet: { rankMultiple: 8 } }).lrpet.rankMultiple).toBe(8);
    expect(() => parseRunConfig({ lrpet: { rankMultiple: 0 } })).toThrow();
    expect(() => parseRunConfig({ lrpet: { rankMultiple: 2.5 } })).toThrow();
  });

  const cases: [string, number, number, boolean][] = [
    ['resnet56', 0.57, 1, false],
    ['resnet56', 0.57, 4, false],
    ['resnet56', 0.57, 8, false],
    ['resnet56', 0.9, 16, false],
    ['vgg16', 0.99, 4, true],
    ['vgg16', 0.99, 8, true],
    ['resnet20', 0.3, 2, false],
  ];
  it('ranks and MACs equal the PyTorch reference\'s (ResNet-56, ResNet-20, VGG-16 with floors; multiples 1–16)', () => {
    const refs = reference(cases);
    cases.forEach(([model, prune, multiple, floors], i) => {
      const ref = refs[i];
      const plan = planModel(model as 'resnet56', { ...base, prune, rankFloors: floors, rankMultiple: multiple });
      const convs = plan.layers.filter((l) => l.kind === 'conv');
      expect(convs.map((l) => l.rank)).toEqual(ref.layers.map((l) => l.rank));
      expect(convs.map((l) => !l.keptDense)).toEqual(ref.layers.map((l) => l.split));
      for (const l of convs) expect(l.rank % multiple === 0 || l.rank === l.n).toBe(true);
      expect(plan.macsDense).toBe(ref.macsDense);
      expect(plan.macsCompact, `${model} p=${prune} ×${multiple}`).toBe(ref.macsCompact);
    });
  });

  it('by hand: ResNet-56 p = 0.57 with multiples of 8 has ranks 8/16/32', () => {
    const plan = planModel('resnet56', { ...base, prune: 0.57, rankFloors: false, rankMultiple: 8 });
    const byWidth = new Set(plan.layers.filter((l) => l.kind === 'conv').map((l) => `${l.shape[0]}:${l.rank}`));
    expect([...byWidth].sort()).toEqual(['16:8', '32:16', '64:32']);
    // 9 stage-1 blocks × 2 convs + the stem at 32×32, r = 8: 32²·8·(144 + 16) per conv (the stem: 27 + 16)
    const stage1 = plan.layers.filter((l) => l.name.startsWith('stage1/'));
    expect(stage1.every((l) => l.macsCompact === 32 * 32 * 8 * (144 + 16))).toBe(true);
  });

  it('the FLOPs-target solver accounts for the multiple: the smallest p reaching the target, as the reference plans it', () => {
    const plans = [1, 8].map((multiple) => planModel('resnet56', { ...base, prune: 0, rankFloors: false, rankMultiple: multiple, target: { metric: 'macs', reduction: 0.55 } }));
    const refs = reference(plans.flatMap((p, i): [string, number, number, boolean][] => [['resnet56', p.prune, [1, 8][i], false], ['resnet56', p.prune - 1e-6, [1, 8][i], false]]));
    plans.forEach((plan, i) => {
      const [at, below] = [refs[2 * i], refs[2 * i + 1]];
      expect(1 - at.macsCompact / at.macsDense).toBeGreaterThanOrEqual(0.55);
      expect(plan.macsCompact).toBe(at.macsCompact);
      expect(1 - below.macsCompact / below.macsDense).toBeLessThan(0.55);
    });
    // Multiples of 8 keep more rank for the same p: the solved p is higher.
    const p1 = planModel('resnet56', { ...base, prune: 0, rankFloors: false, rankMultiple: 1, target: { metric: 'macs', reduction: 0.55 } }).prune;
    const p8 = planModel('resnet56', { ...base, prune: 0, rankFloors: false, rankMultiple: 8, target: { metric: 'macs', reduction: 0.55 } }).prune;
    expect(p8).toBeGreaterThan(p1);
  });

  it('keeps rank overrides as given', () => {
    const plan = planModel('resnet20', { ...base, prune: 0.57, rankFloors: false, rankMultiple: 8, rankOverrides: { 'stem/conv': 5 } });
    expect(plan.layers.find((l) => l.name === 'stem/conv')!.rank).toBe(5);
    expect(plan.layers.find((l) => l.name === 'stage1/block1/conv1')!.rank).toBe(8);
  });
});
