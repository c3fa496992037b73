import type { EngineEvent, EpochEvent, MemorySnapshot, StepEvent } from '../../engine/events';
import { checkEvent } from '../../runs/event-schema';
import { errorText } from '../../engine/errors';

// Turns the event log of one `lrpet train --log` run into the numbers the GPU report needs: images/s of
// the steps, the time of a projection, of a test evaluation and of building the compact model, and the
// tensors and GPU bytes at the start and the end. Everything comes from the events' own fields and
// timestamps (Date.now(), so the activity-based times have 1 ms resolution).

/** A log cut short (the process killed mid-write) can end in a partial line: it is counted, not fatal. */
export interface ParsedLog {
  events: EngineEvent[];
  /** 1 when the last line was not a whole event (a run killed while writing), else 0. */
  truncatedLines: number;
}

/** JSON lines → validated engine events. A bad line other than the last throws, naming it. */
export function parseEngineLog(text: string): ParsedLog {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const events: EngineEvent[] = [];
  let truncatedLines = 0;
  lines.forEach((line, i) => {
    const last = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      if (last) {
        truncatedLines = 1;
        return;
      }
      throw new Error(`line ${i + 1}: not JSON (${errorText(e)})`, { cause: e });
    }
    const checked = checkEvent(value);
    if (!checked.ok) throw new Error(`line ${i + 1}: ${checked.message}`);
    events.push(checked.event);
  });
  return { events, truncatedLines };
}

export interface Stats {
  n: number;
  median: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
  p10: number | null;
  p90: number | null;
}

/** Order statistics by the nearest-rank rule (no interpolation); nulls for an empty list. */
export function stats(xs: readonly number[]): Stats {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { n: 0, median: null, mean: null, min: null, max: null, p10: null, p90: null };
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
  const median = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return { n: v.length, median, mean: v.reduce((s, x) => s + x, 0) / v.length, min: v[0], max: v[v.length - 1], p10: at(0.1), p90: at(0.9) };
}

export interface MemoryPoint extends Partial<MemorySnapshot> {
  iteration: number;
  numTensors: number;
}

/** A test evaluation timed from its 'evaluating' activity to the event that reports it. */
export interface TimedEvaluation {
  /** 'epoch': the end-of-epoch test; 'projected': the projected model's test before the compact model is built; 'compact': the compact model's. */
  what: 'epoch' | 'projected' | 'compact';
  iteration: number;
  ms: number;
  images: number;
  imagesPerSec: number;
}

export interface EngineLogSummary {
  model: string | null;
  batch: number | null;
  backend: string | null;
  prune: number | null;
  lrpet: boolean | null;
  /** Projection interval in iterations (null: one epoch). */
  interval: number | null;
  trainSize: number | null;
  testSize: number | null;
  stepsPerEpoch: number | null;
  /** How the run ended: 'finished' or 'stopped' (the last state event), or null when it has no end (killed). */
  ended: string | null;
  errors: string[];
  truncatedLines: number;
  steps: {
    count: number;
    lastIteration: number;
    /** The first step compiles the GPU kernels: reported apart, left out of the statistics below. */
    firstStepMs: number | null;
    /** stepMs of the other steps: from filling the batch to the loss read back. */
    stepMs: Stats;
    /** batch / median stepMs. */
    imagesPerSec: number | null;
    /** Images of the steps after the first / the wall time between the first and the last step event: projections and tests included. */
    wallImagesPerSec: number | null;
    firstLoss: number | null;
    lastLoss: number | null;
  };
  projections: { count: number; ms: Stats; layers: number | null };
  evaluations: TimedEvaluation[];
  /** Median time of one test evaluation of the trained (dense) model, and its images/s. */
  evaluation: { ms: number | null; images: number | null; imagesPerSec: number | null };
  compactBuildMs: number | null;
  epochs: { epoch: number; iteration: number; epochMs: number; trainAccuracy: number; testAccuracy: number; afterProjection: boolean }[];
  compact: { testAccuracy: number; denseTestAccuracy: number; macsDense: number; macsCompact: number; paramsDense: number; paramsCompact: number } | null;
  memory: {
    /** The first and the last step event's counters. */
    start: MemoryPoint | null;
    end: MemoryPoint | null;
    /** The same number of tensors at every step from the second on (the first creates the optimiser's state). */
    tensorsFlat: boolean | null;
    maxGpuBytesAllocated: number | null;
  };
  /** From runStart to the last event. */
  wallMs: number | null;
}

const memoryPoint = (e: StepEvent): MemoryPoint => ({ iteration: e.iteration, numTensors: e.numTensors, ...(e.memory ?? {}) });
const finite = (x: number | null | undefined): number | null => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);

export function summariseEngineLog(log: ParsedLog): EngineLogSummary {
  const { events } = log;
  const start = events.find((e) => e.type === 'runStart');
  const steps = events.filter((e): e is StepEvent => e.type === 'step');
  const epochs = events.filter((e): e is EpochEvent => e.type === 'epoch');
  const projections = events.flatMap((e) => (e.type === 'projection' ? [e] : []));
  const states = events.flatMap((e) => (e.type === 'state' ? [e] : []));
  const compact = events.flatMap((e) => (e.type === 'compact' ? [e] : []))[0] ?? null;
  const batch = start?.config.batchSize ?? null;
  const testSize = start?.testSize ?? null;

  const later = steps.filter((s) => s.iteration > 1);
  const stepMs = stats(later.map((s) => s.stepMs));
  let wallImagesPerSec: number | null = null;
  if (steps.length >= 2 && batch) {
    const first = steps[0];
    const last = steps[steps.length - 1];
    const images = (last.iteration - first.iteration) * batch;
    const ms = last.time - first.time;
    wallImagesPerSec = ms > 0 ? (images / ms) * 1000 : null;
  }

  // An activity lasts until the next event of another kind.
  const evaluations: TimedEvaluation[] = [];
  let compactBuildMs: number | null = null;
  let lastIteration = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if ('iteration' in e && typeof e.iteration === 'number') lastIteration = e.iteration;
    if (e.type !== 'activity') continue;
    const n = events.findIndex((x, j) => j > i && (x.type !== 'activity' || x.activity !== e.activity));
    if (n < 0) continue;
    const next = events[n];
    const ms = next.time - e.time;
    if (e.activity === 'evaluating' && (next.type === 'epoch' || next.type === 'projection')) {
      // The end-of-epoch test is reported by the epoch event (after the projection's, when one came first);
      // the projected model's test before the compact model is built, by a projection event alone.
      const what = next.type === 'epoch' || events[n + 1]?.type === 'epoch' ? 'epoch' : 'projected';
      evaluations.push(timed(what, lastIteration, ms, testSize));
    } else if (e.activity === 'evaluating-compact' && next.type === 'compact') {
      evaluations.push(timed('compact', lastIteration, ms, testSize));
    } else if (e.activity === 'building-compact' && next.type === 'activity') {
      compactBuildMs = ms;
    }
  }
  const dense = stats(evaluations.filter((v) => v.what !== 'compact').map((v) => v.ms));
  const evalMs = dense.median;

  const tensors = later.map((s) => s.numTensors);
  const allocated = steps.map((s) => s.memory?.gpuBytesAllocated ?? NaN).filter(Number.isFinite);
  const lrpet = start?.config.lrpet;
  return {
    model: start?.config.model ?? null,
    batch,
    backend: start?.backend ?? null,
    prune: finite(start?.prune),
    lrpet: lrpet ? lrpet.enabled : null,
    interval: lrpet ? (lrpet.interval ?? null) : null,
    trainSize: start?.trainSize ?? null,
    testSize,
    stepsPerEpoch: start?.stepsPerEpoch ?? null,
    ended: ended(states.at(-1)?.state),
    errors: events.flatMap((e) => (e.type === 'error' ? [`${e.code}: ${e.message}`] : [])),
    truncatedLines: log.truncatedLines,
    steps: {
      count: steps.length,
      lastIteration: steps.length ? steps[steps.length - 1].iteration : 0,
      firstStepMs: steps[0]?.iteration === 1 ? steps[0].stepMs : null,
      stepMs,
      imagesPerSec: batch && stepMs.median ? (batch / stepMs.median) * 1000 : null,
      wallImagesPerSec,
      firstLoss: finite(steps[0]?.loss),
      lastLoss: finite(steps[steps.length - 1]?.loss),
    },
    projections: { count: projections.length, ms: stats(projections.map((p) => p.projectionMs)), layers: projections[0]?.layers.length ?? null },
    evaluations,
    evaluation: { ms: evalMs, images: testSize, imagesPerSec: evalMs && testSize ? (testSize / evalMs) * 1000 : null },
    compactBuildMs,
    epochs: epochs.map((e) => ({ epoch: e.epoch, iteration: e.iteration, epochMs: e.epochMs, trainAccuracy: e.trainAccuracy, testAccuracy: e.testAccuracy, afterProjection: e.afterProjection })),
    compact: compact && {
      testAccuracy: compact.testAccuracy,
      denseTestAccuracy: compact.denseTestAccuracy,
      macsDense: compact.macsDense,
      macsCompact: compact.macsCompact,
      paramsDense: compact.paramsDense,
      paramsCompact: compact.paramsCompact,
    },
    memory: {
      start: steps.length ? memoryPoint(steps[0]) : null,
      end: steps.length ? memoryPoint(steps[steps.length - 1]) : null,
      tensorsFlat: tensors.length ? tensors.every((t) => t === tensors[0]) : null,
      maxGpuBytesAllocated: allocated.length ? Math.max(...allocated) : null,
    },
    wallMs: start && events.length ? events[events.length - 1].time - start.time : null,
  };
}

const ended = (state: string | undefined): string | null => (state === 'finished' || state === 'stopped' ? state : null);

function timed(what: TimedEvaluation['what'], iteration: number, ms: number, images: number | null): TimedEvaluation {
  return { what, iteration, ms, images: images ?? 0, imagesPerSec: images && ms > 0 ? (images / ms) * 1000 : NaN };
}
