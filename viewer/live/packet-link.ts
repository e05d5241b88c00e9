// The page's side of the SolaceLive packet protocol: one WebSocket, the METADATA handshake
// (start → ready), AUDIO_CHUNK frames out, and everything the server sends decoded with the
// same codec the server uses (src/protocol). Errors are turned into what a person can act
// on: server unreachable, not a SolaceLive server, refused by the server.
import { decodeMessageSafe, encodePacket, seqNext, type Packet } from '../../src/protocol/index.ts';
import { LiveError, ServerRefusal } from './errors.ts';
import { whyNoWebSocket } from './unreachable.ts';
import type { Link, LinkEvents, LinkStart, SessionInfo } from './link.ts';
import {
  asServerMessage, parseTextFinal, parseTextPartial, SESSION_PROTOCOL, type ErrorMessage, type ReadyMessage, type StartMessage,
} from './messages.ts';

const HANDSHAKE_TIMEOUT_MS = 45_000;

/** Opens a packet-protocol session at `url` (ws://host:port/). */
export function openPacketLink(url: string, start: LinkStart, events: LinkEvents): Promise<Link> {
  const message: StartMessage = {
    type: 'start', protocol: SESSION_PROTOCOL, record: start.record, pace: 'realtime',
    ...(start.seed === null ? {} : { seed: start.seed }),
    ...(start.sampling === null ? {} : { sampling: start.sampling }),
  };
  return PacketLink.open(url, message, events);
}

class PacketLink implements Link {
  readonly ready: ReadyMessage;
  readonly info: SessionInfo;
  readonly warmupSteps = 0;
  private textSeq = 0;
  private readonly ws: WebSocket;
  private outSeq: number;
  private lastSent = performance.now();
  private readonly heartbeat: ReturnType<typeof setInterval>;

  private constructor(ws: WebSocket, ready: ReadyMessage, outSeq: number) {
    this.ws = ws;
    this.ready = ready;
    this.info = { id: ready.session, model: ready.model, untrained: ready.untrained, seed: ready.seed, record: ready.record };
    this.outSeq = outSeq;
    // Keeps the session alive while no audio flows (e.g. after Stop, while it ends).
    this.heartbeat = setInterval(() => {
      if (performance.now() - this.lastSent >= ready.heartbeatMs / 2) this.send({ type: 'HEARTBEAT', priority: 3, sequence: 0, timestamp: 0, requiresAck: false });
    }, Math.max(250, ready.heartbeatMs / 2));
  }

  /**
   * Connects, sends the start METADATA and waits for 'ready'. Rejects with a LiveError that
   * says what went wrong; an ErrorMessage from the server comes back as `serverError`.
   */
  static open(url: string, start: StartMessage, events: LinkEvents): Promise<PacketLink> {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      return Promise.reject(new LiveError('Bad server URL', `${url}: ${(err as Error).message}. Expected ws://host:port/ (default ws://127.0.0.1:8788/).`));
    }
    ws.binaryType = 'arraybuffer';
    return new Promise<PacketLink>((resolve, reject) => {
      let opened = false;
      let settled = false;
      let serverError: ErrorMessage | null = null;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'handshake failed');
      };
      const timer = setTimeout(() => fail(new LiveError('No answer', `${url} accepted the connection but sent no ready within ${HANDSHAKE_TIMEOUT_MS / 1000} s.`)), HANDSHAKE_TIMEOUT_MS);
      ws.onopen = () => {
        opened = true;
        ws.send(encodePacket({ type: 'METADATA', priority: 3, sequence: 0, timestamp: performance.now(), requiresAck: false, data: start as never }) as Uint8Array<ArrayBuffer>);
      };
      ws.onclose = (e) => {
        if (serverError) fail(new ServerRefusal(serverError, e.code));
        // Browsers hide why a connection failed (refused port, HTTP 401, TLS): 1006 for all.
        else if (!opened) void whyNoWebSocket(url, 'SolaceLive').then(fail);
        else fail(new LiveError('Closed during handshake', `${url} closed the connection (${e.code}${e.reason ? `: ${e.reason}` : ''}) before the session was ready.`));
      };
      ws.onmessage = (e) => {
        if (settled) return;
        if (!(e.data instanceof ArrayBuffer)) {
          fail(new LiveError('Wrong protocol', `${url} sent a text message; a SolaceLive server sends binary packets (protocol v${SESSION_PROTOCOL}). Is this the right port?`));
          return;
        }
        const { packets, error } = decodeMessageSafe(new Uint8Array(e.data));
        if (error && packets.length === 0) {
          fail(new LiveError('Wrong protocol', `${url} does not speak the SolaceLive packet protocol v${SESSION_PROTOCOL}: ${error.message}. If it is a Moshi server, choose Protocol: Moshi.`));
          return;
        }
        for (let i = 0; i < packets.length; i++) {
          const p = packets[i]!;
          if (p.type !== 'METADATA') continue;
          const m = asServerMessage(p.data);
          if (m?.type === 'error') {
            // The close that follows settles it, with the server's reason.
            serverError = m;
            if (!m.fatal) fail(new ServerRefusal(m, null));
            return;
          }
          if (m?.type !== 'ready') continue;
          if (m.protocol !== SESSION_PROTOCOL) {
            fail(new LiveError('Wrong protocol', `the server speaks session protocol ${m.protocol}; this page speaks ${SESSION_PROTOCOL}. Rebuild the page from the same checkout as the server.`));
            return;
          }
          settled = true;
          clearTimeout(timer);
          const c = new PacketLink(ws, m, 1);
          c.attach(events);
          resolve(c);
          c.dispatch(packets.slice(i + 1), performance.now(), events);
          return;
        }
      };
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Buffered bytes not yet on the wire (backpressure on a slow link). */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  sendChunk(samples: Float32Array): void {
    this.send({ type: 'AUDIO_CHUNK', priority: 0, sequence: 0, timestamp: 0, requiresAck: false, samples });
  }

  /** Asks the server to step what it holds, send the final text and close. */
  end(): void {
    this.send({ type: 'METADATA', priority: 3, sequence: 0, timestamp: 0, requiresAck: false, data: { type: 'end' } });
  }

  /** Closes from this side; no events follow (the page asked for it). */
  close(): void {
    clearInterval(this.heartbeat);
    this.ws.onmessage = null;
    this.ws.onclose = null;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000, 'page closed the session');
  }

  private send(p: Packet): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const t = performance.now();
    // One sequence per direction over every packet type: the server checks the order.
    this.ws.send(encodePacket({ ...p, sequence: this.outSeq, timestamp: t }) as Uint8Array<ArrayBuffer>);
    this.outSeq = seqNext(this.outSeq);
    this.lastSent = t;
  }

  private attach(events: LinkEvents): void {
    this.ws.onmessage = (e) => {
      const t = performance.now();
      if (!(e.data instanceof ArrayBuffer)) {
        events.onBadPacket('the server sent a text message (not part of the protocol)');
        return;
      }
      const { packets, error } = decodeMessageSafe(new Uint8Array(e.data));
      this.dispatch(packets, t, events);
      if (error) events.onBadPacket(`${error.code}: ${error.message}`);
    };
    this.ws.onclose = (e) => {
      clearInterval(this.heartbeat);
      events.onClose(e.code, e.reason);
    };
  }

  private dispatch(packets: readonly Packet[], t: number, events: LinkEvents): void {
    for (const p of packets) {
      if (p.requiresAck) this.send({ type: 'ACK', priority: 3, sequence: 0, timestamp: 0, requiresAck: false, ackSequence: p.sequence });
      // One audio packet per step: the steps without audio come as 'gap' messages.
      if (p.type === 'AUDIO_CHUNK') events.onAudio(p.samples, t, 1);
      else if (p.type === 'TEXT_PARTIAL') {
        const tp = parseTextPartial(p.text);
        if (tp) events.onText({ seq: this.textSeq++, step: tp.step, token: tp.token, piece: tp.piece });
      } else if (p.type === 'TEXT_FINAL') {
        const f = parseTextFinal(p.text);
        if (f) events.onFinal(f);
      } else if (p.type === 'METADATA') {
        const m = asServerMessage(p.data);
        if (m?.type === 'ended') events.onEnded(m.steps, `session ended after ${m.steps} steps (${m.framesReceived} frames received)`);
        else if (m) events.onMessage(m, t);
      }
    }
  }
}
