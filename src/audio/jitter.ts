// Jitter buffer for the live server: audio packets arrive out of order, twice, late or not at
// all; the step loop takes exactly one 1920-sample frame per 80 ms tick, in sequence order.
//
// Pure state machine: no clock of its own (every call takes `now`, in ms, from the caller),
// no timers, no I/O, so a recorded session replays through it identically. Everything that
// is not the plain "packet played in its slot" case is returned as an event record (plain
// JSON data) for the session recorder: silence played for a missing packet, a late packet
// dropped, a duplicate, an overflow eviction, slots skipped, the start of playout.
//
// Model: playout walks slots seq = start, start+1, ... (u32, wrapping). Packets are held in a
// window of `capacity` slots beginning at the next slot to play, which bounds both memory and
// the latency the buffer can add. A packet beyond the window slides it forward: held packets
// that fall out of it are dropped (oldest first, counted as overflow) and empty slots passed
// over are counted as skipped; neither is ever played. Playout starts once `prebuffer`
// packets are held, so early reordering is absorbed.
//
// Accounting, at every moment:
//   pushed = played + late + duplicates + overflow + depth
//   ticks  = waiting + played + missing
// Sequence numbers here are AUDIO_CHUNK numbers: consecutive audio frames must have
// consecutive numbers, or the gaps are played as missing.

import { AudioError } from './errors.ts';
import { FRAME_SAMPLES, validateFrame } from './frames.ts';

export interface JitterPacket {
  /** u32 sequence number of this audio frame. */
  readonly seq: number;
  /** 1920 finite samples; held by reference (not copied) and returned as the played frame. */
  readonly samples: Float32Array;
}

export interface JitterOptions {
  /** Slots held ahead of playout: the depth bound (default 8 = 640 ms). */
  readonly capacity?: number;
  /** Packets to hold before playout starts (default 2 = 160 ms of absorbed jitter). */
  readonly prebuffer?: number;
  /**
   * First sequence number to play. Default: the lowest one seen before playout starts (an
   * earlier packet may still lower it, if the window still holds everything).
   */
  readonly startSeq?: number;
  /** Recently played sequence numbers remembered to tell duplicates from late packets (default 256). */
  readonly history?: number;
}

/** `at` is the `now` of the call that produced the event. */
export type JitterEvent =
  | { readonly type: 'start'; readonly seq: number; readonly at: number }
  /** Nothing held for this slot: silence was played in its place. */
  | { readonly type: 'missing'; readonly seq: number; readonly at: number }
  /** Arrived after its slot was played as silence or skipped (`behind` slots ago): dropped. */
  | { readonly type: 'late'; readonly seq: number; readonly at: number; readonly behind: number }
  /** Same sequence number already held or already played: dropped. */
  | { readonly type: 'duplicate'; readonly seq: number; readonly at: number; readonly alreadyPlayed: boolean }
  /** Held packet evicted because a newer packet slid the window past it: dropped. */
  | { readonly type: 'overflow'; readonly seq: number; readonly at: number; readonly causedBy: number }
  /**
   * Playout jumped over slots [fromSeq .. fromSeq + count − 1] because a packet arrived beyond
   * the window; `empty` of them held nothing (the others appear as overflow events). None is played.
   */
  | { readonly type: 'skip'; readonly fromSeq: number; readonly count: number; readonly empty: number; readonly at: number };

export interface JitterTick {
  /** `waiting`: playout has not started (prebuffering); the frame is silence. */
  readonly status: 'played' | 'missing' | 'waiting';
  /** Slot that was played, or null while waiting. */
  readonly seq: number | null;
  /** The packet's samples, or a fresh silent frame. */
  readonly frame: Float32Array;
  /** For a played packet: now − its arrival time. */
  readonly waitedMs: number | null;
  readonly events: JitterEvent[];
}

export interface JitterStats {
  pushed: number;
  played: number;
  missing: number;
  late: number;
  duplicates: number;
  overflow: number;
  skipped: number;
  /** Accepted packets that arrived after a higher sequence number had. */
  reordered: number;
  ticks: number;
  waiting: number;
  depth: number;
  maxDepth: number;
}

const U32 = 0x100000000;

/** Signed distance a → b under u32 wrap (RFC 1982); the protocol layer has the same rule. */
function seqDiff(a: number, b: number): number {
  const d = (b - a) >>> 0;
  return d >= 0x80000000 ? d - U32 : d;
}

function seqAdd(s: number, n: number): number {
  return (s + n) >>> 0;
}

function checkSeq(seq: number, what: string): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) {
    throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', `${what} ${seq} is not a u32 sequence number`);
  }
}

function checkTime(now: number): void {
  if (!Number.isFinite(now)) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', `clock value ${now} is not a finite number of ms`);
}

function intOption(value: number | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', `${name} ${v} is not an integer in ${min}..${max}`);
  return v;
}

interface Held {
  readonly samples: Float32Array;
  readonly arrivedAt: number;
}

export class JitterBuffer {
  readonly capacity: number;
  readonly prebuffer: number;
  private readonly fixedStart: boolean;
  /** Next slot to play (the window's first slot); undefined until a start is known. */
  private base: number | undefined;
  private started = false;
  private readonly held = new Map<number, Held>();
  /** Highest sequence number accepted so far, for the reorder count. */
  private highest: number | undefined;
  /** played[seq % history] === seq ⇔ seq was played recently. */
  private readonly played: Float64Array;
  private readonly counts: JitterStats = {
    pushed: 0, played: 0, missing: 0, late: 0, duplicates: 0, overflow: 0, skipped: 0, reordered: 0, ticks: 0, waiting: 0, depth: 0, maxDepth: 0,
  };

  constructor(options: JitterOptions = {}) {
    this.capacity = intOption(options.capacity, 8, 1, 65536, 'capacity');
    this.prebuffer = intOption(options.prebuffer, Math.min(2, this.capacity), 0, this.capacity, 'prebuffer');
    const history = intOption(options.history, 256, 1, 1 << 20, 'history');
    this.played = new Float64Array(history).fill(-1);
    if (options.startSeq !== undefined) checkSeq(options.startSeq, 'startSeq');
    this.fixedStart = options.startSeq !== undefined;
    this.base = options.startSeq;
  }

  /** Packets held now. */
  get depth(): number {
    return this.held.size;
  }

  /** The slot the next tick plays (undefined before any packet, without startSeq). */
  get nextSeq(): number | undefined {
    return this.base;
  }

  get isPlaying(): boolean {
    return this.started;
  }

  stats(): JitterStats {
    return { ...this.counts, depth: this.held.size };
  }

  /**
   * Offers a packet that arrived at `now`. Returns the events it caused (empty when it was
   * simply stored). Throws AudioError, leaving the buffer unchanged, for a malformed packet.
   */
  push(packet: JitterPacket, now: number): JitterEvent[] {
    checkSeq(packet.seq, 'packet seq');
    validateFrame(packet.samples, `packet ${packet.seq}`);
    checkTime(now);
    const { seq } = packet;
    this.counts.pushed++;
    const events: JitterEvent[] = [];
    if (this.base === undefined) this.base = seq;
    const d = seqDiff(this.base, seq);

    if (d < 0 && (this.started || this.fixedStart)) {
      if (this.played[seq % this.played.length] === seq) {
        this.counts.duplicates++;
        events.push({ type: 'duplicate', seq, at: now, alreadyPlayed: true });
      } else {
        this.counts.late++;
        events.push({ type: 'late', seq, at: now, behind: -d });
      }
      return events;
    }
    if (this.held.has(seq)) {
      this.counts.duplicates++;
      events.push({ type: 'duplicate', seq, at: now, alreadyPlayed: false });
      return events;
    }
    if (d < 0) {
      // Before playout, an earlier packet moves the start back if the window still holds all.
      if (this.spanFrom(seq) < this.capacity) {
        this.base = seq;
      } else {
        this.counts.overflow++;
        events.push({ type: 'overflow', seq, at: now, causedBy: seq });
        return events;
      }
    } else if (d >= this.capacity) {
      this.slide(seqAdd(seq, 1 - this.capacity), seq, now, events);
    }

    if (this.highest !== undefined && seqDiff(this.highest, seq) < 0) this.counts.reordered++;
    else this.highest = seq;
    this.held.set(seq, { samples: packet.samples, arrivedAt: now });
    if (this.held.size > this.counts.maxDepth) this.counts.maxDepth = this.held.size;
    return events;
  }

  /** One 80 ms step: the frame for the next slot (or silence), and what happened. */
  tick(now: number): JitterTick {
    checkTime(now);
    this.counts.ticks++;
    const events: JitterEvent[] = [];
    if (!this.started) {
      if (this.base === undefined || this.held.size < this.prebuffer) {
        this.counts.waiting++;
        return { status: 'waiting', seq: null, frame: new Float32Array(FRAME_SAMPLES), waitedMs: null, events };
      }
      this.started = true;
      events.push({ type: 'start', seq: this.base, at: now });
    }
    const seq = this.base!;
    this.base = seqAdd(seq, 1);
    const packet = this.held.get(seq);
    if (packet) {
      this.held.delete(seq);
      this.counts.played++;
      this.played[seq % this.played.length] = seq;
      return { status: 'played', seq, frame: packet.samples, waitedMs: now - packet.arrivedAt, events };
    }
    this.counts.missing++;
    events.push({ type: 'missing', seq, at: now });
    return { status: 'missing', seq, frame: new Float32Array(FRAME_SAMPLES), waitedMs: null, events };
  }

  /**
   * End of stream: starts playout if it had not started and plays every slot up to the last
   * held packet (gaps as missing). Returns the ticks, in order; the buffer is then empty.
   */
  drain(now: number): JitterTick[] {
    checkTime(now);
    const out: JitterTick[] = [];
    if (this.base === undefined) return out;
    if (!this.started && this.held.size > 0) {
      this.started = true;
      const first = this.tick(now);
      out.push({ ...first, events: [{ type: 'start', seq: first.seq!, at: now }, ...first.events] });
    }
    // Every held packet lies within `capacity` slots of the next one to play, so that many
    // ticks empty the buffer; the bound also guarantees termination.
    for (let i = 0; i < this.capacity && this.held.size > 0; i++) out.push(this.tick(now));
    return out;
  }

  /** Distance from `seq` to the furthest held packet (0 when none is held). */
  private spanFrom(seq: number): number {
    let span = 0;
    for (const s of this.held.keys()) span = Math.max(span, seqDiff(seq, s));
    return span;
  }

  /** Moves the window start to `newBase`, dropping held packets before it (oldest first). */
  private slide(newBase: number, causedBy: number, now: number, events: JitterEvent[]): void {
    const from = this.base!;
    const jumped = seqDiff(from, newBase);
    const evicted = [...this.held.keys()].filter((s) => seqDiff(newBase, s) < 0).sort((a, b) => seqDiff(b, a));
    for (const s of evicted) {
      this.held.delete(s);
      this.counts.overflow++;
      events.push({ type: 'overflow', seq: s, at: now, causedBy });
    }
    const empty = jumped - evicted.length;
    this.counts.skipped += empty;
    if (jumped > 0) events.push({ type: 'skip', fromSeq: from, count: jumped, empty, at: now });
    this.base = newBase;
  }
}
