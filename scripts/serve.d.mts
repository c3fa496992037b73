import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export { ARCHIVE_DIR, ARCHIVE_MEMBERS, DATASET_FILE, findDatasetDir, OFFICIAL_MD5, OFFICIAL_URL, REPO_ROOT, unpackCifarArchive } from './dataset.mjs';
export const CSP: string;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
export interface DatasetOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the one-time download fetches the archive from (default $CIFAR10_URL, else OFFICIAL_URL). */
  url?: string;
  /** The MD5 the archive must have (default OFFICIAL_MD5). */
  md5?: string;
  /** How long the download may go without data before it fails (default 60 s). */
  stallMs?: number;
}
export function datasetListing(root?: string, env?: NodeJS.ProcessEnv): unknown;
export function datasetMiddleware(root?: string, options?: DatasetOptions): Middleware;
export function staticMiddleware(distDir: string): (req: IncomingMessage, res: ServerResponse) => void;
export function ownHosts(req: IncomingMessage): string[];
export function isOwnHost(req: IncomingMessage): boolean;
export function isOwnOrigin(req: IncomingMessage): boolean;
export function createAppServer(root?: string, datasetOptions?: DatasetOptions): Server;
export function startServer(opts?: { port?: number; host?: string; root?: string }): Server;
