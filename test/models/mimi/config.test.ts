// Mimi configs in upstream's get_mimi dict layout: the derived numbers, and options this
// implementation does not run refused by name rather than silently ignored.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMimiConfig, MimiError, mimiConfigFromJson } from '../../../src/models/mimi/index.ts';
import { REF, REPO_ROOT } from './fixtures.ts';

const raw = JSON.parse(readFileSync(REF.config, 'utf8')) as Record<string, Record<string, unknown>>;
const withKey = (section: string | null, key: string, value: unknown) =>
  section === null ? { ...raw, [key]: value } : { ...raw, [section]: { ...raw[section], [key]: value } };

function configError(json: unknown): MimiError {
  try {
    mimiConfigFromJson(json);
  } catch (err) {
    expect(err).toBeInstanceOf(MimiError);
    expect((err as MimiError).code).toBe('MIMI_ERR_CONFIG');
    return err as MimiError;
  }
  throw new Error('config was accepted');
}

describe('Mimi config', () => {
  it('reads the real mimi_202407 values: 1920-sample frames, 960 hop, 8 of 32 codebooks, context 250', () => {
    const c = loadMimiConfig(join(REPO_ROOT, 'configs', 'mimi_202407.json'));
    expect(c).toMatchObject({ sampleRate: 24000, frameRate: 12.5, frameSize: 1920, hopLength: 960, resampleStride: 2, numCodebooks: 8 });
    expect(c.seanet).toMatchObject({ nFilters: 64, dimension: 512, ratios: [8, 6, 5, 4], padMode: 'constant', eluAlpha: 1 });
    expect(c.transformer).toMatchObject({ dModel: 512, numHeads: 8, numLayers: 8, dimFeedforward: 2048, context: 250, layerScale: true });
    expect(c.quantizer).toMatchObject({ nQ: 32, nQSemantic: 1, bins: 2048, dimension: 256 });
  });

  it('reads the reference tiny config', () => {
    const c = loadMimiConfig(REF.config);
    expect(c).toMatchObject({ frameSize: 1920, numCodebooks: 8 });
    expect(c.transformer.context).toBe(40);
  });

  it.each([
    ['seanet', 'norm', 'weight_norm', /seanet\.norm = "weight_norm" is not supported/],
    ['seanet', 'causal', false, /seanet\.causal/],
    ['seanet', 'pad_mode', 'reflect', /seanet\.pad_mode = "reflect"/],
    ['seanet', 'true_skip', false, /seanet\.true_skip/],
    ['transformer', 'gating', 'silu', /transformer\.gating/],
    ['transformer', 'positional_embedding', 'sin', /transformer\.positional_embedding/],
    ['transformer', 'context', null, /transformer\.context must be an integer/],
    ['transformer', 'd_model', 64, /d_model 64 differs from seanet\.dimension 32/],
    ['quantizer', 'input_dimension', 64, /input\/output_dimension/],
    ['seanet', 'bogus_option', 1, /unknown key seanet\.bogus_option/],
  ])('refuses %s.%s = %j, naming it', (section, key, value, message) => {
    expect(configError(withKey(section, key, value)).message).toMatch(message);
  });

  it('refuses num_codebooks beyond the stored quantizers', () => {
    expect(configError(withKey(null, 'num_codebooks', 9)).message).toMatch(/num_codebooks 9 must be in \[1, 8\]/);
  });

  it('refuses a frame that is not a whole number of SEANet hops', () => {
    expect(configError(withKey(null, 'frame_rate', 25)).message).toMatch(/multiple \(≥ 2×\) of the SEANet hop 960/);
  });

  it('ignores training-only quantizer options', () => {
    expect(mimiConfigFromJson(withKey('quantizer', 'decay', 0.99)).quantizer.bins).toBe(64);
  });

  it('reports an unreadable or malformed file with its path', () => {
    expect(() => loadMimiConfig('/nonexistent/mimi.json')).toThrow(/mimi config \/nonexistent\/mimi.json: cannot read \(ENOENT\)/);
    expect(() => loadMimiConfig(REF.weights)).toThrow(expect.objectContaining({ code: 'MIMI_ERR_CONFIG' }));
  });
});
