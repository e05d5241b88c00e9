// SEANet's ELU is a select (x where x > 0, else alpha·(eˣ − 1)) rather than upstream's
// max(x, 0) + alpha·(e^min(x, 0) − 1): the same floats in fewer primitives, and a faster
// fused kernel in this binding. Checked against the upstream form, eager and compiled.
import { describe, expect, it } from 'vitest';
import { evaluate, mx, type MxArray } from '../../../src/models/mlx.ts';
import { elu } from '../../../src/models/mimi/seanet.ts';
import { compiled } from '../../../src/models/nn/compile.ts';
import { countOps } from '../op-count.ts';

function upstreamElu(x: MxArray, alpha: number): MxArray {
  return mx.add(mx.maximum(x, 0), mx.multiply(mx.subtract(mx.exp(mx.minimum(x, 0)), 1), alpha));
}

const edges = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 3, -3, 20, -20, 87, -87, 100, -100, 1e30, -1e30];

function inputs(): MxArray {
  // Edge values then a spread of activations, with a bias broadcast as a conv output adds it.
  const x = mx.concatenate([mx.array(edges, mx.float32), mx.multiply(mx.random.normal([4096 - edges.length], mx.float32, 0, 1, mx.random.key(7)), 4)]);
  return mx.add(x.reshape([1, 256, 16]), mx.random.normal([16], mx.float32, 0, 0.1, mx.random.key(8)));
}

describe('SEANet ELU', () => {
  for (const alpha of [1, 0.5]) {
    it(`equals the upstream max/min form bit for bit, eager and compiled (alpha ${alpha})`, () => {
      const x = inputs();
      evaluate(x);
      for (const [got, want] of [[elu(x, alpha), upstreamElu(x, alpha)], [compiled((a: MxArray) => elu(a, alpha))(x), compiled((a: MxArray) => upstreamElu(a, alpha))(x)]] as const) {
        evaluate(got, want);
        expect(mx.arrayEqual(got, want).item()).toBe(true);
      }
    });
  }

  it('builds no max/min (a select over one exp)', () => {
    const x = inputs();
    const { counts } = countOps(() => elu(x, 1));
    expect(counts.get('mx.maximum') ?? 0).toBe(0);
    expect(counts.get('mx.minimum') ?? 0).toBe(0);
    expect(counts.get('mx.exp')).toBe(1);
  });
});
