// End-to-end latency per frame: client frame k sent → audio of step k back. Audio packets
// carry no step number; the server sends them in step order and announces each step
// without audio (warm-up, skipped decode) in a 'gap' message. Gap messages travel at a
// lower priority than audio, so under congestion one can arrive after later audio: the
// step of an audio packet is therefore assigned at the end, once every gap is known
// (`assignments`), and `online` is only the best guess at arrival time.
import { summarize, type SpanStats } from '../telemetry/window.ts';

export interface LatencyReport extends SpanStats {
  /** Frame 0 sent → first audio back (includes the model's warm-up steps). */
  readonly firstAudioMs: number | null;
  /** Audio packets with no sent frame to pair with (should be 0). */
  readonly unmatched: number;
  /** Steps left out because the server replaced their late frame with silence. */
  readonly replaced: number;
}

export class LatencyTracker {
  private readonly sentAt: number[] = [];
  private readonly audioAt: number[] = [];
  private readonly gaps = new Set<number>();
  /** Steps the server ran with silence instead of our frame (it came too late): no latency to speak of. */
  private readonly replaced = new Set<number>();
  private nextOnline = 0;

  /** Frame `index` (= its step) was sent at `t`. */
  sent(index: number, t: number): void {
    this.sentAt[index] = t;
  }

  /** Step `step` produced no audio. */
  gap(step: number): void {
    this.gaps.add(step);
  }

  /** Step `step` ran with a replacement for our frame (missing-frame event): left out of the figures. */
  replacement(step: number): void {
    this.replaced.add(step);
  }

  /** An audio packet arrived at `t`; returns the step it most likely belongs to. */
  audio(t: number): number {
    this.audioAt.push(t);
    while (this.gaps.has(this.nextOnline)) this.nextOnline++;
    return this.nextOnline++;
  }

  get audioCount(): number {
    return this.audioAt.length;
  }
  get gapCount(): number {
    return this.gaps.size;
  }

  /** Step of each audio packet, in arrival order, given every gap now known. */
  assignments(): number[] {
    const out: number[] = [];
    let step = 0;
    for (let i = 0; i < this.audioAt.length; i++) {
      while (this.gaps.has(step)) step++;
      out.push(step++);
    }
    return out;
  }

  report(): LatencyReport {
    const steps = this.assignments();
    const lat: number[] = [];
    let unmatched = 0;
    steps.forEach((s, i) => {
      if (this.replaced.has(s)) return;
      const sent = this.sentAt[s];
      if (sent === undefined) unmatched++;
      else lat.push(this.audioAt[i]! - sent);
    });
    const first = steps.length > 0 && this.sentAt[0] !== undefined ? this.audioAt[0]! - this.sentAt[0] : null;
    return { ...summarize(lat), firstAudioMs: first, unmatched, replaced: this.replaced.size };
  }
}
