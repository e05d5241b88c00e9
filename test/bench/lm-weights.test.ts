// Random LM weights for the real-size lm suite: generated quantized, they load into a working
// Lm whose weight traffic per step is what its quantization says (the floor the suite reports).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomLm } from '../../bench/lib/lm-weights.ts';
import { readFileSync } from 'node:fs';
import { LmGen, lmConfigFromJson, loadLmConfig } from '../../src/models/lm/index.ts';

const CONFIGS = join(import.meta.dirname, '..', '..', 'configs');
// The 7B config (its vocabularies, codebooks and schedule) at a size a test can build: every
// input size a multiple of the 32-wide quantization groups, as the 7B's are (feed-forwards
// 4.125 × dim, gated: 2/3 of it inside).
const cfg = lmConfigFromJson({
  ...(JSON.parse(readFileSync(join(CONFIGS, 'moshi_7b_202409.json'), 'utf8')) as Record<string, unknown>),
  dim: 256, num_heads: 4, num_layers: 2, depformer_dim: 128, depformer_num_heads: 2, depformer_num_layers: 1, depformer_dim_feedforward: 528,
});

describe('randomLm', () => {
  it('q4 weights step like float ones and read 4–8× fewer bytes (0.5 B per weight plus a scale and bias per 32)', async () => {
    const float = await randomLm(cfg, null, 3);
    const q4 = await randomLm(cfg, { bits: 4, groupSize: 32 }, 3);
    const f = float.weightBytesByStage();
    const q = q4.weightBytesByStage();
    for (const stage of ['temporal', 'depformer'] as const) {
      expect(f[stage] / q[stage], stage).toBeGreaterThan(4);
      expect(f[stage] / q[stage], stage).toBeLessThan(8);
    }
    const gen = new LmGen(q4, { seed: 1 });
    gen.step(new Int32Array(gen.userCodebooks).fill(5));
    expect(gen.lastTimings.temporalMs).toBeGreaterThan(0);
  }, 120_000);

  it('refuses a shape the groups do not divide, naming the tensor', async () => {
    await expect(randomLm(loadLmConfig(join(CONFIGS, 'tiny.json')), { bits: 4, groupSize: 32 }, 1)).rejects.toThrow(/input size \d+ is not a multiple of the quantization group 32/);
  });

  it('is seeded: the same seed gives the same tokens, another seed other ones', async () => {
    const tokens = async (seed: number) => {
      const gen = new LmGen(await randomLm(cfg, { bits: 4, groupSize: 32 }, seed), { seed: 1 });
      const frames = Array.from({ length: 6 }, () => gen.step(new Int32Array(gen.userCodebooks).fill(5)));
      return JSON.stringify(frames.filter((f) => f !== null));
    };
    const a = await tokens(9);
    expect(a).not.toBe('[]');
    expect(await tokens(9)).toBe(a);
    expect(await tokens(10)).not.toBe(a);
  }, 120_000);
});
