import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLm, loadLmConfig } from '../../../src/models/lm/index.ts';
import { loadMimiConfig, Mimi } from '../../../src/models/mimi/index.ts';
import { readSafetensorsHeader } from '../../../src/models/safetensors.ts';
import { checkSynthRequest, writeSynthModel } from '../../../src/models/synth/model.ts';
import { synthLmTensors, synthMimiTensors } from '../../../src/models/synth/weights.ts';

const REF = new URL('../../../../shared/fixtures/reference/', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;

function layout(path: string): Record<string, readonly number[]> {
  return Object.fromEntries([...readSafetensorsHeader(path).tensors].map(([k, t]) => [k, t.shape]));
}
function shapes(t: Record<string, { shape: readonly number[] }>): Record<string, readonly number[]> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.shape]));
}

describe('synthetic weights use the real checkpoint layouts', () => {
  it('the LM, for the reference config, has exactly the keys and shapes of moshi_mlx model.safetensors', () => {
    expect(shapes(synthLmTensors(loadLmConfig(join(REF, 'lm_config.json')), 7))).toEqual(layout(join(REF, 'lm.mlx.safetensors')));
  });

  it('Mimi, for the reference config, has exactly the keys and shapes of the PyTorch tokenizer checkpoint', () => {
    expect(shapes(synthMimiTensors(loadMimiConfig(join(REF, 'mimi_config.json')), 7))).toEqual(layout(join(REF, 'mimi.safetensors')));
  });
});

describe('a synthesized tiny model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'solacelive-synth-'));
  const tiny = { name: 'tiny', lmConfig: join(ROOT, 'configs/tiny.json'), mimiConfig: join(ROOT, 'configs/mimi_tiny.json') };
  writeSynthModel({ ...tiny, seed: 11, outDir: join(dir, 'a') });

  it('loads through the production loaders and runs a codec step', () => {
    const lm = loadLm(loadLmConfig(tiny.lmConfig), join(dir, 'a', 'model.safetensors'));
    expect(lm.layout).toBe('moshi_mlx');
    const mimi = new Mimi(loadMimiConfig(tiny.mimiConfig));
    mimi.loadWeights(join(dir, 'a', 'mimi.safetensors'));
    const codes = mimi.encodeStep(new Float32Array(1920).fill(0.1));
    expect(codes.length).toBe(8);
    expect(mimi.decodeStep(codes).length).toBe(1920);
  });

  it('is the same bytes for the same seed and different for another seed', () => {
    writeSynthModel({ ...tiny, seed: 11, outDir: join(dir, 'b') });
    writeSynthModel({ ...tiny, seed: 12, outDir: join(dir, 'c') });
    for (const f of ['model.safetensors', 'mimi.safetensors']) {
      expect(readFileSync(join(dir, 'b', f)).equals(readFileSync(join(dir, 'a', f)))).toBe(true);
      expect(readFileSync(join(dir, 'c', f)).equals(readFileSync(join(dir, 'a', f)))).toBe(false);
    }
  });

  it('says it is untrained, in model.json and on the command line', () => {
    expect(JSON.parse(readFileSync(join(dir, 'a', 'model.json'), 'utf8')).untrained).toBe(true);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/solacelive.mjs'), 'weights', 'synth', '--config', 'tiny', '--seed', '3', '--out', join(dir, 'cli')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('UNTRAINED');
    expect(JSON.parse(readFileSync(join(dir, 'cli', 'model.json'), 'utf8'))).toMatchObject({ name: 'tiny', seed: 3, untrained: true });
  });
});

describe('synthesis requests it cannot serve', () => {
  const cfg = (f: string) => join(ROOT, 'configs', f);
  it('refuses weights larger than half the memory before making any (7B: ~31 GB of float32), and 32-bit seeds only', () => {
    const lm7b = loadLmConfig(cfg('moshi_7b_202409.json'));
    const mimi = loadMimiConfig(cfg('mimi_202407.json'));
    let err: unknown;
    try {
      checkSynthRequest(lm7b, mimi, 0, 16e9);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'WEIGHTS_ERR_SIZE' });
    expect((err as Error).message).toMatch(/would be 3\d\.\d GB of float32, more than half this machine's 16\.0 GB/);
    const tiny = checkSynthRequest(loadLmConfig(cfg('tiny.json')), loadMimiConfig(cfg('mimi_tiny.json')), 0xffffffff, 16e9);
    expect(tiny).toBeLessThan(100e6);
    for (const seed of [-1, 2 ** 32, 1.5]) expect(() => checkSynthRequest(loadLmConfig(cfg('tiny.json')), loadMimiConfig(cfg('mimi_tiny.json')), seed, 16e9)).toThrow(/seed must be an integer in 0\.\.4294967295/);
    const bin = join(ROOT, 'bin', 'solacelive.mjs');
    const out = mkdtempSync(join(tmpdir(), 'synth-seed-'));
    for (const seed of ['--seed=-1', '--seed=4294967296']) {
      const r = spawnSync(process.execPath, [bin, 'weights', 'synth', '--config', 'tiny', seed, '--out', out], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--seed must be in 0\.\.4294967295/);
    }
  });
});
