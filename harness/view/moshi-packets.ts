// packets.bin of a session recorded on the Moshi protocol, as packet-table rows: each
// message's kind (src/protocol/moshi) and, for audio, the Ogg pages that complete in it
// (src/audio/ogg's demuxer, one byte stream per direction: a page split across messages is
// listed where its last byte arrives, with how much of it came earlier). Browser-safe; no
// Opus decoding: packet durations come from each Opus packet's TOC byte.
import { OggDemuxer, type OggPacket, type OggPageHeader } from '../../src/audio/ogg/index.ts';
import { OGG_NO_GRANULE } from '../../src/audio/ogg/page.ts';
import { parseOpusHead } from '../../src/audio/opus/head.ts';
import type { InputFraming } from '../../src/audio/opus/input-frames.ts';
import { decodeMoshi, MoshiProtocolError, type MoshiMessage } from '../../src/protocol/moshi/index.ts';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../format/layout.ts';
import type { OggPageInfo, PacketInfo, PacketRow } from './packets.ts';

/** Samples (at SAMPLE_RATE) an Opus packet decodes to, read from its TOC byte (RFC 6716 §3.1); null when malformed. */
export function opusPacketSamples(packet: Uint8Array): number | null {
  if (packet.length === 0) return null;
  const toc = packet[0]!;
  const config = toc >> 3;
  // SILK-only configs 0–11, hybrid 12–15, CELT-only 16–31.
  const frameMs = config < 12 ? [10, 20, 40, 60][config & 3]! : config < 16 ? [10, 20][config & 1]! : [2.5, 5, 10, 20][config & 3]!;
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : packet.length < 2 ? 0 : packet[1]! & 0x3f;
  // libopus refuses a code-3 packet of no frames and any packet longer than 120 ms.
  if (frames === 0 || frames * frameMs > 120) return null;
  return (frames * frameMs * SAMPLE_RATE) / 1000;
}

/** Largest Ogg packet the server's Ogg Opus decoder accepts (src/audio/opus/decoder.ts). */
const MAX_PACKET_BYTES = 64 * 1024;

/**
 * What the server's input path does with the samples (src/server/moshi-wire.ts, cut by
 * src/audio/opus/input-frames.ts): pre-skip as silence ('encoder' framing) or dropped
 * ('decoded', older sessions), EOS trim, 1920-sample frames.
 */
class FrameCount {
  private readonly framing: InputFraming;
  private preSkip = 0;
  private skip = 0;
  private streamSamples = 0;
  private pending = 0;
  /** The client's EOS page was read: the server pads the last partial frame and takes no more input. */
  ended = false;

  constructor(framing: InputFraming) {
    this.framing = framing;
  }

  head(preSkip: number): void {
    this.preSkip = preSkip;
    this.skip = Math.ceil(preSkip / 2); // 48 kHz samples → 24 kHz
    this.streamSamples = 0;
  }

  /** Frames completed by one audio packet. */
  packet(samples: number, page: OggPageHeader, lastOnPage: boolean): number {
    if (this.ended) return 0;
    const drop = Math.min(this.skip, samples);
    this.skip -= drop;
    let n = samples - drop;
    if (page.eos && lastOnPage) {
      // End trimming: the EOS granule says how many samples the stream really holds.
      const valid = Math.max(0, Math.round((page.granulePosition - this.preSkip) / 2));
      n = Math.min(n, Math.max(0, valid - this.streamSamples));
    }
    this.streamSamples += n;
    // The encoder framing hands the pre-skip out as silence: it fills frames like audio.
    this.pending += n + (this.framing === 'encoder' ? drop : 0);
    const frames = Math.floor(this.pending / FRAME_SAMPLES);
    this.pending -= frames * FRAME_SAMPLES;
    return frames;
  }

  /** The input ended: the last partial frame is stepped, padded with silence. */
  end(): number {
    if (this.ended) return 0;
    this.ended = true;
    const padded = this.pending > 0 ? 1 : 0;
    this.pending = 0;
    return padded;
  }
}

/** One direction's Ogg byte stream. */
class AudioStream {
  private readonly demuxer: OggDemuxer;
  private readonly client: boolean;
  private pages: { header: OggPageHeader; info: { content: OggPageInfo['content']; audioMs: number } }[] = [];
  /** Stream offset of the first byte not yet in a completed page. */
  private pageEnd = 0;
  private pushed = 0;
  private brokenAt: number | null = null;
  private headersSeen = false;
  private readonly count: FrameCount;

  constructor(client: boolean, framing: InputFraming) {
    this.client = client;
    this.count = new FrameCount(framing);
    this.demuxer = new OggDemuxer({
      // The server's decoder limit (OggOpusDecoder's default): a larger packet broke its stream too.
      maxPacketBytes: MAX_PACKET_BYTES,
      onPage: (header) => {
        this.pages.push({ header, info: { content: 'audio', audioMs: 0 } });
        this.pageEnd = header.offset + header.pageBytes;
      },
    });
  }

  /** The Ogg bytes of one audio message: its pages, frames and audio time, or why the stream broke. */
  message(index: number, data: Uint8Array): Pick<PacketRow, 'pages' | 'pendingBytes' | 'frames' | 'audioMs' | 'error'> & { note: string } {
    if (this.brokenAt !== null) {
      return { pages: [], pendingBytes: 0, frames: 0, audioMs: 0, error: null, note: `not read: this direction's Ogg stream broke at message ${this.brokenAt}` };
    }
    const before = this.pushed;
    this.pushed += data.length;
    this.pages = [];
    this.demuxer.push(data);
    let frames = 0, audioPackets = 0, headers = 0;
    let error: string | null = null;
    for (;;) {
      let p: OggPacket | null;
      try {
        p = this.demuxer.next();
      } catch (err) {
        error = describe(err);
        break;
      }
      if (p === null) break;
      const entry = this.pages.find((x) => x.header === p.page);
      if (p.index < 2) {
        headers++;
        if (entry) entry.info.content = p.index === 0 ? 'OpusHead' : 'OpusTags';
        if (p.index === 0) {
          try {
            this.count.head(parseOpusHead(p.data).preSkip);
          } catch (err) {
            error = describe(err);
            break;
          }
        }
        continue;
      }
      const samples = opusPacketSamples(p.data);
      if (samples === null) {
        error = `OPUS_ERR_DECODE: Opus packet ${p.index} (page ${p.page.sequence}) is malformed`;
        break;
      }
      audioPackets++;
      if (entry) entry.info.audioMs += (samples / SAMPLE_RATE) * 1000;
      if (this.client) frames += this.count.packet(samples, p.page, p.lastOnPage);
    }
    if (error !== null) this.brokenAt = index;
    if (this.client && error === null && this.pages.some((x) => x.header.eos)) frames += this.count.end();
    if (!this.client) {
      // The rule for replies: the server sends the OpusHead and OpusTags pages in one message,
      // then one audio message per step that produced PCM (src/server/moshi-wire.ts).
      frames = headers === 0 && this.headersSeen ? 1 : 0;
      if (headers > 0) this.headersSeen = true;
    }
    const pages: OggPageInfo[] = this.pages.map(({ header: h, info }) => ({
      sequence: h.sequence, granule: h.granulePosition === OGG_NO_GRANULE ? null : h.granulePosition, size: h.pageBytes, packets: h.packetsEnded,
      bos: h.bos, eos: h.eos, continued: h.continued, carried: Math.max(0, before - h.offset), content: info.content, audioMs: info.audioMs,
    }));
    const note = headers > 0 && audioPackets === 0 ? 'Opus headers' : '';
    return { pages, pendingBytes: error === null ? this.pushed - this.pageEnd : 0, frames, audioMs: pages.reduce((a, p) => a + p.audioMs, 0), error, note };
  }
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code !== 'string') throw err;
  return `${e.code}: ${String(e.message)}`;
}

const short = (s: string): string => (s.length > 80 ? `${s.slice(0, 79)}…` : s);

function info(m: MoshiMessage, size: number): PacketInfo {
  const p = (type: PacketInfo['type'], note = ''): PacketInfo => ({ type, seq: null, priority: null, size, step: null, note: short(note) });
  switch (m.kind) {
    case 'handshake': return p('handshake', m.payload.length ? `${m.payload.length} B payload` : '');
    case 'audio': return p('audio');
    case 'text': return p('text', `"${m.text}"`);
    case 'coloredText': return p('coloredText', `colour ${m.color} "${m.text}"`);
    case 'control': return p('control', m.action);
    case 'metadata': return p('metadata', JSON.stringify(m.json));
    case 'error': return p('error', m.text);
    case 'ping': return p('ping');
    case 'unknown': return p('unknown', `kind byte 0x${m.byte.toString(16).padStart(2, '0')}, ignored`);
  }
}

/**
 * Rows of one Moshi session, in packets.bin order (the Ogg streams carry over between
 * messages, so rows must be made in order). Step mapping, by order as the server works:
 * a client audio message completes the input frames (1920 decoded samples cut by the session's
 * input framing, the EOS page pads the last) whose count it carries in `frames` — the k-th frame is step k;
 * a server audio message after the OpusHead/OpusTags one carries one step's reply (the j-th
 * is the j-th step with PCM); a server text message is the next step with a text piece.
 */
export class MoshiRows {
  private readonly streams: readonly [AudioStream, AudioStream];

  /** `framing`: how the server cut the client's audio (the session's wireInfo.inputFraming). */
  constructor(framing: InputFraming) {
    this.streams = [new AudioStream(true, framing), new AudioStream(false, framing)];
  }

  row(index: number, direction: 0 | 1, timeMs: number, bytes: Uint8Array): PacketRow {
    const base = { index, direction, timeMs, size: bytes.length, pages: [], pendingBytes: 0, frames: 0, audioMs: 0, texts: 0 };
    let m: MoshiMessage;
    try {
      m = decodeMoshi(bytes);
    } catch (err) {
      if (!(err instanceof MoshiProtocolError)) throw err;
      return { ...base, packets: [], error: `${err.code}: ${err.message}` };
    }
    const packet = info(m, bytes.length);
    if (m.kind === 'audio') {
      const { note, ...audio } = this.streams[direction].message(index, m.data);
      return { ...base, ...audio, packets: [note ? { ...packet, note } : packet] };
    }
    const texts = direction === 1 && (m.kind === 'text' || m.kind === 'coloredText') ? 1 : 0;
    return { ...base, texts, packets: [packet], error: null };
  }
}
