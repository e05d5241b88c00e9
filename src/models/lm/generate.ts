// LmGen: the streaming step loop around the LM, with upstream PyTorch `LMGen` alignment.
// A ring of max_delay + 2 token columns holds every stream; user codes of call t are
// written at column t + delay, every stream is read at column t (its initial token while
// t ≤ its delay), and what the step generates goes to column t + 1. A call returns the
// frame aligned at t − max_delay (text delayed too), so the first max_delay calls return
// nothing. The KV caches and the sampler are owned here and nowhere else.
import { CodedError } from '../../errors.ts';
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { UNGENERATED_TOKEN, ZERO_TOKEN, initialToken, maxDelay, type LmConfig } from './config.ts';
import type { Lm } from './lm.ts';
import { Sampler, type SamplingParams } from './sampling.ts';
import type { RingKvCache } from './transformer.ts';

export interface LmGenOptions {
  readonly seed?: number;
  /** The audio streams' own seed; absent: `seed`. */
  readonly audioSeed?: number;
  readonly text?: SamplingParams;
  readonly audio?: SamplingParams;
  /** Keep the step's inputs, hidden state and logits on the host (tests, divergence reports). */
  readonly capture?: boolean;
}

export interface LmFrame {
  readonly text: number;
  /** dep_q audio codes of one undelayed frame. */
  readonly audio: Int32Array;
}

export interface LmStepTrace {
  readonly step: number;
  /** Tokens that entered the temporal transformer. */
  readonly modelInput: Int32Array;
  readonly textToken: number;
  /** Depformer tokens as sampled (before delay alignment). */
  readonly audioTokens: Int32Array;
  readonly hidden?: Float32Array;
  readonly textLogits?: Float32Array;
  /** dep_q × card */
  readonly audioLogits?: Float32Array;
}

export interface LmStepTimings {
  readonly temporalMs: number;
  readonly depformerMs: number;
}

/** LM_ERR_NON_FINITE: the temporal transformer produced NaN/Inf (finite weights that overflow together). */
export type LmGenErrorCode = 'LM_ERR_INPUT' | 'LM_ERR_UNGENERATED' | 'LM_ERR_NON_FINITE';

export class LmGenError extends CodedError<LmGenErrorCode> {
  override readonly name = 'LmGenError';
}

function toFloat32(a: MxArray): Float32Array {
  return Float32Array.from(a.reshape([-1]).tolist() as number[]);
}

export class LmGen {
  readonly lm: Lm;
  readonly cfg: LmConfig;
  readonly sampler: Sampler;
  private readonly capture: boolean;
  private readonly columns: number;
  private readonly maxDelay: number;
  private ring: Int32Array;
  private offset = 0;
  private caches: RingKvCache[];
  private trace: LmStepTrace | null = null;
  private timings: LmStepTimings = { temporalMs: 0, depformerMs: 0 };

  constructor(lm: Lm, opts: LmGenOptions = {}) {
    this.lm = lm;
    this.cfg = lm.cfg;
    this.sampler = new Sampler(opts.seed ?? 0, opts.text, opts.audio, opts.audioSeed ?? opts.seed ?? 0);
    this.capture = opts.capture ?? false;
    this.maxDelay = maxDelay(this.cfg);
    this.columns = this.maxDelay + 2;
    this.ring = new Int32Array((this.cfg.nQ + 1) * this.columns).fill(UNGENERATED_TOKEN);
    this.caches = lm.makeTemporalCaches();
  }

  /** Number of steps taken since construction or the last reset. */
  get stepIndex(): number {
    return this.offset;
  }

  /** User codebooks the model reads per call (n_q − dep_q); extra codes are ignored. */
  get userCodebooks(): number {
    return this.cfg.nQ - this.cfg.depQ;
  }

  get lastTrace(): LmStepTrace | null {
    return this.trace;
  }

  get lastTimings(): LmStepTimings {
    return this.timings;
  }

  reset(): void {
    this.ring.fill(UNGENERATED_TOKEN);
    this.offset = 0;
    for (const c of this.caches) c.reset();
    this.trace = null;
  }

  private at(k: number, col: number): number {
    return this.ring[k * this.columns + (col % this.columns)]!;
  }

  private put(k: number, col: number, v: number): void {
    this.ring[k * this.columns + (col % this.columns)] = v;
  }

  /**
   * One 80 ms step. userCodes: the user's codes of this frame (at least n_q − dep_q).
   * Returns the frame at t − max_delay, or null during the first max_delay calls.
   */
  step(userCodes: ArrayLike<number>): LmFrame | null {
    const cfg = this.cfg;
    const need = this.userCodebooks;
    if (userCodes.length < need) throw new LmGenError('LM_ERR_INPUT', `step: ${userCodes.length} user codes, the model reads ${need}`);
    const t = this.offset;
    for (let q = 0; q < need; q++) {
      const v = userCodes[q]!;
      if (!Number.isInteger(v) || v < ZERO_TOKEN || v >= cfg.card) throw new LmGenError('LM_ERR_INPUT', `step: user code ${q} is ${v}, expected an integer in 0..${cfg.card - 1}`);
      const k = cfg.depQ + 1 + q;
      this.put(k, t + cfg.delays[k]!, v);
    }
    const K = cfg.nQ + 1;
    const input = new Int32Array(K);
    for (let k = 0; k < K; k++) {
      input[k] = t <= cfg.delays[k]! ? initialToken(cfg, k) : this.at(k, t);
      if (input[k] === UNGENERATED_TOKEN) throw new LmGenError('LM_ERR_UNGENERATED', `step ${t}: stream ${k} would read a token that was never generated (delay bookkeeping bug)`);
    }

    const t0 = performance.now();
    const { hidden, textLogits, probe: total } = this.lm.temporalStep(input, t, this.caches);
    const textTok = this.sampler.sampleText(textLogits, t);
    // NaN logits still sample a token (argmax → 0, categorical → a constant): without
    // this check, weights that overflow give fluent-looking constant output. The step's
    // probe (one sum, inside its compiled graph): any NaN/Inf makes it non-finite, and so
    // would values near 1e34.
    evaluate(textTok, hidden, total);
    if (!Number.isFinite(total.item() as number)) throw new LmGenError('LM_ERR_NON_FINITE', `step ${t}: the LM's hidden state or text logits are NaN/Inf (the weights overflow float32 in compute)`);
    const t1 = performance.now();
    const { tokens, logits } = this.lm.depformerFrame(hidden, textTok, this.sampler.audio, this.sampler.audioKeys(t, cfg.depQ));
    evaluate(tokens);
    this.timings = { temporalMs: t1 - t0, depformerMs: performance.now() - t1 };

    const text = textTok.item() as number;
    const audio = Int32Array.from(tokens.tolist() as number[]);
    if (this.capture) {
      this.trace = {
        step: t,
        modelInput: input,
        textToken: text,
        audioTokens: audio,
        hidden: toFloat32(hidden),
        textLogits: toFloat32(textLogits),
        audioLogits: toFloat32(mx.concatenate(logits, 0)),
      };
    }

    this.offset = t + 1;
    this.put(0, this.offset, text);
    for (let k = 0; k < cfg.depQ; k++) this.put(1 + k, this.offset, audio[k]!);
    if (this.offset <= this.maxDelay) return null;
    const out = new Int32Array(cfg.depQ + 1);
    for (let k = 0; k <= cfg.depQ; k++) out[k] = this.at(k, this.offset - this.maxDelay + cfg.delays[k]!);
    return { text: out[0]!, audio: out.subarray(1) };
  }
}

/**
 * Lets the binding free native memory. MLX buffers are released only when V8 collects
 * their wrappers and the finalizers run (asynchronously), so long loops call this every
 * step or few: a minor GC when `--expose-gc` is on, then one turn of the event loop.
 */
export async function releaseNativeMemory(): Promise<void> {
  const gc = (globalThis as { gc?: (o?: { type: string }) => void }).gc;
  if (gc) gc({ type: 'minor' });
  await new Promise<void>((resolve) => setImmediate(resolve));
}
