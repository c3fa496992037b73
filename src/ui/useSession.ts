import { startTransition, useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { LiveUpdate, RunConfigInput } from '../engine/config';
import type { EngineEvent } from '../engine/events';
import type { CheckpointMeta, RunRecord, RunStore } from '../runs/store';
import type { BackendInfo, BackendPreference, DataChoice, DataInfo, Progress, ServerListing, WorkerMessage } from '../worker/protocol';
import { saveBlob } from './download';
import { RunRecorder } from './session/recorder';
import { EventLog } from './state/eventlog';
import { initialRunState, isActive, runReducer } from './state/store';
import { Comlink, createWorkerClient, type WorkerClient } from './worker-client';

declare global {
  interface Window {
    __lrpet?: {
      diagnostics: () => Promise<{ numTensors: number; numBytes: number; cspViolations: string[] }>;
      simulateNaN: () => Promise<string | null>;
      simulateDeviceLoss: () => Promise<boolean>;
    };
  }
}

/** How a run is recorded: its name, the ablation batch it belongs to, how often it is checkpointed. */
export interface StartOptions {
  name: string;
  batch?: { id: string; label: string } | null;
  checkpointMinutes: number;
}

/** A run the page is recording (and, after a device loss, restarting). */
interface Current {
  id: string;
  batch: { id: string; label: string } | null;
  recorder: RunRecorder;
  data: DataChoice;
  checkpointMinutes: number;
  restarts: number;
}

/** More automatic restarts than this for one run and the page stops trying. */
const MAX_RESTARTS = 3;

export type BackendState = { status: 'starting' } | { status: 'ready'; info: BackendInfo & { kernels: 'fast' | 'stock' | null } } | { status: 'failed'; message: string };

export interface ServerDataState {
  status: 'checking' | 'ready' | 'none' | 'error';
  listing: ServerListing | null;
  message: string | null;
}

export interface UserDataState {
  status: 'none' | 'loading' | 'ready' | 'error';
  /** How many times files were given (tests and screen readers can tell one error from the next). */
  attempt: number;
  info: DataInfo | null;
  progress: Progress | null;
  message: string | null;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function fetchListing(): Promise<ServerDataState> {
  try {
    const res = await fetch('/api/dataset', { cache: 'no-store' });
    if (!res.ok) throw new Error(`the local server answered HTTP ${res.status} for /api/dataset`);
    const listing = (await res.json()) as ServerListing;
    const ok = listing.source !== null && !listing.problem;
    return { status: ok ? 'ready' : 'none', listing, message: listing.problem };
  } catch (e) {
    return { status: 'error', listing: null, message: `no dataset server: ${errorText(e)} (the page was not opened through \`npm start\` / \`npm run dev\`)` };
  }
}

/**
 * The page's connection to the worker: backend, data, the run's state (a reducer over the event stream),
 * its controls, and its record in the browser's storage (events, checkpoints, the compact model). When
 * the GPU device is lost the worker is replaced and the run continues from its last checkpoint.
 */
export function useEngine(
  preference: BackendPreference,
  kernels: 'fast' | 'stock' = 'fast',
  store: RunStore | null = null,
  onRunsChanged: () => void = () => {},
  /** After a run's result is stored (not when its worker was replaced and the run goes on). */
  onRunEnded: (r: { id: string; ended: 'finished' | 'stopped' | 'error'; batch: { id: string; label: string } | null }) => void = () => {},
) {
  const clientRef = useRef<WorkerClient | null>(null);
  const logRef = useRef(new EventLog());
  const currentRef = useRef<Current | null>(null);
  const storeRef = useRef(store);
  storeRef.current = store;
  const changedRef = useRef(onRunsChanged);
  changedRef.current = onRunsChanged;
  const endedRef = useRef(onRunEnded);
  endedRef.current = onRunEnded;
  // A new generation = a new worker (after a device loss); `restartRef` says which run to continue then.
  const [generation, setGeneration] = useState(0);
  const restartRef = useRef<{ current: Current; reason: string | null; override?: LiveUpdate } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [storeError, setStoreError] = useState<string | null>(null);
  const [currentId, setCurrentId] = useState<string | null>(null);
  const [lastCheckpoint, setLastCheckpoint] = useState<Omit<CheckpointMeta, 'bytes'> | null>(null);
  const [diverged, setDiverged] = useState(false);
  /** From a run's start until its result is stored (the worker may still be exporting after 'finished'). */
  const [busy, setBusy] = useState(false);
  // The backend state belongs to one preference: a new preference means a new worker, 'starting' again.
  const [backendOf, setBackendOf] = useState<{ preference: BackendPreference; state: BackendState } | null>(null);
  const backend: BackendState = backendOf?.preference === preference ? backendOf.state : { status: 'starting' };
  const [run, dispatch] = useReducer(runReducer, undefined, initialRunState);
  const [server, setServer] = useState<ServerDataState>({ status: 'checking', listing: null, message: null });
  const [user, setUser] = useState<UserDataState>({ status: 'none', attempt: 0, info: null, progress: null, message: null });

  const onDeviceProblemRef = useRef<(message: string) => void>(() => {});

  useEffect(() => {
    const client = createWorkerClient();
    clientRef.current = client;
    // For the console and the end-to-end tests: tfjs memory and CSP violations inside the worker, and failure drills.
    window.__lrpet = {
      diagnostics: () => client.api.diagnostics(),
      simulateNaN: () => client.api.simulateNaN(),
      simulateDeviceLoss: () => client.api.simulateDeviceLoss(),
    };
    let alive = true;
    setBackendOf(null);
    client.api
      .init(
        preference,
        kernels,
        Comlink.proxy((message: string) => alive && onDeviceProblemRef.current(message)),
      )
      .then((info) => {
        if (!alive) return;
        setBackendOf({ preference, state: { status: 'ready', info } });
        const pending = restartRef.current;
        restartRef.current = null;
        if (pending) void continueAfterRestartRef.current(pending.current, pending.reason, pending.override);
      })
      .catch((e) => alive && setBackendOf({ preference, state: { status: 'failed', message: errorText(e) } }));
    return () => {
      alive = false;
      client.terminate();
      clientRef.current = null;
    };
  }, [preference, kernels, generation]);

  const refreshServer = useCallback(async () => {
    const state = await fetchListing();
    setServer(state);
    return state.listing;
  }, []);

  useEffect(() => {
    let alive = true;
    fetchListing().then((state) => alive && setServer(state));
    return () => {
      alive = false;
    };
  }, []);

  /** Resolves true when the files were parsed and are now the user's dataset. */
  const loadFiles = useCallback(async (files: File[]): Promise<boolean> => {
    const client = clientRef.current;
    if (!client || !files.length) return false;
    setUser((u) => ({ status: 'loading', attempt: u.attempt + 1, info: null, progress: null, message: null }));
    try {
      const info = await client.api.loadFiles(
        files,
        Comlink.proxy((progress: Progress) => setUser((u) => ({ ...u, progress }))),
      );
      setUser((u) => ({ ...u, status: 'ready', info, progress: null, message: null }));
      return true;
    } catch (e) {
      setUser((u) => ({ ...u, status: 'error', info: null, progress: null, message: errorText(e) }));
      return false;
    }
  }, []);

  /** Starts the worker on a run (fresh, or from an encoded checkpoint) and records what it streams. */
  const launch = useCallback(async (current: Current, config: RunConfigInput, resume?: Uint8Array, updates?: LiveUpdate[]) => {
    const client = clientRef.current;
    if (!client) return;
    const onMessages = (batch: WorkerMessage[]) => {
      if (currentRef.current !== current) return; // a worker that was replaced
      const events: EngineEvent[] = [];
      for (const m of batch) if (m.kind === 'event') events.push(m.event);
      logRef.current.push(events);
      current.recorder.onMessages(batch);
      setDiverged(current.recorder.isDiverged);
      const deviceError = events.find((e) => e.type === 'error' && e.code === 'device');
      // A transition: rendering the charts may be interrupted, so the page stays responsive.
      startTransition(() => dispatch({ type: 'messages', messages: batch, at: Date.now() }));
      if (deviceError && deviceError.type === 'error') onDeviceProblemRef.current(deviceError.message);
    };
    setBusy(true);
    let ended: 'finished' | 'stopped' | 'error';
    try {
      const result = await client.api.startRun({ config, data: current.data, resume, updates }, Comlink.proxy(onMessages));
      if (currentRef.current !== current) return;
      dispatch({ type: 'ended', ...result });
      ended = result.ended;
      await finishRecording(current, result.ended);
    } catch (e) {
      if (currentRef.current !== current) return;
      dispatch({ type: 'failed', message: errorText(e) });
      ended = 'error';
      await finishRecording(current, 'error', errorText(e));
    }
    if (currentRef.current !== current) return;
    setBusy(false);
    endedRef.current({ id: current.id, ended, batch: current.batch });
  }, []);

  const finishRecording = async (current: Current, ended: 'finished' | 'stopped' | 'error', message?: string) => {
    current.recorder.close();
    await current.recorder.flush();
    const st = storeRef.current;
    if (!st) return;
    try {
      if (ended === 'finished') {
        const d = await clientRef.current?.api.download('compact');
        if (d) await st.putModel(current.id, d.zip);
      }
      if (ended === 'error') await st.updateRun(current.id, { status: 'failed' });
    } catch (e) {
      setStoreError(`could not store the run's result: ${errorText(e)}${message ? ` (${message})` : ''}`);
    }
    changedRef.current();
  };

  const newRecorder = (st: RunStore, id: string, recorded: number, minutes: number, last: Omit<CheckpointMeta, 'bytes'> | null) =>
    new RunRecorder({
      store: st,
      runId: id,
      recordedEvents: recorded,
      requestCheckpoint: async (reason) => (await clientRef.current?.api.checkpoint(reason)) ?? false,
      checkpointEveryMs: minutes * 60_000,
      onStoreError: (m) => setStoreError(`saving the run failed: ${m}`),
      onCheckpoint: (meta) => {
        setLastCheckpoint(meta);
        changedRef.current();
      },
      lastCheckpoint: last,
    });

  const start = useCallback(
    async (config: RunConfigInput, data: DataChoice, opts: StartOptions) => {
      const st = storeRef.current;
      if (!clientRef.current || !st) return;
      logRef.current.clear();
      setNotice(null);
      setStoreError(null);
      setLastCheckpoint(null);
      dispatch({ type: 'starting', at: Date.now() });
      let record: RunRecord;
      try {
        record = await st.createRun({ name: opts.name, source: 'browser', batch: opts.batch ?? null });
      } catch (e) {
        dispatch({ type: 'failed', message: `could not create the run in the browser's storage: ${errorText(e)}` });
        return;
      }
      const current: Current = { id: record.id, batch: opts.batch ?? null, recorder: newRecorder(st, record.id, 0, opts.checkpointMinutes, null), data, checkpointMinutes: opts.checkpointMinutes, restarts: 0 };
      currentRef.current = current;
      setCurrentId(record.id);
      changedRef.current();
      await launch(current, config);
    },
    [launch],
  );

  /**
   * Continues a stored run from its last checkpoint: the log is cut where the checkpoint was taken,
   * replayed into the charts, and the worker goes on from there. `override` changes settings (e.g. a lower lr).
   */
  const resumeRun = useCallback(
    async (id: string, data: DataChoice, opts: { checkpointMinutes: number; override?: LiveUpdate; restarts?: number }) => {
      const st = storeRef.current;
      if (!clientRef.current || !st) return;
      const record = await st.getRun(id);
      const ck = await st.getCheckpoint(id);
      if (!record || !record.config || !ck) {
        setBusy(false);
        dispatch({ type: 'failed', message: record ? `“${record.name}” has no checkpoint to continue from` : 'that run is no longer stored' });
        return;
      }
      await st.truncateEvents(id, ck.meta.eventCount);
      const events = await st.getEvents(id, ck.meta.eventCount);
      logRef.current.clear();
      logRef.current.push(events);
      setStoreError(null);
      setLastCheckpoint(ck.meta);
      dispatch({ type: 'replay', events, at: Date.now() });
      const current: Current = { id, batch: record.batch, recorder: newRecorder(st, id, ck.meta.eventCount, opts.checkpointMinutes, ck.meta), data, checkpointMinutes: opts.checkpointMinutes, restarts: opts.restarts ?? 0 };
      currentRef.current = current;
      setCurrentId(id);
      changedRef.current();
      // The checkpoint's own settings apply (they include live changes made before it); changes on top go in as live updates.
      await launch(current, record.config, ck.bytes, opts.override ? [opts.override] : undefined);
    },
    [launch],
  );

  // After a device loss: a new worker is up; continue the run from its checkpoint.
  const continueAfterRestartRef = useRef(async (_c: Current, _reason: string | null, _override?: LiveUpdate) => {});
  continueAfterRestartRef.current = async (c: Current, reason: string | null, override?: LiveUpdate) => {
    // The record says where the checkpoint is; resumeRun reads its bytes.
    const ck = (await storeRef.current?.getRun(c.id))?.checkpoint;
    if (!ck) {
      setBusy(false);
      dispatch({ type: 'failed', message: `${reason ?? 'restart'}; the run had no checkpoint yet, so it cannot continue` });
      return;
    }
    setNotice(
      reason
        ? `${reason[0].toUpperCase()}${reason.slice(1)}. The worker was restarted and the run resumed from its checkpoint at iteration ${ck.iteration}.`
        : `Continued from the last good checkpoint (iteration ${ck.iteration})${override?.lr !== undefined ? ` with learning rate ${override.lr}` : ''}.`,
    );
    await resumeRun(c.id, c.data, { checkpointMinutes: c.checkpointMinutes, restarts: reason ? c.restarts + 1 : c.restarts, override });
  };

  /** Drops the worker (and what the run did since its checkpoint); a fresh one continues the run from the checkpoint. */
  const restartFromCheckpoint = (current: Current, reason: string | null, progress: string, override?: LiveUpdate) => {
    current.recorder.close();
    restartRef.current = { current, reason, override };
    currentRef.current = null;
    dispatch({ type: 'restarting', message: progress });
    setGeneration((g) => g + 1);
  };

  onDeviceProblemRef.current = (message: string) => {
    const current = currentRef.current;
    if (restartRef.current) return; // already restarting
    if (!current) {
      setNotice(`${message}. The worker was restarted.`);
      setGeneration((g) => g + 1);
      return;
    }
    if (current.restarts >= MAX_RESTARTS) {
      current.recorder.close();
      currentRef.current = null;
      setBusy(false);
      dispatch({ type: 'failed', message: `${message}, again (${MAX_RESTARTS} restarts already): the run was stopped; its last checkpoint is kept — try a smaller batch size or another backend, then resume it from the runs list` });
      void storeRef.current?.updateRun(current.id, { status: 'interrupted' }).then(() => changedRef.current());
      setGeneration((g) => g + 1);
      return;
    }
    restartFromCheckpoint(current, message, message);
  };

  const pause = useCallback(() => void clientRef.current?.api.pause(), []);
  const resume = useCallback(() => void clientRef.current?.api.resume(), []);
  const stop = useCallback(() => {
    dispatch({ type: 'stopping' });
    void clientRef.current?.api.stop();
  }, []);
  /**
   * After a NaN: drop the diverged run's worker and continue from the last good checkpoint with new
   * settings (e.g. a lower lr) on a fresh worker — the diverged weights are never used again.
   */
  const restoreLastGood = useCallback((override: LiveUpdate) => {
    const current = currentRef.current;
    if (!current || restartRef.current) return;
    restartFromCheckpoint(current, null, 'going back to the last good checkpoint', override);
  }, []);
  const update = useCallback((changes: LiveUpdate) => void clientRef.current?.api.update(changes), []);

  const downloadModel = useCallback(async (which: 'compact' | 'projected', filename: string) => {
    const d = await clientRef.current?.api.download(which);
    if (!d) return;
    saveBlob(new Blob([d.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), filename);
  }, []);

  const downloadModelFiles = useCallback(async (which: 'compact' | 'projected') => {
    const d = await clientRef.current?.api.download(which);
    if (!d) return;
    saveBlob(new Blob([d.modelJson], { type: 'application/json' }), 'model.json');
    saveBlob(new Blob([d.weights as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), 'weights.bin');
  }, []);

  const downloadLog = useCallback(async (filename: string) => {
    saveBlob(await logRef.current.toBlob(), filename);
  }, []);

  const requestServerDownload = useCallback(async () => {
    await fetch('/api/dataset/download', { method: 'POST' });
    for (;;) {
      const listing = await refreshServer();
      const st = listing?.download.state;
      if (!listing || st === 'done' || st === 'error' || st === 'idle') return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }, [refreshServer]);

  return {
    backend,
    run,
    active: isActive(run.phase),
    busy,
    currentId,
    notice,
    storeError,
    lastCheckpoint,
    diverged,
    resumeRun,
    restoreLastGood,
    generation,
    server,
    user,
    log: logRef.current,
    start,
    pause,
    resume,
    stop,
    update,
    loadFiles,
    downloadModel,
    downloadModelFiles,
    downloadLog,
    refreshServer,
    requestServerDownload,
  };
}

export type Engine = ReturnType<typeof useEngine>;
