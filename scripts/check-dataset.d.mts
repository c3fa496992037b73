import type { FoundDataset } from './dataset.mjs';

export const REQUIRED_FILES: string[];

export interface DatasetFacts {
  found: FoundDataset;
  /** Size of each required file in the folder found (null: missing); null when no folder was found. */
  files: Record<string, number | null> | null;
  dataDir: string;
  /** <dataDir>/cifar-10-binary.tar.gz when it is there. */
  archive: string | null;
  /** $CIFAR10_DIR is set. */
  fromEnv: boolean;
}
export type DatasetPlan =
  | { action: 'ok'; dir: string; rule: string }
  | { action: 'download'; dataDir: string; doing: string; would: string }
  | { action: 'stop'; message: string };
export interface Source {
  url?: string;
  md5?: string;
}

export function planDataset(facts: DatasetFacts, source?: Source): DatasetPlan;
export function fetchFailedMessage(cause: string, where: { dataDir: string; tried: string[] }, source?: Source): string;
export function inspectDataset(root?: string, env?: NodeJS.ProcessEnv): DatasetFacts;
export function ensureDataset(options?: {
  root?: string;
  env?: NodeJS.ProcessEnv;
  url?: string;
  md5?: string;
  stallMs?: number;
  dryRun?: boolean;
  log?: (line: string) => void;
}): Promise<{ ok: true; line: string } | { ok: false; message: string }>;
export function checkDataset(options?: { dryRun?: boolean }): Promise<number>;
