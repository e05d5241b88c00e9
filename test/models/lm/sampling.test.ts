// Seeded sampling: keys depend only on (seed, step, stream); the same seed gives the same
// tokens in separate processes; top-k draws only top-k ids, distributed as softmax.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { mx } from '../../../src/models/mlx.ts';
import { DEFAULT_AUDIO_SAMPLING, DEFAULT_TEXT_SAMPLING, drawKey, keySeed, Sampler, sampleToken } from '../../../src/models/lm/sampling.ts';

const script = fileURLToPath(new URL('./run-seeded.ts', import.meta.url));

function session(seed: number, steps: number): { frames: (number[] | null)[] } {
  const r = spawnSync(process.execPath, [script, String(seed), String(steps)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { frames: (number[] | null)[] };
}

describe('seeded sampling', () => {
  it('uses the PyTorch server defaults: text 0.7/25, audio 0.8/250', () => {
    expect(DEFAULT_TEXT_SAMPLING).toEqual({ temperature: 0.7, topK: 25 });
    expect(DEFAULT_AUDIO_SAMPLING).toEqual({ temperature: 0.8, topK: 250 });
    const s = new Sampler(1);
    expect([s.text, s.audio]).toEqual([DEFAULT_TEXT_SAMPLING, DEFAULT_AUDIO_SAMPLING]);
  });

  it('derives keys from (seed, step, stream) alone: distinct triples, same triple same key', () => {
    const seen = new Set<number>();
    for (let step = 0; step < 50; step++) for (let stream = 0; stream < 17; stream++) seen.add(keySeed(42, step, stream));
    expect(seen.size).toBe(50 * 17);
    expect(keySeed(42, 7, 3)).toBe(keySeed(42, 7, 3));
    expect(keySeed(42, 7, 3)).not.toBe(keySeed(43, 7, 3));
    expect(keySeed(0, 1, 0)).not.toBe(keySeed(0, 0, 1));
    expect(drawKey(42, 7, 3).tolist()).toEqual(drawKey(42, 7, 3).tolist());
  });

  it('draws the same token at step k whatever was drawn before (a replay can start anywhere)', () => {
    const logits = mx.random.normal([1, 300], mx.float32, 0, 2, mx.random.key(3));
    const fresh = new Sampler(99);
    const late = fresh.sampleAudio(logits, 17, 4).item();
    const busy = new Sampler(99);
    for (let k = 0; k < 17; k++) busy.sampleAudio(logits, k, 4).item();
    mx.random.seed(12345); // the global RNG plays no part
    expect(busy.sampleAudio(logits, 17, 4).item()).toBe(late);
  });

  it('is greedy at temperature 0: argmax, first index on ties', () => {
    const logits = mx.array([[1, 5, 2, 5, 0], [3, 3, 3, 3, 3]]);
    expect(sampleToken(logits, { temperature: 0, topK: 25 }, drawKey(0, 0, 0)).tolist()).toEqual([1, 0]);
  });

  it('gives identical tokens for the same seed in two separate processes, different tokens for another seed', () => {
    const a = session(2024, 14);
    const b = session(2024, 14);
    const c = session(2025, 14);
    expect(a.frames[0]).toBeNull();
    expect(a.frames.slice(1).every((f) => Array.isArray(f) && f.length === 9)).toBe(true);
    expect(b.frames).toEqual(a.frames);
    expect(c.frames).not.toEqual(a.frames);
  });

  it('top-k only returns top-k ids, with the softmax distribution among them (chi-square)', () => {
    // 40 ids, top-10 at temperature 0.8: 4000 draws (one key, 4000 independent rows).
    const V = 40;
    const k = 10;
    const temp = 0.8;
    const base = Array.from({ length: V }, (_, i) => Math.sin(i * 2.3) * 2);
    const N = 4000;
    const logits = mx.broadcastTo(mx.array([base]), [N, V]);
    const draws = sampleToken(logits, { temperature: temp, topK: k }, drawKey(7, 0, 0)).tolist() as number[];
    const top = [...base.keys()].sort((x, y) => base[y]! - base[x]!).slice(0, k);
    const topSet = new Set(top);
    expect(draws.every((d) => topSet.has(d))).toBe(true);
    const w = top.map((i) => Math.exp(base[i]! / temp));
    const z = w.reduce((a, b) => a + b, 0);
    const counts = new Map<number, number>();
    for (const d of draws) counts.set(d, (counts.get(d) ?? 0) + 1);
    let chi2 = 0;
    top.forEach((id, j) => {
      const e = (N * w[j]!) / z;
      chi2 += (((counts.get(id) ?? 0) - e) ** 2) / e;
    });
    // 9 degrees of freedom: P(χ² > 27.88) = 0.001.
    expect(chi2).toBeLessThan(27.88);
    // Draws from another step differ (the key changes), yet stay in the top-k.
    const other = sampleToken(logits, { temperature: temp, topK: k }, drawKey(7, 1, 0)).tolist() as number[];
    expect(other).not.toEqual(draws);
    expect(other.every((d) => topSet.has(d))).toBe(true);
  });

  it('without top-k samples the full softmax (chi-square)', () => {
    const V = 8;
    const base = [0, 1, 2, 0.5, -1, 1.5, 0.2, 0.8];
    const N = 4000;
    const draws = sampleToken(mx.broadcastTo(mx.array([base]), [N, V]), { temperature: 1, topK: 0 }, drawKey(11, 0, 0)).tolist() as number[];
    const z = base.reduce((a, b) => a + Math.exp(b), 0);
    let chi2 = 0;
    for (let i = 0; i < V; i++) {
      const e = (N * Math.exp(base[i]!)) / z;
      chi2 += ((draws.filter((d) => d === i).length - e) ** 2) / e;
    }
    expect(chi2).toBeLessThan(24.32); // 7 dof, p = 0.001
  });
});
