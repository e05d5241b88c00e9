// A session's way out: the send queue in front of its socket. Packets are queued (the queue
// decides drops), written in priority order when the socket can take them (several per
// WebSocket message), stamped with the outbound sequence number in wire order, and timed
// to the socket's write callback. Every item queued gets exactly one fate (written, dropped
// by the queue, or lost), so the session knows when a step's reply has left. A socket that
// stays congested past slowConsumerMs, or a queue at its hard limit, is reported to the
// session as a slow consumer.
import { FRAME_SAMPLES } from '../audio/frames.ts';
import type { StepEvent } from '../telemetry/events.ts';
import type { Clock } from '../telemetry/clock.ts';
import { joinPackets, type Framing } from './outbound.ts';
import { SendQueue, type OutItem, type QueueDecision } from './send-queue.ts';

/**
 * What became of a queued item: written (the socket's write callback came back), dropped
 * by the queue under pressure (with the decision to record), or lost (never written: the
 * queue refused it, the socket failed, or the outbox stopped).
 */
export type ItemFate =
  | { readonly kind: 'written' }
  | { readonly kind: 'dropped'; readonly decision: QueueDecision }
  | { readonly kind: 'lost' };

/** One WebSocket message of output: at most this many bytes (8 audio packets). */
const MAX_BATCH_BYTES = 8 * (17 + FRAME_SAMPLES * 4);
/** While the socket is congested, how often to look whether it drained. */
const DRAIN_POLL_MS = 10;
const WRITTEN: ItemFate = { kind: 'written' };
const LOST: ItemFate = { kind: 'lost' };

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
  /** Each enqueued item's fate, once, at clock time `t`. */
  readonly settled: (item: OutItem, fate: ItemFate, t: number) => void;
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
    if (this.stopped) {
      this.on.settled(item, LOST, this.o.clock.now());
      return;
    }
    const before = this.queue.length;
    const r = this.queue.push(item, this.socket.bufferedAmount);
    if (!r.ok) {
      this.on.settled(item, LOST, this.o.clock.now());
      this.on.slowConsumer(r.reason);
      return;
    }
    this.dropped(r.decisions);
    // Neither queued nor dropped: a keep-alive merged into the one already waiting.
    if (r.decisions.length === 0 && this.queue.length === before) this.on.settled(item, LOST, this.o.clock.now());
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
      this.dropped(decisions);
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
    if (this.stopped) return;
    this.stopped = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const t = this.o.clock.now();
    for (const it of this.queue.clear()) this.on.settled(it, LOST, t);
  }

  private dropped(decisions: readonly QueueDecision[]): void {
    if (decisions.length === 0) return;
    const t = this.o.clock.now();
    for (const d of decisions) this.on.settled(d.item, { kind: 'dropped', decision: d }, t);
  }

  private written(items: readonly OutItem[], err: Error | undefined): void {
    const t = this.o.clock.now();
    const fate: ItemFate = err ? LOST : WRITTEN;
    for (const it of items) this.on.settled(it, fate, t);
    // A failed write means the socket is going away; its close event cleans up.
    if (!err && !this.stopped && this.queue.length > 0) this.flush();
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
