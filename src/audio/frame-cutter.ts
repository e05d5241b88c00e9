// Cuts a stream of PCM pieces of any length (decoded Opus packets: 480 or 960 samples) into
// exact Mimi frames of FRAME_SAMPLES, carrying the remainder to the next push.

import { AudioError } from './errors.ts';
import { FRAME_SAMPLES } from './frames.ts';

export class FrameCutter {
  private readonly buf = new Float32Array(FRAME_SAMPLES);
  private len = 0;

  /** Samples waiting for a whole frame. */
  get pending(): number {
    return this.len;
  }

  /** Adds samples; returns the whole frames completed (independent copies). */
  push(pcm: Float32Array): Float32Array[] {
    if (!(pcm instanceof Float32Array)) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', 'FrameCutter.push takes a Float32Array');
    const frames: Float32Array[] = [];
    let at = 0;
    while (at < pcm.length) {
      const n = Math.min(FRAME_SAMPLES - this.len, pcm.length - at);
      this.buf.set(pcm.subarray(at, at + n), this.len);
      this.len += n;
      at += n;
      if (this.len === FRAME_SAMPLES) {
        frames.push(this.buf.slice());
        this.len = 0;
      }
    }
    return frames;
  }

  /** The remainder zero-padded to a frame, with how many samples are padding; null when none waits. */
  flush(): { readonly frame: Float32Array; readonly paddedSamples: number } | null {
    if (this.len === 0) return null;
    const frame = new Float32Array(FRAME_SAMPLES);
    frame.set(this.buf.subarray(0, this.len));
    const paddedSamples = FRAME_SAMPLES - this.len;
    this.len = 0;
    return { frame, paddedSamples };
  }
}
