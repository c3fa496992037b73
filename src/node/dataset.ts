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

/** Reads every data_batch_*.bin and test_batch.bin in the folder and parses them (sizes validated). */
export function loadDatasetDir(dir: string): CifarDataset {
  const names = readdirSync(dir).filter((n) => /^(data_batch_\d+|test_batch)\.bin$/.test(n));
  const files = names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
  return parseCifarFiles(files, dir);
}
