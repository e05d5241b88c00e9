// Configs and safetensors headers are validated before anything is built: what was once a
// raw exception (an array __metadata__ reaching MLX's JSON reader, context 0 reaching a
// null cache, num_layers 1e6 building key maps for 31 s) is a typed error naming the
// field, and fast-check mutations of real headers and configs only ever give typed errors.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIGS_DIR } from '../../src/engine/models.ts';
import { lmConfigFromJson } from '../../src/models/lm/config.ts';
import { expectedShapes } from '../../src/models/lm/weights.ts';
import { expectedCheckpointKeys, mimiConfigFromJson } from '../../src/models/mimi/index.ts';
import { readSafetensorsHeader, writeSafetensors } from '../../src/models/safetensors.ts';
import { loadSafetensors } from '../../src/models/weights.ts';
import { propParams } from '../props.ts';

const dir = mkdtempSync(join(tmpdir(), 'validation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TYPED = /^(WEIGHTS|LM|MIMI)_ERR_[A-Z_]+$/;
function typedError(fn: () => unknown): { code: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !TYPED.test(code)) throw err; // a raw exception fails the property
    return { code, message: (err as Error).message };
  }
}

/** A safetensors file with the given header object and data bytes. */
function rawFile(name: string, header: unknown, data: Uint8Array): string {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  out.set(data, 8 + json.length);
  const p = join(dir, name);
  writeFileSync(p, out);
  return p;
}

const base = join(dir, 'base.safetensors');
writeSafetensors(base, {
  'a.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
  'a.bias': { dtype: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0x4000) },
  'b.weight': { dtype: 'F16', shape: [1], data: Uint16Array.of(0x3c00) },
}, { format: 'pt' });
const baseBytes = readFileSync(base);
const baseHeaderLen = Number(baseBytes.readBigUInt64LE(0));
const baseHeader = JSON.parse(baseBytes.subarray(8, 8 + baseHeaderLen).toString('utf8')) as Record<string, Record<string, unknown>>;
const baseData = baseBytes.subarray(8 + baseHeaderLen);

describe('safetensors headers', () => {
  it('refuse an array or non-string __metadata__, entries of the wrong type, gaps, huge shapes and invalid UTF-8 with WEIGHTS_ERR_*', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...baseHeader, __metadata__: ['x'] }, /__metadata__ must be an object of strings \(got an array\)/],
      [{ ...baseHeader, __metadata__: { format: 1 } }, /__metadata__\.format must be a string/],
      [{ ...baseHeader, 'a.weight': 'F32' }, /tensor a\.weight: entry must be an object/],
      [{ ...baseHeader, 'a.weight': { ...baseHeader['a.weight'], dtype: 'toString' } }, /tensor a\.weight: unknown dtype "toString"/],
      [{ ...baseHeader, 'a.weight': { ...baseHeader['a.weight'], shape: [2 ** 40, 2 ** 40] } }, /tensor a\.weight: shape .* implausibly large/],
    ];
    for (const [h, msg] of cases) {
      const e = typedError(() => readSafetensorsHeader(rawFile('case.safetensors', h, baseData)));
      expect(e?.code).toBe('WEIGHTS_ERR_HEADER');
      expect(e?.message).toMatch(msg);
    }
    // A gap between tensors (the format requires them to tile the data section).
    const entries = Object.entries(baseHeader).filter(([k]) => k !== '__metadata__') as [string, { data_offsets: [number, number] }][];
    const shifted = Object.fromEntries(entries.map(([k, v]) => [k, { ...v, data_offsets: [v.data_offsets[0] + 2, v.data_offsets[1] + 2] }]));
    const gap = typedError(() => readSafetensorsHeader(rawFile('gap.safetensors', shifted, Buffer.concat([Buffer.alloc(2), baseData]))));
    expect(gap).toMatchObject({ code: 'WEIGHTS_ERR_LAYOUT' });
    expect(gap!.message).toMatch(/leaving 2 unused bytes before it/);
    // Invalid UTF-8 inside the header JSON.
    const bytes = Buffer.from(baseBytes);
    bytes[8 + baseHeaderLen - 3] = 0xff;
    writeFileSync(join(dir, 'utf8.safetensors'), bytes);
    expect(typedError(() => readSafetensorsHeader(join(dir, 'utf8.safetensors')))).toMatchObject({ code: 'WEIGHTS_ERR_HEADER' });
  });

  it('property: any mutation of a real header gives a header that loads or a typed error, never a raw exception or an abort', () => {
    const keys = Object.keys(baseHeader);
    const field = fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra');
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('F32', 'BF16', 'F16', 'I32', 'U32', 'F64', 'BOOL', [0, 0], [1, 2], [2, 3], [0, 24], [24, 28], [2]), fc.integer({ min: -3, max: 40 }));
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...keys, '__metadata__', 'z'), field, value), { minLength: 1, maxLength: 3 }), (edits) => {
      const h = structuredClone(baseHeader) as Record<string, unknown>;
      for (const [k, f, v] of edits) {
        if (f === 'extra' || !(k in h) || h[k] === null || typeof h[k] !== 'object' || Array.isArray(h[k])) h[k] = v;
        else (h[k] as Record<string, unknown>)[f] = v;
      }
      typedError(() => loadSafetensors(rawFile('prop.safetensors', h, baseData)));
    }), propParams());
  });
});

const lmJson = JSON.parse(readFileSync(join(CONFIGS_DIR, 'tiny.json'), 'utf8')) as Record<string, unknown>;
const mimiJson = JSON.parse(readFileSync(join(CONFIGS_DIR, 'mimi_tiny.json'), 'utf8')) as Record<string, Record<string, unknown>>;

describe('configs', () => {
  it('refuse sizes out of range, naming the field, before building anything', () => {
    const t0 = performance.now();
    const layers = typedError(() => mimiConfigFromJson({ ...mimiJson, transformer: { ...mimiJson.transformer, num_layers: 1e6 } }));
    expect(layers).toMatchObject({ code: 'MIMI_ERR_CONFIG' });
    expect(layers!.message).toMatch(/transformer\.num_layers must be an integer in 1\.\.1024 \(got 1000000\)/);
    expect(performance.now() - t0).toBeLessThan(1000);
    const lm = (patch: Record<string, unknown>) => typedError(() => lmConfigFromJson({ ...lmJson, ...patch }));
    expect(lm({ context: 0 })).toMatchObject({ code: 'LM_ERR_CONFIG', message: expect.stringMatching(/"context" must be an integer in 1\.\./) });
    expect(lm({ num_layers: 1e6 })?.message).toMatch(/"num_layers" must be an integer in 1\.\.1024/);
    expect(lm({ card: 0 })?.message).toMatch(/"card" must be an integer in 1\.\./);
    expect(lm({ num_heads: 3 })?.message).toMatch(/dim 256 is not a multiple of num_heads 3/);
    expect(lm({ dim: 264, num_heads: 8 })?.message).toMatch(/RoPE needs an even head width/);
    expect(lm({ existing_text_padding_id: 512 })?.message).toMatch(/"existing_text_padding_id" 512 is not a text id \(text_card 512\)/);
    expect(lm({ hidden_scale: -1 })?.message).toMatch(/"hidden_scale" must be positive/);
    expect(lm({ delays: [...(lmJson.delays as number[]).slice(0, 16), 1e6] })?.message).toMatch(/delays\[16\]/);
    expect(lm({ dep_q: 17 })?.message).toMatch(/dep_q 17 must be in 1\.\.n_q \(16\)|"dep_q" must be an integer/);
    const mimi = (section: string, patch: Record<string, unknown>) => typedError(() => mimiConfigFromJson({ ...mimiJson, [section]: { ...mimiJson[section], ...patch } }));
    expect(mimi('seanet', { dilation_base: 64, n_residual_layers: 60 })?.message).toMatch(/receptive field/);
    expect(mimi('seanet', { n_filters: 1 })?.message).toMatch(/n_filters 1 must be ≥ compress 2/);
    expect(mimi('seanet', { activation_params: { alpha: 'x' } })?.message).toMatch(/activation_params\.alpha must be a finite number/);
  });

  it('property: mutated LM and Mimi configs parse (and expand to key lists) or give a typed error', () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.integer({ min: -2, max: 5000 }), fc.constantFrom(0, 1, 1e6, 2 ** 31, 1.5, -1, null));
    const lmKeys = [...Object.keys(lmJson), 'depformer_weights_per_step_schedule', 'depformer_low_rank_embeddings', 'text_card'];
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...lmKeys), value), { minLength: 1, maxLength: 3 }), (edits) => {
      const j = { ...lmJson };
      for (const [k, v] of edits) j[k] = v;
      typedError(() => expectedShapes(lmConfigFromJson(j)));
    }), propParams());
    const paths: [string | null, string][] = Object.entries(mimiJson).flatMap(([s, v]): [string | null, string][] => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).map((k): [string, string] => [s, k]) : [[null, s]]));
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), value), { minLength: 1, maxLength: 3 }), (edits) => {
      const j = structuredClone(mimiJson) as Record<string, unknown>;
      for (const [[s, k], v] of edits) {
        if (s === null) j[k] = v;
        else (j[s] as Record<string, unknown>)[k] = v;
      }
      typedError(() => expectedCheckpointKeys(mimiConfigFromJson(j)));
    }), propParams());
  });
});
