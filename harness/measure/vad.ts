// Energy voice-activity detection with hangover, streaming: PCM goes in frame by frame with
// the time its first sample plays, speech segments come out in the caller's ms. Energy is
// enough for the proxy's question (who is making sound when), not for speech vs noise.
import { SAMPLE_RATE } from '../format/layout.ts';

export interface VadOptions {
  /** RMS level (dBFS) over a hop that counts as sound (default -50: speech tails decay below -40). */
  readonly thresholdDb?: number;
  /** Analysis hop in ms (default 10). */
  readonly hopMs?: number;
  /** Loud time needed to open a segment (default 30 ms): clicks are not speech. */
  readonly minSpeechMs?: number;
  /** Quiet time that closes a segment (default 200 ms): pauses between words stay inside. */
  readonly hangoverMs?: number;
}

export interface Segment {
  /** Start of the first loud hop, ms. */
  readonly startMs: number;
  /** End of the last loud hop, ms (the hangover is not included). */
  readonly endMs: number;
}

export const VAD_DEFAULTS = { thresholdDb: -50, hopMs: 10, minSpeechMs: 30, hangoverMs: 200 } as const;

export class StreamingVad {
  private readonly threshold: number;
  private readonly hop: number;
  private readonly hopMs: number;
  private readonly minSpeechMs: number;
  private readonly hangoverMs: number;
  private readonly buf: Float32Array;
  private fill = 0;
  /** Time of buf[0]. */
  private bufStart = 0;
  private loudStart: number | null = null;
  private lastLoudEnd = -Infinity;
  private open: number | null = null;
  readonly segments: Segment[] = [];

  constructor(o: VadOptions = {}) {
    const v = { ...VAD_DEFAULTS, ...o };
    this.threshold = 10 ** (v.thresholdDb / 20);
    this.hopMs = v.hopMs;
    this.hop = Math.round((SAMPLE_RATE * v.hopMs) / 1000);
    this.minSpeechMs = v.minSpeechMs;
    this.hangoverMs = v.hangoverMs;
    this.buf = new Float32Array(this.hop);
  }

  /** Adds samples whose first one plays at `atMs`; a jump in time (a stall) is honoured. */
  push(pcm: Float32Array, atMs: number): void {
    const msPerSample = 1000 / SAMPLE_RATE;
    for (let i = 0; i < pcm.length; i++) {
      if (this.fill === 0) this.bufStart = atMs + i * msPerSample;
      this.buf[this.fill++] = pcm[i]!;
      if (this.fill === this.hop) {
        this.hopDone();
        this.fill = 0;
      }
    }
  }

  /** Closes an open segment; returns every segment found. */
  finish(): Segment[] {
    if (this.open !== null) this.segments.push({ startMs: this.open, endMs: this.lastLoudEnd });
    this.open = null;
    return this.segments;
  }

  private hopDone(): void {
    let sum = 0;
    for (let i = 0; i < this.hop; i++) sum += this.buf[i]! * this.buf[i]!;
    const loud = Math.sqrt(sum / this.hop) >= this.threshold;
    const start = this.bufStart;
    const end = start + this.hopMs;
    if (this.open !== null && start - this.lastLoudEnd >= this.hangoverMs) {
      this.segments.push({ startMs: this.open, endMs: this.lastLoudEnd });
      this.open = null;
    }
    if (!loud) {
      this.loudStart = null;
      return;
    }
    if (this.open !== null) {
      this.lastLoudEnd = end;
      return;
    }
    this.loudStart ??= start;
    if (end - this.loudStart >= this.minSpeechMs) {
      this.open = this.loudStart;
      this.lastLoudEnd = end;
      this.loudStart = null;
    }
  }
}

/** Segments of a whole track whose sample 0 plays at `atMs`. */
export function detectSpeech(pcm: Float32Array, atMs = 0, o: VadOptions = {}): Segment[] {
  const v = new StreamingVad(o);
  v.push(pcm, atMs);
  return v.finish();
}
