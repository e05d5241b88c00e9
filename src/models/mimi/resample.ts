// The learnt resampling between the SEANet rate (25 Hz) and the code rate (12.5 Hz):
// a full conv (kernel 2·stride, no bias) down, padded on the left with copies of the
// first latent column (replicate), and a depthwise conv-transpose up (upstream's
// `upsample_channel_wise_bug`: groups = channels, one 2·stride kernel per channel).
import type { MxArray } from '../mlx.ts';
import { CausalConv1d, CausalConvTranspose1d, type ConvStep } from './conv.ts';

export class Downsample {
  private readonly conv: CausalConv1d;

  /** `weight`: [C, 2·stride, C] (MLX conv layout). */
  constructor(weight: MxArray, stride: number) {
    this.conv = new CausalConv1d(weight, null, { stride, padMode: 'replicate' });
  }

  step(x: MxArray, state: MxArray | null): ConvStep {
    return this.conv.step(x, state);
  }
}

export class Upsample {
  private readonly convtr: CausalConvTranspose1d;

  /** `weight`: [C, 2·stride, 1] (depthwise, taps before the one output channel per group). */
  constructor(weight: MxArray, stride: number) {
    this.convtr = new CausalConvTranspose1d(weight, null, { stride, groups: weight.shape[0]! });
  }

  step(x: MxArray, state: MxArray | null): ConvStep {
    return this.convtr.step(x, state);
  }
}
