import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { RECORD_BYTES } from '../engine/data/cifar';
import { chooseBackend, softwareName, type AdapterDescription, type BackendName, type BackendProbe } from './backend';
import { Batcher } from './batcher';
import { parseUserFiles, ServerData } from './data';
import type { Progress } from './protocol';
import { TarReader } from './tar';

describe('Batcher', () => {
  it('sends at most one batch per interval, and everything on flush', () => {
    let t = 0;
    const timers: (() => void)[] = [];
    const sent: number[][] = [];
    const b = new Batcher<number>((x) => sent.push(x), 150, () => t, (fn) => (timers.push(fn), timers.length as unknown as ReturnType<typeof setTimeout>), () => {});
    for (let i = 0; i < 10; i++) {
      b.push(i);
      t += 20;
    }
    // pushes at t = 0..180: the one at t=160 (≥ 150 after the start) flushed 0..8
    expect(sent).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8]]);
    b.push(10);
    expect(b.pending).toBe(2);
    b.flush();
    expect(sent[1]).toEqual([9, 10]);
    b.flush();
    expect(sent).toHaveLength(2); // nothing pending: nothing sent
  });

  it('drain() sends what is pending and waits until every batch sent was handled, failed ones too', async () => {
    const handled: string[][] = [];
    const answers: (() => void)[] = [];
    const b = new Batcher<string>((x) => new Promise<void>((resolve, reject) => answers.push(() => (x[0] === 'bad' ? reject(new Error('gone')) : (handled.push(x), resolve())))), 1000);
    b.push('bad');
    b.flush();
    b.push('a');
    let drained = false;
    const d = b.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 10));
    expect([answers.length, drained]).toEqual([2, false]);
    answers[1]();
    await new Promise((r) => setTimeout(r, 10));
    expect(drained).toBe(false); // the first batch is not handled yet
    answers[0]();
    await d;
    expect(handled).toEqual([['a']]);
  });

  it('a timer sends the tail when the producer goes quiet', async () => {
    const sent: string[][] = [];
    const b = new Batcher<string>((x) => sent.push(x), 20);
    b.push('a');
    b.push('b');
    await new Promise((r) => setTimeout(r, 60));
    expect(sent).toEqual([['a', 'b']]);
  });
});

/** A minimal ustar archive writer for the tests. */
function tar(files: { name: string; bytes: Uint8Array; type?: string }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const f of files) {
    const h = new Uint8Array(512);
    const put = (s: string, off: number) => h.set(new TextEncoder().encode(s), off);
    put(f.name, 0);
    put('0000644\0', 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(f.bytes.length.toString(8).padStart(11, '0') + '\0', 124);
    put('00000000000\0', 136);
    put('        ', 148);
    put(f.type ?? '0', 156);
    put('ustar\0', 257);
    put('00', 263);
    let sum = 0;
    for (const x of h) sum += x;
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h);
    const body = new Uint8Array(Math.ceil(f.bytes.length / 512) * 512);
    body.set(f.bytes);
    blocks.push(body);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const records = (n: number, label = 3) => {
  const b = new Uint8Array(n * RECORD_BYTES);
  for (let i = 0; i < n; i++) b[i * RECORD_BYTES] = (label + i) % 10;
  return b;
};

describe('TarReader', () => {
  const archive = tar([
    { name: 'cifar-10-batches-bin/', bytes: new Uint8Array(0), type: '5' },
    { name: 'cifar-10-batches-bin/data_batch_1.bin', bytes: records(3) },
    { name: 'cifar-10-batches-bin/readme.html', bytes: new TextEncoder().encode('<b>hi</b>') },
    { name: 'cifar-10-batches-bin/test_batch.bin', bytes: records(2) },
  ]);

  it('streams entries out of arbitrary chunks and skips what is not wanted', () => {
    for (const chunk of [1, 7, 511, 512, 1000, archive.length]) {
      const got: string[] = [];
      const r = new TarReader(
        (e) => got.push(`${e.name}:${e.bytes.length}`),
        (n) => n.endsWith('.bin'),
      );
      for (let i = 0; i < archive.length; i += chunk) r.push(archive.subarray(i, i + chunk));
      r.end();
      expect(got).toEqual([`cifar-10-batches-bin/data_batch_1.bin:${3 * RECORD_BYTES}`, `cifar-10-batches-bin/test_batch.bin:${2 * RECORD_BYTES}`]);
    }
  });

  it('rejects garbage and truncated archives', () => {
    expect(() => new TarReader(() => {}).push(new Uint8Array(512).fill(65))).toThrow(/checksum/);
    const r = new TarReader(() => {});
    r.push(archive.subarray(0, 2000));
    expect(() => r.end()).toThrow(/truncated/);
  });
});

describe('parseUserFiles (in the worker)', () => {
  const noProgress = () => {};
  it('reads cifar-10-binary.tar.gz', async () => {
    const gz = gzipSync(tar([
      { name: 'cifar-10-batches-bin/data_batch_2.bin', bytes: records(4) },
      { name: 'cifar-10-batches-bin/data_batch_1.bin', bytes: records(3) },
      { name: 'cifar-10-batches-bin/test_batch.bin', bytes: records(2) },
    ]));
    const d = await parseUserFiles([new File([gz], 'cifar-10-binary.tar.gz')], noProgress);
    expect(d.train.count).toBe(7);
    expect(d.test.count).toBe(2);
    expect(d.source).toBe('your file cifar-10-binary.tar.gz');
    expect(d.train.labels[0]).toBe(3); // data_batch_1 first
  });

  it('reads loose .bin files, saying how much of the total it read, then that it parses', async () => {
    const seen: Progress[] = [];
    const d = await parseUserFiles([new File([records(2)], 'test_batch.bin'), new File([records(5)], 'data_batch_1.bin'), new File(['x'], 'batches.meta.txt')], (p) => seen.push(p));
    expect([d.train.count, d.test.count]).toEqual([5, 2]);
    const total = 7 * 3073;
    expect(seen).toEqual([
      { label: 'reading test_batch.bin', loaded: 0, total },
      { label: 'reading data_batch_1.bin', loaded: 2 * 3073, total },
      { label: `checking and parsing ${(total / 1e6).toFixed(1)} MB of CIFAR-10`, loaded: 0, total: null },
    ]);
  });

  it('explains bad files', async () => {
    await expect(parseUserFiles([new File([new Uint8Array(100)], 'data_batch_1.bin')], noProgress)).rejects.toThrow(/data_batch_1\.bin: 100 bytes is not a whole number/);
    await expect(parseUserFiles([new File([records(2)], 'data_batch_1.bin')], noProgress)).rejects.toThrow(/no test_batch\.bin .* pick the training batches and test_batch\.bin together/);
    await expect(parseUserFiles([new File(['hello'], 'cifar-10-binary.tar.gz')], noProgress)).rejects.toThrow(/not a gzip file/);
    await expect(parseUserFiles([new File([gzipSync(Buffer.from('not a tar'))], 'x.tar.gz')], noProgress)).rejects.toThrow(/x\.tar\.gz: (the tar archive is truncated|bad tar header)/);
    await expect(parseUserFiles([new File([gzipSync(tar([{ name: 'a.txt', bytes: new Uint8Array(3) }]))], 'x.tgz')], noProgress)).rejects.toThrow(/contains no data_batch/);
    await expect(parseUserFiles([new File(['x'], 'photo.jpg')], noProgress)).rejects.toThrow(/not a CIFAR-10 file/);
    const bad = records(2);
    bad[RECORD_BYTES] = 200;
    await expect(parseUserFiles([new File([bad], 'test_batch.bin'), new File([records(1)], 'data_batch_1.bin')], noProgress)).rejects.toThrow(/record 1 has label 200/);
  });
});

describe('ServerData (the local server’s folder, in the worker)', () => {
  it('says what it loads (MB of the total) and that it parses, also when the data was loaded before', async () => {
    const files: Record<string, Uint8Array> = { 'data_batch_1.bin': records(6), 'test_batch.bin': records(2) };
    const listing = { source: '/data/cifar', rule: './data', tried: [], problem: null, files: Object.entries(files).map(([name, b]) => ({ name, size: b.length })), download: { state: 'idle', received: 0, total: null, message: null } };
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      if (url === '/api/dataset') return new Response(JSON.stringify(listing));
      const bytes = files[decodeURIComponent(url.slice('/api/dataset/'.length))];
      const range = /bytes=0-(\d+)/.exec(new Headers(init?.headers).get('range') ?? '');
      const body = range ? bytes.subarray(0, Number(range[1]) + 1) : bytes;
      return new Response(body as Uint8Array<ArrayBuffer>, { status: range ? 206 : 200, headers: { 'content-length': String(body.length) } });
    });
    try {
      const server = new ServerData();
      const seen: Progress[] = [];
      const d = await server.load(4, (p) => seen.push(p));
      expect([d.train.count, d.test.count]).toEqual([4, 2]);
      const total = 6 * RECORD_BYTES;
      expect(seen).toContainEqual({ label: 'loading data_batch_1.bin from /data/cifar', loaded: 4 * RECORD_BYTES, total });
      expect(seen.at(-2)).toEqual({ label: 'loading test_batch.bin from /data/cifar', loaded: total, total });
      expect(seen.at(-1)).toEqual({ label: `checking and parsing ${(total / 1e6).toFixed(1)} MB of CIFAR-10`, loaded: 0, total: null });
      const again: Progress[] = [];
      await server.load(4, (p) => again.push(p));
      expect(again).toEqual([{ label: `checking and parsing ${(total / 1e6).toFixed(1)} MB of CIFAR-10 (loaded before)`, loaded: 0, total: null }]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('backend choice', () => {
  const adapter = (description: string, isFallbackAdapter = false): AdapterDescription => ({ vendor: 'google', architecture: '', device: '', description, isFallbackAdapter });
  const probe = (o: { gpu?: boolean; adapter?: AdapterDescription | null | Error; start?: Partial<Record<BackendName, boolean | Error>>; renderer?: string }): BackendProbe => ({
    hasNavigatorGpu: () => o.gpu ?? true,
    requestAdapter: async () => {
      if (o.adapter instanceof Error) throw o.adapter;
      return o.adapter === undefined ? adapter('NVIDIA GeForce RTX 4070') : o.adapter;
    },
    setBackend: async (name) => {
      const r = o.start?.[name] ?? true;
      if (r instanceof Error) throw r;
      return r;
    },
    webglRenderer: () => o.renderer ?? 'ANGLE (NVIDIA)',
  });

  it('WebGPU with a hardware adapter', async () => {
    const b = await chooseBackend(probe({}));
    expect(b).toMatchObject({ backend: 'webgpu', software: false });
    expect(b.reason).toMatch(/hardware adapter/);
  });
  it('names a software adapter', async () => {
    const b = await chooseBackend(probe({ adapter: adapter('SwiftShader Device (Subzero)') }));
    expect(b).toMatchObject({ backend: 'webgpu', software: true, softwareName: 'SwiftShader' });
    expect((await chooseBackend(probe({ adapter: adapter('', true) }))).software).toBe(true);
    expect(softwareName('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe('llvmpipe');
  });
  it('falls back to WebGL and says why', async () => {
    const noGpu = await chooseBackend(probe({ gpu: false, renderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))' }));
    expect(noGpu.backend).toBe('webgl');
    expect(noGpu.reason).toMatch(/^No WebGPU \(navigator\.gpu is missing.*\), so WebGL\. Its renderer is SwiftShader/);
    const noAdapter = await chooseBackend(probe({ adapter: null }));
    expect(noAdapter.reason).toMatch(/requestAdapter\(\) gave no adapter/);
    const broken = await chooseBackend(probe({ start: { webgpu: new Error('device lost') } }));
    expect(broken.backend).toBe('webgl');
    expect(broken.reason).toMatch(/device lost/);
  });
  it('then the CPU backend', async () => {
    const b = await chooseBackend(probe({ gpu: false, start: { webgl: false } }));
    expect(b.backend).toBe('cpu');
    expect(b.reason).toMatch(/Neither WebGPU nor WebGL/);
  });
  it('honours an explicit choice', async () => {
    expect((await chooseBackend(probe({}), 'webgl')).backend).toBe('webgl');
    expect((await chooseBackend(probe({}), 'cpu')).backend).toBe('cpu');
  });
});
