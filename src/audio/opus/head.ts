// The two header packets of an Ogg Opus stream (RFC 7845 §5): OpusHead, the identification
// header, and OpusTags, the comment header. Mapping family 0 only (mono or stereo), which is
// what Moshi's clients and servers send.

import { MAX_RATE, MIN_RATE } from '../resample.ts';
import { OpusError } from './errors.ts';

export interface OpusHead {
  readonly version: number;
  readonly channels: number;
  /** Samples at 48 kHz to drop from the start of the decoded stream. */
  readonly preSkip: number;
  /** Rate of the encoder's original input (informational; 0 = unspecified). */
  readonly inputSampleRate: number;
  /** Gain to apply on output, Q7.8 dB. */
  readonly outputGain: number;
  readonly mappingFamily: number;
}

export interface OpusTags {
  readonly vendor: string;
  readonly comments: readonly string[];
}

const HEAD_MAGIC = 'OpusHead';
const TAGS_MAGIC = 'OpusTags';
export const OPUS_HEAD_BYTES = 19;

/** Whether a packet starts with the 8-byte magic `magic`. */
function hasMagic(packet: Uint8Array, magic: string): boolean {
  if (packet.length < 8) return false;
  for (let i = 0; i < 8; i++) if (packet[i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function isOpusHead(packet: Uint8Array): boolean {
  return hasMagic(packet, HEAD_MAGIC);
}

export function isOpusTags(packet: Uint8Array): boolean {
  return hasMagic(packet, TAGS_MAGIC);
}

/** Parses and checks an OpusHead packet; throws OpusError naming the field at fault. */
export function parseOpusHead(packet: Uint8Array): OpusHead {
  if (!isOpusHead(packet)) throw new OpusError('OPUS_ERR_HEAD', 'the first packet of an Ogg Opus stream must be an OpusHead ("OpusHead" magic missing)');
  if (packet.length < OPUS_HEAD_BYTES) throw new OpusError('OPUS_ERR_HEAD', `OpusHead is ${packet.length} bytes; it needs at least ${OPUS_HEAD_BYTES}`, { found: packet.length });
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  const head: OpusHead = {
    version: packet[8]!,
    channels: packet[9]!,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGain: view.getInt16(16, true),
    mappingFamily: packet[18]!,
  };
  // RFC 7845 §5.1: version 1 is this spec; 2..15 are compatible minor revisions, 16+ are not.
  if (head.version === 0 || head.version > 15) {
    throw new OpusError('OPUS_ERR_HEAD_VERSION', `OpusHead version ${head.version} is not readable (1..15 are)`, { found: head.version });
  }
  if (head.mappingFamily !== 0) {
    throw new OpusError('OPUS_ERR_MAPPING', `OpusHead channel mapping family ${head.mappingFamily} is not supported (only family 0: mono or stereo)`, { found: head.mappingFamily });
  }
  if (head.channels < 1 || head.channels > 2) {
    throw new OpusError('OPUS_ERR_CHANNELS', `OpusHead channel count ${head.channels} is not valid for mapping family 0 (1 or 2)`, { found: head.channels });
  }
  // The rate is informational, but a value no audio path here handles means a corrupt header.
  if (head.inputSampleRate !== 0 && (head.inputSampleRate < MIN_RATE || head.inputSampleRate > MAX_RATE)) {
    throw new OpusError('OPUS_ERR_RATE', `OpusHead input sample rate ${head.inputSampleRate} Hz is outside ${MIN_RATE}..${MAX_RATE} (or 0, unspecified)`, { found: head.inputSampleRate });
  }
  return head;
}

export interface OpusHeadSpec {
  readonly channels?: number;
  readonly preSkip: number;
  readonly inputSampleRate: number;
  readonly outputGain?: number;
}

/** A version-1, mapping-family-0 OpusHead (19 bytes). */
export function buildOpusHead(spec: OpusHeadSpec): Uint8Array {
  const { channels = 1, preSkip, inputSampleRate, outputGain = 0 } = spec;
  const bad = (m: string): OpusError => new OpusError('OPUS_ERR_BAD_ARGUMENT', m);
  if (channels !== 1 && channels !== 2) throw bad(`channels ${channels}: mapping family 0 holds 1 or 2`);
  if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) throw bad(`preSkip ${preSkip} is not a u16`);
  if (!Number.isInteger(inputSampleRate) || inputSampleRate < 0 || inputSampleRate > 0xffffffff) throw bad(`inputSampleRate ${inputSampleRate} is not a u32`);
  if (!Number.isInteger(outputGain) || outputGain < -32768 || outputGain > 32767) throw bad(`outputGain ${outputGain} is not an i16`);
  const out = new Uint8Array(OPUS_HEAD_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = HEAD_MAGIC.charCodeAt(i);
  out[8] = 1;
  out[9] = channels;
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputSampleRate, true);
  view.setInt16(16, outputGain, true);
  out[18] = 0;
  return out;
}

/** Parses an OpusTags packet (vendor string and "KEY=value" comments); padding after them is allowed. */
export function parseOpusTags(packet: Uint8Array): OpusTags {
  if (!isOpusTags(packet)) throw new OpusError('OPUS_ERR_TAGS', 'the second packet of an Ogg Opus stream must be an OpusTags ("OpusTags" magic missing)');
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  let at = 8;
  const readString = (what: string): string => {
    if (at + 4 > packet.length) throw new OpusError('OPUS_ERR_TAGS', `OpusTags ends before the length of ${what} (byte ${at})`, { found: at });
    const len = view.getUint32(at, true);
    at += 4;
    if (len > packet.length - at) throw new OpusError('OPUS_ERR_TAGS', `OpusTags ${what} claims ${len} bytes but only ${packet.length - at} remain`, { found: len });
    const s = utf8.decode(packet.subarray(at, at + len));
    at += len;
    return s;
  };
  const vendor = readString('vendor string');
  if (at + 4 > packet.length) throw new OpusError('OPUS_ERR_TAGS', 'OpusTags ends before its comment count');
  const count = view.getUint32(at, true);
  at += 4;
  // Each comment takes at least its 4-byte length: a larger count cannot fit, whatever it says.
  if (count > (packet.length - at) / 4) throw new OpusError('OPUS_ERR_TAGS', `OpusTags claims ${count} comments but has room for at most ${Math.floor((packet.length - at) / 4)}`, { found: count });
  const comments: string[] = [];
  for (let i = 0; i < count; i++) comments.push(readString(`comment ${i}`));
  return { vendor, comments };
}

export function buildOpusTags(tags: OpusTags): Uint8Array {
  const enc = new TextEncoder();
  const parts = [tags.vendor, ...tags.comments].map((s) => enc.encode(s));
  const size = 8 + 4 + parts.reduce((n, p) => n + 4 + p.length, 0); // magic, count, then each length+bytes
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = TAGS_MAGIC.charCodeAt(i);
  let at = 8;
  const put = (p: Uint8Array): void => {
    view.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  };
  put(parts[0]!);
  view.setUint32(at, tags.comments.length, true);
  at += 4;
  for (const p of parts.slice(1)) put(p);
  return out;
}
