import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioError } from '../../src/audio/errors.ts';
import type { AudioErrorCode } from '../../src/audio/errors.ts';
import { decodeWav, encodeWav, encodeWavHeader, wavHeaderBytes } from '../../src/audio/wav.ts';
import { propParams } from '../props.ts';
import { ascii, bytesOf, chunk, f32le, f64le, fmtBody, i24, riff, s16le, s32le, u16, u32, wav } from './riff.ts';

function expectAudioError(fn: () => unknown, code: AudioErrorCode, message?: RegExp): AudioError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AudioError);
  const err = caught as AudioError;
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const finiteF32 = fc.float32Array({ noNaN: true, noDefaultInfinity: true, maxLength: 500 });

describe('float32 round trip', () => {
  it('24 kHz mono float32 comes back bit-exact, including -0, subnormals and the extremes', () => {
    const special = new Float32Array([0, -0, 1, -1, 1.401298464324817e-45, -1.1754942106924411e-38, 3.4028234663852886e38, -3.4028234663852886e38, 0.1, 1 / 3]);
    const back = decodeWav(encodeWav(special, 24000));
    expect(back.sampleRate).toBe(24000);
    expect(back.format).toBe('float32');
    expect(back.formatTag).toBe('IEEE_FLOAT');
    expect(back.channels).toHaveLength(1);
    expect(Array.from(bits(back.channels[0]!))).toEqual(Array.from(bits(special)));
    expect(back.truncation).toBeUndefined();
  });

  it('any finite float32 signal round-trips bit-exactly (property)', () => {
    fc.assert(fc.property(finiteF32, (samples) => {
      const back = decodeWav(encodeWav(samples, 24000, { format: 'float32' }));
      expect(back.frames).toBe(samples.length);
      expect(Array.from(bits(back.channels[0]!))).toEqual(Array.from(bits(samples)));
    }), propParams({ numRuns: 200 }));
  });

  it('multi-channel float32 interleaves and deinterleaves in order', () => {
    const chans = [new Float32Array([1, 2, 3]).map((x) => x / 8), new Float32Array([-1, -2, -3]).map((x) => x / 8), new Float32Array([0.5, 0, -0.5])];
    const bytes = encodeWav(chans, 48000);
    // Interleaved on disk: frame 0 of every channel first.
    const data = new Float32Array(bytes.slice(wavHeaderBytes('float32')).buffer);
    expect(Array.from(data.subarray(0, 3))).toEqual([0.125, -0.125, 0.5]);
    const back = decodeWav(bytes);
    expect(back.channels.map((c) => Array.from(c))).toEqual(chans.map((c) => Array.from(c)));
  });

  it('writes a header other tools expect (IEEE float, fact chunk, exact sizes)', () => {
    const bytes = encodeWav(new Float32Array(5), 24000);
    const v = new DataView(bytes.buffer);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('RIFF');
    expect(v.getUint32(4, true)).toBe(bytes.length - 8);
    expect(v.getUint16(20, true)).toBe(3);
    expect(v.getUint32(24, true)).toBe(24000);
    expect(v.getUint32(28, true)).toBe(96000);
    expect(String.fromCharCode(...bytes.subarray(38, 42))).toBe('fact');
    expect(v.getUint32(46, true)).toBe(5);
    expect(v.getUint32(54, true)).toBe(20);
    expect(bytes.length).toBe(58 + 20);
  });

  it('decodes from a Uint8Array view that does not start at offset 0 of its buffer', () => {
    const file = encodeWav(new Float32Array([0.25, -0.75]), 24000);
    const big = new Uint8Array(file.length + 7);
    big.set(file, 3);
    expect(Array.from(decodeWav(big.subarray(3, 3 + file.length)).channels[0]!)).toEqual([0.25, -0.75]);
  });
});

describe('integer PCM decoding (hand-built files)', () => {
  it('pcm8 is unsigned with 128 as zero', () => {
    const d = decodeWav(wav({ tag: 1, channels: 1, rate: 8000, bits: 8 }, [0, 128, 255, 64]));
    expect(d.format).toBe('pcm8');
    expect(Array.from(d.channels[0]!)).toEqual([-1, 0, 127 / 128, -0.5]);
  });

  it('pcm16 scales by 32768 and keeps channel order', () => {
    const d = decodeWav(wav({ tag: 1, channels: 2, rate: 16000, bits: 16 }, s16le([0, 1, -1, 32767, -32768, 16384])));
    expect(d.format).toBe('pcm16');
    expect(d.frames).toBe(3);
    expect(Array.from(d.channels[0]!)).toEqual([0, -1 / 32768, -1]);
    expect(Array.from(d.channels[1]!)).toEqual([1 / 32768, 32767 / 32768, 0.5]);
  });

  it('pcm24 sign-extends the top byte', () => {
    const values = [0, 1, -1, 8388607, -8388608, 0x123456, -0x123456];
    const d = decodeWav(wav({ tag: 1, channels: 1, rate: 48000, bits: 24 }, values.flatMap(i24)));
    expect(d.format).toBe('pcm24');
    expect(Array.from(d.channels[0]!)).toEqual(values.map((v) => Math.fround(v / 8388608)));
  });

  it('pcm32 scales by 2^31', () => {
    const values = [0, 1, -1, 2147483647, -2147483648, 123456789];
    const d = decodeWav(wav({ tag: 1, channels: 1, rate: 44100, bits: 32 }, s32le(values)));
    expect(d.format).toBe('pcm32');
    expect(Array.from(d.channels[0]!)).toEqual(values.map((v) => Math.fround(v / 2147483648)));
  });

  it('12-bit samples in 16-bit containers decode as pcm16 and report 12 valid bits', () => {
    const d = decodeWav(wav({ tag: 1, channels: 1, rate: 8000, bits: 12 }, s16le([0x7ff0, -0x8000])));
    expect(d.format).toBe('pcm16');
    expect(d.validBits).toBe(12);
    expect(Array.from(d.channels[0]!)).toEqual([0x7ff0 / 32768, -1]);
  });

  it('any int16 WAV re-encodes as pcm16 to identical bytes (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 400 }), fc.integer({ min: 1, max: 3 }), (ints, channels) => {
      const n = ints.length - (ints.length % channels);
      const data = s16le(ints.slice(0, n));
      const file = wav({ tag: 1, channels, rate: 22050, bits: 16 }, data);
      const d = decodeWav(file);
      const again = encodeWav(d.channels, d.sampleRate, { format: 'pcm16' });
      expect(Array.from(again.subarray(44))).toEqual(data);
      expect(Array.from(again.subarray(0, 44))).toEqual(Array.from(file.subarray(0, 44)));
    }), propParams({ numRuns: 200 }));
  });
});

describe('float decoding', () => {
  it('float64 is narrowed to float32', () => {
    const d = decodeWav(wav({ tag: 3, channels: 1, rate: 24000, bits: 64 }, f64le([0.1, -0.5, 1e-3])));
    expect(d.format).toBe('float64');
    expect(Array.from(d.channels[0]!)).toEqual([0.1, -0.5, 1e-3].map(Math.fround));
  });

  it('NaN in a float32 file is refused, naming sample, channel and byte', () => {
    const file = wav({ tag: 3, channels: 2, rate: 24000, bits: 32 }, f32le([0, 0, 0.5, NaN]));
    const err = expectAudioError(() => decodeWav(file), 'AUDIO_ERR_NON_FINITE', /sample 1 of channel 1 is NaN/);
    expect(err.channel).toBe(1);
    expect(err.index).toBe(1);
    expect(err.offset).toBe(44 + 12);
  });

  it('±Infinity in float32 and out-of-float32-range float64 are refused', () => {
    expectAudioError(() => decodeWav(wav({ tag: 3, channels: 1, rate: 24000, bits: 32 }, f32le([-Infinity]))), 'AUDIO_ERR_NON_FINITE', /-Infinity/);
    expectAudioError(() => decodeWav(wav({ tag: 3, channels: 1, rate: 24000, bits: 64 }, f64le([0, 1e300]))), 'AUDIO_ERR_NON_FINITE', /beyond float32 range/);
    expectAudioError(() => decodeWav(wav({ tag: 3, channels: 1, rate: 24000, bits: 64 }, f64le([NaN]))), 'AUDIO_ERR_NON_FINITE', /NaN/);
  });
});

describe('WAVE_FORMAT_EXTENSIBLE', () => {
  it('24-bit stereo PCM with a speaker mask and 20 valid bits', () => {
    const values = [0x100000, -0x100000, 0x7ffff0, -0x800000];
    const d = decodeWav(wav({ tag: 0xfffe, channels: 2, rate: 96000, bits: 24, ext: { subTag: 1, validBits: 20, mask: 0x3 } }, values.flatMap(i24)));
    expect(d.formatTag).toBe('EXTENSIBLE');
    expect(d.format).toBe('pcm24');
    expect(d.validBits).toBe(20);
    expect(d.channelMask).toBe(3);
    expect(Array.from(d.channels[0]!)).toEqual([0.125, 0x7ffff0 / 8388608].map(Math.fround));
    expect(Array.from(d.channels[1]!)).toEqual([-0.125, -1]);
  });

  it('float32 in 3 channels', () => {
    const d = decodeWav(wav({ tag: 0xfffe, channels: 3, rate: 24000, bits: 32, ext: { subTag: 3, mask: 0x7 } }, f32le([0.5, -0.25, 0.125, 1, 2, 3])));
    expect(d.format).toBe('float32');
    expect(d.channels.map((c) => Array.from(c))).toEqual([[0.5, 1], [-0.25, 2], [0.125, 3]]);
  });

  it('refuses a non-standard sub-format GUID and a compressed sub-format', () => {
    const odd = [...Array(13).fill(0), 0x42];
    expectAudioError(() => decodeWav(wav({ tag: 0xfffe, channels: 1, rate: 24000, bits: 16, ext: { subTag: 1, guidTail: odd } }, [0, 0])), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /GUID/);
    expectAudioError(() => decodeWav(wav({ tag: 0xfffe, channels: 1, rate: 8000, bits: 4, ext: { subTag: 0x11 } }, [0])), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /IMA ADPCM.*EXTENSIBLE/);
  });

  it('refuses an extensible fmt chunk too short to hold its extension', () => {
    const shortExt = riff([chunk('fmt ', [...fmtBody({ tag: 0xfffe, channels: 1, rate: 8000, bits: 16 }), ...u16(0)]), chunk('data', [0, 0])]);
    expectAudioError(() => decodeWav(shortExt), 'AUDIO_ERR_MALFORMED', /EXTENSIBLE fmt chunk is 18 bytes/);
  });
});

describe('refusals name what was wrong', () => {
  const pcm = (over: Partial<Parameters<typeof fmtBody>[0]>) => wav({ tag: 1, channels: 1, rate: 8000, bits: 16, ...over }, [0, 0, 0, 0]);

  it('not a WAV at all', () => {
    expectAudioError(() => decodeWav(new Uint8Array(0)), 'AUDIO_ERR_NOT_WAV', /empty/);
    expectAudioError(() => decodeWav(bytesOf(ascii('ID3'), [3, 0, 0, 0, 0, 0, 0, 0, 0])), 'AUDIO_ERR_NOT_WAV', /'ID3\\x03'/);
    expectAudioError(() => decodeWav(bytesOf(ascii('RIFF'), u32(4), ascii('AVI '))), 'AUDIO_ERR_NOT_WAV', /'AVI '/);
  });

  it('other RIFF flavours are unsupported, not "not WAV"', () => {
    expectAudioError(() => decodeWav(bytesOf(ascii('RIFX'), u32(4), ascii('WAVE'))), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /big-endian/);
    expectAudioError(() => decodeWav(bytesOf(ascii('RF64'), u32(0xffffffff), ascii('WAVE'))), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /RF64/);
  });

  it('a header cut short, or no fmt/data chunk', () => {
    expectAudioError(() => decodeWav(bytesOf(ascii('RIFF'), [0, 0])), 'AUDIO_ERR_TRUNCATED', /inside the 12-byte RIFF header/);
    expectAudioError(() => decodeWav(riff([])), 'AUDIO_ERR_TRUNCATED', /no fmt chunk/);
    expectAudioError(() => decodeWav(riff([chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 }))])), 'AUDIO_ERR_TRUNCATED', /no data chunk/);
    expectAudioError(() => decodeWav(riff([chunk('data', [0, 0])])), 'AUDIO_ERR_MALFORMED', /no fmt chunk/);
    const cutFmt = riff([chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 }))]).subarray(0, 30);
    expectAudioError(() => decodeWav(cutFmt), 'AUDIO_ERR_TRUNCATED', /fmt chunk declares 16 bytes/);
  });

  it('compressed codecs are named', () => {
    expectAudioError(() => decodeWav(pcm({ tag: 7, bits: 8 })), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /µ-law \(format tag 0x0007\)/);
    expectAudioError(() => decodeWav(pcm({ tag: 0x55 })), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /MP3/);
    expectAudioError(() => decodeWav(pcm({ tag: 0x1234 })), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /format tag 0x1234/);
  });

  it('inconsistent fmt fields', () => {
    expectAudioError(() => decodeWav(pcm({ channels: 0, blockAlign: 2 })), 'AUDIO_ERR_MALFORMED', /0 channels/);
    expectAudioError(() => decodeWav(pcm({ rate: 0 })), 'AUDIO_ERR_SAMPLE_RATE', /0 Hz/);
    expectAudioError(() => decodeWav(pcm({ blockAlign: 4 })), 'AUDIO_ERR_MALFORMED', /block align 4/);
    expectAudioError(() => decodeWav(pcm({ tag: 3, bits: 24 })), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /24-bit IEEE float/);
    expectAudioError(() => decodeWav(pcm({ bits: 40 })), 'AUDIO_ERR_UNSUPPORTED_FORMAT', /40-bit integer PCM/);
    expectAudioError(() => decodeWav(riff([chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 }).slice(0, 14)), chunk('data', [0, 0])])), 'AUDIO_ERR_MALFORMED', /fmt chunk is 14 bytes/);
  });
});

describe('chunk walking', () => {
  it('skips unknown chunks, honours pad bytes after odd-sized ones, and ignores chunks after data', () => {
    const file = riff([
      chunk('LIST', [1, 2, 3]), // odd: one pad byte follows
      chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 8 })),
      chunk('junk', [9]),
      chunk('data', [128, 255, 1]), // odd again
      chunk('id3 ', [0xff, 0xff]),
    ]);
    const d = decodeWav(file);
    expect(Array.from(d.channels[0]!)).toEqual([0, 127 / 128, -127 / 128]);
    expect(d.truncation).toBeUndefined();
  });

  it('accepts fmt after data (seen in the wild) and a wrong RIFF size', () => {
    const file = riff([chunk('data', s16le([16384])), chunk('fmt ', fmtBody({ tag: 1, channels: 1, rate: 8000, bits: 16 }))], 4);
    expect(Array.from(decodeWav(file).channels[0]!)).toEqual([0.5]);
  });

  it('writes and reads the pad byte of an odd-length data chunk', () => {
    const bytes = encodeWav(new Float32Array([0.5, -0.5, 0]), 8000, { format: 'pcm8' });
    expect(bytes.length).toBe(44 + 4);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(bytes.length - 8);
    expect(new DataView(bytes.buffer).getUint32(40, true)).toBe(3);
    expect(Array.from(decodeWav(bytes).channels[0]!)).toEqual([0.5, -0.5, 0]);
  });
});

describe('truncated data: whole frames recovered and reported, or refused in strict mode', () => {
  const fmt = { tag: 1, channels: 2, rate: 8000, bits: 16 };
  // The header promises 10 stereo frames (40 bytes); the file holds 6 frames and 3 bytes.
  const cut = wav(fmt, s16le(Array.from({ length: 14 }, (_, i) => i * 1000)), 40).subarray(0, 44 + 27);

  it('recovers 6 frames and says what was missing', () => {
    const d = decodeWav(cut);
    expect(d.frames).toBe(6);
    expect(d.channels[0]).toHaveLength(6);
    expect(Array.from(d.channels[1]!)).toEqual([1, 3, 5, 7, 9, 11].map((i) => Math.fround((i * 1000) / 32768)));
    expect(d.truncation).toEqual({ reason: 'short-file', declaredBytes: 40, availableBytes: 27, droppedBytes: 3, recoveredFrames: 6 });
  });

  it('strict mode refuses it', () => {
    expectAudioError(() => decodeWav(cut, { strict: true }), 'AUDIO_ERR_TRUNCATED', /declares 40 bytes but only 27/);
  });

  it('a data size that is not a whole number of frames is a partial frame', () => {
    const d = decodeWav(wav(fmt, [1, 0, 2, 0, 3, 0]));
    expect(d.frames).toBe(1);
    expect(d.truncation).toMatchObject({ reason: 'partial-frame', droppedBytes: 2 });
    expectAudioError(() => decodeWav(wav(fmt, [1, 0, 2, 0, 3, 0]), { strict: true }), 'AUDIO_ERR_TRUNCATED', /ends 2 byte\(s\) into a 4-byte frame/);
  });

  it('a streaming header that was never patched reads to the end of the file', () => {
    const header = encodeWavHeader({ sampleRate: 24000, channels: 1, format: 'float32', frames: 'streaming' });
    expect(header.length).toBe(wavHeaderBytes('float32'));
    const samples = new Float32Array([0.25, 0.5, -1]);
    const file = bytesOf(header, new Uint8Array(samples.buffer), [0x12, 0x34]); // plus a torn partial sample
    const d = decodeWav(file);
    expect(Array.from(d.channels[0]!)).toEqual([0.25, 0.5, -1]);
    expect(d.truncation).toMatchObject({ reason: 'unfinalized-header', recoveredFrames: 3, droppedBytes: 2 });
    // Patching the header in place with the final count gives a clean file.
    const patched = file.slice(0, file.length - 2);
    patched.set(encodeWavHeader({ sampleRate: 24000, channels: 1, format: 'float32', frames: 3 }));
    expect(decodeWav(patched, { strict: true }).truncation).toBeUndefined();
    expect(patched).toEqual(encodeWav(samples, 24000));
  });
});

describe('encoding', () => {
  it('integer formats round, and clamp out-of-range values', () => {
    const x = new Float32Array([1, -1, 2, -2, 0.5, 1 / 65536, -1 / 65536 - 1e-9]);
    const d16 = new DataView(encodeWav(x, 8000, { format: 'pcm16' }).buffer);
    expect(Array.from({ length: 7 }, (_, i) => d16.getInt16(44 + 2 * i, true))).toEqual([32767, -32768, 32767, -32768, 16384, 1, -1]);
    const b8 = encodeWav(x, 8000, { format: 'pcm8' });
    expect(Array.from(b8.subarray(44, 49))).toEqual([255, 0, 255, 0, 192]);
  });

  it('every format reads back within its quantisation step', () => {
    const x = new Float32Array(257).map((_, i) => Math.sin(i * 0.37) * 0.99);
    for (const [format, step] of [['pcm8', 2 ** -7], ['pcm16', 2 ** -15], ['pcm24', 2 ** -23], ['pcm32', 2 ** -24], ['float32', 0], ['float64', 0]] as const) {
      const d = decodeWav(encodeWav(x, 16000, { format }));
      expect(d.format).toBe(format);
      const worst = Math.max(...Array.from(x, (v, i) => Math.abs(v - d.channels[0]![i]!)));
      expect(worst, format).toBeLessThanOrEqual(step / 2 + 1e-12);
    }
  });

  it('refuses NaN/Inf, ragged channels, bad rates and unknown formats', () => {
    const err = expectAudioError(() => encodeWav([new Float32Array(3), new Float32Array([0, NaN, 0])], 24000), 'AUDIO_ERR_NON_FINITE', /sample 1 of channel 1/);
    expect(err.index).toBe(1);
    expectAudioError(() => encodeWav(new Float32Array([Infinity]), 24000, { format: 'pcm16' }), 'AUDIO_ERR_NON_FINITE', /Infinity/);
    expectAudioError(() => encodeWav([new Float32Array(3), new Float32Array(2)], 24000), 'AUDIO_ERR_CHANNELS', /channel 1 has 2 samples/);
    expectAudioError(() => encodeWav([], 24000), 'AUDIO_ERR_CHANNELS');
    expectAudioError(() => encodeWav(new Float32Array(1), 0), 'AUDIO_ERR_SAMPLE_RATE');
    expectAudioError(() => encodeWav(new Float32Array(1), 22050.5), 'AUDIO_ERR_SAMPLE_RATE', /22050.5/);
    expectAudioError(() => encodeWav(new Float32Array(1), 24000, { format: 'mp3' as never }), 'AUDIO_ERR_BAD_ARGUMENT', /mp3/);
  });

  it('refuses data too large for a 32-bit RIFF size', () => {
    expectAudioError(() => encodeWavHeader({ sampleRate: 24000, channels: 2, format: 'float64', frames: 2 ** 28 }), 'AUDIO_ERR_TOO_LARGE');
    expect(encodeWavHeader({ sampleRate: 24000, channels: 1, format: 'float32', frames: 2 ** 30 - 100 }).length).toBe(58);
  });
});
