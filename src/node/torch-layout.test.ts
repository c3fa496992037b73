import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MODEL_NAMES } from '../engine/config';
import { buildModel } from '../engine/models/builders';
import { torchLayout } from '../engine/weights/pytorch-layout';
import { REFERENCE_DIR, REFERENCE_SCRIPT, requireTorch } from './torch-ref';

describe('the exported names are the PyTorch modules’ state_dict (reference/pytorch/lrpet_models.py)', () => {
  it('for every model: same names, order, shapes and dtypes', () => {
    const py = requireTorch();
    const r = spawnSync(py, [REFERENCE_SCRIPT, 'names', ...MODEL_NAMES], { encoding: 'utf8', cwd: REFERENCE_DIR, maxBuffer: 16 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const torch = JSON.parse(r.stdout) as Record<string, [string, number[], string][]>;
    for (const model of MODEL_NAMES) {
      const mine = torchLayout(buildModel(model)).map((t) => [t.name, t.shape, t.layout === 'counter' ? 'int64' : 'float32']);
      expect(mine, model).toEqual(torch[model]);
    }
  });
});
