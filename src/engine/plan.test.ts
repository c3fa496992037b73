import { describe, expect, it } from 'vitest';
import { planModel } from './plan';
import { rankForPrune } from './lrpet/rank';
import { convNodes } from './models/graph';
import { buildModel } from './models/builders';

const base = { prune: 0, target: null, rankOverrides: {}, rankFloors: false, projectDense: false };

describe('rank rule (spec §2)', () => {
  it('computes floor(n − n·p) in double precision', () => {
    expect(rankForPrune(32, 0.57)).toBe(13);
    expect(rankForPrune(16, 0.57)).toBe(6);
    expect(rankForPrune(64, 0.57)).toBe(27);
    expect(rankForPrune(16, 0)).toBe(16);
    expect(rankForPrune(10, 0.99)).toBe(1);
    expect(rankForPrune(100, 0.3)).toBe(70);
    expect(() => rankForPrune(16, 1)).toThrow(/\[0, 1\)/);
    expect(() => rankForPrune(16, -0.1)).toThrow();
  });
});

describe('spec §7 reference costs', () => {
  const near = (value: number, ref: number, digits: number) => expect(Math.round(value / 10 ** (6 - digits)) / 10 ** digits).toBe(ref);
  it('ResNet-56 dense and p = 0.57', () => {
    const dense = planModel('resnet56', base);
    expect(convNodes(dense.graph)).toHaveLength(55);
    near(dense.macsDense, 125.49, 2);
    near(dense.paramsDense, 0.849, 3);
    const p = planModel('resnet56', { ...base, prune: 0.57 });
    near(p.macsCompact, 56.06, 2);
    near(p.paramsCompact, 0.3945, 4);
    const convRanks = new Set(p.layers.filter((l) => l.kind === 'conv').map((l) => `${l.shape[0]}:${l.rank}`));
    expect([...convRanks].sort()).toEqual(['16:6', '32:13', '64:27']);
  });
  it('ResNet-110 dense and p = 0.65', () => {
    const p = planModel('resnet110', { ...base, prune: 0.65 });
    near(p.macsDense, 252.89, 2);
    near(p.paramsDense, 1.72, 3);
    near(p.macsCompact, 93.78, 2);
    near(p.paramsCompact, 0.655, 3);
  });
  it('VGG-16-BN dense and rank floors only', () => {
    const p = planModel('vgg16', { ...base, prune: 0.99, rankFloors: true });
    near(p.macsDense, 313.2, 2);
    near(p.paramsDense, 14.72, 2);
    expect(p.layers.filter((l) => l.kind === 'conv').map((l) => l.rank)).toEqual([18, ...Array(12).fill(43)]);
    near(p.macsCompact, 81.29, 2);
    near(p.paramsCompact, 1.626, 3);
  });
});

describe('planning', () => {
  it('solves p for a FLOPs target and reaches it with the smallest step', () => {
    const p = planModel('resnet56', { ...base, target: { metric: 'macs', reduction: 0.55 } });
    expect(1 - p.macsCompact / p.macsDense).toBeGreaterThanOrEqual(0.55);
    const below = planModel('resnet56', { ...base, prune: p.prune - 1e-6 });
    expect(1 - below.macsCompact / below.macsDense).toBeLessThan(0.55);
  });
  it('solves p for a parameter target', () => {
    const p = planModel('resnet20', { ...base, target: { metric: 'params', reduction: 0.5 } });
    expect(1 - p.paramsCompact / p.paramsDense).toBeGreaterThanOrEqual(0.5);
  });
  it('rejects an impossible rank and an unknown layer with a clear message', () => {
    expect(() => planModel('resnet20', { ...base, rankOverrides: { 'stem/conv': 17 } })).toThrow(/impossible.*16×27.*≤ 16/);
    expect(() => planModel('resnet20', { ...base, rankOverrides: { nope: 2 } })).toThrow(/unknown layer 'nope'/);
  });
  it('applies overrides and keeps a layer dense when splitting gains nothing', () => {
    const p = planModel('resnet20', { ...base, prune: 0.5, rankOverrides: { 'stem/conv': 16 } });
    const stem = p.layers.find((l) => l.name === 'stem/conv')!;
    expect(stem.rank).toBe(16);
    expect(stem.keptDense).toBe(true);
    expect(stem.macsCompact).toBe(stem.macsDense);
  });
  it('pairs each conv with the BN that consumes it, from the graph', () => {
    const p = planModel('resnet20', base);
    for (const l of p.layers.filter((x) => x.kind === 'conv')) expect(l.bn).toBe(l.name.replace(/conv(\d?)$/, 'bn$1'));
    expect(buildModel('vgg16').nodes.filter((n) => n.op === 'maxpool')).toHaveLength(5);
  });
});
