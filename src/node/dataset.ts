import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError, parseCifarFiles, type CifarDataset } from '../engine/data/cifar';

/** The repository root (two folders above this file). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the CIFAR-10 binary batches are: the explicit folder, else $CIFAR10_DIR, else
 * ./data/cifar-10-batches-bin, else ../shared/datasets/cifar10/cifar-10-batches-bin (each relative
 * to the working directory, then to the repository root). Throws a DataError saying what to do.
 */
export function findDatasetDir(explicit?: string): string {
  const tried: string[] = [];
  const ok = (dir: string) => {
    tried.push(dir);
    return existsSync(dir) && statSync(dir).isDirectory();
  };
  if (explicit) {
    const dir = resolve(explicit);
    if (!ok(dir)) throw new DataError(`dataset folder ${dir} does not exist`);
    return dir;
  }
  if (process.env.CIFAR10_DIR) {
    const dir = resolve(process.env.CIFAR10_DIR);
    if (!ok(dir)) throw new DataError(`$CIFAR10_DIR is ${dir}, which does not exist`);
    return dir;
  }
  const candidates = ['data/cifar-10-batches-bin', '../shared/datasets/cifar10/cifar-10-batches-bin'];
  for (const base of [process.cwd(), REPO_ROOT]) {
    for (const c of candidates) {
      const dir = resolve(base, c);
      if (!tried.includes(dir) && ok(dir)) return dir;
    }
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
