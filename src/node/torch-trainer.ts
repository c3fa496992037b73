/**
 * Node-only bridge to the PyTorch trainer (lrpet-torch/) for the tests: runs `python -m lrpet_torch` (one
 * process) or torchrun (several, gloo on the CPU) with the reference python, and reads what it wrote.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineEvent } from '../engine/events';
import type { CifarDataset } from '../engine/data/cifar';
import { writeCifarBin } from './parity';
import { requireTorch } from './torch-ref';

export const TRAINER_DIR = fileURLToPath(new URL('../../lrpet-torch/', import.meta.url));
export const TRAINER_TESTS = join(TRAINER_DIR, 'tests');

/** Single-threaded torch (results do not depend on the core count), the package on the path. */
export function trainerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: TRAINER_DIR, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1', ...extra };
}

export interface Finished {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a python command (arguments after the interpreter) to the end. */
export function runPython(args: string[], o: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Finished {
  const r = spawnSync(requireTorch(), args, { encoding: 'utf8', env: trainerEnv(o.env), cwd: o.cwd, timeout: o.timeoutMs ?? 300_000, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`python ${args.join(' ')}: ${r.error.message}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** `python -m lrpet_torch …`; throws with its stderr unless it exits 0 (or with `expect`). */
export function trainer(args: string[], o: { env?: Record<string, string>; expect?: number; timeoutMs?: number } = {}): Finished {
  const r = runPython(['-m', 'lrpet_torch', ...args], o);
  if (r.status !== (o.expect ?? 0)) throw new Error(`lrpet_torch ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-4000)}`);
  return r;
}

/** A TCP port free on this machine now (for a torchrun job's store). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * torchrun's arguments for `nproc` processes on this machine, with the static rendezvous on `port` (its c10d
 * rendezvous, --standalone, failed now and then to reconnect to its store for a restart on this loaded
 * machine). Debian's torch 1.13 under Python 3.11 crashes with torchrun's default --redirects 0;
 * --redirects 2 --tee 2 works (and keeps stderr on the console).
 */
export function torchrunArgs(nproc: number, port: number, args: string[], extra: string[] = []): string[] {
  return ['-m', 'torch.distributed.run', '--nnodes', '1', '--master_port', String(port), '--nproc_per_node', String(nproc), '--redirects', '2', '--tee', '2', '--monitor_interval', '0.2', ...extra, '-m', 'lrpet_torch', ...args];
}

/** Starts a python command without waiting (for the tests that signal or kill a worker). */
export function startPython(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(requireTorch(), args, { env: trainerEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  return { child, done };
}

/** A dataset as a folder of CIFAR-10 binary batches (data_batch_1.bin, test_batch.bin), as the trainer reads it. */
export function writeCifarDir(dir: string, data: CifarDataset): string {
  mkdirSync(dir, { recursive: true });
  writeCifarBin(join(dir, 'data_batch_1.bin'), data.train);
  writeCifarBin(join(dir, 'test_batch.bin'), data.test);
  return dir;
}

/** The events a run wrote (out/events.jsonl), as plain JSON. */
export function readEvents(out: string): EngineEvent[] {
  return readFileSync(join(out, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EngineEvent);
}

export const stepLosses = (events: EngineEvent[]): number[] => events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));

/** One record of --trace: a step's image indices, crop/flip draws, the process's share and its input images (float32 NCHW). */
export interface TraceStep {
  iteration: number;
  indices: number[];
  lo: number;
  hi: number;
  shape: number[];
  dy?: number[];
  dx?: number[];
  flip?: boolean[];
  images: string;
}

export function readTrace(prefix: string, rank: number): TraceStep[] {
  return readFileSync(`${prefix}.${rank}.jsonl`, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as TraceStep);
}

export const traceImages = (t: TraceStep): Float32Array => new Float32Array(new Uint8Array(Buffer.from(t.images, 'base64')).buffer);
