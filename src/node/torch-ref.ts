/**
 * Node-only bridge to the PyTorch reference in reference/pytorch (lrpet_reference.py): spawns it
 * with the reference python and reads its JSON results. Used by the parity tests only.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PYTHON_ENV, referencePython } from '../../scripts/python.mjs';

export const REFERENCE_DIR = fileURLToPath(new URL('../../reference/pytorch/', import.meta.url));
export const REFERENCE_SCRIPT = `${REFERENCE_DIR}lrpet_reference.py`;
export const TORCH_MISSING = `PyTorch is required for the parity tests: apt-get install python3-torch python3-numpy (for /usr/bin/python3), or set ${PYTHON_ENV} to a python3 that has torch and numpy`;

let python: string | null = null;

/** The reference python (scripts/python.mjs: $LRPET_PYTHON, else /usr/bin/python3, else python3) if it has torch and numpy; throws Error(TORCH_MISSING …) if not. */
export function requireTorch(): string {
  if (python) return python;
  const { path, rule } = referencePython();
  const r = spawnSync(path, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (!r.error && r.status === 0) return (python = path);
  throw new Error(`${TORCH_MISSING} (${path}, chosen by ${rule}: ${r.error?.message ?? r.stderr.trim().split('\n').at(-1)})`);
}

/** Runs one command of lrpet_reference.py (single-threaded torch, so results do not depend on the core count). */
export function runReference(args: string[], timeoutMs = 300_000): void {
  const py = requireTorch();
  const env = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };
  const r = spawnSync(py, [REFERENCE_SCRIPT, ...args], { encoding: 'utf8', timeout: timeoutMs, env, cwd: REFERENCE_DIR, maxBuffer: 16 << 20 });
  if (r.error) throw new Error(`${py} ${REFERENCE_SCRIPT} ${args[0]} failed: ${r.error.message}`);
  if (r.status === 3) throw new Error(`${TORCH_MISSING}: ${r.stderr.trim()}`);
  if (r.status !== 0) throw new Error(`${py} ${REFERENCE_SCRIPT} ${args[0]} exited with ${r.status}: ${r.stderr}`);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The reference's training configuration (see lrpet_reference.py). */
export interface ReferenceConfig {
  model: string;
  steps: number;
  lr: number;
  momentum: number;
  weight_decay: number;
  wd_scope: 'kernels' | 'all';
  prune: number;
  interval: number;
  energy_transfer: boolean;
  beta: number;
  bn_rectification: boolean;
  final_hard_projection?: boolean;
  skip_full_rank?: boolean;
  /** Only for a deliberately wrong reference. */
  bn_eps?: number;
  /** Orders of the batch to train the float32 reference with (each a permutation of the images); default: as given. */
  float32_orders?: number[][];
}

export interface ReferenceRun {
  losses: number[];
  projections: { iteration: number; hard?: boolean; layers: Record<string, { rank: number; skipped: boolean; sigma?: number[]; alpha?: number }> }[];
  seconds: number;
}

export interface ReferenceResult {
  float64: ReferenceRun;
  /** One run per batch order asked for. */
  float32: ReferenceRun[];
}

/** The deliberately wrong references the logits command computes on request (--wrong NAME). */
export type WrongLogits = 'bn_eps' | 'kernels_hw';

export interface ReferenceLogits {
  float64: number[][];
  float32: number[][];
  /** Those asked for with --wrong. */
  wrong: Partial<Record<WrongLogits, { float64: number[][]; float32: number[][] }>>;
  metadata: Record<string, string>;
}
