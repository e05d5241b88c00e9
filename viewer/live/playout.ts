// The playback jitter buffer: frames from the server go in whole, the audio device takes
// render quanta out. Audio arrives over one TCP stream, in order, so what varies is only
// *when* a frame comes; the buffer holds `target` samples before it plays. When it runs dry
// (an underrun), the silence played is counted as missed audio and the target grows by one
// frame (up to `maxTarget`), so a connection that jitters more gets a deeper buffer instead
// of a gap every few seconds. Nothing is dropped on an underrun: the late frame plays when
// it comes. Held audio above `capacity` is dropped oldest first (the device clock running
// slower than the server's), and counted.
//
// Pure (no clock, no I/O): the playback worklet drives it, and the tests run it in Node.

export interface PlayoutOptions {
  /** Samples to hold before playing (start and after each underrun). */
  readonly target: number;
  /** Largest target the underruns can grow it to. */
  readonly maxTarget: number;
  /** How much the target grows per underrun. */
  readonly growBy: number;
  /** Held samples above which the oldest are dropped. */
  readonly capacity: number;
}

export interface PlayoutStats {
  readonly state: 'buffering' | 'playing' | 'ended';
  readonly heldSamples: number;
  readonly targetSamples: number;
  readonly playedSamples: number;
  /** Silence played while playing had started and the buffer was empty. */
  readonly missedSamples: number;
  readonly underruns: number;
  readonly droppedSamples: number;
  readonly framesIn: number;
}

export interface Underrun {
  /** Output samples rendered before this one (the device position of the gap). */
  readonly at: number;
  /** The target after growing. */
  readonly newTarget: number;
}

export class Playout {
  private readonly o: PlayoutOptions;
  private readonly queue: Float32Array[] = [];
  /** Read position within queue[0]. */
  private head = 0;
  private held = 0;
  private target: number;
  private playing = false;
  /** Set when an underrun began: its silence is counted until audio plays again. */
  private dry = false;
  private rendered = 0;
  private played = 0;
  private missed = 0;
  private underruns = 0;
  private dropped = 0;
  private framesIn = 0;
  /** No more frames will come: play out what is held, and running dry is no underrun. */
  private ended = false;

  constructor(options: PlayoutOptions) {
    if (!(options.target >= 0 && options.maxTarget >= options.target && options.capacity > options.maxTarget && options.growBy >= 0)) {
      throw new Error(`Playout: need 0 <= target <= maxTarget < capacity and growBy >= 0, got ${JSON.stringify(options)}`);
    }
    this.o = options;
    this.target = options.target;
  }

  push(samples: Float32Array): void {
    if (samples.length === 0) return;
    this.queue.push(samples);
    this.held += samples.length;
    this.framesIn++;
    while (this.held > this.o.capacity) {
      const first = this.queue[0]!;
      const drop = Math.min(first.length - this.head, this.held - this.o.capacity);
      this.dropped += drop;
      this.held -= drop;
      this.head += drop;
      if (this.head === first.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
  }

  /** End of stream: what is held plays out even below the target. */
  finish(): void {
    this.ended = true;
  }

  /** Fills `out` (one render quantum); returns the underrun this quantum began, if any. */
  render(out: Float32Array): Underrun | null {
    let underrun: Underrun | null = null;
    if (!this.playing && this.held > 0 && (this.ended || this.held >= this.target)) {
      this.playing = true;
      this.dry = false;
    }
    let i = 0;
    if (this.playing) {
      while (i < out.length && this.held > 0) {
        const first = this.queue[0]!;
        const n = Math.min(out.length - i, first.length - this.head);
        out.set(first.subarray(this.head, this.head + n), i);
        i += n;
        this.head += n;
        this.held -= n;
        this.played += n;
        if (this.head === first.length) {
          this.queue.shift();
          this.head = 0;
        }
      }
      if (i < out.length && this.ended) {
        this.playing = false;
      } else if (i < out.length) {
        // Ran dry mid-stream: wait for a deeper buffer before playing again.
        this.playing = false;
        this.dry = true;
        this.underruns++;
        this.target = Math.min(this.o.maxTarget, this.target + this.o.growBy);
        underrun = { at: this.rendered + i, newTarget: this.target };
      }
    }
    out.fill(0, i);
    if (this.dry && !this.ended) this.missed += out.length - i;
    this.rendered += out.length;
    return underrun;
  }

  stats(): PlayoutStats {
    return {
      state: this.playing ? 'playing' : this.ended && this.held === 0 ? 'ended' : 'buffering', heldSamples: this.held, targetSamples: this.target, playedSamples: this.played,
      missedSamples: this.missed, underruns: this.underruns, droppedSamples: this.dropped, framesIn: this.framesIn,
    };
  }
}
