import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export const REPO_ROOT: string;
export const OFFICIAL_URL: string;
export const DATASET_FILE: RegExp;
export const CSP: string;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
export function findDatasetDir(root?: string, env?: NodeJS.ProcessEnv): { dir: string | null; rule: string | null; tried: string[]; problem?: string };
export function datasetListing(root?: string, env?: NodeJS.ProcessEnv): unknown;
export function datasetMiddleware(root?: string): Middleware;
export function staticMiddleware(distDir: string): (req: IncomingMessage, res: ServerResponse) => void;
export function startServer(opts?: { port?: number; host?: string; root?: string }): Server;
