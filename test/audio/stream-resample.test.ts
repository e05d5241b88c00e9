// StreamResampler (the live page's microphone path) against resample(): the same filter,
// so chunked output must equal the whole-signal output sample for sample.
import { describe, expect, it } from 'vitest';
import { resample, StreamResampler } from '../../src/audio/resample.ts';

function signal(n: number, rate: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 440 * i) / rate) + 0.1 * rand());
}

/** Cuts `x` into chunks of pseudo-random sizes (1..max), as an audio callback would. */
function chunks(x: Float32Array, max: number, seed: number): Float32Array[] {
  let s = seed;
  const out: Float32Array[] = [];
  for (let at = 0; at < x.length;) {
    s = (s * 1103515245 + 12345) >>> 0;
    const len = Math.min(x.length - at, 1 + (s % max));
    out.push(x.subarray(at, at + len));
    at += len;
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('StreamResampler', () => {
  for (const [from, to] of [[48000, 24000], [44100, 24000], [16000, 24000], [96000, 24000], [22050, 24000]] as const) {
    it(`${from} → ${to} Hz in uneven chunks equals resample() bit for bit`, () => {
      const x = signal(from / 2, from, from);
      const whole = resample(x, from, to);
      const r = new StreamResampler(from, to);
      const streamed = concat(chunks(x, 700, 7).map((c) => r.push(c)));
      // Only the tail waits for inputs that have not come (half the filter).
      const lag = Math.ceil(((r.spec.taps - 1) / 2) * (to / from)) + 1;
      expect(streamed.length).toBeGreaterThanOrEqual(whole.length - lag);
      expect(streamed.length).toBeLessThanOrEqual(whole.length);
      expect(Buffer.from(streamed.buffer).equals(Buffer.from(whole.buffer, 0, streamed.byteLength))).toBe(true);
    });
  }

  it('keeps memory bounded over a long stream (128-sample blocks, a minute at 48 kHz)', () => {
    const r = new StreamResampler(48000, 24000);
    const block = signal(128, 48000, 3);
    let produced = 0;
    for (let k = 0; k < (60 * 48000) / 128; k++) produced += r.push(block).length;
    expect(Math.abs(produced - 60 * 24000)).toBeLessThan(r.spec.taps);
    expect((r as unknown as { buf: Float32Array }).buf.length).toBeLessThanOrEqual(8192);
  });

  it('refuses non-finite input with an AudioError', () => {
    const r = new StreamResampler(48000);
    expect(() => r.push(Float32Array.of(0, Number.NaN))).toThrow(/sample 1 is NaN/);
  });
});
