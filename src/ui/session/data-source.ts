import type { DataChoice, DataInfo, Progress, ServerListing } from '../../worker/protocol';
import { Observable } from './observable';
import { errorText } from '../../engine/errors';
import { IMAGE_BYTES } from '../../engine/data/cifar';

/** A CIFAR-10 binary record: the label byte and the image. */
const CIFAR_RECORD_BYTES = IMAGE_BYTES + 1;

export interface ServerDataState {
  status: 'checking' | 'ready' | 'none' | 'error';
  listing: ServerListing | null;
  message: string | null;
}

export interface UserDataState {
  status: 'none' | 'loading' | 'ready' | 'error';
  /** How many times files were given (tests and screen readers can tell one error from the next). */
  attempt: number;
  info: DataInfo | null;
  progress: Progress | null;
  message: string | null;
}

export interface DataState {
  server: ServerDataState;
  user: UserDataState;
  /** What the user picked; null = the default. */
  choice: DataChoice | null;
  /** The data a run uses: the pick, else the user's files once loaded, else the local folder, else none. */
  effective: DataChoice | null;
}

export interface DataSourceOptions {
  /** Parses the files in the worker (it keeps them for its runs). */
  loadFiles: (files: File[], onProgress: (p: Progress) => void) => Promise<DataInfo>;
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Between two looks at a server download's progress. */
  sleep?: (ms: number) => Promise<void>;
}

const effectiveOf = (s: Omit<DataState, 'effective'>): DataChoice | null =>
  s.choice ?? (s.user.status === 'ready' ? 'files' : s.server.status === 'ready' ? 'server' : null);

/**
 * Where a run's CIFAR-10 comes from: the local server's folder (its listing at /api/dataset, and the
 * one-time download it can make) or files the user picked, parsed in the worker.
 */
export class DataSource {
  private readonly state = new Observable<DataState>({
    server: { status: 'checking', listing: null, message: null },
    user: { status: 'none', attempt: 0, info: null, progress: null, message: null },
    choice: null,
    effective: null,
  });
  private readonly o: Required<DataSourceOptions>;

  constructor(o: DataSourceOptions) {
    this.o = {
      loadFiles: o.loadFiles,
      fetch: o.fetch ?? ((url, init) => fetch(url, init)),
      sleep: o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    };
  }

  readonly subscribe = this.state.subscribe;
  readonly getSnapshot = this.state.get;

  /** Where the data a run starts on now comes from, in words (kept with batch runs, for the claims report). */
  note(): string | undefined {
    const d = this.state.get();
    if (d.effective === 'server') return d.server.listing?.source ? `CIFAR-10 binary files in the local folder ${d.server.listing.source}` : undefined;
    if (d.effective === 'files') return d.user.info ? `CIFAR-10 loaded in the page from ${d.user.info.source}` : undefined;
    return undefined;
  }

  private set(patch: Partial<Omit<DataState, 'effective'>>): void {
    const next = { ...this.state.get(), ...patch };
    this.state.set({ ...patch, effective: effectiveOf(next) });
  }

  choose(choice: DataChoice | null): void {
    this.set({ choice });
  }

  /** Asks the local server what it has; resolves with its listing (null when there is no server). */
  async refreshServer(): Promise<ServerListing | null> {
    let server: ServerDataState;
    try {
      const res = await this.o.fetch('/api/dataset', { cache: 'no-store' });
      if (!res.ok) throw new Error(`the local server answered HTTP ${res.status} for /api/dataset`);
      const listing = (await res.json()) as ServerListing;
      server = { status: listing.source !== null && !listing.problem ? 'ready' : 'none', listing, message: listing.problem };
    } catch (e) {
      server = { status: 'error', listing: null, message: `no dataset server: ${errorText(e)} (the page was not opened through \`npm start\` / \`npm run dev\`)` };
    }
    this.set({ server });
    return server.listing;
  }

  /** Resolves true when the files were parsed and are now the data runs use. */
  async loadFiles(files: File[]): Promise<boolean> {
    if (!files.length) return false;
    const user = (patch: Partial<UserDataState>) => this.set({ user: { ...this.state.get().user, ...patch } });
    this.set({ choice: null, user: { status: 'loading', attempt: this.state.get().user.attempt + 1, info: null, progress: null, message: null } });
    try {
      const info = await this.o.loadFiles(files, (progress) => user({ progress }));
      user({ status: 'ready', info, progress: null, message: null });
      this.set({ choice: 'files' });
      return true;
    } catch (e) {
      user({ status: 'error', info: null, progress: null, message: errorText(e) });
      return false;
    }
  }

  /** Has the local server download CIFAR-10 once into ./data, and follows its progress to the end. */
  async requestServerDownload(pollMs = 500): Promise<void> {
    await this.o.fetch('/api/dataset/download', { method: 'POST' });
    for (;;) {
      const st = (await this.refreshServer())?.download.state;
      if (!st || st === 'done' || st === 'error' || st === 'idle') return;
      await this.o.sleep(pollMs);
    }
  }
}

/** Images in the training and test sets of the data a run would use now; null while unknown. */
export function datasetCounts(d: DataState): { train: number; test: number } | null {
  if (d.effective === 'files' && d.user.info) return { train: d.user.info.trainCount, test: d.user.info.testCount };
  if (d.effective !== 'server' || !d.server.listing) return null;
  const records = (match: (name: string) => boolean) => d.server.listing!.files.filter((f) => match(f.name)).reduce((n, f) => n + Math.floor(f.size / CIFAR_RECORD_BYTES), 0);
  return { train: records((n) => /^data_batch_\d+\.bin$/.test(n)), test: records((n) => n === 'test_batch.bin') };
}
