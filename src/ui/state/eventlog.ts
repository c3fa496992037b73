import type { EngineEvent } from '../../engine/events';
import { errorText } from '../../engine/errors';

/** One JSON object per line. */
export function toJsonLines(events: readonly EngineEvent[]): string {
  let out = '';
  for (const e of events) out += JSON.stringify(e) + '\n';
  return out;
}

/** Parses JSON lines back (blank lines ignored); throws with the line number on bad JSON. */
export function parseJsonLines(text: string): EngineEvent[] {
  const out: EngineEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as EngineEvent);
    } catch (e) {
      throw new Error(`line ${i + 1}: ${errorText(e)}`, { cause: e });
    }
  });
  return out;
}

/**
 * The run's full event log, kept outside React state (it only grows; the charts use the reducer's
 * decimated view). toBlob() serialises in slices and yields between them, so a long run's log does
 * not block the page.
 */
export class EventLog {
  private events: EngineEvent[] = [];

  push(batch: readonly EngineEvent[]): void {
    for (const e of batch) this.events.push(e);
  }

  clear(): void {
    this.events = [];
  }

  get length(): number {
    return this.events.length;
  }

  all(): readonly EngineEvent[] {
    return this.events;
  }

  async toBlob(sliceSize = 2000, yieldFn: () => Promise<void> = () => new Promise((r) => setTimeout(r, 0))): Promise<Blob> {
    const parts: string[] = [];
    const snapshot = this.events.slice();
    for (let i = 0; i < snapshot.length; i += sliceSize) {
      parts.push(toJsonLines(snapshot.slice(i, i + sliceSize)));
      if (i + sliceSize < snapshot.length) await yieldFn();
    }
    return new Blob(parts, { type: 'application/x-ndjson' });
  }
}
