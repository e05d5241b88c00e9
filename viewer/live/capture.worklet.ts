// Capture processor (runs on the audio thread): the microphone's render quanta are downmixed,
// resampled to 24 kHz when the context runs at another rate, and cut into 1920-sample frames
// (or the chunks of a frame the protocol sends: processorOptions.chunkSamples), each posted
// to the page as soon as it is complete. Framing here rather than on the page keeps frame
// boundaries independent of main-thread stalls.
import { downmix, Framer } from './framer.ts';
import { CAPTURE_PROCESSOR } from './worklet-names.ts';
import { scope } from './worklet-scope.ts';

/** Posted per chunk (a frame, or a whole fraction of one); `index` counts chunks from 0. */
export interface CapturedFrame {
  readonly index: number;
  readonly samples: Float32Array;
  /** Audio-thread time at the end of the block that completed the frame (seconds). */
  readonly time: number;
}

export interface CaptureOptions {
  readonly chunkSamples: number;
}

class CaptureProcessor extends scope.AudioWorkletProcessor {
  private readonly framer: Framer;
  private readonly mono = new Float32Array(128);
  private index = 0;

  constructor(options?: { processorOptions?: CaptureOptions }) {
    super();
    this.framer = new Framer(scope.sampleRate, options?.processorOptions?.chunkSamples);
  }

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    // No input yet (the track has not started): nothing to frame.
    if (!channels || channels.length === 0) return true;
    for (const samples of this.framer.push(downmix(channels, this.mono))) {
      const msg: CapturedFrame = { index: this.index++, samples, time: scope.currentTime };
      this.port.postMessage(msg, [samples.buffer]);
    }
    return true;
  }
}

scope.registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor as never);
