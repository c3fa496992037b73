#!/usr/bin/env node
// Bundles what the lent GPU machine runs (it has a bare `node` and no node_modules) into .gpubundle/:
//   gpu-bench.mjs       bench/gpu.ts: per-kernel GFLOP/s, the benchmark model's images/s, memory check
//   lrpet.mjs           the headless runner (src/cli, as `npx lrpet`): `node .gpubundle/lrpet.mjs train …`
//   engine-profile.mjs  bench/engine-profile.ts: where one engine training step spends its GPU time
//   gpu-report.mjs      scripts/gpu/report.ts: engine log summaries, results.json and summary.md
// esbuild --bundle --platform=node --format=esm --splitting: tfjs and the engine live once, in a shared
// chunk. keepNames: the profile reads WGSL program names from their class names, which minifying would
// erase. Dawn's binary is not bundled: src/node/webgpu-node.ts loads it from $WEBGPU_DAWN_NODE, which
// .gpu/device-setup.sh sets (see scripts/gpu/README.md). Usage: node scripts/gpu/bundle.mjs
import { readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, '.gpubundle');
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: {
    'gpu-bench': join(root, 'bench', 'gpu.ts'),
    lrpet: join(root, 'scripts', 'gpu', 'lrpet-cli.ts'),
    'engine-profile': join(root, 'bench', 'engine-profile.ts'),
    'gpu-report': join(root, 'scripts', 'gpu', 'report.ts'),
  },
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  // tfjs's ES modules: a dynamic import() of a CommonJS module in a split chunk yields only its default export.
  mainFields: ['module', 'main'],
  format: 'esm',
  target: 'node20',
  // Dawn's native binding, loaded at run time from $WEBGPU_DAWN_NODE.
  external: ['*.node', 'webgpu'],
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  // tfjs's Node entry is CommonJS and require()s Node built-ins: give the ESM bundle a require.
  banner: { js: "import { createRequire as __lrpetCreateRequire } from 'node:module'; const require = __lrpetCreateRequire(import.meta.url);" },
});

const files = readdirSync(outdir);
const mib = files.reduce((s, f) => s + statSync(join(outdir, f)).size, 0) / 2 ** 20;
console.log(`wrote ${outdir}: ${files.join(', ')} (${mib.toFixed(2)} MiB)`);
if (mib > 8) {
  console.error('the bundles are larger than 8 MiB: with .gpu (~55 MiB with data) they may not fit the 64 MiB carry limit');
  process.exit(1);
}
