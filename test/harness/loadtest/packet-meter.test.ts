// The packet meter judges a SolaceLive connection as the Moshi meter judges a Moshi one:
// each lag point sits on the step it answers (so the viewer's lag lane places it on the
// right frame), and stalls and client time-outs come from the same derivations.
import { describe, expect, it } from 'vitest';
import { FRAME_MS, FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import { PacketMeter } from '../../../harness/loadtest/packet-meter.ts';

const silence = new Float32Array(FRAME_SAMPLES);

describe('PacketMeter', () => {
  it('names the frame each lag point answers, skipping steps that never came back', () => {
    const m = new PacketMeter({ stallMs: 500 });
    m.handshake(5);
    for (let k = 0; k < 10; k++) m.clientFrame(k, 10 + k * FRAME_MS, silence);
    // Step 3's audio never comes back; step 6 comes 700 ms late: a stall of the server's audio.
    for (const s of [0, 1, 2, 4, 5, 6, 7]) {
      const t = 10 + s * FRAME_MS + 30 + (s >= 6 ? 700 : 0);
      m.message('server', new Uint8Array(8), t);
      m.audio(s, t, silence);
    }
    const f = m.figures();
    expect(f.lag.frames!.map((j) => j + f.lag.warmupFrames)).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(f.lag.series.map(([, lag]) => lag)).toEqual([30, 30, 30, 30, 30, 730, 730]);
    expect(f.stalls.list).toEqual([{ atMs: 10 + 5 * FRAME_MS + 30, durationMs: FRAME_MS + 700 }]);
    expect(f.late.frames).toEqual([5, 6]);
  });

  it('gives lag growth only over frames spanning the minimum, as the Moshi meter does', () => {
    // Lag growing 1 ms a frame: 750 ms per minute over any span.
    const run = (frames: number, growthMinMs?: number) => {
      const m = new PacketMeter(growthMinMs === undefined ? {} : { growthMinMs });
      for (let k = 0; k < frames; k++) {
        m.clientFrame(k, k * FRAME_MS, silence);
        m.message('server', new Uint8Array(8), k * FRAME_MS + 20 + k);
        m.audio(k, k * FRAME_MS + 20 + k, silence);
      }
      return m.figures().lag;
    };
    const short = run(25);
    expect(short.slopeMsPerMin).toBeNull();
    expect(short.slopeNullReason).toMatch(/over >= 20 s; these span 1\.\d+ s \(25 frames\)/);
    expect(run(25, 1000).slopeMsPerMin).toBeCloseTo(60_000 / (FRAME_MS + 1), 1);
    expect(run(300).slopeMsPerMin).toBeCloseTo(60_000 / (FRAME_MS + 1), 1);
  });
});
