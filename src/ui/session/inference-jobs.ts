import { errorText } from '../../engine/errors';
import type { InferenceEvent } from '../../engine/events';
import { unpackModel } from '../../runs/file';
import type { RunStore } from '../../runs/store';
import type { InferenceRequest, Progress } from '../../worker/protocol';
import type { WorkerHost } from './worker-host';
import type { InferenceJob, SessionState } from './session-state';

/** Batch sizes timed: latency at 1, throughput at 128. */
export const INFERENCE_BATCHES = [1, 128];
/** Warm-up and timed calls per model and batch size: fewer on a software renderer, where one call can take seconds. */
export const inferenceRepeats = (software: boolean) => (software ? { warmup: 1, iterations: 3 } : { warmup: 2, iterations: 10 });

export interface InferenceJobsOptions {
  host: WorkerHost;
  store: () => RunStore | null;
  state: () => SessionState;
  set: (patch: Partial<SessionState>) => void;
  /** A run or another measurement is going. */
  busy: () => boolean;
  /** Warm-up and timed calls instead of inferenceRepeats' (the end-to-end tests' switch). */
  repeats?: { warmup: number; iterations: number };
  /** The event is stored with its run: the page shows it when that run is the one shown. */
  measured: (runId: string, event: InferenceEvent) => void;
}

/** Inference-speed measurements of stored runs, one at a time, in the worker. */
export class InferenceJobs {
  constructor(private readonly o: InferenceJobsOptions) {}

  private update(runId: string, patch: Partial<InferenceJob>): void {
    const job = this.o.state().inference;
    if (job?.runId === runId) this.o.set({ inference: { ...job, ...patch } });
  }

  /** The worker was replaced: a measurement it was making is lost. */
  workerReplaced(): void {
    const job = this.o.state().inference;
    if (job?.status === 'measuring') this.o.set({ inference: { ...job, status: 'failed', message: 'the worker was replaced during the measurement', progress: null } });
  }

  /**
   * Times the dense and the compact model of a stored run on this page's backend and appends the
   * inference event to the run's stored events. The worker's own models of its last run are used when it
   * still holds them (the dense one is then the run's projected model); otherwise the stored compact model
   * is compared with the dense architecture. Resolves with the event, or null when it could not be
   * measured (the job says why).
   */
  async measure(runId: string, batches: number[] = INFERENCE_BATCHES): Promise<InferenceEvent | null> {
    const st = this.o.store();
    const w = this.o.host.worker;
    const backend = this.o.state().backend;
    if (!st || !w || backend.status !== 'ready' || this.o.busy()) return null;
    this.o.set({ inference: { runId, runName: '', status: 'measuring', progress: null, event: null, message: null } });
    let request: InferenceRequest;
    try {
      request = await this.request(st, runId, batches, backend.info.software);
    } catch (e) {
      this.update(runId, { status: 'failed', message: errorText(e) });
      return null;
    }
    let event: InferenceEvent;
    try {
      // Progress comes through its own message channel and may arrive after the answer: only while measuring.
      const onProgress = (p: Progress) => {
        if (this.o.state().inference?.status === 'measuring') this.update(runId, { progress: p });
      };
      event = await w.api.benchInference(request, w.proxy(onProgress));
    } catch (e) {
      const message = errorText(e);
      this.update(runId, { status: /cancelled/.test(message) ? 'cancelled' : 'failed', message, progress: null });
      return null;
    }
    this.update(runId, { status: 'done', event, progress: null });
    try {
      await st.appendEvents(runId, [event]);
    } catch (e) {
      this.o.set({ storeError: `could not store the inference measurement: ${errorText(e)}` });
    }
    this.o.measured(runId, event);
    return event;
  }

  private async request(st: RunStore, runId: string, batches: number[], software: boolean): Promise<InferenceRequest> {
    const record = await st.getRun(runId);
    if (!record) throw new Error('that run is no longer stored');
    this.update(runId, { runName: record.name });
    const config = record.config;
    if (!config) throw new Error(`“${record.name}” has no settings stored, so its dense architecture is unknown`);
    const repeats = this.o.repeats ?? inferenceRepeats(software);
    const models = this.o.host.models;
    // Post-hoc and compact-from-scratch runs train the compact model itself: their "projected" export is not dense.
    const projectedIsDense = !config.posthoc && !config.compactFromScratch;
    if (models?.runId === runId && models.compact) {
      return { compact: 'last', dense: projectedIsDense ? 'last' : { architecture: config.model }, batches, ...repeats };
    }
    const zip = await st.getModel(runId);
    if (!zip) throw new Error(`“${record.name}” has no compact model stored`);
    const m = unpackModel(zip);
    return { compact: { modelJson: new TextDecoder().decode(m.modelJson), weights: m.weights }, dense: { architecture: config.model }, batches, ...repeats };
  }

  cancel(): void {
    if (this.o.state().inference?.status === 'measuring') void this.o.host.worker?.api.cancelInference();
  }
}
