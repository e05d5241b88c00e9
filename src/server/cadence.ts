// The 80 ms cadence of one session, as pure decisions over arrival times. Frame k of the
// client is step k of the model (frames are counted as they arrive; a client never skips
// one). At real-time pace the server expects frame k at `anchor + k·80 ms`, where the
// anchor follows the earliest arrivals (so network delay is not counted as lateness):
//   - a frame later than `lateToleranceMs` past its slot is a late-frame event;
//   - a slot still empty `missingFrameMs` past its time is run with silence (missing-frame),
//     so the conversation keeps real time; when that frame shows up it is dropped
//     (dropped-frame) and the schedule re-anchors on it, so an outage costs the frames of
//     the outage and no more.
// At fast pace frames come as fast as the server accepts them: nothing is late or missing.
import { FRAME_MS } from '../audio/frames.ts';
import type { Pace } from './messages.ts';

export interface CadenceOptions {
  readonly pace: Pace;
  readonly lateToleranceMs: number;
  readonly missingFrameMs: number;
  readonly frameMs?: number;
}

export type Arrival =
  /** The frame fills its slot; `lateMs` is set when it came later than the tolerance. */
  | { readonly kind: 'accepted'; readonly index: number; readonly lateMs: number | null }
  /** Its slot already ran with silence. */
  | { readonly kind: 'dropped'; readonly index: number };

export class Cadence {
  private readonly o: Required<CadenceOptions>;
  /** Client frames seen so far (the next one's index). */
  private received = 0;
  /** Step slots filled so far, by a frame or by silence (the next slot's index). */
  private filled = 0;
  /** Time slot 0 is due; null until the first frame. */
  private anchor: number | null = null;
  private ended = false;

  constructor(options: CadenceOptions) {
    this.o = { frameMs: FRAME_MS, ...options };
  }

  /** A client frame arrived at `now`. */
  arrive(now: number): Arrival {
    const index = this.received++;
    const frameMs = this.o.frameMs;
    if (index < this.filled) {
      // Re-anchor on the late stream: the next frames are not late against a schedule
      // they can no longer meet, and no further slot is replaced while they catch up.
      this.anchor = now - index * frameMs;
      return { kind: 'dropped', index };
    }
    let lateMs: number | null = null;
    if (this.anchor === null) {
      this.anchor = now - index * frameMs;
    } else {
      const late = now - (this.anchor + index * frameMs);
      if (this.o.pace === 'realtime' && late > this.o.lateToleranceMs) lateMs = late;
      // An early frame means the path got faster: the schedule follows the best case.
      this.anchor = Math.min(this.anchor, now - index * frameMs);
    }
    this.filled = index + 1;
    return { kind: 'accepted', index, lateMs };
  }

  /**
   * Slots whose frame is overdue at `now`, at most `max` of them; they count as filled
   * (by silence) from here on.
   */
  overdue(now: number, max = Infinity): number[] {
    const out: number[] = [];
    const deadline = this.nextDeadline();
    if (deadline === null || now < deadline) return out;
    while (out.length < max && now >= this.anchor! + this.filled * this.o.frameMs + this.o.missingFrameMs) {
      out.push(this.filled++);
    }
    return out;
  }

  /** When the next empty slot becomes overdue; null when nothing can be (fast pace, ended, not started). */
  nextDeadline(): number | null {
    if (this.o.pace !== 'realtime' || this.ended || this.anchor === null) return null;
    return this.anchor + this.filled * this.o.frameMs + this.o.missingFrameMs;
  }

  /** The client sent its last frame: no slot is overdue any more. */
  end(): void {
    this.ended = true;
  }

  get framesReceived(): number {
    return this.received;
  }
  get slotsFilled(): number {
    return this.filled;
  }
}
