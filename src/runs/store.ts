import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { RunConfig } from '../engine/config';
import type { EngineEvent } from '../engine/events';
import { DEFAULT_DB_NAME, eventBytes, openRunsDB, ownBytes, runCheckpointsRange, runEventsRange, type CheckpointSlot, type RunsDB } from './db';
import { estimateStorage, type StorageEstimateLite } from './quota';
import { statusAfter, type CheckpointMeta, type RunBatch, type RunPatch, type RunRecord, type RunSource } from './records';
import { storedConfig, storedEvent } from './stored-config';
import { emptySummary, summarize } from './summary';

export type { CheckpointMeta, CheckpointReason, RunBatch, RunPatch, RunRecord, RunSource, RunStatus } from './records';
export type { RunSummary } from './summary';
export { storageWarning, type StorageEstimateLite } from './quota';

/** A failed read or write of the browser's run storage; the message says what and why. */
class RunStoreError extends Error {
  override name = 'RunStoreError';
}

function storeError(what: string, e: unknown): Error {
  if (e instanceof RunStoreError) return e;
  const err = e as { name?: string; message?: string } | null;
  const message = err?.message || String(e);
  if (err?.name === 'QuotaExceededError' || /quota/i.test(message)) {
    return new RunStoreError(`browser storage is full: could not ${what} (${message}); delete runs or export them to files to make room`, { cause: e });
  }
  return new RunStoreError(`could not ${what}: ${message}`, { cause: e });
}

async function guard<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw storeError(what, e);
  }
}

let lastCreated = 0;
/** Strictly increasing creation times keep "newest first" well defined for runs made in the same millisecond. */
const creationTime = () => (lastCreated = Math.max(Date.now(), lastCreated + 1));

function newRunId(): string {
  const r = new Uint8Array(6);
  crypto.getRandomValues(r);
  return `${Date.now().toString(36)}-${Array.from(r, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export interface NewRun {
  name: string;
  source: RunSource;
  batch?: RunBatch | null;
  config?: RunConfig | null;
}

export interface StoredRunCheckpoint {
  meta: CheckpointMeta;
  bytes: Uint8Array;
}

export interface StorageUsage {
  /** Sum of the runs' `bytes`. */
  runs: number;
  estimate: StorageEstimateLite | null;
}

type Tx<S extends StoreNames<RunsDB>[]> = IDBPTransaction<RunsDB, S, 'readwrite'>;

/** The runs kept in the browser: records, event logs (chunked), the last two checkpoints and the compact model of each. */
export class RunStore {
  private constructor(private readonly db: IDBPDatabase<RunsDB>) {}

  static async open(dbName: string = DEFAULT_DB_NAME): Promise<RunStore> {
    return new RunStore(await guard(`open the run database '${dbName}'`, () => openRunsDB(dbName)));
  }

  close(): void {
    this.db.close();
  }

  /** One read-write transaction; aborted (nothing written) when `body` throws. */
  private write<S extends StoreNames<RunsDB>[], T>(stores: S, what: string, body: (tx: Tx<S>) => Promise<T>): Promise<T> {
    return guard(what, async () => {
      const tx = this.db.transaction(stores, 'readwrite');
      tx.done.catch(() => undefined);
      try {
        const result = await body(tx);
        await tx.done;
        return result;
      } catch (e) {
        try {
          tx.abort();
        } catch {
          // already finished or aborted
        }
        throw e;
      }
    });
  }

  private static async mustGet(tx: Tx<['runs', ...StoreNames<RunsDB>[]]>, id: string): Promise<RunRecord> {
    const run = await tx.objectStore('runs').get(id);
    if (!run) throw new RunStoreError(`run ${id} is not stored (was it deleted?)`);
    return run;
  }

  async createRun(o: NewRun): Promise<RunRecord> {
    const at = creationTime();
    const run: RunRecord = {
      id: newRunId(),
      name: o.name,
      createdAt: at,
      updatedAt: at,
      status: 'running',
      source: o.source,
      batch: o.batch ?? null,
      config: o.config ?? null,
      backend: null,
      eventCount: 0,
      summary: emptySummary(),
      checkpoint: null,
      previousCheckpoint: null,
      hasModel: false,
      bytes: 0,
    };
    await this.write(['runs'], `create the run '${o.name}'`, (tx) => tx.objectStore('runs').add(run));
    return run;
  }

  /** A run as stored; its config reads as it meant when it was written (stored-config.ts). */
  getRun(id: string): Promise<RunRecord | null> {
    return guard('read a run', async () => {
      const run = await this.db.get('runs', id);
      return run ? { ...run, config: storedConfig(run.config) } : null;
    });
  }

  /** Newest first. */
  listRuns(): Promise<RunRecord[]> {
    return guard('list the runs', async () =>
      (await this.db.getAll('runs')).map((r) => ({ ...r, config: storedConfig(r.config) })).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)),
    );
  }

  updateRun(id: string, patch: RunPatch): Promise<RunRecord> {
    return this.write(['runs'], 'update a run', async (tx) => {
      const run = { ...(await RunStore.mustGet(tx, id)), ...patch, updatedAt: Date.now() };
      await tx.objectStore('runs').put(run);
      return run;
    });
  }

  renameRun(id: string, name: string): Promise<RunRecord> {
    return this.updateRun(id, { name });
  }

  /** Removes the run with its events, checkpoints and model. */
  deleteRun(id: string): Promise<void> {
    return this.write(['runs', 'events', 'checkpointSlots', 'models'], 'delete a run', async (tx) => {
      await Promise.all([
        tx.objectStore('runs').delete(id),
        tx.objectStore('events').delete(runEventsRange(id)),
        tx.objectStore('checkpointSlots').delete(runCheckpointsRange(id)),
        tx.objectStore('models').delete(id),
      ]);
    });
  }

  /** Stores `events` as the run's next chunk and updates its count, summary and status in the same transaction. */
  appendEvents(id: string, events: readonly EngineEvent[]): Promise<RunRecord> {
    return this.write(['runs', 'events'], `save ${events.length} events`, async (tx) => {
      const run = await RunStore.mustGet(tx, id);
      if (!events.length) return run;
      const chunk = { runId: id, first: run.eventCount, events: events.slice(), bytes: eventBytes(events) };
      const next: RunRecord = { ...run, eventCount: run.eventCount + events.length, summary: summarize(run.summary, events), bytes: run.bytes + chunk.bytes, updatedAt: Date.now() };
      for (const e of events) {
        next.status = statusAfter(e) ?? next.status;
        if (e.type === 'runStart') {
          next.config = e.config;
          next.backend = e.backend;
        }
      }
      await tx.objectStore('events').add(chunk);
      await tx.objectStore('runs').put(next);
      return next;
    });
  }

  /** The first `count` events of the run (all when count is omitted), in order; their configs read as they meant when written. */
  getEvents(id: string, count = Infinity): Promise<EngineEvent[]> {
    return guard('read the events of a run', async () => {
      const out: EngineEvent[] = [];
      let cursor = await this.db.transaction('events').store.openCursor(runEventsRange(id));
      while (cursor && cursor.value.first < count) {
        for (const e of cursor.value.events) out.push(storedEvent(e));
        cursor = await cursor.continue();
      }
      if (out.length > count) out.length = count;
      return out;
    });
  }

  /** Keeps only the first `count` events (a resume from a checkpoint drops what came after it) and recomputes the summary. */
  truncateEvents(id: string, count: number): Promise<RunRecord> {
    if (!Number.isInteger(count) || count < 0) return Promise.reject(new RunStoreError(`cannot keep ${count} events: not a whole number ≥ 0`));
    return this.write(['runs', 'events'], 'cut the event log', async (tx) => {
      const run = await RunStore.mustGet(tx, id);
      if (count >= run.eventCount) return run;
      const kept: EngineEvent[] = [];
      let freed = 0;
      let cursor = await tx.objectStore('events').openCursor(runEventsRange(id));
      while (cursor) {
        const chunk = cursor.value;
        const end = chunk.first + chunk.events.length;
        if (chunk.first >= count) {
          freed += chunk.bytes;
          await cursor.delete();
        } else if (end > count) {
          const events = chunk.events.slice(0, count - chunk.first);
          const bytes = eventBytes(events);
          freed += chunk.bytes - bytes;
          await cursor.update({ ...chunk, events, bytes });
          for (const e of events) kept.push(e);
        } else {
          for (const e of chunk.events) kept.push(e);
        }
        cursor = await cursor.continue();
      }
      const next: RunRecord = { ...run, eventCount: count, summary: summarize(emptySummary(), kept), bytes: Math.max(0, run.bytes - freed), updatedAt: Date.now() };
      await tx.objectStore('runs').put(next);
      return next;
    });
  }

  /**
   * Stores a new checkpoint as the run's latest. It goes into the slot of the checkpoint before the
   * latest (which is dropped), in one transaction with the record: until that commits, the record and
   * both slots stay as they were, so a write cut short by a crash or a closed tab loses only itself.
   */
  putCheckpoint(id: string, bytes: Uint8Array, meta: Omit<CheckpointMeta, 'bytes' | 'slot'>): Promise<RunRecord> {
    return this.write(['runs', 'checkpointSlots'], 'save a checkpoint', async (tx) => {
      const run = await RunStore.mustGet(tx, id);
      const latest = run.checkpoint;
      const slot: CheckpointSlot = latest ? ((1 - (latest.slot ?? 0)) as CheckpointSlot) : 0;
      const dropped = latest ? (run.previousCheckpoint ?? null) : null;
      const full: CheckpointMeta = { ...meta, bytes: bytes.byteLength, slot };
      await tx.objectStore('checkpointSlots').put({ runId: id, slot, meta: full, bytes: ownBytes(bytes) });
      const next: RunRecord = { ...run, checkpoint: full, previousCheckpoint: latest, bytes: run.bytes - (dropped?.bytes ?? 0) + full.bytes, updatedAt: Date.now() };
      await tx.objectStore('runs').put(next);
      return next;
    });
  }

  /** The run's latest checkpoint, or the one before it. */
  getCheckpoint(id: string, which: 'latest' | 'previous' = 'latest'): Promise<StoredRunCheckpoint | null> {
    return guard('read a checkpoint', async () => {
      const tx = this.db.transaction(['runs', 'checkpointSlots']);
      const run = await tx.objectStore('runs').get(id);
      const meta = which === 'latest' ? run?.checkpoint : run?.previousCheckpoint;
      if (!meta) return null;
      const c = await tx.objectStore('checkpointSlots').get([id, meta.slot ?? 0]);
      return c ? { meta: c.meta, bytes: c.bytes } : null;
    });
  }

  /** The latest checkpoint cannot be used (it does not decode): the one before it becomes the latest. */
  dropLatestCheckpoint(id: string): Promise<RunRecord> {
    return this.write(['runs', 'checkpointSlots'], 'drop a checkpoint', async (tx) => {
      const run = await RunStore.mustGet(tx, id);
      const latest = run.checkpoint;
      if (!latest) return run;
      await tx.objectStore('checkpointSlots').delete([id, latest.slot ?? 0]);
      const next: RunRecord = { ...run, checkpoint: run.previousCheckpoint ?? null, previousCheckpoint: null, bytes: Math.max(0, run.bytes - latest.bytes), updatedAt: Date.now() };
      await tx.objectStore('runs').put(next);
      return next;
    });
  }

  /**
   * Where a stored run continues from: its latest checkpoint that can be used (`unusable` says why one
   * cannot; such a latest checkpoint is dropped and the one before takes its place, and `fellBack` says
   * so), with the run's log cut where that checkpoint was taken and read back. A `problem` when the run
   * cannot continue.
   */
  async loadResumePoint(
    id: string,
    unusable: (bytes: Uint8Array) => string | null,
  ): Promise<{ record: RunRecord; checkpoint: StoredRunCheckpoint; events: EngineEvent[]; fellBack: string | null } | { problem: string; none?: true }> {
    const [record, first] = await Promise.all([this.getRun(id), this.getCheckpoint(id)]);
    if (!record) return { problem: 'that run is no longer stored' };
    if (!record.config || !first) return { problem: `“${record.name}” has no checkpoint to continue from`, none: true };
    let ck: StoredRunCheckpoint | null = first;
    let fellBack: string | null = null;
    for (let why = unusable(ck.bytes); ck && why !== null; why = ck ? unusable(ck.bytes) : null) {
      fellBack = `its checkpoint at iteration ${ck.meta.iteration} could not be read (${why})`;
      await this.dropLatestCheckpoint(id);
      ck = await this.getCheckpoint(id);
    }
    if (!ck) return { problem: `“${record.name}” cannot continue: ${fellBack} and there is no checkpoint before it` };
    await this.truncateEvents(id, ck.meta.eventCount);
    const events = await this.getEvents(id, ck.meta.eventCount);
    return { record, checkpoint: ck, events, fellBack };
  }

  /** Stores the compact model (a zip of model.json + weights.bin). */
  putModel(id: string, zip: Uint8Array): Promise<RunRecord> {
    return this.write(['runs', 'models'], 'save the compact model', async (tx) => {
      const run = await RunStore.mustGet(tx, id);
      const old = await tx.objectStore('models').get(id);
      await tx.objectStore('models').put({ runId: id, bytes: ownBytes(zip) });
      const next: RunRecord = { ...run, hasModel: true, bytes: run.bytes - (old?.bytes.byteLength ?? 0) + zip.byteLength, updatedAt: Date.now() };
      await tx.objectStore('runs').put(next);
      return next;
    });
  }

  getModel(id: string): Promise<Uint8Array | null> {
    return guard('read the compact model', async () => (await this.db.get('models', id))?.bytes ?? null);
  }

  async usage(): Promise<StorageUsage> {
    const runs = await this.listRuns();
    return { runs: runs.reduce((s, r) => s + r.bytes, 0), estimate: await estimateStorage() };
  }

  /** At page start: runs still marked 'running' or 'paused' lost their page, so they become 'interrupted' (returned). */
  markInterrupted(live: ReadonlySet<string> = new Set()): Promise<RunRecord[]> {
    return this.write(['runs'], 'mark interrupted runs', async (tx) => {
      const store = tx.objectStore('runs');
      const changed: RunRecord[] = [];
      for (const run of await store.getAll()) {
        // `live`: runs another tab is still recording (it holds their Web Lock).
        if ((run.status !== 'running' && run.status !== 'paused') || live.has(run.id)) continue;
        const next: RunRecord = { ...run, status: 'interrupted', updatedAt: Date.now() };
        await store.put(next);
        changed.push(next);
      }
      return changed;
    });
  }
}
