import { z } from 'zod';
import { RunConfigSchema } from './config';
import { RUN_FILE_FORMAT } from './run-file';
import { settingIds, spec } from './settings';

/**
 * run.json's JSON Schema (draft 2020-12), generated from the settings table through the config schema:
 * types, bounds, choices and defaults as the engine checks them, each setting described by its label and
 * help, no field the table does not know (additionalProperties: false). Two defaults depend on another
 * field and are described instead of given: the LR schedule's (the paper's step schedule scaled to the
 * epochs) and the VGG-16 rank floors'. `npm run schema` writes it to lrpet-torch/lrpet_torch/run.schema.json,
 * where the PyTorch trainer reads it; a test checks that the committed file is what this makes now.
 */

type Node = Record<string, unknown>;

const DEPENDENT_DEFAULTS: Record<string, string> = {
  schedule: "Default: the paper's step schedule scaled to the run: {kind: 'step', milestones: [round(epochs/2), round(3·epochs/4)], gamma: 0.1} (200 and 300 of 400 epochs).",
  'lrpet.rankFloors': 'Default: true for vgg16 (its official script always applies them), false for every other model.',
};

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every object with properties is closed: a misspelt setting is an error, not ignored. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(closeObjects);
  if (!isNode(node)) return;
  if (node.type === 'object' && isNode(node.properties) && node.additionalProperties === undefined) node.additionalProperties = false;
  for (const [key, value] of Object.entries(node)) if (key !== 'default') closeObjects(value);
}

/** The schema node of a config path ('lrpet.prune'). */
function nodeAt(root: Node, path: string): Node {
  let node = root;
  for (const key of path.split('.')) node = (node.properties as Record<string, Node>)[key];
  return node;
}

export function runFileJsonSchema(): Node {
  const config = z.toJSONSchema(RunConfigSchema, { io: 'input', unrepresentable: 'throw', target: 'draft-2020-12' }) as Node;
  closeObjects(config);
  // The lrpet group's default object would hide the rank floors' rule: its fields have defaults of their own.
  delete (config.properties as Record<string, Node>).lrpet.default;
  for (const id of settingIds) {
    const s = spec(id);
    if (s.path === null) continue;
    const node = nodeAt(config, s.path);
    const dependent = DEPENDENT_DEFAULTS[s.path];
    if (dependent) delete node.default;
    node.description = [s.help ? `${s.label}: ${s.help}.` : `${s.label}.`, dependent].filter(Boolean).join(' ');
  }
  const { $schema, properties, ...rest } = config;
  return {
    $schema,
    $id: 'lrpet-run-config-1.schema.json',
    title: 'LRPET run config (run.json)',
    description:
      "A run's settings for the LRPET playground's engine (the page, `lrpet train --config`) and its PyTorch trainer (lrpet-torch). " +
      'Generated from src/engine/settings.ts (npm run schema); missing settings take their defaults.',
    ...rest,
    properties: { format: { const: RUN_FILE_FORMAT, description: 'The file format and its version.' }, ...(properties as Node) },
    required: ['format'],
  };
}

/** The schema file's text as committed (two-space JSON, final newline). */
export const runFileJsonSchemaText = (): string => `${JSON.stringify(runFileJsonSchema(), null, 2)}\n`;
