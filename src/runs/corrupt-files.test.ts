// The page parses with zod in jitless mode (CSP without 'unsafe-eval'); so do these tests.
import '../worker/zod-setup';
import { deflateSync, gzipSync, strToU8, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { Rng } from '../engine/rng';
import { toJsonLines } from '../ui/state/eventlog';
import { parseRunFile, RunFileError } from './file';
import { sampleEvents } from './testing/sample-events';

// A corpus of broken inputs: each must give a RunFileError whose message says what is wrong.

const enc = (s: string) => new TextEncoder().encode(s);
const events = sampleEvents(2, 3);
const jsonl = toJsonLines(events);
// Its size in the zip is in bytes (UTF-8: the events hold non-ASCII text such as '…' and 'σ')
const jsonlBytes = strToU8(jsonl).length;
const lines = jsonl.trimEnd().split('\n');
const runJson = { format: 'lrpet-run', version: 1, name: 'r', createdAt: 1, status: 'finished', source: 'browser', batch: null, config: null, summary: {} };
const modelJson = strToU8(JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));

function runZip(over: { run?: unknown; events?: string | null; extra?: Zippable; model?: boolean } = {}): Uint8Array {
  const files: Zippable = { 'run.json': strToU8(typeof over.run === 'string' ? over.run : JSON.stringify(over.run ?? runJson)) };
  if (over.events !== null) files['events.jsonl'] = strToU8(over.events ?? jsonl);
  if (over.model !== false) Object.assign(files, { 'compact/model.json': modelJson, 'compact/weights.bin': new Uint8Array(256).fill(3) });
  return zipSync({ ...files, ...over.extra });
}
const good = runZip();

/** Offsets of an entry's central-directory record and local header. */
function locate(zip: Uint8Array, name: string): { central: number; local: number } {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (v.getUint32(end, true) !== 0x06054b50) end--;
  let p = v.getUint32(end + 16, true);
  for (let i = 0; i < v.getUint16(end + 10, true); i++) {
    const nameLen = v.getUint16(p + 28, true);
    if (new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen)) === name) return { central: p, local: v.getUint32(p + 42, true) };
    p += 46 + nameLen + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
  throw new Error(`no ${name}`);
}
function patched(zip: Uint8Array, at: (z: Uint8Array) => number, value: number, width: 2 | 4 = 4): Uint8Array {
  const copy = zip.slice();
  const v = new DataView(copy.buffer);
  if (width === 4) v.setUint32(at(copy), value, true);
  else v.setUint16(at(copy), value, true);
  return copy;
}
const central = (name: string, field: number) => (z: Uint8Array) => locate(z, name).central + field;
const eocd = (field: number) => (z: Uint8Array) => z.length - 22 + field;
const randomBytes = (seed: number, length: number) => {
  const rng = new Rng(seed);
  return Uint8Array.from({ length }, () => rng.int(256));
};
const withLine = (i: number, line: string) => enc(lines.map((l, k) => (k === i ? line : l)).join('\n'));
const editLine = (i: number, edit: (e: Record<string, unknown>) => void) => {
  const e = JSON.parse(lines[i]);
  edit(e);
  return withLine(i, JSON.stringify(e));
};
const flipped = (zip: Uint8Array, at: number) => {
  const copy = zip.slice();
  copy[at] ^= 0x5a;
  return copy;
};
const eventsData = locate(good, 'events.jsonl').local + 30 + 'events.jsonl'.length;

const DAMAGED = /^the run zip is damaged: /;
const cases: [string, () => Uint8Array, RegExp][] = [
  ['empty file', () => new Uint8Array(0), /^the file is empty$/],
  ['only blank lines', () => enc('\n  \n\r\n'), /^not an LRPET run file: it has no events$/],
  ['too large', () => new Uint8Array(512 * 1024 * 1024 + 1), /^the file is larger \(536870913 bytes\) than the 512 MB a run file may be$/],
  ...[1, 2, 3].map((cut): [string, () => Uint8Array, RegExp] => [`zip cut to ${cut} bytes`, () => good.slice(0, cut), /^not an LRPET run file: /]),
  ...[4, 10, 30, 31, 100, 0.25, 0.5, 0.75, -200, -23, -22, -1].map((c): [string, () => Uint8Array, RegExp] => {
    const at = c > 0 && c < 1 ? Math.floor(good.length * c) : c < 0 ? good.length + c : c;
    return [`zip truncated at ${at}`, () => good.slice(0, at), /^the run zip is damaged: .*(truncated|damaged)/];
  }),
  ['zip missing its first 100 bytes', () => good.slice(100), /^not an LRPET run file: it holds binary data/],
  ...[1, 2, 3, 4, 5, 6].map((seed): [string, () => Uint8Array, RegExp] => [`random bytes, seed ${seed}`, () => randomBytes(seed, 50 + seed * 997), /^not an LRPET run file: it holds binary data \(byte 0x[0-9a-f]{2} at offset \d+\)/]),
  ...[7, 8, 9].map((seed): [string, () => Uint8Array, RegExp] => [`PK header then random bytes, seed ${seed}`, () => new Uint8Array([0x50, 0x4b, 3, 4, ...randomBytes(seed, 3000)]), DAMAGED]),
  ...[0, 5, 40, 200].map((off): [string, () => Uint8Array, RegExp] => [`events.jsonl data flipped at +${off}`, () => flipped(good, eventsData + off), /^the run zip is damaged: zip entry 'events\.jsonl' (fails its CRC check|cannot be inflated|inflates to)/]),
  ['declared size one byte too big', () => patched(good, central('events.jsonl', 24), jsonlBytes + 1), /zip entry 'events\.jsonl' inflates to \d+ bytes, not the \d+ it declares/],
  ['declared size one byte too small', () => patched(good, central('events.jsonl', 24), jsonlBytes - 1), /zip entry 'events\.jsonl' inflates to more than the \d+ bytes it declares/],
  ['compressed size past the data', () => patched(good, central('events.jsonl', 20), 1_000_000), /zip entry 'events\.jsonl' runs past its end/],
  ['CRC wrong', () => patched(good, central('run.json', 16), 12345), /zip entry 'run\.json' fails its CRC check/],
  ['local header offset wrong', () => patched(good, central('run.json', 42), 7), /zip entry 'run\.json' has no valid local header/],
  ['directory offset past the end', () => patched(good, eocd(16), good.length), /directory points past the end of the file/],
  ['huge declared size (zip bomb)', () => patched(good, central('events.jsonl', 24), 0xfffffff0), /events\.jsonl declares 4\.0 GB uncompressed, more than the 1\.0 GB allowed \(a damaged file or a zip bomb\)/],
  ['run.json declares 2 MB', () => patched(good, central('run.json', 24), 2 * 1024 * 1024), /run\.json declares 2\.0 MB uncompressed, more than the 1\.0 MB allowed/],
  ['entry inflating far past its declared size', () => {
    const zip = zipSync({ 'run.json': strToU8(JSON.stringify(runJson)), 'events.jsonl': [new Uint8Array(20 * 1024 * 1024), { level: 9 }] });
    return patched(zip, central('events.jsonl', 24), 1000);
  }, /zip entry 'events\.jsonl' inflates to more than the 1000 bytes it declares \(damaged or a zip bomb\)/],
  ['encrypted entry', () => patched(good, central('run.json', 8), 1, 2), /zip entry 'run\.json' is encrypted/],
  ['unknown compression method', () => patched(good, central('run.json', 10), 12, 2), /zip entry 'run\.json' uses compression method 12/],
  ['ZIP64 marker', () => patched(good, eocd(10), 0xffff, 2), /ZIP64 archives are not supported/],
  ['zip without run.json', () => zipSync({ 'events.jsonl': strToU8(jsonl) }), /^not an LRPET run file: the zip has no run\.json \(it holds events\.jsonl\)$/],
  ['a model zip', () => zipSync({ 'model.json': modelJson, 'weights.bin': new Uint8Array(4) }), /this zip is a model \(model\.json\), not a run/],
  ['an empty zip', () => zipSync({}), /the zip has no run\.json \(it is empty\)/],
  ['zip without events.jsonl', () => runZip({ events: null }), /^the run zip has no events\.jsonl$/],
  ['run.json not JSON', () => runZip({ run: '{"format": "lrpet-run",' }), /^run\.json is not valid JSON/],
  ['run.json an array', () => runZip({ run: [1, 2] }), /^run\.json is not a JSON object$/],
  ['run.json of another format', () => runZip({ run: { ...runJson, format: 'tfjs' } }), /^not an LRPET run file: run\.json has format "tfjs", expected 'lrpet-run'$/],
  ['run.json without format', () => runZip({ run: { ...runJson, format: undefined } }), /^not an LRPET run file: run\.json has no 'format' field$/],
  ['newer version', () => runZip({ run: { ...runJson, version: 2 } }), /^run file version 2 is not supported \(this playground reads version 1; it was written by a newer version/],
  ['run.json without a version', () => runZip({ run: { ...runJson, version: undefined } }), /^run file version \(none\) is not supported/],
  ['version as a string', () => runZip({ run: { ...runJson, version: '1' } }), /^run file version "1" is not supported/],
  ['run.json without a name', () => runZip({ run: { ...runJson, name: undefined } }), /^run\.json, field 'name': /],
  ['run.json with a bad status', () => runZip({ run: { ...runJson, status: 'exploded' } }), /^run\.json, field 'status': /],
  ['run.json with a bad config', () => runZip({ run: { ...runJson, config: { epochs: 0 } } }), /^run\.json, field 'config\.epochs': /],
  ['model.json without weights.bin', () => runZip({ model: false, extra: { 'compact/model.json': modelJson } }), /has compact\/model\.json but not compact\/weights\.bin/],
  ['model.json not JSON', () => runZip({ extra: { 'compact/model.json': strToU8('<html>') } }), /^compact\/model\.json is not valid JSON/],
  ['model.json not a model', () => runZip({ extra: { 'compact/model.json': strToU8('{"a":1}') } }), /compact\/model\.json is not a TensorFlow\.js model/],
  ['zipped log with a bad line', () => runZip({ events: jsonl.replace('"loss":', '"loss":"x","l":') }), /^events\.jsonl line 3: step event, field 'loss': .*expected number/],
  ['gzip-compressed log', () => gzipSync(enc(jsonl)), /^not an LRPET run file: it is gzip-compressed/],
  ['a raw deflate stream', () => deflateSync(enc(jsonl)), /^not an LRPET run file: it holds binary data/],
  ['CSV text', () => enc('epoch,loss\n1,2.3\n'), /^not an LRPET run file: line 1 is not JSON/],
  ['JSON, not an event', () => enc('{"foo": 1}\n'), /^not an LRPET run file: line 1 is not an LRPET event \(the object has no 'type' field\)$/],
  ['a JSON array', () => enc('[1,2,3]\n'), /^not an LRPET run file: line 1 is not an LRPET event \(not an event object\)$/],
  ['a whole JSON document (pretty-printed)', () => enc(JSON.stringify(events[0], null, 2)), /^not an LRPET run file: line 1 is not JSON/],
  ['log without its runStart', () => enc(lines.slice(2).join('\n')), /^line 1: a run log starts with a runStart event, but this one starts with a 'step' event/],
  ['log with a cut last line', () => enc(jsonl.slice(0, -20)), new RegExp(`^line ${lines.length}: not valid JSON .*was the file cut short`)],
  ['log with an unknown event type', () => editLine(3, (e) => (e.type = 'bogus')), /^line 4: unknown event type 'bogus'$/],
  ['log with a bad state', () => editLine(1, (e) => (e.state = 'dancing')), /^line 2: state event, field 'state': /],
  ['log with a bad nested number', () => editLine(lines.findIndex((l) => l.includes('"projection"')), (e) => ((e.layers as { sigmaBefore: unknown[] }[])[1].sigmaBefore[2] = 'x')), /^line \d+: projection event, field 'layers\[1\]\.sigmaBefore\[2\]': .*expected number/],
  ['log with a fractional iteration', () => editLine(2, (e) => (e.iteration = 1.5)), /^line 3: step event, field 'iteration': .*int/i],
  ['log with a bad runStart config', () => editLine(0, (e) => ((e.config as { epochs: number }).epochs = 0)), /^line 1: runStart event, field 'config\.epochs': Too small/],
  ['log with a bad error code', () => enc(`${lines[0]}\n{"type":"error","time":1,"code":"oops","message":"m","iteration":0,"epoch":0}\n`), /^line 2: error event, field 'code': /],
  ['log with binary junk after 5 kB', () => {
    const head = enc(`${lines.join('\n')}\n`.repeat(3));
    return new Uint8Array([...head, 0xff, 0xfe, 0x00, 0x81, 0x0a]);
  }, /^line \d+: not UTF-8 text \(binary data\?\)$/],
  ['log with NUL bytes up front', () => new Uint8Array([...enc(lines[0]), 0, 0, 0x0a]), /^not an LRPET run file: it holds binary data \(byte 0x00 at offset \d+\)/],
  ['a line over 16 MB', () => {
    const big = new Uint8Array(lines[0].length + 1 + 17 * 1024 * 1024).fill(0x20);
    big.set(enc(`${lines[0]}\n`));
    big[big.length - 1] = 0x31;
    return big;
  }, /^line 2: the line is longer than 16 MB$/],
  ['more than 5 million events', () => {
    const many = new Uint8Array(2 * 5_000_001).fill(0x0a);
    for (let i = 0; i < many.length; i += 2) many[i] = 0x31;
    return many;
  }, /^the log has 5000001 lines, more events than the 5000000 a run file may hold$/],
];

describe('parseRunFile rejects broken files with a specific message', () => {
  it('has a corpus of at least 40 inputs', () => expect(cases.length).toBeGreaterThanOrEqual(40));
  it.each(cases)('%s', (_name, make, message) => {
    let error: unknown = null;
    try {
      parseRunFile(make(), 'broken.lrpet.zip');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RunFileError);
    expect((error as Error).message).toMatch(message);
  });
  it('accepts the unbroken inputs the corpus was made from', () => {
    expect(parseRunFile(good, 'good.zip').events).toHaveLength(events.length);
    expect(parseRunFile(enc(jsonl), 'good.jsonl').events).toHaveLength(events.length);
  });
});
