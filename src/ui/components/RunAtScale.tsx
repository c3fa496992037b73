import { useId, useMemo, useState } from 'react';
import { parseRunConfig } from '../../engine/config';
import { errorText } from '../../engine/errors';
import { launchCommands, type LaunchCommands } from '../../engine/launch';
import { runFileText } from '../../engine/run-file';
import { toRunConfig, type FormState } from '../state/form';
import './run-at-scale.css';

export interface RunAtScaleProps {
  form: FormState;
  /** The name of the weights file the run starts from, when one is picked ("Start from weights…"). */
  init: string | null;
  save: (blob: Blob, filename: string) => void;
  onClose: () => void;
}

/** The run as the commands see it: where the data and the outputs are on the GPU machines, and how many. */
interface Placement {
  dataDir: string;
  outDir: string;
  gpusPerNode: number;
  nodes: number;
  rendezvous: string;
}

const FIELDS: { key: keyof Placement; label: string; hint: string }[] = [
  { key: 'dataDir', label: 'Data folder', hint: 'on the GPU machines: data_batch_*.bin and test_batch.bin' },
  { key: 'outDir', label: 'Output folder', hint: 'events.jsonl, checkpoints, projected and compact .safetensors' },
  { key: 'gpusPerNode', label: 'GPUs per node', hint: 'processes on one machine' },
  { key: 'nodes', label: 'Nodes', hint: 'for the several-machine command' },
  { key: 'rendezvous', label: 'Rendezvous host:port', hint: 'the first node, as every node reaches it' },
];

/**
 * "Run at scale…": the current settings as a run.json for the PyTorch trainer (lrpet-torch under
 * torchrun), and the exact commands for one GPU, one machine with N GPUs and several machines. The page
 * never trains on a cluster itself; the trainer's events.jsonl comes back through the runs list's import.
 */
export function RunAtScale({ form, init, save, onClose }: RunAtScaleProps) {
  const id = useId();
  const [p, setP] = useState<Placement>({ dataDir: 'data/cifar-10-batches-bin', outDir: `runs/${form.model}`, gpusPerNode: 8, nodes: 2, rendezvous: 'node0:29500' });
  const made = useMemo((): { text: string; commands: LaunchCommands } | { error: string } => {
    try {
      const config = parseRunConfig({ ...toRunConfig(form), init: init ? { name: init } : null });
      return { text: runFileText(config), commands: launchCommands({ ...p, init }) };
    } catch (e) {
      return { error: errorText(e) };
    }
  }, [form, init, p]);
  const rows: [string, string][] = 'error' in made ? [] : [
    ['One GPU', made.commands.oneGpu],
    [`One machine, ${p.gpusPerNode} GPUs`, made.commands.oneNode],
    [`${p.nodes} machines × ${p.gpusPerNode} GPUs (the same command on each)`, made.commands.severalNodes],
    ['Continue a stopped run from its last checkpoint', made.commands.resume],
  ];
  return (
    <section className="batch-panel run-at-scale" aria-label="Run at scale" data-testid="run-at-scale">
      <b>Run at scale</b> — the same run on your GPUs with PyTorch (DistributedDataParallel under torchrun). The batch ({form.batchSize}) is
      the global batch, split over the GPUs.
      <div className="scale-fields">
        {FIELDS.map((f) => (
          <label key={f.key} htmlFor={`${id}-${f.key}`}>
            {f.label}
            <input
              id={`${id}-${f.key}`}
              type={typeof p[f.key] === 'number' ? 'number' : 'text'}
              min={f.key === 'nodes' ? 2 : 1}
              value={p[f.key]}
              title={f.hint}
              onChange={(e) => setP((x) => ({ ...x, [f.key]: typeof x[f.key] === 'number' ? Math.max(f.key === 'nodes' ? 2 : 1, Math.round(Number(e.target.value)) || 1) : e.target.value }))}
            />
          </label>
        ))}
      </div>
      {'error' in made ? (
        <div className="callout error" role="alert" data-testid="run-at-scale-error">
          {made.error}
        </div>
      ) : (
        <>
          <div className="scale-file">
            <button type="button" className="small" onClick={() => save(new Blob([made.text], { type: 'application/json' }), 'run.json')} data-testid="download-run-json">
              Download run.json
            </button>{' '}
            <span className="muted">every setting of this run; the trainer and <code>npx lrpet train --config run.json</code> read it</span>
          </div>
          {rows.map(([label, command]) => (
            <div key={label} className="scale-command">
              <div className="muted">{label}</div>
              <pre data-testid="launch-command">{command}</pre>
            </div>
          ))}
          <ul className="muted">
            {made.commands.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </>
      )}
      <button type="button" className="small" onClick={onClose}>
        Close
      </button>
    </section>
  );
}
