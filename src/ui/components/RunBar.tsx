import type { RunState } from '../state/store';
import { fmtDuration, fmtNum, fmtPct } from '../state/format';
import { ProgressText } from './fields';
import './runbar.css';

const PHASE_LABEL: Record<RunState['phase'], string> = {
  idle: 'ready',
  loading: 'loading data',
  running: 'training',
  paused: 'paused',
  stopping: 'stopping…',
  finished: 'finished',
  stopped: 'stopped',
  failed: 'failed',
  interrupted: 'interrupted',
};

export function RunBar({
  run,
  canStart,
  startHint,
  onStart,
  onPause,
  onResume,
  onStep,
  onStop,
  now,
  lastStep,
}: {
  run: RunState;
  canStart: boolean;
  startHint: string | null;
  onStart: () => void;
  onPause: () => void;
  onResume: () => void;
  /** One training iteration, then paused (before a run: starts it and pauses after its first step). */
  onStep: () => void;
  onStop: () => void;
  now: number;
  lastStep: { iteration: number; epoch: number; imagesPerSec: number; stepMs: number } | null;
}) {
  const active = run.phase === 'loading' || run.phase === 'running' || run.phase === 'paused' || run.phase === 'stopping';
  const s = run.start;
  const totalIt = s ? s.stepsPerEpoch * s.config.epochs : null;
  const it = lastStep?.iteration ?? 0;
  const elapsed = run.startedAt ? ((run.lastEventAt && !active ? run.lastEventAt : now) - run.startedAt) / 1000 : null;
  const lastEpoch = run.epochs[run.epochs.length - 1];
  // Remaining time from the measured step time (evaluation and projections come on top).
  const eta = totalIt && lastStep && run.phase === 'running' && it < totalIt ? ((totalIt - it) * lastStep.stepMs) / 1000 : null;
  return (
    <div className="runbar" id="run-controls">
      <div className="buttons">
        <button type="button" className="primary" onClick={onStart} disabled={!canStart || active} title={startHint ?? undefined}>
          Start
        </button>
        <button type="button" onClick={onPause} disabled={run.phase !== 'running'} aria-keyshortcuts="Space" title="Pause (Space)">
          Pause
        </button>
        <button type="button" onClick={onResume} disabled={run.phase !== 'paused'} aria-keyshortcuts="Space" title="Resume (Space)">
          Resume
        </button>
        <button
          type="button"
          onClick={onStep}
          disabled={!(run.phase === 'paused' || (canStart && !active))}
          title={run.phase === 'paused' ? 'One training iteration (and the projection if one is due), then paused' : 'Start, train one iteration, then pause'}
        >
          Step
        </button>
        <button type="button" onClick={onStop} disabled={!active || run.phase === 'stopping'}>
          Stop
        </button>
      </div>
      <div className="status" aria-live="polite">
        <span className={`phase ${run.phase}`} data-testid="run-phase">
          {PHASE_LABEL[run.phase]}
        </span>
        {run.progress ? <ProgressText label={run.progress.label} loaded={run.progress.loaded} total={run.progress.total} testId="run-progress" /> : null}
        {run.activity && (run.phase === 'running' || run.phase === 'stopping' || run.phase === 'loading') ? (
          <span className="activity" data-testid="run-activity">
            {run.activity.message}
          </span>
        ) : null}
        {s ? (
          <span className="stats">
            epoch <b>{(lastStep?.epoch ?? 0) + 1}</b>/{s.config.epochs} · iteration <b data-testid="iteration">{it}</b>
            {totalIt ? `/${totalIt}` : ''} · projections <b data-testid="projection-count">{run.projections.length}</b>
            {lastStep ? ` · ${fmtNum(lastStep.imagesPerSec, 3)} img/s` : ''}
            {lastEpoch ? ` · test ${fmtPct(lastEpoch.testAccuracy)}` : ''}
            {elapsed !== null ? ` · ${fmtDuration(elapsed)}` : ''}
            {eta !== null ? ` · ≈ ${fmtDuration(eta)} left` : ''}
          </span>
        ) : !active && startHint ? (
          <span className="muted">{startHint}</span>
        ) : null}
      </div>
      {totalIt ? (
        <div className="bar" aria-hidden="true">
          <div className="fill" style={{ width: `${Math.min(100, (100 * it) / totalIt)}%` }} />
        </div>
      ) : null}
    </div>
  );
}
