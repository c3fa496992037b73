import { describe, expect, it } from 'vitest';
import { applyLiveUpdate, parseRunConfig } from './config';

describe('applyLiveUpdate', () => {
  const base = parseRunConfig({ model: 'resnet20', lr: 0.1, lrpet: { target: { metric: 'macs', reduction: 0.5 }, interval: 10 } });

  it('returns a new config with the changed fields and leaves the given one as it was', () => {
    const before = structuredClone(base);
    const next = applyLiveUpdate(base, { lr: 0.01, interval: null, startEpoch: 2, endEpoch: 5, rankOverrides: { 'stem/conv': 3 }, energyTransfer: false, beta: 0.2, bnRectification: false });
    expect(base).toEqual(before);
    expect(next).toEqual({
      ...base,
      lr: 0.01,
      lrpet: { ...base.lrpet, interval: null, startEpoch: 2, endEpoch: 5, rankOverrides: { 'stem/conv': 3 }, energyTransfer: false, beta: 0.2, bnRectification: false },
    });
    expect(next.lrpet.rankOverrides).not.toBe(base.lrpet.rankOverrides);
  });

  it('drops a FLOPs target when p is set, and keeps it otherwise', () => {
    expect(applyLiveUpdate(base, { prune: 0.3 }).lrpet).toMatchObject({ prune: 0.3, target: null });
    expect(applyLiveUpdate(base, { lr: 0.05 }).lrpet.target).toEqual({ metric: 'macs', reduction: 0.5 });
    expect(applyLiveUpdate(base, {})).toEqual(base);
  });
});
