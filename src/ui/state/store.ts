import { describeChanges, type RunConfig } from '../../engine/config';
import type {
  ActivityEvent,
  CompactEvent,
  ConfigChangeEvent,
  EngineEvent,
  EpochEvent,
  ErrorEvent,
  GradNormsEvent,
  InferenceEvent,
  LayerInfo,
  LogEvent,
  ProjectionEvent,
  RunStartEvent,
} from '../../engine/events';
import type { RunEnd } from '../../engine/run/api';
import type { Progress } from '../../worker/protocol';
import type { BatchParts } from './worker-batch';
import { addPoints, EMA0, emaAdd, emaValue, emptySeries, seriesPoints, thin, wmean, type Bucketed, type Ema } from './series';

/** 'interrupted': a stored run whose page went away mid-run, shown from its log before it is resumed. */
export type Phase = 'idle' | 'loading' | 'running' | 'paused' | 'stopping' | 'finished' | 'stopped' | 'failed' | 'interrupted';

export interface StepPoint {
  iteration: number;
  epoch: number;
  loss: number;
  accuracy: number;
  /** Smoothed (EMA) training loss / accuracy at this point. */
  lossSmooth: number;
  accuracySmooth: number;
  lr: number;
  imagesPerSec: number;
  stepMs: number;
  numTensors: number;
}

/** What the energy chart and the heat map need from a projection, kept for every projection (thinned on very long runs). */
export interface ProjectionSummary {
  index: number;
  iteration: number;
  epoch: number;
  projectionMs: number;
  testAccuracy: number | null;
  /** Per projected layer, in `layerNames` order. */
  energyKeptBefore: number[];
  alpha: number[];
  ranks: number[];
}

export interface Marker {
  iteration: number;
  label: string;
}

export interface RunState {
  phase: Phase;
  /** The worker's progress (loading data, restarting, preparing downloads) until the next engine event. */
  progress: Progress | null;
  /** What the engine is busy with besides steps (compiling kernels, testing, building the compact model), until its next event. */
  activity: ActivityEvent | null;
  start: RunStartEvent | null;
  /** The run's settings now: runStart's, then each live change's (configChange). */
  config: RunConfig | null;
  /** The current plan (changes with live rank / p changes). */
  layers: LayerInfo[];
  /** Names of the layers that projections report, in order. */
  layerNames: string[];
  steps: Bucketed<StepPoint>;
  ema: { loss: Ema; accuracy: Ema };
  epochs: EpochEvent[];
  projections: ProjectionSummary[];
  /** Full projection events (all singular values) for the spectrum scrubber; thinned past MAX_SPECTRA. */
  spectra: ProjectionEvent[];
  /** The layers gradient norms are reported for (all of runStart's, dense ones included), in the events' order. */
  gradLayers: string[];
  /** Gradient-norm events; thinned past MAX_GRAD_NORMS. */
  gradNorms: GradNormsEvent[];
  markers: Marker[];
  compact: CompactEvent | null;
  /** The latest inference-speed measurement of the run's models. */
  inference: InferenceEvent | null;
  errors: ErrorEvent[];
  logs: LogEvent[];
  released: { numTensors: number; numBytes: number } | null;
  exports: { compact: boolean; projected: boolean; pytorch: { compact: boolean; projected: boolean } };
  /** When the run started (page clock) and when the last event came. */
  startedAt: number | null;
  lastEventAt: number | null;
  eventCount: number;
  failure: string | null;
}

export const MAX_STEP_POINTS = 300;
const MAX_PROJECTIONS = 2000;
export const MAX_SPECTRA = 240;
export const MAX_GRAD_NORMS = 1500;
const SMOOTHING = 0.8;

export function initialRunState(): RunState {
  return {
    phase: 'idle',
    progress: null,
    activity: null,
    start: null,
    config: null,
    layers: [],
    layerNames: [],
    steps: emptySeries<StepPoint>(MAX_STEP_POINTS),
    ema: { loss: EMA0, accuracy: EMA0 },
    epochs: [],
    projections: [],
    spectra: [],
    gradLayers: [],
    gradNorms: [],
    markers: [],
    compact: null,
    inference: null,
    errors: [],
    logs: [],
    released: null,
    exports: { compact: false, projected: false, pytorch: { compact: false, projected: false } },
    startedAt: null,
    lastEventAt: null,
    eventCount: 0,
    failure: null,
  };
}

export type RunAction =
  | { type: 'starting'; at: number }
  /** A batch from the worker, taken apart (session/messages.ts). */
  | { type: 'batch'; parts: BatchParts; at: number }
  | { type: 'stopping' }
  | { type: 'failed'; message: string }
  /** A stored run's events (up to its checkpoint), before it continues. */
  | { type: 'replay'; events: EngineEvent[]; at: number }
  /** A stored run's whole log, shown read-only (an interrupted run before Resume). */
  | { type: 'stored'; events: EngineEvent[]; at: number }
  /** The worker is being replaced (device lost, or going back to a checkpoint). */
  | { type: 'restarting'; message: string }
  /** The page is busy before the worker streams (e.g. reading a stored run to resume it). */
  | { type: 'progress'; progress: Progress }
  | ({ type: 'ended' } & RunEnd);

const mergeStep = (a: StepPoint, wa: number, b: StepPoint, wb: number): StepPoint => ({
  iteration: b.iteration,
  epoch: b.epoch,
  loss: wmean(a.loss, wa, b.loss, wb),
  accuracy: wmean(a.accuracy, wa, b.accuracy, wb),
  lossSmooth: b.lossSmooth,
  accuracySmooth: b.accuracySmooth,
  lr: b.lr,
  imagesPerSec: wmean(a.imagesPerSec, wa, b.imagesPerSec, wb),
  stepMs: wmean(a.stepMs, wa, b.stepMs, wb),
  numTensors: b.numTensors,
});

const fmtChange = (c: ConfigChangeEvent['changes']): string => describeChanges(c) || 'change';

function summarize(p: ProjectionEvent, names: string[]): ProjectionSummary {
  const byName = new Map(p.layers.map((l) => [l.name, l]));
  const pick = <K extends 'energyKeptBefore' | 'alpha' | 'rank'>(k: K) => names.map((n) => (byName.get(n)?.[k] as number | undefined) ?? NaN);
  return {
    index: p.index,
    iteration: p.iteration,
    epoch: p.epoch,
    projectionMs: p.projectionMs,
    testAccuracy: p.testAccuracy,
    energyKeptBefore: pick('energyKeptBefore'),
    alpha: pick('alpha'),
    ranks: pick('rank'),
  };
}

/** Applies a batch of engine events (one state copy per batch, not per event). */
export function applyEvents(state: RunState, events: EngineEvent[], at: number): RunState {
  if (!events.length) return state;
  const s: RunState = { ...state, eventCount: state.eventCount + events.length, lastEventAt: at };
  const newSteps: StepPoint[] = [];
  let ema = s.ema;
  let epochs: EpochEvent[] | null = null;
  let projections: ProjectionSummary[] | null = null;
  let spectra: ProjectionEvent[] | null = null;
  let gradNorms: GradNormsEvent[] | null = null;
  let markers: Marker[] | null = null;
  for (const e of events) {
    s.activity = e.type === 'activity' ? e : e.type === 'log' || e.type === 'configChange' ? s.activity : null;
    switch (e.type) {
      case 'runStart':
        s.start = e;
        s.config = e.config;
        s.layers = e.layers;
        s.layerNames = e.layers.filter((l) => l.projected).map((l) => l.name);
        s.gradLayers = e.layers.map((l) => l.name);
        break;
      case 'step': {
        ema = { loss: emaAdd(ema.loss, e.loss, SMOOTHING), accuracy: emaAdd(ema.accuracy, e.accuracy, SMOOTHING) };
        newSteps.push({
          iteration: e.iteration,
          epoch: e.epoch,
          loss: e.loss,
          accuracy: e.accuracy,
          lossSmooth: emaValue(ema.loss),
          accuracySmooth: emaValue(ema.accuracy),
          lr: e.lr,
          imagesPerSec: e.imagesPerSec,
          stepMs: e.stepMs,
          numTensors: e.numTensors,
        });
        break;
      }
      case 'epoch':
        (epochs ??= s.epochs.slice()).push(e);
        break;
      case 'projection': {
        if (!s.layerNames.length) s.layerNames = e.layers.map((l) => l.name);
        (projections ??= s.projections.slice()).push(summarize(e, s.layerNames));
        (spectra ??= s.spectra.slice()).push(e);
        break;
      }
      case 'gradNorms':
        (gradNorms ??= s.gradNorms.slice()).push(e);
        break;
      case 'configChange':
        s.config = e.config;
        s.layers = e.layers;
        (markers ??= s.markers.slice()).push({ iteration: e.iteration, label: fmtChange(e.changes) });
        break;
      case 'compact':
        s.compact = e;
        break;
      case 'inference':
        s.inference = e;
        break;
      case 'state':
        s.phase = e.state === 'running' ? (s.phase === 'stopping' ? 'stopping' : 'running') : e.state === 'paused' ? 'paused' : e.state;
        break;
      case 'error':
        s.errors = [...s.errors, e];
        break;
      case 'log':
        s.logs = [...s.logs, e];
        break;
    }
  }
  s.ema = ema;
  if (newSteps.length) s.steps = addPoints(s.steps, newSteps, mergeStep);
  if (epochs) s.epochs = epochs;
  if (projections) s.projections = thin(projections, MAX_PROJECTIONS);
  if (spectra) s.spectra = thin(spectra, MAX_SPECTRA, 40);
  if (gradNorms) s.gradNorms = thin(gradNorms, MAX_GRAD_NORMS);
  if (markers) s.markers = markers;
  return s;
}

export function runReducer(state: RunState, action: RunAction): RunState {
  switch (action.type) {
    case 'starting':
      return { ...initialRunState(), phase: 'loading', startedAt: action.at };
    case 'stopping':
      return state.phase === 'running' || state.phase === 'paused' || state.phase === 'loading' ? { ...state, phase: 'stopping' } : state;
    case 'failed':
      return { ...state, phase: 'failed', failure: action.message, progress: null, activity: null };
    case 'replay': {
      const replayed = applyEvents({ ...initialRunState(), startedAt: action.at }, action.events, action.at);
      return { ...replayed, phase: 'loading', errors: [] };
    }
    case 'stored': {
      const { events } = action;
      const first = events[0]?.time ?? action.at;
      const shown = applyEvents({ ...initialRunState(), startedAt: first }, events, events.at(-1)?.time ?? action.at);
      const ended = shown.phase === 'finished' || shown.phase === 'stopped';
      return { ...shown, phase: ended ? shown.phase : 'interrupted' };
    }
    case 'restarting':
      return { ...state, phase: 'loading', progress: { label: `${action.message}: restarting the worker`, loaded: 0, total: null } };
    case 'progress':
      return { ...state, progress: action.progress };
    case 'ended':
      return {
        ...state,
        activity: null,
        phase: action.ended === 'finished' ? 'finished' : action.ended === 'error' ? 'failed' : 'stopped',
        failure: action.ended === 'error' ? (action.message ?? 'the run ended with an error') : state.failure,
        progress: null,
      };
    case 'batch': {
      const { events, progress, exports, released } = action.parts;
      let s = events.length ? applyEvents(state, events, action.at) : state;
      if (progress !== undefined) s = { ...s, progress };
      if (exports) s = { ...s, exports };
      if (released) s = { ...s, released };
      return s;
    }
  }
}

/** Step points to draw. */
export const stepPoints = (s: RunState): StepPoint[] => seriesPoints(s.steps);

export const isActive = (p: Phase) => p === 'loading' || p === 'running' || p === 'paused' || p === 'stopping';
