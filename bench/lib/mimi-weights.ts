// Seeded random Mimi weights in the PyTorch checkpoint layout, generated in memory: the
// real-size Mimi benches need no download.
import { evaluate, mx, type MxArray } from '../../src/models/mlx.ts';
import { expectedCheckpointKeys, type MimiConfig } from '../../src/models/mimi/index.ts';

/**
 * Random weights with PyTorch checkpoint names and shapes, scaled by 1/sqrt(fan-in) so
 * activations stay in a realistic range; codebooks get usage counts in [0.5, 4.5).
 */
export function randomMimiWeights(cfg: MimiConfig, seed: number): Record<string, MxArray> {
  let key = mx.random.key(seed);
  const next = () => {
    const pair = mx.random.split(key, 2);
    key = pair.index(0);
    return pair.index(1);
  };
  const out: Record<string, MxArray> = {};
  for (const [name, { shape }] of expectedCheckpointKeys(cfg)) {
    const dims = [...shape];
    let a: MxArray;
    if (name.endsWith('._initialized')) a = mx.ones(dims, mx.float32);
    else if (name.endsWith('.cluster_usage')) a = mx.random.uniform(0.5, 4.5, dims, mx.float32, next());
    else if (/norm\d\.weight$/.test(name)) a = mx.add(mx.multiply(mx.random.normal(dims, mx.float32, 0, 1, next()), 0.1), 1);
    else if (name.endsWith('.bias') || name.endsWith('.scale')) a = mx.multiply(mx.random.normal(dims, mx.float32, 0, 1, next()), 0.05);
    else {
      const fanIn = dims.length === 3 ? dims[1]! * dims[2]! : dims[dims.length - 1]!;
      a = mx.multiply(mx.random.normal(dims, mx.float32, 0, 1, next()), 1 / Math.sqrt(fanIn));
    }
    evaluate(a);
    out[name] = a;
  }
  return out;
}

