import type { BackendState } from '../session/run-session';
import { fmtDuration, fmtNum } from '../state/format';
import './header.css';

const NAMES = { webgpu: 'WebGPU', webgl: 'WebGL', cpu: 'CPU' } as const;

export function BackendNotice({
  backend,
  estimate,
  runSeconds,
  onRetry,
  canSwitch,
}: {
  backend: BackendState;
  estimate: number | null;
  runSeconds: number | null;
  onRetry: (p: 'auto' | 'webgl' | 'cpu') => void;
  canSwitch: boolean;
}) {
  if (backend.status === 'starting') return <div className="backend starting" role="status">Starting the training worker and its GPU backend…</div>;
  if (backend.status === 'failed')
    return (
      <div className="backend bad" role="alert">
        No tfjs backend could start: {backend.message}{' '}
        <button type="button" className="link" onClick={() => onRetry('cpu')}>
          try the CPU backend
        </button>
      </div>
    );
  const b = backend.info;
  return (
    <div className={`backend ${b.software ? 'soft' : 'hw'}`} role="status" data-testid="backend-notice">
      <span className="pill" data-testid="backend-name">
        {NAMES[b.backend]}
      </span>
      {b.software && b.backend !== 'cpu' ? <span className="pill warn">software, no GPU</span> : null}
      {b.kernels === 'fast' ? (
        <span
          className="pill light"
          title={`this project's faster ${b.backend === 'cpu' ? 'CPU kernel for the convolutions\' filter gradient' : 'WGSL kernels for the training step'} (?kernels=stock for tfjs's own)`}
        >
          fast kernels
        </span>
      ) : null}
      <span className="reason" data-testid="backend-reason">
        {b.reason}
        {b.device ? <span className="muted"> ({b.device})</span> : null}
      </span>
      {b.software ? (
        <span className="estimate" data-testid="speed-estimate">
          {estimate !== null
            ? `Expect roughly ${fmtNum(estimate, 2)} images/s for this model${runSeconds !== null ? ` — this configuration ≈ ${fmtDuration(runSeconds)}` : ''}; a real GPU is 100–1000× faster.`
            : 'Expect it to be slow.'}{' '}
          {b.backend === 'webgpu' && canSwitch ? (
            <button type="button" className="link" onClick={() => onRetry('webgl')}>
              Use WebGL instead (often faster on a software renderer)
            </button>
          ) : null}
        </span>
      ) : null}
    </div>
  );
}
