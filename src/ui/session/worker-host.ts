import { errorText } from '../../engine/errors';
import type { BackendPreference } from '../../worker/protocol';
import type { WorkerClient, WorkerRemote } from '../worker-client';
import type { BackendState } from './session-state';

export interface WorkerHostOptions {
  createWorker: () => WorkerClient;
  preference: BackendPreference;
  kernels: 'fast' | 'stock';
  onBackend: (backend: BackendState) => void;
  /** A new worker is up (a run waiting for it may continue). */
  onReady: () => void;
  /** The worker's GPU device was lost or ran out of memory (reported once per worker). */
  onDeviceProblem: (message: string) => void;
  /** The worker was replaced: whatever it was doing is gone. */
  onReplaced: () => void;
}

/** The training worker: started, replaced (a lost GPU device, another backend), and what its last run left in it. */
export class WorkerHost {
  worker: WorkerClient | null = null;
  /** The run whose models the worker holds (its last run ended in this worker and exported them). */
  models: { runId: string; compact: boolean } | null = null;
  private preference: BackendPreference;

  constructor(private readonly o: WorkerHostOptions) {
    this.preference = o.preference;
  }

  get running(): boolean {
    return this.worker !== null;
  }

  /** The worker's API; throws when no worker runs. */
  api(): WorkerRemote {
    if (!this.worker) throw new Error('the worker is not running');
    return this.worker.api;
  }

  setPreference(preference: BackendPreference): void {
    if (preference === this.preference) return;
    this.preference = preference;
    if (this.worker) this.spawn();
  }

  /** A new worker (the old one, if any, is terminated); onReady once its backend is up. */
  spawn(): void {
    const replaced = this.worker !== null;
    this.worker?.terminate();
    const w = this.o.createWorker();
    this.worker = w;
    this.models = null;
    if (replaced) this.o.onReplaced();
    this.o.onBackend({ status: 'starting' });
    const onDeviceProblem = w.proxy((message: string) => {
      if (this.worker === w) this.o.onDeviceProblem(message);
    });
    w.api.init(this.preference, this.o.kernels, onDeviceProblem).then(
      (info) => {
        if (this.worker !== w) return;
        this.o.onBackend({ status: 'ready', info });
        this.o.onReady();
      },
      (e) => {
        if (this.worker === w) this.o.onBackend({ status: 'failed', message: errorText(e) });
      },
    );
  }

  close(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
