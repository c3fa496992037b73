import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ZodError } from 'zod';
import { DataError, strideSubset } from '../engine/data/cifar';
import type { Tensor2D } from '@tensorflow/tfjs';
import { evaluateLogits } from '../engine/train/evaluate';
import type { EngineEvent } from '../engine/events';
import { benchInference, DEFAULT_BATCHES, loadExported, MAX_BATCH, type InferenceBody } from '../engine/infer/bench';
import { benchOrt } from '../node/ort-bench';
import { ModelFileError } from '../engine/infer/model-costs';
import { onnxFromGraphModel } from '../engine/deploy/onnx';
import { inferenceTable } from '../engine/infer/report';
import { ConfigError, planModel } from '../engine/plan';
import { createRun, type ExportedModel, type RunEnd } from '../engine/run/run';
import type { RunConfig } from '../engine/config';
import { parseRunFileText, runFileText } from '../engine/run-file';
import { graphModelOf, modelFromSafetensors } from '../engine/weights/model-files';
import { WeightsError } from '../engine/weights/pytorch-layout';
import { findDatasetDir, loadDatasetDir } from '../node/dataset';
import { loadTf } from '../node/webgpu-node';
import { USAGE, UsageError, backendOption, kernelsOption, maxSecondsOption, parseCli, settingFromFlags, trainConfig, type CliValues } from './args';
import { formatEvent } from './progress';
import { errorText } from '../engine/errors';

/** The --init file, for error messages. */
let v_init: string | null = null;

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseCli(argv);
    const [command] = args.positionals;
    if (args.values.help || !command) {
      process.stdout.write(USAGE);
      return command || args.values.help ? 0 : 2;
    }
    switch (command) {
      case 'flops':
        return flops(args.values);
      case 'train':
        return await train(args.values);
      case 'evaluate':
        return await evaluateSaved(args.values);
      case 'bench-infer':
        return await benchInfer(args.values);
      default:
        throw new UsageError(`unknown command '${command}' (flops, train, evaluate, bench-infer)`);
    }
  } catch (e) {
    process.stderr.write(`lrpet: ${errorLine(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

function errorLine(e: unknown): string {
  if (e instanceof ZodError) return `invalid settings: ${e.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`;
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof DataError || e instanceof ModelFileError) return e.message;
  if (e instanceof WeightsError) return `${v_init ?? 'the weights file'}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The run config of the command line: a run file's (--config) with the flags over it, or the flags alone. */
function configFromArgs(v: CliValues): RunConfig {
  if (!v.config) return trainConfig(v);
  const file = resolve(v.config);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--config: cannot read ${file}: ${(e as Error).message}`);
  }
  return trainConfig(v, parseRunFileText(text, v.config));
}

function flops(v: CliValues): number {
  const { model, lrpet } = configFromArgs(v);
  const plan = planModel(model, lrpet);
  const result = {
    model,
    prune: plan.prune,
    rankMultiple: lrpet.rankMultiple,
    macsDense: plan.macsDense,
    macsCompact: plan.macsCompact,
    paramsDense: plan.paramsDense,
    paramsCompact: plan.paramsCompact,
    macsReduction: 1 - plan.macsCompact / plan.macsDense,
    paramsReduction: 1 - plan.paramsCompact / plan.paramsDense,
    layers: plan.layers.map((l) => ({ name: l.name, shape: l.shape, rank: l.rank, n: l.n, keptDense: l.keptDense, macsDense: l.macsDense, macsCompact: l.macsCompact })),
  };
  if (v.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const M = (x: number) => `${(x / 1e6).toFixed(2)}M`;
  const lines = [`${model}, p = ${plan.prune.toFixed(4)}${lrpet.rankMultiple > 1 ? `, ranks rounded up to multiples of ${lrpet.rankMultiple}` : ''}`, `${'layer'.padEnd(24)} ${'matrix'.padStart(10)} ${'rank'.padStart(5)}  MACs dense → compact`];
  for (const l of plan.layers) {
    lines.push(`${l.name.padEnd(24)} ${`${l.shape[0]}×${l.shape[1]}`.padStart(10)} ${String(l.rank).padStart(5)}  ${M(l.macsDense)} → ${M(l.macsCompact)}${l.keptDense && l.kind === 'conv' ? ' (kept dense)' : ''}`);
  }
  lines.push(`MACs   ${M(plan.macsDense)} → ${M(plan.macsCompact)} (−${(result.macsReduction * 100).toFixed(1)}%)`);
  lines.push(`params ${M(plan.paramsDense)} → ${M(plan.paramsCompact)} (−${(result.paramsReduction * 100).toFixed(1)}%)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function writeModel(dir: string, model: ExportedModel): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(model.modelJson));
  writeFileSync(join(dir, 'weights.bin'), model.weights);
}

async function train(v: CliValues): Promise<number> {
  const config = configFromArgs(v);
  const maxSeconds = maxSecondsOption(v['max-seconds']);
  // Validate the plan (ranks, target) before loading anything heavy.
  planModel(config.model, config.lrpet);
  if (v['print-config']) {
    process.stdout.write(runFileText(config));
    return 0;
  }
  let initWeights: Uint8Array | undefined;
  if (v.init) {
    v_init = resolve(v.init as string);
    try {
      initWeights = readFileSync(v_init);
    } catch (e) {
      throw new UsageError(`--init: cannot read ${v_init}: ${errorText(e)}`);
    }
  }
  const dataDir = findDatasetDir(v.data);
  const data = loadDatasetDir(dataDir, { trainLimit: config.trainLimit });
  const { tf, backend, note } = await loadTf(backendOption(v.backend), kernelsOption(v.kernels));
  const quiet = !!v.quiet;
  if (!quiet) process.stderr.write(`backend: ${note}\ndata: ${dataDir} (${data.train.count} training, ${data.test.count} test images)\n`);
  let log: WriteStream | null = null;
  if (v.log) log = createWriteStream(resolve(v.log));
  const run = createRun({
    tf,
    config,
    data,
    initWeights,
    onEvent: (e: EngineEvent) => {
      log?.write(`${JSON.stringify(e)}\n`);
      // Nobody is there to lower the learning rate and resume: a diverging run ends here.
      if (e.type === 'error' && (e.code === 'nan' || e.code === 'exploding')) run.stop();
      if (!quiet) {
        const line = formatEvent(e, backend);
        if (line) process.stderr.write(`${line}\n`);
      }
    },
  });
  // A time limit or a signal ends the run as stop() does: after the step in flight, with the compact model
  // built and the log complete. A second signal quits at once.
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    if (!quiet) process.stderr.write(`${why}: stopping after the current step\n`);
    run.stop();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer = maxSeconds === null ? null : setTimeout(() => stop(`--max-seconds ${maxSeconds}`), maxSeconds * 1000);
  let end: RunEnd;
  try {
    end = await run.start();
    if (timer) clearTimeout(timer);
    if (v.save) {
      const dir = resolve(v.save);
      const { projected, compact } = await run.exportModels();
      writeModel(join(dir, 'projected'), projected);
      if (compact) writeModel(join(dir, 'compact'), compact);
      writeFileSync(join(dir, 'projected.onnx'), onnxFromGraphModel(projected, { variant: 'projected' }));
      if (compact) writeFileSync(join(dir, 'compact.onnx'), onnxFromGraphModel(compact, { variant: 'compact' }));
      const torch = await run.exportSafetensors();
      if (torch.projected) writeFileSync(join(dir, 'projected.safetensors'), torch.projected);
      if (torch.compact) writeFileSync(join(dir, 'compact.safetensors'), torch.compact);
      if (!quiet) {
        const files = [`${dir}/projected${compact ? ` and ${dir}/compact` : ''} (TensorFlow.js graph models)`, `projected.onnx${compact ? ' and compact.onnx' : ''} (ONNX)`];
        const st = [torch.projected && 'projected.safetensors', torch.compact && 'compact.safetensors'].filter(Boolean);
        if (st.length) files.push(`${st.join(' and ')} (PyTorch state_dicts)`);
        process.stderr.write(`saved: ${files.join(', ')}\n`);
      }
    }
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    run.dispose();
    if (log) await new Promise<void>((r) => log!.end(r));
  }
  if (end.message !== undefined) {
    process.stderr.write(`lrpet: the run ended with an error: ${end.message}\n`);
    return 1;
  }
  return 0;
}

/** A saved graph model (model.json and the weight files it names) as the engine's ExportedModel. */
function readModelDir(dir: string): ExportedModel {
  let json: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: unknown[] }[]; format?: string };
  try {
    json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (e) {
    throw new DataError(`cannot read ${join(dir, 'model.json')}: ${errorText(e)}`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new DataError(`${join(dir, 'model.json')} is not a TensorFlow.js graph model (no modelTopology or weightsManifest)`);
  const files = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      try {
        return readFileSync(join(dir, p));
      } catch (e) {
        throw new DataError(`cannot read ${join(dir, p)}, a weights file model.json names: ${errorText(e)}`);
      }
    }),
  );
  return { modelJson: json as Record<string, unknown>, weights: new Uint8Array(Buffer.concat(files)) };
}

/** A state_dict file (.safetensors) as a graph model: `variant` from its metadata, else from its names. */
async function graphModelFromFile(tf: typeof import('@tensorflow/tfjs'), file: string, variant?: 'dense' | 'compact'): Promise<ExportedModel> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new DataError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const kind = variant ?? (/compact/.test(basename(file)) ? 'compact' : 'dense');
  try {
    return await graphModelOf(tf, modelFromSafetensors(bytes, kind, file));
  } catch (e) {
    if (e instanceof WeightsError) throw new DataError(e.message);
    throw e;
  }
}

async function evaluateSaved(v: CliValues): Promise<number> {
  if (!v['model-dir']) throw new UsageError('--model-dir is required');
  const dir = resolve(v['model-dir']);
  const { tf, note } = await loadTf(backendOption(v.backend), kernelsOption(v.kernels));
  const saved = dir.endsWith('.safetensors') ? await graphModelFromFile(tf, dir) : readModelDir(dir);
  const model = await loadExported(tf, saved);
  const testLimit = (settingFromFlags('testLimit', v) as number | undefined) ?? null;
  const test = strideSubset(loadDatasetDir(findDatasetDir(v.data), { trainLimit: 1 }).test, testLimit);
  const { loss, accuracy } = await evaluateLogits(tf, (x) => model.predict(x) as Tensor2D, test);
  model.dispose();
  const result = { modelDir: dir, testImages: test.count, testAccuracy: accuracy, testLoss: loss, backend: note };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

/** A positive integer option, or its default. */
function countOption(flag: string, raw: string | undefined, dflt: number, min: number): number {
  if (raw === undefined) return dflt;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(x) || x < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}, got '${raw}'`);
  return x;
}

function batchList(raw: string | undefined): number[] {
  if (raw === undefined) return [...DEFAULT_BATCHES];
  const list = raw.split(',').map((x) => x.trim());
  const out = list.map(Number);
  if (!list.length || list.some((x, i) => x === '' || !Number.isInteger(out[i]) || out[i] < 1 || out[i] > MAX_BATCH)) {
    throw new UsageError(`--batch takes batch sizes from 1 to ${MAX_BATCH} separated by commas (e.g. 1,128), got '${raw}'`);
  }
  return out;
}

function choiceOption<T extends string>(flag: string, raw: string | undefined, values: readonly T[], dflt: T): T {
  if (raw === undefined) return dflt;
  if (!values.includes(raw as T)) throw new UsageError(`--${flag} must be one of ${values.join(', ')}, got '${raw}'`);
  return raw as T;
}

async function benchInfer(v: CliValues): Promise<number> {
  if (!v['model-dir']) throw new UsageError('--model-dir is required (a folder written by train --save: DIR/projected and DIR/compact)');
  const batches = batchList(v.batch as string | undefined);
  const warmup = countOption('warmup', v.warmup, 2, 0);
  const iterations = countOption('iterations', v.iterations, 10, 1);
  const runtime = choiceOption('runtime', v.runtime, ['tfjs', 'ort', 'both'] as const, 'both');
  const paddedRanks = choiceOption('padded-ranks', v['padded-ranks'], ['auto', 'always', 'never'] as const, 'auto');
  const dir = resolve(v['model-dir']);
  // The engine's --save folder holds graph models; the PyTorch trainer's --out only the safetensors files.
  const graphs = ['projected', 'compact'].every((sub) => existsSync(join(dir, sub, 'model.json')));
  if (!graphs && !['projected', 'compact'].every((sub) => existsSync(join(dir, `${sub}.safetensors`)))) {
    throw new DataError(`${dir} holds neither projected/ and compact/ (what train --save writes) nor projected.safetensors and compact.safetensors (what lrpet-torch writes)`);
  }
  // tfjs is loaded for its timings, and to turn safetensors files into graph models.
  const loaded = runtime !== 'ort' || !graphs ? await loadTf(backendOption(v.backend), kernelsOption(v.kernels)) : null;
  const models = graphs
    ? { dense: readModelDir(join(dir, 'projected')), compact: readModelDir(join(dir, 'compact')), denseSource: 'projected' as const }
    : { dense: await graphModelFromFile(loaded!.tf, join(dir, 'projected.safetensors'), 'dense'), compact: await graphModelFromFile(loaded!.tf, join(dir, 'compact.safetensors'), 'compact'), denseSource: 'projected' as const };
  const quiet = !!v.quiet || !!v.json;
  const onProgress = quiet ? undefined : (p: { label: string; done: number; total: number }) => process.stderr.write(`\r${p.label} (${p.done}/${p.total})\u001b[K`);
  let tfjs: InferenceBody | null = null;
  let ort: InferenceBody | null = null;
  if (runtime !== 'ort') {
    const { tf, note } = loaded!;
    if (!quiet) process.stderr.write(`backend: ${note}\n`);
    tfjs = await benchInference(tf, models, { batches, warmup, iterations, device: note, paddedRanks, onProgress });
  }
  if (runtime !== 'tfjs') {
    // The ONNX files --save wrote, where they are (older runs: written from the graph models, the same bytes).
    const file = (name: string) => (existsSync(join(dir, name)) ? new Uint8Array(readFileSync(join(dir, name))) : null);
    const [d, c] = [file('projected.onnx'), file('compact.onnx')];
    ort = await benchOrt(models, { batches, warmup, iterations, onProgress }, d && c ? { dense: d, compact: c } : undefined);
  }
  if (!quiet) process.stderr.write('\r\u001b[K');
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ modelDir: dir, ...(tfjs ?? {}), ...(ort ? { ort } : {}) }, null, 2)}\n`);
    return 0;
  }
  const sections = [...(tfjs ? [`TensorFlow.js (${tfjs.backend})`, ...inferenceTable(tfjs)] : []), ...(tfjs && ort ? [''] : []), ...(ort ? ['ONNX Runtime', ...inferenceTable(ort)] : [])];
  process.stdout.write(`${sections.join('\n')}\n`);
  return 0;
}
