// CIFAR-10 on this machine: where it is (findDatasetDir), and the one-time download of the official
// archive into ./data — fetched, MD5-checked, and unpacked member by member (downloadCifar,
// unpackCifarArchive). One code path for the local server (scripts/serve.mjs: the page's "download"
// button) and the system check (scripts/check-system.mjs: `npm test` on a fresh machine). Plain Node,
// no node_modules: the system check runs before `npm ci`.
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** MD5 of the official cifar-10-binary.tar.gz, as published with it. */
export const OFFICIAL_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** The archive's name in ./data (where the download puts it, and where a copy brought by hand is found). */
export const ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
/** The files a CIFAR-10 folder may hold that the playground reads. */
export const DATASET_FILE = /^(data_batch_[1-9]\d*\.bin|test_batch\.bin|batches\.meta\.txt)$/;

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

// ---- the one-time download of the official archive into ./data ------------------------------------

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
 * The one-time download of the official archive into `dataDir` (created if needed): fetched to a
 * .part file, its MD5 checked against `md5` — a mismatch removes it — then unpacked with
 * unpackCifarArchive into <dataDir>/cifar-10-batches-bin. An archive already in `dataDir` is checked
 * (never removed) and unpacked without any download. The server may take 30 s to answer, then at most
 * `stallMs` without data: no bound on the whole 163 MB download.
 *
 * onProgress gets patches of { state: 'downloading' | 'extracting', received, total, message }.
 * Resolves to { dir, archive, skipped }; rejects with an Error saying what went wrong, whose `offline`
 * is true when `url` could not be reached at all (the caller adds where to put the archive instead).
 */
export async function downloadCifar(dataDir, { url = OFFICIAL_URL, md5 = OFFICIAL_MD5, stallMs = 60_000, onProgress = () => {} } = {}) {
  const part = join(dataDir, `${ARCHIVE_NAME}.part`);
  const archive = join(dataDir, ARCHIVE_NAME);
  try {
    mkdirSync(dataDir, { recursive: true });
    if (existsSync(archive)) {
      onProgress({ state: 'extracting', message: `checking ${archive}` });
      const got = await md5OfFile(archive);
      if (got !== md5) throw new Error(`${archive} is not the official ${ARCHIVE_NAME} (MD5 ${got}, expected ${md5}): remove it and try again`);
    } else {
      await fetchChecked(url, md5, part, stallMs, onProgress);
      renameSync(part, archive);
    }
    onProgress({ state: 'extracting', message: `unpacking ${archive}` });
    const { skipped } = await unpackCifarArchive(archive, dataDir);
    return { dir: join(dataDir, ARCHIVE_DIR), archive, skipped };
  } catch (e) {
    rmSync(part, { force: true });
    throw e;
  }
}

/** Streams `url` into `part`, hashing as it goes; throws (removing `part`) unless its MD5 is `md5`. */
async function fetchChecked(url, md5, part, stallMs, onProgress) {
  onProgress({ state: 'downloading', received: 0, total: null, message: `downloading ${url}` });
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(new Error('no answer within 30 s')), 30_000);
  let res;
  try {
    res = await fetch(url, { signal: abort.signal });
  } catch (e) {
    clearTimeout(timer);
    const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(e);
    throw Object.assign(new Error(`could not reach ${url} (${cause}): this machine seems to be offline`, { cause: e }), { offline: true });
  }
  const stall = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`the download from ${url} stalled (no data for ${stallMs / 1000} s)`)), stallMs);
  };
  stall();
  let got;
  try {
    if (!res.ok || !res.body) throw new Error(`${url} answered HTTP ${res.status}`);
    onProgress({ total: Number(res.headers.get('content-length')) || null });
    const hash = createHash('md5');
    const body = Readable.fromWeb(res.body);
    let received = 0;
    body.on('data', (chunk) => {
      stall();
      hash.update(chunk);
      received += chunk.length;
      onProgress({ received });
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
    throw new Error(`${url} did not send the official ${ARCHIVE_NAME} (MD5 ${got}, expected ${md5}): the download was removed and nothing was unpacked`);
  }
}
