/// <reference lib="webworker" />
/**
 * Imports run files off the page's main thread: parsing and validating a long run's log (hundreds of
 * thousands of events) takes seconds, and the page must not freeze meanwhile. Writes straight to IndexedDB.
 */
import './zod-setup';
import * as Comlink from 'comlink';
import { importRun, parseRunFile } from '../runs/file';
import { RunStore } from '../runs/store';

export interface ImportWorkerApi {
  /** Parses, validates and stores one run file; rejects with a clear message for a bad one. `onProgress` says what it is doing. */
  importFile(file: File, onProgress?: (what: string) => void): Promise<{ id: string; name: string }>;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

const api: ImportWorkerApi = {
  async importFile(file, onProgress) {
    const say = (what: string) => void onProgress?.(what);
    const store = await RunStore.open();
    try {
      say(`reading ${mb(file.size)}`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      say(`checking ${mb(file.size)}`);
      const parsed = parseRunFile(bytes, file.name);
      const record = await importRun(store, parsed, (done, total) => say(`storing events (${done} of ${total})`));
      return { id: record.id, name: record.name };
    } finally {
      store.close();
    }
  },
};

Comlink.expose(api);
