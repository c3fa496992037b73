import type { WorkerHost } from './worker-host';

/** Saves a download (a Blob as a file). */
export type Save = (blob: Blob, filename: string) => void;

/** The last run's models as the page offers them, fetched from the worker that trained it. */
export class Downloads {
  constructor(
    private readonly host: WorkerHost,
    readonly save: Save,
  ) {}

  /** A TensorFlow.js graph model as one zip (model.json + weights.bin). */
  async model(which: 'compact' | 'projected', filename: string): Promise<void> {
    const d = await this.host.worker?.api.download(which);
    if (d) this.save(new Blob([d.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), filename);
  }

  /** The same model as its two files. */
  async modelFiles(which: 'compact' | 'projected'): Promise<void> {
    const d = await this.host.worker?.api.download(which);
    if (!d) return;
    this.save(new Blob([d.modelJson], { type: 'application/json' }), 'model.json');
    this.save(new Blob([d.weights as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), 'weights.bin');
  }

  /** The model as an ONNX file (made in the worker from the graph model). */
  async onnx(which: 'compact' | 'projected', filename: string): Promise<void> {
    const bytes = await this.host.worker?.api.downloadOnnx(which);
    if (bytes) this.save(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), filename);
  }

  /** The model as a PyTorch state_dict (safetensors, official names). */
  async safetensors(which: 'compact' | 'projected', filename: string): Promise<void> {
    const bytes = await this.host.worker?.api.downloadSafetensors(which);
    if (bytes) this.save(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), filename);
  }
}
