import { startTransition, useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { LiveUpdate, RunConfigInput } from '../engine/config';
import type { EngineEvent } from '../engine/events';
import type { BackendInfo, BackendPreference, DataChoice, DataInfo, Progress, ServerListing, WorkerMessage } from '../worker/protocol';
import { saveBlob } from './download';
import { EventLog } from './state/eventlog';
import { initialRunState, isActive, runReducer } from './state/store';
import { Comlink, createWorkerClient, type WorkerClient } from './worker-client';

declare global {
  interface Window {
    __lrpet?: { diagnostics: () => Promise<{ numTensors: number; numBytes: number; cspViolations: string[] }> };
  }
}

export type BackendState = { status: 'starting' } | { status: 'ready'; info: BackendInfo & { kernels: 'fast' | 'stock' | null } } | { status: 'failed'; message: string };

export interface ServerDataState {
  status: 'checking' | 'ready' | 'none' | 'error';
  listing: ServerListing | null;
  message: string | null;
}

export interface UserDataState {
  status: 'none' | 'loading' | 'ready' | 'error';
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

/** The page's connection to the worker: backend, data, the run's state (a reducer over the event stream) and its controls. */
export function useEngine(preference: BackendPreference, kernels: 'fast' | 'stock' = 'fast') {
  const clientRef = useRef<WorkerClient | null>(null);
  const logRef = useRef(new EventLog());
  // The backend state belongs to one preference: a new preference means a new worker, 'starting' again.
  const [backendOf, setBackendOf] = useState<{ preference: BackendPreference; state: BackendState } | null>(null);
  const backend: BackendState = backendOf?.preference === preference ? backendOf.state : { status: 'starting' };
  const [run, dispatch] = useReducer(runReducer, undefined, initialRunState);
  const [server, setServer] = useState<ServerDataState>({ status: 'checking', listing: null, message: null });
  const [user, setUser] = useState<UserDataState>({ status: 'none', info: null, progress: null, message: null });

  useEffect(() => {
    const client = createWorkerClient();
    clientRef.current = client;
    // For the console and the end-to-end tests: tfjs memory and CSP violations inside the worker.
    window.__lrpet = { diagnostics: () => client.api.diagnostics() };
    let alive = true;
    client.api
      .init(preference, kernels)
      .then((info) => alive && setBackendOf({ preference, state: { status: 'ready', info } }))
      .catch((e) => alive && setBackendOf({ preference, state: { status: 'failed', message: errorText(e) } }));
    return () => {
      alive = false;
      client.terminate();
      clientRef.current = null;
    };
  }, [preference, kernels]);

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
    setUser({ status: 'loading', info: null, progress: null, message: null });
    try {
      const info = await client.api.loadFiles(
        files,
        Comlink.proxy((progress: Progress) => setUser((u) => ({ ...u, progress }))),
      );
      setUser({ status: 'ready', info, progress: null, message: null });
      return true;
    } catch (e) {
      setUser({ status: 'error', info: null, progress: null, message: errorText(e) });
      return false;
    }
  }, []);

  const start = useCallback(async (config: RunConfigInput, data: DataChoice) => {
    const client = clientRef.current;
    if (!client) return;
    logRef.current.clear();
    dispatch({ type: 'starting', at: Date.now() });
    const onMessages = (batch: WorkerMessage[]) => {
      const events: EngineEvent[] = [];
      for (const m of batch) if (m.kind === 'event') events.push(m.event);
      logRef.current.push(events);
      // A transition: rendering the charts may be interrupted, so the page stays responsive.
      startTransition(() => dispatch({ type: 'messages', messages: batch, at: Date.now() }));
    };
    try {
      const result = await client.api.startRun({ config, data }, Comlink.proxy(onMessages));
      dispatch({ type: 'ended', ...result });
    } catch (e) {
      dispatch({ type: 'failed', message: errorText(e) });
    }
  }, []);

  const pause = useCallback(() => void clientRef.current?.api.pause(), []);
  const resume = useCallback(() => void clientRef.current?.api.resume(), []);
  const stop = useCallback(() => {
    dispatch({ type: 'stopping' });
    void clientRef.current?.api.stop();
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
