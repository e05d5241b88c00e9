// Packet → bytes. Pure and browser-safe. Invalid fields are refused here too, so a
// SolaceLive peer never puts a packet on the wire that its own decoder would reject.
// Returned buffers are views into a shared slab (see slab.ts).
import { firstNonFiniteBits, SHORT_TEXT, utf8Length, writeF64, writeU32, writeUtf8 } from './bytes.ts';
import { ProtocolError } from './errors.ts';
import {
  ACK_PAYLOAD_BYTES, AUDIO_PAYLOAD_BYTES, AUDIO_SAMPLES, HEADER_BYTES, MAX_PAYLOAD_BYTES, MAX_PRIORITY, OFFSET_ACK,
  OFFSET_LENGTH, OFFSET_PRIORITY, OFFSET_SEQUENCE, OFFSET_TIMESTAMP, OFFSET_TYPE, PACKET_TYPES,
} from './opcodes.ts';
import type { Packet } from './packet.ts';
import { allocate } from './slab.ts';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

function checkHeader(p: Packet): void {
  if (!Object.hasOwn(PACKET_TYPES, p.type)) throw new ProtocolError('PKT_ERR_UNKNOWN_TYPE', `unknown packet type ${String(p.type)}`);
  const { priority, sequence, timestamp } = p;
  if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: priority must be an integer 0..${MAX_PRIORITY}, got ${priority}`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 0xffffffff) {
    throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: sequence must be a u32, got ${sequence}`);
  }
  if (!Number.isFinite(timestamp)) throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: timestamp must be finite, got ${timestamp}`);
  if (typeof p.requiresAck !== 'boolean') throw new ProtocolError('PKT_ERR_BAD_FIELD', `${p.type}: requiresAck must be a boolean`);
}

function checkAudio(samples: Float32Array): void {
  if (!(samples instanceof Float32Array) || samples.length !== AUDIO_SAMPLES) {
    throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK needs exactly ${AUDIO_SAMPLES} float32 samples, got ${(samples as { length?: number } | undefined)?.length}`);
  }
  const bad = firstNonFiniteBits(new Int32Array(samples.buffer, samples.byteOffset, AUDIO_SAMPLES));
  if (bad >= 0) throw new ProtocolError('PKT_ERR_BAD_AUDIO', `AUDIO_CHUNK sample ${bad} is ${samples[bad]}`);
}

/**
 * What goes after the header: raw bytes, or a string short enough to be written in place
 * (its UTF-8 length is known), or the samples.
 */
type Body = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'text'; text: string; length: number } | { kind: 'audio'; samples: Float32Array };

const EMPTY: Body = { kind: 'bytes', bytes: new Uint8Array(0) };

function textBody(type: string, text: string): Body {
  if (typeof text !== 'string') throw new ProtocolError('PKT_ERR_BAD_FIELD', `${type}: text must be a string`);
  if (text.length <= SHORT_TEXT) {
    const length = utf8Length(text);
    if (length < 0) throw new ProtocolError('PKT_ERR_BAD_FIELD', `${type}: text must be well-formed (no lone surrogates)`);
    return { kind: 'text', text, length };
  }
  if (!text.isWellFormed()) throw new ProtocolError('PKT_ERR_BAD_FIELD', `${type}: text must be well-formed (no lone surrogates)`);
  return { kind: 'bytes', bytes: utf8.encode(text) };
}

function bodyOf(p: Packet): Body {
  switch (p.type) {
    case 'HEARTBEAT':
      return EMPTY;
    case 'ACK': {
      const a = p.ackSequence;
      if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new ProtocolError('PKT_ERR_BAD_FIELD', `ACK: ackSequence must be a u32, got ${a}`);
      const b = new Uint8Array(ACK_PAYLOAD_BYTES);
      writeU32(b, 0, a);
      return { kind: 'bytes', bytes: b };
    }
    case 'AUDIO_CHUNK':
      checkAudio(p.samples);
      return { kind: 'audio', samples: p.samples };
    case 'TEXT_PARTIAL':
    case 'TEXT_FINAL':
      return textBody(p.type, p.text);
    case 'METADATA': {
      let json: string | undefined;
      try {
        json = JSON.stringify(p.data);
      } catch (err) {
        throw new ProtocolError('PKT_ERR_BAD_FIELD', `METADATA: data is not serialisable as JSON (${(err as Error).message})`);
      }
      if (json === undefined) throw new ProtocolError('PKT_ERR_BAD_FIELD', 'METADATA: data is not a JSON value');
      return textBody('METADATA', json);
    }
  }
}

function bodyLength(b: Body): number {
  return b.kind === 'audio' ? AUDIO_PAYLOAD_BYTES : b.kind === 'text' ? b.length : b.bytes.length;
}

function prepare(p: Packet): Body {
  checkHeader(p);
  const body = bodyOf(p);
  const n = bodyLength(body);
  if (n > MAX_PAYLOAD_BYTES) throw new ProtocolError('PKT_ERR_TOO_LARGE', `${p.type}: payload of ${n} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  return body;
}

function writePacket(out: Uint8Array, at: number, p: Packet, body: Body): number {
  const length = bodyLength(body);
  out[at + OFFSET_TYPE] = PACKET_TYPES[p.type];
  out[at + OFFSET_PRIORITY] = p.priority;
  writeU32(out, at + OFFSET_SEQUENCE, p.sequence);
  writeF64(out, at + OFFSET_TIMESTAMP, p.timestamp);
  out[at + OFFSET_LENGTH] = length & 0xff;
  out[at + OFFSET_LENGTH + 1] = length >>> 8;
  out[at + OFFSET_ACK] = p.requiresAck ? 1 : 0;
  const start = at + HEADER_BYTES;
  if (body.kind === 'audio') {
    const s = body.samples;
    if (LITTLE_ENDIAN_HOST) {
      // A byte copy: the payload at offset 17 is not 4-aligned, so no Float32Array view fits.
      out.set(new Uint8Array(s.buffer, s.byteOffset, AUDIO_PAYLOAD_BYTES), start);
    } else {
      const v = new DataView(out.buffer, out.byteOffset + start, AUDIO_PAYLOAD_BYTES);
      for (let i = 0; i < AUDIO_SAMPLES; i++) v.setFloat32(i * 4, s[i]!, true);
    }
  } else if (body.kind === 'text') {
    writeUtf8(body.text, out, start);
  } else {
    out.set(body.bytes, start);
  }
  return start + length;
}

/** Encodes one packet; the result is exactly its wire size. */
export function encodePacket(p: Packet): Uint8Array {
  const body = prepare(p);
  const size = HEADER_BYTES + bodyLength(body);
  const { bytes, offset } = allocate(size);
  writePacket(bytes, offset, p, body);
  return bytes.subarray(offset, offset + size);
}

/** Encodes several packets into one WebSocket message (their concatenation). */
export function encodeMessage(packets: readonly Packet[]): Uint8Array {
  if (packets.length === 0) throw new ProtocolError('PKT_ERR_EMPTY', 'a message needs at least one packet');
  const bodies = packets.map((p, i) => {
    try {
      return prepare(p);
    } catch (err) {
      throw err instanceof ProtocolError ? new ProtocolError(err.code, `${err.message} (packet ${i})`, { index: i }) : err;
    }
  });
  let total = 0;
  for (const b of bodies) total += HEADER_BYTES + bodyLength(b);
  const { bytes, offset } = allocate(total);
  let at = offset;
  for (let i = 0; i < packets.length; i++) at = writePacket(bytes, at, packets[i]!, bodies[i]!);
  return bytes.subarray(offset, offset + total);
}
