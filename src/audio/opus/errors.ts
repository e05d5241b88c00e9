// Typed Opus errors with stable codes (container errors stay OggError): the Moshi adapter
// names the problem to the client, tests pin the reason.

import { CodedError, isCodedError } from '../../errors.ts';

export type OpusErrorCode =
  | 'OPUS_ERR_HEAD' // the first packet is not a well-formed OpusHead (magic, length)
  | 'OPUS_ERR_HEAD_VERSION' // OpusHead version from an incompatible major version (≥ 16)
  | 'OPUS_ERR_CHANNELS' // channel count this reader does not decode (mapping family 0: 1 or 2)
  | 'OPUS_ERR_RATE' // input sample rate outside 0 (unspecified) or 1000..384000 Hz
  | 'OPUS_ERR_MAPPING' // channel mapping family other than 0
  | 'OPUS_ERR_TAGS' // the second packet is not a well-formed OpusTags
  | 'OPUS_ERR_NO_HEAD' // audio (or anything) before the OpusHead packet
  | 'OPUS_ERR_DECODE' // libopus refused a packet (its error code in `libopusCode`)
  | 'OPUS_ERR_ENCODE' // libopus refused to encode (its error code in `libopusCode`)
  | 'OPUS_ERR_LIBRARY' // the WebAssembly build failed to load, or aborted and cannot be used
  | 'OPUS_ERR_BAD_ARGUMENT'; // caller mistake (frame size, option out of range, freed codec)

export interface OpusErrorDetails {
  /** Packet number in the logical stream (0 = OpusHead), when a packet is at fault. */
  readonly packet?: number;
  /** Byte offset in the stream of the page the packet ends on. */
  readonly offset?: number;
  /** libopus's own error code (OPUS_INVALID_PACKET = -4…). */
  readonly libopusCode?: number;
  readonly found?: number | string;
  readonly cause?: unknown;
}

export class OpusError extends CodedError<OpusErrorCode> {
  readonly packet: number | undefined;
  readonly offset: number | undefined;
  readonly libopusCode: number | undefined;
  readonly found: number | string | undefined;
  override readonly name = 'OpusError';

  constructor(code: OpusErrorCode, message: string, details: OpusErrorDetails = {}) {
    super(code, message, details);
    this.packet = details.packet;
    this.offset = details.offset;
    this.libopusCode = details.libopusCode;
    this.found = details.found;
  }
}

export function isOpusError(err: unknown, code?: OpusErrorCode): err is OpusError {
  return isCodedError(err, OpusError, code);
}

/** libopus's names for its error codes (opus_defines.h). */
export function libopusErrorName(code: number): string {
  const names: Record<number, string> = {
    [-1]: 'OPUS_BAD_ARG', [-2]: 'OPUS_BUFFER_TOO_SMALL', [-3]: 'OPUS_INTERNAL_ERROR', [-4]: 'OPUS_INVALID_PACKET',
    [-5]: 'OPUS_UNIMPLEMENTED', [-6]: 'OPUS_INVALID_STATE', [-7]: 'OPUS_ALLOC_FAIL',
  };
  return names[code] ?? `libopus error ${code}`;
}
