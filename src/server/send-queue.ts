// The per-session send queue: outbound items wait here (already encoded) until the socket
// can take them, and leave in priority order audio > final text > partial text > control
// (design.md: AUDIO_CHUNK > TEXT_FINAL > TEXT_PARTIAL > METADATA/HEARTBEAT/ACK). Items carry
// a role, not a wire type, so every wire protocol shares these rules. It decides what happens under pressure, measured by
// the socket's buffered bytes:
//   - over the high water mark: text partials are dropped (queued and new ones);
//   - buffered + queued over the skip limit: the next step should skip its decode;
//   - audio is never dropped: a peer that lets the queue reach its hard limit is a slow
//     consumer, and the session closes instead.
// Each decision comes back as a StepEvent (with the step it belongs to) for the recorder.
// Pure: no sockets, no clock.
import type { PacketTypeName } from '../protocol/index.ts';
import type { StepEvent } from '../telemetry/events.ts';

/**
 * What an item is to the queue: `partial` text may be dropped under pressure, one waiting
 * `keepalive` is as good as two, `audio` is never dropped.
 */
export type OutRole = 'audio' | 'final' | 'partial' | 'control' | 'keepalive';

/** 0 is sent first. */
export const LANE_OF_ROLE: Readonly<Record<OutRole, 0 | 1 | 2 | 3>> = { audio: 0, final: 1, partial: 2, control: 3, keepalive: 3 };

/** The packet protocol's roles. ACK is not in design.md's list: it rides with the other control packets. */
export const ROLE_OF: Readonly<Record<PacketTypeName, OutRole>> = {
  AUDIO_CHUNK: 'audio',
  TEXT_FINAL: 'final',
  TEXT_PARTIAL: 'partial',
  METADATA: 'control',
  HEARTBEAT: 'keepalive',
  ACK: 'control',
};

/** The packet protocol's lanes, which are also its wire priorities. */
export const LANE_OF: Readonly<Record<PacketTypeName, 0 | 1 | 2 | 3>> = {
  AUDIO_CHUNK: 0,
  TEXT_FINAL: 1,
  TEXT_PARTIAL: 2,
  METADATA: 3,
  HEARTBEAT: 3,
  ACK: 3,
};

export interface OutItem {
  /** The wire type or kind (for depth and logs). */
  readonly type: string;
  readonly role: OutRole;
  /** The encoded item; a protocol may stamp it (sequence, time) when it is sent. */
  readonly bytes: Uint8Array;
  /** The step this packet belongs to, if any (for events and net.send). */
  readonly step: number | null;
  /** TEXT_PARTIAL: the token, reported if the partial is dropped. */
  readonly token?: number;
}

export interface QueueLimits {
  readonly highWaterBytes: number;
  readonly skipDecodeBytes: number;
  readonly maxQueuedBytes: number;
}

export interface QueueDecision {
  readonly step: number | null;
  readonly event: StepEvent;
  /** The item the decision dropped (the session settles its step with it). */
  readonly item: OutItem;
}

export type PushResult =
  | { readonly ok: true; readonly decisions: readonly QueueDecision[] }
  /** The queue is at its hard limit: the peer does not read; close it. */
  | { readonly ok: false; readonly reason: string };

export interface Taken {
  readonly items: readonly OutItem[];
  readonly decisions: readonly QueueDecision[];
}

const NONE: readonly QueueDecision[] = [];

export class SendQueue {
  private readonly lanes: OutItem[][] = [[], [], [], []];
  private queued = 0;
  private readonly limits: QueueLimits;

  constructor(limits: QueueLimits) {
    this.limits = limits;
  }

  /** Bytes waiting here (not yet handed to the socket). */
  get bytes(): number {
    return this.queued;
  }
  get length(): number {
    return this.lanes.reduce((n, l) => n + l.length, 0);
  }
  /** Items waiting, by type (for /health and tests). */
  depth(): Partial<Record<string, number>> {
    const out: Partial<Record<string, number>> = {};
    for (const lane of this.lanes) for (const it of lane) out[it.type] = (out[it.type] ?? 0) + 1;
    return out;
  }

  push(item: OutItem, bufferedAmount: number): PushResult {
    if (item.role === 'partial' && bufferedAmount >= this.limits.highWaterBytes) {
      return { ok: true, decisions: [dropped(item)] };
    }
    // A heartbeat says "still here": one waiting is as good as two.
    if (item.role === 'keepalive' && this.lanes[3]!.some((it) => it.role === 'keepalive')) return { ok: true, decisions: NONE };
    if (this.queued + item.bytes.length > this.limits.maxQueuedBytes) {
      if (item.role === 'partial') return { ok: true, decisions: [dropped(item)] };
      return { ok: false, reason: `slow consumer: ${this.queued} bytes already wait to be sent (limit ${this.limits.maxQueuedBytes})` };
    }
    this.lanes[LANE_OF_ROLE[item.role]]!.push(item);
    this.queued += item.bytes.length;
    return { ok: true, decisions: NONE };
  }

  /**
   * What to write now, in priority order, given the socket's buffered bytes: as much as
   * fits under the high water mark (at least one packet when the socket is below it), and at
   * most `maxBatchBytes` (one WebSocket message). Over the mark nothing is taken and
   * queued partials are dropped.
   */
  take(bufferedAmount: number, maxBatchBytes: number): Taken {
    if (bufferedAmount >= this.limits.highWaterBytes) return { items: [], decisions: this.dropPartials() };
    const budget = Math.min(maxBatchBytes, this.limits.highWaterBytes - bufferedAmount);
    const items: OutItem[] = [];
    let bytes = 0;
    for (const lane of this.lanes) {
      while (lane.length > 0) {
        const size = lane[0]!.bytes.length;
        if (items.length > 0 && (bytes + size > budget || bytes + size > maxBatchBytes)) return { items, decisions: NONE };
        items.push(lane.shift()!);
        bytes += size;
        this.queued -= size;
      }
    }
    return { items, decisions: NONE };
  }

  /** The skipped-decode event when the next step should not decode (too much unsent), else null. */
  skipDecode(bufferedAmount: number): StepEvent | null {
    const backlog = bufferedAmount + this.queued;
    if (backlog < this.limits.skipDecodeBytes) return null;
    return { kind: 'skipped-decode', reason: `send backlog ${backlog} bytes >= ${this.limits.skipDecodeBytes}` };
  }

  /** Over the high water mark: true while partials are being dropped. */
  congested(bufferedAmount: number): boolean {
    return bufferedAmount >= this.limits.highWaterBytes;
  }

  /** Empties the queue; returns what was waiting (never to be sent). */
  clear(): OutItem[] {
    const out = this.lanes.flat();
    for (const lane of this.lanes) lane.length = 0;
    this.queued = 0;
    return out;
  }

  private dropPartials(): readonly QueueDecision[] {
    const lane = this.lanes[LANE_OF_ROLE.partial]!;
    if (lane.length === 0) return NONE;
    const out = lane.map(dropped);
    for (const it of lane) this.queued -= it.bytes.length;
    lane.length = 0;
    return out;
  }
}

function dropped(item: OutItem): QueueDecision {
  return { step: item.step, event: { kind: 'dropped-partial', token: item.token ?? -1 }, item };
}
