#!/usr/bin/env node
// Bundles the WebGPU benchmark (bench/gpu.ts, with tfjs and src/webgpu-kernels) into one file that runs
// with a bare `node` on the lent GPU machine (no node_modules there):
//   esbuild --bundle --platform=node --format=esm --external:*.node  →  .gpubundle/gpu-bench.mjs
// Dawn's binary is not bundled: src/node/webgpu-node.ts loads it from $WEBGPU_DAWN_NODE, which
// .gpu/device-setup.sh sets (see scripts/gpu/README.md). Usage: node scripts/gpu/bundle.mjs
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outfile = join(root, '.gpubundle', 'gpu-bench.mjs');

await build({
  entryPoints: [join(root, 'bench', 'gpu.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dawn's native binding, loaded at run time from $WEBGPU_DAWN_NODE.
  external: ['*.node', 'webgpu'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // tfjs's Node entry is CommonJS and require()s Node built-ins: give the ESM bundle a require.
  banner: { js: "import { createRequire as __lrpetCreateRequire } from 'node:module'; const require = __lrpetCreateRequire(import.meta.url);" },
});

const mib = statSync(outfile).size / 2 ** 20;
console.log(`wrote ${outfile} (${mib.toFixed(2)} MiB)`);
if (mib > 8) {
  console.error('bundle is larger than 8 MiB: with .gpu (~55 MiB with data) it may not fit the 64 MiB carry limit');
  process.exit(1);
}
