import type { EngineEvent, EngineEventType } from '../events';

export type EventBody<T extends EngineEventType> = Omit<Extract<EngineEvent, { type: T }>, 'type' | 'time'>;

/** Sends one event of the given type, stamped with the time now. */
export type Emit = <T extends EngineEventType>(type: T, body: EventBody<T>) => void;

export function emitter(onEvent: (event: EngineEvent) => void): Emit {
  return (type, body) => onEvent({ type, time: Date.now(), ...body } as unknown as EngineEvent);
}
