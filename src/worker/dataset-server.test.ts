import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAppServer, CSP, datasetMiddleware, findDatasetDir, OFFICIAL_MD5, unpackCifarArchive } from '../../scripts/serve.mjs';
import type { ServerListing } from './protocol';

// The `npm start` server (scripts/serve.mjs), on a temporary repository root.
let root = '';
let server: Server;
let port = 0;
let base = '';

const listen = async (s: Server): Promise<number> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};

/** A raw request, so that Host and Origin can be anything (fetch sets Host itself); host '' sends none. */
function raw(p: number, path: string, { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  const all: Record<string, string> = { host: `127.0.0.1:${p}`, ...headers };
  const setHost = all.host !== '';
  if (!setHost) delete all.host;
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: p, path, method, headers: all, setHost }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** A tar archive (POSIX ustar) of the given entries. type: '0' file, '2' symlink, '5' folder. */
function tarOf(entries: { name: string; data?: Buffer; type?: string; link?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, data = Buffer.alloc(0), type = '0', link = '' } of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write(type, 156, 'latin1');
    h.write(link, 157, 100, 'utf8');
    h.write('ustar\x0000', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const RECORD = 3073;
const BINS = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
/** A small stand-in for cifar-10-binary.tar.gz: the official member names, 2 records per batch. */
const goodEntries = () => [
  { name: 'cifar-10-batches-bin/', type: '5' },
  ...BINS.map((b, i) => ({ name: `cifar-10-batches-bin/${b}`, data: Buffer.alloc(RECORD * 2, i + 1) })),
  { name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('airplane\nautomobile\n') },
  { name: 'cifar-10-batches-bin/readme.html', data: Buffer.from('<p>readme</p>') },
];
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lrpet-serve-'));
  mkdirSync(join(root, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(root, 'dist', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'dist', 'assets', 'a.js'), 'export {}');
  const dir = join(root, 'data', 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'data_batch_1.bin'), Buffer.alloc(3073 * 4, 1));
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.alloc(3073 * 2, 2));
  writeFileSync(join(dir, 'secret.txt'), 'no');
  // the download must never reach the internet from these tests
  server = createAppServer(root, { url: 'http://127.0.0.1:1/cifar-10-binary.tar.gz' });
  port = await listen(server);
  base = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('dataset server', () => {
  it('finds the folder in the documented order', () => {
    expect(findDatasetDir(root, {})).toMatchObject({ dir: join(root, 'data', 'cifar-10-batches-bin'), rule: './data' });
    expect(findDatasetDir(root, { CIFAR10_DIR: join(root, 'dist') })).toMatchObject({ dir: join(root, 'dist'), rule: '$CIFAR10_DIR' });
    const missing = findDatasetDir(root, { CIFAR10_DIR: join(root, 'nope') });
    expect(missing.dir).toBeNull();
    expect(missing.problem).toMatch(/\$CIFAR10_DIR is set to .*nope, which is not a folder/);
    const empty = mkdtempSync(join(tmpdir(), 'lrpet-empty-'));
    try {
      expect(findDatasetDir(join(empty, 'repo'), {})).toMatchObject({ dir: null, problem: 'no CIFAR-10 folder found' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('lists the files with their sizes', async () => {
    const l = (await (await fetch(`${base}/api/dataset`)).json()) as ServerListing;
    expect(l.rule).toBe('./data');
    expect(l.problem).toBeNull();
    expect(l.files).toEqual([
      { name: 'data_batch_1.bin', size: 3073 * 4 },
      { name: 'test_batch.bin', size: 3073 * 2 },
    ]);
  });

  it('serves byte ranges, and only CIFAR-10 file names', async () => {
    const r = await fetch(`${base}/api/dataset/data_batch_1.bin`, { headers: { range: 'bytes=0-3072' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 0-3072/${3073 * 4}`);
    expect((await r.arrayBuffer()).byteLength).toBe(3073);
    expect((await fetch(`${base}/api/dataset/test_batch.bin`)).status).toBe(200);
    expect((await fetch(`${base}/api/dataset/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/api/dataset/..%2F..%2Fdist%2Findex.html`)).status).toBe(404);
    expect((await fetch(`${base}/api/dataset/data_batch_1.bin`, { headers: { range: 'bytes=99999999-' } })).status).toBe(416);
  });

  it('serves the page with its CSP (no unsafe-eval) and never outside dist/', async () => {
    const r = await fetch(`${base}/`);
    expect(r.headers.get('content-security-policy')).toBe(CSP);
    expect(CSP).not.toContain("'unsafe-eval'");
    expect(CSP).toContain("'wasm-unsafe-eval'");
    expect(await r.text()).toContain('<title>t</title>');
    expect((await fetch(`${base}/assets/a.js`)).headers.get('content-type')).toMatch(/javascript/);
    const escape = await fetch(`${base}/..%2F..%2Fetc%2Fpasswd`);
    expect([403, 200]).toContain(escape.status);
    expect(await escape.text()).not.toMatch(/root:/);
  });
});

describe('only its own Host, and the download only from its own page', () => {
  it('answers 127.0.0.1, localhost and [::1] on its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await raw(port, '/api/dataset', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('a foreign Host (DNS rebinding) gets 403 and no listing, no file, no page', async () => {
    for (const host of ['attacker.example', `attacker.example:${port}`, `127.0.0.1:${port + 1}`, `localhost`, `127.0.0.1.attacker.example:${port}`, '']) {
      for (const path of ['/api/dataset', '/api/dataset/test_batch.bin', '/api/dataset/download', '/']) {
        const r = await raw(port, path, { headers: { host } });
        // (Node's server itself answers 400 to an HTTP/1.1 request without Host)
        expect(r.status, `${host} ${path}`).toBe(host === '' ? 400 : 403);
        expect(r.body).not.toContain(root);
        expect(r.body).not.toContain('<title>');
      }
    }
  });

  it('POST /api/dataset/download from a foreign or missing Origin gets 403 and starts nothing', async () => {
    const before = readdirSync(join(root, 'data'));
    const attempts: Record<string, string>[] = [
      {}, // no Origin: not the page
      { origin: 'http://attacker.example' },
      { origin: `http://attacker.example:${port}` },
      { origin: `http://127.0.0.1:${port + 1}` },
      { origin: `https://127.0.0.1:${port}` },
      { origin: 'null' },
      { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` }, // rebinding: both foreign
    ];
    for (const headers of attempts) {
      const r = await raw(port, '/api/dataset/download', { method: 'POST', headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 100));
    const state = (await (await fetch(`${base}/api/dataset/download`)).json()) as ServerListing['download'];
    expect(state).toEqual({ state: 'idle', received: 0, total: null, message: null });
    expect(readdirSync(join(root, 'data'))).toEqual(before);
  });

  it('the middleware Vite uses applies the same Host rule', async () => {
    const api = datasetMiddleware(root);
    const s = createServer((req, res) =>
      api(req, res, () => {
        res.writeHead(404);
        res.end();
      }),
    );
    const p = await listen(s);
    try {
      expect((await raw(p, '/api/dataset')).status).toBe(200);
      expect((await raw(p, '/api/dataset', { headers: { host: `attacker.example:${p}` } })).status).toBe(403);
      expect((await raw(p, '/api/dataset/download', { method: 'POST', headers: { origin: 'http://attacker.example' } })).status).toBe(403);
    } finally {
      s.close();
    }
  });
});

describe('the one-time download', () => {
  let archiveServer: Server;
  let archivePort = 0;
  const bodies = new Map<string, Buffer>();

  beforeAll(async () => {
    archiveServer = createServer((req, res) => {
      if (req.url === '/stalls.tar.gz') {
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(100)); // …and nothing more
        return;
      }
      const body = bodies.get(req.url ?? '');
      if (!body) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length });
      res.end(body);
    });
    archivePort = await listen(archiveServer);
  });

  afterAll(() => {
    archiveServer.closeAllConnections();
    archiveServer.close();
  });

  /** A fresh repository root with no data, its server downloading `path` of the archive server. */
  async function downloadFrom(path: string, expectedMd5: string, stallMs?: number) {
    const r = mkdtempSync(join(tmpdir(), 'lrpet-dl-'));
    const app = createAppServer(join(r, 'repo'), { url: `http://127.0.0.1:${archivePort}${path}`, md5: expectedMd5, stallMs });
    mkdirSync(join(r, 'repo'));
    const p = await listen(app);
    const own = { host: `127.0.0.1:${p}`, origin: `http://127.0.0.1:${p}` };
    expect((await raw(p, '/api/dataset/download', { method: 'POST', headers: own })).status).toBe(202);
    let state: ServerListing['download'] | null = null;
    for (let i = 0; i < 200; i++) {
      state = JSON.parse((await raw(p, '/api/dataset/download')).body) as ServerListing['download'];
      if (state.state === 'error' || state.state === 'done') break;
      await new Promise((res) => setTimeout(res, 25));
    }
    app.close();
    const data = join(r, 'repo', 'data');
    return { state: state!, data, cleanup: () => rmSync(r, { recursive: true, force: true }), top: r };
  }

  it('fails with a clear message when offline', async () => {
    const realFetch = globalThis.fetch;
    const offline = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).startsWith('https://')) throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
      return realFetch(url, init);
    });
    const r = mkdtempSync(join(tmpdir(), 'lrpet-off-'));
    const app = createAppServer(r, { env: {} }); // the official URL
    const p = await listen(app);
    vi.stubGlobal('fetch', offline);
    try {
      await raw(p, '/api/dataset/download', { method: 'POST', headers: { origin: `http://127.0.0.1:${p}` } });
      let state: ServerListing['download'] | null = null;
      for (let i = 0; i < 50; i++) {
        state = JSON.parse((await raw(p, '/api/dataset/download')).body) as ServerListing['download'];
        if (state.state === 'error' || state.state === 'done') break;
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(state?.state).toBe('error');
      expect(state?.message).toMatch(/could not reach https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz \(ENOTFOUND\): this machine seems to be offline/);
    } finally {
      vi.unstubAllGlobals();
      app.close();
      rmSync(r, { recursive: true, force: true });
    }
  });

  it('$CIFAR10_URL overrides where it downloads from; the official MD5 is the default', async () => {
    const wrong = gzipSync(tarOf(goodEntries()));
    bodies.set('/env.tar.gz', wrong);
    const r = mkdtempSync(join(tmpdir(), 'lrpet-env-'));
    const app = createAppServer(r, { env: { CIFAR10_URL: `http://127.0.0.1:${archivePort}/env.tar.gz` } });
    const p = await listen(app);
    try {
      await raw(p, '/api/dataset/download', { method: 'POST', headers: { origin: `http://127.0.0.1:${p}` } });
      let state: ServerListing['download'] | null = null;
      for (let i = 0; i < 100; i++) {
        state = JSON.parse((await raw(p, '/api/dataset/download')).body) as ServerListing['download'];
        if (state.state === 'error' || state.state === 'done') break;
        await new Promise((res) => setTimeout(res, 20));
      }
      expect(state?.state).toBe('error');
      expect(state?.message).toContain(`http://127.0.0.1:${archivePort}/env.tar.gz did not send the official cifar-10-binary.tar.gz (MD5 ${md5(wrong)}, expected ${OFFICIAL_MD5})`);
    } finally {
      app.close();
      rmSync(r, { recursive: true, force: true });
    }
  });

  it('a wrong archive is refused: clear error, the file removed, nothing unpacked', async () => {
    const body = Buffer.from('<html>a captive portal, not CIFAR-10</html>');
    bodies.set('/wrong.tar.gz', body);
    const { state, data, cleanup } = await downloadFrom('/wrong.tar.gz', OFFICIAL_MD5);
    try {
      expect(state.state).toBe('error');
      expect(state.message).toMatch(/did not send the official cifar-10-binary\.tar\.gz \(MD5 [0-9a-f]{32}, expected c32a1d4ab5d03f1284b67883e8d87530\): the download was removed and nothing was unpacked/);
      expect(state.received).toBe(body.length);
      expect(readdirSync(data)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('a download that stalls fails with a clear message and leaves nothing', async () => {
    const { state, data, cleanup } = await downloadFrom('/stalls.tar.gz', OFFICIAL_MD5, 300);
    try {
      expect(state.state).toBe('error');
      expect(state.message).toBe(`the download from http://127.0.0.1:${archivePort}/stalls.tar.gz stalled (no data for 0.3 s)`);
      expect(state).toMatchObject({ received: 100, total: 1000 });
      expect(readdirSync(data)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('the right archive is unpacked, with its progress reported', async () => {
    const body = gzipSync(tarOf(goodEntries()));
    bodies.set('/good.tar.gz', body);
    const { state, data, cleanup } = await downloadFrom('/good.tar.gz', md5(body));
    try {
      expect(state).toMatchObject({ state: 'done', received: body.length, total: body.length });
      expect(state.message).toBe(`CIFAR-10 is in ${join(data, 'cifar-10-batches-bin')}`);
      expect(readdirSync(data).sort()).toEqual(['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
      expect(readdirSync(join(data, 'cifar-10-batches-bin')).sort()).toEqual(['batches.meta.txt', ...BINS, 'readme.html'].sort());
      expect(readFileSync(join(data, 'cifar-10-batches-bin', 'test_batch.bin'))).toEqual(Buffer.alloc(RECORD * 2, 6));
    } finally {
      cleanup();
    }
  });

  it('unpacks only the expected member names: ../evil, an extra file and a link are skipped', async () => {
    const body = gzipSync(
      tarOf([
        ...goodEntries(),
        { name: '../evil', data: Buffer.from('pwned') },
        { name: 'cifar-10-batches-bin/../../evil2', data: Buffer.from('pwned') },
        { name: 'cifar-10-batches-bin/extra.sh', data: Buffer.from('#!/bin/sh\n') },
        { name: 'cifar-10-batches-bin/sub/data_batch_1.bin', data: Buffer.alloc(RECORD) },
        { name: '/tmp/abs-evil', data: Buffer.from('pwned') },
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: Buffer.alloc(RECORD, 9) }, // a second copy
        { name: 'cifar-10-batches-bin/link', type: '2', link: '/etc/passwd' },
      ]),
    );
    bodies.set('/evil.tar.gz', body);
    const { state, data, top, cleanup } = await downloadFrom('/evil.tar.gz', md5(body));
    try {
      expect(state.state).toBe('done');
      expect(state.message).toContain('skipped unexpected members: "../evil", "cifar-10-batches-bin/../../evil2", "cifar-10-batches-bin/extra.sh", "cifar-10-batches-bin/sub/data_batch_1.bin", "/tmp/abs-evil", "cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/link"');
      expect(readdirSync(join(data, 'cifar-10-batches-bin')).sort()).toEqual(['batches.meta.txt', ...BINS, 'readme.html'].sort());
      expect(readFileSync(join(data, 'cifar-10-batches-bin', 'data_batch_1.bin'))).toEqual(Buffer.alloc(RECORD * 2, 1)); // the first copy
      expect(existsSync(join(data, 'evil'))).toBe(false);
      expect(existsSync(join(top, 'repo', 'evil'))).toBe(false);
      expect(existsSync(join(top, 'repo', 'evil2'))).toBe(false);
      expect(existsSync('/tmp/abs-evil')).toBe(false);
    } finally {
      cleanup();
    }
  });
});

describe('unpackCifarArchive', () => {
  const withDir = async (fn: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'lrpet-unpack-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('reads what GNU tar writes', () =>
    withDir(async (dir) => {
      const src = join(dir, 'src', 'cifar-10-batches-bin');
      mkdirSync(src, { recursive: true });
      for (const [i, b] of BINS.entries()) writeFileSync(join(src, b), Buffer.alloc(RECORD * 3 + i, i));
      const archive = join(dir, 'a.tar.gz');
      const t = spawnSync('tar', ['czf', archive, '-C', join(dir, 'src'), 'cifar-10-batches-bin'], { encoding: 'utf8' });
      expect(t.status, `tar is needed for this test: ${t.error?.message ?? t.stderr}`).toBe(0);
      mkdirSync(join(dir, 'data'));
      expect(await unpackCifarArchive(archive, join(dir, 'data'))).toEqual({ skipped: [] });
      for (const [i, b] of BINS.entries()) expect(readFileSync(join(dir, 'data', 'cifar-10-batches-bin', b))).toEqual(Buffer.alloc(RECORD * 3 + i, i));
    }));

  it('an archive without the batches, a truncated one, or not gzip at all: an error and nothing left', () =>
    withDir(async (dir) => {
      const cases: [string, Buffer, RegExp][] = [
        ['nobatches.tar.gz', gzipSync(tarOf([{ name: 'cifar-10-batches-bin/readme.html', data: Buffer.from('x') }])), /has no cifar-10-batches-bin\/data_batch_1\.bin, .*test_batch\.bin: nothing was unpacked/],
        ['truncated.tar.gz', gzipSync(tarOf(goodEntries()).subarray(0, 5000)), /is truncated: nothing was unpacked/],
        ['cut.tar.gz', gzipSync(tarOf(goodEntries())).subarray(0, 200), /is not a complete gzip archive/],
        ['plain.tar.gz', tarOf(goodEntries()), /is not a complete gzip archive/],
      ];
      for (const [name, bytes, message] of cases) {
        const data = join(dir, `data-${name}`);
        mkdirSync(data);
        writeFileSync(join(dir, name), bytes);
        await expect(unpackCifarArchive(join(dir, name), data), name).rejects.toThrow(message);
        expect(readdirSync(data), name).toEqual([]);
      }
    }));

  it('never overwrites an existing folder', () =>
    withDir(async (dir) => {
      const data = join(dir, 'data');
      mkdirSync(join(data, 'cifar-10-batches-bin'), { recursive: true });
      writeFileSync(join(data, 'cifar-10-batches-bin', 'data_batch_1.bin'), 'mine');
      writeFileSync(join(dir, 'a.tar.gz'), gzipSync(tarOf(goodEntries())));
      await expect(unpackCifarArchive(join(dir, 'a.tar.gz'), data)).rejects.toThrow(/cifar-10-batches-bin already exists: move it away/);
      expect(readFileSync(join(data, 'cifar-10-batches-bin', 'data_batch_1.bin'), 'utf8')).toBe('mine');
      expect(readdirSync(data)).toEqual(['cifar-10-batches-bin']);
    }));
});
