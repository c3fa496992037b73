import { LiveUpdateSchema, applyLiveUpdate, type RunConfig } from '../engine/config';
import { EVENT_SCHEMAS, type EngineEvent } from '../engine/events';

// Events are validated against the engine's schemas (engine/events.ts) when a run file is imported:
// unknown keys are kept, and numbers JSON wrote as null (NaN, ±Infinity) are read back as NaN.

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
  if (result.success) return { ok: true, event: result.data };
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
