// Streaming state: the temporal KV cache keeps exactly `context` keys including the
// current one while it grows in chunks and wraps, and a long session's native memory
// stays flat when the loop lets the binding free (releaseNativeMemory).
import { describe, expect, it } from 'vitest';
import { evaluate, mx } from '../../../src/models/mlx.ts';
import { loadLmConfig } from '../../../src/models/lm/config.ts';
import { LmGen, releaseNativeMemory } from '../../../src/models/lm/generate.ts';
import { RingKvCache } from '../../../src/models/lm/transformer.ts';
import { loadLm } from '../../../src/models/lm/weights.ts';
import { goldens, ints, LM_CONFIG, LM_MLX } from './helpers.ts';

describe('temporal KV cache', () => {
  it('attends to the last `context` keys (current included) while growing in chunks and wrapping', () => {
    const context = 5;
    const cache = new RingKvCache(context, 2);
    const all: ReturnType<typeof mx.array>[] = [];
    for (let t = 0; t < 13; t++) {
      const k = mx.random.normal([1, 2, 1, 4], mx.float32, 0, 1, mx.random.key(100 + t));
      all.push(k);
      const r = cache.append(k, k);
      const q = mx.random.normal([1, 2, 1, 4], mx.float32, 0, 1, mx.random.key(500 + t));
      let s = mx.matmul(q, mx.swapaxes(r.keys, -1, -2));
      if (r.mask) s = mx.add(s, r.mask);
      const got = mx.matmul(mx.softmax(s, -1, true), r.values);
      const window = mx.concatenate(all.slice(Math.max(0, t - context + 1)), 2);
      const want = mx.matmul(mx.softmax(mx.matmul(q, mx.swapaxes(window, -1, -2)), -1, true), window);
      evaluate(got, want);
      expect(mx.max(mx.abs(mx.subtract(got, want))).item()).toBeLessThan(1e-6);
    }
    expect(cache.length).toBe(13);
  });
});

describe('long sessions', () => {
  it('keep native memory flat over 120 steps (10 s of audio) when the loop releases it', async () => {
    const { lm } = loadLm(loadLmConfig(LM_CONFIG), LM_MLX);
    const gen = new LmGen(lm, { seed: 5 });
    const user = ints(goldens(['step_input_codes']).get('step_input_codes')!);
    const rss: number[] = [];
    for (let t = 0; t < 120; t++) {
      gen.step(user.slice(8 * (t % 40), 8 * (t % 40) + 8));
      await releaseNativeMemory();
      if (t === 40 || t === 119) rss.push(process.memoryUsage().rss);
    }
    // After warm-up, growth stays within allocator noise (a leak of one step's arrays would be MBs).
    expect(rss[1]! - rss[0]!).toBeLessThan(24 * 2 ** 20);
  });
});
