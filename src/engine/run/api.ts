import type * as tfType from '@tensorflow/tfjs';
import type { LiveUpdate, RunConfigInput } from '../config';
import type { Checkpoint } from '../checkpoint';
import type { CifarDataset } from '../data/cifar';
import type { EngineEvent } from '../events';
import type { MatrixImageStore } from './matrix-images';

export type Tf = typeof tfType;

export interface RunOptions {
  /** The tfjs module, already on its backend (the engine never picks a backend itself). */
  tf: Tf;
  config: RunConfigInput;
  data: CifarDataset;
  onEvent: (event: EngineEvent) => void;
  /** Continue from this checkpoint instead of starting fresh (same model and data size). */
  resume?: Checkpoint;
  /**
   * A fresh run's initial weights when `config.init` names them: a safetensors file of the model's dense
   * weights with the official PyTorch names (weights/pytorch-layout.ts). Validated; a bad file throws a
   * WeightsError saying what is wrong.
   */
  initWeights?: Uint8Array;
}

/** The trained model and the compact one as safetensors files with the official PyTorch names (null where there is none). */
export interface SafetensorsExport {
  /** The dense (projected) model; null when the run trained a compact model (post-hoc after its switch, compact from scratch). */
  projected: Uint8Array | null;
  /** The compact model (the authors' split names <layer>.C / <layer>.N; lrpet-torch/lrpet_torch/compact.py loads it). */
  compact: Uint8Array | null;
}

/** A TensorFlow.js graph model as files: model.json's content and the one weights file it names. */
export interface ExportedModel {
  /** Parsed model.json: { format: 'graph-model', modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights }] }. */
  modelJson: Record<string, unknown>;
  weights: Uint8Array;
}

/**
 * How a run ended. 'finished': every epoch was trained. 'stopped': stop() ended it early (also after a
 * NaN or exploding loss paused it; `message` is then that error's). 'error': an error ended it (a lost
 * device, an internal error); `message` says what.
 */
export type RunEnding = 'finished' | 'stopped' | 'error';

export interface RunEnd {
  ended: RunEnding;
  message?: string;
}

export interface RunControls {
  /** Trains to the end (or until stop()); resolves after the final events with how the run ended. Rejects only on internal bugs: errors are events. */
  start(): Promise<RunEnd>;
  /** Pauses between steps: no GPU work is queued while paused. */
  pause(): void;
  resume(): void;
  /**
   * From a pause: one training step (and the projection, evaluation and epoch end due after it, with
   * their events), then paused again; the state events are the usual 'running', then 'paused'. Called
   * before start(), the run pauses after its first step. Ignored while running or stopping.
   */
  step(): void;
  /** Ends the run after the current step; the compact model is still built if the config asks. */
  stop(): void;
  /** Changes settings mid-run; applied at the next step / projection and announced by a configChange event. */
  update(changes: LiveUpdate): void;
  /** The current dense (projected) model and, once built, the compact one, in TensorFlow.js graph-model format. */
  exportModels(): Promise<{ projected: ExportedModel; compact: ExportedModel | null }>;
  /** The same models as safetensors files for PyTorch. */
  exportSafetensors(): Promise<SafetensorsExport>;
  /** A consistent snapshot (weights, optimiser, data position, RNG) taken between two steps. */
  checkpoint(): Promise<Checkpoint>;
  /** Each projected layer's matrix M = diag(a)·W pictured before and after the latest projections; kept after dispose(). */
  readonly matrixImages: MatrixImageStore;
  /** Frees every tensor the run holds. */
  dispose(): void;
}
