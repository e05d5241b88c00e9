// Cross-check against another implementation: SoX-written files (committed, see fixtures/README.md)
// must decode to exactly what SoX itself decodes them to; and when sox is installed, SoX must
// read our encoder's output back to the samples we wrote.
//
// SoX holds samples as 32-bit integers and converts them to float as ((x + 64) & ~127) / 2^31
// (its "25-bit" float precision), so for 32-bit and float sources its reference is our exact
// value rounded to a multiple of 2^-24: compared within 2^-25 there, bit-exact elsewhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../src/audio/wav.ts';
import type { WavSampleFormat } from '../../src/audio/wav.ts';

const dir = join(import.meta.dirname, 'fixtures');

const fixtures: [name: string, rate: number, channels: number, format: WavSampleFormat, tag: string][] = [
  ['s24-3ch-ext', 8000, 3, 'pcm24', 'EXTENSIBLE'],
  ['s32-stereo-ext', 8000, 2, 'pcm32', 'EXTENSIBLE'],
  ['s16-stereo', 11025, 2, 'pcm16', 'PCM'],
  ['u8-mono', 8000, 1, 'pcm8', 'PCM'],
  ['f32-mono', 16000, 1, 'float32', 'IEEE_FLOAT'],
  ['f64-mono', 16000, 1, 'float64', 'IEEE_FLOAT'],
];

const soxRounds = (format: WavSampleFormat): boolean => format === 'pcm32' || format === 'float32' || format === 'float64';

function raw(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe('SoX-written fixtures decode exactly as SoX decodes them', () => {
  for (const [name, rate, channels, format, tag] of fixtures) {
    it(name, () => {
      const d = decodeWav(readFileSync(join(dir, `${name}.wav`)), { strict: true });
      expect([d.sampleRate, d.channels.length, d.format, d.formatTag]).toEqual([rate, channels, format, tag]);
      const expected = raw(join(dir, `${name}.f32`));
      expect(d.frames * channels).toBe(expected.length);
      expect(d.frames).toBeGreaterThan(0);
      const tolerance = soxRounds(format) ? 2 ** -25 : 0;
      for (let c = 0; c < channels; c++) {
        const want = Array.from({ length: d.frames }, (_, i) => expected[i * channels + c]!);
        if (tolerance === 0) expect(Array.from(d.channels[c]!), `channel ${c}`).toEqual(want);
        else want.forEach((w, i) => expect(Math.abs(d.channels[c]![i]! - w), `channel ${c} sample ${i}`).toBeLessThanOrEqual(tolerance));
        expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0.1); // a real signal, not silence
      }
    });
  }
});

const hasSox = (() => {
  try {
    execFileSync('sox', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// Not skipped when SoX is missing: `npm run setup` installs it, and a missing tool must show.
describe('SoX reads what encodeWav writes', () => {
  beforeAll(() => {
    if (!hasSox) throw new Error('sox is not installed: run `npm run setup` (or apt-get install sox)');
  });
  it.each(['float32', 'pcm16', 'pcm24'] as const)('%s', (format) => {
    const tmp = mkdtempSync(join(tmpdir(), 'solacelive-sox-'));
    try {
      const left = new Float32Array(301).map((_, i) => 0.8 * Math.sin(i / 7));
      const right = new Float32Array(301).map((_, i) => 0.3 * Math.cos(i / 5));
      const file = join(tmp, 'ours.wav');
      writeFileSync(file, encodeWav([left, right], 24000, { format }));
      const info = execFileSync('soxi', [file]).toString();
      expect(info).toMatch(/Channels\s*: 2/);
      expect(info).toMatch(/Sample Rate\s*: 24000/);
      expect(info).toMatch(/Duration\s*: .* = 301 samples/);
      execFileSync('sox', [file, '-t', 'f32', join(tmp, 'out.f32')]);
      const back = raw(join(tmp, 'out.f32'));
      const ours = decodeWav(readFileSync(file));
      expect(back.length).toBe(602);
      const tolerance = soxRounds(format) ? 2 ** -25 : 0;
      for (let i = 0; i < 301; i++) {
        expect(Math.abs(back[2 * i]! - ours.channels[0]![i]!)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(back[2 * i + 1]! - ours.channels[1]![i]!)).toBeLessThanOrEqual(tolerance);
      }
      if (format === 'float32') expect(Array.from(ours.channels[0]!)).toEqual(Array.from(left));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
