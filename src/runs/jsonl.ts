import type { RunConfig } from '../engine/config';
import type { EngineEvent } from '../engine/events';
import { checkEvent, withConfigFilledIn } from './event-schema';
import { errorText } from '../engine/errors';

const MAX_EVENTS = 5_000_000;
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** A run file that cannot be read; the message says which file, line or field and why. */
export class RunFileError extends Error {
  override name = 'RunFileError';
}

/**
 * The event log as UTF-8 JSON lines, the format the CLI's --log and the page's "download log" write
 * (one JSON.stringify per line). Encoded in slices so a long log never becomes one giant string.
 */
export function encodeJsonLines(events: readonly EngineEvent[], slice = 5000): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < events.length; i += slice) {
    let text = '';
    for (const e of events.slice(i, i + slice)) text += `${JSON.stringify(e)}\n`;
    const bytes = encoder.encode(text);
    parts.push(bytes);
    total += bytes.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const LF = 0x0a;
const CR = 0x0d;

/** Offset of the first control character or invalid UTF-8 byte in the first `limit` bytes, or -1. */
export function firstBinaryByte(bytes: Uint8Array, limit = 4096): number {
  const head = bytes.subarray(0, limit);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < head.length; i++) {
    const b = head[i];
    if (b < 0x20 && b !== 0x09 && b !== LF && b !== CR) return i;
    try {
      decoder.decode(head.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return -1;
}

/** Lines with something other than whitespace on them (a cheap scan before anything is parsed). */
function countContentLines(bytes: Uint8Array): number {
  let count = 0;
  let pos = 0;
  while (pos < bytes.length) {
    let end = bytes.indexOf(LF, pos);
    if (end < 0) end = bytes.length;
    for (let i = pos; i < end; i++) {
      if (bytes[i] > 0x20) {
        count++;
        break;
      }
    }
    pos = end + 1;
  }
  return count;
}

export interface ParseLinesOptions {
  /** Prefixed to messages, e.g. 'events.jsonl ' inside a run zip. */
  label: string;
  /** Whether a log with no events is acceptable (a run zip of a run that never started). */
  allowEmpty: boolean;
}

/**
 * Parses and validates JSON-lines event log bytes (blank lines skipped, CRLF accepted). The first
 * event must be a runStart. Throws RunFileError naming the line and the field.
 */
export function parseEventLines(bytes: Uint8Array, o: ParseLinesOptions): EngineEvent[] {
  const lines = countContentLines(bytes);
  if (lines > MAX_EVENTS) throw new RunFileError(`${o.label ? `${o.label}has` : 'the log has'} ${lines} lines, more events than the ${MAX_EVENTS} a run file may hold`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const events: EngineEvent[] = [];
  const fail = (line: number, why: string): never => {
    throw new RunFileError(`${o.label}line ${line}: ${why}`);
  };
  let pos = 0;
  let line = 0;
  let config: RunConfig | null = null;
  while (pos < bytes.length) {
    line++;
    let end = bytes.indexOf(LF, pos);
    if (end < 0) end = bytes.length;
    if (end - pos > MAX_LINE_BYTES) fail(line, `the line is longer than ${MAX_LINE_BYTES / 1024 / 1024} MB`);
    const stop = end > pos && bytes[end - 1] === CR ? end - 1 : end;
    const raw = bytes.subarray(pos, stop);
    pos = end + 1;
    let text: string;
    try {
      text = decoder.decode(raw);
    } catch {
      return fail(line, 'not UTF-8 text (binary data?)');
    }
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (!events.length) throw new RunFileError(`not an LRPET run file: ${o.label}line ${line} is not JSON (${errorText(e)})`);
      return fail(line, `not valid JSON (${errorText(e)}; was the file cut short?)`);
    }
    const checked = checkEvent(withConfigFilledIn(value, config));
    if (!checked.ok) {
      if (!events.length && !checked.known) throw new RunFileError(`not an LRPET run file: ${o.label}line ${line} is not an LRPET event (${checked.message})`);
      return fail(line, checked.message);
    }
    if (!events.length && checked.event.type !== 'runStart') fail(line, `a run log starts with a runStart event, but this one starts with a '${checked.event.type}' event (is the start of the log missing?)`);
    events.push(checked.event);
    if (checked.event.type === 'runStart' || checked.event.type === 'configChange') config = checked.event.config;
  }
  if (!events.length && !o.allowEmpty) throw new RunFileError(`not an LRPET run file: ${o.label ? `${o.label}has` : 'it has'} no events`);
  return events;
}
