import { z } from 'zod';
import { LiveUpdateSchema, RunConfigSchema, applyLiveUpdate, type RunConfig } from '../engine/config';
import type { EngineEvent, ErrorEvent } from '../engine/events';

// Events are validated when a run file is imported. The objects are loose (unknown keys are kept) so a
// log written by a newer engine with extra fields still imports and round-trips unchanged.

/** JSON writes NaN and ±Infinity as null; read them back as NaN. */
const num = z.number().nullable().transform((v) => v ?? NaN);
const numArray = z.array(z.number().nullable()).transform((a) => (a.includes(null) ? a.map((v) => v ?? NaN) : (a as number[])));
const count = z.number().int().min(0);
const time = z.number();

const cost = { macsDense: num, macsCompact: num, paramsDense: num, paramsCompact: num };

export const LayerInfoSchema = z.looseObject({
  name: z.string(),
  kind: z.enum(['conv', 'dense']),
  shape: z.tuple([count, count]),
  kernel: z.tuple([count, count, count, count]),
  n: count,
  rank: count,
  projected: z.boolean(),
  bn: z.string().nullable(),
  keptDense: z.boolean(),
  ...cost,
});

export const LayerProjectionSchema = z.looseObject({
  name: z.string(),
  shape: z.tuple([count, count]),
  rank: count,
  sigmaBefore: numArray,
  sigmaAfter: numArray,
  energyKeptBefore: num,
  energyKeptAfter: num,
  alpha: num,
  skipped: z.boolean(),
});

export const RunStartEventSchema = z.looseObject({
  type: z.literal('runStart'),
  time,
  resumedFrom: count.nullable(),
  config: RunConfigSchema,
  prune: num,
  backend: z.string(),
  trainSize: count,
  testSize: count,
  stepsPerEpoch: count,
  layers: z.array(LayerInfoSchema),
  ...cost,
});

export const StepEventSchema = z.looseObject({
  type: z.literal('step'),
  time,
  iteration: count,
  epoch: count,
  loss: num,
  accuracy: num,
  lr: num,
  imagesPerSec: num,
  stepMs: num,
  numTensors: count,
});

export const EpochEventSchema = z.looseObject({
  type: z.literal('epoch'),
  time,
  epoch: count,
  iteration: count,
  trainLoss: num,
  trainAccuracy: num,
  testLoss: num,
  testAccuracy: num,
  afterProjection: z.boolean(),
  epochMs: num,
  numTensors: count,
});

export const ProjectionEventSchema = z.looseObject({
  type: z.literal('projection'),
  time,
  index: count,
  iteration: count,
  epoch: count,
  layers: z.array(LayerProjectionSchema),
  projectionMs: num,
  testAccuracy: z.number().nullable(),
});

export const CompactEventSchema = z.looseObject({
  type: z.literal('compact'),
  time,
  testAccuracy: num,
  testLoss: num,
  denseTestAccuracy: num,
  layers: z.array(z.looseObject({ name: z.string(), rank: count, split: z.boolean(), zero: z.boolean() })),
  ...cost,
});

export const ConfigChangeEventSchema = z.looseObject({
  type: z.literal('configChange'),
  time,
  iteration: count,
  epoch: count,
  changes: LiveUpdateSchema,
  config: RunConfigSchema,
  layers: z.array(LayerInfoSchema),
});

export const StateEventSchema = z.looseObject({
  type: z.literal('state'),
  time,
  state: z.enum(['running', 'paused', 'stopped', 'finished']),
  iteration: count,
  epoch: count,
});

/**
 * 'exploding' is listed ahead of engine/events.ts (being added there); the cast keeps the output type
 * the engine's. The check below fails to compile if the engine gains a code this list lacks.
 */
export const ERROR_CODES = ['nan', 'exploding', 'device', 'data', 'config', 'internal'] as const;
type _CodesCovered = Assert<Exclude<ErrorEvent['code'], (typeof ERROR_CODES)[number]> extends never ? true : false>;

export const ErrorEventSchema = z.looseObject({
  type: z.literal('error'),
  time,
  code: z.enum(ERROR_CODES) as unknown as z.ZodType<ErrorEvent['code']>,
  message: z.string(),
  iteration: count,
  epoch: count,
});

export const LogEventSchema = z.looseObject({
  type: z.literal('log'),
  time,
  level: z.enum(['info', 'warn']),
  message: z.string(),
});

/** One schema per event type (looked up by `type` first, so errors name the right variant). */
export const EVENT_SCHEMAS = {
  runStart: RunStartEventSchema,
  step: StepEventSchema,
  epoch: EpochEventSchema,
  projection: ProjectionEventSchema,
  compact: CompactEventSchema,
  configChange: ConfigChangeEventSchema,
  state: StateEventSchema,
  error: ErrorEventSchema,
  log: LogEventSchema,
} as const;

export const EngineEventSchema = z.discriminatedUnion('type', [
  RunStartEventSchema,
  StepEventSchema,
  EpochEventSchema,
  ProjectionEventSchema,
  CompactEventSchema,
  ConfigChangeEventSchema,
  StateEventSchema,
  ErrorEventSchema,
  LogEventSchema,
]);

// Compile-time checks: what the schema produces is an EngineEvent, and every EngineEvent type has a schema.
type Assert<T extends true> = T;
type ParsedEvent = z.output<typeof EngineEventSchema>;
type _Assignable = Assert<ParsedEvent extends EngineEvent ? true : false>;
type _AllTypes = Assert<Exclude<EngineEvent['type'], keyof typeof EVENT_SCHEMAS> extends never ? true : false>;
type _MapMatches = Assert<{ [K in keyof typeof EVENT_SCHEMAS]: z.output<(typeof EVENT_SCHEMAS)[K]> extends Extract<EngineEvent, { type: K }> ? true : false }[keyof typeof EVENT_SCHEMAS]>;
/** Exported only so the checks count as used. */
export type SchemaChecks = [_CodesCovered, _Assignable, _AllTypes, _MapMatches];

/** `known`: the value had a known event type (so it is an LRPET event with a bad field, not something else). */
export type EventCheck = { ok: true; event: EngineEvent } | { ok: false; known: boolean; message: string };

const describePath = (path: readonly PropertyKey[]) =>
  path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');

/** Validates one decoded JSON value as an engine event; the message names the event type and field. */
export function checkEvent(value: unknown): EventCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, known: false, message: 'not an event object' };
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, known: false, message: "the object has no 'type' field" };
  if (!Object.hasOwn(EVENT_SCHEMAS, type)) return { ok: false, known: false, message: `unknown event type '${type.slice(0, 40)}'` };
  const result = EVENT_SCHEMAS[type as keyof typeof EVENT_SCHEMAS].safeParse(value);
  if (result.success) return { ok: true, event: result.data as EngineEvent };
  const issue = result.error.issues[0];
  const field = describePath(issue.path);
  return { ok: false, known: true, message: `${type} event${field ? `, field '${field}'` : ''}: ${issue.message}` };
}

/**
 * Logs written before configChange events carried the run config lack it: it is the config before the
 * change (`before`: the last runStart's or configChange's) with the change applied. Anything else is
 * returned as it is, for checkEvent to judge.
 */
export function withConfigFilledIn(value: unknown, before: RunConfig | null): unknown {
  if (!before || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const v = value as { type?: unknown; config?: unknown; changes?: unknown };
  if (v.type !== 'configChange' || v.config !== undefined) return value;
  const changes = LiveUpdateSchema.safeParse(v.changes);
  return changes.success ? { ...v, config: applyLiveUpdate(before, changes.data) } : value;
}
