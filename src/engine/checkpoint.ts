import type { RunConfig } from './config';

/** Everything needed to continue a run exactly where it was: weights, optimiser state, data position, RNG state. */
export interface Checkpoint {
  version: 1;
  time: number;
  config: RunConfig;
  iteration: number;
  epoch: number;
  /** Steps already done in `epoch`. */
  step: number;
  projections: number;
  lastProjectionIteration: number;
  /** Running sums of the current epoch's training loss/hits/images. */
  epochSums: { loss: number; hits: number; seen: number };
  /** This epoch's sample order and the RNG states after drawing it. */
  order: Uint32Array;
  orderRngState: number;
  augmentRngState: number;
  /** Variables in a fixed order (model weights, BN statistics, momentum buffers). */
  tensors: { key: string; shape: number[]; data: Float32Array }[];
}

const MAGIC = 0x4c525043; // 'LRPC'

/** One binary blob: a JSON header (everything but the arrays) followed by the arrays, 4-byte aligned. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const header = {
    ...c,
    order: c.order.length,
    tensors: c.tensors.map((t) => ({ key: t.key, shape: t.shape, length: t.data.length })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((8 + json.length) % 4)) % 4;
  const floats = c.tensors.reduce((s, t) => s + t.data.length, 0);
  const out = new Uint8Array(8 + json.length + pad + c.order.length * 4 + floats * 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, json.length, true);
  out.set(json, 8);
  let at = 8 + json.length + pad;
  out.set(new Uint8Array(c.order.buffer, c.order.byteOffset, c.order.byteLength), at);
  at += c.order.byteLength;
  for (const t of c.tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const fail = (why: string): never => {
    throw new Error(`not a valid LRPET checkpoint: ${why}`);
  };
  if (bytes.length < 8) fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('wrong magic number');
  const len = view.getUint32(4, true);
  if (8 + len > bytes.length) fail('truncated header');
  let header: Omit<Checkpoint, 'order' | 'tensors'> & { order: number; tensors: { key: string; shape: number[]; length: number }[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    return fail('unreadable header');
  }
  if (header.version !== 1) fail(`unsupported version ${header.version}`);
  const at = 8 + len + ((4 - ((8 + len) % 4)) % 4);
  const total = at + header.order * 4 + header.tensors.reduce((s, t) => s + t.length * 4, 0);
  if (total !== bytes.length) fail(`expected ${total} bytes, got ${bytes.length}`);
  const copy = bytes.slice(at); // aligned copy
  let off = 0;
  const order = new Uint32Array(copy.buffer, off, header.order);
  off += header.order * 4;
  const tensors = header.tensors.map((t) => {
    const data = new Float32Array(copy.buffer, off, t.length);
    off += t.length * 4;
    return { key: t.key, shape: t.shape, data };
  });
  return { ...header, order, tensors };
}
