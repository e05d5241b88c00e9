// Typed audio errors with stable codes, so the CLI and the server can tell a user exactly
// what was wrong with a file or a frame (and tests can pin the reason, not the wording).

import { CodedError, isCodedError } from '../errors.ts';

export type AudioErrorCode =
  | 'AUDIO_ERR_NOT_WAV' // no RIFF/WAVE signature
  | 'AUDIO_ERR_TRUNCATED' // header cut short, no data chunk, or (strict mode) a short data chunk
  | 'AUDIO_ERR_MALFORMED' // inconsistent header fields (zero channels, block align, missing fmt)
  | 'AUDIO_ERR_UNSUPPORTED_FORMAT' // compressed codecs, odd bit depths, RF64/RIFX, unknown sub-formats
  | 'AUDIO_ERR_NON_FINITE' // NaN or ±Infinity in float samples
  | 'AUDIO_ERR_SAMPLE_RATE' // zero, non-integer or out-of-range sample rate
  | 'AUDIO_ERR_CHANNELS' // no channels, or channels of different lengths
  | 'AUDIO_ERR_BAD_FRAME' // not a 1920-sample Float32Array
  | 'AUDIO_ERR_BAD_ARGUMENT' // any other caller mistake (sequence numbers, options)
  | 'AUDIO_ERR_TOO_LARGE' // the data would not fit a 32-bit RIFF size
  | 'AUDIO_ERR_IO'; // the file system refused (path in `path`, cause attached)

export interface AudioErrorDetails {
  /** File the error concerns, when it came from a file wrapper. */
  readonly path?: string;
  /** Byte offset in the WAV where the problem was found. */
  readonly offset?: number;
  /** Channel index of an offending sample. */
  readonly channel?: number;
  /** Sample (frame) index of an offending sample. */
  readonly index?: number;
  readonly cause?: unknown;
}

export class AudioError extends CodedError<AudioErrorCode> {
  readonly path: string | undefined;
  readonly offset: number | undefined;
  readonly channel: number | undefined;
  readonly index: number | undefined;
  override readonly name = 'AudioError';

  constructor(code: AudioErrorCode, message: string, details: AudioErrorDetails = {}) {
    super(code, message, details);
    this.path = details.path;
    this.offset = details.offset;
    this.channel = details.channel;
    this.index = details.index;
  }

  /** The same error, prefixed with the file it came from (file wrappers use this). */
  withPath(path: string): AudioError {
    return new AudioError(this.code, `${path}: ${this.message}`, {
      path, offset: this.offset, channel: this.channel, index: this.index, cause: this.cause,
    });
  }
}

export function isAudioError(err: unknown): err is AudioError {
  return isCodedError(err, AudioError);
}
