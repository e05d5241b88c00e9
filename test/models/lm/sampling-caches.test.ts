// Sampling parameters are client input: every cache they key (compiled samplers, compiled
// depformer frames, temperature arrays) must stay bounded however many values a client
// tries, and a parameter set evicted and rebuilt must still draw the same tokens.
import { describe, expect, it } from 'vitest';
import { loadLmConfig } from '../../../src/models/lm/config.ts';
import { LmGen, releaseNativeMemory } from '../../../src/models/lm/generate.ts';
import { SAMPLING_CACHE_SIZE, Sampler, SamplingError } from '../../../src/models/lm/sampling.ts';
import { loadLm } from '../../../src/models/lm/weights.ts';
import { LruCache } from '../../../src/models/nn/lru.ts';
import { goldens, ints, LM_CONFIG, LM_MLX } from './helpers.ts';

describe('LruCache', () => {
  it('keeps at most `capacity` entries and forgets the least recently used', () => {
    const c = new LruCache<number, string>(3);
    for (const k of [1, 2, 3]) c.getOrCreate(k, () => `v${k}`);
    c.getOrCreate(1, () => 'again'); // 1 is now the most recent
    c.getOrCreate(4, () => 'v4');
    expect(c.keys()).toEqual([3, 1, 4]);
    expect(c.getOrCreate(1, () => 'rebuilt')).toBe('v1');
    expect(c.getOrCreate(2, () => 'rebuilt')).toBe('rebuilt');
    expect(c.size).toBe(3);
  });
});

describe('client-keyed sampling caches', () => {
  it('stay bounded over 60 distinct top-k and temperature values, and an evicted kind draws the same tokens when rebuilt', async () => {
    const { lm } = loadLm(loadLmConfig(LM_CONFIG), LM_MLX);
    const user = ints(goldens(['step_input_codes']).get('step_input_codes')!);
    const userQ = lm.cfg.nQ - lm.cfg.depQ;
    const run = (topK: number, temperature: number): number[][] => {
      const gen = new LmGen(lm, { seed: 11, text: { temperature, topK }, audio: { temperature, topK: topK + 1 } });
      const out: number[][] = [];
      for (let t = 0; t < 3; t++) {
        const r = gen.step(user.slice(t * userQ, (t + 1) * userQ));
        if (r) out.push([r.text, ...r.audio]);
      }
      return out;
    };
    const first = run(3, 0.65);
    const sizes: number[] = [];
    for (let i = 0; i < 60; i++) {
      run(4 + i, 0.5 + i / 97);
      const s = lm.samplingCacheSizes();
      sizes.push(Math.max(s.temperatures, s.samplers, s.depformerFrames));
      await releaseNativeMemory();
    }
    // Bounded well below the 60 kinds tried (an unbounded cache would hold them all).
    expect(SAMPLING_CACHE_SIZE).toBeLessThan(20);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SAMPLING_CACHE_SIZE);
    expect(run(3, 0.65)).toEqual(first);
  }, 240_000);

  it('refuses out-of-range sampling parameters with a typed error naming the stream', () => {
    const bad = [
      [{ temperature: Infinity, topK: 5 }, /text temperature/],
      [{ temperature: NaN, topK: 5 }, /text temperature/],
      [{ temperature: 1e9, topK: 5 }, /text temperature/],
      [{ temperature: 0.7, topK: 2.5 }, /text top-k/],
      [{ temperature: 0.7, topK: -1 }, /text top-k/],
    ] as const;
    for (const [p, msg] of bad) {
      let err: unknown;
      try {
        new Sampler(1, p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SamplingError);
      expect((err as SamplingError).code).toBe('LM_ERR_SAMPLING');
      expect((err as Error).message).toMatch(msg);
    }
  });
});
