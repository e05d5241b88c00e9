import { describe, expect, it } from 'vitest';
import { Cadence } from '../../src/server/cadence.ts';

const realtime = () => new Cadence({ pace: 'realtime', lateToleranceMs: 40, missingFrameMs: 400 });

describe('Cadence at real-time pace', () => {
  it('accepts frames on their 80 ms slots without events, whatever the constant network delay', () => {
    const c = realtime();
    for (let k = 0; k < 50; k++) expect(c.arrive(1000 + 35 + k * 80)).toEqual({ kind: 'accepted', index: k, lateMs: null });
    expect(c.overdue(1000 + 35 + 49 * 80 + 100)).toEqual([]);
  });

  it('tolerates jitter up to the tolerance, and reports a later frame with how late it was', () => {
    const c = realtime();
    c.arrive(0);
    expect(c.arrive(80 + 40)).toEqual({ kind: 'accepted', index: 1, lateMs: null });
    expect(c.arrive(160 + 95)).toEqual({ kind: 'accepted', index: 2, lateMs: 95 });
    // The late frame did not move the schedule: the next on-time frame is not late.
    expect(c.arrive(240)).toEqual({ kind: 'accepted', index: 3, lateMs: null });
  });

  it('follows the earliest arrivals: after a faster path, the old delay counts as lateness', () => {
    const c = realtime();
    c.arrive(100); // slow first frame
    c.arrive(80 + 10); // path got 90 ms faster
    expect(c.arrive(160 + 100)).toMatchObject({ lateMs: 90 });
  });

  it('fills a slot with silence once its frame is missingFrameMs overdue, and drops that frame when it comes', () => {
    const c = realtime();
    c.arrive(0);
    c.arrive(80);
    expect(c.nextDeadline()).toBe(160 + 400);
    expect(c.overdue(559)).toEqual([]);
    expect(c.overdue(560)).toEqual([2]);
    expect(c.overdue(639)).toEqual([]);
    expect(c.overdue(640)).toEqual([3]);
    expect(c.arrive(700)).toEqual({ kind: 'dropped', index: 2 });
    expect(c.slotsFilled).toBe(4);
  });

  it('an outage costs the frames of the outage and no more (the schedule re-anchors on the late stream)', () => {
    const c = realtime();
    for (let k = 0; k < 10; k++) c.arrive(k * 80);
    // The client stalls for 1 s, then resumes 1 s behind (no catch-up burst).
    let t = 9 * 80;
    const filled: number[] = [];
    for (; t < 9 * 80 + 1000; t += 10) filled.push(...c.overdue(t));
    expect(filled.length).toBeGreaterThan(0);
    const results = [];
    for (let k = 10; k < 40; k++) results.push(c.arrive(k * 80 + 1000));
    const dropped = results.filter((r) => r.kind === 'dropped').length;
    expect(dropped).toBe(filled.length);
    expect(results.slice(dropped).every((r) => r.kind === 'accepted' && r.lateMs === null)).toBe(true);
    // Once caught up, nothing more is overdue while frames keep coming on time.
    expect(c.overdue(39 * 80 + 1000 + 50)).toEqual([]);
  });

  it('bounds how many slots one call fills, and leaves the rest for later', () => {
    const c = realtime();
    c.arrive(0);
    expect(c.overdue(80 * 10 + 400, 3)).toEqual([1, 2, 3]);
    expect(c.overdue(80 * 10 + 400)).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });

  it('has nothing overdue before the first frame or after the end', () => {
    const c = realtime();
    expect(c.nextDeadline()).toBeNull();
    expect(c.overdue(1e9)).toEqual([]);
    c.arrive(0);
    c.end();
    expect(c.nextDeadline()).toBeNull();
    expect(c.overdue(1e9)).toEqual([]);
  });
});

describe('Cadence at fast pace', () => {
  it('never calls a frame late or missing', () => {
    const c = new Cadence({ pace: 'fast', lateToleranceMs: 40, missingFrameMs: 400 });
    c.arrive(0);
    c.arrive(1);
    expect(c.arrive(5000)).toEqual({ kind: 'accepted', index: 2, lateMs: null });
    expect(c.nextDeadline()).toBeNull();
    expect(c.overdue(1e9)).toEqual([]);
    expect(c.framesReceived).toBe(3);
  });
});
