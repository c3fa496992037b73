/**
 * The ONNX export (engine/deploy/onnx): the projected and the compact model of a few nets, read back
 * from their TensorFlow.js graph models as `--save` does, written as ONNX and
 *  - run by ONNX Runtime (onnxruntime-node, CPU): logits = the engine's (tfjs CPU backend, BN unfolded)
 *    within max|Δ| / max|logit| ≤ 1e-5, at two batch sizes (the batch is dynamic);
 *  - accepted by Debian's python3-onnx (1.12) checker with full_check (shape inference included), with
 *    IR version ≤ 8, opset 13–17, the named input/output and the dynamic batch;
 *  - written with ONNX's field numbers and types: the .proto subset's descriptor against onnx's own.
 * Fails loudly when python3-onnx is missing (the system check installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONNX_IR_VERSION, ONNX_OPSET } from '../engine/deploy/onnx/export';
import { file_onnx_subset } from '../engine/deploy/onnx/onnx-subset_pb';
import { onnxFromGraphModel } from '../engine/deploy/onnx';
import { exportGraphModel } from '../engine/export/graph-model';
import { forward } from '../engine/models/forward';
import type { ModelGraph } from '../engine/models/graph';
import type { ModelParams } from '../engine/models/params';
import { compactFixture, type CompactFixture } from '../engine/testing/compact-fixture';
import { maxRelDiff } from '../engine/testing/compare';
import { referencePython } from '../../scripts/python.mjs';

const dir = mkdtempSync(join(tmpdir(), 'lrpet-onnx-'));
const files: string[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** NHWC → NCHW. */
function toNchw(x: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + k];
  return out;
}

async function checkWithOrt(label: string, graph: ModelGraph, params: ModelParams, bytes: Uint8Array): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    for (const batch of [1, 3]) {
      const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', batch) as tf.Tensor4D;
      const engine = tf.tidy(() => forward(tf, graph, params, x, false));
      const data = (await x.data()) as Float32Array;
      const result = await session.run({ input: new ort.Tensor('float32', toNchw(data, x.shape), [batch, 3, 32, 32]) });
      const logits = result.logits;
      expect(logits.dims).toEqual([batch, 10]);
      const diff = maxRelDiff(logits.data as Float32Array, (await engine.data()) as Float32Array);
      console.log(`${label}, batch ${batch}: ONNX Runtime vs engine max|Δ|/max|logit| = ${diff.toExponential(2)}`);
      expect(diff, `${label} batch ${batch}`).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, engine]);
    }
  } finally {
    await session.release();
  }
}

describe.each([
  ['resnet20', { rankMultiple: 4 }],
  ['vgg-tiny', { prune: 0.5 }],
  ['resnet8-tiny', { prune: 0.5, projectDense: true }],
] as const)('ONNX export of %s', (model, opts) => {
  let fx: CompactFixture;
  afterAll(() => fx?.dispose());
  it('ONNX Runtime computes the engine’s logits for the projected and the compact model', async () => {
    fx = await compactFixture(tf, model, opts);
    for (const [variant, graph, params] of [
      ['projected', fx.plan.graph, fx.params],
      ['compact', fx.compact.graph, fx.compact.params],
    ] as const) {
      const bytes = onnxFromGraphModel(await exportGraphModel(graph, params), { variant });
      const file = join(dir, `${model}-${variant}.onnx`);
      writeFileSync(file, bytes);
      files.push(file);
      await checkWithOrt(`${model} ${variant}`, graph, params, bytes);
    }
  });
});

describe('the ONNX files', () => {
  it("pass Debian's onnx checker (full_check), with IR ≤ 8, opset 13–17, named inputs/outputs and a dynamic batch; the .proto subset has ONNX's field numbers", () => {
    expect(files.length).toBe(6);
    const descriptor = join(dir, 'subset.desc');
    writeFileSync(descriptor, toBinary(FileDescriptorProtoSchema, file_onnx_subset.proto));
    const script = `
import json, sys
try:
    import onnx
    from google.protobuf import descriptor_pb2
except ImportError as e:
    sys.stderr.write(f"python3-onnx is required: apt-get install python3-onnx ({e})\\n"); sys.exit(3)
out = {"version": onnx.__version__, "files": {}, "fields": []}
for path in sys.argv[2:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
    out["files"][path] = {"ir": m.ir_version, "opset": [(o.domain, o.version) for o in m.opset_import],
        "inputs": [(i.name, dims(i)) for i in g.input], "outputs": [(o.name, dims(o)) for o in g.output],
        "ops": sorted(set(n.op_type for n in g.node))}
fdp = descriptor_pb2.FileDescriptorProto.FromString(open(sys.argv[1], "rb").read())
def walk(msgs, prefix):
    for m in msgs:
        full = prefix + m.name
        theirs = onnx.ModelProto.DESCRIPTOR.file.pool.FindMessageTypeByName("onnx." + full)
        for f in m.field:
            t = theirs.fields_by_name.get(f.name)
            out["fields"].append([full + "." + f.name, f.number, f.type, None if t is None else t.number, None if t is None else t.type])
        walk(m.nested_type, full + ".")
walk(fdp.message_type, "")
print(json.dumps(out))
`;
    const py = referencePython().path;
    const r = spawnSync(py, ['-c', script, descriptor, ...files], { encoding: 'utf8', timeout: 120_000 });
    if (r.status === 3) throw new Error(r.stderr.trim());
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      version: string;
      files: Record<string, { ir: number; opset: [string, number][]; inputs: [string, (string | number)[]][]; outputs: [string, (string | number)[]][]; ops: string[] }>;
      fields: [string, number, number, number | null, number | null][];
    };
    console.log(`onnx ${out.version}: ${Object.keys(out.files).length} files pass check_model(full_check=True); ops ${[...new Set(Object.values(out.files).flatMap((f) => f.ops))].join(', ')}`);
    for (const [path, f] of Object.entries(out.files)) {
      expect(f.ir, path).toBe(ONNX_IR_VERSION);
      expect(f.ir).toBeLessThanOrEqual(8);
      expect(f.opset).toEqual([['', ONNX_OPSET]]);
      expect(ONNX_OPSET).toBeGreaterThanOrEqual(13);
      expect(ONNX_OPSET).toBeLessThanOrEqual(17);
      expect(f.inputs).toEqual([['input', ['batch', 3, 32, 32]]]);
      expect(f.outputs).toEqual([['logits', ['batch', 10]]]);
    }
    expect(out.fields.length).toBeGreaterThan(40);
    for (const [name, number, type, theirNumber, theirType] of out.fields) {
      expect([name, number, type]).toEqual([name, theirNumber, theirType]);
    }
  });
});
