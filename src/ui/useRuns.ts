import { useCallback, useEffect, useState } from 'react';
import { exportRun, importRun, parseRunFile } from '../runs/file';
import { RunStore, storageWarning, type RunRecord } from '../runs/store';
import { saveBlob } from './download';

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export interface RunsState {
  store: RunStore | null;
  /** IndexedDB could not be opened (runs cannot be kept). */
  storeProblem: string | null;
  runs: RunRecord[];
  usage: { runs: number; estimate: { usage: number; quota: number } | null } | null;
  warning: string | null;
  /** Runs that were going when the page went away (found at start-up). */
  interrupted: RunRecord[];
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'run';

/** The runs kept in the browser (IndexedDB): the list, its storage use, and what can be done with a run. */
export function useRuns() {
  const [state, setState] = useState<RunsState>({ store: null, storeProblem: null, runs: [], usage: null, warning: null, interrupted: [] });
  const [importStatus, setImportStatus] = useState<{ ok: boolean; message: string } | null>(null);

  const refresh = useCallback(async (store: RunStore) => {
    const [runs, usage] = await Promise.all([store.listRuns(), store.usage()]);
    setState((s) => ({ ...s, runs, usage, warning: usage.estimate ? storageWarning(usage.estimate, 0) : null }));
  }, []);

  useEffect(() => {
    let alive = true;
    (async () => {
      try {
        const store = await RunStore.open();
        const interrupted = await store.markInterrupted();
        if (!alive) return;
        setState((s) => ({ ...s, store, interrupted }));
        await refresh(store);
      } catch (e) {
        if (alive) setState((s) => ({ ...s, storeProblem: `the browser's storage (IndexedDB) is not available, so runs cannot be kept: ${errorText(e)}` }));
      }
    })();
    return () => {
      alive = false;
    };
  }, [refresh]);

  const { store } = state;
  const changed = useCallback(() => void (store && refresh(store).catch(() => undefined)), [store, refresh]);

  const rename = useCallback(async (id: string, name: string) => {
    if (!store || !name.trim()) return;
    await store.renameRun(id, name.trim());
    changed();
  }, [store, changed]);

  const remove = useCallback(async (id: string) => {
    if (!store) return;
    await store.deleteRun(id);
    setState((s) => ({ ...s, interrupted: s.interrupted.filter((r) => r.id !== id) }));
    changed();
  }, [store, changed]);

  const exportOne = useCallback(async (id: string) => {
    if (!store) return;
    const run = await store.getRun(id);
    const bytes = await exportRun(store, id);
    saveBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `${safeName(run?.name ?? id)}.lrpet.zip`);
  }, [store]);

  /** Imports files one after another; each bad file is reported, none stops the others. */
  const importFiles = useCallback(async (files: File[]) => {
    if (!store) return;
    const done: string[] = [];
    const failed: string[] = [];
    for (const f of files) {
      try {
        const parsed = parseRunFile(new Uint8Array(await f.arrayBuffer()), f.name);
        const estimate = (await store.usage()).estimate;
        const warn = estimate ? storageWarning(estimate, f.size) : null;
        if (warn) failed.push(`${f.name}: ${warn}`);
        const rec = await importRun(store, parsed);
        done.push(rec.name);
      } catch (e) {
        failed.push(`${f.name}: ${errorText(e)}`);
      }
    }
    setImportStatus(failed.length ? { ok: false, message: failed.join('\n') } : { ok: true, message: `imported ${done.join(', ')}` });
    changed();
  }, [store, changed]);

  const dismissInterrupted = useCallback(() => setState((s) => ({ ...s, interrupted: [] })), []);

  return { ...state, refresh: changed, rename, remove, exportOne, importFiles, importStatus, dismissInterrupted };
}

export type Runs = ReturnType<typeof useRuns>;
