import { useCallback, useEffect, useMemo, useState } from 'react';
import { defaultRankFloors } from '../engine/config';
import { totalCosts } from '../engine/models/cost';
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
import { RunBar } from './components/RunBar';
import { RunAtScale } from './components/RunAtScale';
import { RunNotices } from './components/RunNotices';
import { InitWeightsPicker } from './components/InitWeightsPicker';
import { RunsPanel } from './components/RunsPanel';
import { Section } from './components/fields';
import { estimateImagesPerSec, estimateSeconds } from './state/estimate';
import { isLiveField, planFor, type FormState, type Preset } from './state/form';
import { runSize } from './state/run-size';
import type { Scrub } from './state/scrub';
import { freshRun, startBlocker } from './state/start-blocker';
import { AblationPanel } from './components/AblationPanel';
import { ComparePanel } from './compare/ComparePanel';
import { ClaimsPanel } from './claims/ClaimsPanel';
import { batchesIn } from './claims/claims';
import { saveBlob } from './download';
import { readPageUrl, useShareLink, useUrlSync } from './page-url';
import { itemLabel } from './session/batch';
import { datasetCounts } from './session/data-source';
import { useCompare } from './useCompare';
import { useInitWeights } from './useInitWeights';
import { isActive, stepPoints } from './state/store';
import { useDataState, useRunSession, useRunState, useSessionState } from './useSession';
import { useRuns } from './useRuns';
import { useTitleProgress } from './useTitleProgress';
import { useSpaceToPause } from './useKeyboard';

const fromUrl = readPageUrl(location.search);

/** A clock for the elapsed time, ticking once a second while `on`. */
function useClock(on: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

export function App() {
  const [preference, setPreference] = useState<BackendPreference>(fromUrl.preference);
  const [compareIds, setCompareIds] = useState<string[]>([]);
  const [compareOpen, setCompareOpen] = useState(false);
  /** The ablation batch whose claims panel is open. */
  const [claimsBatch, setClaimsBatch] = useState<string | null>(null);
  const runs = useRuns();
  const [form, setForm] = useState<FormState>(fromUrl.form);
  const session = useRunSession(preference, fromUrl.kernels, runs.store, {
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
  useUrlSync(form);
  const shareLink = useShareLink(form);
  const [urlNotes, setUrlNotes] = useState<string[]>(fromUrl.notes);
  const [batchOpen, setBatchOpen] = useState(false);
  const [scaleOpen, setScaleOpen] = useState(false);
  const [presetNote, setPresetNote] = useState<string | null>(null);
  const [layer, setLayer] = useState<string | null>(null);
  // The scrubber's position belongs to one run (a new run, a resume or a restart starts at the latest projection).
  const [scrubbed, setScrubbed] = useState<{ run: number | null; at: Scrub }>({ run: null, at: null });

  const set = useCallback(<K extends keyof FormState>(key: K, value: FormState[K]) => {
    // Another model: its own rank overrides (none) and its own default for the VGG rank floors.
    setForm((f) => (key === 'model' && value !== f.model ? { ...f, model: value as FormState['model'], rankOverrides: {}, rankFloors: defaultRankFloors(value) } : { ...f, [key]: value }));
    if (key !== 'model' && !isLiveField(key)) setPresetNote(null);
  }, []);
  const applyPreset = useCallback((p: Preset) => {
    setForm(structuredClone(p.form));
    setPresetNote(p.description);
  }, []);

  // The same object while the plan's fields stay the same (planFor keeps recent plans).
  const plan = planFor(form);
  const initWeights = useInitWeights(form.model);
  const measuring = engine.inference?.status === 'measuring';
  const startHint = startBlocker({ backend: engine.backend, measuring, hasData: data.effective !== null, planError: plan.error, initProblem: initWeights.problem });

  const onFiles = useCallback((f: File[]) => void session.data.loadFiles(f), [session]);
  const onServerDownload = useCallback(() => void session.data.requestServerDownload(), [session]);
  const setChoice = useCallback((c: 'server' | 'files') => session.data.choose(c), [session]);
  const modelName = run.start?.config.model ?? 'model';
  const onDownloadModel = useCallback((w: 'compact' | 'projected') => void session.downloadModel(w, `lrpet-${modelName}-${w}.zip`), [session, modelName]);
  const onDownloadFiles = useCallback((w: 'compact' | 'projected') => void session.downloadModelFiles(w), [session]);
  const onDownloadOnnx = useCallback((w: 'compact' | 'projected') => void session.downloadOnnx(w, `lrpet-${modelName}-${w}.onnx`), [session, modelName]);
  const onDownloadSafetensors = useCallback((w: 'compact' | 'projected') => void session.downloadSafetensors(w, `lrpet-${modelName}-${w}.safetensors`), [session, modelName]);
  const currentId = engine.currentId;
  const onMeasure = useCallback(() => void (currentId && session.measureInference(currentId)), [session, currentId]);
  const onMeasureStored = useCallback((id: string) => void session.measureInference(id), [session]);
  const onCancelMeasure = useCallback(() => session.cancelInference(), [session]);
  const compactZip = useCallback((bytes: Uint8Array, name: string) => session.compactModelZip(bytes, name), [session]);
  const onDownloadLog = useCallback(() => void session.downloadLog(`lrpet-${modelName}-events.jsonl`), [session, modelName]);

  // A stable element, so the memoised controls do not re-render with every batch of events.
  const dataSection = useMemo(
    () => (
      <Section title="Data">
        <DataPanel server={data.server} user={data.user} choice={data.effective} setChoice={setChoice} onFiles={onFiles} onDownload={onServerDownload} disabled={active} />
      </Section>
    ),
    [data.server, data.user, data.effective, setChoice, onFiles, onServerDownload, active],
  );

  const start = (firstStepOnly = false) => {
    if (startHint) return;
    runs.dismissInterrupted();
    void session.start(freshRun(form, initWeights.weights, firstStepOnly));
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
  const hasData = data.effective !== null;
  const resumeStored = useCallback(
    (id: string) => {
      if (!hasData) return;
      dismissInterrupted();
      void session.resumeStored(id);
    },
    [hasData, dismissInterrupted, session],
  );
  const onRestore = useCallback((lr: number) => session.restoreLastGood(lr), [session]);
  const ready = !startHint && !engine.busy;
  const compare = useCompare({ store: runs.store, ids: compareIds, open: compareOpen, records: runs.runs, liveId: active ? engine.currentId : null, live: run });
  const now = useClock(active);

  const scrub = scrubbed.run === run.startedAt ? scrubbed.at : null;
  const setScrub = useCallback((at: Scrub) => setScrubbed({ run: run.startedAt, at }), [run.startedAt]);
  const steps = useMemo(() => stepPoints(run), [run]);
  const lastStep = steps.length ? steps[steps.length - 1] : null;
  const layerNames = run.layerNames.length ? run.layerNames : (plan.plan?.layers.filter((l) => l.projected).map((l) => l.name) ?? []);
  const selected = layer && layerNames.includes(layer) ? layer : (layerNames[0] ?? null);
  const showRun = run.start !== null;
  const costLayers = showRun && run.layers.length ? run.layers : (plan.plan?.layers ?? []);
  const runCosts = useMemo(() => (showRun && run.layers.length ? totalCosts(run.layers) : null), [showRun, run.layers]);

  // What a run of this form would be on the data at hand (or what the run going on reported), and how long it would take.
  const size = runSize(form, datasetCounts(data), run.start);
  const backendInfo = engine.backend.status === 'ready' ? engine.backend.info : null;
  const estimate = plan.plan ? estimateImagesPerSec(backendInfo, plan.plan.macsDense, form.batchSize) : null;
  const runSeconds = estimate !== null && size ? estimateSeconds(estimate, size.train * form.epochs, size.test * form.epochs) : null;

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
            stepsPerEpoch={size?.stepsPerEpoch ?? null}
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
          <InitWeightsPicker weights={initWeights.weights} problem={initWeights.problem} disabled={active} onPick={initWeights.pick} onClear={initWeights.clear} />
          <div className="share-row">
            <button type="button" className="small" onClick={shareLink.share}>
              Copy link to this setup
            </button>
            <button type="button" className="small" onClick={() => setBatchOpen((o) => !o)} disabled={active || batch?.status === 'running'}>
              Ablation batch…
            </button>
            <button type="button" className="small" onClick={() => setScaleOpen((o) => !o)} title="This run as a run.json for the PyTorch trainer, and the commands for one GPU, one machine or several">
              Run at scale…
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
            {shareLink.note ? <span className="muted">{shareLink.note}</span> : null}
          </div>
          {scaleOpen ? <RunAtScale form={form} init={initWeights.weights?.name ?? null} save={saveBlob} onClose={() => setScaleOpen(false)} /> : null}
          <RunNotices
            session={engine}
            run={run}
            active={active}
            urlNotes={urlNotes}
            onDismissUrlNotes={() => setUrlNotes([])}
            interrupted={runs.interrupted}
            canResume={!startHint}
            onResume={resumeStored}
            onDismissInterrupted={runs.dismissInterrupted}
            presetNote={presetNote}
            lr={form.lr}
            onRestore={onRestore}
          />
          <Results
            start={run.start}
            compact={run.compact}
            exports={run.exports}
            onDownloadModel={onDownloadModel}
            onDownloadFiles={onDownloadFiles}
            onDownloadSafetensors={onDownloadSafetensors}
            onDownloadOnnx={onDownloadOnnx}
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
              compactZip={compactZip}
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
