// A deliberately independent WAV byte builder for tests: it shares no code with
// src/audio/wav.ts, so a bug in the encoder cannot hide the same bug in the decoder.

export function bytesOf(...parts: (Uint8Array | number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
export const u16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
export const i24 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];

/** A chunk with its id, size (or an explicit wrong one) and body, plus the RIFF pad byte. */
export function chunk(id: string, body: Uint8Array | number[], declaredSize = body.length, pad = true): Uint8Array {
  return bytesOf(ascii(id), u32(declaredSize), body, pad && body.length % 2 === 1 ? [0] : []);
}

export interface FmtSpec {
  tag: number;
  channels: number;
  rate: number;
  bits: number;
  blockAlign?: number;
  /** WAVE_FORMAT_EXTENSIBLE extension: sub-format tag and optional overrides. */
  ext?: { subTag: number; validBits?: number; mask?: number; guidTail?: number[] };
}

const KS_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export function fmtBody(s: FmtSpec): number[] {
  const blockAlign = s.blockAlign ?? s.channels * Math.ceil(s.bits / 8);
  const base = [...u16(s.tag), ...u16(s.channels), ...u32(s.rate), ...u32(s.rate * blockAlign), ...u16(blockAlign), ...u16(s.bits)];
  if (!s.ext) return base;
  return [...base, ...u16(22), ...u16(s.ext.validBits ?? s.bits), ...u32(s.ext.mask ?? 0), ...u16(s.ext.subTag), ...(s.ext.guidTail ?? KS_TAIL)];
}

/** RIFF/WAVE around the given chunks, with a correct RIFF size unless told otherwise. */
export function riff(chunks: Uint8Array[], riffSize?: number): Uint8Array {
  const body = bytesOf(...chunks);
  return bytesOf(ascii('RIFF'), u32(riffSize ?? body.length + 4), ascii('WAVE'), body);
}

/** The usual fmt + data file. */
export function wav(fmt: FmtSpec, data: Uint8Array | number[], declaredDataSize?: number): Uint8Array {
  return riff([chunk('fmt ', fmtBody(fmt)), chunk('data', data, declaredDataSize ?? data.length)]);
}

export const f32le = (values: number[]): number[] => Array.from(new Uint8Array(new Float32Array(values).buffer));
export const f64le = (values: number[]): number[] => Array.from(new Uint8Array(new Float64Array(values).buffer));
export const s16le = (values: number[]): number[] => values.flatMap(u16);
export const s32le = (values: number[]): number[] => values.flatMap(u32);
