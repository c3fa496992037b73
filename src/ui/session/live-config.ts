import { applyLiveUpdate, type LiveUpdate, type RunConfig } from '../../engine/config';
import type { EngineEvent } from '../../engine/events';

/** The settings a stored log ends with: the config its last runStart or configChange reported. */
export function configFromEvents(events: readonly EngineEvent[]): RunConfig | null {
  let c: RunConfig | null = null;
  for (const e of events) {
    if (e.type === 'runStart' || e.type === 'configChange') c = e.config;
  }
  return c;
}

/**
 * The settings of the run going now as the engine reported them (runStart, then every configChange),
 * and the live updates sent to it that it has not answered yet. The engine answers each update, in
 * order, with a configChange or, when it refuses it, a 'config' error.
 */
export class ReportedConfig {
  private reported: RunConfig | null = null;
  private expectedBeforeStart: RunConfig | null = null;
  private pending: LiveUpdate[] = [];

  /** A new launch: nothing reported yet; `known` is what it will start with, `pending` what goes in with it. */
  reset(known: RunConfig | null, pending: LiveUpdate[] = []): void {
    this.reported = null;
    this.expectedBeforeStart = known;
    this.pending = [...pending];
  }

  /** What the engine reported last (null before the launch's runStart). */
  get config(): RunConfig | null {
    return this.reported;
  }

  /** What the run will be using once the updates in flight are applied: the base of the next diff. */
  expected(): RunConfig | null {
    const base = this.reported ?? this.expectedBeforeStart;
    return base && this.pending.reduce(applyLiveUpdate, base);
  }

  sent(u: LiveUpdate): void {
    this.pending.push(u);
  }

  /** An update that never reached the engine. */
  lost(u: LiveUpdate): void {
    const i = this.pending.indexOf(u);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** Follows a batch of the run's events; true when the reported config changed. */
  observe(events: readonly EngineEvent[]): boolean {
    const before = this.reported;
    for (const e of events) {
      if (e.type === 'runStart') this.reported = e.config;
      else if (e.type === 'configChange') {
        this.reported = e.config;
        this.pending.shift();
      } else if (e.type === 'error' && e.code === 'config') this.pending.shift();
    }
    return this.reported !== before;
  }
}
