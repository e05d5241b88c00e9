// The page's Ogg Opus both ways on the Moshi protocol, with the codec Node uses (src/audio/opus):
// microphone frames → pages shaped like Kyutai's web client (MOSHI_CLIENT_SHAPE: 20 ms
// packets, 2 per page), each page its own 0x01 message; reply 0x01 payloads (pages in any
// chunking) → PCM to play, and how many 80 ms reply steps it completes. Pure given libopus.
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../src/audio/browser.ts';
import { MOSHI_CLIENT_SHAPE, OggOpusDecoder, OggOpusEncoder, type Libopus } from '../../src/audio/opus/index.ts';
import { encodeMoshi } from '../../src/protocol/moshi/index.ts';

/**
 * Steps a Moshi model answers with no audio at the start: its audio streams lag the text by
 * the largest entry of the model's `delays` (1 in every released Moshi and in the tiny model).
 * The protocol does not say it, so the latency readout assumes it (the page's help says so).
 */
export const MOSHI_WARMUP_STEPS = 1;

/**
 * One page of microphone audio (2 packets of 20 ms): what the page captures and sends at a
 * time, as Kyutai's client does. Sending per 80 ms frame instead would hold each page back
 * up to 40 ms, and the server completes a frame only once the next audio is in (the
 * encoder's look-ahead), so it would cost 80 ms of latency where this costs 40.
 */
export const MOSHI_PAGE_SAMPLES = ((SAMPLE_RATE * MOSHI_CLIENT_SHAPE.frameMs) / 1000) * MOSHI_CLIENT_SHAPE.packetsPerPage;

export class MicPages {
  private readonly encoder: OggOpusEncoder;

  /** `serial`: the Ogg stream serial (opus-recorder draws one per stream). */
  constructor(lib: Libopus, serial: number) {
    this.encoder = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial, vendor: 'SolaceLive live page' });
  }

  /** Microphone samples (any count) → the 0x01 messages of the pages they complete (OpusHead and OpusTags first, once). */
  push(samples: Float32Array): Uint8Array[] {
    return this.encoder.push(samples).map((page) => encodeMoshi({ kind: 'audio', data: page }));
  }

  /** The last pages (the encoder's look-ahead flushed, EOS): the server gets every sample sent. */
  end(): Uint8Array[] {
    return this.encoder.end().map((page) => encodeMoshi({ kind: 'audio', data: page }));
  }
}

export class ReplyAudio {
  private readonly decoder: OggOpusDecoder;
  private stepsDone = 0;

  constructor(lib: Libopus) {
    this.decoder = new OggOpusDecoder({ lib });
  }

  /** 80 ms reply steps decoded so far. */
  get steps(): number {
    return this.stepsDone;
  }

  /**
   * One 0x01 payload → its PCM (possibly empty: headers, a partial page) and the reply steps
   * it completes. Steps count the stream's samples before pre-skip is dropped, so step k is
   * complete when the server's k-th 80 ms of audio is in, not 80 ms later. Throws the
   * decoder's OggError/OpusError for a broken stream (after the PCM before it, sticky).
   */
  push(payload: Uint8Array): { pcm: Float32Array; steps: number } {
    this.decoder.push(payload);
    const pcm = this.decoder.read();
    const head = this.decoder.head;
    const out = this.decoder.stats.samples;
    // Pre-skip is in 48 kHz samples; the decoder drops ceil(preSkip / 2) at 24 kHz.
    const total = head && out > 0 ? out + Math.ceil(head.preSkip / 2) : 0;
    const done = Math.floor(total / FRAME_SAMPLES);
    const steps = done - this.stepsDone;
    this.stepsDone = done;
    return { pcm, steps };
  }

  close(): void {
    this.decoder.close();
  }
}
