import * as Comlink from 'comlink';
import type { WorkerApi } from '../worker/protocol';

/** The worker's API as the page calls it: every call answers with a promise. */
export type WorkerRemote = { [K in keyof WorkerApi]: (...args: Parameters<WorkerApi[K]>) => Promise<Awaited<ReturnType<WorkerApi[K]>>> };

export interface WorkerClient {
  api: WorkerRemote;
  /** Wraps a callback so the worker can call it (comlink passes functions by proxy). */
  proxy<T extends object>(value: T): T;
  terminate(): void;
}

/** Starts the training worker (a module worker; tfjs and the engine live there). */
export function createWorkerClient(): WorkerClient {
  const worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'lrpet-engine' });
  const api = Comlink.wrap<WorkerApi>(worker);
  return {
    api,
    proxy: (value) => Comlink.proxy(value),
    terminate: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
