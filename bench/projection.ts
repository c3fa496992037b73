/**
 * Projection benchmark: one full LRPET projection (src/engine/linalg projectMatrix, BN scale on) of
 * every conv of ResNet-56 (55 convs, p = 0.57) and VGG-16 (13 convs, rank floors 18 / 43), next to
 * numpy float64 Gram + eigh on the same matrices in the same run (bench/numpy_ref.py times itself).
 *
 *   npx tsx bench/projection.ts            (npm run bench)
 *   npx tsx bench/projection.ts --js       also time the plain-JavaScript fallback (slow)
 *   npx tsx bench/projection.ts --phases   also print where our time goes
 *
 * Other benchmarks can reuse runProjectionBench() and printRows() and add their own rows.
 */
import { pathToFileURL } from 'node:url';
import { linalgBackend, projectMatrix, type LinalgOptions } from '../src/engine/linalg';
import { planModel } from '../src/engine/plan';
import { numpyBench, type ContainerItem } from '../src/node/numpy-ref';

export interface Row {
  /** What was timed, e.g. "ResNet-56 projection". */
  model: string;
  /** Number of matrices (or any short description of the workload). */
  matrices: number | string;
  oursMs: number | null;
  numpyMs: number | null;
  /** oursMs / numpyMs. */
  ratio: number | null;
  /** Target for the ratio (ours must be within target× of numpy), null if informational. */
  target: number | null;
  /** numpy with a single BLAS thread (ours is single-threaded), and oursMs / that. */
  numpy1Ms?: number | null;
  ratio1?: number | null;
  note?: string;
}

export interface ConvShape {
  name: string;
  K: number;
  O: number;
  rank: number;
}

/** The convs of a model as the engine plans them (same shapes and ranks as a real run). */
function planShapes(model: 'resnet56' | 'vgg16', prune: number, rankFloors: boolean): ConvShape[] {
  const plan = planModel(model, { prune, target: null, rankOverrides: {}, rankFloors, projectDense: false });
  return plan.layers.filter((l) => l.kind === 'conv').map((l) => ({ name: `${model}.${l.name}`, K: l.shape[1], O: l.shape[0], rank: l.rank }));
}

/** ResNet-56's 55 convs at p = 0.57 (ranks 6/13/27). */
export const resnet56Shapes = (p = 0.57): ConvShape[] => planShapes('resnet56', p, false);

/** VGG-16's 13 convs at the official rank floors (18, then 43). */
export const vgg16Shapes = (): ConvShape[] => planShapes('vgg16', 0.99, true);

interface Layer extends ConvShape {
  wt: Float32Array;
  scale: Float64Array;
}

function makeLayers(shapes: ConvShape[], seed: number): Layer[] {
  let s = seed >>> 0;
  const uni = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(uni())) * Math.cos(2 * Math.PI * uni());
  return shapes.map((sh) => {
    const std = Math.sqrt(2 / sh.K);
    const wt = new Float32Array(sh.K * sh.O);
    for (let i = 0; i < wt.length; i++) wt[i] = gauss() * std;
    const scale = new Float64Array(sh.O);
    for (let j = 0; j < sh.O; j++) scale[j] = 0.2 + 1.6 * uni();
    return { ...sh, wt, scale };
  });
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : 0.5 * (a[m - 1] + a[m]);
}

/**
 * Median wall time (ms) of projecting every layer once with the given linalg options, after
 * `warmup` untimed passes. With `phases`, the per-phase times of the timed passes are added into
 * it (summed over repeats).
 */
function timeOurs(layers: Layer[], repeats: number, warmup: number, linalg: LinalgOptions, phases?: Record<string, number>): number {
  const run = (opts: LinalgOptions): number => {
    const t0 = performance.now();
    for (const L of layers) projectMatrix(L.wt, L.K, L.O, { rank: L.rank, scale: L.scale, beta: 0, energyTransfer: true, ...opts });
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) run(linalg);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(run({ ...linalg, phases }));
  return median(times);
}

export interface BenchOptions {
  /** Timed repeats per model (median reported). Default 21 for ResNet-56 (short), 5 for VGG-16. */
  repeats?: number;
  /** Also time the plain-JavaScript fallback (informational rows; slow). Default false (CLI: --js). */
  jsFallback?: boolean;
  /** Print where our time goes (fill, gram, tridiag, …) per model. Default false (CLI: --phases). */
  phases?: boolean;
}

export async function runProjectionBench(opts: BenchOptions = {}): Promise<Row[]> {
  const models = [
    { model: 'ResNet-56', layers: makeLayers(resnet56Shapes(), 56), target: 3, repeats: opts.repeats ?? 21 },
    { model: 'VGG-16', layers: makeLayers(vgg16Shapes(), 16), target: 5, repeats: opts.repeats ?? 5 },
  ];
  const repeats = Object.fromEntries(models.map((m) => [m.model, m.repeats]));
  const items: ContainerItem[] = [];
  for (const m of models) {
    for (const L of m.layers) items.push({ meta: { group: m.model, K: L.K, O: L.O }, arrays: { wt: L.wt, scale: L.scale } });
  }
  const ref = numpyBench(items, repeats);
  // single-threaded BLAS for context (ours is single-threaded; numpy's default uses every core)
  const ref1 = numpyBench(items, repeats, 1);
  const rows: Row[] = [];
  const backend = linalgBackend();
  for (const m of models) {
    const phases: Record<string, number> = {};
    const ours = timeOurs(m.layers, m.repeats, 2, {}, phases);
    const np = ref.groups[m.model].medianMs;
    const np1 = ref1.groups[m.model].medianMs;
    const notes = [`ours: full projection, 1 thread (${backend}); numpy ${ref.numpy} (${ref.blas}): Gram + eigh`];
    // numpy's default uses every core; when it is slower than one thread, the machine is busy
    if (np > np1) notes.push(`numpy with all cores was slower than with 1 thread: the machine is busy, compare with the 1-thread column`);
    if (opts.phases) {
      const total = Object.values(phases).reduce((a, b) => a + b, 0);
      notes.push('phases: ' + Object.entries(phases).map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)}%`).join(', '));
    }
    rows.push({
      model: `${m.model} projection`,
      matrices: m.layers.length,
      oursMs: ours,
      numpyMs: np,
      ratio: ours / np,
      target: m.target,
      numpy1Ms: np1,
      ratio1: ours / np1,
      note: notes.join('; '),
    });
  }
  if (opts.jsFallback ?? false) {
    for (const m of models) {
      const ours = timeOurs(m.layers, Math.min(m.repeats, 3), 1, { backend: 'js' });
      const np = ref.groups[m.model].medianMs;
      const np1 = ref1.groups[m.model].medianMs;
      rows.push({
        model: `${m.model} projection, plain JS`,
        matrices: m.layers.length,
        oursMs: ours,
        numpyMs: np,
        ratio: ours / np,
        target: null,
        numpy1Ms: np1,
        ratio1: ours / np1,
        note: 'fallback for runtimes without wasm SIMD (informational)',
      });
    }
  }
  return rows;
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '—' : x.toFixed(digits);
}

function fmtRatio(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : `${x.toFixed(2)}×`;
}

/** Prints rows as a plain-text table. */
export function printRows(rows: Row[]): void {
  const head = ['model', 'matrices', 'ours ms', 'numpy ms', 'ratio', 'target', 'ok', 'numpy 1-thread ms', 'ratio 1-thread'];
  const body = rows.map((r) => [
    r.model,
    String(r.matrices),
    fmt(r.oursMs, 1),
    fmt(r.numpyMs, 1),
    fmtRatio(r.ratio),
    r.target === null ? '—' : `${r.target}×`,
    r.target === null || r.ratio === null ? '' : r.ratio <= r.target ? 'yes' : 'NO',
    fmt(r.numpy1Ms ?? null, 1),
    fmtRatio(r.ratio1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.model}: ${r.note}`);
  if (notes.length) console.log(notes.join('\n'));
}

async function main(): Promise<void> {
  const rows = await runProjectionBench({ jsFallback: process.argv.includes('--js'), phases: process.argv.includes('--phases') });
  // Further rows (e.g. a training-step timing) can be appended here before printing.
  printRows(rows);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
