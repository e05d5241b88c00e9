// Matrix products with few input rows (a streaming step's 1–16 positions) against large
// float32 weights: memory-bound GEMVs. Two things make them faster with this binding's
// OpenBLAS: computing (W · xᵀ)ᵀ instead of x · Wᵀ (the weight is streamed as the
// left operand instead of being packed as the right one), and splitting W's rows across
// two extra CPU streams, each its own thread, so both cores read weights at once.
// Measured on a 2-core x64 with OPENBLAS_NUM_THREADS=1, 16 weights of 2048×512: 24.9 ms
// as x · Wᵀ, 22.9 as (W · xᵀ)ᵀ, 13.4 split over two streams. With OpenBLAS's own
// threads (the default) the split is roughly neutral, the operand order still helps.
// SOLACELIVE_GEMV_SPLIT=0 turns the split off (for comparisons, or a 1-core machine).
import { evaluate, mx, type MxArray } from '../mlx.ts';

type Stream = ReturnType<typeof mx.newStream>;

let shared: readonly Stream[] | undefined;

/** Two CPU streams for the whole process (each stream is a thread; make them once). */
export function gemvStreams(): readonly Stream[] {
  shared ??= [mx.newStream(mx.cpu), mx.newStream(mx.cpu)];
  return shared;
}

/** Weights below this many bytes are not worth a split (two dispatches and a concat). */
const SPLIT_MIN_BYTES = 1 << 20;

/** A bias-free linear map y = x · Wᵀ, W [out, in] as stored upstream, for few rows of x. */
export class RowSplitLinear {
  readonly inDim: number;
  readonly outDim: number;
  private readonly parts: readonly MxArray[];
  private readonly streams: readonly (Stream | undefined)[];

  constructor(w: MxArray, opts: { split?: boolean } = {}) {
    [this.outDim, this.inDim] = w.shape as [number, number];
    const split = (opts.split ?? process.env.SOLACELIVE_GEMV_SPLIT !== '0') && w.nbytes >= SPLIT_MIN_BYTES && this.outDim % 2 === 0;
    if (split) {
      const half = this.outDim / 2;
      this.parts = [w.index(mx.Slice(0, half)), w.index(mx.Slice(half))];
      this.streams = gemvStreams();
    } else {
      this.parts = [w];
      this.streams = [undefined];
    }
    evaluate(...this.parts);
  }

  /** x: [..., in] with few leading positions → [..., out]. */
  forward(x: MxArray): MxArray {
    const lead = x.shape.slice(0, -1);
    const xT = mx.transpose(mx.reshape(x, [-1, this.inDim]));
    const ys = this.parts.map((w, i) => mx.matmul(w, xT, this.streams[i]));
    const yT = ys.length === 1 ? ys[0]! : mx.concatenate(ys as MxArray[], 0);
    return mx.reshape(mx.transpose(yT), [...lead, this.outDim]);
  }
}
