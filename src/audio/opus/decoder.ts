// Ogg Opus bytes in (any chunking), 24 kHz mono float PCM out: the demuxer finds packets,
// the first two must be OpusHead and OpusTags, audio packets are decoded by one libopus
// decoder, pre-skip is dropped from the start (or handed out as silence, see `preSkip`) and
// the EOS page's granule trims the end.

import { SAMPLE_RATE } from '../frames.ts';
import { OggDemuxer, type OggPacket } from '../ogg/demuxer.ts';
import type { OggPageHeader } from '../ogg/page.ts';
import { OpusError } from './errors.ts';
import { isOpusHead, parseOpusHead, parseOpusTags, type OpusHead, type OpusTags } from './head.ts';
import type { Libopus, OpusPacketDecoder } from './libopus.ts';

export interface OggOpusDecoderOptions {
  readonly lib: Libopus;
  /** Largest Ogg packet accepted (OpusTags included); default 64 KiB. */
  readonly maxPacketBytes?: number;
  /** Largest Ogg page accepted; default the format's 65307. */
  readonly maxPageBytes?: number;
  readonly onPage?: (page: OggPageHeader) => void;
  /**
   * The stream's first pre-skip samples (the encoder's warm-up, not audio): 'drop' them
   * (default, RFC 7845), or hand out 'silence' in their place, so sample n out is sample n the
   * sender's encoder produced and frames counted from here fall on the sender's boundaries.
   */
  readonly preSkip?: 'drop' | 'silence';
}

export interface OggOpusDecoderStats {
  readonly audioPackets: number;
  /** Samples handed out (after pre-skip and end trimming; pre-skip silence counted). */
  readonly samples: number;
  /** Logical streams begun (more than 1 for a chained stream). */
  readonly streams: number;
}

const DEFAULT_MAX_PACKET_BYTES = 64 * 1024;
/** Decoded samples at 24 kHz per sample at 48 kHz (the unit of pre-skip and granules). */
const RATIO = SAMPLE_RATE / 48000;

export class OggOpusDecoder {
  private readonly lib: Libopus;
  private readonly demuxer: OggDemuxer;
  private readonly preSkipAsSilence: boolean;
  private decoder: OpusPacketDecoder | null = null;
  private opusHead: OpusHead | null = null;
  private opusTags: OpusTags | null = null;
  private skip = 0;
  /** Samples handed out in the current logical stream (after pre-skip). */
  private streamSamples = 0;
  private failure: unknown = null;
  private counts = { audioPackets: 0, samples: 0, streams: 0 };

  constructor(options: OggOpusDecoderOptions) {
    this.lib = options.lib;
    this.preSkipAsSilence = options.preSkip === 'silence';
    this.demuxer = new OggDemuxer({ maxPacketBytes: options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES, maxPageBytes: options.maxPageBytes, onPage: options.onPage });
  }

  /** The current stream's OpusHead, once read. */
  get head(): OpusHead | null {
    return this.opusHead;
  }

  get tags(): OpusTags | null {
    return this.opusTags;
  }

  get stats(): OggOpusDecoderStats {
    return { ...this.counts };
  }

  /** Adds Ogg bytes; problems surface from read(), after the audio before them. */
  push(bytes: Uint8Array): void {
    this.demuxer.push(bytes);
  }

  /** No more bytes (a torn last page becomes OGG_ERR_INCOMPLETE from read()). */
  end(): void {
    this.demuxer.end();
  }

  /**
   * All PCM decodable now (possibly empty). Throws the stream's OggError or OpusError once the
   * PCM before the bad page or packet has been returned; the error stays (sticky).
   */
  read(): Float32Array {
    if (this.failure) throw this.failure;
    const parts: Float32Array[] = [];
    let total = 0;
    for (;;) {
      let packet: OggPacket | null;
      try {
        packet = this.demuxer.next();
        if (!packet) break;
        const pcm = this.handle(packet);
        if (pcm && pcm.length > 0) {
          parts.push(pcm);
          total += pcm.length;
        }
      } catch (err) {
        this.failure = err;
        if (total === 0) throw err;
        break; // hand out what came before; the error is next
      }
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Float32Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Frees the libopus state. */
  close(): void {
    this.decoder?.free();
    this.decoder = null;
  }

  private handle(packet: OggPacket): Float32Array | null {
    const where = { packet: packet.index, offset: packet.page.offset };
    if (packet.index === 0) {
      if (!isOpusHead(packet.data)) throw new OpusError('OPUS_ERR_NO_HEAD', `packet 0 of Ogg stream ${packet.page.serial} is not an OpusHead: audio before OpusHead`, where);
      const head = withWhere(() => parseOpusHead(packet.data), where);
      this.decoder?.free();
      this.decoder = this.lib.createDecoder({ sampleRate: SAMPLE_RATE });
      this.opusHead = head;
      this.opusTags = null;
      this.skip = Math.ceil(head.preSkip * RATIO);
      this.streamSamples = 0;
      this.counts.streams++;
      return null;
    }
    if (packet.index === 1) {
      this.opusTags = withWhere(() => parseOpusTags(packet.data), where);
      return null;
    }
    const head = this.opusHead!;
    let pcm = withWhere(() => this.decoder!.decode(packet.data), where);
    this.counts.audioPackets++;
    let silence = 0;
    if (this.skip > 0) {
      const drop = Math.min(this.skip, pcm.length);
      this.skip -= drop;
      pcm = pcm.subarray(drop);
      if (this.preSkipAsSilence) silence = drop;
    }
    if (packet.page.eos && packet.lastOnPage) {
      // End trimming: the last granule says how many samples the stream really holds.
      const valid = Math.max(0, Math.round((packet.page.granulePosition - head.preSkip) * RATIO));
      const room = Math.max(0, valid - this.streamSamples);
      if (pcm.length > room) pcm = pcm.subarray(0, room);
    }
    this.streamSamples += pcm.length;
    if (silence > 0) {
      const out = new Float32Array(silence + pcm.length); // zeros, then the audio
      out.set(pcm, silence);
      pcm = out;
    }
    this.counts.samples += pcm.length;
    return pcm;
  }
}

function withWhere<T>(fn: () => T, where: { packet: number; offset: number }): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OpusError && err.packet === undefined) {
      throw new OpusError(err.code, `Ogg Opus packet ${where.packet} (page at byte ${where.offset}): ${err.message}`, { ...where, libopusCode: err.libopusCode, found: err.found, cause: err.cause });
    }
    throw err;
  }
}
