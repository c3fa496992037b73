/**
 * What projections did to the gradients in recorded runs (event logs from `npx lrpet train --log`, or
 * the page's downloads): per run, how ‖∇W‖/‖W‖, ‖∇W‖ and ‖W‖ (= ‖∇W‖ / the ratio) changed from the step
 * right before each projection to the step right after it, as geometric means over the layers and over
 * the projections (the first projection, from the dense initial weights, apart from the later ones),
 * next to the same between consecutive records with no projection between them (the control: how much
 * the gradients change from one mini-batch to another anyway), and the trend of ‖∇W‖/‖W‖ over the run.
 *
 *   npx tsx bench/grad-flow.ts with-et.jsonl without-et.jsonl [--layers]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import type { GradNormsEvent, ProjectionEvent } from '../src/engine/events';
import { valueText } from '../src/engine/settings';
import { parseRunFile } from '../src/runs/file';
import { gradValue, jumpFactor, projectionJumps, type GradMetric, type ProjectionJump } from '../src/ui/state/gradients';

const { values, positionals } = parseArgs({ options: { layers: { type: 'boolean' } }, allowPositionals: true });
if (!positionals.length) {
  console.log('usage: npx tsx bench/grad-flow.ts RUN.jsonl [RUN.jsonl ...] [--layers]');
  process.exit(1);
}

const x = (f: number | null) => (f === null ? '   –   ' : `×${f.toFixed(3)}`);
/** ‖W‖ from a record: ‖∇W‖ / (‖∇W‖/‖W‖). */
const weightNorm = (e: GradNormsEvent): GradNormsEvent => ({ ...e, grad: e.grad.map((g, j) => g / e.ratio[j]) });
const geoMean = (xs: number[]) => Math.exp(xs.reduce((s, v) => s + Math.log(v), 0) / xs.length);

for (const file of positionals) {
  const run = parseRunFile(new Uint8Array(readFileSync(file)), basename(file));
  const start = run.events.find((e) => e.type === 'runStart')!;
  const grads = run.events.filter((e): e is GradNormsEvent => e.type === 'gradNorms');
  const projections = run.events.filter((e): e is ProjectionEvent => e.type === 'projection');
  const last = run.events.filter((e) => e.type === 'epoch').at(-1);
  const c = start.config;
  console.log(`\n${file}: ${c.model}, p ${c.lrpet.prune}, ${valueText('energyTransfer', c.lrpet.energyTransfer, 'long')}, ${projections.length} projections, ${grads.length} gradient records` +
    (last && last.type === 'epoch' ? `, test accuracy after epoch ${last.epoch + 1}: ${(last.testAccuracy * 100).toFixed(1)}%` : ''));
  const split = (js: ProjectionJump[]) => ({ first: jumpFactor(js.filter((j) => j.iteration === projections[0]?.iteration)), later: jumpFactor(js.filter((j) => j.iteration !== projections[0]?.iteration)), n: js.length });
  const norms = grads.map(weightNorm);
  const rows: [string, GradMetric, GradNormsEvent[]][] = [
    ['‖∇W‖/‖W‖', 'ratio', grads],
    ['‖∇W‖', 'grad', grads],
    ['‖W‖', 'grad', norms],
  ];
  console.log('  across a projection (after / before; geometric mean over layers, then over projections):');
  // Consecutive records with no projection between them, as if they were a projection's pair.
  const projected = new Set(projections.map((p) => p.iteration));
  const control = (events: GradNormsEvent[], metric: GradMetric, layer: number | null) => {
    const pairs: ProjectionJump[] = [];
    for (let i = 1; i < events.length; i++) {
      const [a, b] = [events[i - 1], events[i]];
      let between = false;
      for (let it = a.iteration; it < b.iteration && !between; it++) between = projected.has(it);
      const before = gradValue(a, metric, layer);
      const after = gradValue(b, metric, layer);
      if (!between && before !== null && after !== null) pairs.push({ iteration: a.iteration, before, after });
    }
    return { factor: jumpFactor(pairs), n: pairs.length };
  };
  for (const [name, metric, events] of rows) {
    const s = split(projectionJumps(events, projections, metric, null));
    const c = control(events, metric, null);
    console.log(`    ${name.padEnd(9)} first ${x(s.first)}   later ${x(s.later)}  (${s.n} projections with a step after)   control ${x(c.factor)} (${c.n} pairs without a projection)`);
  }
  if (values.layers) {
    console.log('  per layer, later projections: ‖∇W‖/‖W‖, ‖∇W‖, ‖W‖; control ‖∇W‖/‖W‖');
    start.layers.forEach((l, j) => {
      const f = (m: GradMetric, events: GradNormsEvent[]) => split(projectionJumps(events, projections, m, j)).later;
      console.log(`    ${l.name.padEnd(22)} ${x(f('ratio', grads))}  ${x(f('grad', grads))}  ${x(f('grad', norms))};  ${x(control(grads, 'ratio', j).factor)}`);
    });
  }
  // The trend: ‖∇W‖/‖W‖ (geometric mean over layers) of the plain samples in the first and last fifth of the run.
  const samples = grads.filter((g) => g.reasons.includes('sample'));
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const mean = (es: GradNormsEvent[]) => geoMean(es.map((e) => gradValue(e, 'ratio', null)!));
  if (samples.length >= 2) {
    console.log(`  trend of ‖∇W‖/‖W‖ over the run (samples): first fifth ${mean(samples.slice(0, fifth)).toPrecision(3)}, last fifth ${mean(samples.slice(-fifth)).toPrecision(3)}`);
    const depth = start.layers.map((_, j) => geoMean(samples.slice(-fifth).map((e) => e.grad[j])));
    console.log(`  ‖∇W‖ by depth (last fifth): ${start.layers.map((l, j) => `${l.name} ${depth[j].toPrecision(3)}`).join(', ')}`);
  }
}
