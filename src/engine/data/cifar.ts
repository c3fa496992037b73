/** CIFAR-10 "binary version": records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, rows of 32). */
export const RECORD_BYTES = 3073;
export const IMAGE_BYTES = 3072;
const RECORDS_PER_FILE = 10000;
export class DataError extends Error {
  override name = 'DataError';
}

/** Images kept in the file's planar CHW uint8 layout (compact: 3 KB an image). */
export interface CifarSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface CifarDataset {
  train: CifarSplit;
  test: CifarSplit;
  /** Where the data came from, for display. */
  source: string;
}

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

const TRAIN_FILE = /(^|\/)data_batch_(\d+)\.bin$/;
const TEST_FILE = /(^|\/)test_batch\.bin$/;

/** Parses one .bin file; throws a DataError naming the file when its size or labels are wrong. */
export function parseBatchFile(file: NamedBytes): CifarSplit {
  const { name, bytes } = file;
  if (bytes.length === 0 || bytes.length % RECORD_BYTES !== 0) {
    throw new DataError(
      `${name}: ${bytes.length} bytes is not a whole number of CIFAR-10 records (${RECORD_BYTES} bytes each; a full batch file is ${RECORD_BYTES * RECORDS_PER_FILE} bytes) — the file is truncated or not a CIFAR-10 binary batch`,
    );
  }
  const count = bytes.length / RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let i = 0; i < count; i++) {
    const off = i * RECORD_BYTES;
    const label = bytes[off];
    if (label > 9) throw new DataError(`${name}: record ${i} has label ${label}; CIFAR-10 labels are 0–9 — not a CIFAR-10 binary batch`);
    labels[i] = label;
    images.set(bytes.subarray(off + 1, off + RECORD_BYTES), i * IMAGE_BYTES);
  }
  return { images, labels, count };
}

function concatSplits(splits: CifarSplit[]): CifarSplit {
  const count = splits.reduce((s, x) => s + x.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of splits) {
    images.set(s.images, at * IMAGE_BYTES);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { images, labels, count };
}

/** Keeps the first `limit` records (null = all). */
export function limitSplit(split: CifarSplit, limit: number | null): CifarSplit {
  if (limit === null || limit >= split.count) return split;
  return { images: split.images.subarray(0, limit * IMAGE_BYTES), labels: split.labels.subarray(0, limit), count: limit };
}

/**
 * A deterministic subset of `limit` records spread over the split (every k-th record). Used for the
 * test set, whose copy here is sorted by class: its first N records would all be airplanes.
 */
export function strideSubset(split: CifarSplit, limit: number | null): CifarSplit {
  if (limit === null || limit >= split.count) return split;
  const images = new Uint8Array(limit * IMAGE_BYTES);
  const labels = new Uint8Array(limit);
  for (let i = 0; i < limit; i++) {
    const src = Math.floor((i * split.count) / limit);
    images.set(split.images.subarray(src * IMAGE_BYTES, (src + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = split.labels[src];
  }
  return { images, labels, count: limit };
}

/**
 * Builds a dataset from any number of data_batch_N.bin files plus test_batch.bin (other files,
 * e.g. batches.meta.txt, are ignored). Training files are used in N order.
 */
export function parseCifarFiles(files: NamedBytes[], source: string): CifarDataset {
  const train = files
    .filter((f) => TRAIN_FILE.test(f.name))
    .sort((a, b) => Number(TRAIN_FILE.exec(a.name)![2]) - Number(TRAIN_FILE.exec(b.name)![2]));
  const test = files.filter((f) => TEST_FILE.test(f.name));
  if (train.length === 0) throw new DataError(`no data_batch_*.bin training file found in ${source}`);
  if (test.length === 0) throw new DataError(`no test_batch.bin found in ${source}`);
  if (test.length > 1) throw new DataError(`more than one test_batch.bin in ${source}`);
  return { train: concatSplits(train.map(parseBatchFile)), test: parseBatchFile(test[0]), source };
}

/** The training-set mean/std of the official recipe (spec §9). */
export const CIFAR_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR_STD = [0.2023, 0.1994, 0.201];
