import type { RunRecord } from '../../runs/store';
import type { SessionState } from '../session/session-state';
import type { RunState } from '../state/store';
import { DivergedCallout, InterruptedBanner } from './Notices';

export interface RunNoticesProps {
  session: SessionState;
  run: RunState;
  /** A run is going (the interrupted runs are not offered meanwhile). */
  active: boolean;
  /** What the link's settings needed adjusting; OK dismisses them. */
  urlNotes: string[];
  onDismissUrlNotes: () => void;
  interrupted: RunRecord[];
  canResume: boolean;
  onResume: (id: string) => void;
  onDismissInterrupted: () => void;
  /** The preset's description, until the first run. */
  presetNote: string | null;
  lr: number;
  onRestore: (lr: number) => void;
}

/** What the page has to say about the run above the charts: adjusted links, interrupted runs, restarts, storage, divergence, errors. */
export function RunNotices(p: RunNoticesProps) {
  const { session, run } = p;
  const showRun = run.start !== null;
  const diverged = session.diverged ? ([...run.errors].reverse().find((e) => e.code === 'nan' || e.code === 'exploding') ?? null) : null;
  const checkpoint = session.lastCheckpoint;
  return (
    <>
      {p.urlNotes.length ? (
        <div className="callout warn" role="status" data-testid="url-notes">
          The link&apos;s settings were adjusted: {p.urlNotes.join('; ')}.{' '}
          <button type="button" className="small" onClick={p.onDismissUrlNotes}>
            OK
          </button>
        </div>
      ) : null}
      {!p.active ? <InterruptedBanner runs={p.interrupted} canResume={p.canResume} onResume={p.onResume} onDismiss={p.onDismissInterrupted} /> : null}
      {session.notice ? (
        <div className="callout info" role="status" data-testid="engine-notice">
          {session.notice}
        </div>
      ) : null}
      {session.storeError ? (
        <div className="callout error" role="alert" data-testid="store-error">
          {session.storeError}
        </div>
      ) : null}
      {checkpoint && showRun ? (
        <div className="muted checkpoint-line" data-testid="last-checkpoint" data-iteration={checkpoint.iteration} data-time={checkpoint.time}>
          saved in this browser · checkpoint at iteration {checkpoint.iteration} ({checkpoint.reason}, {new Date(checkpoint.time).toLocaleTimeString()})
        </div>
      ) : null}
      {diverged && run.phase === 'paused' ? <DivergedCallout error={diverged} checkpoint={checkpoint} lr={p.lr} onRestore={p.onRestore} /> : null}
      {p.presetNote && !showRun ? <div className="callout info">{p.presetNote}</div> : null}
      {session.liveError ? (
        <div className="callout error" role="alert">
          Not applied: {session.liveError}
        </div>
      ) : null}
      {run.failure ? (
        <div className="callout error" role="alert" data-testid="run-error">
          {run.failure}
        </div>
      ) : null}
      {run.errors.length && !diverged ? (
        <div className="callout error" role="alert">
          {run.errors[run.errors.length - 1].message}
        </div>
      ) : null}
    </>
  );
}
