/**
 * Node-only bridge to the float64 numpy/LAPACK reference in bench/numpy_ref.py, for the linalg
 * tests and bench/projection.ts. Never imported by engine code (index.ts does not export it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON_ENV, referencePython } from '../../scripts/python.mjs';

const NUMPY_SCRIPT = fileURLToPath(new URL('../../bench/numpy_ref.py', import.meta.url));
const NUMPY_MISSING = `numpy is required: apt-get install python3-numpy (for /usr/bin/python3), or set ${PYTHON_ENV} to a python3 that has numpy`;

export interface ContainerItem {
  meta: Record<string, unknown>;
  arrays: Record<string, ArrayLike<number>>;
}

function writeContainer(path: string, extraHeader: Record<string, unknown>, items: ContainerItem[]): void {
  const chunks: Float64Array[] = [];
  let pos = 0;
  const headerItems = items.map((it) => {
    const arrays: Record<string, [number, number]> = {};
    for (const [name, a] of Object.entries(it.arrays)) {
      arrays[name] = [pos, a.length];
      chunks.push(Float64Array.from(a));
      pos += a.length;
    }
    return { ...it.meta, arrays };
  });
  const hbytes = Buffer.from(JSON.stringify({ ...extraHeader, items: headerItems }), 'utf8');
  const headLen = 8 + hbytes.length;
  const pad = (8 - (headLen % 8)) % 8;
  const buf = Buffer.alloc(headLen + pad + pos * 8);
  buf.write('LRPB', 0, 'latin1');
  buf.writeUInt32LE(hbytes.length, 4);
  hbytes.copy(buf, 8);
  let off = headLen + pad;
  for (const c of chunks) {
    Buffer.from(c.buffer, c.byteOffset, c.byteLength).copy(buf, off);
    off += c.byteLength;
  }
  writeFileSync(path, buf);
}

function readContainer(path: string): { header: Record<string, unknown>; items: { meta: Record<string, unknown>; arrays: Record<string, Float64Array> }[] } {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 4) !== 'LRPB') throw new Error(`${path}: not an LRPB file`);
  const hlen = buf.readUInt32LE(4);
  const header = JSON.parse(buf.toString('utf8', 8, 8 + hlen)) as Record<string, unknown> & { items: Record<string, unknown>[] };
  let start = 8 + hlen;
  start += (8 - (start % 8)) % 8;
  const payload = new Float64Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  const items = header.items.map((raw) => {
    const { arrays, ...meta } = raw as { arrays: Record<string, [number, number]> };
    const out: Record<string, Float64Array> = {};
    for (const [name, [o, n]] of Object.entries(arrays)) out[name] = payload.slice(o, o + n);
    return { meta, arrays: out };
  });
  return { header, items };
}

let python: string | null = null;

/** The reference python (scripts/python.mjs: $LRPET_PYTHON, else /usr/bin/python3, else python3) if it has numpy; throws Error(NUMPY_MISSING) if not. */
function pythonWithNumpy(): string {
  if (python) return python;
  const { path, rule } = referencePython();
  const r = spawnSync(path, ['-c', 'import numpy'], { encoding: 'utf8' });
  if (!r.error && r.status === 0) return (python = path);
  throw new Error(`${NUMPY_MISSING} (${path}, chosen by ${rule}: ${r.error?.message ?? r.stderr.trim().split('\n').at(-1)})`);
}

/** Throws Error(NUMPY_MISSING) unless a python3 with numpy is found. */
export function requireNumpy(): void {
  pythonWithNumpy();
}

/** BLAS thread-count variables; single-threaded BLAS is far more predictable on a shared machine. */
function threadEnv(threads: number | null): NodeJS.ProcessEnv {
  if (threads === null) return process.env;
  const t = String(threads);
  return { ...process.env, OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, MKL_NUM_THREADS: t };
}

function runPython(args: string[], timeoutMs: number, threads: number | null): string {
  const r = spawnSync(pythonWithNumpy(), [NUMPY_SCRIPT, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, env: threadEnv(threads) });
  if (r.error) throw new Error(`python3 ${NUMPY_SCRIPT} failed: ${r.error.message}`);
  if (r.status === 3) throw new Error(NUMPY_MISSING);
  if (r.status !== 0) throw new Error(`python3 ${NUMPY_SCRIPT} ${args[0]} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Runs the "compute" mode of numpy_ref.py over the items (single-threaded BLAS); returns its
 * results in item order.
 */
export function numpyCompute(items: ContainerItem[], timeoutMs = 120_000): { meta: Record<string, unknown>; arrays: Record<string, Float64Array> }[] {
  requireNumpy();
  const dir = mkdtempSync(join(tmpdir(), 'lrpet-linalg-'));
  try {
    const inp = join(dir, 'in.bin');
    const outp = join(dir, 'out.bin');
    writeContainer(inp, {}, items);
    runPython(['compute', inp, outp], timeoutMs, 1);
    return readContainer(outp).items;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface NumpyBenchResult {
  numpy: string;
  blas: string;
  groups: Record<string, { medianMs: number; timesMs: number[]; matrices: number }>;
}

/**
 * Runs the "bench" mode (numpy times Gram + eigh per group itself). threads: BLAS threads, null =
 * numpy's default (all cores).
 */
export function numpyBench(
  items: ContainerItem[],
  repeats: number | Record<string, number>,
  threads: number | null = null,
  timeoutMs = 600_000,
): NumpyBenchResult {
  requireNumpy();
  const dir = mkdtempSync(join(tmpdir(), 'lrpet-bench-'));
  try {
    const inp = join(dir, 'in.bin');
    writeContainer(inp, { repeats }, items);
    return JSON.parse(runPython(['bench', inp], timeoutMs, threads)) as NumpyBenchResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
