import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioError } from '../../src/audio/errors.ts';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, frameCount, joinFrames, splitFrames, validateFrame } from '../../src/audio/frames.ts';
import { propParams } from '../props.ts';

describe('frame grid', () => {
  it('80 ms at 24 kHz is 1920 samples', () => {
    expect(SAMPLE_RATE * FRAME_MS / 1000).toBe(FRAME_SAMPLES);
  });

  it('splits into 1920-sample frames, zero-pads the last and says by how much', () => {
    const x = new Float32Array(1920 * 2 + 5).map((_, i) => (i % 97) / 97 + 0.001);
    const s = splitFrames(x);
    expect(s.frames).toHaveLength(3);
    expect(s.paddedSamples).toBe(1915);
    expect(s.totalSamples).toBe(3845);
    expect(Array.from(s.frames[1]!.subarray(0, 3))).toEqual(Array.from(x.subarray(1920, 1923)));
    expect(Array.from(s.frames[2]!.subarray(0, 5))).toEqual(Array.from(x.subarray(3840)));
    expect(s.frames[2]!.subarray(5).every((v) => v === 0)).toBe(true);
    s.frames[0]![0] = 42; // frames are copies
    expect(x[0]).not.toBe(42);
  });

  it('exact multiples are not padded; an empty signal has no frames', () => {
    expect(splitFrames(new Float32Array(3840))).toMatchObject({ paddedSamples: 0, totalSamples: 3840 });
    expect(splitFrames(new Float32Array(3840)).frames).toHaveLength(2);
    expect(splitFrames(new Float32Array(0))).toEqual({ frames: [], paddedSamples: 0, totalSamples: 0 });
    expect([frameCount(0), frameCount(1), frameCount(1920), frameCount(1921)]).toEqual([0, 1, 1, 2]);
  });

  it('join undoes split for any signal (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 6000 }), fc.integer(), (n, seed) => {
      const x = new Float32Array(n).map((_, i) => Math.sin(i * 0.01 + seed));
      const s = splitFrames(x);
      expect(s.frames.length * FRAME_SAMPLES - s.paddedSamples).toBe(n);
      expect(s.paddedSamples).toBeLessThan(FRAME_SAMPLES);
      expect(joinFrames(s.frames, s.totalSamples)).toEqual(x);
      expect(joinFrames(s.frames)).toHaveLength(s.frames.length * FRAME_SAMPLES);
    }), propParams({ numRuns: 200 }));
  });

  it('join refuses a length that does not belong to the frames', () => {
    const { frames } = splitFrames(new Float32Array(4000));
    expect(() => joinFrames(frames, 3840)).toThrow(/totalSamples 3840 does not fit 3 frame\(s\) \(expected 3841\.\.5760\)/);
    expect(() => joinFrames(frames, 5761)).toThrow(AudioError);
    expect(() => joinFrames([], 1)).toThrow(AudioError);
    expect(() => joinFrames([new Float32Array(100)])).toThrow(expect.objectContaining({ code: 'AUDIO_ERR_BAD_FRAME' }));
  });

  it('validateFrame names what is wrong', () => {
    expect(() => validateFrame(new Float32Array(FRAME_SAMPLES))).not.toThrow();
    const cases: [unknown, string, RegExp][] = [
      [new Float32Array(1919), 'AUDIO_ERR_BAD_FRAME', /1919 samples; a frame is 1920/],
      [new Float64Array(FRAME_SAMPLES), 'AUDIO_ERR_BAD_FRAME', /Float32Array, got Float64Array/],
      [Array(FRAME_SAMPLES).fill(0), 'AUDIO_ERR_BAD_FRAME', /got an Array/],
      [null, 'AUDIO_ERR_BAD_FRAME', /got null/],
      [Object.assign(new Float32Array(FRAME_SAMPLES), { 1919: Infinity }), 'AUDIO_ERR_NON_FINITE', /sample 1919 is Infinity/],
      [Object.assign(new Float32Array(FRAME_SAMPLES), { 3: NaN }), 'AUDIO_ERR_NON_FINITE', /sample 3 is NaN/],
    ];
    for (const [frame, code, message] of cases) {
      expect(() => validateFrame(frame, 'input frame')).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    }
  });
});
