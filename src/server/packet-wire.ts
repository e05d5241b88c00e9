// The SolaceLive packet protocol as a wire adapter: 17-byte-header packets in, several per
// message; METADATA start/end for the session, AUDIO_CHUNK frames, ACKs on request. Out:
// METADATA ready/gap/events/ended/error/recording, AUDIO_CHUNK, TEXT_PARTIAL, TEXT_FINAL,
// HEARTBEAT, batched and stamped with outbound sequence numbers.
import { decodeMessageSafe, seqLessThan, type Packet, type ProtocolError } from '../protocol/index.ts';
import type { StepInput, StepOutput } from '../engine/types.ts';
import { parseStart } from './handshake.ts';
import type { ErrorMessage, GapMessage, ReadyMessage, RecordingMessage, ServerMessage, TextFinal, TextPartial } from './messages.ts';
import { outItem, packetFraming, type Draft } from './outbound.ts';
import type { OutItem } from './send-queue.ts';
import type { SessionCore, Wire } from './wire.ts';

const meta = (m: ServerMessage, step: number | null): OutItem => outItem({ type: 'METADATA', data: m as never }, step);

export class PacketWire implements Wire {
  readonly protocol = 'solacelive' as const;
  readonly framing = packetFraming();
  readonly startHint = 'start METADATA';
  private readonly core: SessionCore;
  private lastInSeq: number | null = null;
  private readonly pieces: string[] = [];
  private tokens = 0;

  constructor(core: SessionCore) {
    this.core = core;
  }

  info(): null {
    return null;
  }

  connected(): void {}

  receive(data: Uint8Array, isBinary: boolean, t: number): void {
    if (!isBinary) {
      this.core.protocolError('NOT_BINARY', 'send binary WebSocket messages holding packets; text messages are not part of the protocol');
      return;
    }
    const { packets, error } = decodeMessageSafe(data);
    if (!this.core.takeInput(t, Math.max(1, packets.length))) return;
    const recvMs = this.core.now() - t;
    for (const p of packets) {
      this.onPacket(p, t, recvMs);
      if (this.closing()) return;
    }
    if (error) this.packetError(error);
  }

  private closing(): boolean {
    return this.core.state === 'closing' || this.core.state === 'closed';
  }

  private onPacket(p: Packet, t: number, recvMs: number): void {
    if (this.lastInSeq !== null && !seqLessThan(this.lastInSeq, p.sequence)) {
      this.core.protocolError('SEQ_OUT_OF_ORDER', `${p.type} sequence ${p.sequence} does not follow ${this.lastInSeq}`);
    }
    this.lastInSeq = p.sequence;
    let accepted = true;
    switch (p.type) {
      case 'HEARTBEAT':
      case 'ACK':
        break;
      case 'METADATA':
        accepted = this.onMetadata(p.data);
        break;
      case 'AUDIO_CHUNK':
        accepted = this.onFrame(p.samples, p.sequence, t, recvMs);
        break;
      case 'TEXT_PARTIAL':
      case 'TEXT_FINAL':
        this.core.protocolError('UNEXPECTED_PACKET', `${p.type} is server → client only`);
        accepted = false;
        break;
    }
    if (accepted && p.requiresAck && !this.closing()) this.core.send(outItem({ type: 'ACK', ackSequence: p.sequence }, null));
  }

  private onMetadata(data: unknown): boolean {
    const type = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as { type?: unknown }).type : undefined;
    if (type === 'start') {
      if (this.core.state !== 'handshake') {
        this.core.protocolError('ALREADY_STARTED', 'this session has already started');
        return false;
      }
      const r = parseStart(data);
      if (!r.ok) {
        this.core.protocolError('BAD_HANDSHAKE', r.message);
        return false;
      }
      this.core.open(r.start);
      return true;
    }
    if (type === 'end') {
      if (this.core.state !== 'streaming') {
        this.core.protocolError('NOT_STARTED', `'end' in state ${this.core.state}`);
        return false;
      }
      this.core.end();
      return true;
    }
    this.core.protocolError('UNKNOWN_MESSAGE', `unknown METADATA ${JSON.stringify(type ?? null)} (expected "start" or "end")`);
    return false;
  }

  private onFrame(pcm: Float32Array, seq: number, t: number, recvMs: number): boolean {
    const r = this.core.frame(pcm, seq, t, recvMs);
    if (r === 'not-started') this.core.protocolError('NOT_STARTED', `AUDIO_CHUNK ${seq} before the session is ready (send start, wait for ready)`);
    else if (r === 'ended') this.core.protocolError('UNEXPECTED_PACKET', `AUDIO_CHUNK ${seq} after the session's end`);
    return r === 'queued' || r === 'dropped';
  }

  private packetError(err: ProtocolError): void {
    this.core.protocolError(err.code, err.message, err.closeCode, { offset: err.offset, index: err.index });
  }

  ready(ready: ReadyMessage): OutItem[] {
    return [meta(ready, null)];
  }

  stepped(input: StepInput, out: StepOutput): OutItem[] {
    const items: OutItem[] = [];
    const step = input.step;
    if (out.pcm) {
      items.push(outItem({ type: 'AUDIO_CHUNK', samples: out.pcm }, step));
    } else {
      const skipped = [...input.events, ...out.events].some((e) => e.kind === 'skipped-decode');
      const gap: GapMessage = { type: 'gap', step, reason: skipped ? 'skipped-decode' : out.audio === null ? 'warm-up' : 'no-audio' };
      items.push(meta(gap, step));
    }
    // Padding tokens detokenize to '' and are not sent; without a detokenizer every token is.
    if (out.text !== null && out.textPiece !== '') {
      this.tokens++;
      if (out.textPiece) this.pieces.push(out.textPiece);
      const partial: TextPartial = { step, token: out.text, piece: out.textPiece };
      items.push(outItem({ type: 'TEXT_PARTIAL', text: JSON.stringify(partial) }, step, out.text));
    }
    const shown = [...input.events, ...out.events].filter((e) => e.kind !== 'skipped-decode');
    if (shown.length > 0) items.push(meta({ type: 'events', step, events: shown }, step));
    return items;
  }

  ended(steps: number, framesReceived: number): OutItem[] {
    const final: TextFinal = { text: this.pieces.join(''), tokens: this.tokens, steps };
    return [
      outItem({ type: 'TEXT_FINAL', text: JSON.stringify(final) } as Draft, null),
      meta({ type: 'ended', session: this.core.id, steps, framesReceived }, null),
    ];
  }

  error(message: ErrorMessage): OutItem {
    return meta(message, null);
  }

  keepalive(): OutItem {
    return outItem({ type: 'HEARTBEAT' }, null);
  }

  recording(message: RecordingMessage): OutItem {
    return meta(message, null);
  }

  dispose(): void {}
}
