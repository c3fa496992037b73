import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, decodeSafetensors, encodeSafetensors, toFloat32, toIntegers } from './safetensors';

/** A file from a header object and a data section, with the header length written as given. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (name: string, begin: number, count: number, shape = [count]) => ({ [name]: { dtype: 'F32', shape, data_offsets: [begin, begin + 4 * count] } });

describe('safetensors codec', () => {
  it('round-trips tensors of every written dtype, with metadata, the data 8-byte aligned', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'a.weight', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -0]) },
        { name: 'b', dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
        { name: 'bn.num_batches_tracked', dtype: 'I64', shape: [], data: BigInt64Array.from([123n]) },
        { name: 'i', dtype: 'I32', shape: [1, 1], data: Int32Array.from([-7]) },
      ],
      { format: 'pt', 'lrpet.model': 'resnet20' },
    );
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect((8 + headerLength) % 8).toBe(0);
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt', 'lrpet.model': 'resnet20' });
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    expect(byName.get('a.weight')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(Array.from(toFloat32(byName.get('a.weight')!))).toEqual([1, -2, 3.5, 0, Math.fround(1e-30), -0]);
    expect(Array.from(toFloat32(byName.get('b')!))).toEqual([Math.fround(Math.PI), -Infinity]);
    expect(toIntegers(byName.get('bn.num_batches_tracked')!)).toEqual([123]);
    expect(byName.get('bn.num_batches_tracked')!.shape).toEqual([]);
    expect(toIntegers(byName.get('i')!)).toEqual([-7]);
  });

  it('reads F16 and BF16 exactly', () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x0001, 0x3555]).buffer);
    const file = decodeSafetensors(rawFile({ h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] } }, half));
    expect(Array.from(toFloat32(file.tensors[0]))).toEqual([1, -2, Infinity, 2 ** -24, Math.fround(0.333251953125)]);
    const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc040, 0x0000]).buffer);
    const file2 = decodeSafetensors(rawFile({ b: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] } }, bf));
    expect(Array.from(toFloat32(file2.tensors[0]))).toEqual([1, -3, 0]);
  });

  it('accepts a header padded with spaces and data that is not aligned', () => {
    const data = new Uint8Array(new Float32Array([2]).buffer);
    const file = decodeSafetensors(rawFile(null, data, `${JSON.stringify(f32('x', 0, 1))}   `));
    expect(Array.from(toFloat32(file.tensors[0]))).toEqual([2]);
  });

  const data8 = new Uint8Array(8);
  it.each([
    ['shorter than the length field', new Uint8Array(5), /shorter than the 8-byte header length/],
    ['header longer than the file', (() => { const b = rawFile(f32('x', 0, 2), data8); new DataView(b.buffer).setUint32(0, 10_000, true); return b; })(), /header says it is 10000 bytes long/],
    ['header above the limit', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true); return b; })(), /above the format's limit/],
    ['64-bit header length', (() => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(4, 1, true); return b; })(), /above the format's limit/],
    ['not UTF-8', rawFile(null, undefined, '{"\u00ff"}').map((x, i) => (i === 10 ? 0xff : x)), /not UTF-8/],
    ['not JSON', rawFile(null, undefined, '{"a": '), /not valid JSON/],
    ['a JSON array', rawFile(null, undefined, '[1, 2]'), /not a JSON object/],
    ['unknown dtype', rawFile({ x: { dtype: 'F128', shape: [1], data_offsets: [0, 8] } }, data8), /unknown dtype "F128"/],
    ['negative shape', rawFile({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8), /shape \[-2\] is not a list of non-negative integers/],
    ['fractional shape', rawFile({ x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, data8), /not a list of non-negative integers/],
    ['offsets reversed', rawFile({ x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data8), /ends before it begins/],
    ['truncated data', rawFile(f32('x', 0, 4), data8), /reach past the end of the data \(8 bytes\) — the file is truncated/],
    ['size and shape disagree', rawFile({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8), /shape \[3\] of F32 is 12 bytes, but data_offsets \[0, 8\] hold 8/],
    ['overlapping tensors', rawFile({ ...f32('x', 0, 2), ...f32('y', 4, 1) }, data8), /overlaps the tensor before it/],
    ['a hole', rawFile(f32('x', 4, 1), data8), /bytes 0–4 of the data belong to no tensor/],
    ['bytes after the last tensor', rawFile(f32('x', 0, 1), data8), /the data has 8 bytes, but the tensors cover 4/],
    ['metadata that is not strings', rawFile({ __metadata__: { epochs: 3 } }), /__metadata__.epochs is not a string/],
    ['unknown field', rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, data8), /unknown field extra/],
    ['missing offsets', rawFile({ x: { dtype: 'F32', shape: [2] } }, data8), /data_offsets undefined is not a pair/],
    ['an empty name', rawFile({ '': { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data8), /empty name/],
  ])('rejects %s with a message that says so', (_what, bytes, message) => {
    expect(() => decodeSafetensors(bytes)).toThrow(message);
  });

  it('refuses to write what it could not read back', () => {
    expect(() => encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/does not hold 2 values/);
    expect(() => encodeSafetensors([{ name: 'x', dtype: 'F64', shape: [2], data: new Float32Array(2) }])).toThrow(/F64 needs a Float64Array/);
    const t = { name: 'x', dtype: 'F32' as const, shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors([t, t])).toThrow(/given twice/);
    expect(() => encodeSafetensors([{ ...t, name: '__metadata__' }])).toThrow(/invalid tensor name/);
  });
});
