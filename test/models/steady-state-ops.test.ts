// A steady-state step runs as compiled graphs: each eager binding call costs 10–35 µs in
// this binding (1–3 µs inside a graph), so a path that silently falls back to eager (a
// retrace, a broken fused-graph condition) costs milliseconds per step. These count the
// eager calls a step makes (test/models/op-count.ts); bounds derive from the same frame run
// uncompiled, or from the model's config.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensurePreset, TINY } from '../../src/engine/models.ts';
import type { ModelSpec } from '../../src/engine/model-spec.ts';
import { loadLm, loadLmConfig, LmGen } from '../../src/models/lm/index.ts';
import { loadMimiConfig, Mimi } from '../../src/models/mimi/index.ts';
import { compileAvailable } from '../../src/models/nn/compile.ts';
import { countOps, total } from './op-count.ts';

let spec: ModelSpec;

beforeAll(() => {
  spec = ensurePreset(TINY);
});

const frame = Float32Array.from({ length: 1920 }, (_, i) => 0.1 * Math.sin(i / 9) + 0.05 * Math.sin(i / 2.3));

/** Eager binding calls of one encode + decode frame after `warm` frames. */
function mimiCalls(mimi: Mimi, warm: number): { encode: number; decode: number } {
  for (let i = 0; i < warm; i++) mimi.decodeStep(mimi.encodeStep(frame));
  let codes: Int32Array | null = null;
  const encode = total(countOps(() => { codes = mimi.encodeStep(frame); }).counts);
  const decode = total(countOps(() => mimi.decodeStep(codes!)).counts);
  return { encode, decode };
}

describe('steady-state steps stay compiled', () => {
  it('a Mimi frame each way makes under a tenth of the binding calls of the same frame uncompiled', () => {
    const cfg = loadMimiConfig(spec.mimiConfig);
    const compiledMimi = new Mimi(cfg);
    compiledMimi.loadWeights(spec.mimiWeights);
    const eagerMimi = new Mimi(cfg, { compile: false });
    eagerMimi.loadWeights(spec.mimiWeights);
    const got = mimiCalls(compiledMimi, 3);
    const eager = mimiCalls(eagerMimi, 3);
    if (!compileAvailable()) {
      // Without a compiler (no g++) both run eagerly: nothing to compare.
      expect(got).toEqual(eager);
      return;
    }
    expect(got.encode).toBeLessThan(eager.encode / 10);
    expect(got.decode).toBeLessThan(eager.decode / 10);
  });

  it('an LM step makes a bounded number of eager calls: cache writes, draw keys and a fixed few', () => {
    const cfg = loadLmConfig(spec.lmConfig);
    const { lm } = loadLm(cfg, spec.lmWeights);
    const gen = new LmGen(lm, { seed: 3 });
    const codes = Int32Array.from({ length: gen.userCodebooks }, (_, q) => (17 * q + 5) % cfg.card);
    for (let i = 0; i < 5; i++) gen.step(codes);
    const calls = total(countOps(() => gen.step(codes)).counts);
    // Two cache writes per temporal layer, one key per draw (text + dep_q audio), and at
    // most 4 others (the cache mask while the cache fills is 2; the NaN probe is in-graph).
    const bound = 2 * cfg.temporal.numLayers + (cfg.depQ + 1) + 4;
    if (compileAvailable()) expect(calls).toBeLessThanOrEqual(bound);
    else expect(calls).toBeGreaterThan(bound);
  });
});
