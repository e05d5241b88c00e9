// 24 kHz mono float PCM in, Ogg Opus pages out, shaped like one of the two Moshi senders:
// Kyutai's web client (opus-recorder) or upstream's Python server (sphn 0.2 → kaudio).

import { SAMPLE_RATE } from '../frames.ts';
import { OggMuxer } from '../ogg/muxer.ts';
import { OpusError } from './errors.ts';
import { buildOpusHead, buildOpusTags } from './head.ts';
import type { Libopus, OpusApplication, OpusPacketEncoder } from './libopus.ts';

export interface OpusStreamShape {
  /** Duration of each Opus packet. */
  readonly frameMs: 10 | 20 | 40 | 60;
  /** A page closes after this many packets. */
  readonly packetsPerPage: number;
  readonly application: OpusApplication;
  readonly complexity?: number;
  readonly bitrate?: number;
}

/**
 * Kyutai's web client (client/src/pages/Conversation/hooks/useUserAudio.ts at e6a55d2):
 * opus-recorder with encoderFrameSize 20, maxFramesPerPage 2, encoderApplication 2049,
 * encoderComplexity 0, 24 kHz mono.
 */
export const MOSHI_CLIENT_SHAPE: OpusStreamShape = { frameMs: 20, packetsPerPage: 2, application: 'audio', complexity: 0 };

/**
 * Upstream's Python server (moshi/server.py → sphn 0.2 OpusStreamWriter → kaudio ogg_opus):
 * VOIP, 960-sample (40 ms at 24 kHz) packets, each on its own page, so one 80 ms Mimi frame
 * gives two pages, sent together in one message.
 */
export const MOSHI_SERVER_SHAPE: OpusStreamShape = { frameMs: 40, packetsPerPage: 1, application: 'voip' };

export interface OggOpusEncoderOptions {
  readonly lib: Libopus;
  readonly shape: OpusStreamShape;
  /** Ogg stream serial (u32): random per stream in opus-recorder, 42 upstream. */
  readonly serial: number;
  /** OpusHead's informational input rate (default 24000, the PCM we are given). */
  readonly inputSampleRate?: number;
  readonly vendor?: string;
}

/** Streams PCM into pages: the OpusHead page (BOS, sequence 0) and OpusTags page (sequence 1) first. */
export class OggOpusEncoder {
  /** Samples at 48 kHz a decoder drops from the start (the encoder's lookahead). */
  readonly preSkip: number;
  readonly frameSamples: number;
  private readonly shape: OpusStreamShape;
  private readonly encoder: OpusPacketEncoder;
  private readonly muxer: OggMuxer;
  private readonly headerPages: Uint8Array[];
  private headersSent = false;
  private readonly pending: Float32Array;
  private pendingLen = 0;
  private packetsOnPage = 0;
  /** PCM samples (24 kHz) handed in, and encoded (a whole number of packets). */
  private samplesIn = 0;
  private samplesEncoded = 0;
  private ended = false;

  constructor(options: OggOpusEncoderOptions) {
    const { lib, shape, serial, inputSampleRate = SAMPLE_RATE, vendor = `SolaceLive (${lib.identity.library} ${lib.identity.version}, libopus ${lib.identity.libopus})` } = options;
    if (!Number.isInteger(shape.packetsPerPage) || shape.packetsPerPage < 1 || shape.packetsPerPage > 255) {
      throw new OpusError('OPUS_ERR_BAD_ARGUMENT', `packetsPerPage ${shape.packetsPerPage} is outside 1..255`);
    }
    this.shape = shape;
    this.frameSamples = (SAMPLE_RATE * shape.frameMs) / 1000;
    this.muxer = new OggMuxer({ serial });
    this.encoder = lib.createEncoder({ sampleRate: SAMPLE_RATE, application: shape.application, complexity: shape.complexity, bitrate: shape.bitrate });
    this.preSkip = this.encoder.lookahead * (48000 / SAMPLE_RATE);
    this.pending = new Float32Array(this.frameSamples);
    // RFC 7845 §3: each header packet alone on its page, granule 0; the web client reads the
    // channel count at page offset 37, which holds with a one-entry segment table.
    const head = this.muxer.addPacket(buildOpusHead({ channels: 1, preSkip: this.preSkip, inputSampleRate }), 0);
    head.push(this.muxer.flush()!);
    const tags = this.muxer.addPacket(buildOpusTags({ vendor, comments: [] }), 0);
    tags.push(this.muxer.flush()!);
    this.headerPages = [...head, ...tags];
  }

  /** The two header pages, once; later calls (and push()) return none. */
  start(): Uint8Array[] {
    if (this.headersSent) return [];
    this.headersSent = true;
    return this.headerPages;
  }

  /** Adds 24 kHz samples (any count); returns the pages completed, header pages first on the first call. */
  push(pcm: Float32Array): Uint8Array[] {
    if (this.ended) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', 'push() after end()');
    if (!(pcm instanceof Float32Array)) throw new OpusError('OPUS_ERR_BAD_ARGUMENT', 'push() takes a Float32Array');
    const pages = this.start();
    this.samplesIn += pcm.length;
    let at = 0;
    while (at < pcm.length) {
      const n = Math.min(this.frameSamples - this.pendingLen, pcm.length - at);
      this.pending.set(pcm.subarray(at, at + n), this.pendingLen);
      this.pendingLen += n;
      at += n;
      if (this.pendingLen === this.frameSamples) this.encodePending(pages, false);
    }
    return pages;
  }

  /**
   * Ends the stream: the last packets are padded with silence, and the final page (EOS) carries
   * a granule position that trims the padding away (RFC 7845 §4.4).
   */
  end(): Uint8Array[] {
    if (this.ended) return [];
    const pages = this.start();
    // Encode silence until the input's last sample has left the encoder's lookahead, so a
    // decoder that trims to the final granule gets every input sample back.
    const lookahead = this.encoder.lookahead;
    do {
      this.pending.fill(0, this.pendingLen);
      const last = this.samplesEncoded + this.frameSamples >= this.samplesIn + lookahead;
      this.encodePending(pages, last);
    } while (this.samplesEncoded < this.samplesIn + lookahead);
    this.ended = true;
    pages.push(this.muxer.end(this.preSkip + this.samplesIn * 2));
    this.encoder.free();
    return pages;
  }

  /** Encodes the pending frame; the page closes when full, unless `final` (end() closes it with EOS). */
  private encodePending(pages: Uint8Array[], final: boolean): void {
    const packet = this.encoder.encode(this.pending);
    this.pendingLen = 0;
    this.samplesEncoded += this.frameSamples;
    pages.push(...this.muxer.addPacket(packet, this.samplesEncoded * 2));
    this.packetsOnPage++;
    if (this.packetsOnPage >= this.shape.packetsPerPage && !final) {
      const page = this.muxer.flush();
      if (page) pages.push(page);
      this.packetsOnPage = 0;
    }
  }
}
