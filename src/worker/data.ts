import { DataError, parseBatchFile, parseCifarFiles, RECORD_BYTES, type CifarDataset, type NamedBytes } from '../engine/data/cifar';
import type { DataInfo, Progress, ServerListing } from './protocol';
import { TarFormatError, TarReader } from './tar';
import { errorText } from '../engine/errors';

const BIN = /(^|\/)(data_batch_\d+|test_batch)\.bin$/;
const TRAIN = /^data_batch_(\d+)\.bin$/;

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function dataInfo(kind: DataInfo['kind'], d: CifarDataset): DataInfo {
  return { kind, source: d.source, trainCount: d.train.count, testCount: d.test.count, bytes: d.train.images.length + d.test.images.length };
}

/** Reads a response body with progress callbacks (at most every 100 ms). */
async function readBody(res: Response, label: string, onProgress: (p: Progress) => void, base: number, total: number | null): Promise<Uint8Array> {
  const expected = Number(res.headers.get('content-length')) || 0;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const out = expected ? new Uint8Array(expected) : null;
  const chunks: Uint8Array[] = [];
  let got = 0;
  let last = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && got + value.length <= out.length) out.set(value, got);
    else chunks.push(value);
    got += value.length;
    const t = performance.now();
    if (t - last > 100) {
      last = t;
      onProgress({ label, loaded: base + got, total });
    }
  }
  if (out && got === out.length && chunks.length === 0) return out;
  const all = new Uint8Array(got);
  let at = 0;
  if (out) {
    const head = Math.min(got, out.length);
    all.set(out.subarray(0, head));
    at = head;
  }
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * Loads the local server's CIFAR-10 folder: only the records a run needs (`trainRecords` training
 * images, via HTTP Range requests, in file order) plus the whole test batch. Keeps what it fetched.
 */
export class ServerData {
  private cache = new Map<string, Uint8Array>();

  constructor(private readonly base = '/api/dataset') {}

  async listing(): Promise<ServerListing> {
    const res = await fetch(this.base, { cache: 'no-store' });
    if (!res.ok) throw new DataError(`the local server answered ${res.status} for ${this.base}`);
    return (await res.json()) as ServerListing;
  }

  async load(trainRecords: number | null, onProgress: (p: Progress) => void): Promise<CifarDataset> {
    const listing = await this.listing();
    if (!listing.source || listing.problem) throw new DataError(listing.problem ?? 'the local server has no CIFAR-10 folder');
    const train = listing.files.filter((f) => TRAIN.test(f.name)).sort((a, b) => Number(TRAIN.exec(a.name)![1]) - Number(TRAIN.exec(b.name)![1]));
    const test = listing.files.find((f) => f.name === 'test_batch.bin');
    if (!train.length || !test) throw new DataError(`${listing.source} lacks ${!test ? 'test_batch.bin' : 'data_batch_*.bin'}`);
    // Which byte prefix of each file is needed.
    const wanted: { name: string; bytes: number }[] = [];
    let left = trainRecords ?? Infinity;
    for (const f of train) {
      if (left <= 0) break;
      const records = Math.floor(f.size / RECORD_BYTES);
      const take = f.size % RECORD_BYTES !== 0 ? f.size : Math.min(records, left) * RECORD_BYTES; // a bad size: fetch all, let the parser explain
      wanted.push({ name: f.name, bytes: take });
      left -= Math.min(records, left);
    }
    wanted.push({ name: test.name, bytes: test.size });
    const toFetch = wanted.filter((w) => (this.cache.get(w.name)?.length ?? -1) < w.bytes);
    const total = toFetch.reduce((s, w) => s + w.bytes, 0);
    let done = 0;
    for (const w of toFetch) {
      const label = `loading ${w.name} from ${listing.source}`;
      const full = listing.files.find((f) => f.name === w.name)!.size;
      const res = await fetch(`${this.base}/${encodeURIComponent(w.name)}`, w.bytes < full ? { headers: { range: `bytes=0-${w.bytes - 1}` } } : {});
      if (!res.ok) throw new DataError(`could not load ${w.name} from the local server (HTTP ${res.status})`);
      let bytes = await readBody(res, label, onProgress, done, total);
      if (bytes.length > w.bytes) bytes = bytes.subarray(0, w.bytes); // a server that ignored Range
      this.cache.set(w.name, bytes);
      done += w.bytes;
      onProgress({ label, loaded: done, total });
    }
    const files: NamedBytes[] = wanted.map((w) => ({ name: w.name, bytes: this.cache.get(w.name)!.subarray(0, w.bytes) }));
    const bytes = wanted.reduce((s, w) => s + w.bytes, 0);
    onProgress({ label: `checking and parsing ${mb(bytes)} of CIFAR-10${toFetch.length ? '' : ' (loaded before)'}`, loaded: 0, total: null });
    return parseCifarFiles(files, listing.source);
  }
}

function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The .bin entries of a (possibly gzipped) tar archive. */
async function readArchive(file: File, onProgress: (p: Progress) => void): Promise<NamedBytes[]> {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  const gz = isGzip(head);
  if (!gz && /\.(tgz|gz)$/i.test(file.name)) throw new DataError(`${file.name}: not a gzip file (it does not start with the gzip signature) — expected the official cifar-10-binary.tar.gz`);
  const out: NamedBytes[] = [];
  const tar = new TarReader(
    // Named with the archive, so an error about an entry says which file it came from.
    (e) => out.push({ name: `${file.name}/${e.name}`, bytes: e.bytes }),
    (name) => BIN.test(name),
  );
  let read = 0;
  let last = 0;
  const progress = (n: number) => {
    read += n;
    const t = performance.now();
    if (t - last > 100) {
      last = t;
      onProgress({ label: `reading ${file.name}`, loaded: read, total: file.size });
    }
  };
  try {
    const stream = gz ? file.stream().pipeThrough(new DecompressionStream('gzip')) : file.stream();
    const reader = stream.getReader();
    let decompressed = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      decompressed += value.length;
      if (gz) {
        const t = performance.now();
        if (t - last > 100) {
          last = t;
          // the official archive unpacks to ~1.09× its size; show progress on the compressed scale
          onProgress({ label: `unpacking ${file.name}`, loaded: Math.min(file.size, Math.round(decompressed / 1.09)), total: file.size });
        }
      } else progress(value.length);
      tar.push(value);
    }
    tar.end();
  } catch (e) {
    if (e instanceof TarFormatError) throw new DataError(`${file.name}: ${e.message}`);
    if (e instanceof DataError) throw e;
    throw new DataError(`${file.name}: could not be unpacked (${errorText(e)}) — the file is corrupt or not a .tar.gz`);
  }
  if (!out.length) throw new DataError(`${file.name} contains no data_batch_*.bin or test_batch.bin — expected the official cifar-10-binary.tar.gz (the *binary* version)`);
  return out;
}

/**
 * Parses what the user picked or dropped: cifar-10-binary.tar.gz (or .tar), and/or data_batch_N.bin /
 * test_batch.bin files. Throws a DataError that names the bad file.
 */
export async function parseUserFiles(files: File[], onProgress: (p: Progress) => void): Promise<CifarDataset> {
  if (!files.length) throw new DataError('no file was given');
  const named: NamedBytes[] = [];
  const bins = files.filter((f) => /\.bin$/i.test(f.name));
  const binBytes = bins.reduce((s, f) => s + f.size, 0);
  let binsRead = 0;
  for (const f of files) {
    if (/\.(tar\.gz|tgz|tar|gz)$/i.test(f.name)) {
      named.push(...(await readArchive(f, onProgress)));
    } else if (/\.bin$/i.test(f.name)) {
      if (!BIN.test(f.name)) throw new DataError(`${f.name}: not a CIFAR-10 batch name (expected data_batch_1.bin … data_batch_5.bin or test_batch.bin)`);
      onProgress({ label: `reading ${f.name}`, loaded: binsRead, total: binBytes });
      named.push({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
      binsRead += f.size;
    } else if (/\.(txt|html)$/i.test(f.name)) {
      continue; // batches.meta.txt, readme.html: ignored
    } else {
      throw new DataError(`${f.name}: not a CIFAR-10 file — expected cifar-10-binary.tar.gz or data_batch_N.bin / test_batch.bin`);
    }
  }
  const parsed = named.reduce((s, f) => s + f.bytes.length, 0);
  onProgress({ label: `checking and parsing ${mb(parsed)} of CIFAR-10`, loaded: 0, total: null });
  // A file of the wrong size gets its own message first (the parser's explains what is wrong with it).
  for (const f of named) if (f.bytes.length === 0 || f.bytes.length % RECORD_BYTES !== 0) parseBatchFile(f);
  const names = files.map((f) => f.name);
  try {
    return parseCifarFiles(named, names.length === 1 ? `your file ${names[0]}` : `your files (${names.join(', ')})`);
  } catch (e) {
    if (e instanceof DataError && /^no (test_batch|data_batch)/.test(e.message)) {
      throw new DataError(`${e.message} — pick the training batches and test_batch.bin together, or the whole cifar-10-binary.tar.gz`, { cause: e });
    }
    throw e;
  }
}
