// Mimi's encoder/decoder transformer: pre-norm LayerNorm (eps 1e-5, with bias),
// LayerScale on both branches, interleaved RoPE, exact (erf) GELU FFN without biases,
// causal attention limited to `context` keys.
//
// Streaming follows upstream's ring KV cache of capacity `context`: each call first
// writes its T new keys, evicting the oldest, then attends. Keeping the last `context`
// keys in time order is the same set, so with T = 2 per frame the first query of a pair
// sees context − 1 keys once the ring is full (its oldest key was just overwritten) and
// the second sees context. A call without state (batch) sees `context` keys everywhere.
import { mx, type MxArray } from '../mlx.ts';
import { Linear } from '../nn/linear.ts';
import type { MimiTransformerConfig } from './config.ts';

export interface TransformerLayerWeights {
  readonly norm1Weight: MxArray;
  readonly norm1Bias: MxArray;
  /** [3·D, D]: q rows, then k, then v; heads are contiguous row blocks. */
  readonly inProj: MxArray;
  /** [D, D]. */
  readonly outProj: MxArray;
  readonly norm2Weight: MxArray;
  readonly norm2Bias: MxArray;
  /** [F, D]. */
  readonly linear1: MxArray;
  /** [D, F]. */
  readonly linear2: MxArray;
  /** [D] each, or null without LayerScale. */
  readonly layerScale1: MxArray | null;
  readonly layerScale2: MxArray | null;
}

interface LayerCache {
  /** [1, H, n, hd], n ≤ context: the newest keys in time order. */
  readonly keys: MxArray;
  readonly values: MxArray;
}

export interface TransformerState {
  /** Position (in transformer steps) of the next input. */
  readonly offset: number;
  /** Per layer; empty before the first call. */
  readonly caches: readonly LayerCache[];
}

const S = mx.Slice;
const NORM_EPS = 1e-5;

export function gelu(x: MxArray): MxArray {
  return mx.multiply(mx.multiply(x, 0.5), mx.add(mx.erf(mx.multiply(x, Math.SQRT1_2)), 1));
}

interface Layer {
  readonly w: TransformerLayerWeights;
  readonly inProj: Linear;
  readonly outProj: Linear;
  readonly linear1: Linear;
  readonly linear2: Linear;
}

export class MimiTransformer {
  readonly config: MimiTransformerConfig;
  private readonly layers: readonly Layer[];
  private readonly headDim: number;
  private readonly scale: number;
  private readonly masks = new Map<string, MxArray>();

  constructor(config: MimiTransformerConfig, layers: readonly TransformerLayerWeights[]) {
    this.config = config;
    this.headDim = config.dModel / config.numHeads;
    this.scale = 1 / Math.sqrt(this.headDim);
    this.layers = layers.map((w) => ({
      w,
      inProj: Linear.float(w.inProj),
      outProj: Linear.float(w.outProj),
      linear1: Linear.float(w.linear1),
      linear2: Linear.float(w.linear2),
    }));
  }

  initialState(): TransformerState {
    return { offset: 0, caches: [] };
  }

  /**
   * x: [1, T, D]. With a state, streams (ring-cache semantics) and returns the next
   * state; with null, runs the whole sequence at once from position 0 (batch).
   */
  forward(x: MxArray, state: TransformerState | null): { y: MxArray; state: TransformerState | null } {
    const t = x.shape[1]!;
    const ctx = this.config.context;
    const streaming = state !== null;
    if (streaming && ctx !== null && t > ctx) throw new RangeError(`transformer chunk of ${t} steps exceeds its context ${ctx}`);
    const offset = state?.offset ?? 0;
    const caches: LayerCache[] = [];
    let h = x;
    this.layers.forEach((layer, i) => {
      const out = this.layer(layer, h, offset, streaming ? (state.caches[i] ?? null) : null, streaming);
      h = out.y;
      caches.push(out.cache);
    });
    return { y: h, state: streaming ? { offset: offset + t, caches } : null };
  }

  private layer(l: Layer, x: MxArray, offset: number, cache: LayerCache | null, streaming: boolean): { y: MxArray; cache: LayerCache } {
    const { w } = l;
    const attn = this.attention(l, mx.fast.layerNorm(x, w.norm1Weight, w.norm1Bias, NORM_EPS), offset, cache, streaming);
    let h = mx.add(x, w.layerScale1 ? mx.multiply(attn.y, w.layerScale1) : attn.y);
    const ff = l.linear2.forward(gelu(l.linear1.forward(mx.fast.layerNorm(h, w.norm2Weight, w.norm2Bias, NORM_EPS))));
    h = mx.add(h, w.layerScale2 ? mx.multiply(ff, w.layerScale2) : ff);
    return { y: h, cache: attn.cache };
  }

  private attention(l: Layer, x: MxArray, offset: number, cache: LayerCache | null, streaming: boolean): { y: MxArray; cache: LayerCache } {
    const t = x.shape[1]!;
    const { numHeads, dModel, maxPeriod, context } = this.config;
    const hd = this.headDim;
    // [1, T, 3, H, hd] → [3, 1, H, T, hd]
    const qkv = mx.transpose(mx.reshape(l.inProj.forward(x), [1, t, 3, numHeads, hd]), [2, 0, 3, 1, 4]);
    const q = mx.fast.rope(qkv.index(0), hd, true, maxPeriod, 1, offset);
    let k = mx.fast.rope(qkv.index(1), hd, true, maxPeriod, 1, offset);
    let v = qkv.index(2);
    if (cache) {
      k = mx.concatenate([cache.keys, k], 2);
      v = mx.concatenate([cache.values, v], 2);
    }
    const n = k.shape[2]!;
    if (streaming && context !== null && n > context) {
      k = k.index(S(), S(), S(n - context));
      v = v.index(S(), S(), S(n - context));
    }
    const keys = k.shape[2]!;
    const scores = mx.add(mx.matmul(mx.multiply(q, this.scale), mx.swapaxes(k, 2, 3)), this.mask(t, keys, streaming ? null : context));
    const o = mx.matmul(mx.softmax(scores, -1), v);
    const y = l.outProj.forward(mx.reshape(mx.transpose(o, [0, 2, 1, 3]), [1, t, dModel]));
    return { y, cache: { keys: k, values: v } };
  }

  /**
   * Additive mask [T, keys] for T queries that are the newest T of `keys` positions:
   * causal, and (batch only) no further back than `window` keys including itself. In
   * streaming the cache trimming already enforces the window.
   */
  private mask(t: number, keys: number, window: number | null): MxArray {
    const id = `${t}:${keys}:${window}`;
    let m = this.masks.get(id);
    if (!m) {
      const rows: number[][] = [];
      for (let i = 0; i < t; i++) {
        const pq = keys - t + i;
        const row = new Array<number>(keys);
        for (let j = 0; j < keys; j++) row[j] = j <= pq && (window === null || pq - j < window) ? 0 : -Infinity;
        rows.push(row);
      }
      m = mx.array(rows, mx.float32);
      // Streaming uses a handful of shapes; batch shapes vary per input length.
      if (this.masks.size < 512) this.masks.set(id, m);
    }
    return m;
  }
}
