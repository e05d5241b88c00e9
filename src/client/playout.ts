// Real-time playout of received audio: packets go into the jitter buffer (src/audio/jitter.ts)
// numbered in arrival order (the server sends audio in step order), and a tick every 80 ms,
// on an absolute schedule from the first packet, takes one frame out — the frame a speaker
// would play, or silence on an underrun.
import { FRAME_MS } from '../audio/frames.ts';
import { JitterBuffer, type JitterOptions, type JitterStats, type JitterTick } from '../audio/jitter.ts';
import type { Clock } from '../telemetry/clock.ts';

export class Playout {
  private readonly buffer: JitterBuffer;
  private readonly clock: Clock;
  private readonly onPlay: ((tick: JitterTick) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private start = 0;
  private ticks = 0;
  private stopped = false;

  constructor(clock: Clock, options: JitterOptions | undefined, onPlay: ((tick: JitterTick) => void) | undefined) {
    this.clock = clock;
    this.buffer = new JitterBuffer(options);
    this.onPlay = onPlay;
  }

  /** Audio packet number `index` (0, 1, 2 … in arrival order) arrived at `t`. */
  push(index: number, samples: Float32Array, t: number): void {
    if (this.stopped) return;
    this.buffer.push({ seq: index, samples }, t);
    if (this.timer) return;
    this.start = t;
    this.timer = setTimeout(() => this.tick(), 0);
  }

  /** End of stream: plays out what is held, at once. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const tk of this.buffer.drain(this.clock.now())) this.onPlay?.(tk);
  }

  stats(): JitterStats {
    return this.buffer.stats();
  }

  private tick(): void {
    const tk = this.buffer.tick(this.clock.now());
    this.ticks++;
    this.onPlay?.(tk);
    // Absolute schedule: a late timer does not push every later tick back.
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.start + this.ticks * FRAME_MS - this.clock.now()));
  }
}
