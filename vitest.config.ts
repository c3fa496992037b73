import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Seconds each of the slowest test files took in a CI run (2 cores, two files at a time). Vitest runs a fresh clone's files
 * largest first, and these are small files that train: they came last, and the run waited on one of them
 * alone. Longest first, the two workers stay busy to the end (about 30 s less here).
 */
const SLOW_FILES: Record<string, number> = {
  'src/node/torch-parity.test.ts': 100,
  'src/node/real-data.test.ts': 80,
  'src/engine/long-run-memory.test.ts': 74,
  'src/cli/cli.test.ts': 50,
  'src/node/torch-parity-cpu.test.ts': 45,
  'src/engine/run-baselines.test.ts': 30,
  'src/engine/run.test.ts': 16,
  'src/engine/grad-norms.test.ts': 14,
  'src/engine/run-recipe.test.ts': 12,
  'src/engine/linalg/projection.test.ts': 11,
  'src/webgpu-kernels/kernels.test.ts': 9,
};

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const cost = (f: TestSpecification) => SLOW_FILES[f.moduleId.slice(f.project.config.root.length + 1)] ?? 0;
    return base.map((f, i) => ({ f, i, c: cost(f) })).sort((a, b) => b.c - a.c || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
  },
});
