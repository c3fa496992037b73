import { describe, expect, it } from 'vitest';
import { parseEngineLog, stats, summariseEngineLog } from './engine-log';
import { handMadeLog as log } from './testing';

describe('summariseEngineLog', () => {
  it('gives step speed, projection, test and compact-build times and memory at the start and the end', () => {
    const s = summariseEngineLog(parseEngineLog(log()));
    expect(s).toMatchObject({ model: 'resnet8-tiny', batch: 8, backend: 'webgpu', lrpet: true, interval: 2, trainSize: 24, testSize: 40, ended: 'stopped', errors: [], truncatedLines: 0 });
    expect(s.steps).toMatchObject({ count: 5, lastIteration: 5, firstStepMs: 900, firstLoss: 2.9, lastLoss: 2.5 });
    // Steps 2–5: 100, 100, 120, 80 ms → median 100 ms → 80 img/s.
    expect(s.steps.stepMs).toMatchObject({ n: 4, median: 100, mean: 100, min: 80, max: 120 });
    expect(s.steps.imagesPerSec).toBeCloseTo(80, 10);
    // 4 steps × 8 images between the first (t = 1900) and the last step event (t = 2580).
    expect(s.steps.wallImagesPerSec).toBeCloseTo((32 / 680) * 1000, 10);
    expect(s.projections).toMatchObject({ count: 3, layers: 0 });
    expect(s.projections.ms).toMatchObject({ n: 3, median: 30, min: 20, max: 50 });
    expect(s.evaluations).toEqual([
      { what: 'epoch', iteration: 3, ms: 200, images: 40, imagesPerSec: 200 },
      { what: 'projected', iteration: 5, ms: 160, images: 40, imagesPerSec: 250 },
      { what: 'compact', iteration: 5, ms: 100, images: 40, imagesPerSec: 400 },
    ]);
    expect(s.evaluation).toEqual({ ms: 180, images: 40, imagesPerSec: (40 / 180) * 1000 });
    expect(s.compactBuildMs).toBe(40);
    expect(s.epochs).toEqual([{ epoch: 0, iteration: 3, epochMs: 500, trainAccuracy: 0.2, testAccuracy: 0.25, afterProjection: false }]);
    expect(s.compact).toMatchObject({ testAccuracy: 0.29, denseTestAccuracy: 0.3, macsDense: 10, macsCompact: 5 });
    expect(s.memory).toEqual({
      start: { iteration: 1, numTensors: 50, numBytes: 5000, gpuBytesInUse: 3000, gpuBytesAllocated: 6000 },
      end: { iteration: 5, numTensors: 60, numBytes: 6000, gpuBytesInUse: 4000, gpuBytesAllocated: 8000 },
      tensorsFlat: true,
      maxGpuBytesAllocated: 8000,
    });
    expect(s.wallMs).toBe(1900);
  });

  it('says when the tensor count grows from step to step', () => {
    const text = log().replace('"iteration":5,"epoch":1,"loss":2.5,"accuracy":0.1,"lr":0.1,"imagesPerSec":100,"stepMs":80,"numTensors":60', '"iteration":5,"epoch":1,"loss":2.5,"accuracy":0.1,"lr":0.1,"imagesPerSec":100,"stepMs":80,"numTensors":61');
    expect(text).not.toBe(log());
    expect(summariseEngineLog(parseEngineLog(text)).memory.tensorsFlat).toBe(false);
  });

  it('reads a log cut short: a partial last line is counted, the run has no end state', () => {
    const lines = log().trim().split('\n');
    const cut = [...lines.slice(0, 7), lines[7].slice(0, 20)].join('\n');
    const parsed = parseEngineLog(cut);
    expect(parsed.truncatedLines).toBe(1);
    expect(parsed.events).toHaveLength(7);
    const s = summariseEngineLog(parsed);
    expect(s).toMatchObject({ ended: null, compact: null, compactBuildMs: null, evaluations: [] });
    expect(s.steps.count).toBe(3);
  });

  it('rejects a bad line in the middle, naming it', () => {
    const lines = log().trim().split('\n');
    lines[3] = '{"type":"step"';
    expect(() => parseEngineLog(lines.join('\n'))).toThrow(/^line 4: not JSON/);
    lines[3] = '{"type":"step","time":1}';
    expect(() => parseEngineLog(lines.join('\n'))).toThrow(/^line 4: step event, field 'iteration'/);
  });
});

describe('stats', () => {
  it('median, mean and nearest-rank percentiles; ignores non-finite values', () => {
    expect(stats([5, 1, 3, NaN, 2, 4])).toEqual({ n: 5, median: 3, mean: 3, min: 1, max: 5, p10: 1, p90: 5 });
    expect(stats([4, 1, 3, 2])).toMatchObject({ median: 2.5 });
    expect(stats([])).toEqual({ n: 0, median: null, mean: null, min: null, max: null, p10: null, p90: null });
  });
});
