import { zipSync, type Zippable } from 'fflate';
import { z } from 'zod';
import { StoredRunConfigSchema, type RunConfig } from '../engine/config';
import type { EngineEvent } from '../engine/events';
import { encodeJsonLines, firstBinaryByte, parseEventLines, RunFileError } from './jsonl';
import { formatBytes } from './quota';
import { RUN_SOURCES, RUN_STATUSES, type RunBatch, type RunRecord, type RunStatus } from './records';
import type { RunStore } from './store';
import { isZip, readZipEntry, readZipIndex, ZipError, type ZipEntry } from './zip-read';
import { errorText } from '../engine/errors';

export { RunFileError } from './jsonl';

const RUN_FILE_FORMAT = 'lrpet-run';
const RUN_FILE_VERSION = 1;
const MAX_RUN_FILE_BYTES = 512 * 1024 * 1024;

const MB = 1024 * 1024;
/** Largest uncompressed size each entry of a run zip may declare; checked before anything is inflated. */
const ENTRY_LIMITS: Record<string, number> = {
  'run.json': 1 * MB,
  'events.jsonl': 1024 * MB,
  'compact/model.json': 64 * MB,
  'compact/weights.bin': 512 * MB,
};
/** Events per stored chunk when importing. */
const IMPORT_CHUNK = 5000;

export interface ParsedRun {
  name: string;
  status: RunStatus;
  config: RunConfig | null;
  events: EngineEvent[];
  /** The compact model as the page stores it: a zip of model.json + weights.bin. */
  model: Uint8Array | null;
  source: 'file' | 'jsonl';
  batch: RunBatch | null;
  createdAt: number | null;
}

const RunJsonSchema = z.object({
  format: z.literal(RUN_FILE_FORMAT),
  version: z.literal(RUN_FILE_VERSION),
  name: z.string().min(1).max(1000),
  createdAt: z.number(),
  status: z.enum(RUN_STATUSES as [RunStatus, ...RunStatus[]]),
  source: z.enum(RUN_SOURCES as ['browser', 'file', 'jsonl']),
  batch: z
    .object({
      id: z.string(),
      label: z.string(),
      arm: z.string().max(100).optional(),
      seed: z.number().int().min(0).optional(),
      seeds: z.number().int().min(1).max(100).optional(),
      data: z.string().max(2000).optional(),
    })
    .nullable(),
  config: StoredRunConfigSchema.nullable(),
  summary: z.unknown(),
});

const fail = (message: string): never => {
  throw new RunFileError(message);
};

const lastConfig = (events: readonly EngineEvent[]): RunConfig | null =>
  events.reduce<RunConfig | null>((c, e) => (e.type === 'runStart' ? e.config : c), null);

/** One zip: run.json, events.jsonl and, when the run has one, compact/model.json + compact/weights.bin. */
export async function exportRun(store: RunStore, id: string): Promise<Uint8Array> {
  const run = await store.getRun(id);
  if (!run) throw new Error(`run ${id} is not stored (was it deleted?)`);
  const [events, model] = await Promise.all([store.getEvents(id), store.getModel(id)]);
  const { name, createdAt, status, source, batch, config, summary } = run;
  const meta = { format: RUN_FILE_FORMAT, version: RUN_FILE_VERSION, name, createdAt, status, source, batch, config, summary };
  const files: Zippable = {
    'run.json': new TextEncoder().encode(`${JSON.stringify(meta, null, 2)}\n`),
    'events.jsonl': encodeJsonLines(events),
  };
  if (model) {
    const m = unpackModel(model);
    files['compact/model.json'] = m.modelJson;
    files['compact/weights.bin'] = [m.weights, { level: 0 }];
  }
  return zipSync(files, { level: 6 });
}

/** The two files of a stored compact model (a zip of model.json + weights.bin). */
export function unpackModel(zip: Uint8Array): { modelJson: Uint8Array; weights: Uint8Array } {
  try {
    const index = readZipIndex(zip);
    const get = (name: string) => {
      const entry = index.entries.find((e) => e.name === name);
      if (!entry) throw new ZipError(`it has no ${name}`);
      return readZipEntry(zip, index, entry);
    };
    return { modelJson: get('model.json'), weights: get('weights.bin') };
  } catch (e) {
    throw new Error(`the stored compact model cannot be read: ${errorText(e)}`, { cause: e });
  }
}

/** Reads a run file: a run zip (exportRun) or a JSON-lines event log (CLI --log, the page's "download log"). */
export function parseRunFile(bytes: Uint8Array, fileName: string): ParsedRun {
  if (bytes.length === 0) fail('the file is empty');
  if (bytes.length > MAX_RUN_FILE_BYTES) fail(`the file is larger (${bytes.length} bytes) than the ${formatBytes(MAX_RUN_FILE_BYTES)} a run file may be`);
  if (isZip(bytes)) return parseRunZip(bytes);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) fail('not an LRPET run file: it is gzip-compressed; unpack it first');
  const junk = firstBinaryByte(bytes);
  if (junk >= 0) fail(`not an LRPET run file: it holds binary data (byte 0x${bytes[junk].toString(16).padStart(2, '0')} at offset ${junk}) and is neither a run zip nor a JSON-lines log`);
  const events = parseEventLines(bytes, { label: '', allowEmpty: false });
  const name = fileName.replace(/^.*[\\/]/, '').replace(/(\.(jsonl|ndjson|json|log|txt))+$/i, '').trim() || 'imported run';
  return { name, status: logStatus(events), config: lastConfig(events), events, model: null, source: 'jsonl', batch: null, createdAt: events[0].time };
}

/** Errors after which the engine pauses rather than ends. */
const PAUSING_ERRORS: readonly string[] = ['nan', 'exploding'];

/** How a bare log ended: finished, stopped, failed (an error after the last state change) or cut off mid-run. */
function logStatus(events: readonly EngineEvent[]): RunStatus {
  let status: RunStatus = 'interrupted';
  for (const e of events) {
    if (e.type === 'state') status = e.state === 'finished' || e.state === 'stopped' ? e.state : 'interrupted';
    else if (e.type === 'error' && !PAUSING_ERRORS.includes(e.code)) status = 'failed';
    else if (e.type === 'step') status = 'interrupted';
  }
  return status;
}

function parseRunZip(bytes: Uint8Array): ParsedRun {
  const index = guardZip(() => readZipIndex(bytes));
  const byName = new Map(index.entries.map((e) => [e.name, e]));
  const runEntry = byName.get('run.json');
  if (!runEntry) {
    if (byName.has('model.json')) fail('not an LRPET run file: this zip is a model (model.json), not a run; import the run’s .zip or its .jsonl log');
    const names = index.entries.slice(0, 3).map((e) => e.name);
    fail(`not an LRPET run file: the zip has no run.json (${names.length ? `it holds ${names.join(', ')}${index.entries.length > 3 ? ', …' : ''}` : 'it is empty'})`);
  }
  let total = 0;
  for (const [name, limit] of Object.entries(ENTRY_LIMITS)) {
    const size = byName.get(name)?.size ?? 0;
    if (size > limit) fail(`${name} declares ${formatBytes(size)} uncompressed, more than the ${formatBytes(limit)} allowed (a damaged file or a zip bomb)`);
    total += size;
  }
  if (total > 1536 * MB) fail(`the run zip declares ${formatBytes(total)} uncompressed in all, more than the 1.5 GB allowed`);
  const read = (entry: ZipEntry) => guardZip(() => readZipEntry(bytes, index, entry));
  const meta = parseRunJson(read(runEntry!));
  const eventsEntry = byName.get('events.jsonl') ?? fail('the run zip has no events.jsonl');
  const events = parseEventLines(read(eventsEntry), { label: 'events.jsonl ', allowEmpty: true });
  const model = readModel(byName, read);
  return { name: meta.name, status: meta.status, config: meta.config ?? lastConfig(events), events, model, source: 'file', batch: meta.batch, createdAt: meta.createdAt };
}

function guardZip<T>(work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof ZipError) throw new RunFileError(`the run zip is damaged: ${e.message}`, { cause: e });
    throw e;
  }
}

function parseRunJson(bytes: Uint8Array): z.infer<typeof RunJsonSchema> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return fail(`run.json is not valid JSON (${errorText(e)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('run.json is not a JSON object');
  const { format, version } = value as { format?: unknown; version?: unknown };
  if (format === undefined) fail(`not an LRPET run file: run.json has no 'format' field`);
  if (format !== RUN_FILE_FORMAT) fail(`not an LRPET run file: run.json has format ${JSON.stringify(format)}, expected '${RUN_FILE_FORMAT}'`);
  if (version !== RUN_FILE_VERSION) {
    const newer = typeof version === 'number' && version > RUN_FILE_VERSION ? '; it was written by a newer version of the playground' : '';
    fail(`run file version ${JSON.stringify(version) ?? '(none)'} is not supported (this playground reads version ${RUN_FILE_VERSION}${newer})`);
  }
  const parsed = RunJsonSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`run.json, field '${issue.path.join('.')}': ${issue.message}`);
  }
  return parsed.data;
}

function readModel(byName: Map<string, ZipEntry>, read: (e: ZipEntry) => Uint8Array): Uint8Array | null {
  const json = byName.get('compact/model.json');
  const weights = byName.get('compact/weights.bin');
  if (!json && !weights) return null;
  if (!json || !weights) return fail(`the run zip has compact/${json ? 'model.json' : 'weights.bin'} but not compact/${json ? 'weights.bin' : 'model.json'}`);
  const modelJson = read(json);
  let manifest: unknown;
  try {
    manifest = (JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(modelJson)) as { weightsManifest?: unknown }).weightsManifest;
  } catch (e) {
    return fail(`compact/model.json is not valid JSON (${errorText(e)})`);
  }
  if (!Array.isArray(manifest)) fail('compact/model.json is not a TensorFlow.js model (it has no weightsManifest)');
  return zipSync({ 'model.json': modelJson, 'weights.bin': read(weights) }, { level: 0 });
}

/** Imported runs keep how they ended; one that was still going has no checkpoint here and cannot continue. */
const importedStatus = (s: RunStatus): RunStatus => (s === 'finished' || s === 'stopped' || s === 'failed' ? s : 'imported');

/** Stores a parsed run file as a new run; nothing is left behind if storing fails part-way. `onStored` follows the events stored. */
export async function importRun(store: RunStore, parsed: ParsedRun, onStored?: (events: number, total: number) => void): Promise<RunRecord> {
  const run = await store.createRun({ name: parsed.name, source: parsed.source, batch: parsed.batch, config: parsed.config });
  try {
    for (let i = 0; i < parsed.events.length; i += IMPORT_CHUNK) {
      onStored?.(i, parsed.events.length);
      await store.appendEvents(run.id, parsed.events.slice(i, i + IMPORT_CHUNK));
    }
    if (parsed.model) await store.putModel(run.id, parsed.model);
    return await store.updateRun(run.id, parsed.config ? { status: importedStatus(parsed.status), config: parsed.config } : { status: importedStatus(parsed.status) });
  } catch (e) {
    await store.deleteRun(run.id).catch(() => undefined);
    throw e;
  }
}
