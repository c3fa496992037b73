import { errorText } from '../errors';
/**
 * The safetensors file format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }),
 * then the tensors' raw little-endian bytes, offsets counted from the end of the header.
 *
 * Our own codec rather than a package: the npm package of that name is an unmaintained 0.0.1 stub,
 * the format is small, and files come from users (the page's "Start from weights…"), so every
 * field is checked here the way the format's reference implementation checks it: header size limit,
 * known dtypes, shape × dtype size = byte length, offsets inside the data, no overlaps and no holes,
 * nothing after the last tensor. Pure TypeScript (no Node APIs): the page and the CLI share it.
 */

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Bytes per element of every dtype the format defines. */
export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;

/** The format's own limit on the header (100 MB); larger headers are rejected before parsing. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** The tensor's bytes, little-endian, exactly product(shape) × bytes-per-element long. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const isDtype = (d: unknown): d is Dtype => typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, d);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Parses and validates a whole file; throws a SafetensorsError saying what is wrong. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const fail = (why: string): never => {
    throw new SafetensorsError(`not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) fail(`the header length (${hi ? `${hi}·2³² + ${lo}` : lo} bytes) is above the format's limit of ${MAX_HEADER_BYTES}`);
  const n = lo;
  if (8 + n > bytes.length) fail(`the header says it is ${n} bytes long, but the file has only ${bytes.length - 8} bytes after the length`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('the header is not UTF-8 text');
  }
  if (!text.startsWith('{')) fail('the header is not a JSON object');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${errorText(e)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: (TensorEntry & { begin: number; end: number })[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (name.length === 0) fail('a tensor has an empty name');
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(`tensor '${name}': its entry is not an object`);
    const { dtype, shape, data_offsets: offsets, ...rest } = raw as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length) fail(`tensor '${name}': unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
    if (!isDtype(dtype)) return fail(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)} (the format defines ${Object.keys(DTYPE_BYTES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) return fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) return fail(`tensor '${name}': data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`tensor '${name}': data_offsets [${begin}, ${end}] ends before it begins`);
    if (end > dataLength) fail(`tensor '${name}': data_offsets [${begin}, ${end}] reach past the end of the data (${dataLength} bytes) — the file is truncated`);
    const count = elementCount(shape as number[]);
    const expected = count * DTYPE_BYTES[dtype];
    if (!Number.isSafeInteger(expected) || expected !== end - begin) {
      fail(`tensor '${name}': shape [${(shape as number[]).join(', ')}] of ${dtype} is ${expected} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    tensors.push({ name, dtype, shape: shape as number[], bytes: bytes.subarray(dataStart + begin, dataStart + end), begin, end });
  }
  // The data must be covered exactly once, in order of the offsets: no overlaps, no holes, nothing after.
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const t of sorted) {
    if (t.begin < at) fail(`tensor '${t.name}' (bytes ${t.begin}–${t.end}) overlaps the tensor before it (which ends at ${at})`);
    if (t.begin > at) fail(`bytes ${at}–${t.begin} of the data belong to no tensor`);
    at = t.end;
  }
  if (at !== dataLength) fail(`the data has ${dataLength} bytes, but the tensors cover ${at}`);
  return { tensors: tensors.map(({ name, dtype, shape, bytes: b }) => ({ name, dtype, shape, bytes: b })), metadata };
}

export interface TensorInput {
  name: string;
  dtype: 'F32' | 'F64' | 'I64' | 'I32';
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array;
}

const ARRAY_DTYPE = { F32: Float32Array, F64: Float64Array, I64: BigInt64Array, I32: Int32Array } as const;

/**
 * Writes a file. Tensors are laid out in the given order; the header is padded with spaces so the
 * data starts 8-byte aligned (as the format's reference writer does).
 */
export function encodeSafetensors(tensors: TensorInput[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (!t.name || t.name === '__metadata__') throw new SafetensorsError(`invalid tensor name '${t.name}'`);
    if (seen.has(t.name)) throw new SafetensorsError(`tensor '${t.name}' is given twice`);
    seen.add(t.name);
    if (!(t.data instanceof ARRAY_DTYPE[t.dtype])) throw new SafetensorsError(`tensor '${t.name}': ${t.dtype} needs a ${ARRAY_DTYPE[t.dtype].name}`);
    if (elementCount(t.shape) !== t.data.length) throw new SafetensorsError(`tensor '${t.name}': shape [${t.shape.join(', ')}] does not hold ${t.data.length} values`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(raw, at);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(at, at + raw.length), t.data.BYTES_PER_ELEMENT);
    at += raw.length;
  }
  return out;
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

export const isFloatDtype = (d: Dtype) => d === 'F32' || d === 'F64' || d === 'F16' || d === 'BF16';
export const isIntegerDtype = (d: Dtype) => d === 'I64' || d === 'I32' || d === 'I16' || d === 'I8' || d === 'U8' || d === 'U16' || d === 'U32' || d === 'U64';

/** A floating-point tensor's values as float32 (F64 rounds, F16/BF16 widen exactly). */
export function toFloat32(t: TensorEntry): Float32Array {
  const n = elementCount(t.shape);
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(i * 8, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(v.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = v.getUint16(i * 2, true) << 16;
      break;
    }
    default:
      throw new SafetensorsError(`tensor '${t.name}' is ${t.dtype}, not a floating-point tensor`);
  }
  return out;
}

/** An integer tensor's values as numbers (64-bit values must be safe integers). */
export function toIntegers(t: TensorEntry): number[] {
  const n = elementCount(t.shape);
  const v = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'I64':
      case 'U64': {
        const x = t.dtype === 'I64' ? v.getBigInt64(i * 8, true) : v.getBigUint64(i * 8, true);
        if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) throw new SafetensorsError(`tensor '${t.name}': ${x} is too large`);
        out.push(Number(x));
        break;
      }
      case 'I32':
        out.push(v.getInt32(i * 4, true));
        break;
      case 'U32':
        out.push(v.getUint32(i * 4, true));
        break;
      case 'I16':
        out.push(v.getInt16(i * 2, true));
        break;
      case 'U16':
        out.push(v.getUint16(i * 2, true));
        break;
      case 'I8':
        out.push(v.getInt8(i));
        break;
      case 'U8':
        out.push(v.getUint8(i));
        break;
      default:
        throw new SafetensorsError(`tensor '${t.name}' is ${t.dtype}, not an integer tensor`);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
