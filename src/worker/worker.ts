/// <reference lib="webworker" />
/**
 * The Web Worker: all tfjs work happens here. A thin adapter around the engine — it picks the
 * backend, loads the data, runs createRun() and forwards the engine's events to the page in batches.
 */
import './zod-setup';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as Comlink from 'comlink';
import { strToU8, zipSync } from 'fflate';
import type { LiveUpdate } from '../engine/config';
import type { CifarDataset } from '../engine/data/cifar';
import type { EngineEvent } from '../engine/events';
import { decodeCheckpoint } from '../engine/checkpoint';
import { benchInference, denseArchitectureModel, inferenceEvent } from '../engine/infer/bench';
import { onnxFromGraphModel } from '../engine/deploy/onnx';
import { createRun } from '../engine/run/run';
import { useCpuKernels } from '../cpu-kernels';
import { useKernels } from '../webgpu-kernels';
import { registerFusedSplitConv } from '../webgpu-kernels/fused-split-conv';
import type { ExportedModel, RunControls } from '../engine/run/api';
import type { MatrixImageStore } from '../engine/run/matrix-images';
import { chooseBackend, type AdapterDescription, type BackendInfo, type BackendName, type BackendPreference } from './backend';
import { Batcher } from './batcher';
import { dataInfo, parseUserFiles, ServerData } from './data';
import type { DataInfo, ModelDownload, ModelFiles, Progress, WorkerApi, WorkerMessage, WorkerRunEnd } from './protocol';
import { Recording, takeCheckpoint } from './recording';
import { graphModelOf, modelFromSafetensors } from '../engine/weights/model-files';
import { errorText } from '../engine/errors';

const BATCH_MS = 150;

// CSP violations inside the worker (they are not reported to the page).
const cspViolations: string[] = [];
self.addEventListener('securitypolicyviolation', (e) => cspViolations.push(`${e.violatedDirective}: ${e.blockedURI || 'inline'}`));

let backendInfo: BackendInfo | null = null;
const serverData = new ServerData();
let userData: CifarDataset | null = null;
let run: RunControls | null = null;
/** The run's record in the browser's storage, which this worker writes. */
let recording: Recording | null = null;
let stopRequested = false;
let pendingUpdates: LiveUpdate[] = [];
/** The matrix images of the current run's, or else the last run's, latest projections. */
let matrixImages: MatrixImageStore | null = null;
let downloads: { compact: ModelDownload | null; projected: ModelDownload | null } = { compact: null, projected: null };
let torchFiles: { compact: Uint8Array | null; projected: Uint8Array | null } = { compact: null, projected: null };
/** Set while an inference benchmark runs: cancelInference() raises its flag. */
let benchmark: { cancelled: boolean } | null = null;
/**
 * The page's one path for device trouble: a lost GPU device or GPU out-of-memory, whether the device
 * said so or a run failed on it. Reported once: this worker's device is gone, the page replaces it.
 */
let reportDeviceProblem: (message: string) => void = () => {};

async function adapterDescription(): Promise<AdapterDescription | null> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return null;
  type Info = Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const legacy = adapter as unknown as { requestAdapterInfo?: () => Promise<Info>; isFallbackAdapter?: boolean };
  const info: Info = (adapter as unknown as { info?: Info }).info ?? (legacy.requestAdapterInfo ? await legacy.requestAdapterInfo() : {});
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? legacy.isFallbackAdapter),
  };
}

function webglRenderer(): string | null {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  } catch {
    return null;
  }
}

/** The tfjs WebGPU backend's device (tfjs itself does not watch it for loss). */
function webgpuDevice(): GPUDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GPUDevice }).device ?? null;
}

const lostMessage = (info: GPUDeviceLostInfo) => `the GPU device was lost (${info.reason || 'unknown reason'}${info.message ? `: ${info.message}` : ''})`;

/** The lost-device message if the device is lost or is lost within a second; null otherwise. */
async function deviceLostSoon(): Promise<string | null> {
  const device = webgpuDevice();
  if (!device) return null;
  return Promise.race([device.lost.then(lostMessage), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
}

function watchDevice(onProblem: (message: string) => void): void {
  const device = webgpuDevice();
  if (!device) return;
  void device.lost.then((info) => onProblem(lostMessage(info)));
  device.addEventListener('uncapturederror', (e) => {
    const error = (e as GPUUncapturedErrorEvent).error;
    if (typeof GPUOutOfMemoryError !== 'undefined' && error instanceof GPUOutOfMemoryError) onProblem(`the GPU ran out of memory (${error.message})`);
  });
}


function fromFiles(f: ModelFiles): ExportedModel {
  return { modelJson: JSON.parse(f.modelJson) as Record<string, unknown>, weights: f.weights };
}

function lastModel(which: 'compact' | 'projected'): ExportedModel {
  const d = downloads[which];
  if (!d) throw new Error(`this worker holds no ${which} model of a last run`);
  return fromFiles(d);
}

function toDownload(m: ExportedModel): ModelDownload {
  const modelJson = JSON.stringify(m.modelJson);
  const zip = zipSync({ 'model.json': strToU8(modelJson), 'weights.bin': m.weights }, { level: 0 });
  return { zip, modelJson, weights: m.weights };
}

const api: WorkerApi = {
  async init(preference: BackendPreference, kernels: 'fast' | 'stock' = 'fast', onDeviceProblem) {
    backendInfo = await chooseBackend(
      {
        hasNavigatorGpu: () => typeof navigator !== 'undefined' && 'gpu' in navigator && !!navigator.gpu,
        requestAdapter: adapterDescription,
        setBackend: async (name: BackendName) => {
          const ok = await tf.setBackend(name);
          if (ok) await tf.ready();
          return ok && tf.getBackend() === name;
        },
        webglRenderer,
      },
      preference,
    );
    let reported = false;
    reportDeviceProblem = (m) => {
      if (reported) return;
      reported = true;
      void onDeviceProblem(m);
    };
    let used: 'fast' | 'stock' | null = null;
    if (backendInfo.backend === 'webgpu') {
      useKernels(kernels);
      registerFusedSplitConv();
      used = kernels;
      watchDevice(reportDeviceProblem);
    } else if (backendInfo.backend === 'cpu') {
      useCpuKernels(kernels);
      used = kernels;
    }
    return { ...backendInfo, kernels: used };
  },

  async loadFiles(files: File[], onProgress: (p: Progress) => void): Promise<DataInfo> {
    userData = null;
    const data = await parseUserFiles(files, onProgress);
    userData = data;
    return dataInfo('files', data);
  },

  async startRun({ config, data, record, resume, updates, initWeights, firstStepOnly }, onMessages) {
    if (run) throw new Error('a run is already going');
    if (benchmark) throw new Error('an inference measurement is going');
    if (!backendInfo) throw new Error('the worker has not picked a backend yet');
    stopRequested = false;
    matrixImages = null;
    pendingUpdates = [...(updates ?? [])];
    downloads = { compact: null, projected: null };
    torchFiles = { compact: null, projected: null };
    const batcher = new Batcher<WorkerMessage>((batch) => onMessages(batch), BATCH_MS);
    const rec = await Recording.open(record, {
      take: async () => (run ? takeCheckpoint(run) : null),
      onCheckpoint: (meta) => batcher.push({ kind: 'checkpoint', meta }),
      onStoreError: (message) => batcher.push({ kind: 'storeError', message }),
    });
    recording = rec;
    const onEvent = (event: EngineEvent) => {
      if (event.type === 'error' && event.code === 'device') reportDeviceProblem(event.message);
      batcher.push({ kind: 'event', event });
      rec.recorder.event(event);
    };
    let controls: RunControls | null = null;
    let end: WorkerRunEnd = { ended: 'stopped' };
    try {
      let dataset: CifarDataset;
      try {
        dataset =
          data === 'files'
            ? (userData ?? (() => { throw new Error('no files were loaded'); })())
            : await serverData.load(config.trainLimit ?? null, (progress) => batcher.push({ kind: 'progress', progress }));
      } finally {
        batcher.flush();
      }
      if (stopRequested) return end;
      const progress = (label: string) => {
        batcher.push({ kind: 'progress', progress: { label, loaded: 0, total: null } });
        batcher.flush();
      };
      progress(resume ? `restoring the checkpoint (${(resume.byteLength / 1e6).toFixed(1)} MB)` : `building ${config.model ?? 'the model'}`);
      controls = createRun({ tf, config, data: dataset, onEvent, resume: resume ? decodeCheckpoint(resume) : undefined, initWeights: resume ? undefined : initWeights });
      run = controls;
      matrixImages = controls.matrixImages;
      for (const u of pendingUpdates) controls.update(u);
      pendingUpdates = [];
      if (firstStepOnly) controls.step();
      end = await controls.start();
      // A lost device fails whatever GPU call comes next, often with a message that does not say so; the
      // device's own promise says it, soon after. Reported in the answer, so the page cannot see the run
      // end before it hears of the loss.
      const lost = end.ended === 'error' ? await deviceLostSoon() : null;
      if (lost) {
        reportDeviceProblem(lost);
        end = { ...end, deviceProblem: lost };
        return end;
      }
      progress('preparing the downloads (exporting the models)');
      try {
        const exported = await controls.exportModels();
        downloads = { projected: toDownload(exported.projected), compact: exported.compact ? toDownload(exported.compact) : null };
        torchFiles = await controls.exportSafetensors();
        batcher.push({ kind: 'exports', compact: downloads.compact !== null, projected: true, pytorch: { compact: torchFiles.compact !== null, projected: torchFiles.projected !== null } });
      } catch (e) {
        onEvent({ type: 'log', time: Date.now(), level: 'warn', message: `export failed: ${errorText(e)}` });
      }
      return end;
    } catch (e) {
      end = { ended: 'error', message: errorText(e) };
      throw e;
    } finally {
      controls?.dispose();
      run = null;
      recording = null;
      const problem = await rec.finish(end, downloads.compact?.zip ?? null);
      if (problem) batcher.push({ kind: 'storeError', message: problem });
      const mem = tf.memory();
      batcher.push({ kind: 'released', numTensors: mem.numTensors, numBytes: mem.numBytes });
      // The page handles these last messages (exports, released) before it hears the answer, which arrives
      // on another channel and would otherwise overtake them: the run would be over and they dropped.
      await batcher.drain();
    }
  },

  pause() {
    run?.pause();
  },
  resume() {
    run?.resume();
  },
  step() {
    run?.step();
  },
  stop() {
    stopRequested = true;
    if (!run) return;
    // The checkpoint request is queued before the stop, so it is served at the same step, before the final projection.
    void recording?.checkpoint('stop');
    run.stop();
  },
  async checkpoint(reason) {
    return (await recording?.checkpoint(reason)) ?? false;
  },
  update(changes: LiveUpdate) {
    if (run) run.update(changes);
    else pendingUpdates.push(changes);
  },

  async matrixImages(layer, projection) {
    return matrixImages?.get(layer, projection ?? undefined) ?? null;
  },

  async download(which) {
    const d = downloads[which];
    if (!d) return null;
    // Copies, so the worker keeps its own for a second download.
    const copy: ModelDownload = { zip: d.zip.slice(), modelJson: d.modelJson, weights: d.weights.slice() };
    return Comlink.transfer(copy, [copy.zip.buffer, copy.weights.buffer]);
  },

  async downloadSafetensors(which) {
    const bytes = torchFiles[which]?.slice();
    return bytes ? Comlink.transfer(bytes, [bytes.buffer]) : null;
  },
  async compactModelZip(bytes, name) {
    return toDownload(await graphModelOf(tf, modelFromSafetensors(bytes, 'compact', name))).zip;
  },
  async downloadOnnx(which) {
    const model = typeof which === 'string' ? (downloads[which] ? lastModel(which) : null) : fromFiles(which);
    if (!model) return null;
    const bytes = onnxFromGraphModel(model, { variant: typeof which === 'string' ? which : 'compact' });
    return Comlink.transfer(bytes, [bytes.buffer]);
  },
  async benchInference(req, onProgress) {
    if (run) throw new Error('a run is going: measure inference speed after it');
    if (benchmark) throw new Error('an inference measurement is already going');
    if (!backendInfo) throw new Error('the worker has not picked a backend yet');
    const job = { cancelled: false };
    benchmark = job;
    try {
      const compact = req.compact === 'last' ? lastModel('compact') : fromFiles(req.compact);
      const dense = req.dense === 'last' ? lastModel('projected') : await denseArchitectureModel(tf, req.dense.architecture);
      const body = await benchInference(
        tf,
        { dense, compact, denseSource: req.dense === 'last' ? 'projected' : 'architecture' },
        {
          batches: req.batches,
          warmup: req.warmup,
          iterations: req.iterations,
          device: backendInfo.device ?? backendInfo.softwareName,
          onProgress: (p) => void onProgress({ label: p.label, loaded: p.done, total: p.total }),
          shouldStop: () => job.cancelled,
        },
      );
      return inferenceEvent(body);
    } finally {
      benchmark = null;
    }
  },
  cancelInference() {
    if (benchmark) benchmark.cancelled = true;
  },

  async diagnostics() {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes, cspViolations: cspViolations.slice() };
  },

  async simulateNaN() {
    const kernel = Object.values(tf.engine().registeredVariables).find((v) => v.rank === 4 && v.trainable);
    if (!kernel) return null;
    tf.tidy(() => kernel.assign(tf.fill(kernel.shape, NaN)));
    return kernel.name;
  },

  async simulateDeviceLoss() {
    const device = webgpuDevice();
    if (!device) return false;
    device.destroy();
    return true;
  },
};

Comlink.expose(api);
