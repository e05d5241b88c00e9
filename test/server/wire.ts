// A raw protocol peer for tests: a real `ws` client that sends hand-built packets and
// collects everything the server sends, decoded, with bounded waits.
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, type Packet } from '../../src/protocol/index.ts';
import type { ServerMessage } from '../../src/server/messages.ts';

export interface Received {
  readonly packet: Packet;
  readonly at: number;
}

export class Peer {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  /** The same packets, grouped by the WebSocket message they came in. */
  readonly messages: Packet[][] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private seq = 0;
  private waiters: (() => void)[] = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers, perMessageDeflate: false });
    this.ws.on('error', () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.wake();
    }));
    this.ws.on('message', (data: Buffer) => {
      const packets = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.messages.push(packets);
      for (const packet of packets) this.received.push({ packet, at: performance.now() });
      this.wake();
    });
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

  /** Waits until `pred` holds over what was received (or the socket closed), at most `ms`. */
  async until(pred: (p: Peer) => boolean, ms = 3000, what = 'condition'): Promise<void> {
    const deadline = performance.now() + ms;
    while (!pred(this)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}; received: ${JSON.stringify(this.received.map((r) => r.packet.type === 'METADATA' ? r.packet.data : r.packet.type))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async closeWithin(ms = 3000): Promise<{ code: number; reason: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms)));
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
