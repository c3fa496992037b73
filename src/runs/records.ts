import type { RunConfig } from '../engine/config';
import type { EngineEvent } from '../engine/events';
import type { RunSummary } from './summary';

export type RunStatus = 'running' | 'paused' | 'interrupted' | 'stopped' | 'finished' | 'failed' | 'imported';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'paused', 'interrupted', 'stopped', 'finished', 'failed', 'imported'];

/** Where a run came from: trained in this browser, imported from a run file (.zip) or from a JSON-lines log. */
export type RunSource = 'browser' | 'file' | 'jsonl';
export const RUN_SOURCES: readonly RunSource[] = ['browser', 'file', 'jsonl'];

/** The ablation batch a run belongs to (null for a run of its own). */
export interface RunBatch {
  id: string;
  /** The arm's label as the page showed it ('LRPET', 'No energy transfer', …). */
  label: string;
  /** The arm (ui/state/ablations.ts AblationId); absent in runs stored before batches said it. */
  arm?: string;
  /** This run's seed, and how many seeds each arm of the batch runs. */
  seed?: number;
  seeds?: number;
  /** Where the run's data came from, as the page knew it (the local folder's path, or the files picked). */
  data?: string;
}

/** Why a checkpoint was taken: at the start, after enough training time or a projection, at a pause, at a stop, as the page went away; 'manual' only in tests and imports. */
export type CheckpointReason = 'start' | 'interval' | 'projection' | 'pause' | 'stop' | 'pagehide' | 'manual';

export interface CheckpointMeta {
  iteration: number;
  epoch: number;
  /** How many events of the run's log precede the checkpoint (a resume cuts the log there). */
  eventCount: number;
  time: number;
  reason: CheckpointReason;
  bytes: number;
  /** Which of the run's two slots holds it (absent: slot 0, a checkpoint stored before there were two). */
  slot?: 0 | 1;
}

export interface RunRecord {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  status: RunStatus;
  source: RunSource;
  batch: RunBatch | null;
  config: RunConfig | null;
  backend: string | null;
  eventCount: number;
  summary: RunSummary;
  /** The latest checkpoint, what a resume continues from. */
  checkpoint: CheckpointMeta | null;
  /**
   * The one before it, kept in the other slot: a new checkpoint overwrites this one, never the latest,
   * so a write that fails or is cut short (the tab closed, the browser crashed) leaves the latest whole.
   * Absent in records stored before there were two.
   */
  previousCheckpoint?: CheckpointMeta | null;
  hasModel: boolean;
  /** Approximate space the run takes in the database: events (as JSON) + checkpoints + model. */
  bytes: number;
}

/** What updateRun may change; counts, sizes and the summary follow from the stored data. */
export type RunPatch = Partial<Pick<RunRecord, 'name' | 'status' | 'batch' | 'config' | 'backend'>>;

/** The status an appended event implies, if any. */
export function statusAfter(e: EngineEvent): RunStatus | null {
  if (e.type === 'runStart') return 'running';
  if (e.type === 'state') return e.state;
  return null;
}
