// The transformer's streaming window is upstream's ring cache: with two steps per call,
// once the ring is full the first query of each pair has lost its oldest key (it sees
// context − 1 keys) while the second sees context, as a batch pass does. A one-layer
// model makes that visible step by step (README pitfall 1).
import { describe, expect, it } from 'vitest';
import { evaluate, mx, type MxArray } from '../../../src/models/mlx.ts';
import { MimiTransformer, type TransformerLayerWeights, type TransformerState } from '../../../src/models/mimi/transformer.ts';
import { withCompileLock } from '../../../src/models/nn/compile.ts';

const D = 8;
const CONTEXT = 6;
const STEPS = 48; // three merges of the recent slots into the old ones

function layer(seed: number): TransformerLayerWeights {
  const key = mx.random.key(seed);
  const keys = mx.random.split(key, 8);
  const n = (shape: number[], i: number, scale: number) => {
    const a = mx.multiply(mx.random.normal(shape, mx.float32, 0, 1, keys.index(i)), scale);
    evaluate(a);
    return a;
  };
  return {
    norm1Weight: mx.add(n([D], 0, 0.1), 1), norm1Bias: n([D], 1, 0.1),
    inProj: n([3 * D, D], 2, 0.5), outProj: n([D, D], 3, 0.5),
    norm2Weight: mx.add(n([D], 4, 0.1), 1), norm2Bias: n([D], 5, 0.1),
    linear1: n([4 * D, D], 6, 0.5), linear2: n([D, 4 * D], 7, 0.5),
    layerScale1: mx.full([D], 0.7, mx.float32), layerScale2: mx.full([D], 0.3, mx.float32),
  };
}

function make(compile: boolean): MimiTransformer {
  return new MimiTransformer({ dModel: D, numHeads: 2, numLayers: 1, dimFeedforward: 4 * D, context: CONTEXT, maxPeriod: 10000, layerScale: true }, [layer(5)], { compile });
}

const input = mx.random.normal([1, STEPS, D], mx.float32, 0, 1, mx.random.key(9));
evaluate(input);

function streamed(tr: MimiTransformer): number[][] {
  let state: TransformerState = tr.initialState();
  const rows: number[][] = [];
  for (let t = 0; t < STEPS; t += 2) {
    const r = tr.forward(input.index(mx.Slice(), mx.Slice(t, t + 2)), state);
    state = r.state!;
    evaluate(r.y, ...MimiTransformer.stateArrays(state));
    rows.push(...(r.y.tolist() as number[][][])[0]!);
  }
  return rows;
}

const diff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe('MimiTransformer streaming window', () => {
  const tr = make(true);
  // First compiled evaluations build kernels: under the lock other test processes share.
  const { batch, stream } = withCompileLock(() => {
    const y: MxArray = tr.forward(input, null).y;
    evaluate(y);
    return { batch: (y.tolist() as number[][][])[0]!, stream: streamed(tr) };
  });

  it('matches the batch pass while the ring is not yet full', () => {
    for (let t = 0; t < CONTEXT; t++) expect(diff(stream[t]!, batch[t]!), `step ${t}`).toBeLessThan(1e-5);
  });

  it('then differs at the first query of each pair (context − 1 keys) and agrees at the second (context keys)', () => {
    for (let t = CONTEXT; t < STEPS; t++) {
      if (t % 2 === 0) expect(diff(stream[t]!, batch[t]!), `step ${t}`).toBeGreaterThan(1e-3);
      else expect(diff(stream[t]!, batch[t]!), `step ${t}`).toBeLessThan(1e-5);
    }
  });

  it('computes the same numbers compiled and eager', () => {
    const eager = streamed(make(false));
    for (let t = 0; t < STEPS; t++) expect(diff(eager[t]!, stream[t]!)).toBeLessThan(1e-6);
  });

  it('refuses a streaming chunk longer than its context', () => {
    expect(() => tr.forward(mx.zeros([1, CONTEXT + 1, D]), tr.initialState())).toThrow(/exceeds its context/);
  });
});
