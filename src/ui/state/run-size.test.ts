import { describe, expect, it } from 'vitest';
import type { RunStartEvent } from '../../engine/events';
import { datasetCounts, type DataState } from '../session/data-source';
import { runSize } from './run-size';

const data = (effective: DataState['effective'], o: Partial<DataState> = {}): DataState => ({
  server: { status: 'ready', message: null, listing: null },
  user: { status: 'none', attempt: 0, info: null, progress: null, message: null },
  choice: null,
  effective,
  ...o,
});
const record = 3073;

describe('how big a run is on the data at hand', () => {
  it("counts the images of the local folder's files and of the user's own, and none while unknown", () => {
    const files = [...[1, 2, 3, 4, 5].map((i) => ({ name: `data_batch_${i}.bin`, size: 10_000 * record })), { name: 'test_batch.bin', size: 10_000 * record }, { name: 'batches.meta.txt', size: 61 }];
    const listing = { source: '/d', rule: './data', tried: [], problem: null, files, download: { state: 'idle' as const, received: 0, total: null, message: null } };
    expect(datasetCounts(data('server', { server: { status: 'ready', message: null, listing } }))).toEqual({ train: 50_000, test: 10_000 });
    const info = { kind: 'files' as const, source: 'mine.tar.gz', trainCount: 10_000, testCount: 2_000, bytes: 1 };
    expect(datasetCounts(data('files', { user: { status: 'ready', attempt: 1, info, progress: null, message: null } }))).toEqual({ train: 10_000, test: 2_000 });
    expect(datasetCounts(data(null))).toBeNull();
  });

  it('a limit cuts the dataset and never extends it; an epoch is ⌈images / batch⌉ steps, as the engine counts them', () => {
    // The user's own files hold 10,000 training images: an epoch of batch 128 is 79 steps, not 391.
    expect(runSize({ trainLimit: null, testLimit: null, batchSize: 128 }, { train: 10_000, test: 2_000 }, null)).toEqual({ train: 10_000, test: 2_000, stepsPerEpoch: 79 });
    // A limit above the dataset: the whole dataset (391 steps), not 469.
    expect(runSize({ trainLimit: 60_000, testLimit: 20_000, batchSize: 128 }, { train: 50_000, test: 10_000 }, null)).toEqual({ train: 50_000, test: 10_000, stepsPerEpoch: 391 });
    expect(runSize({ trainLimit: 512, testLimit: 500, batchSize: 32 }, { train: 50_000, test: 10_000 }, null)).toEqual({ train: 512, test: 500, stepsPerEpoch: 16 });
    expect(runSize({ trainLimit: 512, testLimit: 500, batchSize: 32 }, null, null)).toBeNull();
  });

  it("a started run's own numbers", () => {
    const start = { trainSize: 300, testSize: 40, stepsPerEpoch: 19 } as RunStartEvent;
    expect(runSize({ trainLimit: null, testLimit: null, batchSize: 16 }, { train: 50_000, test: 10_000 }, start)).toEqual({ train: 300, test: 40, stepsPerEpoch: 19 });
  });
});
