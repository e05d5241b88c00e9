// The page's side of the packet protocol: one WebSocket, the METADATA handshake (start →
// ready), AUDIO_CHUNK frames out, and everything the server sends decoded with the same
// codec the server uses (src/protocol). Errors are turned into what a person can act on:
// server unreachable, not a SolaceLive server, refused by the server.
import { decodeMessageSafe, encodePacket, seqNext, type Packet } from '../../src/protocol/index.ts';
import { LiveError } from './errors.ts';
import {
  asServerMessage, parseTextFinal, parseTextPartial, SESSION_PROTOCOL, type ErrorMessage, type ReadyMessage, type ServerMessage,
  type StartMessage, type TextFinal, type TextPartial,
} from './messages.ts';

export interface ConnectionEvents {
  readonly onAudio: (samples: Float32Array, t: number) => void;
  readonly onText: (p: TextPartial) => void;
  readonly onFinal: (f: TextFinal) => void;
  readonly onMessage: (m: ServerMessage, t: number) => void;
  /** The server sent bytes our decoder rejects: a bug or another protocol, shown, not fatal. */
  readonly onBadPacket: (message: string) => void;
  readonly onClose: (code: number, reason: string) => void;
}

const HANDSHAKE_TIMEOUT_MS = 45_000;

export class Connection {
  readonly ready: ReadyMessage;
  private readonly ws: WebSocket;
  private outSeq: number;
  private lastSent = performance.now();
  private readonly heartbeat: ReturnType<typeof setInterval>;

  private constructor(ws: WebSocket, ready: ReadyMessage, outSeq: number) {
    this.ws = ws;
    this.ready = ready;
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
  static open(url: string, start: StartMessage, events: ConnectionEvents): Promise<Connection> {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      return Promise.reject(new LiveError('Bad server URL', `${url}: ${(err as Error).message}. Expected ws://host:port/ (default ws://127.0.0.1:8788/).`));
    }
    ws.binaryType = 'arraybuffer';
    return new Promise<Connection>((resolve, reject) => {
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
        else if (!opened) fail(new LiveError('Server unreachable', `Could not connect to ${url}. Is \`solacelive serve\` running there? (A server started with --token needs ?token=… in the URL.)`));
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
          fail(new LiveError('Wrong protocol', `${url} does not speak the SolaceLive packet protocol v${SESSION_PROTOCOL}: ${error.message}`));
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
          const c = new Connection(ws, m, 1);
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

  sendFrame(samples: Float32Array): void {
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

  private attach(events: ConnectionEvents): void {
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

  private dispatch(packets: readonly Packet[], t: number, events: ConnectionEvents): void {
    for (const p of packets) {
      if (p.requiresAck) this.send({ type: 'ACK', priority: 3, sequence: 0, timestamp: 0, requiresAck: false, ackSequence: p.sequence });
      if (p.type === 'AUDIO_CHUNK') events.onAudio(p.samples, t);
      else if (p.type === 'TEXT_PARTIAL') {
        const tp = parseTextPartial(p.text);
        if (tp) events.onText(tp);
      } else if (p.type === 'TEXT_FINAL') {
        const f = parseTextFinal(p.text);
        if (f) events.onFinal(f);
      } else if (p.type === 'METADATA') {
        const m = asServerMessage(p.data);
        if (m) events.onMessage(m, t);
      }
    }
  }
}

/** The server answered the start with an error (no engine, full, bad handshake…). */
export class ServerRefusal extends LiveError {
  readonly code: string;
  readonly closeCode: number | null;
  constructor(m: ErrorMessage, closeCode: number | null) {
    super(`Server refused the session (${m.code})`, m.message);
    this.code = m.code;
    this.closeCode = closeCode;
  }
}
