// Streaming causal convolutions, channel-last ([1, T, C]). A module holds only weights;
// its streaming state goes in and comes out of `step`, so the one object that owns a
// session's state (Mimi) can reset it by dropping it. A null state means "first call".
//
// Calling `step` once on a whole signal from a null state is upstream's non-streaming
// forward (same left padding), and calling it chunk by chunk gives the same samples:
// that is what makes Mimi's batch encode equal to its streaming encode up to the
// transformer context.
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { RowSplitLinear } from '../nn/rowsplit.ts';
import type { PadMode } from './config.ts';

export interface ConvStep {
  readonly y: MxArray;
  readonly state: MxArray | null;
}

const S = mx.Slice;

/**
 * Up to this many output steps, a conv with a large weight runs as a GEMV (RowSplitLinear)
 * over explicitly unfolded input instead of MLX's conv1d, whose GEMM packs the whole
 * weight for two rows: Mimi's 512→1024 k16 conv reads 33.5 MB per frame for 2 outputs.
 */
const GEMV_MAX_STEPS = 16;
const GEMV_MIN_BYTES = 1 << 20;

/**
 * Causal Conv1d. State: the last (K−1)·D+1−S input samples, [1, K'−S, Cin], zeros on the
 * first call (pad mode constant) or copies of the first input sample (replicate, used
 * by the learnt downsample).
 */
export class CausalConv1d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padMode: PadMode;
  /** Input samples carried between calls. */
  readonly context: number;
  private readonly weight: MxArray;
  private readonly bias: MxArray | null;
  /** The weight as a [Cout, K·Cin] GEMV, for short outputs; null for small weights. */
  private readonly gemv: RowSplitLinear | null;

  /** `weight` is [Cout, K, Cin] (MLX layout), `bias` [Cout] or null. */
  constructor(weight: MxArray, bias: MxArray | null, opts: { stride?: number; dilation?: number; padMode?: PadMode } = {}) {
    [this.outChannels, this.kernelSize, this.inChannels] = weight.shape as [number, number, number];
    this.stride = opts.stride ?? 1;
    this.dilation = opts.dilation ?? 1;
    this.padMode = opts.padMode ?? 'constant';
    this.context = (this.kernelSize - 1) * this.dilation + 1 - this.stride;
    if (this.context < 0) throw new RangeError(`conv kernel ${this.kernelSize} is shorter than its stride ${this.stride}`);
    this.weight = weight;
    this.bias = bias;
    this.gemv = weight.nbytes >= GEMV_MIN_BYTES && this.dilation === 1
      ? new RowSplitLinear(mx.reshape(weight, [this.outChannels, this.kernelSize * this.inChannels]))
      : null;
  }

  /** x: [1, L, Cin] with L a multiple of the stride; returns L/S outputs. */
  step(x: MxArray, state: MxArray | null): ConvStep {
    const len = x.shape[1]!;
    if (len % this.stride !== 0) throw new RangeError(`conv input length ${len} is not a multiple of the stride ${this.stride}`);
    let input = x;
    let next: MxArray | null = null;
    if (this.context > 0) {
      const prev = state ?? this.initialState(x);
      input = mx.concatenate([prev, x], 1);
      next = input.index(S(), S(-this.context));
    }
    const outLen = len / this.stride;
    let y = this.gemv && outLen <= GEMV_MAX_STEPS
      ? mx.expandDims(this.gemv.forward(this.unfold(input, outLen)), 0)
      : mx.conv1d(input, this.weight, this.stride, 0, this.dilation, 1);
    if (this.bias) y = mx.add(y, this.bias);
    return { y, state: next };
  }

  /** [1, (n−1)·S + K, Cin] → [n, K·Cin], row t = the K input samples output t reads. */
  private unfold(input: MxArray, n: number): MxArray {
    const { kernelSize: k, stride, inChannels: cin } = this;
    if (k % stride === 0) {
      // Whole blocks of S samples: output t reads blocks t .. t + K/S − 1.
      const blocks = mx.reshape(input, [-1, stride * cin]);
      const parts = Array.from({ length: k / stride }, (_, j) => blocks.index(S(j, j + n)));
      return parts.length === 1 ? parts[0]! : mx.concatenate(parts, 1);
    }
    const rows = mx.reshape(input, [-1, cin]);
    const parts = Array.from({ length: k }, (_, j) => rows.index(S(j, j + (n - 1) * stride + 1, stride)));
    return mx.concatenate(parts, 1);
  }

  private initialState(x: MxArray): MxArray {
    if (this.padMode === 'replicate') {
      return mx.broadcastTo(x.index(S(), S(0, 1)), [1, this.context, this.inChannels]);
    }
    return mx.zeros([1, this.context, this.inChannels], mx.float32);
  }
}

/**
 * Causal ConvTranspose1d with the output trimmed on the right, as upstream streams it.
 * Computed as one GEMM (every input step times every kernel tap) plus an overlap-add:
 * in this binding that is ~15× faster than convGeneral with input dilation. The K−S
 * samples that overlap the next call are carried as state *without* the bias, which the
 * emitted samples already hold once.
 */
export class CausalConvTranspose1d {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly depthwise: boolean;
  /** Kernel taps grouped into blocks of `stride` samples (kernel padded up to a multiple). */
  readonly blocks: number;
  /** Depthwise: [blocks·S, C] for a broadcast product. */
  private readonly kernel: MxArray | null;
  /** Dense: the [blocks·S·Cout, Cin] GEMV/GEMM giving every tap of every input step. */
  private readonly taps: RowSplitLinear | null;
  private readonly bias: MxArray | null;

  /**
   * `weight` is [Cin, K, Cout/groups] (taps before output channels, see weights.ts);
   * groups is 1 or Cin (depthwise, as Mimi's upsample).
   */
  constructor(weight: MxArray, bias: MxArray | null, opts: { stride: number; groups?: number }) {
    const [cin, k, coutPerGroup] = weight.shape as [number, number, number];
    const groups = opts.groups ?? 1;
    if (groups !== 1 && !(groups === cin && coutPerGroup === 1)) throw new RangeError(`conv-transpose groups ${groups}: only 1 or depthwise are supported`);
    this.depthwise = groups !== 1;
    this.inChannels = cin;
    this.outChannels = coutPerGroup * groups;
    this.kernelSize = k;
    this.stride = opts.stride;
    this.blocks = Math.ceil(k / this.stride);
    const padded = this.blocks * this.stride;
    // Zero taps appended so that the kernel is whole blocks of S.
    const w = padded > k ? mx.pad(weight, [[0, 0], [0, padded - k], [0, 0]]) : weight;
    if (this.depthwise) {
      this.kernel = mx.transpose(mx.reshape(w, [cin, padded]), [1, 0]);
      this.taps = null;
      // Derived once here, so a compiled caller captures an array, not the ops making it.
      evaluate(this.kernel);
    } else {
      this.kernel = null;
      // [Cin, K'·Cout] → [K'·Cout, Cin], materialised row-major (flattening copies).
      const t = mx.transpose(mx.reshape(w, [cin, padded * coutPerGroup]));
      this.taps = new RowSplitLinear(mx.reshape(mx.reshape(t, [-1]), t.shape));
    }
    this.bias = bias;
  }

  /** x: [1, L, Cin]; returns [1, L·S, Cout]. */
  step(x: MxArray, state: MxArray | null): ConvStep {
    const len = x.shape[1]!;
    const { stride, blocks } = this;
    const cout = this.outChannels;
    // taps[t, b] = contribution of input step t to output block t + b: [L, blocks, S, Cout].
    const taps = this.taps
      ? this.taps.forward(mx.reshape(x, [len, this.inChannels]))
      : mx.multiply(mx.reshape(x, [len, 1, this.inChannels]), this.kernel!);
    const t4 = mx.reshape(taps, [len, blocks, stride, cout]);
    let full: MxArray;
    if (blocks === 1) {
      full = mx.reshape(t4, [len, stride, cout]);
    } else {
      // Block b of every step lands b blocks later: shift and sum, [L + blocks − 1, S, Cout].
      const parts: MxArray[] = [];
      for (let b = 0; b < blocks; b++) {
        const part = t4.index(S(), b);
        parts.push(mx.pad(part, [[b, blocks - 1 - b], [0, 0], [0, 0]]));
      }
      full = parts.reduce((a, p) => mx.add(a, p));
    }
    if (blocks > 1 && state) {
      // state: [blocks − 1, S, Cout], the overlap carried from the previous call.
      full = mx.add(full, mx.pad(state, [[0, len], [0, 0], [0, 0]]));
    }
    let y = mx.reshape(full.index(S(0, len)), [1, len * stride, cout]);
    if (this.bias) y = mx.add(y, this.bias);
    const next = blocks > 1 ? full.index(S(len)) : null;
    // The kernel was padded to whole blocks: the tail beyond K−S is exactly zero, and
    // upstream carries K−S samples, so the carried blocks are the same numbers.
    return { y, state: next };
  }
}
