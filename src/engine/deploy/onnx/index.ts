import type { ExportedModel } from '../../run/api';
import { readGraphModel } from '../read-graph-model';
import { exportOnnx } from './export';

export { exportOnnx, ONNX_BATCH, ONNX_IR_VERSION, ONNX_OPSET } from './export';

/** An exported TensorFlow.js graph model (a run's, a saved or a stored one) as an ONNX file's bytes (BN folded). */
export function onnxFromGraphModel(model: ExportedModel, meta: Record<string, string> = {}): Uint8Array {
  return exportOnnx(readGraphModel(model), meta);
}
