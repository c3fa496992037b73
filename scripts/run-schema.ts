// Writes run.json's JSON Schema, generated from the settings table (src/engine/run-file-schema.ts), where the
// PyTorch trainer reads it. `npm run schema`; src/node/run-schema.test.ts fails while the file is out of date.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runFileJsonSchemaText } from '../src/engine/run-file-schema';

export const RUN_SCHEMA_FILE = fileURLToPath(new URL('../lrpet-torch/lrpet_torch/run.schema.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(RUN_SCHEMA_FILE, runFileJsonSchemaText());
  console.log(`wrote ${RUN_SCHEMA_FILE}`);
}
