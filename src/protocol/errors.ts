// Typed protocol errors with stable codes. A decoder throws nothing else, so a server
// can answer any malformed input with a precise error and keep the connection.

import { CodedError, isCodedError } from '../errors.ts';

export type ProtocolErrorCode =
  | 'PKT_ERR_EMPTY' // a message with no bytes
  | 'PKT_ERR_TRUNCATED' // fewer bytes than a header, or than the header's length says
  | 'PKT_ERR_LENGTH_MISMATCH' // a single packet whose length field disagrees with its size
  | 'PKT_ERR_UNKNOWN_TYPE'
  | 'PKT_ERR_BAD_PRIORITY'
  | 'PKT_ERR_BAD_ACK_FLAG'
  | 'PKT_ERR_BAD_TIMESTAMP' // NaN or infinite
  | 'PKT_ERR_BAD_AUDIO' // not 1920 float32 samples, or NaN/Inf among them
  | 'PKT_ERR_BAD_TEXT' // invalid UTF-8
  | 'PKT_ERR_BAD_METADATA' // not UTF-8 JSON
  | 'PKT_ERR_BAD_ACK' // ACK payload is not one u32
  | 'PKT_ERR_BAD_HEARTBEAT' // HEARTBEAT with a payload
  | 'PKT_ERR_TOO_LARGE' // (encode) payload over 65535 bytes
  | 'PKT_ERR_BAD_FIELD'; // (encode) a header field out of range

/** WebSocket close codes (RFC 6455) a server can use for each error. */
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_PAYLOAD = 1007;

const PAYLOAD_CODES: ReadonlySet<ProtocolErrorCode> = new Set([
  'PKT_ERR_BAD_AUDIO', 'PKT_ERR_BAD_TEXT', 'PKT_ERR_BAD_METADATA', 'PKT_ERR_BAD_ACK', 'PKT_ERR_BAD_HEARTBEAT',
]);

export interface ProtocolErrorDetails {
  /** Byte offset in the message where the offending packet starts. */
  readonly offset?: number;
  /** Index of the offending packet within the message. */
  readonly index?: number;
  /** Wire byte of the offending packet's type, when it could be read. */
  readonly typeByte?: number;
}

export class ProtocolError extends CodedError<ProtocolErrorCode> {
  readonly offset: number | undefined;
  readonly index: number | undefined;
  readonly typeByte: number | undefined;
  override readonly name = 'ProtocolError';

  constructor(code: ProtocolErrorCode, message: string, details: ProtocolErrorDetails = {}) {
    super(code, message);
    this.offset = details.offset;
    this.index = details.index;
    this.typeByte = details.typeByte;
  }

  /** The WebSocket close code that fits this error if the peer must be disconnected. */
  get closeCode(): number {
    return PAYLOAD_CODES.has(this.code) ? CLOSE_INVALID_PAYLOAD : CLOSE_PROTOCOL_ERROR;
  }

  /** The same error located at a packet inside a multi-packet message. */
  at(offset: number, index: number): ProtocolError {
    const where = index > 0 || offset > 0 ? ` (packet ${index} at byte ${offset})` : '';
    return new ProtocolError(this.code, `${this.message}${where}`, { offset, index, typeByte: this.typeByte });
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return isCodedError(err, ProtocolError);
}
