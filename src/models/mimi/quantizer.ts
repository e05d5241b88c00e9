// Split residual vector quantizer. The semantic RVQ (first codebook) and the acoustic
// RVQ (the rest) each project the *same* latent through their own 1×1 conv; within an
// RVQ every level quantizes the residual the previous levels left. Decoding sums the
// levels' centroids, projects each RVQ back and adds the two.
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { RowSplitLinear } from '../nn/rowsplit.ts';
import type { Tap } from './seanet.ts';

export interface CodebookWeights {
  /** [bins, Dq]. */
  readonly embeddingSum: MxArray;
  /** [bins]. */
  readonly clusterUsage: MxArray;
}

export interface RvqWeights {
  /** [Dq, D]. */
  readonly inputProj: MxArray;
  /** [D, Dq]. */
  readonly outputProj: MxArray;
  /** Only the levels in use. */
  readonly codebooks: readonly CodebookWeights[];
}

/** Centroids are EMA sums over usage counts; usage is clamped as upstream does. */
const USAGE_EPS = 1e-5;

class Codebook {
  /** [bins, Dq]. */
  readonly centroids: MxArray;
  /** x · centroidsᵀ as a GEMV (a real codebook is 2 MB, searched once per frame). */
  private readonly scores: RowSplitLinear;
  /** [bins]: ‖e‖²/2, so that argmin ‖x − e‖² = argmax (x·e − ‖e‖²/2). */
  private readonly halfNorms: MxArray;

  constructor(w: CodebookWeights) {
    this.centroids = mx.divide(w.embeddingSum, mx.expandDims(mx.maximum(w.clusterUsage, USAGE_EPS), 1));
    this.halfNorms = mx.multiply(mx.sum(mx.square(this.centroids), 1), 0.5);
    evaluate(this.centroids, this.halfNorms);
    this.scores = new RowSplitLinear(this.centroids);
  }

  /** x: [T, Dq] → int32 [T]. */
  nearest(x: MxArray): MxArray {
    return mx.argmax(mx.subtract(this.scores.forward(x), this.halfNorms), -1).astype(mx.int32);
  }

  lookup(codes: MxArray): MxArray {
    return mx.take(this.centroids, codes, 0);
  }
}

class Rvq {
  private readonly inputProjT: MxArray;
  private readonly outputProjT: MxArray;
  readonly levels: readonly Codebook[];

  constructor(w: RvqWeights) {
    this.inputProjT = mx.transpose(w.inputProj);
    this.outputProjT = mx.transpose(w.outputProj);
    evaluate(this.inputProjT, this.outputProjT);
    this.levels = w.codebooks.map((c) => new Codebook(c));
  }

  /** latent [T, D] → projected input [T, Dq] and codes int32 [T, levels]. */
  encode(latent: MxArray): { input: MxArray; codes: MxArray } {
    const input = mx.matmul(latent, this.inputProjT);
    let residual = input;
    const codes: MxArray[] = [];
    this.levels.forEach((cb, i) => {
      const c = cb.nearest(residual);
      codes.push(c);
      if (i < this.levels.length - 1) residual = mx.subtract(residual, cb.lookup(c));
    });
    return { input, codes: mx.stack(codes, 1) };
  }

  /** codes int32 [T, levels] → [T, D]. */
  decode(codes: MxArray): MxArray {
    let sum: MxArray | null = null;
    this.levels.forEach((cb, i) => {
      const q = cb.lookup(codes.index(mx.Slice(), i));
      sum = sum ? mx.add(sum, q) : q;
    });
    return mx.matmul(sum!, this.outputProjT);
  }
}

export class SplitRvq {
  readonly numCodebooks: number;
  private readonly semantic: Rvq;
  private readonly acoustic: Rvq;

  constructor(semantic: RvqWeights, acoustic: RvqWeights) {
    this.semantic = new Rvq(semantic);
    this.acoustic = new Rvq(acoustic);
    this.numCodebooks = this.semantic.levels.length + this.acoustic.levels.length;
  }

  /** latent [1, T, D] → int32 codes [T, numCodebooks] (column 0 semantic). */
  encode(latent: MxArray, tap?: Tap): MxArray {
    const x = mx.reshape(latent, latent.shape.slice(1));
    const sem = this.semantic.encode(x);
    tap?.('quantizer.rvq_first.input_proj', mx.expandDims(sem.input, 0));
    if (this.acoustic.levels.length === 0) return sem.codes;
    const ac = this.acoustic.encode(x);
    tap?.('quantizer.rvq_rest.input_proj', mx.expandDims(ac.input, 0));
    return mx.concatenate([sem.codes, ac.codes], 1);
  }

  /** int32 codes [T, numCodebooks] → [1, T, D]. */
  decode(codes: MxArray): MxArray {
    const ns = this.semantic.levels.length;
    let y = this.semantic.decode(codes.index(mx.Slice(), mx.Slice(0, ns)));
    if (this.acoustic.levels.length > 0) y = mx.add(y, this.acoustic.decode(codes.index(mx.Slice(), mx.Slice(ns))));
    return mx.expandDims(y, 0);
  }
}
