// A session's way out: the send queue in front of its socket. Packets are queued (the queue
// decides drops), written in priority order when the socket can take them (several per
// WebSocket message), stamped with the outbound sequence number in wire order, and timed
// to the socket's write callback. A socket that stays congested past slowConsumerMs, or a
// queue at its hard limit, is reported to the session as a slow consumer.
import { FRAME_SAMPLES } from '../audio/frames.ts';
import type { StepEvent } from '../telemetry/events.ts';
import type { Clock } from '../telemetry/clock.ts';
import { joinPackets, type Framing } from './outbound.ts';
import { SendQueue, type OutItem, type QueueDecision } from './send-queue.ts';

/** One WebSocket message of output: at most this many bytes (8 audio packets). */
const MAX_BATCH_BYTES = 8 * (17 + FRAME_SAMPLES * 4);
/** While the socket is congested, how often to look whether it drained. */
const DRAIN_POLL_MS = 10;

export interface OutboxSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array, cb: (err?: Error) => void): void;
}

export interface OutboxOptions {
  readonly sendHighWaterBytes: number;
  readonly skipDecodeBytes: number;
  readonly maxSendQueueBytes: number;
  readonly slowConsumerMs: number;
  readonly clock: Clock;
}

export interface OutboxEvents {
  /** A message handed to the socket (for the recorder's tap and byte counts). */
  readonly sent: (bytes: Uint8Array, t: number) => void;
  /** Queue decisions (dropped partials) to record. */
  readonly decisions: (ds: readonly QueueDecision[]) => void;
  /** The AUDIO_CHUNK of `step` was written to the socket at `t`. */
  readonly audioWritten: (step: number, t: number) => void;
  /** The peer does not read: the session should close. */
  readonly slowConsumer: (reason: string) => void;
  /** Everything queued has been handed to the socket. */
  readonly idle: () => void;
}

export class Outbox {
  private readonly queue: SendQueue;
  private readonly socket: OutboxSocket;
  private readonly o: OutboxOptions;
  private readonly on: OutboxEvents;
  private readonly framing: Framing;
  private congestedSince: number | null = null;
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  private flushScheduled = false;
  private stopped = false;

  constructor(socket: OutboxSocket, options: OutboxOptions, on: OutboxEvents, framing: Framing) {
    this.socket = socket;
    this.framing = framing;
    this.o = options;
    this.on = on;
    this.queue = new SendQueue({ highWaterBytes: options.sendHighWaterBytes, skipDecodeBytes: options.skipDecodeBytes, maxQueuedBytes: options.maxSendQueueBytes });
  }

  /** Bytes waiting to be handed to the socket. */
  get bytes(): number {
    return this.queue.bytes;
  }
  get length(): number {
    return this.queue.length;
  }

  /** Queues an item; a flush follows on the next turn, so one step's items share a message where the framing batches. */
  enqueue(item: OutItem): void {
    if (this.stopped) return;
    const r = this.queue.push(item, this.socket.bufferedAmount);
    if (!r.ok) {
      this.on.slowConsumer(r.reason);
      return;
    }
    if (r.decisions.length) this.on.decisions(r.decisions);
    this.scheduleFlush();
  }

  /** The skipped-decode event when the backlog says the next step should not decode. */
  skipDecode(): StepEvent | null {
    return this.queue.skipDecode(this.socket.bufferedAmount);
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes what the socket can take now, in priority order. */
  flush(): void {
    if (this.stopped) return;
    for (;;) {
      const { items, decisions } = this.queue.take(this.socket.bufferedAmount, MAX_BATCH_BYTES);
      if (decisions.length) this.on.decisions(decisions);
      if (items.length === 0) break;
      const t = this.o.clock.now();
      for (const it of items) this.framing.stamp(it, t);
      if (this.framing.batch) {
        const msg = joinPackets(items);
        this.on.sent(msg, t);
        this.socket.send(msg, (err) => this.written(items, err));
      } else {
        for (const it of items) {
          this.on.sent(it.bytes, t);
          this.socket.send(it.bytes, (err) => this.written([it], err));
        }
      }
    }
    if (this.queue.length === 0) {
      this.congestedSince = null;
      this.on.idle();
    } else {
      this.watchCongestion();
    }
  }

  /** No more writes (the socket closed). */
  stop(): void {
    this.stopped = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.queue.clear();
  }

  private written(items: readonly OutItem[], err: Error | undefined): void {
    if (err || this.stopped) return; // the socket is going away; its close event cleans up
    const t = this.o.clock.now();
    for (const it of items) if (it.role === 'audio' && it.step !== null) this.on.audioWritten(it.step, t);
    if (this.queue.length > 0) this.flush();
  }

  /** Polls a congested socket until it drains; reports a peer that stays congested too long. */
  private watchCongestion(): void {
    if (!this.queue.congested(this.socket.bufferedAmount)) {
      this.congestedSince = null;
    } else {
      const t = this.o.clock.now();
      this.congestedSince ??= t;
      if (t - this.congestedSince > this.o.slowConsumerMs) {
        this.on.slowConsumer(`socket congested for ${Math.round(t - this.congestedSince)} ms: the peer is not reading`);
      }
    }
    this.drainTimer ??= setTimeout(() => {
      this.drainTimer = null;
      this.flush();
    }, DRAIN_POLL_MS);
  }
}
