import { useCallback, useEffect, useState } from 'react';
import * as Comlink from 'comlink';
import { exportRun } from '../runs/file';
import type { ImportWorkerApi } from '../worker/import-worker';
import { RunStore, storageWarning, type RunRecord } from '../runs/store';
import { saveBlob } from './download';
import { RUN_LOCK_PREFIX } from '../runs/run-lock';
import { errorText } from '../engine/errors';

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

/** Ids of runs another tab is recording now (it holds their Web Lock, see runLockName). */
async function runsRecordedElsewhere(): Promise<Set<string>> {
  if (typeof navigator === 'undefined' || !navigator.locks) return new Set();
  const { held = [] } = await navigator.locks.query();
  return new Set(held.flatMap((l) => (l.name?.startsWith(RUN_LOCK_PREFIX) ? [l.name.slice(RUN_LOCK_PREFIX.length)] : [])));
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
        const interrupted = await store.markInterrupted(await runsRecordedElsewhere());
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

  const [exportStatus, setExportStatus] = useState<{ ok: boolean; message: string } | null>(null);
  const exportOne = useCallback(async (id: string) => {
    if (!store) return;
    const run = await store.getRun(id);
    const filename = `${safeName(run?.name ?? id)}.lrpet.zip`;
    // Reading a long run's log and zipping it takes a while (the zipping blocks this thread: the message is painted first).
    setExportStatus({ ok: true, message: `preparing ${filename} (reading the run, compressing its log)…` });
    await new Promise((r) => setTimeout(r, 50));
    try {
      const bytes = await exportRun(store, id);
      saveBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), filename);
      setExportStatus(null);
    } catch (e) {
      setExportStatus({ ok: false, message: `${filename} could not be prepared: ${errorText(e)}` });
    }
  }, [store]);

  /**
   * Imports files one after another; each bad file is reported, none stops the others. A compact model's
   * .safetensors given with one run log (the PyTorch trainer's output folder: events.jsonl and
   * compact.safetensors) becomes that run's stored compact model, turned into a graph model by
   * `compactZip` (in the training worker), so its inference speed can be measured like a browser run's.
   */
  const importFiles = useCallback(async (given: File[], compactZip?: (bytes: Uint8Array, name: string) => Promise<Uint8Array>) => {
    if (!store) return;
    const models = given.filter((f) => f.name.endsWith('.safetensors'));
    const files = given.filter((f) => !f.name.endsWith('.safetensors'));
    const done: string[] = [];
    const doneIds: string[] = [];
    const failed: string[] = [];
    setImportStatus({ ok: true, message: `importing ${files.length} file${files.length === 1 ? '' : 's'}…` });
    const worker = new Worker(new URL('../worker/import-worker.ts', import.meta.url), { type: 'module', name: 'lrpet-import' });
    const api = Comlink.wrap<ImportWorkerApi>(worker);
    try {
      const estimate = (await store.usage()).estimate;
      let incoming = 0;
      for (const [i, f] of files.entries()) {
        try {
          incoming += f.size;
          const warn = estimate ? storageWarning(estimate, incoming) : null;
          if (warn) failed.push(`${f.name}: ${warn}`);
          const of = files.length > 1 ? ` (${i + 1} of ${files.length})` : '';
          // Progress comes through its own message channel and may arrive after the answer: once the file is done, it is ignored.
          let current = true;
          const onProgress = Comlink.proxy((what: string) => {
            if (current) setImportStatus({ ok: true, message: `importing ${f.name}${of}: ${what}…` });
          });
          try {
            const run = await api.importFile(f, onProgress);
            done.push(run.name);
            doneIds.push(run.id);
          } finally {
            current = false;
          }
        } catch (e) {
          failed.push(`${f.name}: ${errorText(e)}`);
        }
      }
    } finally {
      api[Comlink.releaseProxy]();
      worker.terminate();
    }
    const compact = models.filter((f) => f.name === 'compact.safetensors' || /compact/.test(f.name));
    for (const f of models) {
      if (!compact.includes(f)) failed.push(`${f.name}: only a compact model's .safetensors is kept with a run (its dense one is not needed)`);
    }
    if (compact.length) {
      if (compact.length > 1 || doneIds.length !== 1 || !compactZip) failed.push(`${compact.map((f) => f.name).join(', ')}: a compact model imports together with exactly one run log (the trainer's events.jsonl and compact.safetensors)`);
      else {
        try {
          setImportStatus({ ok: true, message: `importing ${compact[0].name}: making its graph model…` });
          await store.putModel(doneIds[0], await compactZip(new Uint8Array(await compact[0].arrayBuffer()), compact[0].name));
          done.push(`${compact[0].name} (its compact model)`);
        } catch (e) {
          failed.push(`${compact[0].name}: ${errorText(e)}`);
        }
      }
    }
    setImportStatus(failed.length ? { ok: false, message: failed.join('\n') } : { ok: true, message: `imported ${done.join(', ')}` });
    changed();
  }, [store, changed]);

  const dismissInterrupted = useCallback(() => setState((s) => ({ ...s, interrupted: [] })), []);

  return { ...state, refresh: changed, rename, remove, exportOne, exportStatus, importFiles, importStatus, dismissInterrupted };
}

export type Runs = ReturnType<typeof useRuns>;
