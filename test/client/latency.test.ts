import { describe, expect, it } from 'vitest';
import { LatencyTracker } from '../../src/client/latency.ts';

describe('LatencyTracker', () => {
  it('pairs audio with frames in step order, skipping steps announced as gaps', () => {
    const l = new LatencyTracker();
    for (let k = 0; k < 5; k++) l.sent(k, k * 80);
    l.gap(0); // warm-up
    expect(l.audio(130)).toBe(1);
    expect(l.audio(210)).toBe(2);
    l.gap(3);
    expect(l.audio(370)).toBe(4);
    const r = l.report();
    expect(l.assignments()).toEqual([1, 2, 4]);
    expect(r.window).toBe(3);
    expect([r.p50, r.max]).toEqual([50, 50]);
    expect(r.firstAudioMs).toBe(130);
    expect(r.unmatched).toBe(0);
  });

  it('corrects the pairing when a gap notice arrives after later audio (congested socket)', () => {
    const l = new LatencyTracker();
    for (let k = 0; k < 4; k++) l.sent(k, k * 80);
    expect(l.audio(100)).toBe(0);
    expect(l.audio(400)).toBe(1); // really step 3: steps 1 and 2 skipped their decode
    l.gap(1);
    l.gap(2);
    expect(l.assignments()).toEqual([0, 3]);
    const r = l.report();
    expect([r.p50, r.max]).toEqual([100, 160]);
  });

  it('counts audio it cannot pair', () => {
    const l = new LatencyTracker();
    l.sent(0, 0);
    l.audio(10);
    l.audio(20);
    expect(l.report().unmatched).toBe(1);
  });

  it('leaves out steps whose frame the server replaced with silence (their frame came after them)', () => {
    const l = new LatencyTracker();
    l.sent(0, 0);
    l.sent(1, 500); // late: step 1 already ran with silence
    l.replacement(1);
    l.audio(40);
    l.audio(120);
    const r = l.report();
    expect(r.window).toBe(1);
    expect(r.p50).toBe(40);
    expect(r.replaced).toBe(1);
  });
});
