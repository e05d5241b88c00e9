// Typed Ogg container errors with stable codes: the Moshi-protocol adapter tells a client
// exactly what was wrong with its byte stream, and tests pin the reason, not the wording.

import { CodedError, isCodedError } from '../../errors.ts';

export type OggErrorCode =
  | 'OGG_ERR_CAPTURE' // a page does not start with "OggS" (non-Ogg bytes, or a lost sync)
  | 'OGG_ERR_VERSION' // stream_structure_version is not 0
  | 'OGG_ERR_HEADER' // reserved header-type bits set, or a granule position beyond 2^53
  | 'OGG_ERR_CRC' // the page checksum does not match its bytes
  | 'OGG_ERR_PAGE_TOO_LARGE' // the page's header announces more bytes than maxPageBytes
  | 'OGG_ERR_PACKET_TOO_LARGE' // a packet continued across pages grew past maxPacketBytes
  | 'OGG_ERR_INCOMPLETE' // end() with a page (or a packet) cut short
  | 'OGG_ERR_SEQUENCE' // page sequence numbers not consecutive (a page lost or repeated)
  | 'OGG_ERR_SERIAL' // a page of another logical stream (multiplexed streams are not read)
  | 'OGG_ERR_BOS' // first page of a stream without BOS, or BOS in the middle of one
  | 'OGG_ERR_CONTINUATION' // continued-packet flag disagrees with the previous page
  | 'OGG_ERR_GRANULE' // a granule position lower than an earlier one
  | 'OGG_ERR_CLOSED' // push() after end()
  | 'OGG_ERR_BAD_ARGUMENT'; // caller mistake (not bytes, an option out of range)

export interface OggErrorDetails {
  /** Byte offset in the stream (all bytes pushed so far) of the page, or byte, at fault. */
  readonly offset?: number;
  /** Page sequence number of the page at fault, when its header was read. */
  readonly sequence?: number;
  /** What the check expected (sequence number, serial, CRC…) and what it found. */
  readonly expected?: number;
  readonly found?: number;
  readonly cause?: unknown;
}

export class OggError extends CodedError<OggErrorCode> {
  readonly offset: number | undefined;
  readonly sequence: number | undefined;
  readonly expected: number | undefined;
  readonly found: number | undefined;
  override readonly name = 'OggError';

  constructor(code: OggErrorCode, message: string, details: OggErrorDetails = {}) {
    super(code, message, details);
    this.offset = details.offset;
    this.sequence = details.sequence;
    this.expected = details.expected;
    this.found = details.found;
  }
}

export function isOggError(err: unknown, code?: OggErrorCode): err is OggError {
  return isCodedError(err, OggError, code);
}
