import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../src/audio/frames.ts';
import { JitterBuffer } from '../../src/audio/jitter.ts';
import type { JitterEvent, JitterTick } from '../../src/audio/jitter.ts';
import { propParams } from '../props.ts';

const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffffc0, max: 0xffffffff }));
const add = (s: number, n: number) => (s + n) >>> 0;
/** Serial distance a → b (independent of the implementation's own helper). */
const diff = (a: number, b: number) => {
  const d = (b - a) >>> 0;
  return d >= 2 ** 31 ? d - 2 ** 32 : d;
};

interface Sent { seq: number; samples: Float32Array }

function check(ok: boolean, what: string, detail?: unknown): void {
  if (!ok) throw new Error(`${what} does not hold: ${JSON.stringify(detail)}`);
}

/**
 * A scenario: a start number, a set of slot offsets that have packets, some of them sent twice,
 * all in some arrival order, with 0-3 ticks after each arrival, then a drain.
 */
const scenario = fc
  .record({
    start: u32,
    n: fc.integer({ min: 1, max: 40 }),
    capacity: fc.integer({ min: 1, max: 12 }),
    prebufferFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    fixedStart: fc.boolean(),
  })
  .chain((base) => fc.record({
    base: fc.constant(base),
    offsets: fc.uniqueArray(fc.integer({ min: 0, max: base.n - 1 }), { minLength: 1, maxLength: base.n }),
    dupPicks: fc.array(fc.nat(), { maxLength: 10 }),
  }))
  .chain(({ base, offsets, dupPicks }) => {
    const sends = [...offsets, ...dupPicks.map((k) => offsets[k % offsets.length]!)];
    return fc.record({
      base: fc.constant(base),
      arrivals: fc.shuffledSubarray(sends, { minLength: sends.length, maxLength: sends.length }),
      ticksAfter: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: sends.length, maxLength: sends.length }),
    });
  });

describe('jitter buffer properties', () => {
  it('any arrival order: frames in seq order, each packet played at most once, every packet and tick accounted for', () => {
    fc.assert(fc.property(scenario, ({ base, arrivals, ticksAfter }) => {
      const prebuffer = Math.floor(base.prebufferFrac * base.capacity);
      const jb = new JitterBuffer({ capacity: base.capacity, prebuffer, ...(base.fixedStart ? { startSeq: base.start } : {}) });
      const sent: Sent[] = [];
      const events: JitterEvent[] = [];
      const ticks: JitterTick[] = [];
      let now = 0;

      // Checked after every operation, so plain checks (vitest's expect is ~100× slower here).
      const checkCounts = () => {
        const s = jb.stats();
        check(s.pushed === s.played + s.late + s.duplicates + s.overflow + s.depth, 'pushed = played + late + duplicates + overflow + depth', s);
        check(s.ticks === s.waiting + s.played + s.missing, 'ticks = waiting + played + missing', s);
        check(s.depth <= base.capacity, `depth within capacity ${base.capacity}`, s);
        check(s.pushed === sent.length, `pushed counts every push (${sent.length})`, s);
      };

      arrivals.forEach((offset, k) => {
        const seq = add(base.start, offset);
        const samples = new Float32Array(FRAME_SAMPLES);
        samples[0] = k; // identifies this very packet (duplicates are distinct objects)
        sent.push({ seq, samples });
        events.push(...jb.push({ seq, samples }, now));
        checkCounts();
        for (let t = 0; t < ticksAfter[k]!; t++) {
          now += 80;
          const tick = jb.tick(now);
          ticks.push(tick);
          events.push(...tick.events);
          checkCounts();
        }
      });
      const drained = jb.drain(now + 80);
      // Everything held lies in the window, so draining takes at most `capacity` ticks.
      expect(drained.length).toBeLessThanOrEqual(base.capacity);
      ticks.push(...drained);
      drained.forEach((t) => events.push(...t.events));
      checkCounts();
      expect(jb.depth).toBe(0);

      // Slots come out in strictly increasing sequence order, each at most once.
      const slots = ticks.filter((t) => t.status !== 'waiting').map((t) => t.seq!);
      for (let i = 1; i < slots.length; i++) check(diff(slots[i - 1]!, slots[i]!) >= 1, `slot ${slots[i]} after ${slots[i - 1]}`);

      // Every played frame is one pushed packet with that seq, and no packet plays twice.
      const playedPackets = new Set<Float32Array>();
      const bySamples = new Map(sent.map((p) => [p.samples, p]));
      for (const t of ticks.filter((x) => x.status === 'played')) {
        const origin = bySamples.get(t.frame);
        check(origin !== undefined && origin.seq === t.seq, `frame played for slot ${t.seq} is a packet with that seq`);
        check(!playedPackets.has(t.frame), `packet for slot ${t.seq} played only once`);
        playedPackets.add(t.frame);
      }
      // Missing slots are silent, and each has its event.
      const missingEvents = new Set(events.filter((e) => e.type === 'missing').map((e) => e.seq));
      for (const t of ticks.filter((x) => x.status === 'missing')) {
        check(!t.frame.some((v) => v !== 0), `missing slot ${t.seq} is silent`);
        check(missingEvents.has(t.seq!), `missing slot ${t.seq} has an event`);
      }

      // Per sequence number: copies sent = copies played + copies dropped with an event saying so.
      const tally = new Map<number, { sent: number; played: number; dropped: number }>();
      const entry = (seq: number) => tally.get(seq) ?? tally.set(seq, { sent: 0, played: 0, dropped: 0 }).get(seq)!;
      for (const p of sent) entry(p.seq).sent++;
      for (const t of ticks) if (t.status === 'played') entry(t.seq!).played++;
      for (const e of events) if (e.type === 'late' || e.type === 'duplicate' || e.type === 'overflow') entry(e.seq).dropped++;
      for (const [seq, c] of tally) {
        check(c.played <= 1, `seq ${seq} played at most once`, c);
        check(c.played + c.dropped === c.sent, `seq ${seq}: copies sent = played + dropped`, c);
      }
      // Counters agree with the event log.
      const s = jb.stats();
      const count = (type: JitterEvent['type']) => events.filter((e) => e.type === type).length;
      expect([s.late, s.duplicates, s.overflow, s.missing]).toEqual([count('late'), count('duplicate'), count('overflow'), count('missing')]);
      expect(s.skipped).toBe(events.reduce((n, e) => n + (e.type === 'skip' ? e.empty : 0), 0));
    }), propParams());
  });

  it('when the window holds everything and playout waits for it, nothing is lost: each packet plays once, in order', () => {
    fc.assert(fc.property(scenario, ({ base, arrivals }) => {
      const jb = new JitterBuffer({ capacity: base.n, prebuffer: 1, startSeq: base.start });
      for (const offset of arrivals) jb.push({ seq: add(base.start, offset), samples: new Float32Array(FRAME_SAMPLES) }, 0);
      const ticks = jb.drain(0);
      const distinct = [...new Set(arrivals)].sort((a, b) => a - b);
      expect(ticks.filter((t) => t.status === 'played').map((t) => t.seq)).toEqual(distinct.map((o) => add(base.start, o)));
      // Slots from the start to the last packet, all accounted: played or missing, nothing else.
      expect(ticks.map((t) => t.seq)).toEqual(Array.from({ length: distinct.at(-1)! + 1 }, (_, i) => add(base.start, i)));
      expect(jb.stats()).toMatchObject({ late: 0, overflow: 0, skipped: 0, duplicates: arrivals.length - distinct.length });
    }), propParams());
  });

  it('network delay of up to D ticks is fully absorbed with prebuffer D+1 and capacity 2D+1', () => {
    const delays = fc.integer({ min: 0, max: 6 }).chain((D) => fc.record({
      D: fc.constant(D),
      start: u32,
      delay: fc.array(fc.integer({ min: 0, max: D }), { minLength: 1, maxLength: 60 }),
    }));
    fc.assert(fc.property(delays, ({ D, start, delay }) => {
      const jb = new JitterBuffer({ capacity: 2 * D + 1, prebuffer: D + 1, startSeq: start });
      const n = delay.length;
      const played: number[] = [];
      // Packet i is sent at tick i and arrives at tick i + delay[i] (latest last, so that
      // same-tick arrivals come in reverse order), before that tick's frame is taken.
      for (let t = 0; t < n + D; t++) {
        for (let i = n - 1; i >= 0; i--) if (i + delay[i]! === t) jb.push({ seq: add(start, i), samples: new Float32Array(FRAME_SAMPLES) }, t * 80);
        const tick = jb.tick(t * 80);
        if (tick.status !== 'waiting') played.push(tick.seq!);
      }
      // End of stream (a stream shorter than the prebuffer only ever plays here).
      played.push(...jb.drain((n + D) * 80).map((t) => t.seq!));
      expect(played).toEqual(Array.from({ length: n }, (_, i) => add(start, i)));
      expect(jb.stats()).toMatchObject({ late: 0, overflow: 0, missing: 0, played: n });
    }), propParams());
  });
});
