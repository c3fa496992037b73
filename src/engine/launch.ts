/**
 * The commands that run a run.json on GPUs with the PyTorch trainer (lrpet-torch, run from the repository
 * root): one GPU, one node with N GPUs, several nodes (torchrun's c10d rendezvous). Pure text, so the
 * page's "Run at scale…" dialog and the README show the same commands. The number of GPUs is the
 * launch's business, never the run file's: the run's batch is the global batch, split over the processes.
 */

export interface LaunchOptions {
  /** The run file as saved (default run.json). */
  runFile?: string;
  /** The folder with data_batch_*.bin and test_batch.bin on the GPU machines. */
  dataDir: string;
  /** Where the trainer writes events.jsonl, checkpoints and the safetensors files. */
  outDir: string;
  /** GPUs (processes) per node, for the one-node and the several-node commands. */
  gpusPerNode: number;
  /** Nodes of the several-node command (≥ 2). */
  nodes: number;
  /** host:port every node reaches for the rendezvous (e.g. the first node's address). */
  rendezvous: string;
  /** A name for the job, the same on every node. */
  jobId?: string;
  /** Initial weights (a .safetensors file), when the run starts from given weights. */
  init?: string | null;
  /** Times torchrun restarts the workers after a failure; they resume from the last checkpoint. */
  maxRestarts?: number;
  /** bfloat16 autocast; null: float32, as the engine. */
  amp?: 'bf16' | null;
  channelsLast?: boolean;
}

export interface LaunchCommands {
  oneGpu: string;
  oneNode: string;
  /** Run the same command on every node. */
  severalNodes: string;
  /** Continue a run that was stopped (SIGTERM, a lost machine) from its last checkpoint. */
  resume: string;
  /** Lines to show with the commands. */
  notes: string[];
}

/** Shell quoting for a word that needs it (paths with spaces and the like). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV = 'PYTHONPATH=lrpet-torch';

export function launchCommands(o: LaunchOptions): LaunchCommands {
  if (!(Number.isInteger(o.gpusPerNode) && o.gpusPerNode >= 1)) throw new RangeError(`GPUs per node must be a whole number ≥ 1, got ${o.gpusPerNode}`);
  if (!(Number.isInteger(o.nodes) && o.nodes >= 2)) throw new RangeError(`the several-node command needs at least 2 nodes, got ${o.nodes}`);
  if (!/^[^\s:]+:\d+$/.test(o.rendezvous)) throw new RangeError(`the rendezvous endpoint is host:port, got '${o.rendezvous}'`);
  const restarts = o.maxRestarts ?? 3;
  const train = [
    'train',
    '--config', shellWord(o.runFile ?? 'run.json'),
    '--data', shellWord(o.dataDir),
    '--out', shellWord(o.outDir),
    ...(o.init ? ['--init', shellWord(o.init)] : []),
    ...(o.amp ? ['--amp', o.amp] : []),
    ...(o.channelsLast ? ['--channels-last'] : []),
  ].join(' ');
  const torchrun = (placement: string) => `${ENV} torchrun ${placement} --max_restarts ${restarts} -m lrpet_torch ${train}`;
  const job = shellWord(o.jobId ?? 'lrpet');
  return {
    oneGpu: `${ENV} python3 -m lrpet_torch ${train}`,
    oneNode: torchrun(`--standalone --nproc_per_node ${o.gpusPerNode}`),
    severalNodes: torchrun(`--nnodes ${o.nodes} --nproc_per_node ${o.gpusPerNode} --rdzv_id ${job} --rdzv_backend c10d --rdzv_endpoint ${o.rendezvous}`),
    resume: `${ENV} torchrun --standalone --nproc_per_node ${o.gpusPerNode} --max_restarts ${restarts} -m lrpet_torch ${train} --resume`,
    notes: [
      'Run from the repository root (PYTHONPATH=lrpet-torch); the machines need PyTorch and numpy, nothing else.',
      `The batch in ${o.runFile ?? 'run.json'} is the global batch: ${o.gpusPerNode} GPUs each compute 1/${o.gpusPerNode} of it, with BatchNorm statistics synchronised over all of them (as one GPU with the whole batch).`,
      'Debian\'s PyTorch 1.13 under Python 3.11: add --redirects 2 --tee 2 to torchrun (its default crashes there).',
      `${o.outDir}/events.jsonl is the run's log: import it in the page to see it with the same charts.`,
    ],
  };
}
