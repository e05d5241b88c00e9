import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioError } from '../../src/audio/errors.ts';
import { resample, resamplerSpec, toMono, toMono24k } from '../../src/audio/resample.ts';
import { propParams } from '../props.ts';

function tone(hz: number, rate: number, seconds: number, amp = 0.5, phase = 0): Float32Array {
  const n = Math.round(rate * seconds);
  return new Float32Array(n).map((_, i) => amp * Math.sin(2 * Math.PI * hz * (i / rate) + phase));
}

/**
 * Least-squares fit of a sinusoid at exactly `hz` over the middle 60 % of y (edges excluded:
 * the signal is zero-padded outside itself). A frequency error or any spurious component
 * (aliases, images) shows up as residual, so snrDb bounds all of them at once.
 */
function fit(y: Float32Array, hz: number, rate: number) {
  const a = Math.floor(y.length * 0.2);
  const b = Math.floor(y.length * 0.8);
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0, yy = 0;
  for (let i = a; i < b; i++) {
    const w = 2 * Math.PI * hz * (i / rate);
    const s = Math.sin(w), c = Math.cos(w), v = y[i]!;
    ss += s * s; cc += c * c; sc += s * c; ys += v * s; yc += v * c; yy += v * v;
  }
  const det = ss * cc - sc * sc;
  const A = (ys * cc - yc * sc) / det;
  const B = (yc * ss - ys * sc) / det;
  let err = 0;
  for (let i = a; i < b; i++) {
    const w = 2 * Math.PI * hz * (i / rate);
    const e = y[i]! - A * Math.sin(w) - B * Math.cos(w);
    err += e * e;
  }
  return { amp: Math.hypot(A, B), phase: Math.atan2(B, A), snrDb: 10 * Math.log10((yy - err) / err), rms: Math.sqrt(yy / (b - a)) };
}

const db = (ratio: number): number => 20 * Math.log10(ratio);

describe('resampler quality', () => {
  it('48 kHz → 24 kHz keeps a 1 kHz sine: amplitude within 0.001 dB, no delay, SNR > 110 dB', () => {
    const y = resample(tone(1000, 48000, 1), 48000, 24000);
    expect(y.length).toBe(24000);
    const r = fit(y, 1000, 24000);
    expect(Math.abs(db(r.amp / 0.5))).toBeLessThan(0.001);
    expect(Math.abs(r.phase)).toBeLessThan(1e-6); // a 1-sample delay would be 0.26 rad
    expect(r.snrDb).toBeGreaterThan(110);
  });

  it('48 kHz → 24 kHz suppresses a 15 kHz tone (which would alias to 9 kHz) by > 100 dB', () => {
    const y = resample(tone(15000, 48000, 1), 48000, 24000);
    expect(db(fit(y, 9000, 24000).rms / (0.5 / Math.SQRT2))).toBeLessThan(-100);
    // Against plain decimation, which keeps it at full level: the test can tell the two apart.
    const naive = tone(15000, 48000, 1).filter((_, i) => i % 2 === 0);
    expect(db(fit(naive, 9000, 24000).rms / (0.5 / Math.SQRT2))).toBeGreaterThan(-1);
  });

  it.each([44100, 48000, 96000])('%i Hz → 24 kHz: flat to 10 kHz, ≥ 100 dB down from 12.5 kHz up', (from) => {
    for (const hz of [1000, 5000, 10000]) {
      const r = fit(resample(tone(hz, from, 0.5), from, 24000), hz, 24000);
      expect(Math.abs(db(r.amp / 0.5)), `${hz} Hz gain`).toBeLessThan(0.001);
      expect(r.snrDb, `${hz} Hz SNR`).toBeGreaterThan(110);
    }
    for (const hz of [12500, 15000, 20000]) {
      const y = resample(tone(hz, from, 0.5), from, 24000);
      expect(db(fit(y, 0, 24000).rms / (0.5 / Math.SQRT2)), `${hz} Hz leak`).toBeLessThan(-100);
    }
  });

  it.each([8000, 11025, 16000, 22050, 32000])('%i Hz → 24 kHz (upsampling): a 1 kHz sine is clean, images removed', (from) => {
    const r = fit(resample(tone(1000, from, 0.5), from, 24000), 1000, 24000);
    expect(Math.abs(db(r.amp / 0.5))).toBeLessThan(0.001);
    expect(Math.abs(r.phase)).toBeLessThan(1e-6);
    expect(r.snrDb).toBeGreaterThan(110);
  });

  it('an impulse lands at the same time in the output (zero delay, symmetric)', () => {
    for (const from of [44100, 48000, 16000]) {
      const x = new Float32Array(from); // 1 s
      x[from / 10] = 1; // t = 100 ms
      const y = resample(x, from, 24000);
      let peak = 0;
      for (let i = 1; i < y.length; i++) if (y[i]! > y[peak]!) peak = i;
      expect(peak, `${from}`).toBe(2400);
      expect(y[2400 - 5]).toBeCloseTo(y[2400 + 5]!, 6);
    }
  });

  it('unit gain at DC for every phase (44.1 kHz has 80 of them)', () => {
    const y = resample(new Float32Array(44100).fill(0.5), 44100, 24000);
    const interior = y.subarray(1000, y.length - 1000);
    expect(Math.max(...Array.from(interior, (v) => Math.abs(v - 0.5)))).toBeLessThan(1e-6);
  });
});

describe('resampler contract', () => {
  it('reports its design', () => {
    expect(resamplerSpec(44100)).toMatchObject({ fromRate: 44100, toRate: 24000, up: 80, down: 147, passbandHz: 10800, stopbandHz: 12000, stopbandDb: 100 });
    expect(resamplerSpec(48000)).toMatchObject({ up: 1, down: 2 });
    expect(resamplerSpec(16000)).toMatchObject({ up: 3, down: 2, stopbandHz: 8000 });
  });

  it('output length is ceil(n · to / from), for any length and common rate (property)', () => {
    const rates = fc.constantFrom(8000, 11025, 16000, 22050, 24000, 44100, 48000);
    fc.assert(fc.property(fc.integer({ min: 0, max: 3000 }), rates, (n, from) => {
      const y = resample(new Float32Array(n), from, 24000);
      expect(y.length).toBe(Math.floor((n * 24000 + from - 1) / from)); // integer ceil
    }), propParams({ numRuns: 300 }));
  });

  it('is deterministic and pure: same bytes twice, input untouched, a new array when rates match', () => {
    const x = tone(440, 44100, 0.2, 0.7, 0.3);
    const before = x.slice();
    const a = resample(x, 44100, 24000);
    const b = resample(x, 44100, 24000);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(x).toEqual(before);
    const same = resample(x, 44100, 44100);
    expect(same).toEqual(x);
    expect(same).not.toBe(x);
  });

  it('refuses bad rates and non-finite input', () => {
    expect(() => resample(new Float32Array(4), 0)).toThrow(expect.objectContaining({ code: 'AUDIO_ERR_SAMPLE_RATE' }));
    expect(() => resample(new Float32Array(4), 22050.5)).toThrow(/22050.5 Hz/);
    expect(() => resample(new Float32Array(4), 48000, 10_000_000)).toThrow(/output sample rate/);
    expect(() => resample(new Float32Array([0, NaN]), 48000)).toThrow(expect.objectContaining({ code: 'AUDIO_ERR_NON_FINITE', index: 1 }));
  });
});

describe('downmix and the 24 kHz mono helper', () => {
  it('toMono averages channels and copies a single one', () => {
    const l = new Float32Array([1, 0.5, -1]);
    const r = new Float32Array([0, 0.5, 0]);
    expect(Array.from(toMono([l, r]))).toEqual([0.5, 0.5, -0.5]);
    const m = toMono([l]);
    expect(m).toEqual(l);
    expect(m).not.toBe(l);
  });

  it('toMono refuses no channels and ragged ones', () => {
    expect(() => toMono([])).toThrow(AudioError);
    expect(() => toMono([new Float32Array(2), new Float32Array(3)])).toThrow(/channel 1 has 3 samples but channel 0 has 2/);
  });

  it('toMono24k says what it did', () => {
    const st = [tone(1000, 44100, 0.1), tone(1000, 44100, 0.1)];
    const r = toMono24k(st, 44100);
    expect(r.summary).toBe('resampled 44100 → 24000 Hz, downmixed 2 → 1 channels');
    expect([r.sampleRate, r.fromRate, r.fromChannels, r.resampled, r.downmixed]).toEqual([24000, 44100, 2, true, true]);
    expect(r.samples.length).toBe(2400);
    const same = toMono24k([tone(1000, 24000, 0.1)], 24000);
    expect(same.summary).toBe('already 24000 Hz mono');
    expect([same.resampled, same.downmixed, same.samples.length]).toEqual([false, false, 2400]);
    expect(toMono24k([new Float32Array(10), new Float32Array(10)], 24000).summary).toBe('downmixed 2 → 1 channels');
    expect(toMono24k([new Float32Array(10)], 48000).summary).toBe('resampled 48000 → 24000 Hz');
  });
});
