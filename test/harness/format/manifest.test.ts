// manifest.json: validation names the bad field; format and version are told apart from
// plain corruption; the engine's own types can be recorded as they are.
import { describe, expect, it } from 'vitest';
import {
  buildManifest, parseManifest, serializeManifest, validateManifestInit, SESSION_VERSION,
} from '../../../harness/format.ts';
import type { ManifestInit, ManifestPlatform, ManifestSampling, SessionError } from '../../../harness/format.ts';
import type { PlatformFingerprint } from '../../../src/models/platform.ts';
import type { SamplingParams } from '../../../src/engine/types.ts';
import { testInit } from './session-fixtures.ts';

// Compile-time: a recorder passes platformFingerprint() and the engine's sampling unchanged.
// (Type-only imports: erased, so MLX is never loaded.)
export const platformFits = (p: PlatformFingerprint): ManifestPlatform => p;
export const samplingFits = (s: SamplingParams): ManifestSampling => s;

function thrown(fn: () => unknown): SessionError {
  try {
    fn();
  } catch (err) {
    return err as SessionError;
  }
  throw new Error('expected a throw');
}

const manifestText = (edit: (m: Record<string, unknown>) => void = () => undefined): string => {
  const m = JSON.parse(serializeManifest(buildManifest(testInit(), '2026-01-01T00:00:00.000Z'))) as Record<string, unknown>;
  edit(m);
  return JSON.stringify(m);
};

describe('manifest', () => {
  it('round-trips what the writer builds, keeping unknown fields', () => {
    const m = parseManifest(manifestText((m) => { m.futureField = { x: 1 }; }));
    expect(m).toMatchObject({ format: 'solacelive.session', version: SESSION_VERSION, status: 'recording', seed: 1234, pcmHash: 'sha256-128/float32le' });
    expect((m as unknown as Record<string, unknown>).futureField).toEqual({ x: 1 });
    expect(m.audio).toEqual({ sampleRate: 24000, channels: 1, encoding: 'float32le', frameSamples: 1920 });
  });

  it('tells corruption, foreign files, other versions and bad fields apart', () => {
    expect(thrown(() => parseManifest('{"format": "solacelive.sess')).code).toBe('SESSION_ERR_CORRUPT');
    expect(thrown(() => parseManifest('{"name": "my-app", "version": "1.0.0"}')).code).toBe('SESSION_ERR_NOT_A_SESSION');
    const v = thrown(() => parseManifest(manifestText((m) => { m.version = 3; })));
    expect(v).toMatchObject({ code: 'SESSION_ERR_VERSION', found: 3, supported: [1, 2] });
    expect(v.message).toMatch(/version 3; this reader supports version 1, 2/);
    const bad = thrown(() => parseManifest(manifestText((m) => { (m.model as Record<string, unknown>).weights = { 'model.safetensors': 'abc' }; })));
    expect(bad.code).toBe('SESSION_ERR_MANIFEST');
    expect(bad.message).toMatch(/model\.weights\['model\.safetensors'\] must be a sha256/);
    expect(thrown(() => parseManifest(manifestText((m) => { delete m.seed; }))).message).toMatch(/seed must be an integer \(got missing\)/);
    expect(thrown(() => parseManifest(manifestText((m) => { (m.platform as Record<string, unknown>).blas = { library: 'x' }; }))).message).toMatch(/platform\.blas\.path/);
    expect(thrown(() => parseManifest(manifestText((m) => { m.status = 'done'; }))).message).toMatch(/status/);
    expect(thrown(() => parseManifest(manifestText((m) => { (m.audio as Record<string, unknown>).sampleRate = 48000; }))).message).toMatch(/audio\.sampleRate must be 24000/);
  });

  it('a recorder\'s bad init is SESSION_ERR_INVALID naming the field', () => {
    const init = testInit();
    const bad = { ...init, sampling: { ...init.sampling, textTopK: -1 } } as ManifestInit;
    const err = thrown(() => validateManifestInit(bad));
    expect(err.code).toBe('SESSION_ERR_INVALID');
    expect(err.message).toMatch(/sampling\.textTopK must be an integer >= 0 \(got -1\)/);
    expect(thrown(() => validateManifestInit({ ...init, seed: 1.5 })).message).toMatch(/seed/);
    expect(() => validateManifestInit(init)).not.toThrow();
  });
});
