// One direction's Ogg Opus as the proxy sees it: the pages of its 0x01 messages decoded and
// cut into 80 ms frames, each stamped with the arrival of the message that completed it.
// Frames are counted as the sender encoded them (decoded samples plus the stream's pre-skip,
// as src/client/moshi.ts counts them), so frame k of either side is the sender's frame k.
import { FRAME_SAMPLES } from '../format/layout.ts';
import { FrameCutter } from '../../src/audio/frame-cutter.ts';
import { OggOpusDecoder, type Libopus } from '../../src/audio/opus/index.ts';

export interface TimedFrame {
  readonly index: number;
  /** Arrival time of the message that completed the frame. */
  readonly t: number;
  readonly pcm: Float32Array;
}

export class OpusTap {
  private readonly decoder: OggOpusDecoder;
  private readonly cutter = new FrameCutter();
  private frames = 0;
  private preskipDone = false;
  /** Why decoding stopped (bad Ogg or Opus), or null. */
  error: string | null = null;

  constructor(lib: Libopus) {
    this.decoder = new OggOpusDecoder({ lib });
  }

  get frameCount(): number {
    return this.frames;
  }

  /** Adds one message's Ogg bytes; returns the frames it completed. */
  push(ogg: Uint8Array, t: number): TimedFrame[] {
    if (this.error !== null) return [];
    let pcm: Float32Array;
    try {
      this.decoder.push(ogg);
      pcm = this.decoder.read();
    } catch (err) {
      this.error = (err as Error).message;
      return [];
    }
    const out: TimedFrame[] = [];
    if (pcm.length > 0 && !this.preskipDone) {
      // The pre-skip the decoder dropped, back as silence: keeps frame boundaries where the sender had them.
      this.preskipDone = true;
      for (const f of this.cutter.push(new Float32Array(Math.ceil((this.decoder.head?.preSkip ?? 0) / 2)))) out.push({ index: this.frames++, t, pcm: f });
    }
    for (const f of this.cutter.push(pcm)) out.push({ index: this.frames++, t, pcm: f });
    return out;
  }

  /** The last partial frame, zero-padded (null when none). */
  flush(t: number): TimedFrame | null {
    const f = this.cutter.flush();
    return f === null ? null : { index: this.frames++, t, pcm: f.frame };
  }
}

export { FRAME_SAMPLES };
