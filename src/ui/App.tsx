import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { BackendPreference, DataChoice } from '../worker/protocol';
import { AccuracyChart, LossChart } from './charts/LossAccuracy';
import { CostChart } from './charts/Cost';
import { EnergyChart } from './charts/Energy';
import { LayersHeatmap } from './charts/Heatmap';
import { PerfChart } from './charts/Perf';
import { ScheduleChart } from './charts/Schedule';
import { SpectrumChart } from './charts/Spectrum';
import { BackendNotice } from './components/BackendNotice';
import { Controls } from './components/Controls';
import { DataPanel } from './components/DataPanel';
import { Results } from './components/Results';
import { RunBar } from './components/RunBar';
import { Section } from './components/fields';
import { estimateImagesPerSec, estimateSeconds } from './state/estimate';
import { formFromParams, isLiveField, liveDiff, planFor, presetById, toRunConfig, type FormState, type Preset } from './state/form';
import { stepPoints } from './state/store';
import { useEngine } from './useEngine';

const params = new URLSearchParams(location.search);
const initialPreference = ((): BackendPreference => {
  const b = params.get('backend');
  return b === 'webgpu' || b === 'webgl' || b === 'cpu' ? b : 'auto';
})();

const kernelMode = params.get('kernels') === 'stock' ? 'stock' : 'fast';

export function App() {
  const [preference, setPreference] = useState<BackendPreference>(initialPreference);
  const engine = useEngine(preference, kernelMode);
  const { run, active } = engine;
  const [form, setForm] = useState<FormState>(() => formFromParams(params, presetById('quick').form));
  const [presetNote, setPresetNote] = useState<string | null>(null);
  const [choice, setChoice] = useState<DataChoice | null>(null);
  const [layer, setLayer] = useState<string | null>(null);
  const [scrub, setScrub] = useState<number | null>(null);
  const [liveError, setLiveError] = useState<string | null>(null);
  const applied = useRef<FormState | null>(null);

  const set = useCallback(<K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => (key === 'model' && value !== f.model ? { ...f, model: value as FormState['model'], rankOverrides: {} } : { ...f, [key]: value }));
    if (key !== 'model' && !isLiveField(key)) setPresetNote(null);
  }, []);
  const applyPreset = useCallback((p: Preset) => {
    setForm(structuredClone(p.form));
    setPresetNote(p.description);
  }, []);

  // Data: the local folder unless the user loaded files (then theirs).
  const effectiveChoice: DataChoice | null =
    choice ?? (engine.user.status === 'ready' ? 'files' : engine.server.status === 'ready' ? 'server' : null);

  const plan = useMemo(
    () => planFor(form),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [form.model, form.lrpet, form.compression, form.prune, form.flopsTarget, form.rankFloors, form.rankOverrides],
  );

  const sendUpdate = engine.update;
  // Live changes: while a run is going, send what changed (debounced) — it applies at the next step / projection.
  useEffect(() => {
    if (!active || !applied.current) return;
    const t = setTimeout(() => {
      if (!applied.current) return;
      const { update, error } = liveDiff(applied.current, form);
      setLiveError(error);
      if (update) {
        sendUpdate(update);
        applied.current = { ...applied.current, ...form };
      }
    }, 250);
    return () => clearTimeout(t);
  }, [form, active, sendUpdate]);

  const { loadFiles, requestServerDownload, downloadModel, downloadModelFiles, downloadLog } = engine;
  const onFiles = useCallback(
    (f: File[]) => {
      setChoice(null);
      void loadFiles(f).then((ok) => ok && setChoice('files'));
    },
    [loadFiles],
  );
  const onServerDownload = useCallback(() => void requestServerDownload(), [requestServerDownload]);
  const modelName = run.start?.config.model ?? 'model';
  const onDownloadModel = useCallback((w: 'compact' | 'projected') => void downloadModel(w, `lrpet-${modelName}-${w}.zip`), [downloadModel, modelName]);
  const onDownloadFiles = useCallback((w: 'compact' | 'projected') => void downloadModelFiles(w), [downloadModelFiles]);
  const onDownloadLog = useCallback(() => void downloadLog(`lrpet-${modelName}-events.jsonl`), [downloadLog, modelName]);

  // A stable element, so the memoised controls do not re-render with every batch of events.
  const dataSection = useMemo(
    () => (
      <Section title="Data">
        <DataPanel server={engine.server} user={engine.user} choice={effectiveChoice} setChoice={setChoice} onFiles={onFiles} onDownload={onServerDownload} disabled={active} />
      </Section>
    ),
    [engine.server, engine.user, effectiveChoice, onFiles, onServerDownload, active],
  );

  const start = () => {
    if (!effectiveChoice || plan.error) return;
    applied.current = form;
    setScrub(null);
    setLiveError(null);
    void engine.start(toRunConfig(form), effectiveChoice);
  };

  // A clock for the elapsed time, only while a run is active.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);

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

  const startHint =
    engine.backend.status !== 'ready'
      ? 'waiting for the GPU backend'
      : !effectiveChoice
        ? 'no data: see “Data” on the left'
        : plan.error
          ? 'fix the compression settings first'
          : null;
  const lastIteration = lastStep?.iteration ?? 0;

  return (
    <div className="app">
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
            onStart={start}
            onPause={engine.pause}
            onResume={engine.resume}
            onStop={engine.stop}
            now={now}
            lastStep={lastStep}
          />
          {presetNote && !showRun ? <div className="callout info">{presetNote}</div> : null}
          {liveError ? (
            <div className="callout error" role="alert">
              Not applied: {liveError}
            </div>
          ) : null}
          {run.failure ? (
            <div className="callout error" role="alert" data-testid="run-error">
              {run.failure}
            </div>
          ) : null}
          {run.errors.length ? (
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
            onDownloadLog={onDownloadLog}
            canDownloadLog={run.eventCount > 0}
          />
          <div className="grid">
            <LossChart steps={steps} epochs={run.epochs} compact={run.compact} markers={run.markers} lastIteration={lastIteration} />
            <AccuracyChart steps={steps} epochs={run.epochs} compact={run.compact} markers={run.markers} lastIteration={lastIteration} />
            <SpectrumChart spectra={run.spectra} scrub={scrub} setScrub={setScrub} layerNames={layerNames} layer={selected} setLayer={setLayer} />
            <LayersHeatmap spectra={run.spectra} projections={run.projections} layerNames={layerNames} scrub={scrub} layer={selected} setLayer={setLayer} />
            <EnergyChart projections={run.projections} layerNames={run.layerNames} layer={selected} markers={run.markers} />
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
