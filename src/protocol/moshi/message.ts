// The Moshi WebSocket protocol (Kyutai's web client and servers): one binary message per
// item, its first byte the kind. This is the one kind↔byte table; decode(encode(m)) = m
// for every kind. Browser-safe. Audio payloads are Ogg Opus bytes (src/audio/ogg, opus).
import { CodedError } from '../../errors.ts';
import { decodeUtf8, utf8Length, writeUtf8 } from '../bytes.ts';

export const MOSHI_KINDS = {
  handshake: 0x00,
  audio: 0x01,
  text: 0x02,
  control: 0x03,
  metadata: 0x04,
  error: 0x05,
  ping: 0x06,
  coloredText: 0x07,
} as const;
export type MoshiKind = keyof typeof MOSHI_KINDS;

/** Control actions (client → server); unused in full duplex but part of the protocol. */
export const MOSHI_CONTROL = { start: 0x00, endTurn: 0x01, pause: 0x02, restart: 0x03 } as const;
export type MoshiControl = keyof typeof MOSHI_CONTROL;

export type MoshiMessage =
  /** The server is ready: the client starts its microphone only after this. Payload ignored by the client. */
  | { readonly kind: 'handshake'; readonly payload: Uint8Array }
  | { readonly kind: 'audio'; readonly data: Uint8Array }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'control'; readonly action: MoshiControl }
  | { readonly kind: 'metadata'; readonly json: unknown }
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'ping' }
  | { readonly kind: 'coloredText'; readonly color: number; readonly text: string }
  /** A kind outside the table: the protocol says to ignore it (the caller counts it). */
  | { readonly kind: 'unknown'; readonly byte: number; readonly payload: Uint8Array };

export type MoshiErrorCode = 'MOSHI_ERR_EMPTY' | 'MOSHI_ERR_BAD_TEXT' | 'MOSHI_ERR_BAD_JSON' | 'MOSHI_ERR_BAD_CONTROL' | 'MOSHI_ERR_BAD_PAYLOAD';

export class MoshiProtocolError extends CodedError<MoshiErrorCode> {
  /** The kind byte of the offending message, when there was one. */
  readonly kindByte: number | undefined;
  override readonly name = 'MoshiProtocolError';
  constructor(code: MoshiErrorCode, message: string, kindByte?: number) {
    super(code, message);
    this.kindByte = kindByte;
  }
}

const KIND_BY_BYTE = new Map<number, MoshiKind>(Object.entries(MOSHI_KINDS).map(([k, b]) => [b, k as MoshiKind]));
const CONTROL_BY_BYTE = new Map<number, MoshiControl>(Object.entries(MOSHI_CONTROL).map(([k, b]) => [b, k as MoshiControl]));

function withKind(kind: number, payloadBytes: number, write: (out: Uint8Array) => void): Uint8Array {
  const out = new Uint8Array(1 + payloadBytes);
  out[0] = kind;
  write(out);
  return out;
}

function textMessage(kind: number, text: string, prefix: readonly number[] = []): Uint8Array {
  const n = utf8Length(text);
  if (n < 0) throw new MoshiProtocolError('MOSHI_ERR_BAD_TEXT', 'text holds a lone surrogate: it has no UTF-8 form', kind);
  return withKind(kind, prefix.length + n, (out) => {
    out.set(prefix, 1);
    writeUtf8(text, out, 1 + prefix.length);
  });
}

export function encodeMoshi(m: Exclude<MoshiMessage, { kind: 'unknown' }>): Uint8Array {
  switch (m.kind) {
    case 'handshake':
      return withKind(MOSHI_KINDS.handshake, m.payload.byteLength, (o) => o.set(m.payload, 1));
    case 'audio':
      return withKind(MOSHI_KINDS.audio, m.data.byteLength, (o) => o.set(m.data, 1));
    case 'text':
      return textMessage(MOSHI_KINDS.text, m.text);
    case 'control':
      return new Uint8Array([MOSHI_KINDS.control, MOSHI_CONTROL[m.action]]);
    case 'metadata':
      return textMessage(MOSHI_KINDS.metadata, JSON.stringify(m.json));
    case 'error':
      return textMessage(MOSHI_KINDS.error, m.text);
    case 'ping':
      return new Uint8Array([MOSHI_KINDS.ping]);
    case 'coloredText':
      if (!Number.isInteger(m.color) || m.color < 0 || m.color > 255) throw new MoshiProtocolError('MOSHI_ERR_BAD_PAYLOAD', `colour ${m.color} is not a byte`, MOSHI_KINDS.coloredText);
      return textMessage(MOSHI_KINDS.coloredText, m.text, [m.color]);
  }
}

function utf8(bytes: Uint8Array, start: number, kind: number, what: string): string {
  const s = decodeUtf8(bytes, start, bytes.byteLength);
  if (s === null) throw new MoshiProtocolError('MOSHI_ERR_BAD_TEXT', `${what} message holds invalid UTF-8`, kind);
  return s;
}

/** One message; throws only MoshiProtocolError. Payload views share `bytes`' memory. */
export function decodeMoshi(bytes: Uint8Array): MoshiMessage {
  if (bytes.byteLength === 0) throw new MoshiProtocolError('MOSHI_ERR_EMPTY', 'empty message: the first byte must be the message kind');
  const byte = bytes[0]!;
  const payload = bytes.subarray(1);
  const kind = KIND_BY_BYTE.get(byte);
  switch (kind) {
    case undefined:
      return { kind: 'unknown', byte, payload };
    case 'handshake':
      return { kind, payload };
    case 'audio':
      return { kind, data: payload };
    case 'text':
    case 'error':
      return { kind, text: utf8(bytes, 1, byte, kind) };
    case 'control': {
      const action = payload.byteLength === 1 ? CONTROL_BY_BYTE.get(payload[0]!) : undefined;
      if (!action) throw new MoshiProtocolError('MOSHI_ERR_BAD_CONTROL', `control message must be one byte 0-3, got ${payload.byteLength} byte(s)${payload.byteLength ? ` starting ${payload[0]}` : ''}`, byte);
      return { kind, action };
    }
    case 'metadata': {
      const text = utf8(bytes, 1, byte, kind);
      try {
        return { kind, json: JSON.parse(text) as unknown };
      } catch {
        throw new MoshiProtocolError('MOSHI_ERR_BAD_JSON', 'metadata message is not JSON', byte);
      }
    }
    case 'ping':
      if (payload.byteLength !== 0) throw new MoshiProtocolError('MOSHI_ERR_BAD_PAYLOAD', `ping carries no payload, got ${payload.byteLength} byte(s)`, byte);
      return { kind };
    case 'coloredText':
      if (payload.byteLength === 0) throw new MoshiProtocolError('MOSHI_ERR_BAD_PAYLOAD', 'coloured text needs a colour byte', byte);
      return { kind, color: payload[0]!, text: utf8(bytes, 2, byte, kind) };
  }
}
