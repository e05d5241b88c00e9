// Bytes → packets. Pure and browser-safe. Reads only inside the given view (header
// fields through a DataView bounded to the header), and throws nothing but
// ProtocolError, whatever the input.
import { ProtocolError } from './errors.ts';
import {
  ACK_PAYLOAD_BYTES, AUDIO_PAYLOAD_BYTES, AUDIO_SAMPLES, HEADER_BYTES, MAX_PRIORITY, OFFSET_ACK, OFFSET_LENGTH,
  OFFSET_PRIORITY, OFFSET_SEQUENCE, OFFSET_TIMESTAMP, OFFSET_TYPE, packetTypeName, type Priority,
} from './opcodes.ts';
import { firstNonFinite } from './encode.ts';
import type { JsonValue, Packet, PacketHeader } from './packet.ts';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM is text, so
// what was sent is what arrives.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface ReadResult {
  readonly packet: Packet;
  /** Offset just past this packet. */
  readonly next: number;
}

function decodeText(payload: Uint8Array, what: string, code: 'PKT_ERR_BAD_TEXT' | 'PKT_ERR_BAD_METADATA', typeByte: number): string {
  try {
    return utf8.decode(payload);
  } catch {
    throw new ProtocolError(code, `${what} payload is not valid UTF-8`, { typeByte });
  }
}

/** Copies the samples out into an aligned Float32Array (the payload sits at an odd offset). */
function decodeSamples(payload: Uint8Array, typeByte: number): Float32Array {
  if (payload.length !== AUDIO_PAYLOAD_BYTES) {
    throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK payload is ${payload.length} bytes, expected ${AUDIO_PAYLOAD_BYTES} (${AUDIO_SAMPLES} float32)`, { typeByte });
  }
  const samples = new Float32Array(AUDIO_SAMPLES);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(samples.buffer).set(payload);
  } else {
    const v = new DataView(payload.buffer, payload.byteOffset, payload.length);
    for (let i = 0; i < AUDIO_SAMPLES; i++) samples[i] = v.getFloat32(i * 4, true);
  }
  const bad = firstNonFinite(samples);
  if (bad >= 0) throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK sample ${bad} is ${samples[bad]}`, { typeByte });
  return samples;
}

/** Reads the packet that starts at `offset`; the bytes after it are left alone. */
export function readPacket(bytes: Uint8Array, offset = 0): ReadResult {
  const available = bytes.length - offset;
  if (available < HEADER_BYTES) {
    throw new ProtocolError('PKT_ERR_TRUNCATED', `${available} bytes left, a packet header needs ${HEADER_BYTES}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_BYTES);
  const typeByte = view.getUint8(OFFSET_TYPE);
  const type = packetTypeName(typeByte);
  if (type === undefined) {
    throw new ProtocolError('PKT_ERR_UNKNOWN_TYPE', `unknown packet type 0x${typeByte.toString(16).padStart(2, '0')}`, { typeByte });
  }
  const priority = view.getUint8(OFFSET_PRIORITY);
  if (priority > MAX_PRIORITY) throw new ProtocolError('PKT_ERR_BAD_PRIORITY', `${type}: priority ${priority} is out of range 0..${MAX_PRIORITY}`, { typeByte });
  const ack = view.getUint8(OFFSET_ACK);
  if (ack > 1) throw new ProtocolError('PKT_ERR_BAD_ACK_FLAG', `${type}: requiresAck byte is ${ack}, must be 0 or 1`, { typeByte });
  const timestamp = view.getFloat64(OFFSET_TIMESTAMP, true);
  if (!Number.isFinite(timestamp)) throw new ProtocolError('PKT_ERR_BAD_TIMESTAMP', `${type}: timestamp is ${timestamp}`, { typeByte });
  const length = view.getUint16(OFFSET_LENGTH, true);
  if (available - HEADER_BYTES < length) {
    throw new ProtocolError('PKT_ERR_TRUNCATED', `${type}: header says ${length} payload bytes, ${available - HEADER_BYTES} present`, { typeByte });
  }
  const start = offset + HEADER_BYTES;
  const payload = bytes.subarray(start, start + length);
  const header: PacketHeader = { priority: priority as Priority, sequence: view.getUint32(OFFSET_SEQUENCE, true), timestamp, requiresAck: ack === 1 };
  const next = start + length;
  switch (type) {
    case 'HEARTBEAT':
      if (length !== 0) throw new ProtocolError('PKT_ERR_BAD_HEARTBEAT', `HEARTBEAT carries ${length} payload bytes, expected none`, { typeByte });
      return { packet: { type, ...header }, next };
    case 'ACK':
      if (length !== ACK_PAYLOAD_BYTES) throw new ProtocolError('PKT_ERR_BAD_ACK', `ACK payload is ${length} bytes, expected ${ACK_PAYLOAD_BYTES}`, { typeByte });
      return { packet: { type, ...header, ackSequence: new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true) }, next };
    case 'AUDIO_CHUNK':
      return { packet: { type, ...header, samples: decodeSamples(payload, typeByte) }, next };
    case 'TEXT_PARTIAL':
    case 'TEXT_FINAL':
      return { packet: { type, ...header, text: decodeText(payload, type, 'PKT_ERR_BAD_TEXT', typeByte) }, next };
    case 'METADATA': {
      const text = decodeText(payload, type, 'PKT_ERR_BAD_METADATA', typeByte);
      let data: JsonValue;
      try {
        data = JSON.parse(text) as JsonValue;
      } catch (err) {
        // SyntaxError, or RangeError for absurd nesting: either way the sender's fault.
        throw new ProtocolError('PKT_ERR_BAD_METADATA', `METADATA payload is not JSON (${(err as Error).message.slice(0, 120)})`, { typeByte });
      }
      return { packet: { type, ...header, data }, next };
    }
  }
}

/** Decodes bytes that must hold exactly one packet. */
export function decodePacket(bytes: Uint8Array): Packet {
  if (bytes.length === 0) throw new ProtocolError('PKT_ERR_EMPTY', 'no bytes');
  const { packet, next } = readPacket(bytes, 0);
  if (next !== bytes.length) {
    throw new ProtocolError('PKT_ERR_LENGTH_MISMATCH', `${packet.type}: length field says ${next - HEADER_BYTES} payload bytes but the packet has ${bytes.length - HEADER_BYTES}`);
  }
  return packet;
}

export interface MessageResult {
  /** Every whole, valid packet before the first error, in order. */
  readonly packets: Packet[];
  /** The first error (located by offset and index), or null if the whole message decoded. */
  readonly error: ProtocolError | null;
}

/**
 * Decodes a WebSocket message of one or more packets without throwing: the packets
 * before a bad one are kept, so nothing already accepted is lost.
 */
export function decodeMessageSafe(bytes: Uint8Array): MessageResult {
  const packets: Packet[] = [];
  if (bytes.length === 0) return { packets, error: new ProtocolError('PKT_ERR_EMPTY', 'empty message', { offset: 0, index: 0 }) };
  let offset = 0;
  while (offset < bytes.length) {
    try {
      const { packet, next } = readPacket(bytes, offset);
      packets.push(packet);
      offset = next;
    } catch (err) {
      // readPacket only throws ProtocolError; anything else is a bug worth surfacing.
      if (!(err instanceof ProtocolError)) throw err;
      return { packets, error: err.at(offset, packets.length) };
    }
  }
  return { packets, error: null };
}

/** Decodes a WebSocket message of one or more packets; throws the first ProtocolError. */
export function decodeMessage(bytes: Uint8Array): Packet[] {
  const { packets, error } = decodeMessageSafe(bytes);
  if (error) throw error;
  return packets;
}
