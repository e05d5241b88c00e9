// The live page's pure parts, under Node: the framing the capture worklet runs, the jitter
// buffer the playback worklet runs, the latency readout and the link parameters. The
// browser e2e (live.test.ts) runs them for real; here each rule is pinned on its own.
import { describe, expect, it } from 'vitest';
import { resample } from '../../src/audio/resample.ts';
import { parseConfig } from '../../viewer/live/config.ts';
import { Framer } from '../../viewer/live/framer.ts';
import { StepLatency } from '../../viewer/live/latency.ts';
import { Playout } from '../../viewer/live/playout.ts';

const ramp = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => ((from + i) % 1000) / 1000);

function render(p: Playout, quanta: number): { out: Float32Array; underruns: number } {
  const out = new Float32Array(quanta * 128);
  let underruns = 0;
  for (let q = 0; q < quanta; q++) {
    const block = new Float32Array(128);
    if (p.render(block)) underruns++;
    out.set(block, q * 128);
  }
  return { out, underruns };
}

describe('Framer', () => {
  it('cuts 128-sample blocks at 24 kHz into exact 1920-sample frames, in order, nothing lost', () => {
    const f = new Framer(24000);
    const signal = ramp(128 * 100);
    const frames = Array.from({ length: 100 }, (_, k) => f.push(signal.subarray(k * 128, (k + 1) * 128))).flat();
    expect(f.resampling).toBe(false);
    expect(frames).toHaveLength(Math.floor((128 * 100) / 1920));
    frames.forEach((fr, k) => expect(fr).toEqual(signal.subarray(k * 1920, (k + 1) * 1920)));
  });

  it('cuts into chunks of a frame when asked (the Moshi protocol sends a page per 40 ms), in order, nothing lost', () => {
    const f = new Framer(24000, 960);
    const signal = ramp(128 * 100);
    const chunks = Array.from({ length: 100 }, (_, k) => f.push(signal.subarray(k * 128, (k + 1) * 128))).flat();
    expect(chunks).toHaveLength(Math.floor((128 * 100) / 960));
    chunks.forEach((c, k) => expect(c).toEqual(signal.subarray(k * 960, (k + 1) * 960)));
    expect(() => new Framer(24000, 1000)).toThrow(/must divide 1920/);
  });

  it('at 48 kHz gives the frames of resample() over the whole signal', () => {
    const f = new Framer(48000);
    const signal = Float32Array.from({ length: 48000 }, (_, i) => Math.sin(i / 7) * 0.5);
    const frames = Array.from({ length: 48000 / 128 }, (_, k) => f.push(signal.subarray(k * 128, (k + 1) * 128))).flat();
    const whole = resample(signal, 48000, 24000);
    expect(f.resampling).toBe(true);
    expect(frames.length).toBe(12); // 24000 samples minus the filter's look-ahead: 12 whole frames
    frames.forEach((fr, k) => expect(fr).toEqual(whole.subarray(k * 1920, (k + 1) * 1920)));
  });
});

describe('Playout (playback jitter buffer)', () => {
  const opts = { target: 256, maxTarget: 512, growBy: 128, capacity: 2048 };

  it('waits for the target, then plays frames in order', () => {
    const p = new Playout(opts);
    p.push(ramp(200));
    expect(render(p, 1).out.every((x) => x === 0)).toBe(true);
    expect(p.stats().state).toBe('buffering');
    p.push(ramp(200, 200));
    const { out, underruns } = render(p, 4);
    expect(out.subarray(0, 400)).toEqual(ramp(400));
    expect(out.subarray(400).every((x) => x === 0)).toBe(true);
    expect(underruns).toBe(1);
    expect(p.stats()).toMatchObject({ state: 'buffering', underruns: 1, playedSamples: 400, missedSamples: 112 });
  });

  it('an underrun plays silence, counts it as missed, grows the target; the late audio still plays', () => {
    const p = new Playout(opts);
    p.push(ramp(256));
    const first = render(p, 3); // 256 played, then dry for 128
    expect(first.underruns).toBe(1);
    expect(p.stats()).toMatchObject({ underruns: 1, missedSamples: 128, targetSamples: 384 });
    p.push(ramp(300, 256));
    render(p, 1); // 300 < 384: still buffering, still missing
    expect(p.stats()).toMatchObject({ state: 'buffering', missedSamples: 256 });
    p.push(ramp(200, 556));
    const { out } = render(p, 1);
    expect(out).toEqual(ramp(128, 256)); // resumes exactly where it stopped: nothing dropped
    // Growth stops at maxTarget.
    for (let i = 0; i < 5; i++) {
      render(p, 10);
      p.push(ramp(1000));
    }
    expect(p.stats().targetSamples).toBe(512);
  });

  it('drops the oldest audio above capacity and counts it', () => {
    const p = new Playout(opts);
    p.push(ramp(2000));
    p.push(ramp(100, 2000));
    expect(p.stats()).toMatchObject({ droppedSamples: 52, heldSamples: 2048 });
    expect(render(p, 1).out).toEqual(ramp(128, 52));
  });

  it('at the end of the stream plays what is held, below the target, with no underrun', () => {
    const p = new Playout(opts);
    p.push(ramp(100));
    p.finish();
    const { out, underruns } = render(p, 2);
    expect(out.subarray(0, 100)).toEqual(ramp(100));
    expect(underruns).toBe(0);
    expect(p.stats()).toMatchObject({ state: 'ended', missedSamples: 0 });
  });
});

describe('StepLatency', () => {
  it('pairs each audio packet with the frame of its step, skipping steps the server said have no audio', () => {
    const l = new StepLatency();
    for (let k = 0; k < 4; k++) l.sent(k, k * 80);
    l.gap(0);
    expect(l.audio(130)).toEqual({ step: 1, ms: 50 });
    expect(l.audio(300)).toEqual({ step: 2, ms: 140 });
    expect(l.summary()).toMatchObject({ last: 140, count: 2, overBudget: 1, max: 140 });
  });
});

describe('parseConfig', () => {
  it('defaults to the server `solacelive serve` starts, its packet protocol, 24 kHz, echo cancellation on', () => {
    expect(parseConfig('')).toEqual({ server: 'ws://127.0.0.1:8788/', protocol: 'solacelive', record: false, seed: null, sampling: null, rate: 24000, echoCancellation: true });
    expect(parseConfig('?server=ws://10.0.0.2:9000/x&record=1&seed=7&sampling=greedy&rate=device&aec=0&protocol=moshi'))
      .toEqual({ server: 'ws://10.0.0.2:9000/x', protocol: 'moshi', record: true, seed: 7, sampling: 'greedy', rate: null, echoCancellation: false });
  });

  it('refuses what it cannot use, saying what it expected', () => {
    expect(() => parseConfig('?server=http://127.0.0.1:8788/')).toThrow(/WebSocket: ws:\/\/host:port/);
    expect(() => parseConfig('?seed=-1')).toThrow(/integer 0\.\.4294967295/);
    expect(() => parseConfig('?rate=fast')).toThrow(/"device" or a rate in Hz/);
    expect(() => parseConfig('?protocol=kyutai')).toThrow(/protocol=kyutai: expected solacelive or moshi/);
  });
});
