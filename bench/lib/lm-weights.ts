// Seeded random LM weights at any shape, generated already quantized where asked (no float
// copy of a 7B model): the `real` lm suite times the Moshi 7B shape without a 4 GB download.
// Values do not change the work of a quantized matmul, so the timing and the weight traffic
// are the real model's; the tokens are noise.
import { evaluate, mx, type MxArray } from '../../src/models/mlx.ts';
import { buildLmWeights, expectedShapes, Lm, type LmConfig } from '../../src/models/lm/index.ts';
import type { QuantSpec } from '../../src/models/nn/linear.ts';

/** uint32 words of uniformly random bits (two 16-bit draws: JS numbers reach MLX as float32). */
function randomWords(shape: number[], key: MxArray): MxArray {
  const [k1, k2] = mx.split(mx.random.split(key, 2), 2, 0).map((k) => k.reshape([2]));
  const hi = mx.random.randint(0, 65536, shape, mx.uint32, k1);
  const lo = mx.random.randint(0, 65536, shape, mx.uint32, k2);
  return mx.bitwiseOr(mx.leftShift(hi, mx.array(16, mx.uint32)), lo);
}

/**
 * An Lm with seeded random canonical weights: norms near 1, float matrices with std 1/√in,
 * quantized ones packed directly with scales and biases set for the same spread.
 */
export async function randomLm(cfg: LmConfig, quant: QuantSpec | null, seed: number, log: (msg: string) => void = () => undefined): Promise<Lm> {
  const arrays: Record<string, MxArray> = {};
  const quantMap = new Map<string, QuantSpec>();
  const shapes = expectedShapes(cfg);
  let i = 0;
  for (const [name, shape] of shapes) {
    const key = mx.random.key(seed * 100_003 + i++);
    if (shape.length === 1) {
      arrays[name] = mx.random.uniform(0.8, 1.2, shape, mx.float32, key);
    } else if (!quant) {
      arrays[name] = mx.random.normal(shape, mx.float32, 0, 1 / Math.sqrt(shape[1]!), key);
    } else {
      const [out, inD] = shape as [number, number];
      if (inD % quant.groupSize !== 0) throw new RangeError(`${name}: input size ${inD} is not a multiple of the quantization group ${quant.groupSize}`);
      const base = name.slice(0, -'.weight'.length);
      const levels = 2 ** quant.bits - 1;
      const s = Math.sqrt(12) / (levels * Math.sqrt(inD));
      const scales = mx.random.uniform(0.9 * s, 1.1 * s, [out, inD / quant.groupSize], mx.float32, mx.random.key(seed * 7 + i));
      arrays[`${base}.weight`] = randomWords([out, (inD * quant.bits) / 32], key);
      arrays[`${base}.scales`] = scales;
      arrays[`${base}.biases`] = mx.multiply(scales, -levels / 2);
      quantMap.set(base, quant);
    }
    evaluate(...Object.values(arrays).slice(-3));
    // The random halves and shifts hold native memory until V8 collects their wrappers and
    // their finalizers run on a later turn: collect as we go, or a 7B model needs twice its size.
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
    if (i % 100 === 0) log(`random weights ${i}/${shapes.size}, RSS ${(process.memoryUsage().rss / 2 ** 30).toFixed(1)} GiB`);
  }
  return new Lm(cfg, buildLmWeights(cfg, arrays, quantMap));
}
