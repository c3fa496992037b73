import { encodeCheckpoint } from '../../../engine/checkpoint';
import { applyLiveUpdate, parseRunConfig, type LiveUpdate, type RunConfig, type RunConfigInput } from '../../../engine/config';
import type { EngineEvent, InferenceEvent, LayerInfo } from '../../../engine/events';
import type { TakenCheckpoint } from '../../../runs/recorder';
import type { BackendPreference, CheckpointReason, DataChoice, DataInfo, InferenceRequest, ModelDownload, Progress, RecordRequest, WorkerMessage, WorkerRunEnd } from '../../../worker/protocol';
import { Recording, type RecordingStore } from '../../../worker/recording';
import type { WorkerClient, WorkerRemote } from '../../worker-client';

type Ended = WorkerRunEnd;

/** One startRun call: what the page asked for, and handles to answer it as the worker would. */
export interface FakeRun {
  req: { config: RunConfigInput; data: DataChoice; record: RecordRequest; resume?: Uint8Array; updates?: LiveUpdate[]; initWeights?: Uint8Array; firstStepOnly?: boolean };
  /** Messages from the worker: the page gets them, and the worker's recording records their events. */
  send: (messages: WorkerMessage[]) => void;
  /** The worker stores a checkpoint at `iteration`: the ones its recording asked for, or else one it asks for now with `reason`. */
  checkpoint: (iteration: number, reason?: CheckpointReason) => Promise<void>;
  /** How the run ended: the recording stores the result (the compact model of a finished run), then startRun answers. */
  end: (result: Ended) => void;
  fail: (e: Error) => void;
}

/**
 * A stand-in for the training worker with the same API: it records every call, and a test drives the
 * run it was asked to start (messages, checkpoints, the answer to startRun) and its device
 * (reportDeviceProblem). Like the worker, it records the run into the store it is given with the
 * worker's own Recording; its checkpoints are served by the test (FakeRun.checkpoint).
 */
export class FakeWorker implements WorkerClient {
  constructor(private readonly store: RecordingStore | null = null) {}

  readonly runs: FakeRun[] = [];
  readonly updates: LiveUpdate[] = [];
  readonly checkpoints: CheckpointReason[] = [];
  readonly calls: string[] = [];
  initWith: { preference: BackendPreference; kernels: 'fast' | 'stock' } | null = null;
  terminated = false;
  /** What init answers: a backend, or an error. */
  initResult: () => Promise<Awaited<ReturnType<WorkerRemote['init']>>> = async () => ({
    backend: 'webgpu',
    reason: 'test',
    device: 'fake',
    adapter: null,
    software: true,
    softwareName: 'fake',
    attempts: [],
    kernels: 'fast',
  });
  download: ModelDownload | null = { zip: new Uint8Array([80, 75, 5, 6]), modelJson: '{"format":"graph-model"}', weights: new Uint8Array([1, 2, 3, 4]) };
  /** What downloadSafetensors answers. */
  safetensors: Uint8Array | null = new Uint8Array([9, 9, 9]);
  loadFilesResult: (files: File[], onProgress: (p: Progress) => void) => Promise<DataInfo> = async () => {
    throw new Error('no files expected');
  };
  private deviceProblem: ((m: string) => void) | null = null;
  /** benchInference calls: what was asked, and handles to answer as the worker would. */
  readonly benches: { req: InferenceRequest; progress: (p: Progress) => void; resolve: (e: InferenceEvent) => void; reject: (e: Error) => void }[] = [];
  cancelledInference = 0;

  /** As the worker does when its GPU device is lost. */
  reportDeviceProblem(message: string): void {
    this.deviceProblem?.(message);
  }

  get lastRun(): FakeRun {
    const r = this.runs.at(-1);
    if (!r) throw new Error('no run was started on this worker');
    return r;
  }

  proxy<T extends object>(value: T): T {
    return value;
  }

  terminate(): void {
    this.terminated = true;
  }

  private recording: Recording | null = null;

  /** Writes of a terminated worker never happen (its thread is gone), as in the browser. */
  private deadAfterTerminate(store: RecordingStore): RecordingStore {
    const never = () => new Promise<never>(() => {});
    return {
      appendEvents: (...a) => (this.terminated ? never() : store.appendEvents(...a)),
      putCheckpoint: (...a) => (this.terminated ? never() : store.putCheckpoint(...a)),
      putModel: (...a) => (this.terminated ? never() : store.putModel(...a)),
      updateRun: (...a) => (this.terminated ? never() : store.updateRun(...a)),
    };
  }

  readonly api: WorkerRemote = {
    init: async (preference, kernels, onDeviceProblem) => {
      this.initWith = { preference, kernels };
      this.deviceProblem = onDeviceProblem;
      return this.initResult();
    },
    loadFiles: (files, onProgress) => this.loadFilesResult(files, onProgress),
    startRun: (req, onMessages) =>
      new Promise<Ended>((resolve, reject) => {
        const waiting: ((c: TakenCheckpoint) => void)[] = [];
        const store = this.store;
        const recording = store
          ? new Recording(this.deadAfterTerminate(store), req.record, {
              take: (reason) => {
                this.checkpoints.push(reason);
                return new Promise((r) => waiting.push(r));
              },
              onCheckpoint: (meta) => void onMessages([{ kind: 'checkpoint', meta }]),
              onStoreError: (message) => void onMessages([{ kind: 'storeError', message }]),
            })
          : null;
        this.recording = recording;
        const serve = (iteration: number) => {
          for (const r of waiting.splice(0)) r({ bytes: checkpointBytes(iteration), iteration, epoch: 0, time: 1, costMs: 1 });
        };
        this.runs.push({
          req,
          send: (m) => {
            void onMessages(m);
            for (const x of m) if (x.kind === 'event') recording?.recorder.event(x.event);
          },
          checkpoint: async (iteration, reason = 'interval') => {
            if (!recording) throw new Error('this fake worker records nothing: give it a store');
            const stored = waiting.length ? recording.recorder.flush() : recording.checkpoint(reason);
            serve(iteration);
            await stored;
            await new Promise((r) => setTimeout(r, 0));
            await recording.recorder.flush();
          },
          end: (result) => {
            const zip = result.ended === 'finished' ? (this.download?.zip ?? null) : null;
            void (recording?.finish(result, zip) ?? Promise.resolve(null)).then(() => resolve(result));
          },
          fail: reject,
        });
      }),
    pause: async () => void this.calls.push('pause'),
    resume: async () => void this.calls.push('resume'),
    step: async () => void this.calls.push('step'),
    matrixImages: async (layer, projection) => {
      this.calls.push(`matrixImages ${layer} ${projection}`);
      return null;
    },
    stop: async () => void this.calls.push('stop'),
    checkpoint: async (reason) => (await this.recording?.checkpoint(reason)) ?? false,
    update: async (changes) => void this.updates.push(changes),
    download: async () => this.download,
    downloadSafetensors: async (which) => {
      this.calls.push(`downloadSafetensors ${which}`);
      return this.safetensors;
    },
    compactModelZip: async (_bytes, name) => {
      this.calls.push(`compactModelZip ${name}`);
      return new Uint8Array([80, 75, 5, 6]);
    },
    downloadOnnx: async (which) => {
      this.calls.push(`downloadOnnx ${typeof which === 'string' ? which : 'files'}`);
      return null;
    },
    benchInference: (req, onProgress) => new Promise<InferenceEvent>((resolve, reject) => void this.benches.push({ req, progress: onProgress, resolve, reject })),
    cancelInference: async () => void this.cancelledInference++,
    diagnostics: async () => ({ numTensors: 0, numBytes: 0, cspViolations: [] }),
    simulateNaN: async () => 'conv',
    simulateDeviceLoss: async () => true,
  };
}

const layers: LayerInfo[] = [];

/** Engine events for the fake worker to stream, in the engine's shapes. */
export const ev = {
  runStart: (config: RunConfigInput, resumedFrom: number | null = null, time = 1): EngineEvent => {
    const c = parseRunConfig(config);
    return { type: 'runStart', time, resumedFrom, config: c, prune: c.lrpet.prune, backend: 'webgpu', trainSize: 64, testSize: 50, stepsPerEpoch: 4, layers, macsDense: 1, macsCompact: 1, paramsDense: 1, paramsCompact: 1 };
  },
  state: (state: 'running' | 'paused' | 'stopped' | 'finished', iteration = 0): EngineEvent => ({ type: 'state', time: 1, state, iteration, epoch: 0 }),
  step: (iteration: number, lr = 0.05): EngineEvent => ({ type: 'step', time: 1, iteration, epoch: 0, loss: 2, accuracy: 0.1, lr, imagesPerSec: 10, stepMs: 100, numTensors: 40 }),
  /** The engine's answer to a live update, with the settings after it. */
  configChange: (before: RunConfig, changes: LiveUpdate, iteration = 1): EngineEvent => ({ type: 'configChange', time: 1, iteration, epoch: 0, changes, config: applyLiveUpdate(before, changes), layers }),
  error: (code: 'nan' | 'exploding' | 'device' | 'config' | 'internal', message: string, iteration = 1): EngineEvent => ({ type: 'error', time: 1, code, message, iteration, epoch: 0 }),
};

export const msg = (...events: EngineEvent[]): WorkerMessage[] => events.map((event) => ({ kind: 'event', event }));

/** A small but well-formed encoded checkpoint (the page checks that a stored one reads before resuming from it). */
export function checkpointBytes(iteration: number): Uint8Array {
  return encodeCheckpoint({
    version: 2,
    time: 1,
    config: parseRunConfig({ model: 'resnet8-tiny' }),
    iteration,
    epoch: 0,
    step: iteration,
    projections: 0,
    lastProjectionIteration: 0,
    epochSums: { loss: 0, hits: 0, seen: 0 },
    order: Uint32Array.from([1, 0]),
    orderRngState: 1,
    augmentRngState: 2,
    firstLoss: null,
    compact: null,
    tensors: [{ key: 'w', shape: [2], data: Float32Array.from([iteration, 7]) }],
    snapshotMs: 0,
  });
}


/** Timers the test fires by hand. */
export class ManualTimers {
  private next = 1;
  private readonly pending = new Map<number, { fn: () => void; ms: number; repeat: boolean }>();

  readonly timers = {
    setTimeout: (fn: () => void, ms: number) => this.add(fn, ms, false),
    clearTimeout: (t: ReturnType<typeof setTimeout>) => void this.pending.delete(t as unknown as number),
    setInterval: (fn: () => void, ms: number) => this.add(fn, ms, true),
    clearInterval: (t: ReturnType<typeof setTimeout>) => void this.pending.delete(t as unknown as number),
  };

  private add(fn: () => void, ms: number, repeat: boolean): ReturnType<typeof setTimeout> {
    const id = this.next++;
    this.pending.set(id, { fn, ms, repeat });
    return id as unknown as ReturnType<typeof setTimeout>;
  }

  /** Fires the one-shot timers (e.g. the live-change delay); intervals stay. */
  fireTimeouts(): number {
    let n = 0;
    for (const [id, t] of [...this.pending]) {
      if (t.repeat) continue;
      this.pending.delete(id);
      t.fn();
      n++;
    }
    return n;
  }

  get timeouts(): number {
    return [...this.pending.values()].filter((t) => !t.repeat).length;
  }
}
