// The browser-safe part of the audio layer: no Node-only APIs anywhere below this file.
export { AudioError, isAudioError } from './errors.ts';
export type { AudioErrorCode, AudioErrorDetails } from './errors.ts';
export { decodeWav, encodeWav, encodeWavHeader, wavHeaderBytes, WAV_SAMPLE_FORMATS, WAV_SIZE_PLACEHOLDER } from './wav.ts';
export type { DecodedWav, DecodeWavOptions, EncodeWavOptions, WavFormatTag, WavHeaderSpec, WavSampleFormat, WavTruncation } from './wav.ts';
export { resample, resamplerSpec, StreamResampler, toMono, toMono24k, MIN_RATE, MAX_RATE } from './resample.ts';
export type { Mono24k, ResamplerSpec } from './resample.ts';
export { SAMPLE_RATE, FRAME_SAMPLES, FRAME_MS, frameCount, splitFrames, joinFrames, validateFrame } from './frames.ts';
export type { FrameSplit } from './frames.ts';
export { JitterBuffer } from './jitter.ts';
export type { JitterEvent, JitterOptions, JitterPacket, JitterStats, JitterTick } from './jitter.ts';
export { FrameCutter } from './frame-cutter.ts';
