// Cross-checks with an independent Ogg Opus implementation (Debian opus-tools: opusenc,
// opusdec, opusinfo, on the distro's libopus). Speech is the espeak-ng fixture hello.wav
// (espeak-ng itself is not a test dependency).
//
// Tolerances, and why: Opus is lossy and perceptual. At 32 kbit/s on speech it does not keep
// the waveform (SILK/hybrid modes), so the waveform SNR of ANY encoder+decoder is low (about
// 9 dB here); we therefore bound ours against what opus-tools itself reaches on the same file
// at the same settings: within 3 dB (noise power at most doubled; the two libopus releases
// make slightly different encoder decisions). Where both sides decode the SAME packets, the
// only differences are opusdec's 48 kHz decode + resampling to 24 kHz against our native
// 24 kHz int16 decode: they must agree to 35 dB, which a pre-skip off by one sample breaks.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, loadLibopusNode, MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusDecoder, OggOpusEncoder, type Libopus, type OpusStreamShape } from '../../../src/audio/index.ts';

const FIXTURE = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;
const BITRATE = 32_000;

function snrDb(ref: Float32Array, test: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i]! * ref[i]!;
    n += (ref[i]! - test[i]!) ** 2;
  }
  return 10 * Math.log10(s / n);
}

const hasTools = (() => {
  try {
    execFileSync('opusdec', ['--version'], { stdio: 'ignore' });
    execFileSync('opusenc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// Not skipped when opus-tools is missing: `npm run setup` installs it, and a missing tool must show.
describe('Ogg Opus against opus-tools', () => {
  let lib: Libopus;
  let tmp: string;
  let speech: Float32Array;

  beforeAll(async () => {
    if (!hasTools) throw new Error('opus-tools is not installed: run `npm run setup` (or apt-get install opus-tools)');
    lib = await loadLibopusNode();
    tmp = mkdtempSync(join(tmpdir(), 'solacelive-opus-'));
    speech = decodeWav(readFileSync(FIXTURE)).channels[0]!;
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  function encodeOurs(shape: OpusStreamShape): Uint8Array {
    const enc = new OggOpusEncoder({ lib, shape, serial: 0x5eed });
    return Buffer.concat([...enc.push(speech), ...enc.end()]);
  }

  function decodeOurs(bytes: Uint8Array, chunk = 777): Float32Array {
    const dec = new OggOpusDecoder({ lib });
    const parts: Float32Array[] = [];
    for (let i = 0; i < bytes.length; i += chunk) {
      dec.push(bytes.subarray(i, i + chunk));
      parts.push(dec.read());
    }
    dec.end();
    parts.push(dec.read());
    dec.close();
    return Float32Array.from(parts.flatMap((p) => Array.from(p)));
  }

  function opusdec(file: string): Float32Array {
    const out = `${file}.wav`;
    execFileSync('opusdec', ['--quiet', '--rate', '24000', '--float', file, out]);
    return decodeWav(readFileSync(out)).channels[0]!;
  }

  function opusencReference(): { file: string; pcm: Float32Array } {
    const file = join(tmp, 'ref.opus');
    execFileSync('opusenc', ['--quiet', '--bitrate', String(BITRATE / 1000), '--framesize', '20', FIXTURE, file]);
    return { file, pcm: opusdec(file) };
  }

  it.each([['client', MOSHI_CLIENT_SHAPE], ['server', MOSHI_SERVER_SHAPE]] as const)('a stream from our muxer and encoder (%s shape) is valid to opusinfo and decodes with opusdec to the input length, close to the input', (_, shape) => {
    const file = join(tmp, `ours-${shape.frameMs}.opus`);
    writeFileSync(file, encodeOurs({ ...shape, bitrate: BITRATE }));
    const info = execFileSync('opusinfo', [file], { encoding: 'utf8' });
    expect(info).not.toMatch(/WARNING|ERROR|Hole in data|corrupt/i);
    expect(info).toMatch(new RegExp(`Packet duration:\\s+${shape.frameMs}\\.0ms \\(max\\)`));
    const theirs = opusdec(file);
    expect(theirs.length).toBe(speech.length);
    const ref = opusencReference();
    expect(snrDb(speech, theirs)).toBeGreaterThan(snrDb(speech, ref.pcm) - 3);
    // Both decoders on the same packets agree far beyond the codec's own error.
    expect(snrDb(theirs, decodeOurs(readFileSync(file)))).toBeGreaterThan(35);
  });

  it('a file made by opusenc decodes with our demuxer and decoder to the original length (pre-skip and end trimming), close to the original', () => {
    const ref = opusencReference();
    const bytes = readFileSync(ref.file);
    for (const chunk of [1, 333, bytes.length]) {
      const ours = decodeOurs(bytes, chunk);
      expect(ours.length).toBe(speech.length);
      expect(snrDb(ref.pcm, ours)).toBeGreaterThan(35);
      expect(snrDb(speech, ours)).toBeGreaterThan(snrDb(speech, ref.pcm) - 3);
    }
  });

  it('a stereo file made by opusenc decodes to mono: the mean of the channels opusdec gives', () => {
    const stereoWav = join(tmp, 'stereo.wav');
    const file = join(tmp, 'stereo.opus');
    execFileSync('sox', [FIXTURE, '-c', '2', stereoWav]);
    execFileSync('opusenc', ['--quiet', '--bitrate', '64', stereoWav, file]);
    const out = `${file}.wav`;
    execFileSync('opusdec', ['--quiet', '--rate', '24000', '--float', file, out]);
    const [l, r] = decodeWav(readFileSync(out)).channels;
    const mean = l!.map((v, i) => (v + r![i]!) / 2);
    const ours = decodeOurs(readFileSync(file));
    expect(ours.length).toBe(speech.length);
    expect(snrDb(mean, ours)).toBeGreaterThan(35);
  });
});
