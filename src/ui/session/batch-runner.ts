import type { RunConfigInput } from '../../engine/config';
import { ablationBatch, type AblationId } from '../state/ablations';
import type { FormState } from '../state/form';
import { afterRun, batchRef, beginBatch, cancelBatch, itemLabel, type BatchRef, type BatchState, type RunEnded } from './batch';
import type { SessionState } from './session-state';
import type { WorkerHost } from './worker-host';

export interface BatchStart {
  form: FormState;
  config: RunConfigInput;
  name: string;
  batch: BatchRef;
  initWeights?: Uint8Array;
}

export interface BatchRunnerOptions {
  host: WorkerHost;
  state: () => SessionState;
  set: (patch: Partial<SessionState>) => void;
  now: () => number;
  runName: (form: FormState) => string;
  /** Where the data a run starts on now comes from (kept with batch runs, for the claims report). */
  dataNote: () => string | undefined;
  /** Starts one run of the batch; false when it could not start. */
  start: (run: BatchStart) => Promise<boolean>;
  /** The page shows these settings (each run's, then the form the batch was made from). */
  loadForm: (form: FormState) => void;
  /** Every run of the batch finished. */
  onDone: (runIds: string[], batchId: string) => void;
}

/** Ablation batches: the arms of a form run one after another, each over its seeds. */
export class BatchRunner {
  /** Final weights of batch runs that a later run of the batch starts from (the pre-trained ablation), by batch/arm. */
  private readonly weights = new Map<string, Uint8Array>();

  constructor(private readonly o: BatchRunnerOptions) {}

  /** Runs the ablations of `form` one after another, each over `seeds` seeds (the form's, then the next ones). */
  start(form: FormState, ids: readonly AblationId[], seeds = 1): void {
    const arms = ablationBatch(form, ids);
    if (!arms.length) return;
    const b = beginBatch(`batch-${this.o.now().toString(36)}`, arms, form, seeds);
    this.o.set({ batch: b });
    this.startItem(b);
  }

  cancel(): void {
    const b = this.o.state().batch;
    if (b) this.o.set({ batch: cancelBatch(b) });
  }

  /** A batch run finished: keeps its final weights when a later run of the batch starts from them. */
  async finished(batch: BatchRef | null): Promise<void> {
    const b = this.o.state().batch;
    if (!b || batch?.id !== b.id) return;
    const id = b.items[b.index].id;
    if (!b.items.some((i) => i.initFrom === id)) return;
    const bytes = await this.o.host.worker?.api.downloadSafetensors('projected');
    if (bytes) this.weights.set(`${b.id}/${id}`, bytes);
  }

  /** A run ended (its result stored): the next run of its batch starts, or the batch is over. */
  runEnded(r: RunEnded): void {
    const b = this.o.state().batch;
    if (!b) return;
    const { batch, next, over } = afterRun(b, r);
    this.o.set({ batch });
    if (over) for (const key of [...this.weights.keys()]) if (key.startsWith(`${batch.id}/`)) this.weights.delete(key);
    if (next) this.startItem(batch);
    else if (over) {
      this.o.loadForm(batch.base);
      if (batch.status === 'done') this.o.onDone(batch.runIds, batch.id);
    }
  }

  private startItem(b: BatchState): void {
    const item = b.items[b.index];
    this.o.loadForm(item.form);
    const initWeights = item.initFrom ? this.weights.get(`${b.id}/${item.initFrom}`) : undefined;
    const stop = (message: string) => {
      const now = this.o.state().batch;
      if (now?.id !== b.id || now.status !== 'running') return;
      this.o.set({ batch: { ...now, status: 'cancelled', message } });
      this.o.loadForm(b.base);
    };
    if (item.initFrom && !initWeights) return stop(`“${itemLabel(b, item)}” could not start: the weights of the run it starts from were not kept`);
    const run = { form: item.form, config: item.config, name: `${itemLabel(b, item)} · ${this.o.runName(item.form)}`, batch: batchRef(b, this.o.dataNote()), initWeights };
    void this.o.start(run).then((ok) => ok || stop(`“${itemLabel(b, item)}” could not start`));
  }
}
