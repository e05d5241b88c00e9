// The user path: `solacelive codec` as a spawned process reproduces the goldens, and
// bad files end with a coded error and exit status 1 (usage mistakes: 2).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWavSync, writeWavSync } from '../../../src/audio/index.ts';
import { goldenCodes, goldenF32, REF, REPO_ROOT, relErr, TOLERANCE } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'mimi-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

function codec(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'solacelive.mjs'), 'codec', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}
const model = ['--config', REF.config, '--weights', REF.weights];

describe('solacelive codec (spawned)', () => {
  it('encodes input.wav to codes_stream and decodes those codes to pcm_stream', () => {
    const enc = codec('encode', ...model, '--in', REF.wav, '--out', at('codes.json'));
    expect(enc.stderr).toContain('40 frames × 8 codebooks');
    expect(enc.status).toBe(0);
    const file = JSON.parse(readFileSync(at('codes.json'), 'utf8'));
    expect(file).toMatchObject({ format: 'solacelive.codes/1', n_q: 8, frame_rate: 12.5 });
    expect(file.codes).toEqual(goldenCodes('codes_stream'));

    expect(codec('decode', ...model, '--in', at('codes.json'), '--out', at('decoded.wav')).status).toBe(0);
    const wav = readWavSync(at('decoded.wav'));
    expect(wav).toMatchObject({ sampleRate: 24000, format: 'float32' });
    expect(relErr(wav.channels[0]!, goldenF32('pcm_stream'))).toBeLessThanOrEqual(TOLERANCE);
  });

  it('roundtrips input.wav in one streaming session: pcm_stream, and codes_stream with --codes', () => {
    expect(codec('roundtrip', ...model, '--in', REF.wav, '--out', at('rt.wav'), '--codes', at('rt.json')).status).toBe(0);
    expect(relErr(readWavSync(at('rt.wav')).channels[0]!, goldenF32('pcm_stream'))).toBeLessThanOrEqual(TOLERANCE);
    expect(JSON.parse(readFileSync(at('rt.json'), 'utf8')).codes).toEqual(goldenCodes('codes_stream'));
  });

  it('takes any rate and channel count, saying what it converted', () => {
    const n = 44100;
    const left = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.03));
    writeWavSync(at('stereo44k.wav'), [left, left.map((v) => -v / 2)], 44100, { format: 'pcm16' });
    const r = codec('encode', ...model, '--in', at('stereo44k.wav'), '--out', at('s.json'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/resampled 44100 → 24000 Hz, downmixed 2 → 1 channels/);
    expect(r.stderr).toMatch(/last frame padded with \d+ zero samples/);
    expect(JSON.parse(readFileSync(at('s.json'), 'utf8')).codes[0]).toHaveLength(13); // 1 s → 24000 samples → 12.5 frames
  });

  it('refuses a WAV holding NaN with a coded error (exit 1)', () => {
    // The WAV writer refuses NaN, so write a marker sample and patch its bytes.
    const pcm = new Float32Array(3840);
    pcm[2000] = 0.123456;
    writeWavSync(at('nan.wav'), pcm, 24000, { format: 'float32' });
    const bytes = readFileSync(at('nan.wav'));
    const marker = Buffer.from(new Float32Array([0.123456]).buffer);
    Buffer.from(new Float32Array([NaN]).buffer).copy(bytes, bytes.indexOf(marker));
    writeFileSync(at('nan.wav'), bytes);
    const r = codec('encode', ...model, '--in', at('nan.wav'), '--out', at('nan.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[(AUDIO|MIMI)_ERR_NON_FINITE\]/);
  });

  it('refuses codes that do not fit the config, a truncated checkpoint, and usage mistakes', () => {
    writeFileSync(at('bad.json'), JSON.stringify({ format: 'solacelive.codes/1', n_q: 4, frame_rate: 12.5, codes: [[1], [2], [3], [4]] }));
    const badCodes = codec('decode', ...model, '--in', at('bad.json'), '--out', at('bad.wav'));
    expect(badCodes.status).toBe(1);
    expect(badCodes.stderr).toMatch(/\[CODEC_ERR_CODES_FILE\] .*bad\.json: has n_q 4 but the Mimi config uses 8 codebooks/);

    const weights = readFileSync(REF.weights);
    writeFileSync(at('cut.safetensors'), weights.subarray(0, weights.length - 4096));
    const cut = codec('encode', '--config', REF.config, '--weights', at('cut.safetensors'), '--in', REF.wav, '--out', at('x.json'));
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(/\[WEIGHTS_ERR_TRUNCATED\]/);

    expect(codec('transcode', ...model).status).toBe(2);
    expect(codec('encode', '--config', REF.config, '--in', REF.wav, '--out', at('x.json')).stderr).toMatch(/--weights W \(with --config C\) or --model DIR\|NAME is required/);
  });
});
