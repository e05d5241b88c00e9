// Building outbound packets for the send queue. Packets are encoded when queued (so the
// queue knows their size) with sequence and timestamp left at zero, and stamped when they
// leave: sequence numbers then follow wire order exactly, whatever the priority reordering.
import { encodePacket, seqNext, type Packet, type PacketTypeName } from '../protocol/index.ts';
import { OFFSET_SEQUENCE, OFFSET_TIMESTAMP } from '../protocol/opcodes.ts';
import { LANE_OF, ROLE_OF, type OutItem } from './send-queue.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type Draft = DistributiveOmit<Packet, 'sequence' | 'timestamp' | 'priority' | 'requiresAck'>;

/** Encodes a packet for the queue; its wire priority is its queue lane (0 audio … 3 control). */
export function outItem(draft: Draft, step: number | null, token?: number): OutItem {
  const type = draft.type as PacketTypeName;
  const bytes = encodePacket({ ...draft, priority: LANE_OF[type], sequence: 0, timestamp: 0, requiresAck: false } as Packet);
  const role = ROLE_OF[type];
  return token === undefined ? { type, role, bytes, step } : { type, role, bytes, step, token };
}

/** Writes sequence and timestamp into an encoded packet, in place. */
export function stamp(bytes: Uint8Array, sequence: number, timestamp: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  v.setUint32(OFFSET_SEQUENCE, sequence >>> 0, true);
  v.setFloat64(OFFSET_TIMESTAMP, timestamp, true);
}

/** How items become WebSocket messages: several per message or one each, and what is written into them as they leave. */
export interface Framing {
  readonly batch: boolean;
  /** Called on each item as it leaves, in wire order. */
  stamp(item: OutItem, t: number): void;
}

/** The packet protocol: several packets per message, each stamped with the next outbound sequence number and the send time. */
export function packetFraming(): Framing {
  let seq = 0;
  return {
    batch: true,
    stamp(item, t) {
      stamp(item.bytes, seq, t);
      seq = seqNext(seq);
    },
  };
}

/** One WebSocket message from several packets (no copy for a single one). */
export function joinPackets(items: readonly OutItem[]): Uint8Array {
  if (items.length === 1) return items[0]!.bytes;
  let n = 0;
  for (const it of items) n += it.bytes.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const it of items) {
    out.set(it.bytes, at);
    at += it.bytes.length;
  }
  return out;
}
