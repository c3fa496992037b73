import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
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

/** Each run has two checkpoint slots, written in turn: the latest checkpoint and the one before it. */
export type CheckpointSlot = 0 | 1;

export interface StoredCheckpoint {
  runId: string;
  slot: CheckpointSlot;
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
  checkpointSlots: { key: [string, number]; value: StoredCheckpoint };
  models: { key: string; value: StoredModel };
}

export const DEFAULT_DB_NAME = 'lrpet-runs';
/** 1: one checkpoint per run (store 'checkpoints', keyed by run); 2: two slots per run ('checkpointSlots'). */
const VERSION = 2;

/** Version 1's checkpoint store, read once by the upgrade to version 2. */
interface V1Checkpoints extends DBSchema {
  checkpoints: { key: string; value: Omit<StoredCheckpoint, 'slot'> };
}

export function openRunsDB(name: string): Promise<IDBPDatabase<RunsDB>> {
  return openDB<RunsDB>(name, VERSION, {
    async upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        db.createObjectStore('runs', { keyPath: 'id' });
        db.createObjectStore('events', { keyPath: ['runId', 'first'] });
        db.createObjectStore('models', { keyPath: 'runId' });
      }
      if (oldVersion < 2) {
        const slots = db.createObjectStore('checkpointSlots', { keyPath: ['runId', 'slot'] });
        if (oldVersion === 1) {
          // A version-1 checkpoint becomes slot 0 (a record whose checkpoint names no slot means slot 0).
          const legacy = (tx as unknown as IDBPTransaction<V1Checkpoints, ['checkpoints'], 'versionchange'>).objectStore('checkpoints');
          for (const c of await legacy.getAll()) await slots.put({ ...c, slot: 0 });
          (db as unknown as IDBPDatabase<V1Checkpoints>).deleteObjectStore('checkpoints');
        }
      }
    },
  });
}

/** Both checkpoint slots of one run. */
export const runCheckpointsRange = (runId: string) => IDBKeyRange.bound([runId, 0], [runId, 1]);

/** All chunks of one run, in order. */
export const runEventsRange = (runId: string) => IDBKeyRange.bound([runId, 0], [runId, Infinity]);

/** Typed arrays are cloned with their whole buffer: store an exact copy when the view is a slice. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

export const eventBytes = (events: readonly EngineEvent[]): number => JSON.stringify(events).length;
