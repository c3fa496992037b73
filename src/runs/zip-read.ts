import { Inflate } from 'fflate';
import { errorText } from '../engine/errors';

// A strict reader for the zips this project writes (fflate zipSync): every offset and size is checked
// against the file before use, entry sizes are known before anything is inflated, inflation stops as
// soon as an entry produces more than it declared, and every entry's CRC-32 is verified.

export class ZipError extends Error {
  override name = 'ZipError';
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  compressedSize: number;
  /** Uncompressed size as the central directory declares it. */
  size: number;
  crc: number;
  localOffset: number;
}

export interface ZipIndex {
  entries: ZipEntry[];
  /** Where the central directory starts; entry data must lie before it. */
  centralOffset: number;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export const isZip = (bytes: Uint8Array) => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function findEndRecord(bytes: Uint8Array, v: DataView): number {
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let p = bytes.length - EOCD_SIZE; p >= lowest; p--) {
    if (v.getUint32(p, true) === EOCD_SIG && p + EOCD_SIZE + v.getUint16(p + 20, true) === bytes.length) return p;
  }
  throw new ZipError('the zip has no end-of-archive record (it is truncated or damaged)');
}

/** Reads the central directory: names, methods and declared sizes, without inflating anything. */
export function readZipIndex(bytes: Uint8Array): ZipIndex {
  if (bytes.length < EOCD_SIZE) throw new ZipError(`the zip is only ${bytes.length} bytes long (truncated)`);
  const v = view(bytes);
  const end = findEndRecord(bytes, v);
  if (v.getUint16(end + 4, true) !== 0 || v.getUint16(end + 6, true) !== 0) throw new ZipError('multi-part zips are not supported');
  const count = v.getUint16(end + 10, true);
  const cdSize = v.getUint32(end + 12, true);
  const cdOffset = v.getUint32(end + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) throw new ZipError('ZIP64 archives are not supported');
  if (v.getUint16(end + 8, true) !== count) throw new ZipError('multi-part zips are not supported');
  if (cdOffset + cdSize > end) throw new ZipError('the zip directory points past the end of the file (truncated or damaged)');
  const entries: ZipEntry[] = [];
  const names = new Set<string>();
  const nameDecoder = new TextDecoder();
  let p = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || v.getUint32(p, true) !== CENTRAL_SIG) throw new ZipError(`zip directory entry ${i + 1} of ${count} is damaged`);
    const flags = v.getUint16(p + 8, true);
    const nameLen = v.getUint16(p + 28, true);
    const next = p + 46 + nameLen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    if (next > cdEnd) throw new ZipError(`zip directory entry ${i + 1} of ${count} runs past the directory (damaged)`);
    const name = nameDecoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new ZipError(`zip entry '${name}' is encrypted`);
    if (names.has(name)) throw new ZipError(`the zip holds '${name}' twice`);
    names.add(name);
    entries.push({
      name,
      method: v.getUint16(p + 10, true),
      crc: v.getUint32(p + 16, true),
      compressedSize: v.getUint32(p + 20, true),
      size: v.getUint32(p + 24, true),
      localOffset: v.getUint32(p + 42, true),
    });
    p = next;
  }
  return { entries, centralOffset: cdOffset };
}

let crcTable: Uint32Array | null = null;
function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PUSH_BYTES = 16 * 1024;

function inflateExactly(data: Uint8Array, size: number, name: string): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  const inflater = new Inflate((chunk) => {
    if (at + chunk.length > size) throw new ZipError(`zip entry '${name}' inflates to more than the ${size} bytes it declares (damaged or a zip bomb)`);
    out.set(chunk, at);
    at += chunk.length;
  });
  try {
    // Small pushes bound what one call can produce before the size check sees it.
    if (data.length === 0) inflater.push(data, true);
    for (let i = 0; i < data.length; i += PUSH_BYTES) inflater.push(data.subarray(i, i + PUSH_BYTES), i + PUSH_BYTES >= data.length);
  } catch (e) {
    if (e instanceof ZipError) throw e;
    throw new ZipError(`zip entry '${name}' cannot be inflated (${errorText(e)}): the file is damaged`);
  }
  if (at !== size) throw new ZipError(`zip entry '${name}' inflates to ${at} bytes, not the ${size} it declares (damaged)`);
  return out;
}

/** The entry's content, checked against its declared size and CRC-32. */
export function readZipEntry(bytes: Uint8Array, index: ZipIndex, entry: ZipEntry): Uint8Array {
  const v = view(bytes);
  const p = entry.localOffset;
  if (p + 30 > index.centralOffset || v.getUint32(p, true) !== LOCAL_SIG) throw new ZipError(`zip entry '${entry.name}' has no valid local header (damaged)`);
  const start = p + 30 + v.getUint16(p + 26, true) + v.getUint16(p + 28, true);
  if (start + entry.compressedSize > index.centralOffset) throw new ZipError(`zip entry '${entry.name}' runs past its end (truncated or damaged)`);
  const data = bytes.subarray(start, start + entry.compressedSize);
  let out: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new ZipError(`stored zip entry '${entry.name}' has inconsistent sizes (damaged)`);
    out = data.slice();
  } else if (entry.method === 8) {
    out = inflateExactly(data, entry.size, entry.name);
  } else {
    throw new ZipError(`zip entry '${entry.name}' uses compression method ${entry.method}; only stored and deflate are supported`);
  }
  if (crc32(out) !== entry.crc) throw new ZipError(`zip entry '${entry.name}' fails its CRC check (damaged)`);
  return out;
}
