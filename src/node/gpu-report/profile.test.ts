import { describe, expect, it } from 'vitest';
import { kernelFamily, parsePrograms, summariseProfile } from './profile';

describe('summariseProfile', () => {
  it('sums GPU time by kernel, op family and WGSL program, with shares of the total', () => {
    const s = summariseProfile([
      { name: 'Conv2D', kernelTimeMs: 1, extraInfo: 'Conv2DMMProgram: 1', inputShapes: [[8, 32, 32, 16], [3, 3, 16, 16]] },
      { name: 'Conv2DBackpropFilter', kernelTimeMs: 6, extraInfo: 'BackpropFilterGemm: 5, ReduceSlices: 1', inputShapes: [[8, 32, 32, 16], [8, 32, 32, 16]] },
      { name: 'Conv2DBackpropInput', kernelTimeMs: 2, extraInfo: 'Conv2DDerInputMMProgram: 2' },
      { name: 'FusedBatchNorm', kernelTimeMs: 0.5, extraInfo: 'BatchNormProgram: 0.5' },
      { name: 'Reshape', kernelTimeMs: 0, extraInfo: '' },
      { name: 'Conv2D', kernelTimeMs: 0.5, extraInfo: 'Conv2DMMProgram: 0.5' },
    ]);
    expect(s).toMatchObject({ kernelCalls: 6, dispatches: 6, gpuMs: 10, timed: true });
    expect(s.byKernel.map((k) => [k.name, k.ms, k.calls])).toEqual([
      ['Conv2DBackpropFilter', 6, 1],
      ['Conv2DBackpropInput', 2, 1],
      ['Conv2D', 1.5, 2],
      ['FusedBatchNorm', 0.5, 1],
      ['Reshape', 0, 1],
    ]);
    expect(s.byKernel[0].share).toBeCloseTo(0.6, 12);
    expect(s.byFamily.map((k) => [k.name, k.ms])).toEqual([
      ['conv backprop-filter', 6],
      ['conv backprop-input', 2],
      ['conv forward', 1.5],
      ['batch norm', 0.5],
      ['data movement', 0],
    ]);
    expect(s.byProgram.map((k) => [k.name, k.ms, k.calls])).toEqual([
      ['BackpropFilterGemm', 5, 1],
      ['Conv2DDerInputMMProgram', 2, 1],
      ['Conv2DMMProgram', 1.5, 2],
      ['ReduceSlices', 1, 1],
      ['BatchNormProgram', 0.5, 1],
    ]);
    expect(s.slowest[0]).toEqual({ name: 'Conv2DBackpropFilter', ms: 6, inputShapes: [[8, 32, 32, 16], [8, 32, 32, 16]] });
    expect(s.slowest).toHaveLength(6);
  });

  it('says when nothing was timed (no timestamp queries: zeros or errors)', () => {
    const s = summariseProfile([
      { name: 'Conv2D', kernelTimeMs: 0, extraInfo: 'Conv2DMMProgram: 0' },
      { name: 'Relu', kernelTimeMs: { error: 'no timer' } },
    ]);
    expect(s).toMatchObject({ timed: false, gpuMs: 0, kernelCalls: 2 });
    expect(s.byKernel.every((k) => k.share === 0)).toBe(true);
  });
});

describe('parsePrograms and kernelFamily', () => {
  it('splits the program list at the last ": " of each item and skips malformed items', () => {
    expect(parsePrograms('A: 0.5, B<x: y>: 1.25, broken, C: NaN')).toEqual([
      ['A', 0.5],
      ['B<x: y>', 1.25],
    ]);
    expect(parsePrograms(undefined)).toEqual([]);
  });

  it('keeps the three conv passes apart', () => {
    expect(['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MatMul', 'Mean', 'Relu'].map(kernelFamily)).toEqual([
      'conv forward',
      'conv forward',
      'conv backprop-input',
      'conv backprop-filter',
      'matmul',
      'reduction',
      'element-wise and other',
    ]);
  });
});
