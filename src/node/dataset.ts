import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, parseCifarFiles, type CifarDataset } from '../engine/data/cifar';
import { findDatasetDir as lookUpDataset } from '../../scripts/dataset.mjs';

/** The repository root (two folders above this file). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the CIFAR-10 binary batches are: the explicit folder, else the lookup the local server and the
 * system check use (scripts/dataset.mjs: $CIFAR10_DIR, ./data/cifar-10-batches-bin,
 * ../shared/datasets/cifar10/cifar-10-batches-bin), from the working directory, then from the
 * repository root. Throws a DataError saying what to do.
 */
export function findDatasetDir(explicit?: string): string {
  if (explicit) {
    const dir = resolve(explicit);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`dataset folder ${dir} does not exist`);
    return dir;
  }
  const tried: string[] = [];
  for (const root of new Set([process.cwd(), REPO_ROOT])) {
    const found = lookUpDataset(root);
    if (found.dir) return found.dir;
    if (process.env.CIFAR10_DIR) throw new DataError(`${found.problem}`);
    tried.push(...found.tried.filter((d) => !tried.includes(d)));
  }
  throw new DataError(
    `no CIFAR-10 data found (looked in: ${tried.join(', ')}). Download the official cifar-10-binary.tar.gz, unpack it into ./data (giving ./data/cifar-10-batches-bin), or pass --data DIR / set $CIFAR10_DIR`,
  );
}

const RECORD_BYTES = 3073;

/**
 * Reads the folder's data_batch_*.bin and test_batch.bin and parses them (sizes validated). With a
 * training limit only the training files that hold its first `trainLimit` images are read (a run takes the
 * first N, as the page's worker loads them): a short run does not read and parse 150 MB it never uses.
 */
export function loadDatasetDir(dir: string, o: { trainLimit?: number | null } = {}): CifarDataset {
  const names = readdirSync(dir).filter((n) => /^(data_batch_\d+|test_batch)\.bin$/.test(n));
  const batchNumber = (n: string) => Number(/^data_batch_(\d+)\.bin$/.exec(n)?.[1] ?? Infinity);
  const train = names.filter((n) => n.startsWith('data_batch_')).sort((a, b) => batchNumber(a) - batchNumber(b));
  const needed: string[] = [];
  let images = 0;
  for (const name of train) {
    if (o.trainLimit != null && needed.length && images >= o.trainLimit) break;
    needed.push(name);
    images += Math.floor(statSync(join(dir, name)).size / RECORD_BYTES);
  }
  const files = [...needed, ...names.filter((n) => n === 'test_batch.bin')].map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
  return parseCifarFiles(files, dir);
}
