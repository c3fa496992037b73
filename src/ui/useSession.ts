import { startTransition, useEffect, useReducer, useState, useSyncExternalStore } from 'react';
import type { RunStore } from '../runs/store';
import type { BackendPreference } from '../worker/protocol';
import { saveBlob } from './download';
import type { DataState } from './session/data-source';
import { RunSession, type SessionCallbacks, type SessionState, type TestSwitch } from './session/run-session';
import { initialRunState, runReducer, type RunState } from './state/store';
import { createWorkerClient } from './worker-client';

declare global {
  interface Window {
    /** Set by the end-to-end tests before the page loads (RunSessionOptions.test). */
    __lrpetTest?: TestSwitch;
    __lrpet?: {
      diagnostics: () => Promise<{ numTensors: number; numBytes: number; cspViolations: string[] }>;
      simulateNaN: () => Promise<string | null>;
      simulateDeviceLoss: () => Promise<boolean>;
    };
  }
}

/** The page's RunSession: made once, its worker started while the page is mounted. */
export function useRunSession(preference: BackendPreference, kernels: 'fast' | 'stock', store: RunStore | null, callbacks: SessionCallbacks): RunSession {
  const [session] = useState(() => new RunSession({ createWorker: createWorkerClient, preference, kernels, save: saveBlob, test: window.__lrpetTest }));
  useEffect(() => {
    session.open();
    // For the console and the end-to-end tests: tfjs memory and CSP violations inside the worker, and failure drills.
    window.__lrpet = {
      diagnostics: () => session.diagnostics(),
      simulateNaN: () => session.simulateNaN(),
      simulateDeviceLoss: () => session.simulateDeviceLoss(),
    };
    // The page is being hidden or unloaded: the worker stores a checkpoint at once, best effort (RunRecorder.pageHidden says what it cannot do).
    const hidden = () => session.pageHidden();
    const visibility = () => document.visibilityState === 'hidden' && hidden();
    window.addEventListener('pagehide', hidden);
    document.addEventListener('visibilitychange', visibility);
    return () => {
      window.removeEventListener('pagehide', hidden);
      document.removeEventListener('visibilitychange', visibility);
      session.close();
    };
  }, [session]);
  useEffect(() => session.setBackend(preference), [session, preference]);
  useEffect(() => session.setStore(store), [session, store]);
  useEffect(() => session.setCallbacks(callbacks));
  return session;
}

export const useSessionState = (session: RunSession): SessionState => useSyncExternalStore(session.subscribe, session.getSnapshot);

export const useDataState = (session: RunSession): DataState => useSyncExternalStore(session.data.subscribe, session.data.getSnapshot);

/**
 * The run's chart state: the reducer over the session's run actions. Batches of events go in as a
 * transition, so rendering the charts may be interrupted and the page stays responsive.
 */
export function useRunState(session: RunSession): RunState {
  const [run, dispatch] = useReducer(runReducer, undefined, initialRunState);
  useEffect(() => session.subscribeRun((a) => (a.type === 'batch' ? startTransition(() => dispatch(a)) : dispatch(a))), [session]);
  return run;
}
