// Bytes → packets. Pure and browser-safe. Reads only inside the given view, and throws
// nothing but ProtocolError, whatever the input.
import { decodeUtf8, firstNonFiniteBits, readF64, readU32 } from './bytes.ts';
import { ProtocolError } from './errors.ts';
import {
  ACK_PAYLOAD_BYTES, AUDIO_PAYLOAD_BYTES, AUDIO_SAMPLES, HEADER_BYTES, MAX_PRIORITY, OFFSET_ACK, OFFSET_LENGTH,
  OFFSET_PRIORITY, OFFSET_SEQUENCE, OFFSET_TIMESTAMP, OFFSET_TYPE, packetTypeName, type Priority,
} from './opcodes.ts';
import type { JsonValue, Packet } from './packet.ts';
import { allocate } from './slab.ts';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface ReadResult {
  readonly packet: Packet;
  /** Offset just past this packet. */
  readonly next: number;
}

function decodeText(b: Uint8Array, start: number, end: number, what: string, code: 'PKT_ERR_BAD_TEXT' | 'PKT_ERR_BAD_METADATA', typeByte: number): string {
  const s = decodeUtf8(b, start, end);
  if (s === null) throw new ProtocolError(code, `${what} payload is not valid UTF-8`, { typeByte });
  return s;
}

/** Copies the samples into an aligned Float32Array (the payload sits at an odd offset) and validates them. */
function decodeSamples(b: Uint8Array, start: number, length: number, typeByte: number): Float32Array {
  if (length !== AUDIO_PAYLOAD_BYTES) {
    throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK payload is ${length} bytes, expected ${AUDIO_PAYLOAD_BYTES} (${AUDIO_SAMPLES} float32)`, { typeByte });
  }
  const { bytes: slab, offset } = allocate(AUDIO_PAYLOAD_BYTES);
  const payload = b.subarray(start, start + AUDIO_PAYLOAD_BYTES);
  if (LITTLE_ENDIAN_HOST) {
    slab.set(payload, offset);
  } else {
    const v = new DataView(b.buffer, b.byteOffset + start, AUDIO_PAYLOAD_BYTES);
    const f = new Float32Array(slab.buffer, slab.byteOffset + offset, AUDIO_SAMPLES);
    for (let i = 0; i < AUDIO_SAMPLES; i++) f[i] = v.getFloat32(i * 4, true);
  }
  const bad = firstNonFiniteBits(new Int32Array(slab.buffer, slab.byteOffset + offset, AUDIO_SAMPLES));
  const samples = new Float32Array(slab.buffer, slab.byteOffset + offset, AUDIO_SAMPLES);
  if (bad >= 0) throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK sample ${bad} is ${samples[bad]}`, { typeByte });
  return samples;
}

/** Reads the packet that starts at `offset`; the bytes after it are left alone. */
export function readPacket(b: Uint8Array, offset = 0): ReadResult {
  const available = b.length - offset;
  if (available < HEADER_BYTES) {
    throw new ProtocolError('PKT_ERR_TRUNCATED', `${available} bytes left, a packet header needs ${HEADER_BYTES}`);
  }
  const typeByte = b[offset + OFFSET_TYPE]!;
  const type = packetTypeName(typeByte);
  if (type === undefined) {
    throw new ProtocolError('PKT_ERR_UNKNOWN_TYPE', `unknown packet type 0x${typeByte.toString(16).padStart(2, '0')}`, { typeByte });
  }
  const priority = b[offset + OFFSET_PRIORITY]!;
  if (priority > MAX_PRIORITY) throw new ProtocolError('PKT_ERR_BAD_PRIORITY', `${type}: priority ${priority} is out of range 0..${MAX_PRIORITY}`, { typeByte });
  const ack = b[offset + OFFSET_ACK]!;
  if (ack > 1) throw new ProtocolError('PKT_ERR_BAD_ACK_FLAG', `${type}: requiresAck byte is ${ack}, must be 0 or 1`, { typeByte });
  const timestamp = readF64(b, offset + OFFSET_TIMESTAMP);
  if (!Number.isFinite(timestamp)) throw new ProtocolError('PKT_ERR_BAD_TIMESTAMP', `${type}: timestamp is ${timestamp}`, { typeByte });
  const length = b[offset + OFFSET_LENGTH]! | (b[offset + OFFSET_LENGTH + 1]! << 8);
  if (available - HEADER_BYTES < length) {
    throw new ProtocolError('PKT_ERR_TRUNCATED', `${type}: header says ${length} payload bytes, ${available - HEADER_BYTES} present`, { typeByte });
  }
  const sequence = readU32(b, offset + OFFSET_SEQUENCE);
  const requiresAck = ack === 1;
  const start = offset + HEADER_BYTES;
  const next = start + length;
  const p = priority as Priority;
  switch (type) {
    case 'HEARTBEAT':
      if (length !== 0) throw new ProtocolError('PKT_ERR_BAD_HEARTBEAT', `HEARTBEAT carries ${length} payload bytes, expected none`, { typeByte });
      return { packet: { type, priority: p, sequence, timestamp, requiresAck }, next };
    case 'ACK':
      if (length !== ACK_PAYLOAD_BYTES) throw new ProtocolError('PKT_ERR_BAD_ACK', `ACK payload is ${length} bytes, expected ${ACK_PAYLOAD_BYTES}`, { typeByte });
      return { packet: { type, priority: p, sequence, timestamp, requiresAck, ackSequence: readU32(b, start) }, next };
    case 'AUDIO_CHUNK':
      return { packet: { type, priority: p, sequence, timestamp, requiresAck, samples: decodeSamples(b, start, length, typeByte) }, next };
    case 'TEXT_PARTIAL':
    case 'TEXT_FINAL':
      return { packet: { type, priority: p, sequence, timestamp, requiresAck, text: decodeText(b, start, next, type, 'PKT_ERR_BAD_TEXT', typeByte) }, next };
    case 'METADATA': {
      const text = decodeText(b, start, next, type, 'PKT_ERR_BAD_METADATA', typeByte);
      let data: JsonValue;
      try {
        data = JSON.parse(text) as JsonValue;
      } catch (err) {
        // SyntaxError, or RangeError for absurd nesting: either way the sender's fault.
        throw new ProtocolError('PKT_ERR_BAD_METADATA', `METADATA payload is not JSON (${(err as Error).message.slice(0, 120)})`, { typeByte });
      }
      return { packet: { type, priority: p, sequence, timestamp, requiresAck, data }, next };
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
