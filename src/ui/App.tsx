import { useCallback, useEffect, useMemo, useState } from 'react';
import type { BackendPreference } from '../worker/protocol';
import { AccuracyChart, LossChart } from './charts/LossAccuracy';
import { CostChart } from './charts/Cost';
import { EnergyChart } from './charts/Energy';
import { GradFlowChart } from './charts/GradFlow';
import { LayersHeatmap } from './charts/Heatmap';
import { PerfChart } from './charts/Perf';
import { ScheduleChart } from './charts/Schedule';
import { SpectrumChart } from './charts/Spectrum';
import { BackendNotice } from './components/BackendNotice';
import { Controls } from './components/Controls';
import { DataPanel } from './components/DataPanel';
import { Results } from './components/Results';
import { InferencePanel } from './components/InferencePanel';
import { DivergedCallout, InterruptedBanner } from './components/Notices';
import { RunBar } from './components/RunBar';
import { InitWeightsPicker } from './components/InitWeightsPicker';
import { initWeightsProblem, MAX_WEIGHTS_BYTES, type InitWeights } from './state/init-weights';
import { RunsPanel } from './components/RunsPanel';
import { Section } from './components/fields';
import { estimateImagesPerSec, estimateSeconds } from './state/estimate';
import { isLiveField, planFor, presetById, toRunConfig, type FormState, type Preset } from './state/form';
import { formFromSearch, formToSearch, PAGE_KEYS } from './state/url';
import { AblationPanel } from './components/AblationPanel';
import { ComparePanel } from './compare/ComparePanel';
import { ClaimsPanel } from './claims/ClaimsPanel';
import { batchesIn } from './claims/claims';
import { saveBlob } from './download';
import { itemLabel } from './session/batch';
import { useCompare } from './useCompare';
import { isActive, stepPoints } from './state/store';
import { useDataState, useRunSession, useRunState, useSessionState } from './useSession';
import { useRuns } from './useRuns';
import { useTitleProgress } from './useTitleProgress';
import { useSpaceToPause } from './useKeyboard';

const params = new URLSearchParams(location.search);
const initialPreference = ((): BackendPreference => {
  const b = params.get('backend');
  return b === 'webgpu' || b === 'webgl' || b === 'cpu' ? b : 'auto';
})();

const kernelMode = params.get('kernels') === 'stock' ? 'stock' : 'fast';
const fromUrl = formFromSearch(location.search, presetById('quick').form);

/** The page's own URL keys (backend, kernels) followed by the whole form: the link reproduces the setup. */
function urlFor(form: FormState): string {
  const keep = new URLSearchParams();
  for (const k of PAGE_KEYS) {
    const v = params.get(k);
    if (v !== null) keep.set(k, v);
  }
  const own = keep.toString();
  return `?${formToSearch(form)}${own ? `&${own}` : ''}`;
}

export function App() {
  const [preference, setPreference] = useState<BackendPreference>(initialPreference);
  const [compareIds, setCompareIds] = useState<string[]>([]);
  const [compareOpen, setCompareOpen] = useState(false);
  /** The ablation batch whose claims panel is open. */
  const [claimsBatch, setClaimsBatch] = useState<string | null>(null);
  const runs = useRuns();
  const [form, setForm] = useState<FormState>(fromUrl.form);
  const session = useRunSession(preference, kernelMode, runs.store, {
    onRunsChanged: runs.refresh,
    onLoadForm: setForm,
    onBatchDone: (ids, batchId) => {
      setCompareIds(ids);
      setCompareOpen(true);
      setClaimsBatch(batchId);
    },
  });
  const engine = useSessionState(session);
  const data = useDataState(session);
  const run = useRunState(session);
  const active = isActive(run.phase);
  const { batch } = engine;
  const storedBatches = useMemo(() => batchesIn(runs.runs), [runs.runs]);
  // Live changes: during a run the session sends what the form changes (debounced), against the settings the engine reported.
  useEffect(() => session.setForm(form), [session, form]);
  const [urlNotes, setUrlNotes] = useState<string[]>(fromUrl.notes);
  const [shareNote, setShareNote] = useState<string | null>(null);
  const [batchOpen, setBatchOpen] = useState(false);
  // The URL always holds the current setup (replaceState: no history entry per slider move).
  useEffect(() => {
    const t = setTimeout(() => history.replaceState(null, '', urlFor(form)), 150);
    return () => clearTimeout(t);
  }, [form]);
  const share = useCallback(async () => {
    const link = new URL(urlFor(form), location.href).href;
    try {
      await navigator.clipboard.writeText(link);
      setShareNote('link copied');
    } catch {
      setShareNote('copy the address bar: it holds the whole setup');
    }
  }, [form]);
  const [presetNote, setPresetNote] = useState<string | null>(null);
  const [layer, setLayer] = useState<string | null>(null);
  // The scrubber's position belongs to one run (a new run, a resume or a restart starts at the latest projection).
  const [scrubbed, setScrubbed] = useState<{ run: number | null; at: number | null }>({ run: null, at: null });

  const set = useCallback(<K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => (key === 'model' && value !== f.model ? { ...f, model: value as FormState['model'], rankOverrides: {} } : { ...f, [key]: value }));
    if (key !== 'model' && !isLiveField(key)) setPresetNote(null);
  }, []);
  const applyPreset = useCallback((p: Preset) => {
    setForm(structuredClone(p.form));
    setPresetNote(p.description);
  }, []);

  // Data: the local folder unless the user loaded files (then theirs).
  const effectiveChoice = data.effective;

  const plan = useMemo(
    () => planFor(form),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [form.model, form.lrpet, form.compression, form.prune, form.flopsTarget, form.rankFloors, form.rankOverrides, form.rankMultiple],
  );

  const [initWeights, setInitWeights] = useState<InitWeights | null>(null);
  const [initReadError, setInitReadError] = useState<string | null>(null);
  // Checked against the model chosen now: picking another model shows why the file no longer fits.
  const initProblem = useMemo(() => initReadError ?? (initWeights ? initWeightsProblem(initWeights, form.model) : null), [initWeights, initReadError, form.model]);
  const onPickWeights = useCallback((file: File) => {
    setInitReadError(null);
    if (file.size > MAX_WEIGHTS_BYTES) {
      setInitReadError(`${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MB is more than any model here needs (at most ${MAX_WEIGHTS_BYTES >> 20} MB)`);
      return;
    }
    file.arrayBuffer().then(
      (b) => setInitWeights({ name: file.name, bytes: new Uint8Array(b) }),
      (e: unknown) => setInitReadError(`${file.name}: could not be read (${e instanceof Error ? e.message : String(e)})`),
    );
  }, []);

  const measuring = engine.inference?.status === 'measuring';
  const startHint =
    engine.backend.status !== 'ready'
      ? 'waiting for the GPU backend'
      : measuring
        ? 'measuring inference speed (or cancel it)'
        : !effectiveChoice
        ? 'no data: see “Data” on the left'
        : plan.error
          ? 'fix the compression settings first'
          : initProblem
            ? 'the weights file does not fit this model: clear it or pick another'
            : null;

  const onFiles = useCallback((f: File[]) => void session.data.loadFiles(f), [session]);
  const onServerDownload = useCallback(() => void session.data.requestServerDownload(), [session]);
  const setChoice = useCallback((c: 'server' | 'files') => session.data.choose(c), [session]);
  const modelName = run.start?.config.model ?? 'model';
  const onDownloadModel = useCallback((w: 'compact' | 'projected') => void session.downloadModel(w, `lrpet-${modelName}-${w}.zip`), [session, modelName]);
  const onDownloadFiles = useCallback((w: 'compact' | 'projected') => void session.downloadModelFiles(w), [session]);
  const onDownloadSafetensors = useCallback((w: 'compact' | 'projected') => void session.downloadSafetensors(w, `lrpet-${modelName}-${w}.safetensors`), [session, modelName]);
  const currentId = engine.currentId;
  const onMeasure = useCallback(() => void (currentId && session.measureInference(currentId)), [session, currentId]);
  const onMeasureStored = useCallback((id: string) => void session.measureInference(id), [session]);
  const onCancelMeasure = useCallback(() => session.cancelInference(), [session]);
  const onDownloadLog = useCallback(() => void session.downloadLog(`lrpet-${modelName}-events.jsonl`), [session, modelName]);

  // A stable element, so the memoised controls do not re-render with every batch of events.
  const dataSection = useMemo(
    () => (
      <Section title="Data">
        <DataPanel server={data.server} user={data.user} choice={effectiveChoice} setChoice={setChoice} onFiles={onFiles} onDownload={onServerDownload} disabled={active} />
      </Section>
    ),
    [data.server, data.user, effectiveChoice, setChoice, onFiles, onServerDownload, active],
  );

  const start = (firstStepOnly = false) => {
    if (!effectiveChoice || plan.error) return;
    runs.dismissInterrupted();
    if (initWeights) void session.start({ form, config: { ...toRunConfig(form), init: { name: initWeights.name } }, initWeights: initWeights.bytes, firstStepOnly });
    else void session.start({ form, firstStepOnly });
  };
  const loadMatrixImages = useCallback((layer: string, projection: number) => session.matrixImages(layer, projection), [session]);

  const { dismissInterrupted } = runs;
  // After a reload: the interrupted run's charts, from its stored log, before the user presses Resume.
  const shownInterrupted = runs.interrupted.length ? runs.interrupted.reduce((a, b) => (b.createdAt > a.createdAt ? b : a)).id : null;
  useEffect(() => {
    if (shownInterrupted && run.phase === 'idle') void session.showStored(shownInterrupted);
    // Only when an interrupted run is found, not on every phase change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [session, shownInterrupted]);
  const resumeStored = useCallback(
    (id: string) => {
      if (!effectiveChoice) return;
      dismissInterrupted();
      void session.resumeStored(id);
    },
    [effectiveChoice, dismissInterrupted, session],
  );
  const onRestore = useCallback((lr: number) => session.restoreLastGood(lr), [session]);
  const ready = !startHint && !engine.busy;
  const compare = useCompare({ store: runs.store, ids: compareIds, open: compareOpen, records: runs.runs, liveId: active ? engine.currentId : null, live: run });
  const divergedError = engine.diverged ? ([...run.errors].reverse().find((e) => e.code === 'nan' || e.code === 'exploding') ?? null) : null;

  // A clock for the elapsed time, only while a run is active.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);

  const scrub = scrubbed.run === run.startedAt ? scrubbed.at : null;
  const setScrub = useCallback((at: number | null) => setScrubbed({ run: run.startedAt, at }), [run.startedAt]);
  const steps = useMemo(() => stepPoints(run), [run]);
  const lastStep = steps.length ? steps[steps.length - 1] : null;
  const layerNames = run.layerNames.length ? run.layerNames : (plan.plan?.layers.filter((l) => l.projected).map((l) => l.name) ?? []);
  const selected = layer && layerNames.includes(layer) ? layer : (layerNames[0] ?? null);
  const showRun = run.start !== null;
  const costLayers = showRun && run.layers.length ? run.layers : (plan.plan?.layers ?? []);
  const runCosts = useMemo(() => {
    if (!showRun || !run.layers.length) return null;
    const sum = (k: 'macsDense' | 'macsCompact' | 'paramsDense' | 'paramsCompact') => run.layers.reduce((s, l) => s + l[k], 0);
    return { macsDense: sum('macsDense'), macsCompact: sum('macsCompact'), paramsDense: sum('paramsDense'), paramsCompact: sum('paramsCompact') };
  }, [showRun, run.layers]);

  const backendInfo = engine.backend.status === 'ready' ? engine.backend.info : null;
  const estimate = plan.plan ? estimateImagesPerSec(backendInfo, plan.plan.macsDense, form.batchSize) : null;
  const runSeconds =
    estimate !== null ? estimateSeconds(estimate, (form.trainLimit ?? 50000) * form.epochs, (form.testLimit ?? 10000) * form.epochs) : null;

  const lastIteration = lastStep?.iteration ?? 0;
  useTitleProgress(run, lastStep);
  useSpaceToPause(run.phase, session);

  return (
    <div className="app">
      <a className="skip-link" href="#run-controls">
        Skip to the run controls
      </a>
      <header className="top">
        <div className="brand">
          <h1>
            LRPET <span>Playground</span>
          </h1>
          <p>
            Train a CIFAR-10 network in your browser and watch low-rank projection with energy transfer compress it while it learns.
          </p>
        </div>
        <BackendNotice backend={engine.backend} estimate={estimate} runSeconds={runSeconds} onRetry={setPreference} canSwitch={!active} />
      </header>

      <main className="layout">
        <aside className="side" aria-label="Settings">
          <Controls
            form={form}
            set={set}
            applyPreset={applyPreset}
            plan={plan}
            runLayers={active ? run.layers : null}
            running={active}
            stepsPerEpoch={run.start?.stepsPerEpoch ?? (form.trainLimit ? Math.ceil(form.trainLimit / form.batchSize) : Math.ceil(50000 / form.batchSize))}
          >
            {dataSection}
          </Controls>
        </aside>

        <section className="board" aria-label="Training">
          <RunBar
            run={run}
            canStart={!startHint}
            startHint={startHint}
            onStart={() => start()}
            onPause={() => session.pause()}
            onResume={() => session.resume()}
            onStep={() => (run.phase === 'paused' ? session.step() : start(true))}
            onStop={() => session.stop()}
            now={now}
            lastStep={lastStep}
          />
          <InitWeightsPicker
            weights={initWeights}
            problem={initProblem}
            disabled={active}
            onPick={onPickWeights}
            onClear={() => {
              setInitWeights(null);
              setInitReadError(null);
            }}
          />
          {urlNotes.length ? (
            <div className="callout warn" role="status" data-testid="url-notes">
              The link&apos;s settings were adjusted: {urlNotes.join('; ')}.{' '}
              <button type="button" className="small" onClick={() => setUrlNotes([])}>
                OK
              </button>
            </div>
          ) : null}
          <div className="share-row">
            <button type="button" className="small" onClick={() => void share()}>
              Copy link to this setup
            </button>
            <button type="button" className="small" onClick={() => setBatchOpen((o) => !o)} disabled={active || batch?.status === 'running'}>
              Ablation batch…
            </button>
            <button
              type="button"
              className="small"
              disabled={!storedBatches.length}
              title="What the last ablation batch kept in this browser measured, claim by claim"
              onClick={() => setClaimsBatch((b) => (b ? null : (storedBatches[0]?.id ?? null)))}
            >
              Ablation claims…
            </button>
            {shareNote ? <span className="muted">{shareNote}</span> : null}
          </div>
          {!active ? (
            <InterruptedBanner runs={runs.interrupted} canResume={!startHint} onResume={resumeStored} onDismiss={runs.dismissInterrupted} />
          ) : null}
          {engine.notice ? (
            <div className="callout info" role="status" data-testid="engine-notice">
              {engine.notice}
            </div>
          ) : null}
          {engine.storeError ? (
            <div className="callout error" role="alert" data-testid="store-error">
              {engine.storeError}
            </div>
          ) : null}
          {engine.lastCheckpoint && showRun ? (
            <div className="muted checkpoint-line" data-testid="last-checkpoint" data-iteration={engine.lastCheckpoint.iteration} data-time={engine.lastCheckpoint.time}>
              saved in this browser · checkpoint at iteration {engine.lastCheckpoint.iteration} ({engine.lastCheckpoint.reason}, {new Date(engine.lastCheckpoint.time).toLocaleTimeString()})
            </div>
          ) : null}
          {divergedError && run.phase === 'paused' ? <DivergedCallout error={divergedError} checkpoint={engine.lastCheckpoint} lr={form.lr} onRestore={onRestore} /> : null}
          {presetNote && !showRun ? <div className="callout info">{presetNote}</div> : null}
          {engine.liveError ? (
            <div className="callout error" role="alert">
              Not applied: {engine.liveError}
            </div>
          ) : null}
          {run.failure ? (
            <div className="callout error" role="alert" data-testid="run-error">
              {run.failure}
            </div>
          ) : null}
          {run.errors.length && !divergedError ? (
            <div className="callout error" role="alert">
              {run.errors[run.errors.length - 1].message}
            </div>
          ) : null}
          <Results
            start={run.start}
            compact={run.compact}
            exports={run.exports}
            onDownloadModel={onDownloadModel}
            onDownloadFiles={onDownloadFiles}
            onDownloadSafetensors={onDownloadSafetensors}
            onDownloadLog={onDownloadLog}
            canDownloadLog={run.eventCount > 0}
          />
          <InferencePanel
            job={engine.inference}
            runEvent={run.inference}
            shownRunId={engine.currentId}
            canMeasure={engine.currentId !== null && run.compact !== null && !active}
            blocked={active ? 'a run is going' : engine.busy ? 'the run is being stored' : null}
            software={backendInfo?.software ?? true}
            onMeasure={onMeasure}
            onCancel={onCancelMeasure}
          />
          {batchOpen && !batch?.status.startsWith('running') ? (
            <AblationPanel
              form={form}
              disabled={!ready || active}
              onRun={(ids, seeds) => {
                setBatchOpen(false);
                session.startBatch(form, ids, seeds);
              }}
              onClose={() => setBatchOpen(false)}
            />
          ) : null}
          {batch ? (
            <div className={`callout ${batch.status === 'cancelled' ? 'warn' : 'info'}`} role="status" data-testid="batch-status">
              Ablation batch: {batch.status === 'done' ? `${batch.items.length} of ${batch.items.length} done` : `${Math.max(1, batch.index + 1)} of ${batch.items.length}`}
              {batch.status === 'running' && batch.index >= 0 ? ` — ${itemLabel(batch, batch.items[batch.index])}` : ''}
              {batch.message ? ` — ${batch.message}` : ''}{' '}
              {batch.status === 'running' ? (
                <button type="button" className="small" onClick={() => session.cancelBatch()}>
                  Stop after this run
                </button>
              ) : null}
            </div>
          ) : null}
          {claimsBatch && storedBatches.some((b) => b.id === claimsBatch) ? (
            <ClaimsPanel records={runs.runs} batchId={claimsBatch} onPickBatch={setClaimsBatch} onClose={() => setClaimsBatch(null)} save={saveBlob} />
          ) : null}
          {compareOpen && compareIds.length ? (
            <>
              {compare.error ? (
                <div className="callout error" role="alert">
                  {compare.error}
                </div>
              ) : null}
              <ComparePanel runs={compare.runs} common={compare.common} onClose={() => setCompareOpen(false)} />
            </>
          ) : null}
          <details className="card runs-card" open>
            <summary>
              Runs in this browser <span className="muted">({runs.runs.length})</span>
            </summary>
            <RunsPanel
              runs={runs}
              currentId={engine.currentId}
              busy={active || !!startHint}
              selected={compareIds}
              setSelected={setCompareIds}
              onResume={resumeStored}
              onCompare={() => setCompareOpen(true)}
              onMeasureSpeed={onMeasureStored}
              canMeasureSpeed={!active && !engine.busy && !measuring && engine.backend.status === 'ready'}
            />
          </details>
          <div className="grid">
            <LossChart steps={steps} epochs={run.epochs} compact={run.compact} markers={run.markers} lastIteration={lastIteration} />
            <AccuracyChart steps={steps} epochs={run.epochs} compact={run.compact} markers={run.markers} lastIteration={lastIteration} />
            <SpectrumChart spectra={run.spectra} scrub={scrub} setScrub={setScrub} layerNames={layerNames} layer={selected} setLayer={setLayer} loadMatrixImages={loadMatrixImages} />
            <LayersHeatmap spectra={run.spectra} projections={run.projections} layerNames={layerNames} scrub={scrub} layer={selected} setLayer={setLayer} />
            <EnergyChart projections={run.projections} layerNames={run.layerNames} layer={selected} markers={run.markers} />
            <GradFlowChart gradNorms={run.gradNorms} layers={run.gradLayers} projections={run.projections} layer={layer ?? selected} setLayer={setLayer} />
            <CostChart layers={costLayers} costs={showRun ? runCosts : plan.plan} compact={run.compact} source={showRun ? 'run' : 'plan'} />
            <ScheduleChart steps={steps} projections={run.projections} markers={run.markers} />
            <PerfChart steps={steps} projections={run.projections} released={run.released} />
          </div>
          <footer className="explain">
            <h2>What am I looking at?</h2>
            <p>
              Plain SGD trains the whole network. Every <i>interval</i> iterations each convolution&apos;s weight, viewed as a matrix (one row per filter), is cut to its
              best rank-r approximation (r = ⌊n − n·p⌋) — in the space where the following BatchNorm has scaled it — and the energy the cut removed is put back on
              the kept singular values (×√α), so no layer loses gain. Between projections SGD regrows the cut tail; over time it learns to live with fewer
              directions, the tail decays and the energy kept before each projection climbs towards 100%. At the end each conv is split into a k×k conv to r channels
              and a 1×1 conv: the compact model. Method: Guo et al., “Compact Model Training by Low-Rank Projection with Energy Transfer”, IEEE TNNLS 2024.
            </p>
          </footer>
        </section>
      </main>
    </div>
  );
}
