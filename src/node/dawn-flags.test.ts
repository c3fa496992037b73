import { describe, expect, it } from 'vitest';
import { dawnFlags } from './webgpu-node';

describe('dawnFlags', () => {
  it("splits $LRPET_DAWN_FLAGS at white space; none when unset or blank", () => {
    expect(dawnFlags('disable-dawn-features=timestamp_quantization  enable-dawn-features=allow_unsafe_apis,dump_shaders\n')).toEqual([
      'disable-dawn-features=timestamp_quantization',
      'enable-dawn-features=allow_unsafe_apis,dump_shaders',
    ]);
    expect(dawnFlags(undefined)).toEqual([]);
    expect(dawnFlags('  ')).toEqual([]);
  });
});
