// FrameCutter turns decoded Opus packets (480 or 960 samples) into exact 1920-sample Mimi frames.
import { describe, expect, it } from 'vitest';
import { FrameCutter, FRAME_SAMPLES, joinFrames } from '../../src/audio/browser.ts';

describe('FrameCutter', () => {
  it('cuts pieces of any length into whole frames in order, keeping the remainder for later', () => {
    const signal = Float32Array.from({ length: 3 * FRAME_SAMPLES + 700 }, (_, i) => Math.sin(i / 9));
    for (const piece of [1, 480, 960, 1919, 1920, 5000]) {
      const cut = new FrameCutter();
      const frames: Float32Array[] = [];
      for (let at = 0; at < signal.length; at += piece) frames.push(...cut.push(signal.subarray(at, at + piece)));
      expect(frames.length).toBe(3);
      expect(cut.pending).toBe(700);
      const tail = cut.flush()!;
      expect(tail.paddedSamples).toBe(FRAME_SAMPLES - 700);
      expect(joinFrames([...frames, tail.frame], signal.length)).toEqual(signal);
      expect(cut.flush()).toBeNull();
    }
  });

  it('hands out copies: later pushes never change a frame already returned', () => {
    const cut = new FrameCutter();
    const [first] = cut.push(new Float32Array(FRAME_SAMPLES).fill(0.5));
    cut.push(new Float32Array(FRAME_SAMPLES).fill(-0.5));
    expect(first!.every((x) => x === 0.5)).toBe(true);
  });
});
