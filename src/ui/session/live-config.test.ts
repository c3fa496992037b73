import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../engine/config';
import { sampleEvents } from '../../runs/testing/sample-events';
import { configFromEvents, ReportedConfig } from './live-config';
import { ev } from './testing/fake-worker';

const base = parseRunConfig({ model: 'resnet8-tiny', epochs: 3, lr: 0.05, lrpet: { target: { metric: 'macs', reduction: 0.5 }, interval: 4 } });

describe('live settings', () => {
  it("a stored log's settings: its last runStart and the live changes after it", () => {
    const events = sampleEvents(2, 4);
    expect(configFromEvents(events)?.lrpet.prune).toBe(0.75);
    expect(configFromEvents(events.slice(0, 3))?.lrpet.prune).toBe(0.5);
    const resumed = ev.runStart({ ...base, lr: 0.002 }, 8);
    expect(configFromEvents([...events, resumed])?.lr).toBe(0.002);
    expect(configFromEvents([])).toBeNull();
  });

  it('follows what the engine reported and the updates it has not answered yet', () => {
    const r = new ReportedConfig();
    expect(r.expected()).toBeNull();
    r.reset(base, [{ lr: 0.01 }]);
    expect(r.config).toBeNull();
    expect(r.expected()?.lr).toBe(0.01);
    expect(r.observe([ev.runStart(base)])).toBe(true);
    expect(r.config?.lr).toBe(0.05);
    expect(r.expected()?.lr).toBe(0.01);
    r.sent({ beta: 0.1 });
    const lost = { prune: 0.2 };
    r.sent(lost);
    r.lost(lost);
    expect(r.expected()).toMatchObject({ lr: 0.01, lrpet: { beta: 0.1, prune: base.lrpet.prune } });
    // Answered in order: the first applied, the second refused.
    r.observe([ev.configChange(base, { lr: 0.01 }), ev.error('config', 'change not applied')]);
    expect(r.config?.lr).toBe(0.01);
    expect(r.expected()?.lrpet.beta).toBe(0);
    expect(r.observe([ev.step(3)])).toBe(false);
  });
});
