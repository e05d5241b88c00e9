// Microphone blocks (128 samples per render quantum, at whatever rate the AudioContext
// runs) → exact 1920-sample frames at 24 kHz, the only audio the server takes (or exact
// chunks of a frame: the Moshi protocol sends a page per 40 ms). Pure, so the capture
// worklet stays a thin shell and this part runs under Node in the tests too.
import { FRAME_SAMPLES, SAMPLE_RATE, StreamResampler } from '../../src/audio/browser.ts';

export class Framer {
  readonly inputRate: number;
  private readonly resampler: StreamResampler | null;
  readonly chunkSamples: number;
  private frame: Float32Array;
  private fill = 0;

  /** `chunkSamples`: the size of what push() returns, a divisor of a frame (default a whole frame). */
  constructor(inputRate: number, chunkSamples = FRAME_SAMPLES) {
    if (!(Number.isInteger(chunkSamples) && chunkSamples > 0 && FRAME_SAMPLES % chunkSamples === 0)) {
      throw new Error(`Framer: chunkSamples must divide ${FRAME_SAMPLES}, got ${chunkSamples}`);
    }
    this.inputRate = inputRate;
    this.chunkSamples = chunkSamples;
    this.frame = new Float32Array(chunkSamples);
    // A 24 kHz context (the page asks for one) needs no resampling at all.
    this.resampler = inputRate === SAMPLE_RATE ? null : new StreamResampler(inputRate, SAMPLE_RATE);
  }

  get resampling(): boolean {
    return this.resampler !== null;
  }

  /** Takes one block of mono samples; returns the frames it completed (each a new array). */
  push(block: Float32Array): Float32Array[] {
    const samples = this.resampler ? this.resampler.push(block) : block;
    const done: Float32Array[] = [];
    let at = 0;
    while (at < samples.length) {
      const n = Math.min(this.chunkSamples - this.fill, samples.length - at);
      this.frame.set(samples.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.chunkSamples) {
        done.push(this.frame);
        this.frame = new Float32Array(this.chunkSamples);
        this.fill = 0;
      }
    }
    return done;
  }
}

/** Averages the channels of one render quantum into `into` (a browser may give stereo mics). */
export function downmix(channels: readonly Float32Array[], into: Float32Array): Float32Array {
  const n = channels[0]?.length ?? 0;
  const out = into.length === n ? into : new Float32Array(n);
  if (channels.length === 1) {
    out.set(channels[0]!);
    return out;
  }
  out.fill(0);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i]! += ch[i]! / channels.length;
  return out;
}
