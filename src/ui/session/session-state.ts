import type { InferenceEvent } from '../../engine/events';
import type { StoredCheckpoint } from '../../runs/recorder';
import type { BackendInfo, Progress } from '../../worker/protocol';
import type { BatchState } from './batch';

export type BackendState =
  | { status: 'starting' }
  | { status: 'ready'; info: BackendInfo & { kernels: 'fast' | 'stock' | null } }
  | { status: 'failed'; message: string };

export interface InferenceJob {
  runId: string;
  runName: string;
  status: 'measuring' | 'done' | 'failed' | 'cancelled';
  progress: Progress | null;
  event: InferenceEvent | null;
  message: string | null;
}

export interface SessionState {
  backend: BackendState;
  /** From a run's start until its result is stored (the worker may still be exporting after 'finished'). */
  busy: boolean;
  /** The run this page recorded last (or records now). */
  currentId: string | null;
  notice: string | null;
  storeError: string | null;
  lastCheckpoint: StoredCheckpoint | null;
  /** A NaN or exploding loss paused the run (until a normal step follows). */
  diverged: boolean;
  /** Why the last live change could not be sent. */
  liveError: string | null;
  batch: BatchState | null;
  /** The last inference-speed measurement of this page (of any stored run), going or done. */
  inference: InferenceJob | null;
}

export const initialSessionState = (): SessionState => ({
  backend: { status: 'starting' },
  busy: false,
  currentId: null,
  notice: null,
  storeError: null,
  lastCheckpoint: null,
  diverged: false,
  liveError: null,
  batch: null,
  inference: null,
});

type Timer = ReturnType<typeof setTimeout>;

export interface Timers {
  setTimeout: (fn: () => void, ms: number) => Timer;
  clearTimeout: (t: Timer) => void;
  setInterval: (fn: () => void, ms: number) => Timer;
  clearInterval: (t: Timer) => void;
}

export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (t) => clearInterval(t),
};
