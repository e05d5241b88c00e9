// Streaming causal convolutions against a plain-JS reference: a signal fed in chunks gives
// the samples of one call on the whole signal, with zero or replicate left padding, and
// conv-transposes carry their overlap between calls without counting the bias twice.
import { describe, expect, it } from 'vitest';
import { evaluate, mx, type MxArray } from '../../../src/models/mlx.ts';
import { CausalConv1d, CausalConvTranspose1d } from '../../../src/models/mimi/conv.ts';

/** Deterministic pseudo-random numbers in [-1, 1). */
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

const tensor = (data: number[], shape: number[]) => mx.reshape(mx.array(data, mx.float32), shape);
const host = (a: MxArray) => {
  evaluate(a);
  return mx.reshape(a, [-1]).tolist() as number[];
};

/** y[t][o] = b[o] + Σ_k Σ_c w[o][k][c] · xpad[t·S + k·D][c]. x: [L][Cin], w flat [Cout, K, Cin]. */
function refConv(x: number[][], w: number[], b: number[] | null, cout: number, k: number, stride: number, dilation: number, replicate: boolean): number[] {
  const cin = x[0]!.length;
  const ctx = (k - 1) * dilation + 1 - stride;
  const pad = Array.from({ length: ctx }, () => (replicate ? [...x[0]!] : new Array<number>(cin).fill(0)));
  const xp = [...pad, ...x];
  const out: number[] = [];
  for (let t = 0; t < x.length / stride; t++) {
    for (let o = 0; o < cout; o++) {
      let acc = b ? b[o]! : 0;
      for (let j = 0; j < k; j++) for (let c = 0; c < cin; c++) acc += w[(o * k + j) * cin + c]! * xp[t * stride + j * dilation]![c]!;
      out.push(acc);
    }
  }
  return out;
}

/** Transposed conv, trimmed right by K − S: out[t·S + j] += x[t] · w[cin][j][cout] (+ b). */
function refConvTr(x: number[][], w: number[], b: number[] | null, cout: number, k: number, stride: number, depthwise: boolean): number[] {
  const len = x.length;
  const full = Array.from({ length: (len - 1) * stride + k }, () => new Array<number>(cout).fill(0));
  const cin = x[0]!.length;
  for (let t = 0; t < len; t++) {
    for (let c = 0; c < cin; c++) {
      for (let j = 0; j < k; j++) {
        if (depthwise) full[t * stride + j]![c]! += x[t]![c]! * w[c * k + j]!;
        else for (let o = 0; o < cout; o++) full[t * stride + j]![o]! += x[t]![c]! * w[(c * k + j) * cout + o]!;
      }
    }
  }
  return full.slice(0, len * stride).flatMap((row) => row.map((v, o) => v + (b ? b[o]! : 0)));
}

function streamed(step: (x: MxArray, s: MxArray | null) => { y: MxArray; state: MxArray | null }, x: number[][], chunks: number[]): number[] {
  const cin = x[0]!.length;
  let state: MxArray | null = null;
  const out: number[] = [];
  let at = 0;
  for (const n of chunks) {
    const r = step(tensor(x.slice(at, at + n).flat(), [1, n, cin]), state);
    out.push(...host(r.y));
    state = r.state;
    at += n;
  }
  return out;
}

const close = (a: number[], b: number[]) => {
  expect(a.length).toBe(b.length);
  const peak = Math.max(...b.map(Math.abs));
  expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThanOrEqual(1e-5 * peak);
};

describe('CausalConv1d', () => {
  it.each([
    // k, stride, dilation, pad mode, chunk sizes (samples)
    [7, 1, 1, 'constant', [24]],
    [7, 1, 1, 'constant', [5, 1, 8, 10]],
    [3, 1, 2, 'constant', [4, 4, 4, 12]],
    [8, 4, 1, 'constant', [8, 4, 12]],
    [4, 2, 1, 'replicate', [2, 2, 20]],
    [4, 2, 1, 'replicate', [24]],
    [1, 1, 1, 'constant', [3, 21]],
  ] as const)('k%i stride %i dilation %i, %s padding, chunks %j = one call on the whole signal = reference', (k, stride, dilation, padMode, chunks) => {
    const cin = 3;
    const cout = 4;
    const x = Array.from({ length: 24 }, (_, t) => rand(cin, 100 + t));
    const w = rand(cout * k * cin, 7);
    const b = rand(cout, 8);
    const conv = new CausalConv1d(tensor(w, [cout, k, cin]), tensor(b, [cout]), { stride, dilation, padMode });
    const want = refConv(x, w, b, cout, k, stride, dilation, padMode === 'replicate');
    close(streamed((xs, s) => conv.step(xs, s), x, [...chunks]), want);
  });

  it.each([
    // Weights ≥ 1 MB and ≤ 16 output steps take the GEMV path (split over two streams).
    [16, 8, 64, 256, [16, 8]],
    [7, 1, 128, 320, [2, 1]],
    [7, 3, 128, 320, [6, 3]],
    [3, 1, 512, 256, [2, 2]],
  ] as const)('k%i stride %i with a large weight (%i×%i channels), chunks %j = reference', (k, stride, cout, cin, chunks) => {
    const len = chunks.reduce((a, b) => a + b, 0);
    const x = Array.from({ length: len }, (_, t) => rand(cin, 500 + t));
    const w = rand(cout * k * cin, 17).map((v) => v / Math.sqrt(k * cin));
    const b = rand(cout, 18);
    const conv = new CausalConv1d(tensor(w, [cout, k, cin]), tensor(b, [cout]), { stride });
    close(streamed((xs, st) => conv.step(xs, st), x, [...chunks]), refConv(x, w, b, cout, k, stride, 1, false));
  });

  it('refuses a chunk that is not a multiple of the stride', () => {
    const conv = new CausalConv1d(mx.zeros([2, 8, 2]), null, { stride: 4 });
    expect(() => conv.step(mx.zeros([1, 6, 2]), null)).toThrow(/not a multiple of the stride 4/);
  });
});

describe('CausalConvTranspose1d', () => {
  it.each([
    // k, stride, depthwise, chunk sizes (input steps)
    [8, 4, false, [6]],
    [8, 4, false, [1, 2, 3]],
    [16, 8, false, [2, 1, 1, 2]],
    [7, 3, false, [2, 2, 2]],
    [4, 2, true, [6]],
    [4, 2, true, [2, 2, 1, 1]],
  ] as const)('k%i stride %i depthwise %s, chunks %j = one call = reference (overlap carried without bias)', (k, stride, depthwise, chunks) => {
    const cin = 3;
    const cout = depthwise ? cin : 2;
    const x = Array.from({ length: 6 }, (_, t) => rand(cin, 300 + t));
    const w = rand(cin * k * (depthwise ? 1 : cout), 11);
    const b = depthwise ? null : rand(cout, 12);
    const conv = new CausalConvTranspose1d(tensor(w, [cin, k, depthwise ? 1 : cout]), b ? tensor(b, [cout]) : null, { stride, groups: depthwise ? cin : 1 });
    close(streamed((xs, s) => conv.step(xs, s), x, [...chunks]), refConvTr(x, w, b, cout, k, stride, depthwise));
  });

  it('takes every tap in one split GEMV when the weight is large (256 → 64 channels, k16 stride 8)', () => {
    const [cin, k, cout, stride] = [256, 16, 64, 8];
    const x = Array.from({ length: 4 }, (_, t) => rand(cin, 700 + t));
    const w = rand(cin * k * cout, 19).map((v) => v / Math.sqrt(cin));
    const b = rand(cout, 20);
    const conv = new CausalConvTranspose1d(tensor(w, [cin, k, cout]), tensor(b, [cout]), { stride });
    close(streamed((xs, st) => conv.step(xs, st), x, [1, 2, 1]), refConvTr(x, w, b, cout, k, stride, false));
  });

  it('adds the bias once per sample even where two calls overlap', () => {
    // Zero input, zero kernel: every output sample must be exactly the bias.
    const conv = new CausalConvTranspose1d(mx.zeros([2, 8, 2]), mx.array([0.5, -1.5], mx.float32), { stride: 4 });
    let state: MxArray | null = null;
    for (let call = 0; call < 3; call++) {
      const r = conv.step(mx.zeros([1, 1, 2]), state);
      expect(host(r.y)).toEqual([0.5, -1.5, 0.5, -1.5, 0.5, -1.5, 0.5, -1.5]);
      state = r.state;
    }
  });
});
