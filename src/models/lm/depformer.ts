// The depformer: inside one 80 ms step it generates the dep_q audio codebooks one after
// another. Sub-step k adds a projection of the temporal output (input linear k, or the
// one its schedule names) to the embedding of the previous token (the text token just
// sampled for k = 0, codebook k−1 after that), runs the small transformer with weight set
// schedule[k] over the sub-steps so far, and reads codebook k's logits from head k.
import { mx, type MxArray } from '../mlx.ts';
import { compiled } from '../nn/compile.ts';
import { LruCache } from '../nn/lru.ts';
import { Linear, type Embedding } from '../nn/linear.ts';
import { ZERO_TOKEN, type LmConfig } from './config.ts';
import { effectiveTopK, SAMPLING_CACHE_SIZE, sampleToken, temperatureArray, type SamplingParams } from './sampling.ts';
import { Transformer, type KvCache, type LayerWeights } from './transformer.ts';

/** An embedding table, optionally low-rank (rows of width r, then a r→dim linear). */
export interface TokenEmbedding {
  readonly table: Embedding;
  readonly lowRank: Linear | null;
}

/**
 * Upstream `ScaledEmbedding`: the zero token (−1) embeds to an exact zero vector (before
 * the low-rank projection, which has no bias, so it stays zero). ids: int32, any shape.
 */
export function embed(e: TokenEmbedding, ids: MxArray): MxArray {
  const isZero = mx.equal(ids, ZERO_TOKEN);
  const rows = e.table.lookup(mx.maximum(ids, mx.array(0, mx.int32)));
  const y = mx.where(mx.expandDims(isZero, -1), mx.zeros([1], rows.dtype), rows);
  return e.lowRank ? e.lowRank.forward(y) : y;
}

export interface DepformerWeights {
  /** dep_q input projections with multi-linear (fewer with a schedule), else 1. */
  readonly inputs: readonly Linear[];
  readonly textEmb: TokenEmbedding;
  /** Embeddings of audio codebooks 0..dep_q−2 (the last codebook is never an input). */
  readonly audioEmbs: readonly TokenEmbedding[];
  /** One logits head per codebook. */
  readonly heads: readonly Linear[];
  readonly layers: readonly LayerWeights[];
}

export class Depformer {
  readonly transformer: Transformer;
  private readonly cfg: LmConfig;
  private readonly w: DepformerWeights;
  /** Compiled frames per kind of sampling ('greedy' or the effective top-k): LRU, as a client picks the top-k. */
  readonly frames = new LruCache<string, (...args: MxArray[]) => MxArray[]>(SAMPLING_CACHE_SIZE);

  /**
   * Every input projection of a frame reads the same temporal output, so a frame runs
   * them as one matmul against the stacked weights and slices: one primitive instead of
   * dep_q (null with a single shared input linear, or weights that cannot be stacked).
   */
  private readonly stackedInputs: Linear | null;

  constructor(cfg: LmConfig, w: DepformerWeights) {
    this.cfg = cfg;
    this.transformer = new Transformer(cfg.depformer, w.layers);
    const stacked = cfg.depformerMultiLinear && w.inputs.length > 1 ? Linear.stackOutputs(w.inputs) : null;
    this.stackedInputs = stacked;
    // The per-codebook linears become views of the stacked weights: held once, not twice.
    const D = cfg.depformerDim;
    this.w = stacked ? { ...w, inputs: w.inputs.map((_, i) => stacked.rows(i * D, (i + 1) * D)) } : w;
  }

  private inputIndex(k: number): number {
    if (!this.cfg.depformerMultiLinear) return 0;
    return this.cfg.depformer.schedule ? this.cfg.depformer.schedule[k]! : k;
  }

  private inputFor(k: number): Linear {
    return this.w.inputs[this.inputIndex(k)]!;
  }

  /**
   * The input projections of one frame, one per sub-step: computed once per distinct
   * input linear (one stacked matmul when there are several), not once per sub-step.
   */
  private frameInputs(hidden: MxArray): MxArray[] {
    const K = this.cfg.depQ;
    if (!this.stackedInputs) {
      const proj = new Map<number, MxArray>();
      return Array.from({ length: K }, (_, k) => {
        const i = this.inputIndex(k);
        let y = proj.get(i);
        if (!y) proj.set(i, (y = this.inputFor(k).forward(hidden)));
        return y;
      });
    }
    const D = this.cfg.depformerDim;
    const all = this.stackedInputs.forward(hidden);
    return Array.from({ length: K }, (_, k) => {
      const i = this.inputIndex(k);
      return all.index('...', mx.Slice(i * D, (i + 1) * D));
    });
  }

  private tokenEmbedding(k: number): TokenEmbedding {
    return k === 0 ? this.w.textEmb : this.w.audioEmbs[k - 1]!;
  }

  /** A fresh per-step cache (upstream resets the depformer's streaming state every step). */
  makeCaches(): KvCache[] {
    return this.transformer.makeCaches('growing');
  }

  /**
   * Sub-step k of one step. hidden: temporal output [B, 1, dim]; prev: int32 [B] (text
   * token for k = 0, codebook k−1 otherwise). Returns logits [B, card].
   */
  substep(k: number, hidden: MxArray, prev: MxArray, caches: readonly KvCache[]): MxArray {
    return this.substepFrom(k, this.inputFor(k).forward(hidden), prev, caches);
  }

  /** Sub-step k given its input projection of the temporal output ([B, 1, depformer dim]). */
  private substepFrom(k: number, projected: MxArray, prev: MxArray, caches: readonly KvCache[]): MxArray {
    // prev was just sampled, so it is a valid id: a plain lookup, no zero-token masking.
    const e = this.tokenEmbedding(k);
    const rows = e.table.lookup(prev.reshape([-1, 1]));
    const x = mx.add(projected, e.lowRank ? e.lowRank.forward(rows) : rows);
    const out = this.transformer.forward(x, k, caches);
    return this.w.heads[k]!.forward(out).reshape([-1, this.cfg.card]);
  }

  /**
   * All dep_q sub-steps of one frame with their draws: hidden [1, 1, dim], text token
   * int32 [1], one key per codebook (null when greedy). Returns the tokens int32 [dep_q]
   * and each codebook's logits [1, card]. Eager this is several hundred primitives, each
   * costing tens of microseconds to build and schedule in this binding, so the frame runs
   * as one compiled graph (per kind of sampling; the temperature is an input): same floats.
   */
  frame(hidden: MxArray, text: MxArray, p: SamplingParams, keys: readonly MxArray[] | null): { tokens: MxArray; logits: MxArray[] } {
    const greedy = p.temperature <= 0 || keys === null;
    const topK = effectiveTopK(p.topK, this.cfg.card);
    const f = this.frames.getOrCreate(greedy ? 'greedy' : String(topK), () => {
      const params: SamplingParams = greedy ? { temperature: 0, topK: 0 } : { temperature: 1, topK };
      return compiled((h: MxArray, tok: MxArray, temp: MxArray, ...ks: MxArray[]) => this.runFrame(h, tok, params, greedy ? null : temp, ks));
    });
    const [tokens, ...logits] = f(hidden, text, temperatureArray(greedy ? 1 : p.temperature), ...(keys ?? []));
    return { tokens: tokens!, logits };
  }

  private runFrame(hidden: MxArray, text: MxArray, p: SamplingParams, temp: MxArray | null, keys: readonly MxArray[]): MxArray[] {
    const caches = this.makeCaches();
    const inputs = this.frameInputs(hidden);
    let prev = text;
    const tokens: MxArray[] = [];
    const logits: MxArray[] = [];
    for (let k = 0; k < this.cfg.depQ; k++) {
      const l = this.substepFrom(k, inputs[k]!, prev, caches);
      prev = sampleToken(l, p, temp ? keys[k]! : null, temp ?? undefined);
      tokens.push(prev);
      logits.push(l);
    }
    return [mx.concatenate(tokens, 0), ...logits];
  }

  /**
   * Teacher-forced pass over all codebooks at once (upstream `forward_depformer_training`).
   * seq: int32 [B, K, T] delayed tokens (text row 0, audio rows after); hidden [B, T, dim].
   * Returns logits [B, dep_q, T, card].
   */
  forwardAll(seq: MxArray, hidden: MxArray): MxArray {
    const [B, , T] = seq.shape as [number, number, number];
    const Ka = this.cfg.depQ;
    const inputs: MxArray[] = [];
    for (let k = 0; k < Ka; k++) {
      const tokens = seq.index(mx.Slice(), k);
      inputs.push(mx.add(this.inputFor(k).forward(hidden), embed(this.tokenEmbedding(k), tokens)));
    }
    const x = mx.stack(inputs, 2).reshape([B * T, Ka, this.cfg.depformerDim]);
    const out = this.transformer.forward(x, 0);
    const logits: MxArray[] = [];
    for (let k = 0; k < Ka; k++) logits.push(this.w.heads[k]!.forward(out.index(mx.Slice(), k)).reshape([B, T, this.cfg.card]));
    return mx.stack(logits, 1);
  }

  weightBytesPerStep(): number {
    let n = 0;
    for (let k = 0; k < this.cfg.depQ; k++) {
      const set = this.cfg.depformer.schedule ? this.cfg.depformer.schedule[k]! : 0;
      n += this.inputFor(k).weightBytes + this.w.heads[k]!.weightBytes + this.transformer.weightBytes(set);
    }
    return n;
  }
}
