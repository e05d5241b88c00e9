import { afterEach, describe, expect, it, vi } from 'vitest';
import { AudioError } from '../../src/audio/errors.ts';
import { FRAME_SAMPLES } from '../../src/audio/frames.ts';
import { JitterBuffer } from '../../src/audio/jitter.ts';
import type { JitterEvent, JitterPacket, JitterTick } from '../../src/audio/jitter.ts';

/** A packet whose samples carry its own sequence number, so a played frame can be identified. */
function pkt(seq: number): JitterPacket {
  const samples = new Float32Array(FRAME_SAMPLES);
  samples[0] = seq % 1000 / 1000;
  samples[1] = 1;
  return { seq, samples };
}

const summary = (t: JitterTick) => (t.status === 'waiting' ? 'wait' : `${t.status === 'played' ? 'P' : 'M'}${t.seq}`);

function run(jb: JitterBuffer, n: number, t0 = 0): JitterTick[] {
  return Array.from({ length: n }, (_, i) => jb.tick(t0 + i * 80));
}

describe('jitter buffer', () => {
  afterEach(() => vi.restoreAllMocks());

  it('plays an in-order stream one frame per tick, after prebuffering', () => {
    const jb = new JitterBuffer({ prebuffer: 2 });
    const ticks: string[] = [];
    for (let i = 0; i < 5; i++) {
      expect(jb.push(pkt(i), i * 80)).toEqual([]);
      ticks.push(summary(jb.tick(i * 80 + 1)));
    }
    expect(ticks).toEqual(['wait', 'P0', 'P1', 'P2', 'P3']);
    const s = jb.stats();
    expect([s.pushed, s.played, s.waiting, s.missing, s.depth, s.maxDepth]).toEqual([5, 4, 1, 0, 1, 2]);
  });

  it('returns the very samples pushed, and reports how long each waited', () => {
    const jb = new JitterBuffer({ prebuffer: 1 });
    const p = pkt(7);
    jb.push(p, 1000);
    const t = jb.tick(1045);
    expect(t.frame).toBe(p.samples);
    expect(t.waitedMs).toBe(45);
    expect(t.events).toEqual([{ type: 'start', seq: 7, at: 1045 }]);
  });

  it('reorders: a packet arriving before its predecessor is played in sequence order', () => {
    const jb = new JitterBuffer({ prebuffer: 2 });
    jb.push(pkt(11), 0);
    jb.push(pkt(10), 5); // earlier one arrives second: playout start moves back to 10
    jb.push(pkt(13), 10);
    jb.push(pkt(12), 15);
    expect(run(jb, 4).map(summary)).toEqual(['P10', 'P11', 'P12', 'P13']);
    expect(jb.stats().reordered).toBe(2);
  });

  it('plays silence for a missing packet, records it, and drops the packet if it turns up later', () => {
    const jb = new JitterBuffer({ prebuffer: 1, startSeq: 0 });
    jb.push(pkt(0), 0);
    jb.push(pkt(2), 10);
    const ticks = run(jb, 2);
    expect(ticks.map(summary)).toEqual(['P0', 'M1']);
    expect(ticks[1]!.events).toEqual([{ type: 'missing', seq: 1, at: 80 }]);
    expect(Array.from(ticks[1]!.frame).every((x) => x === 0)).toBe(true);
    expect(ticks[1]!.frame).toHaveLength(FRAME_SAMPLES);
    expect(jb.push(pkt(1), 100)).toEqual([{ type: 'late', seq: 1, at: 100, behind: 1 }]);
    expect(summary(jb.tick(160))).toBe('P2');
    expect(jb.stats()).toMatchObject({ missing: 1, late: 1, played: 2, depth: 0 });
  });

  it('drops duplicates, whether still held or already played', () => {
    const jb = new JitterBuffer({ prebuffer: 1 });
    jb.push(pkt(5), 0);
    expect(jb.push(pkt(5), 1)).toEqual([{ type: 'duplicate', seq: 5, at: 1, alreadyPlayed: false }]);
    jb.tick(2);
    expect(jb.push(pkt(5), 3)).toEqual([{ type: 'duplicate', seq: 5, at: 3, alreadyPlayed: true }]);
    expect(jb.stats()).toMatchObject({ pushed: 3, played: 1, duplicates: 2, late: 0 });
  });

  it('bounds its depth: a packet beyond the window drops the oldest held ones and counts them', () => {
    const jb = new JitterBuffer({ capacity: 3, prebuffer: 1, startSeq: 0 });
    for (let i = 0; i < 3; i++) expect(jb.push(pkt(i), i)).toEqual([]);
    expect(jb.push(pkt(3), 3)).toEqual([
      { type: 'overflow', seq: 0, at: 3, causedBy: 3 },
      { type: 'skip', fromSeq: 0, count: 1, empty: 0, at: 3 },
    ]);
    jb.push(pkt(4), 4);
    expect(jb.depth).toBe(3);
    expect(run(jb, 3).map(summary)).toEqual(['P2', 'P3', 'P4']);
    expect(jb.stats()).toMatchObject({ overflow: 2, skipped: 0, played: 3, maxDepth: 3 });
  });

  it('a far jump re-anchors the window: held packets dropped, empty slots counted as skipped', () => {
    const jb = new JitterBuffer({ capacity: 4, prebuffer: 1 });
    jb.push(pkt(100), 0);
    jb.push(pkt(101), 0);
    const events = jb.push(pkt(1000), 1);
    expect(events.filter((e) => e.type === 'overflow').map((e) => e.seq)).toEqual([100, 101]);
    expect(events.at(-1)).toEqual({ type: 'skip', fromSeq: 100, count: 897, empty: 895, at: 1 });
    expect(jb.nextSeq).toBe(997);
    expect(run(jb, 4).map(summary)).toEqual(['M997', 'M998', 'M999', 'P1000']);
    expect(jb.stats()).toMatchObject({ skipped: 895, overflow: 2, missing: 3 });
  });

  it('before playout, an early packet that would not fit the window with the rest is dropped', () => {
    const jb = new JitterBuffer({ capacity: 3, prebuffer: 3 });
    jb.push(pkt(10), 0);
    jb.push(pkt(12), 0);
    expect(jb.push(pkt(9), 0)).toEqual([{ type: 'overflow', seq: 9, at: 0, causedBy: 9 }]);
    jb.push(pkt(11), 0);
    expect(run(jb, 3).map(summary)).toEqual(['P10', 'P11', 'P12']);
    const one = new JitterBuffer({ capacity: 1, prebuffer: 1 });
    one.push(pkt(5), 0);
    expect(one.push(pkt(4), 0)).toEqual([{ type: 'overflow', seq: 4, at: 0, causedBy: 4 }]);
    expect(one.depth).toBe(1);
  });

  it('with startSeq, packets before the start are late even before playout', () => {
    const jb = new JitterBuffer({ startSeq: 50, prebuffer: 1 });
    expect(jb.push(pkt(49), 0)).toEqual([{ type: 'late', seq: 49, at: 0, behind: 1 }]);
    expect(jb.nextSeq).toBe(50);
  });

  it('prebuffer 0 with a start plays silence on schedule until packets come', () => {
    const jb = new JitterBuffer({ startSeq: 0, prebuffer: 0 });
    const first = jb.tick(0);
    expect(first.status).toBe('missing');
    expect(first.events).toEqual([{ type: 'start', seq: 0, at: 0 }, { type: 'missing', seq: 0, at: 0 }]);
  });

  it('orders across the u32 wrap', () => {
    const jb = new JitterBuffer({ prebuffer: 4 });
    for (const s of [0xffffffff, 1, 0xfffffffe, 0]) jb.push(pkt(s), 0);
    expect(run(jb, 4).map((t) => t.seq)).toEqual([0xfffffffe, 0xffffffff, 0, 1]);
  });

  it('drain plays out what is left, gaps included, even if prebuffering never finished', () => {
    const jb = new JitterBuffer({ prebuffer: 4 });
    jb.push(pkt(3), 0);
    jb.push(pkt(5), 0);
    expect(summary(jb.tick(0))).toBe('wait');
    const out = jb.drain(80);
    expect(out.map(summary)).toEqual(['P3', 'M4', 'P5']);
    expect(out[0]!.events).toEqual([{ type: 'start', seq: 3, at: 80 }]);
    expect(jb.depth).toBe(0);
    expect(new JitterBuffer().drain(0)).toEqual([]);
  });

  it('silent frames are fresh arrays (a consumer writing into one cannot corrupt the next)', () => {
    const jb = new JitterBuffer({ startSeq: 0, prebuffer: 0 });
    const a = jb.tick(0).frame;
    a[0] = 1;
    expect(jb.tick(80).frame[0]).toBe(0);
  });

  it('uses no clock of its own', () => {
    const boom = () => { throw new Error('clock read'); };
    vi.spyOn(Date, 'now').mockImplementation(boom);
    vi.spyOn(performance, 'now').mockImplementation(boom);
    const jb = new JitterBuffer({ prebuffer: 1 });
    jb.push(pkt(1), 5);
    jb.push(pkt(3), 6);
    run(jb, 4);
    jb.push(pkt(2), 400);
    expect(jb.stats().ticks).toBe(4);
  });

  it('events are plain data that survive JSON (for the session recorder)', () => {
    const jb = new JitterBuffer({ capacity: 2, prebuffer: 1, startSeq: 0 });
    const events: JitterEvent[] = [];
    events.push(...jb.push(pkt(0), 0), ...jb.push(pkt(0), 1), ...jb.push(pkt(5), 2));
    for (const t of run(jb, 3)) events.push(...t.events);
    events.push(...jb.push(pkt(1), 300));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['duplicate', 'overflow', 'skip', 'start', 'missing', 'late']));
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });

  it('refuses malformed packets and options without changing state', () => {
    const jb = new JitterBuffer();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(AudioError);
        return (err as AudioError).code;
      }
      return 'no error';
    };
    expect(code(() => jb.push({ seq: -1, samples: new Float32Array(FRAME_SAMPLES) }, 0))).toBe('AUDIO_ERR_BAD_ARGUMENT');
    expect(code(() => jb.push({ seq: 2 ** 32, samples: new Float32Array(FRAME_SAMPLES) }, 0))).toBe('AUDIO_ERR_BAD_ARGUMENT');
    expect(code(() => jb.push({ seq: 1, samples: new Float32Array(960) }, 0))).toBe('AUDIO_ERR_BAD_FRAME');
    const nan = new Float32Array(FRAME_SAMPLES);
    nan[7] = NaN;
    expect(code(() => jb.push({ seq: 1, samples: nan }, 0))).toBe('AUDIO_ERR_NON_FINITE');
    expect(code(() => jb.push(pkt(1), NaN))).toBe('AUDIO_ERR_BAD_ARGUMENT');
    expect(jb.stats().pushed).toBe(0);
    expect(jb.nextSeq).toBeUndefined();
    expect(code(() => new JitterBuffer({ capacity: 0 }))).toBe('AUDIO_ERR_BAD_ARGUMENT');
    expect(code(() => new JitterBuffer({ capacity: 2, prebuffer: 3 }))).toBe('AUDIO_ERR_BAD_ARGUMENT');
    expect(code(() => new JitterBuffer({ startSeq: 1.5 }))).toBe('AUDIO_ERR_BAD_ARGUMENT');
  });
});
