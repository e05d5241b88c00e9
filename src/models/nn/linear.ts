// Linear layers and embedding tables over float32 or MLX-quantized weights. Shared by the
// model code so one place knows the quantized layout (uint32 words packed low bits first,
// `.scales`/`.biases` per group; weight = scale·q + bias) and how to run it fast on CPU.
import { evaluate, mx, type MxArray } from '../mlx.ts';

export interface QuantSpec {
  readonly bits: number;
  readonly groupSize: number;
}

interface QuantPart {
  readonly w: MxArray;
  readonly scales: MxArray;
  readonly biases: MxArray;
}

/** A bias-free linear map `y = x·Wᵀ`, W stored `[out, in]` as upstream stores it. */
export class Linear {
  readonly inDim: number;
  readonly outDim: number;
  readonly quant: QuantSpec | null;
  private readonly w: MxArray | null;
  private readonly wT: MxArray | null;
  private readonly parts: readonly QuantPart[];
  private readonly streams: readonly (ReturnType<typeof mx.newStream> | undefined)[];

  private constructor(inDim: number, outDim: number, w: MxArray | null, quant: QuantSpec | null, parts: QuantPart[], streams: (ReturnType<typeof mx.newStream> | undefined)[]) {
    this.inDim = inDim;
    this.outDim = outDim;
    this.w = w;
    // Transposed once: matmul against a [in, out] view is what BLAS GEMV wants per call.
    this.wT = w ? w.T : null;
    this.quant = quant;
    this.parts = parts;
    this.streams = streams;
  }

  static float(w: MxArray): Linear {
    const [out, inD] = w.shape as [number, number];
    return new Linear(inD, out, w, null, [], []);
  }

  /**
   * A quantized linear. The CPU quantized matmul of this binding is single-threaded, so
   * with `streams` the rows are split into one block per stream and the blocks run in
   * parallel (each stream is its own CPU thread); the outputs are concatenated.
   */
  static quantized(w: MxArray, scales: MxArray, biases: MxArray, quant: QuantSpec, streams: readonly ReturnType<typeof mx.newStream>[] = []): Linear {
    const out = w.shape[0]!;
    const inD = (w.shape[1]! * 32) / quant.bits;
    const n = streams.length > 1 && out >= 256 * streams.length ? streams.length : 1;
    const parts: QuantPart[] = [];
    const per = Math.ceil(out / n);
    for (let i = 0; i < n; i++) {
      const rows = mx.Slice(i * per, Math.min(out, (i + 1) * per));
      parts.push(n === 1 ? { w, scales, biases } : { w: w.index(rows), scales: scales.index(rows), biases: biases.index(rows) });
    }
    return new Linear(inD, out, null, quant, parts, n === 1 ? [undefined] : streams.slice(0, n));
  }

  /**
   * One linear whose output is the given linears' outputs side by side (their weights
   * stacked along the output rows): several projections of the same input in one matmul.
   * Null when they cannot share one weight (different input sizes or quantization, or a
   * quantized weight already split across streams).
   */
  static stackOutputs(ls: readonly Linear[]): Linear | null {
    const first = ls[0];
    if (!first || ls.some((l) => l.inDim !== first.inDim || (l.quant === null) !== (first.quant === null))) return null;
    // Materialised here: a compiled caller must capture an array, not the concatenation.
    if (first.w) {
      const w = mx.concatenate(ls.map((l) => l.w!), 0);
      evaluate(w);
      return Linear.float(w);
    }
    const q = first.quant!;
    if (ls.some((l) => l.parts.length !== 1 || l.quant!.bits !== q.bits || l.quant!.groupSize !== q.groupSize)) return null;
    const [w, scales, biases] = (['w', 'scales', 'biases'] as const).map((k) => mx.concatenate(ls.map((l) => l.parts[0]![k]), 0)) as [MxArray, MxArray, MxArray];
    evaluate(w, scales, biases);
    return Linear.quantized(w, scales, biases, q);
  }

  /** The linear of output rows [start, end) of this one, as views of its weights (no copy). */
  rows(start: number, end: number): Linear {
    const r = mx.Slice(start, end);
    if (this.w) {
      const w = this.w.index(r);
      evaluate(w);
      return Linear.float(w);
    }
    if (this.parts.length !== 1) throw new RangeError('Linear.rows: the weight is split across streams');
    const p = this.parts[0]!;
    const [w, scales, biases] = [p.w.index(r), p.scales.index(r), p.biases.index(r)];
    evaluate(w, scales, biases);
    return Linear.quantized(w, scales, biases, this.quant!);
  }

  forward(x: MxArray): MxArray {
    if (this.wT) return mx.matmul(x, this.wT);
    const q = this.quant!;
    const ys = this.parts.map((p, i) => mx.quantizedMatmul(x, p.w, p.scales, p.biases, true, q.groupSize, q.bits, this.streams[i]));
    return ys.length === 1 ? ys[0]! : mx.concatenate(ys, -1);
  }

  /** Bytes of weight data one forward reads (for bandwidth accounting). */
  get weightBytes(): number {
    if (this.w) return this.w.nbytes;
    return this.parts.reduce((a, p) => a + p.w.nbytes + p.scales.nbytes + p.biases.nbytes, 0);
  }
}

/** An embedding table `[rows, dim]`, float32 or quantized (rows dequantized on lookup). */
export class Embedding {
  readonly rows: number;
  readonly dim: number;
  private readonly w: MxArray;
  private readonly scales: MxArray | null;
  private readonly biases: MxArray | null;
  private readonly quant: QuantSpec | null;

  constructor(w: MxArray, q?: { scales: MxArray; biases: MxArray; quant: QuantSpec }) {
    this.rows = w.shape[0]!;
    this.w = w;
    this.scales = q?.scales ?? null;
    this.biases = q?.biases ?? null;
    this.quant = q?.quant ?? null;
    this.dim = q ? (w.shape[1]! * 32) / q.quant.bits : w.shape[1]!;
  }

  /** Rows for int32 ids of any shape: result shape ids.shape + [dim]. Ids must be in range. */
  lookup(ids: MxArray): MxArray {
    if (!this.quant) return mx.take(this.w, ids, 0);
    const q = this.quant;
    const flat = ids.reshape([-1]);
    const rows = mx.dequantize(mx.take(this.w, flat, 0), mx.take(this.scales!, flat, 0), mx.take(this.biases!, flat, 0), q.groupSize, q.bits);
    return rows.reshape([...ids.shape, this.dim]);
  }

  get weightBytes(): number {
    return this.w.nbytes + (this.scales?.nbytes ?? 0) + (this.biases?.nbytes ?? 0);
  }
}
