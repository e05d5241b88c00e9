// The transformer stack used twice by the Moshi LM: the temporal transformer (one
// position per 80 ms step, KV cache over `context` steps) and the depformer (one position
// per codebook inside a step, a separate weight set per position, cache emptied every
// step). Semantics follow upstream PyTorch `StreamingTransformer`: pre-norm residual
// layers, fused q/k/v projection viewed as (3, heads, head_dim), interleaved RoPE applied
// before caching, and a window of `context` keys that includes the current one.
import { mx, type MxArray } from '../mlx.ts';
import type { Linear } from '../nn/linear.ts';
import type { Activation, NormKind, TransformerConfig } from './config.ts';

export interface NormWeights {
  readonly weight: MxArray;
  /** LayerNorm only. */
  readonly bias: MxArray | null;
}

export type FfnWeights =
  | { readonly kind: 'gated'; readonly linearIn: Linear; readonly linearOut: Linear }
  | { readonly kind: 'plain'; readonly linear1: Linear; readonly linear2: Linear };

/** One weight set of one layer. Upstream shares the norms across sets; MLX files copy them per set. */
export interface LayerSet {
  readonly norm1: NormWeights;
  readonly norm2: NormWeights;
  readonly inProj: Linear;
  readonly outProj: Linear;
  readonly ffn: FfnWeights;
}

export interface LayerWeights {
  readonly sets: readonly LayerSet[];
}

const NORM_EPS: Readonly<Record<NormKind, number>> = { rms_norm_f32: 1e-8, rms_norm: 1e-5, layer_norm: 1e-5, layer_norm_f32: 1e-8 };

export function applyNorm(kind: NormKind, w: NormWeights, x: MxArray): MxArray {
  const eps = NORM_EPS[kind];
  if (kind === 'rms_norm' || kind === 'rms_norm_f32') return mx.fast.rmsNorm(x, w.weight, eps);
  return mx.fast.layerNorm(x, w.weight, w.bias, eps);
}

const SQRT1_2 = Math.SQRT1_2;

export function activate(kind: Activation, x: MxArray): MxArray {
  switch (kind) {
    case 'silu': return mx.multiply(x, mx.sigmoid(x));
    // Exact (erf) GELU, as PyTorch's F.gelu; the tanh form moves logits measurably.
    case 'gelu': return mx.multiply(mx.multiply(x, 0.5), mx.add(mx.erf(mx.multiply(x, SQRT1_2)), 1));
    case 'relu': return mx.maximum(x, 0);
    case 'sigmoid': return mx.sigmoid(x);
    case 'tanh': return mx.tanh(x);
    case 'identity': return x;
  }
}

/** Upstream `create_sin_embedding`: cos half then sin half, phase = pos / period^(i/(half-1)). */
export function sinEmbedding(positions: number[], dim: number, maxPeriod: number): MxArray {
  const half = dim / 2;
  const adim = mx.arange(0, half, 1, mx.float32);
  const denom = mx.power(mx.full([half], maxPeriod, mx.float32), mx.divide(adim, half - 1));
  const pos = mx.array(positions).reshape([positions.length, 1]);
  const phase = mx.divide(pos, denom);
  return mx.concatenate([mx.cos(phase), mx.sin(phase)], -1);
}

/**
 * cos/sin rows of interleaved RoPE for positions [0, n), computed with the very ops (and
 * float32 rounding) of MLX's CPU `fast.rope`, so that `ropeTraditional` with row p equals
 * `fast.rope(x, hd, true, base, 1, p)` bit for bit. [n, hd/2] each.
 */
export function ropeTables(n: number, headDim: number, base: number): { cos: MxArray; sin: MxArray } {
  const t = mx.float32;
  const half = headDim / 2;
  const positions = mx.multiply(mx.arange(0, n, 1, t), mx.array(1, t));
  const freqs = mx.exp(mx.multiply(mx.negative(mx.arange(0, half, 1, t)), mx.array(Math.log(base) / half, t)));
  const theta = mx.multiply(mx.expandDims(positions, 1), mx.expandDims(freqs, 0));
  return { cos: mx.cos(theta), sin: mx.sin(theta) };
}

/** Interleaved RoPE of x [..., hd] with cos/sin rows broadcastable to [..., hd/2]. */
export function ropeTraditional(x: MxArray, cos: MxArray, sin: MxArray): MxArray {
  const x1 = x.index('...', mx.Slice(0, null, 2));
  const x2 = x.index('...', mx.Slice(1, null, 2));
  const a = mx.subtract(mx.multiply(x1, cos), mx.multiply(x2, sin));
  const b = mx.add(mx.multiply(x1, sin), mx.multiply(x2, cos));
  return mx.reshape(mx.concatenate([mx.expandDims(a, -1), mx.expandDims(b, -1)], -1), x.shape);
}

/**
 * Temporal KV cache: room for `context` keys, written as a ring. The buffer grows in
 * chunks up to `context` and is always attended whole with a mask over empty slots: a
 * view of it would keep the old buffer alive, and then MLX copies it on every write
 * instead of updating it in place.
 */
export class RingKvCache {
  private keys: MxArray | null = null;
  private values: MxArray | null = null;
  private allocated = 0;
  private count = 0;
  /** Slot indices [1, 1, 1, allocated], kept per allocation: the mask is then two primitives a step. */
  private slots: MxArray | null = null;
  private readonly capacity: number;
  private readonly chunk: number;

  constructor(capacity: number, chunk = 256) {
    this.capacity = capacity;
    this.chunk = Math.min(chunk, capacity);
  }

  get length(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
  }

  /**
   * Appends one position (k, v: [B, H, 1, hd]) and returns what the query attends to.
   * `withMask` false skips building the mask (a caller stepping several caches in
   * lockstep builds it once: it depends only on the fill and the allocation).
   */
  append(k: MxArray, v: MxArray, withMask = true): { keys: MxArray; values: MxArray; mask: MxArray | null } {
    if (this.count >= this.allocated && this.allocated < this.capacity) this.grow(k);
    const slot = this.count % this.capacity;
    const at = [mx.Slice(), mx.Slice(), mx.Slice(slot, slot + 1)];
    this.keys!.indexPut_(at, k);
    this.values!.indexPut_(at, v);
    this.count++;
    const filled = Math.min(this.count, this.capacity);
    let mask: MxArray | null = null;
    if (withMask && filled < this.allocated) {
      this.slots ??= mx.arange(0, this.allocated, 1, mx.int32).reshape([1, 1, 1, this.allocated]);
      mask = mx.where(mx.less(this.slots, filled), 0, -Infinity);
    }
    return { keys: this.keys!, values: this.values!, mask };
  }

  private grow(like: MxArray): void {
    const [b, h, , d] = like.shape as [number, number, number, number];
    const next = Math.min(this.capacity, this.allocated + this.chunk);
    const extra = next - this.allocated;
    const zk = mx.zeros([b, h, extra, d], like.dtype);
    this.keys = this.keys ? mx.concatenate([this.keys, zk], 2) : zk;
    this.values = this.values ? mx.concatenate([this.values, mx.zeros([b, h, extra, d], like.dtype)], 2) : mx.zeros([b, h, extra, d], like.dtype);
    this.allocated = next;
    this.slots = null;
  }
}

/** Depformer cache: the sub-steps of the current frame only (at most dep_q positions). */
export class GrowingKvCache {
  private keys: MxArray[] = [];
  private values: MxArray[] = [];

  reset(): void {
    this.keys = [];
    this.values = [];
  }

  append(k: MxArray, v: MxArray): { keys: MxArray; values: MxArray; mask: null } {
    this.keys.push(k);
    this.values.push(v);
    const keys = this.keys.length === 1 ? k : mx.concatenate(this.keys, 2);
    const values = this.values.length === 1 ? v : mx.concatenate(this.values, 2);
    return { keys, values, mask: null };
  }
}

export type KvCache = RingKvCache | GrowingKvCache;

export class Transformer {
  readonly cfg: TransformerConfig;
  private readonly layers: readonly LayerWeights[];
  private readonly headDim: number;
  private readonly scale: number;

  constructor(cfg: TransformerConfig, layers: readonly LayerWeights[]) {
    if (layers.length !== cfg.numLayers) throw new Error(`transformer: ${layers.length} layers given, config says ${cfg.numLayers}`);
    this.cfg = cfg;
    this.layers = layers;
    this.headDim = cfg.dim / cfg.numHeads;
    this.scale = 1 / Math.sqrt(this.headDim);
  }

  get numLayers(): number {
    return this.layers.length;
  }

  /** Bytes of weights one position reads with weight set `set` (for bandwidth accounting). */
  weightBytes(set = 0): number {
    let n = 0;
    for (const l of this.layers) {
      const s = l.sets[set]!;
      n += s.inProj.weightBytes + s.outProj.weightBytes + s.norm1.weight.nbytes + s.norm2.weight.nbytes;
      n += s.ffn.kind === 'gated' ? s.ffn.linearIn.weightBytes + s.ffn.linearOut.weightBytes : s.ffn.linear1.weightBytes + s.ffn.linear2.weightBytes;
    }
    return n;
  }

  makeCaches(kind: 'ring' | 'growing'): KvCache[] {
    return this.layers.map(() => (kind === 'ring' ? new RingKvCache(this.cfg.context ?? Number.MAX_SAFE_INTEGER) : new GrowingKvCache()));
  }

  /**
   * x: [B, T, dim] at absolute positions offset..offset+T-1. With caches, T must be 1 and
   * the keys come from the caches; without, attention is over x itself (causal/window mask).
   */
  forward(x: MxArray, offset: number, caches?: readonly KvCache[]): MxArray {
    const T = x.shape[1]!;
    if (caches && T !== 1) throw new Error('transformer: streaming calls take one position at a time');
    const cfg = this.cfg;
    if (cfg.positionalEmbedding === 'sin' || cfg.positionalEmbedding === 'sin_rope') {
      x = mx.add(x, sinEmbedding(Array.from({ length: T }, (_, t) => offset + t), cfg.dim, cfg.maxPeriod));
    }
    const mask = caches ? null : this.fullMask(T);
    for (let l = 0; l < this.layers.length; l++) {
      x = this.layer(this.layers[l]!, x, offset, caches?.[l], mask);
    }
    return x;
  }

  private setIndex(pos: number): number {
    const s = this.cfg.schedule;
    if (!s || this.cfg.weightSets === 1) return 0;
    const i = s[pos];
    if (i === undefined) throw new Error(`transformer: no weight set for position ${pos} (schedule has ${s.length})`);
    return i;
  }

  /** Applies a per-weight-set function position by position (one set unless weights vary per step). */
  private perStep(x: MxArray, offset: number, f: (set: LayerSet, x: MxArray) => MxArray, lw: LayerWeights): MxArray {
    if (lw.sets.length === 1) return f(lw.sets[0]!, x);
    const T = x.shape[1]!;
    // One position (a streaming step): x itself, not a slice of it (one primitive fewer).
    if (T === 1) return f(lw.sets[this.setIndex(offset)]!, x);
    const ys: MxArray[] = [];
    for (let t = 0; t < T; t++) ys.push(f(lw.sets[this.setIndex(offset + t)]!, x.index(mx.Slice(), mx.Slice(t, t + 1))));
    return ys.length === 1 ? ys[0]! : mx.concatenate(ys, 1);
  }

  private layer(lw: LayerWeights, x: MxArray, offset: number, cache: KvCache | undefined, mask: MxArray | null): MxArray {
    const kind = this.cfg.norm;
    const h = this.perStep(x, offset, (s, xi) => applyNorm(kind, s.norm1, xi), lw);
    x = mx.add(x, this.attention(lw, h, offset, cache, mask));
    const h2 = this.perStep(x, offset, (s, xi) => this.ffn(s.ffn, applyNorm(kind, s.norm2, xi)), lw);
    return mx.add(x, h2);
  }

  private ffn(w: FfnWeights, x: MxArray): MxArray {
    if (w.kind === 'plain') return w.linear2.forward(activate('gelu', w.linear1.forward(x)));
    const hidden = this.cfg.hidden;
    const y = w.linearIn.forward(x);
    const a = y.index('...', mx.Slice(0, hidden));
    const b = y.index('...', mx.Slice(hidden, 2 * hidden));
    return w.linearOut.forward(mx.multiply(activate(this.cfg.gating as Activation, a), b));
  }

  private attention(lw: LayerWeights, x: MxArray, offset: number, cache: KvCache | undefined, fullMask: MxArray | null): MxArray {
    const [B, T] = x.shape as [number, number];
    const hd = this.headDim;
    const parts = this.splitHeads(this.perStep(x, offset, (s, xi) => s.inProj.forward(xi), lw), B, T);
    let q = parts.index(0);
    let k = parts.index(1);
    let v = parts.index(2);
    const pe = this.cfg.positionalEmbedding;
    if (pe === 'rope' || pe === 'sin_rope') {
      q = mx.fast.rope(q, hd, true, this.cfg.maxPeriod, 1, offset);
      k = mx.fast.rope(k, hd, true, this.cfg.maxPeriod, 1, offset);
    }
    let mask = fullMask;
    if (cache) {
      const r = cache.append(k, v);
      k = r.keys;
      v = r.values;
      mask = r.mask;
    }
    // The fused op, not matmul on a transposed view: a view of the cache that outlives the
    // step (until V8 collects its wrapper) would make the next cache write copy the whole
    // buffer instead of updating it in place.
    const o = mask ? mx.fast.scaledDotProductAttention(q, k, v, this.scale, mask) : mx.fast.scaledDotProductAttention(q, k, v, this.scale);
    return this.perStep(this.mergeHeads(o, B, T), offset, (s, xi) => s.outProj.forward(xi), lw);
  }

  /**
   * Fused q/k/v projection [B, T, 3·H·hd] → [3, B, H, T, hd]: q rows first, heads
   * contiguous, as upstream. One position of one batch row is already in that order, so
   * a reshape does it without the transpose (a primitive fewer per layer and step).
   */
  private splitHeads(qkv: MxArray, B: number, T: number): MxArray {
    const H = this.cfg.numHeads;
    if (B === 1 && T === 1) return qkv.reshape([3, 1, H, 1, this.headDim]);
    return qkv.reshape([B, T, 3, H, this.headDim]).transpose([2, 0, 3, 1, 4]);
  }

  /** Attention output [B, H, T, hd] → [B, T, H·hd] (a reshape alone for one position). */
  private mergeHeads(o: MxArray, B: number, T: number): MxArray {
    if (T === 1) return o.reshape([B, 1, this.cfg.dim]);
    return o.transpose([0, 2, 1, 3]).reshape([B, T, this.cfg.dim]);
  }

  /**
   * Streaming layer `l` up to attention, for a compiled step: pre-norm, fused q/k/v
   * projection, RoPE from tables (`ropeAt`, exactly fast.rope's numbers) so that the
   * position is an input of the graph rather than a constant baked into a trace.
   * x: [1, 1, dim]. Single weight set only.
   */
  attendIn(l: number, x: MxArray, rope: { cos: MxArray; sin: MxArray } | null): { q: MxArray; k: MxArray; v: MxArray } {
    const s = this.singleSet(l);
    const [B, T] = x.shape as [number, number];
    const parts = this.splitHeads(s.inProj.forward(applyNorm(this.cfg.norm, s.norm1, x)), B, T);
    let q = parts.index(0);
    let k = parts.index(1);
    if (rope) {
      q = ropeTraditional(q, rope.cos, rope.sin);
      k = ropeTraditional(k, rope.cos, rope.sin);
    }
    return { q, k, v: parts.index(2) };
  }

  /** Streaming layer `l` from attention on (over the cache's keys/values) to its output. */
  attendOut(l: number, x: MxArray, q: MxArray, keys: MxArray, values: MxArray, mask: MxArray | null): MxArray {
    const s = this.singleSet(l);
    const [B, T] = x.shape as [number, number];
    const o = mask ? mx.fast.scaledDotProductAttention(q, keys, values, this.scale, mask) : mx.fast.scaledDotProductAttention(q, keys, values, this.scale);
    const y = mx.add(x, s.outProj.forward(this.mergeHeads(o, B, T)));
    return mx.add(y, this.ffn(s.ffn, applyNorm(this.cfg.norm, s.norm2, y)));
  }

  /** Whether attendIn/attendOut apply (one weight set per layer, RoPE or no positions). */
  get steppable(): boolean {
    const pe = this.cfg.positionalEmbedding;
    return (pe === 'rope' || pe === 'none') && this.layers.every((l) => l.sets.length === 1);
  }

  private singleSet(l: number): LayerSet {
    const lw = this.layers[l]!;
    if (lw.sets.length !== 1) throw new Error('transformer: a compiled streaming step needs one weight set per layer');
    return lw.sets[0]!;
  }

  /** Additive [T, T] mask: query t sees key s when causal (s ≤ t) and t − s < context. */
  private fullMask(T: number): MxArray | null {
    const { causal, context } = this.cfg;
    // Upstream builds no mask at all for a non-causal transformer (its context is unused then).
    if (!causal) return null;
    const rows: number[][] = [];
    for (let t = 0; t < T; t++) {
      const row: number[] = [];
      for (let s = 0; s < T; s++) {
        const ok = (!causal || s <= t) && (context === null || t - s < context);
        row.push(ok ? 0 : -Infinity);
      }
      rows.push(row);
    }
    return mx.array(rows);
  }
}
