// Kyutai config.json → LmConfig: the shipped 7B/2B configs give upstream's derived sizes,
// upstream defaults fill missing keys, and bad values are refused with the key named.
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gatedHidden, lmConfigFromJson, loadLmConfig, maxDelay } from '../../../src/models/lm/config.ts';
import { expectedShapes } from '../../../src/models/lm/weights.ts';
import { LM_CONFIG } from './helpers.ts';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));

describe('LM config', () => {
  it('moshi_7b_202409 (moshiko/moshika): FFN 11264, depformer FFN 2816, 8 weight sets, 7.69 B parameters', () => {
    const c = loadLmConfig(`${configs}moshi_7b_202409.json`);
    expect(c.temporal).toMatchObject({ dim: 4096, numHeads: 32, numLayers: 32, hidden: 11264, norm: 'rms_norm_f32', positionalEmbedding: 'rope', context: 3000, maxPeriod: 10000 });
    expect(c.depformer).toMatchObject({ dim: 1024, numHeads: 16, numLayers: 6, hidden: 2816, positionalEmbedding: 'none', context: null, weightSets: 8 });
    expect([c.nQ, c.depQ, c.card, c.textCard, maxDelay(c), c.depformerInputs]).toEqual([16, 8, 2048, 32000, 1, 8]);
    let params = 0;
    for (const s of expectedShapes(c).values()) params += s.reduce((a, b) => a * b, 1);
    // Reference doc: 7 687 729 152 parameters, counting the shared depformer norms once
    // (here they are per weight set: 6 layers × 2 norms × 7 extra copies × 1024).
    expect(params - 6 * 2 * 7 * 1024).toBe(7_687_729_152);
  });

  it('moshi_mlx_2b: 16 generated codebooks, acoustic delay 2, conditioners reported as not run', () => {
    const c = loadLmConfig(`${configs}moshi_mlx_2b.json`);
    expect(c.temporal).toMatchObject({ dim: 2560, numHeads: 20, numLayers: 24, hidden: 7040, maxPeriod: 100000 });
    expect([c.nQ, c.depQ, c.textCard, maxDelay(c), c.depformer.weightSets]).toEqual([32, 16, 48000, 2, 16]);
    expect(c.ignored).toEqual(['conditioners', 'fuser']);
  });

  it('reads the reference tiny config', () => {
    const c = loadLmConfig(LM_CONFIG);
    expect(c.temporal.hidden).toBe(88);
    expect(c.depformer.hidden).toBe(88);
  });

  it('uses upstream ActivationGating sizes, including the 21/8 case', () => {
    expect(gatedHidden(4096, 16896)).toBe(11264);
    expect(gatedHidden(1024, 4224)).toBe(2816);
    expect(gatedHidden(64, 256)).toBe(168);
  });

  it('names the bad key', () => {
    expect(() => lmConfigFromJson({ n_q: 2, dep_q: 1, delays: [0, 0] })).toThrow(/"delays" has 2 entries, expected n_q \+ 1 = 3/);
    const tiny = JSON.parse(readFileSync(LM_CONFIG, 'utf8')) as Record<string, unknown>;
    expect(() => lmConfigFromJson({ ...tiny, norm: 'batch_norm' })).toThrow(/"norm" is "batch_norm"/);
    expect(() => lmConfigFromJson({ ...tiny, dim: 'big' })).toThrow(/"dim" must be a number/);
    expect(() => lmConfigFromJson({ ...tiny, depformer_weights_per_step_schedule: [0, 1] })).toThrow(/schedule has 2 entries, expected dep_q = 8/);
    expect(() => loadLmConfig('/nonexistent/config.json')).toThrow(/cannot read LM config/);
  });
});
