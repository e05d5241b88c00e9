// The page's audio graph: microphone → capture worklet (frames out), and playback worklet
// (frames in) → speakers, in one AudioContext. The context asks for 24 kHz so no resampling
// is needed; a browser or device that runs it at another rate is handled by the worklets.
import captureUrl from './capture.worklet.ts?worker&url';
import playbackUrl from './playback.worklet.ts?worker&url';
import type { CaptureOptions, CapturedFrame } from './capture.worklet.ts';
import type { PlaybackCommand, PlaybackReport } from './playback.worklet.ts';
import { LiveError } from './errors.ts';
import { CAPTURE_PROCESSOR, PLAYBACK_PROCESSOR } from './worklet-names.ts';

export interface AudioCallbacks {
  readonly onFrame: (f: CapturedFrame) => void;
  readonly onPlayback: (r: PlaybackReport) => void;
}

export interface LiveAudio {
  /** The context's real rate (24000 unless the browser refused it). */
  readonly sampleRate: number;
  /** The microphone track's label, for the page. */
  readonly device: string;
  play(samples: Float32Array): void;
  /** No more frames: play out what is held. */
  finishPlayback(): void;
  /** Stops capture at once (the playback keeps running until close). */
  stopCapture(): void;
  close(): Promise<void>;
}

function micError(err: unknown): LiveError {
  const name = (err as { name?: string }).name ?? '';
  const message = (err as Error).message ?? String(err);
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new LiveError('Microphone access denied', 'The browser refused the microphone. Allow it for this page (the icon in the address bar) and press Start again.');
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return new LiveError('No microphone', `No usable microphone was found (${message}).`);
  if (name === 'NotReadableError') return new LiveError('Microphone busy', `The microphone could not be opened; another program may hold it (${message}).`);
  return new LiveError('Microphone failed', `${name || 'Error'}: ${message}`);
}

/**
 * Opens the microphone and both worklets. `rate`: the context rate to ask for (24000), or
 * null for the device's own (exercises the resampling path); `chunkSamples`: what onFrame
 * gets at a time (a frame, or a whole fraction of one).
 */
export async function openAudio(rate: number | null, echoCancellation: boolean, chunkSamples: number, cb: AudioCallbacks): Promise<LiveAudio> {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    throw new LiveError('Microphone unavailable', 'Browsers only give pages on https:// or http://localhost / 127.0.0.1 a microphone. Open this page through `solacelive view` on this machine.');
  }
  let stream: MediaStream;
  try {
    // Raw audio: the model hears the voice, not the browser's gain riding; echo cancellation
    // is on unless asked otherwise, so through speakers the model does not hear itself.
    stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation, noiseSuppression: false, autoGainControl: false } });
  } catch (err) {
    throw micError(err);
  }
  const ctx = new AudioContext({ latencyHint: 'interactive', ...(rate === null ? {} : { sampleRate: rate }) });
  try {
    await Promise.all([ctx.audioWorklet.addModule(captureUrl), ctx.audioWorklet.addModule(playbackUrl)]);
    // A context created without a user gesture starts suspended; Start is one.
    if (ctx.state !== 'running') await ctx.resume();
  } catch (err) {
    stream.getTracks().forEach((t) => t.stop());
    await ctx.close().catch(() => undefined);
    throw new LiveError('Audio engine failed', `The AudioWorklet could not start: ${(err as Error).message}`);
  }
  const source = ctx.createMediaStreamSource(stream);
  // The capture node's output is silence; it is connected only so the graph pulls it.
  const processorOptions: CaptureOptions = { chunkSamples };
  const capture = new AudioWorkletNode(ctx, CAPTURE_PROCESSOR, { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit', processorOptions });
  const playback = new AudioWorkletNode(ctx, PLAYBACK_PROCESSOR, { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
  capture.port.onmessage = (e: MessageEvent) => cb.onFrame(e.data as CapturedFrame);
  playback.port.onmessage = (e: MessageEvent) => cb.onPlayback(e.data as PlaybackReport);
  source.connect(capture).connect(ctx.destination);
  playback.connect(ctx.destination);
  const send = (cmd: PlaybackCommand, transfer: Transferable[] = []) => playback.port.postMessage(cmd, transfer);
  let capturing = true;
  const stopCapture = () => {
    if (!capturing) return;
    capturing = false;
    capture.port.onmessage = null;
    source.disconnect();
    capture.disconnect();
    stream.getTracks().forEach((t) => t.stop());
  };
  return {
    sampleRate: ctx.sampleRate,
    device: stream.getAudioTracks()[0]?.label ?? 'microphone',
    play: (samples) => {
      // Transfer only a buffer the frame owns (a decoded packet may view a shared one).
      const own = samples.byteOffset === 0 && samples.buffer.byteLength === samples.byteLength ? samples : samples.slice();
      send({ type: 'frame', samples: own }, [own.buffer]);
    },
    finishPlayback: () => send({ type: 'finish' }),
    stopCapture,
    close: async () => {
      stopCapture();
      playback.port.onmessage = null;
      playback.disconnect();
      await ctx.close().catch(() => undefined);
    },
  };
}
