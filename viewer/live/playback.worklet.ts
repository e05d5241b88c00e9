// Playback processor (audio thread): 24 kHz frames from the page go through the jitter
// buffer (playout.ts) and out to the device, resampled when the context runs at another
// rate. Underruns are posted at once (the page logs missed audio); stats every 80 ms.
import { SAMPLE_RATE, StreamResampler } from '../../src/audio/browser.ts';
import { Playout, type PlayoutStats } from './playout.ts';
import { PLAYBACK_PROCESSOR } from './worklet-names.ts';
import { scope } from './worklet-scope.ts';

/** Page → processor. */
export type PlaybackCommand =
  | { readonly type: 'frame'; readonly samples: Float32Array }
  /** The stream ended: play out what is held. */
  | { readonly type: 'finish' };

/** Processor → page. Times are device samples at the context rate. */
export type PlaybackReport =
  | { readonly type: 'stats'; readonly stats: PlayoutStats; readonly sampleRate: number }
  | { readonly type: 'underrun'; readonly atSeconds: number; readonly newTargetMs: number; readonly stats: PlayoutStats; readonly sampleRate: number };

const ms = (samples: number) => (samples / scope.sampleRate) * 1000;
const samplesFor = (msValue: number) => Math.round((msValue / 1000) * scope.sampleRate);

class PlaybackProcessor extends scope.AudioWorkletProcessor {
  // 160 ms to start (two frames absorb ordinary jitter), up to 640 ms after underruns,
  // and never more than 2 s held.
  private readonly playout = new Playout({ target: samplesFor(160), maxTarget: samplesFor(640), growBy: samplesFor(80), capacity: samplesFor(2000) });
  private readonly resampler = scope.sampleRate === SAMPLE_RATE ? null : new StreamResampler(SAMPLE_RATE, scope.sampleRate);
  private sinceStats = 0;

  constructor() {
    super();
    this.port.onmessage = (e: MessageEvent) => {
      const cmd = e.data as PlaybackCommand;
      if (cmd.type === 'frame') this.playout.push(this.resampler ? this.resampler.push(cmd.samples) : cmd.samples);
      else if (cmd.type === 'finish') this.playout.finish();
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const channels = outputs[0] ?? [];
    const first = channels[0];
    if (!first) return true;
    const underrun = this.playout.render(first);
    for (let c = 1; c < channels.length; c++) channels[c]!.set(first);
    if (underrun) {
      const msg: PlaybackReport = { type: 'underrun', atSeconds: scope.currentTime, newTargetMs: ms(underrun.newTarget), stats: this.playout.stats(), sampleRate: scope.sampleRate };
      this.port.postMessage(msg);
    }
    this.sinceStats += first.length;
    if (this.sinceStats >= samplesFor(80)) {
      this.sinceStats = 0;
      const msg: PlaybackReport = { type: 'stats', stats: this.playout.stats(), sampleRate: scope.sampleRate };
      this.port.postMessage(msg);
    }
    return true;
  }
}

scope.registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor as never);
