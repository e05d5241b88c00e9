// A raw protocol peer for tests: a real `ws` client that sends hand-built packets and
// collects everything the server sends, decoded, with bounded waits.
import { decodeMessage, encodeMessage, type Packet } from '../../src/protocol/index.ts';
import type { ServerMessage } from '../../src/server/messages.ts';
import { WsPeer } from '../ws-peer.ts';

export interface Received {
  readonly packet: Packet;
  readonly at: number;
}

export class Peer extends WsPeer {
  readonly received: Received[] = [];
  /** The same packets, grouped by the WebSocket message they came in. */
  readonly messages: Packet[][] = [];
  private seq = 0;

  protected receive(bytes: Uint8Array): void {
    const packets = decodeMessage(bytes);
    this.messages.push(packets);
    for (const packet of packets) this.received.push({ packet, at: performance.now() });
  }

  protected describe(): string {
    return `received: ${JSON.stringify(this.received.map((r) => r.packet.type === 'METADATA' ? r.packet.data : r.packet.type))}`;
  }

  /** Packets with consecutive sequence numbers (unless a sequence is given). */
  send(...packets: Omit<Packet, 'sequence' | 'timestamp' | 'priority' | 'requiresAck'>[] | Partial<Packet>[]): void {
    const full = (packets as Partial<Packet>[]).map((p) => ({ priority: 3, timestamp: performance.now(), requiresAck: false, sequence: this.seq++, ...p }) as Packet);
    this.ws.send(encodeMessage(full));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  metadata(): ServerMessage[] {
    return this.received.flatMap((r) => (r.packet.type === 'METADATA' ? [r.packet.data as unknown as ServerMessage] : []));
  }

  errors() {
    return this.metadata().filter((m) => m.type === 'error');
  }
}
