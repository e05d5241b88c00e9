// How much audio an Ogg Opus stream holds, counted without decoding it: each packet's length
// from its table-of-contents byte (RFC 6716 §3.1), pre-skip dropped from the start and the
// EOS page's granule trimming the end, as OggOpusDecoder hands samples out. For a client that
// needs to know how much reply audio arrived but not the audio (a load-test client, whose
// audio is decoded off its event loop by the measuring worker).
import { SAMPLE_RATE } from '../frames.ts';
import { OggDemuxer } from '../ogg/demuxer.ts';
import { OpusError } from './errors.ts';
import { isOpusHead, parseOpusHead, type OpusHead } from './head.ts';

/** Decoded samples at 24 kHz per sample at 48 kHz (the unit of TOC durations, pre-skip and granules). */
const RATIO = SAMPLE_RATE / 48000;
/** Frame length in 48 kHz samples by TOC configuration: SILK 10/20/40/60 ms, Hybrid 10/20 ms, CELT 2.5/5/10/20 ms. */
const SILK = [480, 960, 1920, 2880];
const HYBRID = [480, 960];
const CELT = [120, 240, 480, 960];

/** An Opus packet's length in 48 kHz samples, from its TOC byte and frame count. */
export function opusPacketSamples48k(packet: Uint8Array): number {
  if (packet.length === 0) throw new OpusError('OPUS_ERR_DECODE', 'an empty Opus packet has no table-of-contents byte');
  const config = packet[0]! >> 3;
  const frame = config < 12 ? SILK[config & 3]! : config < 16 ? HYBRID[config & 1]! : CELT[config & 3]!;
  const code = packet[0]! & 3;
  if (code < 3) return frame * (code === 0 ? 1 : 2);
  if (packet.length < 2) throw new OpusError('OPUS_ERR_DECODE', 'an Opus packet of code 3 without its frame count byte');
  return frame * (packet[1]! & 0x3f);
}

export class OggOpusSampleCounter {
  private readonly demuxer = new OggDemuxer({ maxPacketBytes: 64 * 1024 });
  private opusHead: OpusHead | null = null;
  private skip = 0;
  private streamSamples = 0;

  /** The current stream's OpusHead, once read. */
  get head(): OpusHead | null {
    return this.opusHead;
  }

  /** Adds Ogg bytes; returns the samples (24 kHz) their completed packets decode to. Throws OggError/OpusError on a bad stream. */
  push(bytes: Uint8Array): number {
    this.demuxer.push(bytes);
    let total = 0;
    for (let p = this.demuxer.next(); p; p = this.demuxer.next()) {
      if (p.index === 0) {
        if (!isOpusHead(p.data)) throw new OpusError('OPUS_ERR_NO_HEAD', `packet 0 of Ogg stream ${p.page.serial} is not an OpusHead: audio before OpusHead`);
        this.opusHead = parseOpusHead(p.data);
        this.skip = Math.ceil(this.opusHead.preSkip * RATIO);
        this.streamSamples = 0;
        continue;
      }
      if (p.index === 1) continue;
      let n = opusPacketSamples48k(p.data) * RATIO;
      const drop = Math.min(this.skip, n);
      this.skip -= drop;
      n -= drop;
      if (p.page.eos && p.lastOnPage) n = Math.min(n, Math.max(0, Math.round((p.page.granulePosition - this.opusHead!.preSkip) * RATIO) - this.streamSamples));
      this.streamSamples += n;
      total += n;
    }
    return total;
  }
}
