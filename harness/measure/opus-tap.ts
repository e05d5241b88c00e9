// One direction's Ogg Opus as the proxy sees it: the pages of its 0x01 messages decoded and
// cut into 80 ms frames, each stamped with the arrival of the message that completed it.
// Frames are cut by the Moshi input framing rule (src/audio/opus/input-frames.ts, the one a
// SolaceLive server cuts its input.wav with): on the sender's encoder boundaries, the stream's
// pre-skip counted as silence, so frame k is the sender's frame k (as src/client/moshi.ts
// counts them) and completes when its pages arrive; the stream's EOS page completes its last
// partial frame, padded with silence, as the server steps it. `timing` and `pcm` are the same frames:
// the first for lag (no samples kept), the second for the WAVs and voice activity.
import { FRAME_SAMPLES } from '../format/layout.ts';
import { INPUT_FRAMING, OpusInputFrames, type Libopus } from '../../src/audio/opus/index.ts';

export interface TimedFrame {
  readonly index: number;
  /** Arrival time of the message that completed the frame. */
  readonly t: number;
  readonly pcm: Float32Array;
}

export interface TapOutput {
  /** Sender's frames completed by this message (index, arrival time; pcm empty). */
  readonly timing: readonly TimedFrame[];
  /** The same frames with their 1920 decoded samples. */
  readonly pcm: readonly TimedFrame[];
}

const NONE: TapOutput = { timing: [], pcm: [] };
const EMPTY = new Float32Array(0);

export class OpusTap {
  private readonly input: OpusInputFrames;
  private frames = 0;
  /** The EOS page was read: the stream is over (its padded tail handed out). */
  private eos = false;
  private ended = false;
  /** Why decoding stopped (bad Ogg or Opus), or null. */
  error: string | null = null;
  /** The index of the padded frame the EOS page completed, or null (no EOS yet, or nothing was left to pad). */
  tail: number | null = null;

  constructor(lib: Libopus) {
    this.input = new OpusInputFrames({ lib, framing: INPUT_FRAMING, onPage: (page) => { if (page.eos) this.eos = true; } });
  }

  /** Sender's frames seen whole. */
  get frameCount(): number {
    return this.frames;
  }

  /** Adds one message's Ogg bytes; returns the frames it completed. */
  push(ogg: Uint8Array, t: number): TapOutput {
    if (this.error !== null || this.ended) return NONE;
    const frames: Float32Array[] = [];
    try {
      this.input.push(ogg);
      // read() hands out the frames before a bad page first, then throws on the next call.
      for (let f = this.input.read(); f.length > 0; f = this.input.read()) frames.push(...f);
    } catch (err) {
      this.error = (err as Error).message;
    }
    if (this.eos && this.error === null) {
      this.ended = true;
      const tail = this.input.flush();
      if (tail) {
        this.tail = this.frames + frames.length;
        frames.push(tail.frame);
      }
    }
    const out = { timing: [] as TimedFrame[], pcm: [] as TimedFrame[] };
    for (const f of frames) {
      out.pcm.push({ index: this.frames, t, pcm: f });
      out.timing.push({ index: this.frames++, t, pcm: EMPTY });
    }
    return out;
  }
}

export { FRAME_SAMPLES };
