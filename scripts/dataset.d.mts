export const REPO_ROOT: string;
export const OFFICIAL_URL: string;
export const OFFICIAL_MD5: string;
export const ARCHIVE_NAME: string;
export const ARCHIVE_DIR: string;
export const ARCHIVE_MEMBERS: ReadonlySet<string>;
export const DATASET_FILE: RegExp;

export interface FoundDataset {
  dir: string | null;
  rule: string | null;
  tried: string[];
  problem?: string;
}
export function findDatasetDir(root?: string, env?: NodeJS.ProcessEnv): FoundDataset;
export function unpackCifarArchive(archive: string, dataDir: string): Promise<{ skipped: string[] }>;

export interface DownloadProgress {
  state?: 'downloading' | 'extracting';
  received?: number;
  total?: number | null;
  message?: string;
}
export interface DownloadOptions {
  url?: string;
  md5?: string;
  stallMs?: number;
  onProgress?: (patch: DownloadProgress) => void;
}
/** Rejects with an Error whose `offline` is true when the URL could not be reached at all. */
export function downloadCifar(dataDir: string, options?: DownloadOptions): Promise<{ dir: string; archive: string; skipped: string[] }>;
