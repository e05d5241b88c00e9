// A raw Moshi-protocol peer for tests (a real `ws` client sending hand-built messages and
// collecting everything the server sends, decoded), and the client audio to send: Ogg Opus
// as Kyutai's web client makes it (OggOpusEncoder in MOSHI_CLIENT_SHAPE), plus the pieces
// hostile tests need (a page rebuilt with its CRC, the next page of a stream).
import { OGG_HEADER_BYTES, oggCrc32, writeOggPage } from '../../../src/audio/ogg/index.ts';
import { INPUT_FRAMING, MOSHI_CLIENT_SHAPE, OggOpusDecoder, OggOpusEncoder, OpusInputFrames, type InputFraming, type Libopus } from '../../../src/audio/opus/index.ts';
import { decodeMoshi, encodeMoshi, type MoshiMessage } from '../../../src/protocol/moshi/index.ts';
import { WsPeer } from '../../ws-peer.ts';

export interface MoshiReceived {
  readonly message: MoshiMessage;
  readonly bytes: Uint8Array;
  readonly at: number;
}

export class MoshiPeer extends WsPeer {
  readonly received: MoshiReceived[] = [];

  protected receive(bytes: Uint8Array): void {
    const copy = bytes.slice();
    this.received.push({ message: decodeMoshi(copy), bytes: copy, at: performance.now() });
  }

  protected describe(): string {
    return `received kinds: ${this.kinds().join(',')}; errors: ${JSON.stringify(this.errors())}; close: ${JSON.stringify(this.closeInfo)}`;
  }

  kinds(): string[] {
    return this.received.map((r) => r.message.kind);
  }

  /** The error messages' texts ("CODE: message"). */
  errors(): string[] {
    return this.received.flatMap((r) => (r.message.kind === 'error' ? [r.message.text] : []));
  }

  /** The metadata message's `solacelive` member (the session's ready). */
  ready(): Record<string, unknown> | null {
    for (const r of this.received) {
      if (r.message.kind === 'metadata' && r.message.json && typeof r.message.json === 'object' && 'solacelive' in r.message.json) {
        return (r.message.json as { solacelive: Record<string, unknown> }).solacelive;
      }
    }
    return null;
  }

  /** 0x01 payloads: the first holds the OpusHead and OpusTags pages, each later one a step's audio. */
  audio(): Uint8Array[] {
    return this.received.flatMap((r) => (r.message.kind === 'audio' ? [r.message.data] : []));
  }

  /** Reply audio messages (steps with audio), the header message not counted. */
  replySteps(): number {
    return Math.max(0, this.audio().length - 1);
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  sendAudio(pages: readonly Uint8Array[]): void {
    for (const p of pages) this.ws.send(encodeMoshi({ kind: 'audio', data: p }));
  }

  /** Resolves after the handshake (0x00) and the reply stream's header pages arrived. */
  async started(ms = 30_000): Promise<void> {
    await this.opened;
    await this.until((p) => p.audio().length >= 1, ms, 'handshake and header pages');
  }
}

/** Speech-band test signal, deterministic: frame k of a slow chirp with a little noise. */
export function signal(n: number, seed = 1): Float32Array[] {
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return Array.from({ length: n }, (_, k) => Float32Array.from({ length: 1920 }, (_, i) => {
    const t = (k * 1920 + i) / 24000;
    return 0.3 * Math.sin(2 * Math.PI * (150 + 40 * t) * t) + 0.02 * rand();
  }));
}

/** A client's Ogg Opus stream as Kyutai's web client shapes it: header pages, then 2 pages per 80 ms frame. */
export class ClientStream {
  private readonly enc: OggOpusEncoder;
  constructor(lib: Libopus, serial = 0x5eed) {
    this.enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial });
  }
  headers(): Uint8Array[] {
    return this.enc.start().map((p) => p.slice());
  }
  frames(frames: readonly Float32Array[]): Uint8Array[] {
    return frames.flatMap((f) => this.enc.push(f)).map((p) => p.slice());
  }
}

/** The frames a server makes of these pages (the shared framing rule: one decoder over the byte stream, exact 1920-sample frames). */
export function decodeFrames(lib: Libopus, pages: readonly Uint8Array[], framing: InputFraming = INPUT_FRAMING): Float32Array[] {
  const input = new OpusInputFrames({ lib, framing });
  const out: Float32Array[] = [];
  for (const p of pages) {
    input.push(p);
    out.push(...input.read());
  }
  input.close();
  return out;
}

/** Reply samples the client decodes from the server's audio messages. */
export function decodeReply(lib: Libopus, payloads: readonly Uint8Array[]): number {
  const dec = new OggOpusDecoder({ lib });
  let n = 0;
  for (const p of payloads) {
    dec.push(p);
    n += dec.read().length;
  }
  const skip = Math.ceil((dec.head?.preSkip ?? 0) / 2);
  dec.close();
  return n === 0 ? 0 : n + skip; // pre-skip counted back: whole steps of 1920
}

/** A page with one byte of its body changed and its CRC made right again. */
export function rewritePage(page: Uint8Array, bodyOffset: number, value: number): Uint8Array {
  const out = page.slice();
  const body = OGG_HEADER_BYTES + out[26]!;
  out[body + bodyOffset] = value;
  new DataView(out.buffer).setUint32(22, 0, true);
  new DataView(out.buffer).setUint32(22, oggCrc32(out), true);
  return out;
}

/** The page that follows `prev` in its stream (next sequence number, same serial), holding `packets`. */
export function nextPage(prev: Uint8Array, packets: readonly Uint8Array[], granuleStep = 960): Uint8Array {
  const v = new DataView(prev.buffer, prev.byteOffset, prev.byteLength);
  const granule = v.getUint32(6, true) + v.getUint32(10, true) * 2 ** 32;
  const lacing: number[] = [];
  for (const p of packets) {
    let left = p.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
  }
  const body = new Uint8Array(packets.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of packets) {
    body.set(p, at);
    at += p.length;
  }
  return writeOggPage({ serial: v.getUint32(14, true), sequence: v.getUint32(18, true) + 1, granulePosition: granule + granuleStep * packets.length, lacing, body });
}

export const concatBytes = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
