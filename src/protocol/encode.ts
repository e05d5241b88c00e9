// Packet → bytes. Pure and browser-safe. Invalid fields are refused here too, so a
// SolaceLive peer never puts a packet on the wire that its own decoder would reject.
import { ProtocolError } from './errors.ts';
import {
  ACK_PAYLOAD_BYTES, AUDIO_PAYLOAD_BYTES, AUDIO_SAMPLES, HEADER_BYTES, MAX_PAYLOAD_BYTES, MAX_PRIORITY, OFFSET_ACK,
  OFFSET_LENGTH, OFFSET_PRIORITY, OFFSET_SEQUENCE, OFFSET_TIMESTAMP, OFFSET_TYPE, PACKET_TYPES,
} from './opcodes.ts';
import type { Packet } from './packet.ts';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

function checkHeader(p: Packet): void {
  if (!(p.type in PACKET_TYPES)) throw new ProtocolError('PKT_ERR_UNKNOWN_TYPE', `unknown packet type ${String(p.type)}`);
  if (!Number.isInteger(p.priority) || p.priority < 0 || p.priority > MAX_PRIORITY) {
    throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: priority must be an integer 0..${MAX_PRIORITY}, got ${p.priority}`);
  }
  if (!Number.isInteger(p.sequence) || p.sequence < 0 || p.sequence > 0xffffffff) {
    throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: sequence must be a u32, got ${p.sequence}`);
  }
  if (!Number.isFinite(p.timestamp)) throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: timestamp must be finite, got ${p.timestamp}`);
  if (typeof p.requiresAck !== 'boolean') throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: requiresAck must be a boolean`);
}

/** NaN - NaN and ±Inf - ±Inf are NaN; every finite x gives x - x === 0. */
export function firstNonFinite(samples: Float32Array): number {
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!;
    if (x - x !== 0) return i;
  }
  return -1;
}

function checkAudio(samples: Float32Array): void {
  if (!(samples instanceof Float32Array) || samples.length !== AUDIO_SAMPLES) {
    throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK needs exactly ${AUDIO_SAMPLES} float32 samples, got ${samples?.length}`);
  }
  const bad = firstNonFinite(samples);
  if (bad >= 0) throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK sample ${bad} is ${samples[bad]}`);
}

/** The payload bytes of a packet other than AUDIO_CHUNK (whose samples are copied in place). */
function payloadBytes(p: Exclude<Packet, { type: 'AUDIO_CHUNK' }>): Uint8Array {
  switch (p.type) {
    case 'HEARTBEAT':
      return new Uint8Array(0);
    case 'ACK': {
      if (!Number.isInteger(p.ackSequence) || p.ackSequence < 0 || p.ackSequence > 0xffffffff) {
        throw new ProtocolError('PKT_ERR_BAD_FIELD', `ACK: ackSequence must be a u32, got ${p.ackSequence}`);
      }
      const b = new Uint8Array(ACK_PAYLOAD_BYTES);
      new DataView(b.buffer).setUint32(0, p.ackSequence, true);
      return b;
    }
    case 'TEXT_PARTIAL':
    case 'TEXT_FINAL':
      if (typeof p.text !== 'string' || !p.text.isWellFormed()) {
        throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: text must be a well-formed string (no lone surrogates)`);
      }
      return utf8.encode(p.text);
    case 'METADATA': {
      let json: string | undefined;
      try {
        json = JSON.stringify(p.data);
      } catch (err) {
        throw new ProtocolError('PKT_ERR_BAD_FIELD', `METADATA: data is not serialisable as JSON (${(err as Error).message})`);
      }
      if (json === undefined) throw new ProtocolError('PKT_ERR_BAD_FIELD', 'METADATA: data is not a JSON value');
      return utf8.encode(json);
    }
  }
}

function writePacket(out: Uint8Array, offset: number, p: Packet, payload: Uint8Array | null): number {
  const length = p.type === 'AUDIO_CHUNK' ? AUDIO_PAYLOAD_BYTES : payload!.length;
  const view = new DataView(out.buffer, out.byteOffset + offset, HEADER_BYTES);
  view.setUint8(OFFSET_TYPE, PACKET_TYPES[p.type]);
  view.setUint8(OFFSET_PRIORITY, p.priority);
  view.setUint32(OFFSET_SEQUENCE, p.sequence, true);
  view.setFloat64(OFFSET_TIMESTAMP, p.timestamp, true);
  view.setUint16(OFFSET_LENGTH, length, true);
  view.setUint8(OFFSET_ACK, p.requiresAck ? 1 : 0);
  const start = offset + HEADER_BYTES;
  if (p.type === 'AUDIO_CHUNK') {
    const s = p.samples;
    if (LITTLE_ENDIAN_HOST) {
      // A byte copy: the payload at offset 17 is not 4-aligned, so no Float32Array view fits.
      out.set(new Uint8Array(s.buffer, s.byteOffset, AUDIO_PAYLOAD_BYTES), start);
    } else {
      const pv = new DataView(out.buffer, out.byteOffset + start, AUDIO_PAYLOAD_BYTES);
      for (let i = 0; i < AUDIO_SAMPLES; i++) pv.setFloat32(i * 4, s[i]!, true);
    }
  } else {
    out.set(payload!, start);
  }
  return start + length;
}

function prepare(p: Packet): Uint8Array | null {
  checkHeader(p);
  if (p.type === 'AUDIO_CHUNK') {
    checkAudio(p.samples);
    return null;
  }
  const payload = payloadBytes(p);
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new ProtocolError('PKT_ERR_TOO_LARGE', `${p.type}: payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  }
  return payload;
}

/** Encodes one packet into a new buffer of exactly its wire size. */
export function encodePacket(p: Packet): Uint8Array {
  const payload = prepare(p);
  const out = new Uint8Array(HEADER_BYTES + (payload ? payload.length : AUDIO_PAYLOAD_BYTES));
  writePacket(out, 0, p, payload);
  return out;
}

/** Encodes several packets into one WebSocket message (their concatenation). */
export function encodeMessage(packets: readonly Packet[]): Uint8Array {
  if (packets.length === 0) throw new ProtocolError('PKT_ERR_EMPTY', 'a message needs at least one packet');
  const payloads = packets.map((p, i) => {
    try {
      return prepare(p);
    } catch (err) {
      throw err instanceof ProtocolError ? new ProtocolError(err.code, `${err.message} (packet ${i})`, { index: i }) : err;
    }
  });
  let total = 0;
  for (const pl of payloads) total += HEADER_BYTES + (pl ? pl.length : AUDIO_PAYLOAD_BYTES);
  const out = new Uint8Array(total);
  let offset = 0;
  for (let i = 0; i < packets.length; i++) offset = writePacket(out, offset, packets[i]!, payloads[i]!);
  return out;
}
