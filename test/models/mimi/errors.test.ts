// Bad input to a loaded Mimi: each is a typed MimiError with a stable code, and a rejected
// call leaves the streaming session exactly as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { MimiError, type Mimi } from '../../../src/models/mimi/index.ts';
import { FRAME, goldenCodes, goldenF32, tinyMimi } from './fixtures.ts';

let mimi: Mimi;
beforeAll(() => {
  // Uncompiled: these tests are about input checks, and a cold kernel cache costs seconds.
  mimi = tinyMimi({ compile: false });
});

const pcm = goldenF32('input_pcm');
const frame = (t: number) => pcm.subarray(t * FRAME, (t + 1) * FRAME);
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MimiError);
    return (err as MimiError).code;
  }
  throw new Error('no error');
};

describe('encodeStep input', () => {
  it.each([0, 1, 1919, 1921, 3840])('refuses a frame of %i samples (MIMI_ERR_FRAME_LENGTH)', (n) => {
    expect(code(() => mimi.encodeStep(new Float32Array(n)))).toBe('MIMI_ERR_FRAME_LENGTH');
  });

  it.each([NaN, Infinity, -Infinity])('refuses a frame holding %s, naming the sample (MIMI_ERR_NON_FINITE)', (v) => {
    const bad = Float32Array.from(frame(0));
    bad[1234] = v;
    expect(() => mimi.encodeStep(bad)).toThrow(new RegExp(`sample 1234 is ${v}`));
    expect(code(() => mimi.encodeStep(bad))).toBe('MIMI_ERR_NON_FINITE');
  });

  it('refuses NaN in a non-streaming encode too', () => {
    const bad = Float32Array.from(pcm.subarray(0, 5000));
    bad[4999] = NaN;
    expect(code(() => mimi.encode(bad))).toBe('MIMI_ERR_NON_FINITE');
    expect(code(() => mimi.encode(new Float32Array(0)))).toBe('MIMI_ERR_FRAME_LENGTH');
  });

  it('leaves the session untouched when it refuses a frame', () => {
    const want = goldenCodes('codes_stream');
    mimi.reset();
    for (let t = 0; t < 4; t++) {
      expect(() => mimi.encodeStep(new Float32Array(100))).toThrow(MimiError);
      const bad = Float32Array.from(frame(t));
      bad[0] = NaN;
      expect(() => mimi.encodeStep(bad)).toThrow(MimiError);
      expect(Array.from(mimi.encodeStep(frame(t)))).toEqual(want.map((r) => r[t]));
    }
  });
});

describe('decodeStep input', () => {
  it.each([
    ['7 codes', [1, 2, 3, 4, 5, 6, 7]],
    ['9 codes', [1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['a code of 64 (bins = 64)', [0, 0, 0, 64, 0, 0, 0, 0]],
    ['a negative code', [0, -1, 0, 0, 0, 0, 0, 0]],
    ['a fractional code', [0, 1.5, 0, 0, 0, 0, 0, 0]],
    ['a NaN code', [0, NaN, 0, 0, 0, 0, 0, 0]],
  ])('refuses %s (MIMI_ERR_CODES)', (_, codes) => {
    expect(code(() => mimi.decodeStep(codes))).toBe('MIMI_ERR_CODES');
  });

  it('refuses ragged or empty rows in a non-streaming decode', () => {
    const rows = goldenCodes('codes_stream').map((r) => r.slice(0, 3));
    rows[5] = rows[5]!.slice(0, 2);
    expect(code(() => mimi.decode(rows))).toBe('MIMI_ERR_CODES');
    expect(code(() => mimi.decode(rows.map(() => [])))).toBe('MIMI_ERR_CODES');
    expect(code(() => mimi.decode(rows.slice(0, 7)))).toBe('MIMI_ERR_CODES');
  });
});

describe('sessions', () => {
  it('keeps independent streaming state per session over shared weights', () => {
    const want = goldenCodes('codes_stream');
    const a = mimi.session();
    const b = mimi.session();
    for (let t = 0; t < 3; t++) {
      expect(Array.from(a.encodeStep(frame(t)))).toEqual(want.map((r) => r[t]));
      // b lags one frame behind a, and still produces the stream from its own start.
      if (t > 0) expect(Array.from(b.encodeStep(frame(t - 1)))).toEqual(want.map((r) => r[t - 1]));
    }
  });
});
