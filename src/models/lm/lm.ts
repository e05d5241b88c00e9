// The Moshi LM: temporal transformer over summed stream embeddings, text head, depformer
// for the audio codebooks. Two entry points: the streaming pieces LmGen drives (one
// temporal step, then dep_q depformer sub-steps), and `forward`, upstream's one-shot
// teacher-forced pass (`LMModel.forward`) with its delay/undelay and masks.
import { CodedError } from '../../errors.ts';
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { compileAvailable, withCompileLock } from '../nn/compile.ts';
import type { Embedding, Linear } from '../nn/linear.ts';
import { ZERO_TOKEN, initialToken, type LmConfig } from './config.ts';
import { Depformer, embed, type DepformerWeights } from './depformer.ts';
import { GREEDY, samplingCacheSizes, sampleTokenFast, type SamplingParams } from './sampling.ts';
import { finiteProbe, TemporalStepper, type TemporalOutput } from './temporal-step.ts';
import { RingKvCache, Transformer, applyNorm, type KvCache, type LayerWeights, type NormWeights } from './transformer.ts';

export interface LmWeights {
  readonly textEmb: Embedding;
  readonly audioEmbs: readonly Embedding[];
  readonly textLinear: Linear;
  readonly outNorm: NormWeights;
  readonly temporal: readonly LayerWeights[];
  readonly depformer: DepformerWeights;
}

export interface LmForwardOutput {
  /** [B, dep_q, T, card], NaN where `mask` is false. */
  readonly logits: MxArray;
  /** [B, dep_q, T] */
  readonly mask: MxArray;
  /** [B, 1, T, text_card] */
  readonly textLogits: MxArray;
  /** [B, 1, T] */
  readonly textMask: MxArray;
}

export class LmNotLoadedError extends CodedError<'LM_ERR_NOT_LOADED'> {
  override readonly name = 'LmNotLoadedError';
  constructor() {
    super('LM_ERR_NOT_LOADED', 'the Moshi LM has no weights loaded: load a checkpoint (loadLm) before calling it');
  }
}

export class Lm {
  readonly cfg: LmConfig;
  private readonly w: LmWeights | null;
  private readonly temporalTf: Transformer | null;
  private readonly dep: Depformer | null;
  /** The compiled streaming step, when the temporal transformer allows one. */
  private readonly stepper: TemporalStepper | null;

  /** Without weights the model exists (config, shapes) but every call throws. */
  constructor(cfg: LmConfig, weights: LmWeights | null) {
    this.cfg = cfg;
    this.w = weights;
    this.temporalTf = weights ? new Transformer(cfg.temporal, weights.temporal) : null;
    this.dep = weights ? new Depformer(cfg, weights.depformer) : null;
    this.stepper = weights && this.temporalTf!.steppable ? new TemporalStepper(cfg, this.temporalTf!, weights) : null;
    if (weights && compileAvailable()) withCompileLock(() => this.warmUp());
  }

  get loaded(): boolean {
    return this.w !== null;
  }

  private weights(): { w: LmWeights; tf: Transformer; dep: Depformer } {
    if (!this.w || !this.temporalTf || !this.dep) throw new LmNotLoadedError();
    return { w: this.w, tf: this.temporalTf, dep: this.dep };
  }

  makeTemporalCaches(): RingKvCache[] {
    return this.weights().tf.makeCaches('ring') as RingKvCache[];
  }

  makeDepformerCaches(): KvCache[] {
    return this.weights().dep.makeCaches();
  }

  /** Sum of stream embeddings for tokens int32 [B, K, T] → [B, T, dim]; −1 contributes zero. */
  private embedInput(tokens: MxArray): MxArray {
    const { w } = this.weights();
    let x: MxArray | null = null;
    // Audio first, then text: upstream's summation order.
    for (let c = 0; c < this.cfg.nQ; c++) {
      const e = embed({ table: w.audioEmbs[c]!, lowRank: null }, tokens.index(mx.Slice(), c + 1));
      x = x ? mx.add(x, e) : e;
    }
    const t = embed({ table: w.textEmb, lowRank: null }, tokens.index(mx.Slice(), 0));
    return x ? mx.add(x, t) : t;
  }

  /**
   * One temporal step at position `offset` for one frame of tokens [text, audio 0..nQ−1]
   * (ids already delay-aligned; −1 = zero token). Returns the normalised hidden state
   * [1, 1, dim] (the depformer's input) and the text logits [1, text_card].
   */
  temporalStep(tokens: ArrayLike<number>, offset: number, caches: readonly RingKvCache[]): TemporalOutput {
    const { w, tf } = this.weights();
    if (tokens.length !== this.cfg.nQ + 1) throw new Error(`temporalStep: ${tokens.length} tokens, expected ${this.cfg.nQ + 1}`);
    if (this.stepper) return this.stepper.step(tokens, offset, caches);
    // Ids are on the host here: skip zero tokens instead of masking them on the device
    // (a few dozen fewer ops per step, which is most of a small model's step time).
    let sum: MxArray | null = null;
    for (let k = 1; k <= this.cfg.nQ + 1; k++) {
      const s = k % (this.cfg.nQ + 1); // audio streams first, then text: upstream's order
      const id = tokens[s]!;
      if (id === ZERO_TOKEN) continue;
      const e = (s === 0 ? w.textEmb : w.audioEmbs[s - 1]!).lookup(mx.array([id], mx.int32));
      sum = sum ? mx.add(sum, e) : e;
    }
    const x = tf.forward((sum ?? mx.zeros([1, this.cfg.dim])).reshape([1, 1, this.cfg.dim]), offset, caches);
    const hidden = applyNorm(this.cfg.temporal.norm, w.outNorm, x);
    const textLogits = w.textLinear.forward(hidden).reshape([1, this.cfg.textCard]);
    return { hidden, textLogits, probe: finiteProbe(hidden, textLogits) };
  }

  /** Depformer sub-step k: prev int32 [1] → logits [1, card]. */
  /** Entries in the caches a client's sampling parameters key (bounded: see SAMPLING_CACHE_SIZE). */
  samplingCacheSizes(): { temperatures: number; samplers: number; depformerFrames: number } {
    return { ...samplingCacheSizes(), depformerFrames: this.weights().dep.frames.size };
  }

  depformerStep(k: number, hidden: MxArray, prev: MxArray, caches: readonly KvCache[]): MxArray {
    return this.weights().dep.substep(k, hidden, prev, caches);
  }

  /**
   * All depformer sub-steps of one step with their draws (Depformer.frame): tokens int32
   * [dep_q] and each codebook's logits [1, card]. keys: one per codebook, null if greedy.
   */
  depformerFrame(hidden: MxArray, text: MxArray, p: SamplingParams, keys: readonly MxArray[] | null): { tokens: MxArray; logits: MxArray[] } {
    return this.weights().dep.frame(hidden, text, p, keys);
  }

  /**
   * Builds every compiled kernel a session can need now, under the cross-process compile
   * lock (nn/compile.ts), instead of inside a first real-time step: a temporal step with
   * and without a cache mask (a one-slot cache is full at once), and text and audio draws
   * greedy, over the top k, and over all ids.
   */
  private warmUp(): void {
    const { tf } = this.weights();
    const tokens = Array.from({ length: this.cfg.nQ + 1 }, (_, k) => initialToken(this.cfg, k));
    const outs: MxArray[] = [];
    let step: TemporalOutput | null = null;
    for (const caches of [this.makeTemporalCaches(), Array.from({ length: tf.numLayers }, () => new RingKvCache(1))]) {
      step = this.temporalStep(tokens, 0, caches);
      outs.push(step.hidden, step.textLogits);
    }
    const key = mx.random.key(0);
    const keys = Array.from({ length: this.cfg.depQ }, () => key);
    const text = mx.array([0], mx.int32);
    const partial = Math.max(1, Math.min(this.cfg.card, this.cfg.textCard) - 1);
    for (const p of [GREEDY, { temperature: 1, topK: partial }, { temperature: 1, topK: 0 }]) {
      outs.push(sampleTokenFast(step!.textLogits, p, key), this.depformerFrame(step!.hidden, text, p, keys).tokens);
    }
    evaluate(...outs);
  }

  /**
   * Upstream `LMModel.forward`: codes int32 [B, nQ+1, T], undelayed. Streams are delayed,
   * an initial column is prepended, the temporal transformer runs over columns 0..T−1 and
   * the depformer is teacher-forced on columns 1..T; logits are shifted back by each
   * stream's delay (NaN and mask false where no prediction exists).
   */
  forward(codes: MxArray): LmForwardOutput {
    const { w, tf, dep } = this.weights();
    const [B, K, T] = codes.shape as [number, number, number];
    if (K !== this.cfg.nQ + 1) throw new Error(`forward: codes have ${K} streams, expected ${this.cfg.nQ + 1}`);
    const rows: MxArray[] = [];
    for (let k = 0; k < K; k++) {
      const d = this.cfg.delays[k]!;
      const line = codes.index(mx.Slice(), mx.Slice(k, k + 1));
      // full() ignores its dtype argument for a number fill in this binding: cast after.
      const init = mx.full([B, 1, d + 1], initialToken(this.cfg, k)).astype(mx.int32);
      // [initial column, d initial fillers, codes shifted right by d]: T+1 columns.
      rows.push(mx.concatenate([init, line.index(mx.Slice(), mx.Slice(), mx.Slice(0, T - d))], 2));
    }
    const delayed = mx.concatenate(rows, 1);
    const input = delayed.index(mx.Slice(), mx.Slice(), mx.Slice(0, T));
    const target = delayed.index(mx.Slice(), mx.Slice(), mx.Slice(1, T + 1));
    const hidden = applyNorm(this.cfg.temporal.norm, w.outNorm, tf.forward(this.embedInput(input), 0));
    const textLogits = mx.expandDims(w.textLinear.forward(hidden), 1);
    const logits = dep.forwardAll(target, hidden);
    const und = this.undelay(logits, this.cfg.delays.slice(1, 1 + this.cfg.depQ), codes.index(mx.Slice(), mx.Slice(1, 1 + this.cfg.depQ)));
    const undText = this.undelay(textLogits, this.cfg.delays.slice(0, 1), codes.index(mx.Slice(), mx.Slice(0, 1)));
    return { logits: und.values, mask: und.mask, textLogits: undText.values, textMask: undText.mask };
  }

  private undelay(values: MxArray, delays: readonly number[], codes: MxArray): { values: MxArray; mask: MxArray } {
    const [B, , T, V] = values.shape as [number, number, number, number];
    const outs: MxArray[] = [];
    const masks: MxArray[] = [];
    for (let k = 0; k < delays.length; k++) {
      const d = delays[k]!;
      const line = values.index(mx.Slice(), mx.Slice(k, k + 1));
      const valid = Math.max(0, T - d);
      const parts = [line.index(mx.Slice(), mx.Slice(), mx.Slice(d, T))];
      if (d > 0) parts.push(mx.full([B, 1, Math.min(d, T), V], NaN, mx.float32));
      outs.push(mx.concatenate(parts, 2));
      const m = mx.less(mx.arange(0, T, 1, mx.int32), valid).reshape([1, 1, T]);
      masks.push(mx.broadcastTo(m, [B, 1, T]));
    }
    const mask = mx.logicalAnd(mx.concatenate(masks, 1), mx.notEqual(codes, ZERO_TOKEN));
    return { values: mx.concatenate(outs, 1), mask };
  }

  /** Bytes of weights one full step reads: temporal layers, text head, depformer sub-steps. */
  weightBytesPerStep(): number {
    const { temporal, depformer } = this.weightBytesByStage();
    return temporal + depformer;
  }

  /** The same by stage: temporal (layers and text head) and depformer (its sub-steps), for per-span floors. */
  weightBytesByStage(): { temporal: number; depformer: number } {
    const { w, tf, dep } = this.weights();
    return { temporal: tf.weightBytes() + w.textLinear.weightBytes, depformer: dep.weightBytesPerStep() };
  }
}
