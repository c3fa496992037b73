import type { CheckpointMeta, RunRecord } from '../../runs/store';
import type { ErrorEvent } from '../../engine/events';

/** Runs whose page went away mid-run, offered for resuming. */
export function InterruptedBanner({ runs, canResume, onResume, onDismiss }: { runs: RunRecord[]; canResume: boolean; onResume: (id: string) => void; onDismiss: () => void }) {
  if (!runs.length) return null;
  return (
    <div className="callout warn" role="status" data-testid="interrupted-banner">
      {runs.map((r) => (
        <div key={r.id} className="banner-row">
          “{r.name}” was interrupted at iteration {r.summary.iteration}
          {r.checkpoint ? ` — its last checkpoint is at iteration ${r.checkpoint.iteration}.` : ' before its first checkpoint: it cannot be resumed.'}{' '}
          {r.checkpoint ? (
            <button type="button" className="primary small" disabled={!canResume} onClick={() => onResume(r.id)} title={canResume ? undefined : 'waiting for the backend and the data'}>
              Resume
            </button>
          ) : null}
        </div>
      ))}
      <button type="button" className="small" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}

/**
 * A NaN or exploding loss paused the run: what happened, what to do, and the way back to the last
 * good checkpoint (the diverged weights are not saved over it).
 */
export function DivergedCallout({
  error,
  checkpoint,
  lr,
  onRestore,
}: {
  error: ErrorEvent | null;
  checkpoint: Omit<CheckpointMeta, 'bytes'> | null;
  lr: number;
  onRestore: (lr: number) => void;
}) {
  const lower = Number((lr / 10).toPrecision(3));
  return (
    <div className="callout error" role="alert" data-testid="diverged-callout">
      <b>Training paused itself:</b> {error?.message ?? 'the loss diverged.'}
      <div>
        {checkpoint ? (
          <>
            The last good checkpoint (iteration {checkpoint.iteration}) is kept.{' '}
            <button type="button" className="primary small" onClick={() => onRestore(lower)}>
              Go back to the last good checkpoint with learning rate {lower}
            </button>{' '}
            or change the learning rate on the left and press Resume to go on from here.
          </>
        ) : (
          'There is no checkpoint of this run yet: lower the learning rate on the left and press Resume, or start again.'
        )}
      </div>
    </div>
  );
}
