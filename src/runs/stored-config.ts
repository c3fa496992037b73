import { parseStoredRunConfig, type RunConfig } from '../engine/config';
import type { EngineEvent } from '../engine/events';

/**
 * A config kept in the browser by an earlier version lacks the settings added since: it reads as what it
 * meant when it was written (parseStoredRunConfig: weight decay on kernels only, …). One that does not
 * parse at all is returned as it is (what reads it reports the problem).
 */
export function storedConfig<C extends RunConfig | null>(config: C): C {
  if (config === null) return config;
  try {
    return parseStoredRunConfig(config) as C;
  } catch {
    return config;
  }
}

/** The same for the configs a stored event carries (runStart, configChange). */
export function storedEvent(e: EngineEvent): EngineEvent {
  return e.type === 'runStart' || e.type === 'configChange' ? { ...e, config: storedConfig(e.config) } : e;
}
