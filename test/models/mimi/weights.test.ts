// Loading Mimi from the PyTorch checkpoint layout: the expected key list, extra stored
// codebooks, and checkpoints that do not fit the config, each refused with the keys named.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedCheckpointKeys, loadMimiConfig, Mimi, MimiError, mimiConfigFromJson } from '../../../src/models/mimi/index.ts';
import { readSafetensorsHeader, readTensors, WeightsError, writeSafetensors, type TensorToWrite } from '../../../src/models/safetensors.ts';
import { FRAME, goldenCodes, goldenF32, REF, REPO_ROOT, tinyConfig } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'mimi-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const referenceTensors = readTensors(REF.weights);
const rawConfig = JSON.parse(readFileSync(REF.config, 'utf8')) as Record<string, Record<string, unknown>>;

/** Writes the reference weights with some tensors changed (null = removed). */
function variant(name: string, edit: Record<string, TensorToWrite | null>): string {
  const out: Record<string, TensorToWrite> = {};
  for (const [k, t] of referenceTensors) if (!(k in edit)) out[k] = t;
  for (const [k, t] of Object.entries(edit)) if (t) out[k] = t;
  const path = join(dir, name);
  writeSafetensors(path, out);
  return path;
}

function configWith(section: string, patch: Record<string, unknown>) {
  return mimiConfigFromJson({ ...rawConfig, [section]: { ...rawConfig[section], ...patch } });
}

function loadError(path: string, cfg = tinyConfig()): WeightsError {
  const mimi = new Mimi(cfg, { compile: false });
  try {
    mimi.loadWeights(path);
  } catch (err) {
    expect(err).toBeInstanceOf(WeightsError);
    expect(mimi.hasWeights).toBe(false);
    return err as WeightsError;
  }
  throw new Error('loadWeights did not throw');
}

describe('checkpoint layout', () => {
  it('expects exactly the keys and shapes of the reference checkpoint for the tiny config', () => {
    const header = readSafetensorsHeader(REF.weights);
    const expected = expectedCheckpointKeys(tinyConfig());
    expect(new Set(expected.keys())).toEqual(new Set(header.tensors.keys()));
    for (const [k, { shape }] of expected) expect(header.tensors.get(k)!.shape, k).toEqual(shape);
  });

  it('expects the 318 tensors and 96,151,393 parameters of the real checkpoint for configs/mimi_202407.json', () => {
    const expected = expectedCheckpointKeys(loadMimiConfig(join(REPO_ROOT, 'configs', 'mimi_202407.json')));
    expect(expected.size).toBe(318);
    expect([...expected.values()].reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0)).toBe(96_151_393);
    expect(expected.get('quantizer.rvq_rest.vq.layers.30._codebook.embedding_sum')!.shape).toEqual([2048, 256]);
    expect(expected.get('decoder.model.2.convtr.convtr.weight')!.shape).toEqual([1024, 512, 16]);
    expect(expected.get('upsample.convtr.convtr.convtr.weight')!.shape).toEqual([512, 1, 4]);
  });
});

describe('loading', () => {
  it('loads a file that stores more codebooks than the config uses, and codes with the first ones', () => {
    // 8 stored, 4 used: RVQ levels are sequential, so the codes are the first 4 rows.
    const mimi = new Mimi(mimiConfigFromJson({ ...rawConfig, num_codebooks: 4 }), { compile: false });
    mimi.loadWeights(REF.weights);
    const pcm = goldenF32('input_pcm');
    const want = goldenCodes('codes_stream').slice(0, 4);
    for (let t = 0; t < 3; t++) {
      expect(Array.from(mimi.encodeStep(pcm.subarray(t * FRAME, (t + 1) * FRAME)))).toEqual(want.map((r) => r[t]));
    }
  });

  it('refuses a checkpoint missing a tensor, naming it', () => {
    const err = loadError(variant('missing.safetensors', { 'decoder_transformer.transformer.layers.1.norm2.bias': null }));
    expect(err.code).toBe('WEIGHTS_ERR_KEYS');
    expect(err.message).toMatch(/missing \(1\): decoder_transformer\.transformer\.layers\.1\.norm2\.bias/);
  });

  it('refuses a checkpoint with an unexpected tensor, naming it', () => {
    const err = loadError(variant('extra.safetensors', { 'encoder.model.15.conv.conv.weight': { dtype: 'F32', shape: [2], data: new Float32Array(2) } }));
    expect(err.code).toBe('WEIGHTS_ERR_KEYS');
    expect(err.message).toMatch(/unexpected \(1\): encoder\.model\.15\.conv\.conv\.weight/);
  });

  it('refuses a mis-shaped tensor, naming it with both shapes', () => {
    const err = loadError(variant('misshaped.safetensors', { 'upsample.convtr.convtr.convtr.weight': { dtype: 'F32', shape: [32, 2, 4], data: new Float32Array(256) } }));
    expect(err.message).toContain('upsample.convtr.convtr.convtr.weight [32,2,4] (expected [32,1,4])');
  });

  it('refuses weights that disagree with the config (n_filters 8 vs a checkpoint built with 4)', () => {
    const err = loadError(REF.weights, configWith('seanet', { n_filters: 8 }));
    expect(err.code).toBe('WEIGHTS_ERR_KEYS');
    expect(err.message).toContain('encoder.model.0.conv.conv.weight [4,1,7] (expected [8,1,7])');
  });

  it('refuses a config that stores more codebooks than the file holds, naming the missing ones', () => {
    const err = loadError(REF.weights, configWith('quantizer', { n_q: 9 }));
    expect(err.message).toContain('quantizer.rvq_rest.vq.layers.7._codebook.embedding_sum');
  });

  it('refuses the real-size config with the tiny checkpoint', () => {
    const err = loadError(REF.weights, loadMimiConfig(join(REPO_ROOT, 'configs', 'mimi_202407.json')));
    expect(err.code).toBe('WEIGHTS_ERR_KEYS');
    expect(err.message).toMatch(/missing \(\d+\).*mis-shaped/);
  });

  it('refuses a truncated file (an interrupted download) instead of reading zeros', () => {
    const path = join(dir, 'truncated.safetensors');
    const bytes = readFileSync(REF.weights);
    writeFileSync(path, bytes.subarray(0, bytes.length - 1000));
    const err = loadError(path);
    expect(err.code).toBe('WEIGHTS_ERR_TRUNCATED');
    expect(err.message).toContain(path);
  });

  it('refuses a file whose header is not JSON', () => {
    const path = join(dir, 'corrupt.safetensors');
    const bytes = Buffer.from(readFileSync(REF.weights));
    bytes.write('#garbage#', 8);
    writeFileSync(path, bytes);
    expect(loadError(path).code).toBe('WEIGHTS_ERR_HEADER');
  });

  it('refuses a file that is not there', () => {
    expect(loadError(join(dir, 'nope.safetensors')).code).toBe('WEIGHTS_ERR_NOT_FOUND');
  });

  it('keeps a model without weights unusable, with a typed error', () => {
    const mimi = new Mimi(tinyConfig());
    expect(() => mimi.encodeStep(new Float32Array(FRAME))).toThrow(expect.objectContaining({ code: 'MIMI_ERR_NO_WEIGHTS' }));
    expect(() => mimi.decodeStep([0, 0, 0, 0, 0, 0, 0, 0])).toThrow(MimiError);
    expect(() => mimi.encode(new Float32Array(FRAME))).toThrow(/no weights loaded/);
  });
});
