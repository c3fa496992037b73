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
  /** Parses, validates and stores one run file; rejects with a clear message for a bad one. */
  importFile(file: File): Promise<{ id: string; name: string }>;
}

const api: ImportWorkerApi = {
  async importFile(file) {
    const store = await RunStore.open();
    try {
      const parsed = parseRunFile(new Uint8Array(await file.arrayBuffer()), file.name);
      const record = await importRun(store, parsed);
      return { id: record.id, name: record.name };
    } finally {
      store.close();
    }
  },
};

Comlink.expose(api);
