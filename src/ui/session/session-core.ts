import type { RunStore } from '../../runs/store';
import type { EventLog } from '../state/eventlog';
import type { FormState } from '../state/form';
import type { RunAction } from '../state/store';
import type { BatchRef } from './batch';
import type { LiveSync } from './live-sync';
import type { SessionState } from './session-state';
import type { WorkerHost } from './worker-host';
import type { DataChoice } from '../../worker/protocol';

export interface SessionCallbacks {
  /** The stored runs changed (a run was created, checkpointed, ended). */
  onRunsChanged?: () => void;
  /** The page should show these settings: a resumed run's, a batch run's, or the form a batch was made from. */
  onLoadForm?: (form: FormState) => void;
  /** Every run of an ablation batch finished. */
  onBatchDone?: (runIds: string[], batchId: string) => void;
}

/** A run this page follows (and, after a device loss, restarts); the worker records it. */
export interface Current {
  id: string;
  batch: BatchRef | null;
  data: DataChoice;
  checkpointMinutes: number;
  restarts: number;
  /** The worker answered startRun: what is left is handling the result. */
  ended: boolean;
}

/** What the parts of a session share: the worker, live changes, the run's log, the state and the run actions. */
export interface SessionCore {
  readonly host: WorkerHost;
  readonly live: LiveSync;
  /** The current run's full event log (what "Download event log" saves). */
  readonly log: EventLog;
  store(): RunStore | null;
  state(): SessionState;
  set(patch: Partial<SessionState>): void;
  emit(action: RunAction): void;
  now(): number;
  callbacks(): SessionCallbacks;
  /** A run, a restart or an inference measurement is going. */
  isBusy(): boolean;
  loadForm(form: FormState): void;
}
