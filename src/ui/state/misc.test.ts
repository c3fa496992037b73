import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../engine/events';
import { absQuantile, diverging, divergingPixels, logNorm, ramp } from '../charts/heat';
import { mergeByX } from '../charts/merge';
import { estimateImagesPerSec, estimateSeconds } from './estimate';
import { EventLog, parseJsonLines, toJsonLines } from './eventlog';
import { fmtBytes, fmtCount, fmtDuration, fmtPct, fmtReduction } from './format';
import type { BackendInfo } from '../../worker/protocol';

describe('formatting', () => {
  it('counts like the paper', () => {
    expect(fmtCount(125_490_000)).toBe('125.49M');
    expect(fmtCount(19_000)).toBe('19.0k');
    expect(fmtReduction(125.49e6, 56.06e6)).toBe('−55.3%');
    expect(fmtPct(0.9327, 2)).toBe('93.27%');
    expect(fmtPct(null)).toBe('–');
    expect(fmtBytes(184_380_060)).toBe('184.4 MB');
    expect(fmtDuration(95)).toBe('1 min 35 s');
    expect(fmtDuration(5400)).toBe('1 h 30 min');
    expect(fmtDuration(3 * 86400)).toBe('3.0 days');
  });
});

describe('event log as JSON lines', () => {
  const events: EngineEvent[] = [
    { type: 'log', time: 1, level: 'info', message: 'a "quoted"\nline' },
    { type: 'state', time: 2, state: 'running', iteration: 0, epoch: 0 },
  ];
  it('one event per line, and back', () => {
    const text = toJsonLines(events);
    expect(text.split('\n')).toHaveLength(3);
    expect(parseJsonLines(text)).toEqual(events);
    expect(() => parseJsonLines('{}\n{oops')).toThrow(/line 2/);
  });
  it('serialises in slices, yielding between them', async () => {
    const log = new EventLog();
    for (let i = 0; i < 5; i++) log.push(events);
    let yields = 0;
    const blob = await log.toBlob(3, async () => void yields++);
    expect(yields).toBe(3); // 10 events in slices of 3
    expect(parseJsonLines(await blob.text())).toHaveLength(10);
    log.clear();
    expect(log.length).toBe(0);
  });
});

describe('speed estimate', () => {
  const info = (backend: BackendInfo['backend'], software: boolean): BackendInfo => ({ backend, software, reason: '', device: null, adapter: null, softwareName: null, attempts: [] });
  it('only for software renderers, slower for bigger models', () => {
    expect(estimateImagesPerSec(info('webgpu', false), 3e6, 32)).toBeNull();
    const tiny = estimateImagesPerSec(info('webgpu', true), 3.17e6, 32)!;
    const r56 = estimateImagesPerSec(info('webgpu', true), 125.49e6, 128)!;
    expect(tiny).toBeGreaterThan(r56 * 10);
    expect(estimateSeconds(10, 1000, 300)).toBeCloseTo(110, 6);
  });
});

describe('chart helpers', () => {
  it('ramp and log normalisation', () => {
    expect(ramp(0)).toEqual([68, 1, 84]);
    expect(ramp(1)).toEqual([253, 231, 37]);
    expect(ramp(NaN)).toEqual([68, 1, 84]);
    expect(logNorm(1, 1)).toBe(1);
    expect(logNorm(0.001, 1)).toBeCloseTo(0, 12);
    expect(logNorm(0, 1)).toBe(0);
  });
  it('diverging colours, their robust scale and pixels', () => {
    expect(diverging(0)).toEqual([255, 255, 255]);
    expect(diverging(-1)).toEqual([33, 102, 172]);
    expect(diverging(1)).toEqual([178, 24, 43]);
    expect(diverging(7)).toEqual(diverging(1));
    expect(diverging(NaN)).toEqual([255, 255, 255]);
    // 100 values 1…100 and an outlier: the 99% quantile ignores the outlier.
    const v = Array.from({ length: 100 }, (_, i) => -(i + 1));
    expect(absQuantile([v, [1e6]], 0.99)).toBe(100);
    expect(absQuantile([[NaN, 0]], 0.99)).toBe(0);
    expect(Array.from(divergingPixels([-2, 0, 1], 2))).toEqual([33, 102, 172, 255, 255, 255, 255, 255, 217, 140, 149, 255]);
  });
  it('mergeByX joins series on x', () => {
    expect(mergeByX([{ x: 2, a: 1 }, { x: 1, a: 0 }], [{ x: 2, b: 5 }, { x: 3, b: 6 }])).toEqual([{ x: 1, a: 0 }, { x: 2, a: 1, b: 5 }, { x: 3, b: 6 }]);
  });
});
