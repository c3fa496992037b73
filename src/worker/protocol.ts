import type { LiveUpdate, ModelName, RunConfigInput } from '../engine/config';
import type { EngineEvent, InferenceEvent } from '../engine/events';
import type { RunEnd } from '../engine/run/api';
import type { LayerMatrixImages } from '../engine/run/matrix-images';
import type { CheckpointReason } from '../runs/records';
import type { StoredCheckpoint } from '../runs/recorder';
import type { BackendInfo, BackendPreference } from './backend';

export type { BackendInfo, BackendPreference } from './backend';

/** What the local server reports at /api/dataset. */
export interface ServerListing {
  source: string | null;
  /** Which lookup rule found it: '$CIFAR10_DIR', './data', '../shared'. */
  rule: string | null;
  tried: string[];
  problem: string | null;
  files: { name: string; size: number }[];
  download: DownloadState;
}

export interface DownloadState {
  state: 'idle' | 'downloading' | 'extracting' | 'done' | 'error';
  received: number;
  total: number | null;
  message: string | null;
}

/** A dataset the worker holds (parsed and validated). */
export interface DataInfo {
  kind: 'server' | 'files';
  source: string;
  trainCount: number;
  testCount: number;
  bytes: number;
}

export interface Progress {
  label: string;
  loaded: number;
  total: number | null;
}

export type DataChoice = 'server' | 'files';

/** What the worker sends to the page, in batches. */
export type WorkerMessage =
  | { kind: 'event'; event: EngineEvent }
  | { kind: 'progress'; progress: Progress }
  /** After a run: the worker disposed the run; numTensors is what tfjs still holds (0 when nothing leaked). */
  | { kind: 'released'; numTensors: number; numBytes: number }
  /** Which models can be downloaded: TensorFlow.js graph models, and safetensors for PyTorch (`pytorch`). */
  | { kind: 'exports'; compact: boolean; projected: boolean; pytorch: { compact: boolean; projected: boolean } }
  /** The worker stored a checkpoint of the run in the browser (in stream order: every event before it happened before it was taken). */
  | { kind: 'checkpoint'; meta: StoredCheckpoint }
  /** Writing the run to the browser's storage failed (e.g. it is full): the run goes on. */
  | { kind: 'storeError'; message: string };

/** Where the worker records a run it trains: the run's record in the browser's storage, and the checkpoint cadence. */
export interface RecordRequest {
  runId: string;
  /** Events of the run already stored (a resumed run continues after them). */
  recordedEvents: number;
  /** Most training time between two checkpoints (the page's "Checkpoint every"). */
  checkpointMinutes: number;
}

export type { CheckpointReason };

/** How a run ended; deviceProblem: it failed because the GPU device was lost (the worker must be replaced). */
export interface WorkerRunEnd extends RunEnd {
  deviceProblem?: string;
}

export interface ModelDownload {
  /** model.json + weights.bin in one zip. */
  zip: Uint8Array;
  modelJson: string;
  weights: Uint8Array;
}

/** A graph model's two files. */
export interface ModelFiles {
  modelJson: string;
  weights: Uint8Array;
}

/** What to time: the models of the worker's last run ('last'), or a stored compact model against its dense architecture. */
export interface InferenceRequest {
  compact: 'last' | ModelFiles;
  /** 'last': the last run's projected dense model; else the named model's dense architecture with random weights. */
  dense: 'last' | { architecture: ModelName };
  batches: number[];
  warmup: number;
  iterations: number;
}

/** The worker's API (exposed with comlink). */
export interface WorkerApi {
  /** Picks the backend; on WebGPU, `kernels` 'fast' (default) swaps in this project's faster training kernels. */
  init(
    preference: BackendPreference,
    kernels: 'fast' | 'stock',
    /** Called once when the GPU device is lost or runs out of memory, or a run failed on it (tfjs has no handler: the page replaces the worker). */
    onDeviceProblem: (message: string) => void,
  ): Promise<BackendInfo & { kernels: 'fast' | 'stock' | null }>;
  /** Parses cifar-10-binary.tar.gz / .tar / .bin files in the worker; rejects with a clear message on bad files. */
  loadFiles(files: File[], onProgress: (p: Progress) => void): Promise<DataInfo>;
  /** Runs to the end; messages arrive batched (about every 150 ms). Resolves with why it ended. */
  startRun(req: { config: RunConfigInput; data: DataChoice; /** The run's record: the worker stores its events, checkpoints and result. */ record: RecordRequest; /** An encoded checkpoint to continue from (its settings apply). */ resume?: Uint8Array; /** Changes applied at the first step (e.g. a lower lr after a NaN). */ updates?: LiveUpdate[]; /** A fresh run's initial weights (safetensors) when config.init names them. */ initWeights?: Uint8Array; /** Pause after the first step (the Step button before a run). */ firstStepOnly?: boolean }, onMessages: (batch: WorkerMessage[]) => void | Promise<void>): Promise<WorkerRunEnd>;
  pause(): void;
  resume(): void;
  /** From a pause: one training step (and what is due after it), then paused again. */
  step(): void;
  /** A layer's matrix images at a projection of the current (or last) run; null when not kept (older projections, another worker's run). */
  matrixImages(layer: string, projection: number | null): Promise<LayerMatrixImages | null>;
  /** Ends the run after the current step; a 'stop' checkpoint (taken before the final projection) comes first in the stream. */
  stop(): void;
  /** Takes a checkpoint after the step in flight and stores it (the page is going away); false when none was stored. */
  checkpoint(reason: CheckpointReason): Promise<boolean>;
  update(changes: LiveUpdate): void;
  download(which: 'compact' | 'projected'): Promise<ModelDownload | null>;
  /** The last run's model as a safetensors file with the official PyTorch names. */
  downloadSafetensors(which: 'compact' | 'projected'): Promise<Uint8Array | null>;
  /**
   * A compact model's safetensors file (e.g. the PyTorch trainer's compact.safetensors) as the TensorFlow.js
   * graph model a run keeps (a zip of model.json + weights.bin); rejects, saying why, for a file that is not one.
   */
  compactModelZip(safetensors: Uint8Array, name: string): Promise<Uint8Array>;
  /**
   * An ONNX file (engine/deploy/onnx: IR 8, opset 13, BN folded, input 'input' NCHW [batch, 3, 32, 32], output
   * 'logits'): of the last run's compact or projected model, or of a stored model's graph-model files
   * (a stored run's compact model). null when the last run has no such model. Rejects with a clear message
   * on files it cannot read (ModelFileError).
   */
  downloadOnnx(which: 'compact' | 'projected' | ModelFiles): Promise<Uint8Array | null>;
  /**
   * Times the dense and the compact model (engine/infer/bench.ts) and answers with the inference event: the
   * graph models, on WebGPU also the engine's fused forward of the compact model (batches[].fused,
   * fusedSpeedup), and when the speed-up falls below 0.8 of the MAC reduction the compact model with ranks
   * padded to multiples of 4 and 8 (paddedRanks); `fastest` names the quickest compact variant per batch;
   * rejects when a run is going, when 'last' models are asked for and this worker has none, or when
   * cancelled (cancelInference).
   */
  benchInference(req: InferenceRequest, onProgress: (p: Progress) => void): Promise<InferenceEvent>;
  cancelInference(): void;
  /** tfjs memory and the CSP violations seen inside the worker. */
  diagnostics(): Promise<{ numTensors: number; numBytes: number; cspViolations: string[] }>;
  /** For tests and demos: overwrite one conv kernel with NaN (the next step's loss is NaN). Returns the variable's name. */
  simulateNaN(): Promise<string | null>;
  /** For tests and demos: destroy the WebGPU device, as a driver reset would. False when not on WebGPU. */
  simulateDeviceLoss(): Promise<boolean>;
}
