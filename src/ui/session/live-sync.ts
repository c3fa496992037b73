import { errorText } from '../../engine/errors';
import type { LiveUpdate } from '../../engine/config';
import { liveDiff, type FormState } from '../state/form';
import { ReportedConfig } from './live-config';
import type { Timers } from './session-state';

/** Live changes are sent after this much quiet (a slider being dragged sends once). */
export const LIVE_DELAY_MS = 250;

export interface LiveSyncOptions {
  timers: Timers;
  /** Whether a run that takes live changes is going. */
  canSend: () => boolean;
  send: (update: LiveUpdate) => Promise<void>;
  /** Why the last change could not be sent (null: it could). */
  onError: (message: string | null) => void;
}

/**
 * The page's form against the run going on: what the form changes in the live settings, diffed against
 * the settings the engine reported (and the updates still on their way), is sent after a short quiet.
 */
export class LiveSync {
  /** The page's form: what live changes are diffed from, and the base of forms loaded from a run. */
  form: FormState | null = null;
  readonly reported = new ReportedConfig();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly o: LiveSyncOptions) {}

  /** The form changed; during a run the changes go out after LIVE_DELAY_MS of quiet. */
  setForm(form: FormState): void {
    this.form = form;
    if (!this.o.canSend()) return;
    this.cancel();
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = null;
      this.sync();
    }, LIVE_DELAY_MS);
  }

  cancel(): void {
    if (this.timer === null) return;
    this.o.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Sends what the form changes against the settings the engine reported (and the updates still on their way). */
  sync(): void {
    const base = this.reported.expected();
    if (!this.o.canSend() || !base || !this.form) return;
    const { update, error } = liveDiff(base, this.form);
    this.o.onError(error);
    if (!update) return;
    this.reported.sent(update);
    this.o.send(update).catch((e: unknown) => {
      this.reported.lost(update);
      this.o.onError(errorText(e));
    });
  }
}
