#!/usr/bin/env node
// The playground's local server (`npm start`): serves the built page from dist/ and a CIFAR-10 folder
// at /api/dataset. The dataset part is also used by Vite's dev server (see vite.config.ts).
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARCHIVE_NAME, DATASET_FILE, downloadCifar, findDatasetDir, OFFICIAL_MD5, OFFICIAL_URL, REPO_ROOT } from './dataset.mjs';

// Where the data is and the download itself live in dataset.mjs (shared with the system check).
export { ARCHIVE_DIR, ARCHIVE_MEMBERS, DATASET_FILE, findDatasetDir, OFFICIAL_MD5, OFFICIAL_URL, REPO_ROOT, unpackCifarArchive } from './dataset.mjs';

/**
 * The Content-Security-Policy of the page: no 'unsafe-eval' (the engine compiles its WebAssembly
 * linear-algebra kernels at run time, which needs only 'wasm-unsafe-eval').
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The dataset listing sent to the page: folder, rule, files with sizes, download state. */
export function datasetListing(root = REPO_ROOT, env = process.env, download = IDLE) {
  const found = findDatasetDir(root, env);
  const base = { source: found.dir, rule: found.rule, tried: found.tried, problem: found.problem ?? null, download };
  if (!found.dir) return { ...base, files: [] };
  const files = readdirSync(found.dir)
    .filter((name) => DATASET_FILE.test(name))
    .sort()
    .map((name) => ({ name, size: statSync(join(found.dir, name)).size }));
  return { ...base, files, problem: files.some((f) => f.name.endsWith('.bin')) ? null : `${found.dir} has no data_batch_*.bin / test_batch.bin files` };
}

// ---- optional one-time download of the official archive into ./data --------------------------------

const IDLE = Object.freeze({ state: 'idle', received: 0, total: null, message: null });

/**
 * The page's one-time download of the archive into <root>/data (downloadCifar, scripts/dataset.mjs),
 * with its progress as state() for GET /api/dataset/download.
 */
function createDownloader(root, url, md5, stallMs) {
  let state = IDLE;
  const set = (patch) => (state = { ...state, ...patch });
  async function run() {
    const dataDir = resolve(root, 'data');
    state = { state: 'downloading', received: 0, total: null, message: `downloading ${url}` };
    try {
      const { dir, skipped } = await downloadCifar(dataDir, { url, md5, stallMs, onProgress: set });
      const note = skipped.length ? ` (skipped unexpected members: ${skipped.map((m) => JSON.stringify(m)).join(', ')})` : '';
      set({ state: 'done', message: `CIFAR-10 is in ${dir}${note}` });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const advice = e?.offline ? `. Download ${ARCHIVE_NAME} on another machine, then drop it on the page or unpack it into ${dataDir}` : '';
      set({ state: 'error', message: `${message}${advice}` });
    }
  }
  return {
    state: () => state,
    start() {
      if (state.state !== 'downloading' && state.state !== 'extracting') void run();
    },
  };
}

// ---- who may talk to the server ---------------------------------------------------------------------

/**
 * The Host values this server answers to: 127.0.0.1, localhost, [::1] and the address the connection
 * came in on, each with the connection's port. Any other Host means the browser was pointed at us
 * under a foreign name (DNS rebinding), and that page must not read the listing (it holds local paths).
 */
export function ownHosts(req) {
  const port = req.socket.localPort;
  let local = req.socket.localAddress ?? '127.0.0.1';
  if (local.startsWith('::ffff:')) local = local.slice(7);
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', local.includes(':') ? `[${local}]` : local]);
  const hosts = [...names].map((n) => `${n}:${port}`);
  if (port === 80) hosts.push(...names);
  return hosts;
}

export function isOwnHost(req) {
  return ownHosts(req).includes((req.headers.host ?? '').toLowerCase());
}

/** A state-changing request must come from the page itself: its Origin is this server's. */
export function isOwnOrigin(req) {
  const origin = (req.headers.origin ?? '').toLowerCase();
  return isOwnHost(req) && origin === `http://${(req.headers.host ?? '').toLowerCase()}`;
}

function forbid(res, why) {
  sendJson(res, 403, { error: why });
}

// ---- HTTP ------------------------------------------------------------------------------------------

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends a file, honouring a single `Range: bytes=a-b` (the page loads only the records it needs). */
function sendFile(req, res, file, type, extraHeaders = {}) {
  const size = statSync(file).size;
  const headers = { 'content-type': type, 'accept-ranges': 'bytes', ...extraHeaders };
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (m && (m[1] || m[2])) {
    if (m[1]) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    } else {
      start = Math.max(0, size - Number(m[2]));
    }
    if (start > end || start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['content-length'] = end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file, { start, end }).pipe(res);
}

/**
 * Connect-style middleware for /api/dataset:
 *   GET  /api/dataset            listing (folder, how it was found, files and sizes, download state)
 *   GET  /api/dataset/<file>     one file of the folder (Range requests supported)
 *   POST /api/dataset/download   fetch the archive once into ./data (needs the internet); only from the page's own Origin
 *   GET  /api/dataset/download   progress of that download
 * Requests whose Host is not this server's get 403. options.url: where to download from ($CIFAR10_URL,
 * else the official URL); options.md5: the archive's MD5, options.stallMs: how long the download may go
 * without data (tests only).
 */
export function datasetMiddleware(root = REPO_ROOT, { env = process.env, url = env.CIFAR10_URL || OFFICIAL_URL, md5 = OFFICIAL_MD5, stallMs = 60_000 } = {}) {
  const downloader = createDownloader(root, url, md5, stallMs);
  return (req, res, next) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    if (u.pathname !== '/api/dataset' && !u.pathname.startsWith('/api/dataset/')) return next();
    if (!isOwnHost(req)) return forbid(res, `Host ${JSON.stringify(req.headers.host ?? '')} is not this server`);
    if (u.pathname === '/api/dataset') return sendJson(res, 200, datasetListing(root, env, downloader.state()));
    if (u.pathname === '/api/dataset/download') {
      if (req.method === 'POST') {
        if (!isOwnOrigin(req)) return forbid(res, 'the download can only be started from the playground page itself');
        downloader.start();
        return sendJson(res, 202, downloader.state());
      }
      return sendJson(res, 200, downloader.state());
    }
    const name = decodeURIComponent(u.pathname.slice('/api/dataset/'.length));
    if (!DATASET_FILE.test(name)) return sendJson(res, 404, { error: `not a CIFAR-10 file name: ${name}` });
    const found = findDatasetDir(root, env);
    const file = found.dir ? join(found.dir, name) : null;
    if (!file || !existsSync(file)) return sendJson(res, 404, { error: `${name} is not in the dataset folder` });
    sendFile(req, res, file, 'application/octet-stream', { 'cache-control': 'no-cache' });
  };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Serves dist/ (index.html for unknown paths) with the CSP and no directory traversal. */
export function staticMiddleware(distDir) {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    let file = resolve(distDir, path);
    if (relative(distDir, file).startsWith('..') || (file !== distDir && !file.startsWith(distDir + sep))) {
      res.writeHead(403);
      res.end();
      return;
    }
    if (!existsSync(file) || statSync(file).isDirectory()) {
      path = 'index.html';
      file = join(distDir, path);
    }
    const security = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
    const cache = path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    sendFile(req, res, file, TYPES[extname(file)] ?? 'application/octet-stream', { ...security, 'cache-control': cache });
  };
}

/** The `npm start` server (not listening yet): dist/ and /api/dataset, only for its own Host. */
export function createAppServer(root = REPO_ROOT, datasetOptions = {}) {
  const api = datasetMiddleware(root, datasetOptions);
  const files = staticMiddleware(resolve(root, 'dist'));
  return createServer((req, res) => {
    if (!isOwnHost(req)) return forbid(res, `Host ${JSON.stringify(req.headers.host ?? '')} is not this server`);
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && req.url === '/api/dataset/download')) {
      res.writeHead(405);
      res.end();
      return;
    }
    api(req, res, () => files(req, res));
  });
}

export function startServer({ port = Number(process.env.PORT) || 5173, host = process.env.HOST || '127.0.0.1', root = REPO_ROOT } = {}) {
  const distDir = resolve(root, 'dist');
  if (!existsSync(join(distDir, 'index.html'))) {
    console.error(`error: ${distDir}/index.html is missing — run \`npm start\` (it builds first) or \`npx vite build\``);
    process.exit(1);
  }
  const server = createAppServer(root);
  server.on('error', (e) => {
    console.error(e.code === 'EADDRINUSE' ? `error: port ${port} is in use — set PORT to another one, e.g. PORT=5180 npm start` : `error: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const listing = datasetListing(root);
    console.log(`LRPET playground: http://${host}:${port}/`);
    if (listing.source && !listing.problem) {
      const mb = listing.files.reduce((s, f) => s + f.size, 0) / 1e6;
      console.log(`CIFAR-10: ${listing.source} (${listing.rule}, ${listing.files.length} files, ${mb.toFixed(0)} MB)`);
    } else {
      console.log(`CIFAR-10: ${listing.problem ?? 'not found'} (looked in ${listing.tried.join(', ')}); the page can also read cifar-10-binary.tar.gz you drop on it`);
    }
  });
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) startServer();
