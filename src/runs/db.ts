import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { EngineEvent } from '../engine/events';
import type { CheckpointMeta, RunRecord } from './records';

/** One appendEvents call: events [first, first + events.length) of a run. */
export interface EventChunk {
  runId: string;
  first: number;
  events: EngineEvent[];
  /** Approximate size (JSON characters). */
  bytes: number;
}

export interface StoredCheckpoint {
  runId: string;
  meta: CheckpointMeta;
  bytes: Uint8Array;
}

export interface StoredModel {
  runId: string;
  bytes: Uint8Array;
}

export interface RunsDB extends DBSchema {
  runs: { key: string; value: RunRecord };
  events: { key: [string, number]; value: EventChunk };
  checkpoints: { key: string; value: StoredCheckpoint };
  models: { key: string; value: StoredModel };
}

export const DEFAULT_DB_NAME = 'lrpet-runs';
const VERSION = 1;

export function openRunsDB(name: string): Promise<IDBPDatabase<RunsDB>> {
  return openDB<RunsDB>(name, VERSION, {
    upgrade(db) {
      db.createObjectStore('runs', { keyPath: 'id' });
      db.createObjectStore('events', { keyPath: ['runId', 'first'] });
      db.createObjectStore('checkpoints', { keyPath: 'runId' });
      db.createObjectStore('models', { keyPath: 'runId' });
    },
  });
}

/** All chunks of one run, in order. */
export const runEventsRange = (runId: string) => IDBKeyRange.bound([runId, 0], [runId, Infinity]);

/** Typed arrays are cloned with their whole buffer: store an exact copy when the view is a slice. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

export const eventBytes = (events: readonly EngineEvent[]): number => JSON.stringify(events).length;
