import type { RunConfig, LiveUpdate } from './config';

/** One conv (or dense) layer as LRPET sees it: its matrix view O × (I·kh·kw) and the rank it is cut to. */
export interface LayerInfo {
  name: string;
  kind: 'conv' | 'dense';
  /** [O, I·kh·kw]: rows are output filters. */
  shape: [number, number];
  /** Kernel shape [kh, kw, I, O] (dense: [1, 1, in, out]). */
  kernel: [number, number, number, number];
  /** min(O, I·kh·kw). */
  n: number;
  rank: number;
  /** Whether this layer is projected at all. */
  projected: boolean;
  /** Name of the BN that consumes this conv's output, if any. */
  bn: string | null;
  macsDense: number;
  macsCompact: number;
  paramsDense: number;
  paramsCompact: number;
  /** Splitting would not reduce cost (r·(K+O) ≥ O·K): kept dense in the compact model. */
  keptDense: boolean;
}

export interface CostSummary {
  macsDense: number;
  macsCompact: number;
  paramsDense: number;
  paramsCompact: number;
}

export interface RunStartEvent extends CostSummary {
  type: 'runStart';
  time: number;
  /** The iteration a resumed run continues from (null for a fresh run). */
  resumedFrom: number | null;
  config: RunConfig;
  /** The prune ratio actually used (solved when a target was given). */
  prune: number;
  backend: string;
  trainSize: number;
  testSize: number;
  stepsPerEpoch: number;
  layers: LayerInfo[];
}

export interface StepEvent {
  type: 'step';
  time: number;
  /** Global iteration, 1-based: the number of optimiser steps done. */
  iteration: number;
  epoch: number;
  loss: number;
  accuracy: number;
  lr: number;
  imagesPerSec: number;
  stepMs: number;
  numTensors: number;
}

export interface EpochEvent {
  type: 'epoch';
  time: number;
  epoch: number;
  iteration: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  /** True when the weights tested were just projected (test accuracy is after projection). */
  afterProjection: boolean;
  epochMs: number;
  numTensors: number;
}

export interface LayerProjection {
  name: string;
  shape: [number, number];
  rank: number;
  /** All n singular values of the (BN-merged) matrix before the projection, descending. */
  sigmaBefore: number[];
  /** After energy transfer: √α·σ for i ≤ r, β·σ for i > r. */
  sigmaAfter: number[];
  /** E_K / E: fraction of energy in the kept singular values before the projection. */
  energyKeptBefore: number;
  /** Same fraction after the projection (1 when β = 0). */
  energyKeptAfter: number;
  alpha: number;
  /** True when σ1 < 1e-4 and the layer was left as it is. */
  skipped: boolean;
}

export interface ProjectionEvent {
  type: 'projection';
  time: number;
  /** 1-based count of projections in this run. */
  index: number;
  iteration: number;
  epoch: number;
  layers: LayerProjection[];
  projectionMs: number;
  /** Test accuracy after the projection, when it was evaluated right away (end of epoch). */
  testAccuracy: number | null;
}

export interface CompactEvent extends CostSummary {
  type: 'compact';
  time: number;
  testAccuracy: number;
  testLoss: number;
  /**
   * Accuracy of the projected dense model on the same test data, for comparison. Post-hoc runs: the
   * accuracy right after their one projection (before fine-tuning); compact-from-scratch runs: the
   * compact model's own accuracy.
   */
  denseTestAccuracy: number;
  layers: { name: string; rank: number; split: boolean; zero: boolean }[];
}

export interface ConfigChangeEvent {
  type: 'configChange';
  time: number;
  iteration: number;
  epoch: number;
  changes: LiveUpdate;
  /** The whole run config after the change. */
  config: RunConfig;
  layers: LayerInfo[];
}

export interface StateEvent {
  type: 'state';
  time: number;
  state: 'running' | 'paused' | 'stopped' | 'finished';
  iteration: number;
  epoch: number;
}

export interface ErrorEvent {
  type: 'error';
  time: number;
  /**
   * 'nan' — the loss went NaN/inf; 'exploding' — the loss rose above max(20, 10 × the run's first
   * step loss). Both pause the run before that step is applied. 'device' — GPU device lost; 'data',
   * 'config', 'internal'.
   */
  code: 'nan' | 'exploding' | 'device' | 'data' | 'config' | 'internal';
  message: string;
  iteration: number;
  epoch: number;
}

export interface LogEvent {
  type: 'log';
  time: number;
  level: 'info' | 'warn';
  message: string;
}

export type EngineEvent =
  | RunStartEvent
  | StepEvent
  | EpochEvent
  | ProjectionEvent
  | CompactEvent
  | ConfigChangeEvent
  | StateEvent
  | ErrorEvent
  | LogEvent;

export type EngineEventType = EngineEvent['type'];
export type EventListener = (event: EngineEvent) => void;
