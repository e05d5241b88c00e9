// One direction's Ogg Opus as the proxy sees it: the pages of its 0x01 messages decoded and
// cut into 80 ms frames, each stamped with the arrival of the message that completed it.
// Two counts: `timing` counts frames as the sender encoded them (decoded samples plus the
// stream's pre-skip, as src/client/moshi.ts counts them), so timing frame k is the sender's
// frame k; `pcm` frames are the decoded audio as a decoder hands it out (what a server's
// input.wav holds, pre-skip dropped), for the WAVs and voice activity.
import { FRAME_SAMPLES } from '../format/layout.ts';
import { FrameCutter } from '../../src/audio/frame-cutter.ts';
import { OggOpusDecoder, type Libopus } from '../../src/audio/opus/index.ts';

export interface TimedFrame {
  readonly index: number;
  /** Arrival time of the message that completed the frame. */
  readonly t: number;
  readonly pcm: Float32Array;
}

export interface TapOutput {
  /** Sender's frames completed by this message (index, arrival time; pcm empty). */
  readonly timing: readonly TimedFrame[];
  /** Decoded 1920-sample frames completed by this message. */
  readonly pcm: readonly TimedFrame[];
}

const NONE: TapOutput = { timing: [], pcm: [] };
const EMPTY = new Float32Array(0);

export class OpusTap {
  private readonly decoder: OggOpusDecoder;
  private readonly cutter = new FrameCutter();
  private frames = 0;
  private pcmFrames = 0;
  private decoded = 0;
  /** Why decoding stopped (bad Ogg or Opus), or null. */
  error: string | null = null;

  constructor(lib: Libopus) {
    this.decoder = new OggOpusDecoder({ lib });
  }

  /** Sender's frames seen whole. */
  get frameCount(): number {
    return this.frames;
  }

  /** Adds one message's Ogg bytes; returns the frames it completed. */
  push(ogg: Uint8Array, t: number): TapOutput {
    if (this.error !== null) return NONE;
    const pcm: Float32Array[] = [];
    try {
      this.decoder.push(ogg);
      // read() hands out the audio before a bad page first, then throws on the next call.
      for (let p = this.decoder.read(); p.length > 0; p = this.decoder.read()) pcm.push(p);
    } catch (err) {
      this.error = (err as Error).message;
    }
    const out = { timing: [] as TimedFrame[], pcm: [] as TimedFrame[] };
    for (const p of pcm) {
      this.decoded += p.length;
      for (const f of this.cutter.push(p)) out.pcm.push({ index: this.pcmFrames++, t, pcm: f });
    }
    const encoded = this.decoded + (this.decoded > 0 ? Math.ceil((this.decoder.head?.preSkip ?? 0) / 2) : 0);
    while ((this.frames + 1) * FRAME_SAMPLES <= encoded) out.timing.push({ index: this.frames++, t, pcm: EMPTY });
    return out;
  }
}

export { FRAME_SAMPLES };
