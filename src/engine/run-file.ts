import { RunConfigSchema, type RunConfig } from './config';
import { ConfigError } from './errors';

/**
 * run.json: a run's settings as a file that moves between the page, `lrpet train --config` and the PyTorch
 * trainer (lrpet-torch) unchanged. It is the engine's run config — the `config` a runStart event carries —
 * with a format tag first; the page's own fields (a FLOPs target before it is solved, the checkpoint
 * cadence) and the hardware (GPUs belong to the launch command) are not in it. Its JSON Schema is
 * generated from the settings table (run-file-schema.ts). Not to be confused with the run.json inside an
 * exported .lrpet.zip (format 'lrpet-run': the stored run's name, status and summary).
 */
export const RUN_FILE_FORMAT = 'lrpet-run-config/1';

/** A run file that cannot be used; the message names the file and the field. */
export class RunConfigFileError extends ConfigError {
  override name = 'RunConfigFileError';
}

/** The run config as run.json's value: the format tag, then every setting (defaults included, so the file says everything). */
export function runFileValue(config: RunConfig): { format: string } & RunConfig {
  return { format: RUN_FILE_FORMAT, ...config };
}

/** run.json's text: two-space indented JSON and a final newline. */
export function runFileText(config: RunConfig): string {
  return `${JSON.stringify(runFileValue(config), null, 2)}\n`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const fieldName = (path: readonly PropertyKey[]) => path.map(String).join('.');

/**
 * Fields of the input that the parsed config does not have (the schema drops keys it does not know):
 * misspelt or foreign settings, which would otherwise be ignored without a word.
 */
function unknownFields(input: Record<string, unknown>, parsed: Record<string, unknown>, at: string[] = []): { path: string; known: string[] }[] {
  const out: { path: string; known: string[] }[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (!(key in parsed)) out.push({ path: fieldName([...at, key]), known: Object.keys(parsed) });
    else if (isRecord(value) && isRecord(parsed[key])) out.push(...unknownFields(value, parsed[key], [...at, key]));
  }
  return out;
}

/**
 * Reads run.json's text: JSON, the format tag, every setting within the table's bounds and no field the
 * table does not know. Missing settings take their defaults (as parseRunConfig gives them). Throws a
 * RunConfigFileError naming `file` and the field.
 */
export function parseRunFileText(text: string, file = 'run.json'): RunConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunConfigFileError(`${file} is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(value)) throw new RunConfigFileError(`${file} is not a JSON object of run settings`);
  const { format, ...input } = value;
  if (format === 'lrpet-run' && 'config' in value) {
    throw new RunConfigFileError(`${file} is the run.json of an exported run (.lrpet.zip), not a run config; its settings are its 'config' field, or export them from the page as run.json`);
  }
  if (format === undefined) throw new RunConfigFileError(`${file} has no 'format' field: a run config file starts with "format": "${RUN_FILE_FORMAT}"`);
  if (format !== RUN_FILE_FORMAT) throw new RunConfigFileError(`${file}, field 'format': ${JSON.stringify(format)} is not a run config format this version reads ("${RUN_FILE_FORMAT}")`);
  const parsed = RunConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw new RunConfigFileError(`${file}, field '${fieldName(issue.path) || 'config'}': ${issue.message}${more}`);
  }
  const unknown = unknownFields(input, parsed.data as unknown as Record<string, unknown>);
  if (unknown.length) {
    const [first] = unknown;
    throw new RunConfigFileError(`${file}, field '${first.path}': not a setting (the settings there: ${first.known.join(', ')})`);
  }
  return parsed.data;
}
