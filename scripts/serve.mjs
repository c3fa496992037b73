#!/usr/bin/env node
// The playground's local server (`npm start`): serves the built page from dist/ and a CIFAR-10 folder
// at /api/dataset. The dataset part is also used by Vite's dev server (see vite.config.ts).
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createGunzip } from 'node:zlib';
import { dirname, extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** MD5 of the official cifar-10-binary.tar.gz, as published with it. */
export const OFFICIAL_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
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

/** The folder the archive unpacks to, and the only members it may have (besides that folder itself). */
export const ARCHIVE_DIR = 'cifar-10-batches-bin';
export const ARCHIVE_MEMBERS = new Set(['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin', 'readme.html']);
const REQUIRED_MEMBERS = [...ARCHIVE_MEMBERS].filter((m) => m.endsWith('.bin'));
/** Larger than any member of the official archive (30,730,000 bytes): a bound against a hostile archive. */
const MAX_MEMBER_BYTES = 64 << 20;

function md5OfFile(file) {
  return new Promise((ok, fail) => {
    const hash = createHash('md5');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('error', fail)
      .on('end', () => ok(hash.digest('hex')));
  });
}

const octal = (b) => {
  const t = b.toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(t) ? parseInt(t, 8) : NaN;
};

/**
 * Unpacks a verified cifar-10-binary.tar.gz into <dataDir>/cifar-10-batches-bin. Only the official
 * members (regular files ARCHIVE_DIR/<one of ARCHIVE_MEMBERS>) are written, each to a name from that
 * list — never to a path taken from the archive; anything else (another name, ../x, a link) is skipped
 * and reported. It unpacks into a temporary folder first, so a refused or broken archive leaves nothing
 * behind. Returns { skipped: member paths not unpacked }.
 */
export async function unpackCifarArchive(archive, dataDir) {
  const target = join(dataDir, ARCHIVE_DIR);
  const staging = mkdtempSync(join(dataDir, '.unpack-'));
  const seen = new Set();
  const skipped = [];
  const source = createReadStream(archive);
  const gunzip = createGunzip();
  source.on('error', (e) => gunzip.destroy(e));
  let file = null; // the member being written: { fh, remaining, padding }
  let skip = 0;
  let ended = false;
  let buf = Buffer.alloc(0);
  try {
    for await (const chunk of source.pipe(gunzip)) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        if (file) {
          const n = Math.min(file.remaining, buf.length - pos);
          if (n > 0) await file.fh.write(buf, pos, n);
          pos += n;
          file.remaining -= n;
          if (file.remaining > 0) break;
          await file.fh.close();
          skip = file.padding;
          file = null;
        }
        if (skip) {
          const n = Math.min(skip, buf.length - pos);
          pos += n;
          skip -= n;
          if (skip) break;
        }
        if (ended || buf.length - pos < 512) break;
        const header = buf.subarray(pos, pos + 512);
        pos += 512;
        if (header.every((b) => b === 0)) {
          ended = true;
          break;
        }
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
        if (sum !== octal(header.subarray(148, 156))) throw new Error(`${archive} is not a valid tar.gz archive (bad header checksum)`);
        const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
        // POSIX ustar has a name prefix at 345; old GNU headers ('ustar  ') keep other fields there.
        const prefix = header.subarray(257, 263).toString('latin1') === 'ustar\0' ? header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '') : '';
        const path = prefix ? `${prefix}/${name}` : name;
        const type = String.fromCharCode(header[156] || 48);
        const size = octal(header.subarray(124, 136));
        if (!(size >= 0)) throw new Error(`${archive} is not a valid tar.gz archive (bad size field for ${JSON.stringify(path)})`);
        const member = path.startsWith(`${ARCHIVE_DIR}/`) ? path.slice(ARCHIVE_DIR.length + 1) : null;
        if (type === '5' && (path === ARCHIVE_DIR || path === `${ARCHIVE_DIR}/`)) continue;
        if (type !== '0' || !member || !ARCHIVE_MEMBERS.has(member) || seen.has(member)) {
          skipped.push(path);
          // links, devices, folders and fifos carry no data whatever their size field says (POSIX)
          skip = '123456'.includes(type) ? 0 : size + ((512 - (size % 512)) % 512);
          continue;
        }
        if (size > MAX_MEMBER_BYTES) throw new Error(`${archive}: ${path} is ${size} bytes, larger than any CIFAR-10 file: refused, nothing was unpacked`);
        seen.add(member);
        file = { fh: await open(join(staging, member), 'wx'), remaining: size, padding: (512 - (size % 512)) % 512 };
      }
      buf = buf.subarray(pos);
      if (ended) break;
    }
    if (file || skip || (!ended && buf.length)) throw new Error(`${archive} is truncated: nothing was unpacked`);
    const absent = REQUIRED_MEMBERS.filter((m) => !seen.has(m));
    if (absent.length) throw new Error(`${archive} has no ${absent.map((m) => `${ARCHIVE_DIR}/${m}`).join(', ')}: nothing was unpacked`);
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, target);
    } catch (e) {
      if (e?.code === 'ENOTEMPTY' || e?.code === 'EEXIST') throw new Error(`${target} already exists: move it away to unpack the archive again`, { cause: e });
      throw e;
    }
    return { skipped };
  } catch (e) {
    await file?.fh.close().catch(() => {});
    rmSync(staging, { recursive: true, force: true });
    if (e?.code === 'Z_DATA_ERROR' || e?.code === 'Z_BUF_ERROR') throw new Error(`${archive} is not a complete gzip archive (${e.message}): nothing was unpacked`, { cause: e });
    throw e;
  } finally {
    source.destroy();
  }
}

/**
 * The one-time download of the archive into <root>/data: fetched to a .part file (progress in
 * state()), its MD5 checked against the official one — a mismatch removes it — then unpacked with
 * unpackCifarArchive. An archive already in ./data is checked, never removed.
 */
function createDownloader(root, url, md5, stallMs) {
  let state = IDLE;
  const set = (patch) => (state = { ...state, ...patch });
  async function run() {
    const dataDir = resolve(root, 'data');
    const part = join(dataDir, 'cifar-10-binary.tar.gz.part');
    const archive = join(dataDir, 'cifar-10-binary.tar.gz');
    state = { state: 'downloading', received: 0, total: null, message: `downloading ${url}` };
    try {
      mkdirSync(dataDir, { recursive: true });
      if (existsSync(archive)) {
        set({ state: 'extracting', message: `checking ${archive}` });
        const got = await md5OfFile(archive);
        if (got !== md5) throw new Error(`${archive} is not the official cifar-10-binary.tar.gz (MD5 ${got}, expected ${md5}): remove it and try again`);
      } else {
        // 30 s to answer, then at most stallMs (60 s) without data: no bound on the whole 162 MB download
        const abort = new AbortController();
        let timer = setTimeout(() => abort.abort(new Error('no answer within 30 s')), 30_000);
        let res;
        try {
          res = await fetch(url, { signal: abort.signal });
        } catch (e) {
          clearTimeout(timer);
          const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(e);
          throw new Error(
            `could not reach ${url} (${cause}): this machine seems to be offline. Download cifar-10-binary.tar.gz on another machine, then drop it on the page or unpack it into ${dataDir}`,
            { cause: e },
          );
        }
        const stall = () => {
          clearTimeout(timer);
          timer = setTimeout(() => abort.abort(new Error(`the download from ${url} stalled (no data for ${stallMs / 1000} s)`)), stallMs);
        };
        stall();
        let got;
        try {
          if (!res.ok || !res.body) throw new Error(`${url} answered HTTP ${res.status}`);
          set({ total: Number(res.headers.get('content-length')) || null });
          const hash = createHash('md5');
          const body = Readable.fromWeb(res.body);
          body.on('data', (chunk) => {
            stall();
            hash.update(chunk);
            set({ received: state.received + chunk.length });
          });
          await pipeline(body, createWriteStream(part)).catch((e) => {
            throw abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason : e;
          });
          got = hash.digest('hex');
        } finally {
          clearTimeout(timer);
        }
        if (got !== md5) {
          rmSync(part, { force: true });
          throw new Error(`${url} did not send the official cifar-10-binary.tar.gz (MD5 ${got}, expected ${md5}): the download was removed and nothing was unpacked`);
        }
        renameSync(part, archive);
      }
      set({ state: 'extracting', message: `unpacking ${archive}` });
      const { skipped } = await unpackCifarArchive(archive, dataDir);
      const note = skipped.length ? ` (skipped unexpected members: ${skipped.map((m) => JSON.stringify(m)).join(', ')})` : '';
      set({ state: 'done', message: `CIFAR-10 is in ${join(dataDir, ARCHIVE_DIR)}${note}` });
    } catch (e) {
      rmSync(part, { force: true });
      set({ state: 'error', message: e instanceof Error ? e.message : String(e) });
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
