import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DataInfo, Progress, ServerListing } from '../../worker/protocol';
import { DataSource } from './data-source';

const listing = (over: Partial<ServerListing> = {}): ServerListing => ({
  source: '/data/cifar-10-batches-bin',
  rule: '../shared',
  tried: ['./data/cifar-10-batches-bin'],
  problem: null,
  files: [{ name: 'test_batch.bin', size: 30_730_000 }],
  download: { state: 'idle', received: 0, total: null, message: null },
  ...over,
});

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
const info: DataInfo = { kind: 'files', source: 'cifar-10-binary.tar.gz', trainCount: 50000, testCount: 10000, bytes: 1 };

function source(o: { answers?: (() => Promise<Response>)[]; loadFiles?: (files: File[], onProgress: (p: Progress) => void) => Promise<DataInfo> } = {}) {
  const requests: { url: string; method: string }[] = [];
  const answers = [...(o.answers ?? [])];
  const data = new DataSource({
    fetch: (url, init) => {
      requests.push({ url, method: init?.method ?? 'GET' });
      const next = answers.length > 1 ? answers.shift()! : answers[0];
      return next ? next() : Promise.reject(new TypeError('Failed to fetch'));
    },
    loadFiles: o.loadFiles ?? (() => Promise.reject(new Error('no files expected'))),
    sleep: async () => {},
  });
  return { data, requests };
}

describe('DataSource', () => {
  afterEach(() => vi.unstubAllGlobals());

  it("asks the page's own server when no fetch is given (options left undefined are defaults)", async () => {
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => (urls.push(url), json(listing())));
    const data = new DataSource({ fetch: undefined, sleep: undefined, loadFiles: () => Promise.reject(new Error('no files expected')) });
    await data.refreshServer();
    expect(urls).toEqual(['/api/dataset']);
    expect(data.getSnapshot().effective).toBe('server');
  });

  it("the local server's folder: found, not found, or no server at all", async () => {
    const found = source({ answers: [async () => json(listing())] });
    expect(found.data.getSnapshot()).toMatchObject({ server: { status: 'checking' }, effective: null });
    expect((await found.data.refreshServer())?.source).toBe('/data/cifar-10-batches-bin');
    expect(found.data.getSnapshot()).toMatchObject({ server: { status: 'ready', message: null }, effective: 'server' });

    const none = source({ answers: [async () => json(listing({ source: null, problem: 'no CIFAR-10 folder found' }))] });
    await none.data.refreshServer();
    expect(none.data.getSnapshot()).toMatchObject({ server: { status: 'none', message: 'no CIFAR-10 folder found' }, effective: null });

    const broken = source({ answers: [async () => json({}, 500)] });
    await broken.data.refreshServer();
    expect(broken.data.getSnapshot().server).toMatchObject({ status: 'error', listing: null });
    expect(broken.data.getSnapshot().server.message).toMatch(/HTTP 500 for \/api\/dataset.*npm start/);

    const offline = source();
    expect(await offline.data.refreshServer()).toBeNull();
    expect(offline.data.getSnapshot().server.message).toMatch(/^no dataset server: Failed to fetch/);
  });

  it("the user's files: progress while the worker parses them, then they are the data runs use", async () => {
    let report: (p: Progress) => void = () => {};
    let done: (i: DataInfo) => void = () => {};
    const s = source({
      answers: [async () => json(listing())],
      loadFiles: (_files, onProgress) => {
        report = onProgress;
        return new Promise((r) => (done = r));
      },
    });
    await s.data.refreshServer();
    s.data.choose('server');
    const loading = s.data.loadFiles([new File([new Uint8Array(4)], 'cifar-10-binary.tar.gz')]);
    expect(s.data.getSnapshot()).toMatchObject({ user: { status: 'loading', attempt: 1 }, choice: null, effective: 'server' });
    report({ label: 'unpacking', loaded: 1, total: 4 });
    expect(s.data.getSnapshot().user.progress).toEqual({ label: 'unpacking', loaded: 1, total: 4 });
    done(info);
    expect(await loading).toBe(true);
    expect(s.data.getSnapshot()).toMatchObject({ user: { status: 'ready', info, progress: null }, choice: 'files', effective: 'files' });
    s.data.choose('server');
    expect(s.data.getSnapshot().effective).toBe('server');
  });

  it('bad files: the reason is shown, each attempt counted, and the folder stays the data', async () => {
    const s = source({ answers: [async () => json(listing())], loadFiles: () => Promise.reject(new Error('test_batch.bin: 1000 bytes is not a whole number of records')) });
    await s.data.refreshServer();
    expect(await s.data.loadFiles([])).toBe(false);
    expect(s.data.getSnapshot().user.attempt).toBe(0);
    for (const attempt of [1, 2]) {
      expect(await s.data.loadFiles([new File([new Uint8Array(1000)], 'test_batch.bin')])).toBe(false);
      expect(s.data.getSnapshot()).toMatchObject({ user: { status: 'error', attempt, message: 'test_batch.bin: 1000 bytes is not a whole number of records' }, effective: 'server' });
    }
  });

  it("the server's one-time download is followed until it is over", async () => {
    const states = ['downloading', 'extracting', 'done'] as const;
    const s = source({
      answers: [
        async () => json({ ok: true }),
        ...states.map((state) => async () => json(listing({ source: state === 'done' ? '/data/cifar-10-batches-bin' : null, download: { state, received: 1, total: 2, message: state } }))),
      ],
    });
    await s.data.requestServerDownload();
    expect(s.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/dataset/download', 'GET /api/dataset', 'GET /api/dataset', 'GET /api/dataset']);
    expect(s.data.getSnapshot()).toMatchObject({ server: { status: 'ready' }, effective: 'server' });
  });
});
