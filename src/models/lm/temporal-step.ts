// The temporal transformer's streaming step as a chain of compiled graphs. Eager, one
// step of the tiny model is a few hundred primitives and each costs tens of microseconds
// to build and schedule in this binding, which was most of the step. A single graph
// cannot hold the step, though: every layer writes its new key and value into its ring
// cache in place (indexPut_) before attending over the whole buffer, and a write inside
// a traced function would copy the buffer instead. So the chain is cut at the writes:
//   enter      (ids, pos, cos, sin)                    → x, q, k, v of layer 0
//   link l     (x, q, K_l, V_l, pos, cos, sin[, mask]) → layer l's output, q, k, v of l + 1
//   exit       (x, q, K_L, V_L[, mask])               → normed hidden, text logits
// with the cache writes in between. Same operations, same order, same floats as the
// eager path (Transformer.forward with caches); positions enter as arrays (RoPE rows
// taken from a table inside the graph), never as constants baked into a trace.
import { mx, type MxArray } from '../mlx.ts';
import { compiled } from '../nn/compile.ts';
import type { Embedding, Linear } from '../nn/linear.ts';
import { ZERO_TOKEN, type LmConfig } from './config.ts';
import { applyNorm, ropeTables, type NormWeights, type RingKvCache, type Transformer } from './transformer.ts';

type Graph = (...args: MxArray[]) => MxArray[];

/** A temporal step's outputs: the depformer's input, the text logits, and their finiteness probe. */
export interface TemporalOutput {
  /** Normalised hidden state [1, 1, dim]. */
  readonly hidden: MxArray;
  /** [1, text_card] */
  readonly textLogits: MxArray;
  /** sum(hidden) + sum(text logits): NaN/Inf (or huge) when either holds NaN/Inf. */
  readonly probe: MxArray;
}

/** One scalar that is not finite when any value of a or b is NaN/Inf (3 primitives). */
export function finiteProbe(a: MxArray, b: MxArray): MxArray {
  return mx.add(mx.sum(a), mx.sum(b));
}

export interface TemporalHeadWeights {
  readonly textEmb: Embedding;
  readonly audioEmbs: readonly Embedding[];
  readonly outNorm: NormWeights;
  readonly textLinear: Linear;
}

/** Positions the RoPE table starts with; it doubles when a session outgrows it. */
const TABLE_START = 1024;

export class TemporalStepper {
  private readonly cfg: LmConfig;
  private readonly tf: Transformer;
  private readonly w: TemporalHeadWeights;
  /** By zero-token pattern: ids equal to ZERO_TOKEN are left out of the sum, as eager. */
  private readonly enters = new Map<string, Graph>();
  private readonly links: readonly Graph[];
  private readonly exit: Graph;
  private table: { n: number; cos: MxArray; sin: MxArray } | null = null;

  constructor(cfg: LmConfig, tf: Transformer, w: TemporalHeadWeights) {
    this.cfg = cfg;
    this.tf = tf;
    this.w = w;
    const L = tf.numLayers;
    this.links = Array.from({ length: L - 1 }, (_, l) => compiled((x: MxArray, q: MxArray, keys: MxArray, values: MxArray, pos: MxArray, cos: MxArray, sin: MxArray, ...mask: MxArray[]) => {
      const y = tf.attendOut(l, x, q, keys, values, mask[0] ?? null);
      const next = tf.attendIn(l + 1, y, this.rope(pos, cos, sin));
      return [y, next.q, next.k, next.v];
    }));
    this.exit = compiled((x: MxArray, q: MxArray, keys: MxArray, values: MxArray, ...mask: MxArray[]) => {
      const hidden = applyNorm(cfg.temporal.norm, w.outNorm, tf.attendOut(L - 1, x, q, keys, values, mask[0] ?? null));
      const textLogits = w.textLinear.forward(hidden).reshape([1, cfg.textCard]);
      return [hidden, textLogits, finiteProbe(hidden, textLogits)];
    });
  }

  /** One step at `offset` for tokens [text, audio 0..nQ−1] (delay-aligned; −1 = zero token). */
  step(tokens: ArrayLike<number>, offset: number, caches: readonly RingKvCache[]): TemporalOutput {
    let pattern = '';
    const ids = new Array<number>(tokens.length);
    for (let s = 0; s < tokens.length; s++) {
      const id = tokens[s]!;
      pattern += id === ZERO_TOKEN ? '0' : '1';
      ids[s] = id === ZERO_TOKEN ? 0 : id;
    }
    const pos = mx.array([offset], mx.int32);
    const { cos, sin } = this.tableFor(offset);
    let [x, q, k, v] = this.enter(pattern)(mx.array(ids, mx.int32), pos, cos, sin) as [MxArray, MxArray, MxArray, MxArray];
    let mask: MxArray[] = [];
    const last = this.tf.numLayers - 1;
    for (let l = 0; ; l++) {
      // Every layer's cache has the same fill, so layer 0's mask serves them all.
      const r = caches[l]!.append(k, v, l === 0);
      if (l === 0) mask = r.mask ? [r.mask] : [];
      if (l === last) {
        const [hidden, textLogits, probe] = this.exit(x, q, r.keys, r.values, ...mask);
        return { hidden: hidden!, textLogits: textLogits!, probe: probe! };
      }
      [x, q, k, v] = this.links[l]!(x, q, r.keys, r.values, pos, cos, sin, ...mask) as [MxArray, MxArray, MxArray, MxArray];
    }
  }

  private rope(pos: MxArray, cos: MxArray, sin: MxArray): { cos: MxArray; sin: MxArray } | null {
    return this.cfg.temporal.positionalEmbedding === 'rope' ? { cos: mx.take(cos, pos, 0), sin: mx.take(sin, pos, 0) } : null;
  }

  private enter(pattern: string): Graph {
    let g = this.enters.get(pattern);
    if (g) return g;
    const { cfg, w, tf } = this;
    // Only the usual pattern (no zero token) is compiled, and so warmed up at load: a
    // rare other one runs eager rather than build kernels inside a real-time step.
    g = compiled((ids: MxArray, pos: MxArray, cos: MxArray, sin: MxArray) => {
      let sum: MxArray | null = null;
      for (let k = 1; k <= cfg.nQ + 1; k++) {
        const s = k % (cfg.nQ + 1); // audio streams first, then text: upstream's order
        if (pattern[s] === '0') continue;
        const e = (s === 0 ? w.textEmb : w.audioEmbs[s - 1]!).lookup(ids.index(mx.Slice(s, s + 1)));
        sum = sum ? mx.add(sum, e) : e;
      }
      const x = (sum ?? mx.zeros([1, cfg.dim])).reshape([1, 1, cfg.dim]);
      const r = tf.attendIn(0, x, this.rope(pos, cos, sin));
      return [x, r.q, r.k, r.v];
    }, !pattern.includes('0'));
    this.enters.set(pattern, g);
    return g;
  }

  private tableFor(offset: number): { cos: MxArray; sin: MxArray } {
    if (!this.table || offset >= this.table.n) {
      let n = this.table?.n ?? TABLE_START;
      while (n <= offset) n *= 2;
      const hd = this.cfg.temporal.dim / this.cfg.temporal.numHeads;
      this.table = { n, ...ropeTables(n, hd, this.cfg.temporal.maxPeriod) };
    }
    return this.table;
  }
}
