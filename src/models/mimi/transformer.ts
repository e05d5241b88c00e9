// Mimi's encoder/decoder transformer: pre-norm LayerNorm (eps 1e-5, with bias),
// LayerScale on both branches, interleaved RoPE, exact (erf) GELU FFN without biases,
// causal attention limited to `context` keys.
//
// Streaming follows upstream's ring KV cache of capacity `context`: each call first
// writes its T new keys, evicting the oldest, then attends. So with T = 2 per frame, once
// the ring is full the first query of a pair sees context − 1 keys (its oldest key was
// just overwritten) and the second sees context. A call without state (batch) sees
// `context` keys everywhere, as upstream's non-streaming forward does.
//
// The cache is kept in two parts, because copying a whole context-sized cache on every
// call is the most expensive thing a step would do in this binding (its copies run at
// ~5 ns per float): `recent` is a small shift register (RECENT slots) written every call,
// `old` holds the `context` keys before it and is rebuilt only when `recent` is about to
// overflow. Attention runs over both at once with a mask that shows exactly the ring's
// keys (hiding empty slots, keys held twice, and keys older than the window).
//
// The stack is one function of arrays (input, RoPE tables, mask, caches), so it can be
// compiled: positions and masks are inputs, never constants baked into a trace.
import { evaluate, mx, type MxArray } from '../mlx.ts';
import { compiled } from '../nn/compile.ts';
import { RowSplitLinear } from '../nn/rowsplit.ts';
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

export interface TransformerState {
  /** Position (in transformer steps) of the next input. */
  readonly offset: number;
  /** `old` holds positions [base − context, base), oldest slot first. */
  readonly base: number;
  /** Per layer keys then values, [1, H, context, hd]. */
  readonly old: readonly MxArray[];
  /** Per layer keys then values, [1, H, RECENT, hd]: positions [offset − RECENT, offset). */
  readonly recent: readonly MxArray[];
}

interface Layer {
  readonly w: TransformerLayerWeights;
  readonly inProj: RowSplitLinear;
  readonly outProj: RowSplitLinear;
  readonly linear1: RowSplitLinear;
  readonly linear2: RowSplitLinear;
}

/** Slots written every call; `old` is rebuilt once per RECENT / T calls (8 frames for Mimi). */
export const RECENT = 16;

const S = mx.Slice;
const NORM_EPS = 1e-5;

export function gelu(x: MxArray): MxArray {
  return mx.multiply(mx.multiply(x, 0.5), mx.add(mx.erf(mx.multiply(x, Math.SQRT1_2)), 1));
}

/** Interleaved RoPE on [.., T, hd] with cos/sin [T, hd/2]: pairs (2i, 2i+1) rotate by angle i. */
function rope(x: MxArray, cos: MxArray, sin: MxArray): MxArray {
  const shape = x.shape;
  const pairs = mx.reshape(x, [...shape.slice(0, -1), shape[shape.length - 1]! / 2, 2]);
  const re = pairs.index('...', 0);
  const im = pairs.index('...', 1);
  const out = mx.stack([mx.subtract(mx.multiply(re, cos), mx.multiply(im, sin)), mx.add(mx.multiply(re, sin), mx.multiply(im, cos))], -1);
  return mx.reshape(out, shape);
}

/**
 * cos/sin of upstream's RoPE angles for positions [offset, offset + T), computed in
 * float32 the way upstream does (frequencies exp(i·(−2·ln(max_period)/hd)), angle =
 * frequency × position).
 */
function ropeTables(offset: number, t: number, headDim: number, maxPeriod: number): { cos: MxArray; sin: MxArray } {
  const f = Math.fround;
  const step = f((-Math.log(maxPeriod) * 2) / headDim);
  const half = headDim / 2;
  const cos: number[][] = [];
  const sin: number[][] = [];
  for (let p = 0; p < t; p++) {
    const pos = f(offset + p);
    const c = new Array<number>(half);
    const s = new Array<number>(half);
    for (let i = 0; i < half; i++) {
      const angle = f(f(Math.exp(f(i * step))) * pos);
      c[i] = Math.cos(angle);
      s[i] = Math.sin(angle);
    }
    cos.push(c);
    sin.push(s);
  }
  return { cos: mx.array(cos, mx.float32), sin: mx.array(sin, mx.float32) };
}

export class MimiTransformer {
  readonly config: MimiTransformerConfig;
  private readonly layers: readonly Layer[];
  private readonly headDim: number;
  private readonly scale: MxArray;
  private readonly masks = new Map<string, MxArray>();
  private readonly streamFn: (...args: MxArray[]) => MxArray[];
  private readonly batchFn: (...args: MxArray[]) => MxArray[];

  constructor(config: MimiTransformerConfig, layers: readonly TransformerLayerWeights[], opts: { compile?: boolean; split?: boolean } = {}) {
    this.config = config;
    this.headDim = config.dModel / config.numHeads;
    // An array, not a number: a JS number would become a per-shape constant in a trace.
    this.scale = mx.array(1 / Math.sqrt(this.headDim), mx.float32);
    // Everything a trace captures is evaluated first (here and in RowSplitLinear): a
    // compiled function must capture arrays, not the (possibly unfusable) graphs behind them.
    evaluate(this.scale, ...layers.flatMap((w) => Object.values(w).filter((v): v is MxArray => v !== null)));
    const lin = (w: MxArray) => new RowSplitLinear(w, { split: opts.split ?? true });
    this.layers = layers.map((w) => ({ w, inProj: lin(w.inProj), outProj: lin(w.outProj), linear1: lin(w.linear1), linear2: lin(w.linear2) }));
    const n = 2 * layers.length;
    this.streamFn = compiled((x, cos, sin, mask, ...caches) => this.stack(x!, cos!, sin!, mask!, { old: caches.slice(0, n), recent: caches.slice(n) }), opts.compile ?? true);
    this.batchFn = compiled((x, cos, sin, mask) => this.stack(x!, cos!, sin!, mask!, null), opts.compile ?? true);
  }

  /** Fresh streaming state: empty (all-masked) cache slots at position 0. */
  initialState(): TransformerState {
    const { context, numHeads } = this.config;
    const old = mx.zeros([1, numHeads, context, this.headDim], mx.float32);
    const recent = mx.zeros([1, numHeads, RECENT, this.headDim], mx.float32);
    return { offset: 0, base: 0, old: this.layers.flatMap(() => [old, old]), recent: this.layers.flatMap(() => [recent, recent]) };
  }

  /** Arrays a state holds (to evaluate with a step's outputs). */
  static stateArrays(s: TransformerState): MxArray[] {
    return [...s.old, ...s.recent];
  }

  /**
   * x: [1, T, D]. With a state, streams (ring-cache semantics) and returns the next
   * state; with null, runs the whole sequence at once from position 0 (batch).
   */
  forward(x: MxArray, state: TransformerState | null): { y: MxArray; state: TransformerState | null } {
    const t = x.shape[1]!;
    const { maxPeriod } = this.config;
    const { cos, sin } = ropeTables(state?.offset ?? 0, t, this.headDim, maxPeriod);
    if (state === null) {
      const [y] = this.batchFn(x, cos, sin, this.batchMask(t));
      return { y: y!, state: null };
    }
    // Upstream's ring cannot take more than its capacity in one call either.
    if (t > this.config.context) throw new RangeError(`transformer chunk of ${t} steps exceeds its context ${this.config.context}`);
    if (t > RECENT) throw new RangeError(`transformer chunk of ${t} steps exceeds the ${RECENT} steps a streaming call may write`);
    const s = state.offset - state.base + t > RECENT ? this.merge(state) : state;
    const [y, ...recent] = this.streamFn(x, cos, sin, this.streamMask(t, s.offset, s.base), ...s.old, ...s.recent);
    return { y: y!, state: { offset: s.offset + t, base: s.base, old: s.old, recent } };
  }

  /**
   * A streaming call split for a caller that traces it into a larger compiled graph:
   * `streamInputs` gives the arrays the call reads (RoPE rows, mask, caches) and the state
   * they belong to (merged first when `recent` would overflow, eagerly, as `forward` does);
   * `streamRaw` is the stack itself, [y, ...recent']; `streamNext` the state after it.
   */
  streamInputs(t: number, state: TransformerState): { inputs: MxArray[]; state: TransformerState } {
    if (t > this.config.context || t > RECENT) throw new RangeError(`transformer chunk of ${t} steps exceeds what a streaming call may write`);
    const { cos, sin } = ropeTables(state.offset, t, this.headDim, this.config.maxPeriod);
    const s = state.offset - state.base + t > RECENT ? this.merge(state) : state;
    return { inputs: [cos, sin, this.streamMask(t, s.offset, s.base), ...s.old, ...s.recent], state: s };
  }

  streamRaw(x: MxArray, inputs: readonly MxArray[]): MxArray[] {
    const n = 2 * this.layers.length;
    const [cos, sin, mask, ...caches] = inputs;
    return this.stack(x, cos!, sin!, mask!, { old: caches.slice(0, n), recent: caches.slice(n) });
  }

  /** Arrays streamInputs gives (cos, sin, mask, old, recent). */
  get streamInputCount(): number {
    return 3 + 4 * this.layers.length;
  }

  static streamNext(s: TransformerState, t: number, recent: readonly MxArray[]): TransformerState {
    return { offset: s.offset + t, base: s.base, old: s.old, recent };
  }

  /** Moves the entries `recent` got since the last merge into `old` (eager: once per RECENT / T calls). */
  private merge(s: TransformerState): TransformerState {
    const { context } = this.config;
    // `old` keeps `context` slots: its newest `keep` plus the `take` newest of `recent`.
    const take = Math.min(s.offset - s.base, context);
    const keep = context - take;
    const old = s.old.map((o, i) => {
      const fresh = s.recent[i]!.index(S(), S(), S(RECENT - take, RECENT));
      return keep > 0 ? mx.concatenate([o.index(S(), S(), S(context - keep, context)), fresh], 2) : fresh;
    });
    return { offset: s.offset, base: s.offset, old, recent: s.recent };
  }

  /**
   * The layer stack as a pure function of arrays: [y, ...recent']. Without caches
   * (batch) the keys are the input's own.
   */
  private stack(x: MxArray, cos: MxArray, sin: MxArray, mask: MxArray, caches: { old: readonly MxArray[]; recent: readonly MxArray[] } | null): MxArray[] {
    const { numHeads: h, dModel: d } = this.config;
    const hd = this.headDim;
    const t = x.shape[1]!;
    const next: MxArray[] = [];
    let xs = x;
    this.layers.forEach((l, i) => {
      const { w } = l;
      const n1 = mx.fast.layerNorm(xs, w.norm1Weight, w.norm1Bias, NORM_EPS);
      // [1, T, 3, H, hd] → [3, 1, H, T, hd]
      const qkv = mx.transpose(mx.reshape(l.inProj.forward(n1), [1, t, 3, h, hd]), [2, 0, 3, 1, 4]);
      const q = rope(qkv.index(0), cos, sin);
      let k = rope(qkv.index(1), cos, sin);
      let v = qkv.index(2);
      const qs = mx.multiply(q, this.scale);
      let o: MxArray;
      if (caches) {
        // The shift register after this call's writes: T oldest slots out, T new in.
        k = mx.concatenate([caches.recent[2 * i]!.index(S(), S(), S(t, RECENT)), k], 2);
        v = mx.concatenate([caches.recent[2 * i + 1]!.index(S(), S(), S(t, RECENT)), v], 2);
        next.push(k, v);
        const oldK = caches.old[2 * i]!;
        const ctx = oldK.shape[2]!;
        const scores = mx.concatenate([mx.matmul(qs, mx.swapaxes(oldK, 2, 3)), mx.matmul(qs, mx.swapaxes(k, 2, 3))], 3);
        const p = mx.softmax(mx.add(scores, mask), -1);
        o = mx.add(mx.matmul(p.index(S(), S(), S(), S(0, ctx)), caches.old[2 * i + 1]!), mx.matmul(p.index(S(), S(), S(), S(ctx)), v));
      } else {
        o = mx.matmul(mx.softmax(mx.add(mx.matmul(qs, mx.swapaxes(k, 2, 3)), mask), -1), v);
      }
      const attn = l.outProj.forward(mx.reshape(mx.transpose(o, [0, 2, 1, 3]), [1, t, d]));
      xs = mx.add(xs, w.layerScale1 ? mx.multiply(attn, w.layerScale1) : attn);
      const n2 = mx.fast.layerNorm(xs, w.norm2Weight, w.norm2Bias, NORM_EPS);
      const ff = l.linear2.forward(gelu(l.linear1.forward(n2)));
      xs = mx.add(xs, w.layerScale2 ? mx.multiply(ff, w.layerScale2) : ff);
    });
    return [xs, ...next];
  }

  /**
   * Streaming mask [T, context + RECENT] over old then recent slots, for a call of T steps
   * at `offset` (so after its writes `recent` holds [end − RECENT, end), end = offset + T).
   * A slot is visible to query i (position end − T + i) when it holds a real position
   * (≥ 0), inside the ring window (≥ end − context), not later than the query, and, for
   * old slots, not also held by `recent`.
   */
  private streamMask(t: number, offset: number, base: number): MxArray {
    const { context } = this.config;
    const end = offset + t;
    const full = context + RECENT;
    const id = `s:${t}:${end - base}:${Math.min(base, full)}:${Math.min(end, full)}`;
    return this.cachedMask(id, t, full, (i, j) => {
      const pos = j < context ? base - context + j : end - RECENT + (j - context);
      if (pos < 0 || pos < end - context || pos > end - t + i) return false;
      return j >= context || pos < end - RECENT;
    });
  }

  /** Batch mask [T, T]: causal, at most `context` keys back including itself. */
  private batchMask(t: number): MxArray {
    const ctx = this.config.context;
    return this.cachedMask(`b:${t}`, t, t, (i, j) => j <= i && i - j < ctx);
  }

  private cachedMask(id: string, rows: number, cols: number, visible: (i: number, j: number) => boolean): MxArray {
    let m = this.masks.get(id);
    if (!m) {
      const data: number[][] = [];
      for (let i = 0; i < rows; i++) {
        const row = new Array<number>(cols);
        for (let j = 0; j < cols; j++) row[j] = visible(i, j) ? 0 : -Infinity;
        data.push(row);
      }
      m = mx.array(data, mx.float32);
      // Streaming needs at most context/T + 1 masks; batch masks vary with input length.
      if (this.masks.size < 1024) this.masks.set(id, m);
    }
    return m;
  }
}
