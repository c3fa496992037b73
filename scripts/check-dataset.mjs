// The system check's data part (scripts/check-system.mjs runs it after the packages): is CIFAR-10
// where the tests look for it ($CIFAR10_DIR, ./data/cifar-10-batches-bin,
// ../shared/datasets/cifar10/cifar-10-batches-bin)? If not, it fetches the official archive once into
// ./data with the local server's MD5-checked download and restricted unpack (scripts/dataset.mjs), or —
// when that fails, e.g. offline — stops at once saying what to put where. Plain Node, no node_modules.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ARCHIVE_DIR, ARCHIVE_NAME, downloadCifar, findDatasetDir, OFFICIAL_MD5, OFFICIAL_URL, REPO_ROOT } from './dataset.mjs';

/** The files the tests read: all five training batches and the test batch. */
export const REQUIRED_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
const RECORD_BYTES = 3073;
/** The official archive's size in MB, for messages. */
const ARCHIVE_MB = 163;

// ---- pure parts (unit-tested in src/node/system-check.test.ts) -------------------------------------

/**
 * The decision, from inspectDataset's facts:
 *   { action: 'ok', dir, rule }
 *   { action: 'download', dataDir, doing, would }   (doing / would: what it does, what it would do)
 *   { action: 'stop', message }                      (message: what is wrong and what to put where)
 */
export function planDataset(facts, { url = OFFICIAL_URL, md5 = OFFICIAL_MD5 } = {}) {
  const { found, files, dataDir } = facts;
  if (found.dir) {
    const bad = REQUIRED_FILES.filter((n) => !(files[n] > 0 && files[n] % RECORD_BYTES === 0));
    if (bad.length === 0) return { action: 'ok', dir: found.dir, rule: found.rule };
    const what = bad.map((n) => (files[n] === null ? `${n} is missing` : `${n} is ${files[n]} bytes, not a whole number of ${RECORD_BYTES}-byte records`)).join('; ');
    return { action: 'stop', message: `npm test: the CIFAR-10 folder ${found.dir} (${found.rule}) is incomplete: ${what}.\nReplace its files with those of the official ${ARCHIVE_NAME} (${url}, MD5 ${md5}), or ${elsewhere(found.rule)}` };
  }
  if (facts.fromEnv) {
    return { action: 'stop', message: `npm test: ${found.problem}.\nPoint CIFAR10_DIR at the folder that holds ${REQUIRED_FILES.join(', ')}, or unset it: then ${join(dataDir, ARCHIVE_DIR)} is used (this check downloads CIFAR-10 there when it is missing).` };
  }
  const target = join(dataDir, ARCHIVE_DIR);
  if (facts.archive) {
    return {
      action: 'download',
      dataDir,
      doing: `CIFAR-10 is not unpacked yet: checking ${facts.archive} (its MD5 must be ${md5}) and unpacking it into ${target}`,
      would: `CIFAR-10 is not unpacked yet: would check ${facts.archive} (its MD5 must be ${md5}) and unpack it into ${target}`,
    };
  }
  const tried = found.tried.join(', ');
  return {
    action: 'download',
    dataDir,
    doing: `CIFAR-10 is in none of ${tried}: downloading ${url} (${ARCHIVE_MB} MB, once) into ${dataDir}, checking its MD5 (${md5}) and unpacking it into ${target}`,
    would: `CIFAR-10 is in none of ${tried}: would download ${url} (${ARCHIVE_MB} MB) into ${dataDir}, check its MD5 (${md5}) and unpack it into ${target}`,
  };
}

function elsewhere(rule) {
  return rule === '$CIFAR10_DIR' ? 'point CIFAR10_DIR at a complete copy' : 'set CIFAR10_DIR to a folder with a complete copy';
}

/** The stop message when fetching failed (`cause`: why), saying exactly what to put where. */
export function fetchFailedMessage(cause, { dataDir, tried }, { url = OFFICIAL_URL, md5 = OFFICIAL_MD5 } = {}) {
  return [
    `npm test: CIFAR-10 is missing (looked in ${tried.join(', ')}) and could not be fetched: ${cause}.`,
    'Put it in place by hand, then run npm test again — any one of:',
    `  - copy the official ${ARCHIVE_NAME} (${url}, MD5 ${md5}) to ${join(dataDir, ARCHIVE_NAME)}: the next run checks and unpacks it`,
    `  - unpack it so that ${join(dataDir, ARCHIVE_DIR)}/ holds ${REQUIRED_FILES.join(', ')}`,
    '  - set CIFAR10_DIR to a folder that holds those six files',
  ].join('\n');
}

// ---- what is on this machine, and doing it ---------------------------------------------------------

function fileSize(path) {
  try {
    const s = statSync(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/** { found: findDatasetDir(...), files: { name: size | null } | null, dataDir, archive: path | null, fromEnv }. */
export function inspectDataset(root = REPO_ROOT, env = process.env) {
  const found = findDatasetDir(root, env);
  const dataDir = resolve(root, 'data');
  const archive = join(dataDir, ARCHIVE_NAME);
  return {
    found,
    files: found.dir ? Object.fromEntries(REQUIRED_FILES.map((n) => [n, fileSize(join(found.dir, n))])) : null,
    dataDir,
    archive: fileSize(archive) !== null ? archive : null,
    fromEnv: Boolean(env.CIFAR10_DIR),
  };
}

/** Logs the download's progress every 10 % (or every 16 MB when the size is not known). */
function progressLogger(log) {
  let total = null;
  let next = 0;
  return (p) => {
    if (p.state === 'extracting') log(`system check: ${p.message}`);
    if (p.total !== undefined) total = p.total;
    if (p.received === undefined || p.received < next) return;
    const mb = (b) => (b / 1e6).toFixed(0);
    if (p.received > 0) log(`system check: downloaded ${mb(p.received)}${total ? ` of ${mb(total)}` : ''} MB`);
    next = p.received + (total ? total / 10 : 16e6);
  };
}

/**
 * Makes sure CIFAR-10 is there (see the top of this file). Resolves to { ok: true, line } (line: what
 * was found, for the summary) or { ok: false, message } (the stop message). dryRun: say what it would
 * do, change nothing. url / md5 / stallMs: where from and what MD5 (tests; url defaults to
 * $CIFAR10_URL, as the server's).
 */
export async function ensureDataset({ root = REPO_ROOT, env = process.env, url = env.CIFAR10_URL || OFFICIAL_URL, md5 = OFFICIAL_MD5, stallMs, dryRun = false, log = (line) => console.error(line) } = {}) {
  const facts = inspectDataset(root, env);
  const plan = planDataset(facts, { url, md5 });
  if (plan.action === 'ok') return { ok: true, line: `CIFAR-10 in ${plan.dir} (${plan.rule})` };
  if (plan.action === 'stop') return { ok: false, message: plan.message };
  if (dryRun) {
    log(`system check: ${plan.would}`);
    return { ok: true, line: 'CIFAR-10 would be fetched (dry run)' };
  }
  log(`system check: ${plan.doing}`);
  try {
    await downloadCifar(plan.dataDir, { url, md5, stallMs, onProgress: progressLogger(log) });
  } catch (e) {
    return { ok: false, message: fetchFailedMessage(e instanceof Error ? e.message : String(e), { dataDir: plan.dataDir, tried: facts.found.tried }, { url, md5 }) };
  }
  const after = planDataset(inspectDataset(root, env), { url, md5 });
  if (after.action === 'ok') return { ok: true, line: `CIFAR-10 in ${after.dir} (${after.rule}, just unpacked)` };
  return { ok: false, message: after.message ?? `npm test: CIFAR-10 was unpacked into ${plan.dataDir}, but the tests would not find it there` };
}

/** The system check's data step: prints and returns the exit status. */
export async function checkDataset({ dryRun = false } = {}) {
  const r = await ensureDataset({ dryRun });
  if (!r.ok) {
    console.error(r.message);
    return 1;
  }
  console.log(`system check: ${r.line}`);
  return 0;
}
