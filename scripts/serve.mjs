#!/usr/bin/env node
// The playground's local server (`npm start`): serves the built page from dist/ and a CIFAR-10 folder
// at /api/dataset. The dataset part is also used by Vite's dev server (see vite.config.ts).
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const DATASET_FILE = /^(data_batch_[1-9]\d*\.bin|test_batch\.bin|batches\.meta\.txt)$/;

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

/**
 * Where the CIFAR-10 binary batches are, in this order: $CIFAR10_DIR, ./data/cifar-10-batches-bin,
 * ../shared/datasets/cifar10/cifar-10-batches-bin (both relative to the repository root).
 * Returns { dir, rule } or { dir: null, tried, problem }.
 */
export function findDatasetDir(root = REPO_ROOT, env = process.env) {
  const isDir = (d) => existsSync(d) && statSync(d).isDirectory();
  if (env.CIFAR10_DIR) {
    const dir = resolve(env.CIFAR10_DIR);
    if (isDir(dir)) return { dir, rule: '$CIFAR10_DIR', tried: [dir] };
    return { dir: null, rule: null, tried: [dir], problem: `$CIFAR10_DIR is set to ${dir}, which is not a folder` };
  }
  const tried = [];
  for (const [rel, rule] of [
    ['data/cifar-10-batches-bin', './data'],
    ['../shared/datasets/cifar10/cifar-10-batches-bin', '../shared'],
  ]) {
    const dir = resolve(root, rel);
    tried.push(dir);
    if (isDir(dir)) return { dir, rule, tried };
  }
  return { dir: null, rule: null, tried, problem: 'no CIFAR-10 folder found' };
}

/** The dataset listing sent to the page: folder, rule, files with sizes, download state. */
export function datasetListing(root = REPO_ROOT, env = process.env) {
  const found = findDatasetDir(root, env);
  const base = { source: found.dir, rule: found.rule, tried: found.tried, problem: found.problem ?? null, download: downloadState };
  if (!found.dir) return { ...base, files: [] };
  const files = readdirSync(found.dir)
    .filter((name) => DATASET_FILE.test(name))
    .sort()
    .map((name) => ({ name, size: statSync(join(found.dir, name)).size }));
  return { ...base, files, problem: files.some((f) => f.name.endsWith('.bin')) ? null : `${found.dir} has no data_batch_*.bin / test_batch.bin files` };
}

// ---- optional one-time download of the official archive into ./data --------------------------------

let downloadState = { state: 'idle', received: 0, total: null, message: null };

async function downloadOfficial(root) {
  const dataDir = resolve(root, 'data');
  const part = join(dataDir, 'cifar-10-binary.tar.gz.part');
  const archive = join(dataDir, 'cifar-10-binary.tar.gz');
  downloadState = { state: 'downloading', received: 0, total: null, message: `downloading ${OFFICIAL_URL}` };
  try {
    mkdirSync(dataDir, { recursive: true });
    if (!existsSync(archive)) {
      let res;
      try {
        res = await fetch(OFFICIAL_URL, { signal: AbortSignal.timeout(30_000) });
      } catch (e) {
        const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(e);
        throw new Error(
          `could not reach ${OFFICIAL_URL} (${cause}): this machine seems to be offline. Download cifar-10-binary.tar.gz on another machine, then drop it on the page or unpack it into ${dataDir}`,
          { cause: e },
        );
      }
      if (!res.ok || !res.body) throw new Error(`${OFFICIAL_URL} answered HTTP ${res.status}`);
      const total = Number(res.headers.get('content-length')) || null;
      downloadState = { ...downloadState, total };
      const body = Readable.fromWeb(res.body);
      body.on('data', (chunk) => (downloadState = { ...downloadState, received: downloadState.received + chunk.length }));
      await pipeline(body, createWriteStream(part));
      renameSync(part, archive);
    }
    downloadState = { ...downloadState, state: 'extracting', message: `unpacking ${archive}` };
    await new Promise((ok, fail) => {
      const p = spawn('tar', ['xzf', archive, '-C', dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('error', (e) => fail(new Error(`could not run tar to unpack ${archive}: ${e.message}`)));
      p.on('close', (code) => (code === 0 ? ok() : fail(new Error(`tar failed to unpack ${archive}: ${err.trim() || `exit ${code}`}`))));
    });
    if (!existsSync(join(dataDir, 'cifar-10-batches-bin', 'test_batch.bin'))) throw new Error(`${archive} did not contain cifar-10-batches-bin/test_batch.bin`);
    downloadState = { ...downloadState, state: 'done', message: `CIFAR-10 is in ${join(dataDir, 'cifar-10-batches-bin')}` };
  } catch (e) {
    rmSync(part, { force: true });
    downloadState = { ...downloadState, state: 'error', message: e instanceof Error ? e.message : String(e) };
  }
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
 *   POST /api/dataset/download   fetch the official archive once into ./data (needs the internet)
 *   GET  /api/dataset/download   progress of that download
 */
export function datasetMiddleware(root = REPO_ROOT) {
  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/dataset' && !url.pathname.startsWith('/api/dataset/')) return next();
    if (url.pathname === '/api/dataset') return sendJson(res, 200, datasetListing(root));
    if (url.pathname === '/api/dataset/download') {
      if (req.method === 'POST') {
        if (downloadState.state !== 'downloading' && downloadState.state !== 'extracting') void downloadOfficial(root);
        return sendJson(res, 202, downloadState);
      }
      return sendJson(res, 200, downloadState);
    }
    const name = decodeURIComponent(url.pathname.slice('/api/dataset/'.length));
    if (!DATASET_FILE.test(name)) return sendJson(res, 404, { error: `not a CIFAR-10 file name: ${name}` });
    const found = findDatasetDir(root);
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

export function startServer({ port = Number(process.env.PORT) || 5173, host = process.env.HOST || '127.0.0.1', root = REPO_ROOT } = {}) {
  const distDir = resolve(root, 'dist');
  if (!existsSync(join(distDir, 'index.html'))) {
    console.error(`error: ${distDir}/index.html is missing — run \`npm start\` (it builds first) or \`npx vite build\``);
    process.exit(1);
  }
  const api = datasetMiddleware(root);
  const files = staticMiddleware(distDir);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !(req.method === 'POST' && req.url === '/api/dataset/download')) {
      res.writeHead(405);
      res.end();
      return;
    }
    api(req, res, () => files(req, res));
  });
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
