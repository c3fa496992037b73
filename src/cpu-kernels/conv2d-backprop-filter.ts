import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

/**
 * The filter gradient of a 2-D convolution on tfjs's CPU backend: dW[fh, fw, ci, co] = Σ x[b, ih, iw, ci] ·
 * dy[b, oh, ow, co] over the batch and the output positions (NHWC input, HWIO filter). tfjs's own kernel
 * reads every input value through TensorBuffer.get in its innermost loop, which made it most of a training
 * step's time on that backend (bench/cpu-kernels.ts); here the loops run over the flat arrays, the innermost
 * one along the output channels, where dy and dW are both contiguous. Sums are kept in float64, as tfjs's are.
 */
export function conv2dBackpropFilterValues(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const sums = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let fh = 0; fh < filterHeight; fh++) {
        const ih = oh * strideHeight - top + fh;
        if (ih < 0 || ih >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyAt = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let fw = 0; fw < filterWidth; fw++) {
            const iw = ow * strideWidth - left + fw;
            if (iw < 0 || iw >= inWidth) continue;
            const xAt = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            let row = (fh * filterWidth + fw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++, row += outChannels) {
              const xv = x[xAt + ci];
              for (let co = 0; co < outChannels; co++) sums[row + co] += xv * dy[dyAt + co];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(sums);
}

interface CpuBackend {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** The kernel function for 'Conv2DBackpropFilter'; null (use tfjs's) for what it does not cover: NCHW, non-float32. */
export function conv2dBackpropFilterCpu(args: Parameters<KernelFunc>[0]): TensorInfo | null {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const backend = args.backend as unknown as CpuBackend;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const values = conv2dBackpropFilterValues(backend.readSync(x.dataId) as Float32Array, backend.readSync(dy.dataId) as Float32Array, info);
  return backend.makeTensorInfo(info.filterShape, 'float32', values);
}
