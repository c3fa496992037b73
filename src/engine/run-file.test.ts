import { describe, expect, it } from 'vitest';
import { parseRunConfig } from './config';
import { launchCommands, shellWord } from './launch';
import { parseRunFileText, RUN_FILE_FORMAT, runFileText, RunConfigFileError } from './run-file';
import { runFileJsonSchema } from './run-file-schema';

const text = (value: unknown) => JSON.stringify(value);

describe('run.json', () => {
  it('is the run config with its format tag first, and reads back as the same config', () => {
    const config = parseRunConfig({ model: 'resnet56', epochs: 30, lrpet: { prune: 0.6, rankOverrides: { 'stem/conv': 4 } }, schedule: { kind: 'cosine' } });
    const file = runFileText(config);
    expect(Object.keys(JSON.parse(file))[0]).toBe('format');
    expect(JSON.parse(file).format).toBe(RUN_FILE_FORMAT);
    expect(parseRunFileText(file)).toEqual(config);
    expect(file.endsWith('}\n')).toBe(true);
  });

  it('fills what it does not give with the defaults, including the two that depend on another field', () => {
    const vgg = parseRunFileText(text({ format: RUN_FILE_FORMAT, model: 'vgg16', epochs: 40 }));
    expect(vgg.lrpet.rankFloors).toBe(true);
    expect(vgg.schedule).toEqual({ kind: 'step', milestones: [20, 30], gamma: 0.1 });
    expect(parseRunFileText(text({ format: RUN_FILE_FORMAT, model: 'vgg16', lrpet: { rankFloors: false } })).lrpet.rankFloors).toBe(false);
    expect(parseRunFileText(text({ format: RUN_FILE_FORMAT, model: 'resnet56' })).lrpet.rankFloors).toBe(false);
    expect(parseRunFileText(text({ format: RUN_FILE_FORMAT }))).toEqual(parseRunConfig({}));
  });

  it.each([
    ['not JSON', '{"format": ', /run\.json is not valid JSON/],
    ['not an object', '[1, 2]', /not a JSON object of run settings/],
    ['no format', text({ model: 'resnet20' }), /has no 'format' field: a run config file starts with "format": "lrpet-run-config\/1"/],
    ['another format', text({ format: 'lrpet-run-config/2' }), /field 'format': "lrpet-run-config\/2" is not a run config format this version reads/],
    ['an exported run’s run.json', text({ format: 'lrpet-run', version: 1, config: {} }), /the run\.json of an exported run \(\.lrpet\.zip\)/],
    ['a misspelt setting', text({ format: RUN_FILE_FORMAT, learningRate: 0.1 }), /field 'learningRate': not a setting \(the settings there: model, lrpet, lr,/],
    ['a misspelt nested setting', text({ format: RUN_FILE_FORMAT, lrpet: { prun: 0.5 } }), /field 'lrpet\.prun': not a setting \(the settings there: enabled, prune,/],
    ['a key the schedule does not have', text({ format: RUN_FILE_FORMAT, schedule: { kind: 'constant', milestones: [1] } }), /field 'schedule\.milestones': not a setting/],
    ['a value out of bounds', text({ format: RUN_FILE_FORMAT, lrpet: { prune: 1.2 } }), /field 'lrpet\.prune': .*1/],
    ['a wrong type', text({ format: RUN_FILE_FORMAT, batchSize: '128' }), /field 'batchSize': .*number/],
    ['an unknown model', text({ format: RUN_FILE_FORMAT, model: 'resnet99' }), /field 'model': /],
  ])('rejects %s with an error naming the field', (_what, file, message) => {
    expect(() => parseRunFileText(file)).toThrow(RunConfigFileError);
    expect(() => parseRunFileText(file)).toThrow(message);
  });
});

describe('run.json’s JSON Schema', () => {
  const schema = runFileJsonSchema() as { properties: Record<string, Record<string, unknown>>; required: string[]; additionalProperties: boolean };

  it('requires the format, closes every object and describes every setting', () => {
    expect(schema.required).toEqual(['format']);
    expect(schema.properties.format).toMatchObject({ const: RUN_FILE_FORMAT });
    const open: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
      if (typeof node !== 'object' || node === null) return;
      const n = node as Record<string, unknown>;
      if (n.type === 'object' && n.properties && n.additionalProperties !== false) open.push(at);
      for (const [k, v] of Object.entries(n)) if (k !== 'default') walk(v, `${at}.${k}`);
    };
    walk(schema, '');
    expect(open).toEqual([]);
    const lrpet = schema.properties.lrpet.properties as Record<string, Record<string, unknown>>;
    expect(lrpet.prune).toMatchObject({ type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.57 });
    expect(lrpet.prune.description).toMatch(/^Prune ratio \(p\)/);
    // The defaults that depend on another field are described, not given.
    expect(lrpet.rankFloors.default).toBeUndefined();
    expect(lrpet.rankFloors.description).toMatch(/true for vgg16/);
    expect(schema.properties.schedule.default).toBeUndefined();
    expect(schema.properties.lrpet.default).toBeUndefined();
  });
});

describe('the launch commands', () => {
  const o = { dataDir: '/data/cifar-10-batches-bin', outDir: 'runs/r56', gpusPerNode: 8, nodes: 2, rendezvous: 'node0:29400' };

  it('run the trainer on one GPU, one node and several nodes with the same arguments', () => {
    const c = launchCommands(o);
    const train = 'train --config run.json --data /data/cifar-10-batches-bin --out runs/r56';
    expect(c.oneGpu).toBe(`PYTHONPATH=lrpet-torch python3 -m lrpet_torch ${train}`);
    expect(c.oneNode).toBe(`PYTHONPATH=lrpet-torch torchrun --standalone --nproc_per_node 8 --max_restarts 3 -m lrpet_torch ${train}`);
    expect(c.severalNodes).toBe(
      `PYTHONPATH=lrpet-torch torchrun --nnodes 2 --nproc_per_node 8 --rdzv_id lrpet --rdzv_backend c10d --rdzv_endpoint node0:29400 --max_restarts 3 -m lrpet_torch ${train}`,
    );
    expect(c.resume).toMatch(/ --resume$/);
    expect(c.notes.join(' ')).toMatch(/global batch: 8 GPUs each compute 1\/8 of it/);
  });

  it('pass the options and quote paths that need it', () => {
    const c = launchCommands({ ...o, dataDir: "/my data/it's", init: 'w.safetensors', amp: 'bf16', channelsLast: true, maxRestarts: 0, jobId: 'r56 a', runFile: 'r56.json' });
    expect(c.oneGpu).toBe(`PYTHONPATH=lrpet-torch python3 -m lrpet_torch train --config r56.json --data '/my data/it'\\''s' --out runs/r56 --init w.safetensors --amp bf16 --channels-last`);
    expect(c.severalNodes).toContain("--rdzv_id 'r56 a'");
    expect(c.oneNode).toContain('--max_restarts 0');
    expect(shellWord('a b')).toBe("'a b'");
  });

  it.each([
    [{ gpusPerNode: 0 }, /GPUs per node/],
    [{ nodes: 1 }, /at least 2 nodes/],
    [{ rendezvous: 'node0' }, /host:port/],
  ])('refuse %o', (change, message) => {
    expect(() => launchCommands({ ...o, ...change })).toThrow(message);
  });
});
