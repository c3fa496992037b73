import type { RunConfig } from './config';
import type { CompactLayer } from './models/split';

/** The model being trained is a compact (split) one: post-hoc after its switch, or compact from scratch. */
export interface CheckpointCompactPhase {
  /** The split structure, to rebuild the graph before the variables are restored. */
  layers: CompactLayer[];
  /** Post-hoc: test accuracy right after the one projection (reported by the final compact event); null from scratch. */
  denseTestAccuracy: number | null;
}

/** Everything needed to continue a run exactly where it was: weights, optimiser state, data position, RNG state. */
export interface Checkpoint {
  /** 2; version-1 checkpoints (no firstLoss, no compact phase) are read as version 2 with nulls. */
  version: 2;
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
  /** Loss of the run's first applied step, the reference of the exploding-loss check (null before it). */
  firstLoss: number | null;
  /** Set when the model trained is a compact one; null while a dense model is trained. */
  compact: CheckpointCompactPhase | null;
  /** Variables in a fixed order (model weights, BN statistics, momentum buffers). */
  tensors: { key: string; shape: number[]; data: Float32Array }[];
  /** How long taking it held up training (copies, read-back from the GPU), ms. Not part of the run's state. */
  snapshotMs: number;
}

const MAGIC = 0x4c525043; // 'LRPC'

/** One binary blob: a JSON header (everything but the arrays) followed by the arrays, 4-byte aligned. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const { snapshotMs: _cost, ...state } = c;
  const header = {
    ...state,
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

type Header = Omit<Checkpoint, 'order' | 'tensors' | 'version' | 'firstLoss' | 'compact' | 'snapshotMs'> &
  Partial<Pick<Checkpoint, 'firstLoss' | 'compact'>> & { version: number; order: number; tensors: { key: string; shape: number[]; length: number }[] };

/** The header of an encoded checkpoint and where its arrays start; throws when the bytes are not a whole checkpoint. */
function readHeader(bytes: Uint8Array): { header: Header; at: number } {
  const fail = (why: string): never => {
    throw new Error(`not a valid LRPET checkpoint: ${why}`);
  };
  if (bytes.length < 8) fail('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail('wrong magic number');
  const len = view.getUint32(4, true);
  if (8 + len > bytes.length) fail('truncated header');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    return fail('unreadable header');
  }
  if (header.version !== 1 && header.version !== 2) fail(`unsupported version ${header.version} (this build reads versions 1 and 2)`);
  const at = 8 + len + ((4 - ((8 + len) % 4)) % 4);
  const total = at + header.order * 4 + header.tensors.reduce((s, t) => s + t.length * 4, 0);
  if (total !== bytes.length) fail(`expected ${total} bytes, got ${bytes.length}`);
  return { header, at };
}

/** Throws (saying why) unless the bytes are a whole checkpoint this build reads; cheap: the arrays are not copied. */
export function checkCheckpointBytes(bytes: Uint8Array): void {
  readHeader(bytes);
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  const { header, at } = readHeader(bytes);
  const copy = bytes.slice(at); // aligned copy
  let off = 0;
  const order = new Uint32Array(copy.buffer, off, header.order);
  off += header.order * 4;
  const tensors = header.tensors.map((t) => {
    const data = new Float32Array(copy.buffer, off, t.length);
    off += t.length * 4;
    return { key: t.key, shape: t.shape, data };
  });
  // Version 1 had neither field: its runs trained dense models, and the exploding check restarts from the next step.
  return { ...header, firstLoss: header.firstLoss ?? null, compact: header.compact ?? null, version: 2, order, tensors, snapshotMs: 0 };
}
