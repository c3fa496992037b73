import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CSP, datasetMiddleware, findDatasetDir, staticMiddleware } from '../../scripts/serve.mjs';
import type { ServerListing } from './protocol';

// The `npm start` server (scripts/serve.mjs), on a temporary repository root.
let root = '';
let server: Server;
let base = '';

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
  const api = datasetMiddleware(root);
  const files = staticMiddleware(join(root, 'dist'));
  server = createServer((req, res) => api(req, res, () => files(req, res)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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

  it('the one-time download fails with a clear message when offline', async () => {
    const realFetch = globalThis.fetch;
    const offline = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).startsWith('https://')) throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
      return realFetch(url, init);
    });
    vi.stubGlobal('fetch', offline);
    try {
      await realFetch(`${base}/api/dataset/download`, { method: 'POST' });
      let state: ServerListing['download'] | null = null;
      for (let i = 0; i < 50; i++) {
        state = (await (await realFetch(`${base}/api/dataset/download`)).json()) as ServerListing['download'];
        if (state.state === 'error' || state.state === 'done') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(state?.state).toBe('error');
      expect(state?.message).toMatch(/could not reach https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz \(ENOTFOUND\): this machine seems to be offline/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
