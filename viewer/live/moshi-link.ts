// The page's side of the Moshi protocol (Kyutai's web client and servers) at /api/chat: the
// options in the query string, nothing sent before the handshake (0x00), the microphone as
// Ogg Opus pages (0x01, each page its own message), reply audio (0x01) decoded into the same
// playout as packet audio, text pieces (0x02), errors (0x05 "CODE: message"), metadata
// (0x04: the session before the handshake, recording state after). The protocol has no end
// message: Stop flushes the encoder, waits for the reply to what was sent, then closes.
import { FRAME_SAMPLES } from '../../src/audio/browser.ts';
import type { Libopus } from '../../src/audio/opus/index.ts';
import { decodeMoshi, type MoshiMessage } from '../../src/protocol/moshi/index.ts';
import { LiveError, ServerRefusal } from './errors.ts';
import { pageLibopus } from './libopus.ts';
import type { Link, LinkEvents, LinkStart, SessionInfo } from './link.ts';
import { MicPages, MOSHI_WARMUP_STEPS, ReplyAudio } from './moshi-audio.ts';
import { messageFromMetadata, moshiChatUrl, parseMoshiError, sessionFromMetadata } from './moshi-messages.ts';
import { whyNoWebSocket } from './unreachable.ts';

const HANDSHAKE_TIMEOUT_MS = 45_000;
/** After Stop: the reply to every frame sent, or this long without a message, at most DRAIN_MAX_MS. */
const DRAIN_QUIET_MS = 2000;
const DRAIN_MAX_MS = 10_000;

/** Opens a Moshi-protocol session: ws://host:port/ becomes ws://host:port/api/chat?… */
export async function openMoshiLink(server: string, start: LinkStart, events: LinkEvents): Promise<Link> {
  const url = moshiChatUrl(server, start);
  const lib = await pageLibopus();
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch (err) {
    throw new LiveError('Bad server URL', `${url}: ${(err as Error).message}. Expected ws://host:port/ (default ws://127.0.0.1:8788/).`);
  }
  ws.binaryType = 'arraybuffer';
  return new Promise<Link>((resolve, reject) => {
    let opened = false;
    let settled = false;
    const metadata: unknown[] = [];
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(e);
      ws.onmessage = null;
      ws.onclose = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'handshake failed');
    };
    const timer = setTimeout(() => fail(new LiveError('No handshake', `${url} sent no handshake within ${HANDSHAKE_TIMEOUT_MS / 1000} s.`)), HANDSHAKE_TIMEOUT_MS);
    ws.onopen = () => {
      opened = true;
    };
    ws.onclose = (e) => {
      if (settled) return;
      if (!opened) void whyNoWebSocket(url, 'Moshi').then(fail);
      else fail(new LiveError('Closed during handshake', `${url} closed the connection (${e.code}${e.reason ? `: ${e.reason}` : ''}) before its handshake.`));
    };
    ws.onmessage = (e) => {
      if (settled) return;
      let m: MoshiMessage;
      try {
        if (!(e.data instanceof ArrayBuffer)) throw new Error('it sent a text message; Moshi messages are binary');
        m = decodeMoshi(new Uint8Array(e.data));
      } catch (err) {
        fail(new LiveError('Wrong protocol', `${url} does not speak the Moshi protocol: ${(err as Error).message}`));
        return;
      }
      if (m.kind === 'metadata') metadata.push(m.json);
      else if (m.kind === 'error') {
        // Before the handshake an error is a refusal (bad query, no engine): the server closes next.
        fail(new ServerRefusal(parseMoshiError(m.text), null));
      } else if (m.kind === 'handshake') {
        settled = true;
        clearTimeout(timer);
        resolve(new MoshiLink(ws, lib, sessionFromMetadata(metadata, start), events));
      }
      // Anything else before the handshake (ping, unknown kinds) carries nothing to keep.
    };
  });
}

class MoshiLink implements Link {
  readonly info: SessionInfo;
  readonly warmupSteps = MOSHI_WARMUP_STEPS;
  private readonly ws: WebSocket;
  private readonly events: LinkEvents;
  private readonly mic: MicPages;
  private readonly reply: ReplyAudio;
  private readonly pieces: string[] = [];
  private samplesSent = 0;
  private lastReceived = performance.now();
  private replyBroken = false;
  private drain: ReturnType<typeof setInterval> | null = null;
  /** Stop has finished (the reply came or the server ended the session). */
  private drained = false;

  constructor(ws: WebSocket, lib: Libopus, info: SessionInfo, events: LinkEvents) {
    this.ws = ws;
    this.info = info;
    this.events = events;
    this.mic = new MicPages(lib, crypto.getRandomValues(new Uint32Array(1))[0]!);
    this.reply = new ReplyAudio(lib);
    ws.onmessage = (e) => this.receive(e.data, performance.now());
    ws.onclose = (e) => {
      // After Stop, a server that ends the session on the stream's last page (SolaceLive) closes first.
      if (this.drain && e.code === 1000) this.finishDrain(`the server ended the session (${e.reason || 'normal close'})`);
      this.dispose();
      events.onClose(e.code, e.reason);
    };
  }

  /** The end of a Stop: the reply is in (or waited for long enough); said once. */
  private finishDrain(how: string): void {
    if (!this.drain) return;
    clearInterval(this.drain);
    this.drain = null;
    this.drained = true;
    const framesSent = Math.floor(this.samplesSent / FRAME_SAMPLES);
    this.events.onEnded(null, `${how}: ${this.reply.steps} steps of audio back for ${framesSent} frames sent`);
    this.events.onFinal({ text: this.pieces.join(''), tokens: this.pieces.length, steps: this.reply.steps });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendChunk(samples: Float32Array): void {
    if (!this.isOpen || this.drain) return;
    for (const m of this.mic.push(samples)) this.ws.send(m as Uint8Array<ArrayBuffer>);
    this.samplesSent += samples.length;
  }

  end(): void {
    if (this.drain || this.drained || !this.isOpen) return;
    for (const m of this.mic.end()) this.ws.send(m as Uint8Array<ArrayBuffer>);
    const t0 = performance.now();
    // Every frame sent is answered by one step of audio, but the first warm-up steps.
    const framesSent = Math.floor(this.samplesSent / FRAME_SAMPLES);
    const expected = Math.max(0, framesSent - this.warmupSteps);
    this.drain = setInterval(() => {
      const now = performance.now();
      const done = this.reply.steps >= expected;
      if (!done && now - this.lastReceived < DRAIN_QUIET_MS && now - t0 < DRAIN_MAX_MS) return;
      this.finishDrain(`${done ? 'reply complete' : 'stopped waiting for the reply'}; closing (the Moshi protocol has no end message)`);
      this.ws.close(1000, 'page done');
    }, 50);
  }

  close(): void {
    this.dispose();
    this.ws.onmessage = null;
    this.ws.onclose = null;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000, 'page closed the session');
  }

  private dispose(): void {
    if (this.drain) clearInterval(this.drain);
    this.reply.close();
  }

  private receive(data: unknown, t: number): void {
    this.lastReceived = t;
    let m: MoshiMessage;
    try {
      if (!(data instanceof ArrayBuffer)) throw new Error('a text message (Moshi messages are binary)');
      m = decodeMoshi(new Uint8Array(data));
    } catch (err) {
      this.events.onBadPacket(`undecodable message: ${(err as Error).message}`);
      return;
    }
    switch (m.kind) {
      case 'audio':
        this.audio(m.data, t);
        return;
      case 'text':
      case 'coloredText':
        this.pieces.push(m.text);
        this.events.onText({ seq: this.pieces.length - 1, step: null, token: null, piece: m.text });
        return;
      case 'metadata': {
        const sm = messageFromMetadata(m.json);
        if (sm) this.events.onMessage(sm, t);
        return;
      }
      case 'error': {
        const e = parseMoshiError(m.text);
        // The protocol does not say whether the server closes after an error; the close says it.
        this.events.onMessage({ type: 'error', code: e.code as never, message: e.message, fatal: false }, t);
        return;
      }
      case 'ping':
      case 'handshake':
      case 'control':
        return;
      case 'unknown':
        this.events.onBadPacket(`ignored a message of unknown kind ${m.byte}`);
    }
  }

  private audio(payload: Uint8Array, t: number): void {
    if (this.replyBroken) return;
    let r: { pcm: Float32Array; steps: number };
    try {
      r = this.reply.push(payload);
    } catch (err) {
      // Sticky in the decoder: the reply audio is over, the session (text, errors) goes on.
      this.replyBroken = true;
      this.events.onBadPacket(`reply audio is broken, no more of it plays: ${(err as Error).message}`);
      return;
    }
    if (r.pcm.length > 0 || r.steps > 0) this.events.onAudio(r.pcm.slice(), t, r.steps);
  }
}
