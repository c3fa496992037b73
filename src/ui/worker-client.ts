import * as Comlink from 'comlink';
import type { WorkerApi } from '../worker/protocol';

export interface WorkerClient {
  api: Comlink.Remote<WorkerApi>;
  terminate(): void;
}

/** Starts the training worker (a module worker; tfjs and the engine live there). */
export function createWorkerClient(): WorkerClient {
  const worker = new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'lrpet-engine' });
  const api = Comlink.wrap<WorkerApi>(worker);
  return {
    api,
    terminate: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export { Comlink };
