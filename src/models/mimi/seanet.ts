// SEANet encoder and decoder: causal convs, residual blocks with identity skips, ELU.
// Layers are numbered exactly as upstream's `model` Sequential (ELUs take an index too),
// so weight keys (`encoder.model.{i}`) and debugging taps share one numbering.
import { mx, type MxArray } from '../mlx.ts';
import type { SeanetConfig } from './config.ts';
import { CausalConv1d, CausalConvTranspose1d } from './conv.ts';

/** Observer of intermediate outputs, by upstream module name (`encoder.model.3`, ...). */
export type Tap = (name: string, value: MxArray) => void;

/** One conv state per stateful conv, in layer order; null entries = first call. */
export type SeanetState = readonly (MxArray | null)[];

export function elu(x: MxArray, alpha: number): MxArray {
  const neg = mx.subtract(mx.exp(mx.minimum(x, 0)), 1);
  return mx.add(mx.maximum(x, 0), alpha === 1 ? neg : mx.multiply(neg, alpha));
}

export interface ConvWeights {
  /** [Cout, K, Cin]. */
  readonly weight: MxArray;
  readonly bias: MxArray | null;
}

export interface ConvTrWeights {
  /** [Cin, K, Cout] (taps before output channels). */
  readonly weight: MxArray;
  readonly bias: MxArray | null;
}

export interface ResBlockWeights {
  readonly conv1: ConvWeights;
  readonly conv2: ConvWeights;
}

/** Upstream layer indices of a SEANet, derived from its config (shared with weights.ts). */
export interface SeanetLayout {
  readonly layers: readonly SeanetLayer[];
}

export type SeanetLayer =
  | { readonly kind: 'conv'; readonly index: number; readonly cin: number; readonly cout: number; readonly kernel: number; readonly stride: number }
  | { readonly kind: 'convtr'; readonly index: number; readonly cin: number; readonly cout: number; readonly kernel: number; readonly stride: number }
  | { readonly kind: 'res'; readonly index: number; readonly dim: number; readonly hidden: number; readonly kernel: number; readonly dilation: number }
  | { readonly kind: 'elu'; readonly index: number };

export function encoderLayout(c: SeanetConfig): SeanetLayout {
  const layers: SeanetLayer[] = [];
  let i = 0;
  let width = c.nFilters;
  layers.push({ kind: 'conv', index: i++, cin: c.channels, cout: width, kernel: c.kernelSize, stride: 1 });
  for (const ratio of [...c.ratios].reverse()) {
    for (let j = 0; j < c.nResidualLayers; j++) {
      layers.push({ kind: 'res', index: i++, dim: width, hidden: Math.floor(width / c.compress), kernel: c.residualKernelSize, dilation: c.dilationBase ** j });
    }
    layers.push({ kind: 'elu', index: i++ });
    layers.push({ kind: 'conv', index: i++, cin: width, cout: width * 2, kernel: ratio * 2, stride: ratio });
    width *= 2;
  }
  layers.push({ kind: 'elu', index: i++ });
  layers.push({ kind: 'conv', index: i++, cin: width, cout: c.dimension, kernel: c.lastKernelSize, stride: 1 });
  return { layers };
}

export function decoderLayout(c: SeanetConfig): SeanetLayout {
  const layers: SeanetLayer[] = [];
  let i = 0;
  let width = c.nFilters * 2 ** c.ratios.length;
  layers.push({ kind: 'conv', index: i++, cin: c.dimension, cout: width, kernel: c.kernelSize, stride: 1 });
  for (const ratio of c.ratios) {
    layers.push({ kind: 'elu', index: i++ });
    layers.push({ kind: 'convtr', index: i++, cin: width, cout: width / 2, kernel: ratio * 2, stride: ratio });
    width /= 2;
    for (let j = 0; j < c.nResidualLayers; j++) {
      layers.push({ kind: 'res', index: i++, dim: width, hidden: Math.floor(width / c.compress), kernel: c.residualKernelSize, dilation: c.dilationBase ** j });
    }
  }
  layers.push({ kind: 'elu', index: i++ });
  layers.push({ kind: 'conv', index: i++, cin: c.nFilters, cout: c.channels, kernel: c.lastKernelSize, stride: 1 });
  return { layers };
}

type Runner =
  | { readonly kind: 'conv'; readonly index: number; readonly conv: CausalConv1d; readonly slot: number }
  | { readonly kind: 'convtr'; readonly index: number; readonly conv: CausalConvTranspose1d; readonly slot: number }
  | { readonly kind: 'res'; readonly index: number; readonly conv1: CausalConv1d; readonly conv2: CausalConv1d; readonly slot: number }
  | { readonly kind: 'elu'; readonly index: number };

export type SeanetWeights = ReadonlyMap<number, ConvWeights | ConvTrWeights | ResBlockWeights>;

/**
 * A SEANet stack (encoder or decoder) run step by step. `name` prefixes taps
 * ("encoder" → `encoder.model.{i}`).
 */
export class Seanet {
  readonly name: string;
  private readonly runners: readonly Runner[];
  private readonly slots: number;
  private readonly alpha: number;

  constructor(name: string, layout: SeanetLayout, weights: SeanetWeights, cfg: SeanetConfig) {
    this.name = name;
    this.alpha = cfg.eluAlpha;
    let slot = 0;
    const pad = { padMode: cfg.padMode };
    this.runners = layout.layers.map((l): Runner => {
      if (l.kind === 'elu') return l;
      const w = weights.get(l.index);
      if (!w) throw new Error(`${name}.model.${l.index}: no weights`);
      if (l.kind === 'conv') {
        return { kind: 'conv', index: l.index, conv: new CausalConv1d((w as ConvWeights).weight, (w as ConvWeights).bias, { stride: l.stride, ...pad }), slot: slot++ };
      }
      if (l.kind === 'convtr') {
        return { kind: 'convtr', index: l.index, conv: new CausalConvTranspose1d((w as ConvTrWeights).weight, (w as ConvTrWeights).bias, { stride: l.stride }), slot: slot++ };
      }
      const r = w as ResBlockWeights;
      return {
        kind: 'res', index: l.index, slot: slot++,
        conv1: new CausalConv1d(r.conv1.weight, r.conv1.bias, { dilation: l.dilation, ...pad }),
        conv2: new CausalConv1d(r.conv2.weight, r.conv2.bias, pad),
      };
    });
    this.slots = slot;
  }

  initialState(): SeanetState {
    return new Array<null>(this.slots).fill(null);
  }

  /** x: [1, L, C]; returns the stack output and the state for the next call. */
  step(x: MxArray, state: SeanetState, tap?: Tap): { y: MxArray; state: SeanetState } {
    const next = [...state];
    let h = x;
    for (const r of this.runners) {
      switch (r.kind) {
        case 'elu':
          h = elu(h, this.alpha);
          break;
        case 'conv':
        case 'convtr': {
          const out = r.conv.step(h, state[r.slot] ?? null);
          h = out.y;
          next[r.slot] = out.state;
          break;
        }
        case 'res': {
          // The k1 conv has no state, so one slot per block: its first conv's.
          const a = r.conv1.step(elu(h, this.alpha), state[r.slot] ?? null);
          next[r.slot] = a.state;
          h = mx.add(h, r.conv2.step(elu(a.y, this.alpha), null).y);
          break;
        }
      }
      tap?.(`${this.name}.model.${r.index}`, h);
    }
    return { y: h, state: next };
  }
}
