// Ogg Opus for the Moshi protocol, browser-safe (Node loads the .wasm through ./node.ts).
export { OpusError, isOpusError, libopusErrorName } from './errors.ts';
export type { OpusErrorCode, OpusErrorDetails } from './errors.ts';
export { buildOpusHead, buildOpusTags, isOpusHead, isOpusTags, parseOpusHead, parseOpusTags, OPUS_HEAD_BYTES } from './head.ts';
export type { OpusHead, OpusHeadSpec, OpusTags } from './head.ts';
export {
  compileLibopus, describeLibopus, fetchLibopus, loadLibopus, opusFrameSizes, Libopus, OpusPacketDecoder, OpusPacketEncoder,
  LIBOPUS_VERSION, OPUS_SAMPLE_RATES, OPUSSCRIPT_VERSION, OPUSSCRIPT_WASM_SPECIFIER,
} from './libopus.ts';
export type { LibopusBuild, LibopusIdentity, OpusApplication, OpusDecoderOptions, OpusEncoderOptions, OpusSampleRate } from './libopus.ts';
export { MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusEncoder } from './encoder.ts';
export type { OggOpusEncoderOptions, OpusStreamShape } from './encoder.ts';
export { OggOpusDecoder } from './decoder.ts';
export type { OggOpusDecoderOptions, OggOpusDecoderStats } from './decoder.ts';
export { INPUT_FRAMING, INPUT_FRAMINGS, OpusInputFrames, recordedInputFraming } from './input-frames.ts';
export type { InputFraming, OpusInputFramesOptions } from './input-frames.ts';
