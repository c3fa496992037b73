import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../engine/models/builders';
import { initParams } from '../../engine/models/params';
import { exportSafetensors } from '../../engine/weights/model-weights';
import { initWeightsProblem, MAX_WEIGHTS_BYTES } from './init-weights';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('the page’s check of a weights file', () => {
  it('accepts the model’s own file and says, naming the file, why another does not fit', async () => {
    const g = buildModel('resnet8-tiny');
    const bytes = await exportSafetensors(g, initParams(tf, g, 1), { model: 'resnet8-tiny', variant: 'dense' }, 0);
    const w = { name: 'projected.safetensors', bytes };
    expect(initWeightsProblem(w, 'resnet8-tiny')).toBeNull();
    expect(initWeightsProblem(w, 'resnet20')).toMatch(/^projected\.safetensors: these weights do not fit resnet20: these are resnet8-tiny's weights/);
    expect(initWeightsProblem({ name: 'x.safetensors', bytes: bytes.subarray(0, 1000) }, 'resnet8-tiny')).toMatch(/^x\.safetensors: not a valid safetensors file: /);
    expect(initWeightsProblem({ name: 'big', bytes: { length: MAX_WEIGHTS_BYTES + 1 } as Uint8Array }, 'vgg16')).toMatch(/more than any model here needs/);
  });
});
