// WAV (RIFF/WAVE) decoding and encoding, browser-safe: bytes in, bytes out, no file system
// (the Node wrappers are in wav-file.ts).
//
// Hand-written rather than wav-decoder because wav-decoder rejects WAVE_FORMAT_EXTENSIBLE
// (what sox writes for 24-bit or > 2 channels), reads `global.Buffer` (a ReferenceError in a
// browser without a shim), silently clamps a short data chunk without saying so, ignores
// RIFF pad bytes, cannot report which sample is NaN, and is async-only. The format is small
// enough that owning the parser is less work than normalising headers around it.
//
// Truncation policy: a data chunk that is shorter than its header says (a crashed writer,
// a cut download, a streaming writer's 0xFFFFFFFF placeholder) or that ends in a partial
// frame is RECOVERED: every whole frame is decoded and `truncation` says what was missing.
// `{ strict: true }` turns any such case into AUDIO_ERR_TRUNCATED instead. Recovery is the
// default because the session recorder must be able to read the input.wav of a session whose
// process was killed before it could finalise the header.

import { AudioError } from './errors.ts';

/** Sample encodings this module reads and writes (`pcm8` is unsigned, as WAV defines it). */
export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
export const WAV_SAMPLE_FORMATS: readonly WavSampleFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];

/** How the fmt chunk declared the encoding. */
export type WavFormatTag = 'PCM' | 'IEEE_FLOAT' | 'EXTENSIBLE';

export interface WavTruncation {
  /**
   * `short-file`: the file ends before the data chunk does; `unfinalized-header`: the data size is
   * the 0xFFFFFFFF placeholder of a writer that never patched it; `partial-frame`: the data ends in
   * the middle of a frame (the tail bytes are dropped).
   */
  readonly reason: 'short-file' | 'unfinalized-header' | 'partial-frame';
  /** Data chunk size from the header. */
  readonly declaredBytes: number;
  /** Data bytes actually present. */
  readonly availableBytes: number;
  /** Trailing bytes that did not make a whole frame and were ignored. */
  readonly droppedBytes: number;
  readonly recoveredFrames: number;
}

export interface DecodedWav {
  readonly sampleRate: number;
  /** One array per channel, deinterleaved, scaled to [-1, 1) for integer formats. */
  readonly channels: Float32Array[];
  readonly format: WavSampleFormat;
  readonly formatTag: WavFormatTag;
  /** Container bits per sample (8, 16, 24, 32, 64). */
  readonly bitsPerSample: number;
  /** Meaningful bits (extensible files may hold e.g. 20 valid bits in a 24-bit container). */
  readonly validBits: number;
  /** Speaker mask of an extensible file; undefined otherwise. */
  readonly channelMask: number | undefined;
  /** Samples per channel. */
  readonly frames: number;
  /** Set when the data chunk was not exactly as the header described (see the policy above). */
  readonly truncation: WavTruncation | undefined;
}

export interface DecodeWavOptions {
  /** Reject (AUDIO_ERR_TRUNCATED) instead of recovering whole frames from a short data chunk. */
  readonly strict?: boolean;
}

const TAG_PCM = 0x0001;
const TAG_FLOAT = 0x0003;
const TAG_EXTENSIBLE = 0xfffe;
/** Size the data chunk declares when a streaming writer has not patched it yet. */
export const WAV_SIZE_PLACEHOLDER = 0xffffffff;

// Every standard KSDATAFORMAT_SUBTYPE GUID is the format tag followed by these 14 bytes.
const KS_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

// Named so an error says "µ-law" rather than "0x7", since users meet these in practice.
const KNOWN_TAGS: Readonly<Record<number, string>> = {
  0x0002: 'Microsoft ADPCM', 0x0006: 'A-law', 0x0007: 'µ-law', 0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10', 0x0050: 'MPEG', 0x0055: 'MP3', 0x00ff: 'AAC', 0x0161: 'WMA', 0xf1ac: 'FLAC',
};

interface Fmt {
  readonly formatTag: WavFormatTag;
  readonly format: WavSampleFormat;
  readonly channels: number;
  readonly sampleRate: number;
  readonly blockAlign: number;
  readonly bitsPerSample: number;
  readonly validBits: number;
  readonly channelMask: number | undefined;
}

/** Four bytes as text, non-printable bytes escaped, for error messages. */
function fourcc(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = at; i < at + 4 && i < bytes.length; i++) {
    const b = bytes[i]!;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

function tagName(tag: number): string {
  const name = KNOWN_TAGS[tag];
  return name === undefined ? `format tag ${hex(tag)}` : `${name} (format tag ${hex(tag)})`;
}

function parseFmt(view: DataView, bytes: Uint8Array, at: number, size: number): Fmt {
  if (size < 16) throw new AudioError('AUDIO_ERR_MALFORMED', `fmt chunk is ${size} bytes; it needs at least 16`, { offset: at });
  const tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);

  let effective = tag;
  let validBits = bits;
  let channelMask: number | undefined;
  if (tag === TAG_EXTENSIBLE) {
    if (size < 40) throw new AudioError('AUDIO_ERR_MALFORMED', `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes; it needs 40`, { offset: at });
    const cbSize = view.getUint16(at + 16, true);
    if (cbSize < 22) throw new AudioError('AUDIO_ERR_MALFORMED', `WAVE_FORMAT_EXTENSIBLE extension is ${cbSize} bytes; it needs 22`, { offset: at + 16 });
    validBits = view.getUint16(at + 18, true) || bits; // 0 means "same as the container"
    channelMask = view.getUint32(at + 20, true);
    effective = view.getUint16(at + 24, true);
    const standard = view.getUint16(at + 26, true) === 0 && KS_GUID_TAIL.every((b, i) => bytes[at + 26 + i] === b);
    if (!standard) {
      const guid = Array.from(bytes.subarray(at + 24, at + 40), (b) => b.toString(16).padStart(2, '0')).join('');
      throw new AudioError('AUDIO_ERR_UNSUPPORTED_FORMAT', `WAVE_FORMAT_EXTENSIBLE sub-format GUID ${guid} is not a standard KSDATAFORMAT (PCM or IEEE float)`, { offset: at + 24 });
    }
  }
  if (effective !== TAG_PCM && effective !== TAG_FLOAT) {
    const via = tag === TAG_EXTENSIBLE ? ' inside WAVE_FORMAT_EXTENSIBLE' : '';
    throw new AudioError('AUDIO_ERR_UNSUPPORTED_FORMAT', `${tagName(effective)}${via} is not supported; only integer PCM and IEEE float are (convert with e.g. \`sox in.wav -e floating-point out.wav\`)`, { offset: at });
  }
  if (channels === 0) throw new AudioError('AUDIO_ERR_MALFORMED', 'fmt chunk declares 0 channels', { offset: at + 2 });
  if (sampleRate === 0) throw new AudioError('AUDIO_ERR_SAMPLE_RATE', 'fmt chunk declares a sample rate of 0 Hz', { offset: at + 4 });
  if (bits === 0) throw new AudioError('AUDIO_ERR_MALFORMED', 'fmt chunk declares 0 bits per sample', { offset: at + 14 });

  // Integer samples narrower than their container are left-justified, so decoding by container
  // size is exact for them too; validBits is only reported.
  const container = Math.ceil(bits / 8);
  if (blockAlign !== channels * container) {
    throw new AudioError('AUDIO_ERR_MALFORMED', `block align ${blockAlign} does not match ${channels} channel(s) × ${container} byte(s) per sample`, { offset: at + 12 });
  }
  if (validBits > bits) throw new AudioError('AUDIO_ERR_MALFORMED', `${validBits} valid bits do not fit ${bits}-bit samples`, { offset: at + 18 });

  let format: WavSampleFormat | undefined;
  if (effective === TAG_FLOAT) format = bits === 32 ? 'float32' : bits === 64 ? 'float64' : undefined;
  else format = (['pcm8', 'pcm16', 'pcm24', 'pcm32'] as const)[container - 1];
  if (format === undefined) {
    const kind = effective === TAG_FLOAT ? 'IEEE float' : 'integer PCM';
    throw new AudioError('AUDIO_ERR_UNSUPPORTED_FORMAT', `${bits}-bit ${kind} is not supported (float: 32/64; integer: 8/16/24/32)`, { offset: at + 14 });
  }
  const formatTag: WavFormatTag = tag === TAG_EXTENSIBLE ? 'EXTENSIBLE' : tag === TAG_FLOAT ? 'IEEE_FLOAT' : 'PCM';
  return { formatTag, format, channels, sampleRate, blockAlign, bitsPerSample: container * 8, validBits, channelMask };
}

function notWav(bytes: Uint8Array): AudioError {
  if (bytes.length === 0) return new AudioError('AUDIO_ERR_NOT_WAV', 'not a WAV file: it is empty (0 bytes)');
  const magic = fourcc(bytes, 0);
  if (magic === 'RIFX') return new AudioError('AUDIO_ERR_UNSUPPORTED_FORMAT', 'big-endian WAV (RIFX) is not supported', { offset: 0 });
  if (magic === 'RF64' || magic === 'BW64') return new AudioError('AUDIO_ERR_UNSUPPORTED_FORMAT', `${magic} (64-bit WAV) is not supported`, { offset: 0 });
  if (magic !== 'RIFF') return new AudioError('AUDIO_ERR_NOT_WAV', `not a WAV file: it starts with '${magic}', not 'RIFF'`, { offset: 0 });
  if (bytes.length < 12) return new AudioError('AUDIO_ERR_TRUNCATED', `file ends after ${bytes.length} bytes, inside the 12-byte RIFF header`, { offset: bytes.length });
  return new AudioError('AUDIO_ERR_NOT_WAV', `not a WAV file: RIFF form type is '${fourcc(bytes, 8)}', not 'WAVE'`, { offset: 8 });
}

/** Decodes a whole WAV file held in memory. Throws AudioError only. */
export function decodeWav(input: Uint8Array | ArrayBuffer, options: DecodeWavOptions = {}): DecodedWav {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  if (end < 12 || fourcc(bytes, 0) !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') throw notWav(bytes);

  // The RIFF size field is ignored: writers get it wrong, and streaming writers leave a
  // placeholder. Chunks are walked to the end of the bytes instead.
  let fmt: Fmt | undefined;
  let data: { start: number; declared: number; available: number } | undefined;
  let at = 12;
  while (at + 8 <= end && !(fmt && data)) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + size > end) throw new AudioError('AUDIO_ERR_TRUNCATED', `fmt chunk declares ${size} bytes but the file ends ${end - body} bytes into it`, { offset: body });
      fmt = parseFmt(view, bytes, body, size);
    } else if (id === 'data') {
      data = { start: body, declared: size, available: Math.min(size, end - body) };
      if (body + size >= end) break; // a data chunk running to (or past) the end is the last one
    }
    at = body + size + (size & 1); // chunks are padded to even length
  }
  if (!fmt) {
    if (data) throw new AudioError('AUDIO_ERR_MALFORMED', 'data chunk found but no fmt chunk describes it');
    throw new AudioError('AUDIO_ERR_TRUNCATED', `no fmt chunk before the end of the file (${end} bytes)`, { offset: end });
  }
  if (!data) throw new AudioError('AUDIO_ERR_TRUNCATED', `no data chunk before the end of the file (${end} bytes)`, { offset: end });

  const frames = Math.floor(data.available / fmt.blockAlign);
  const dropped = data.available - frames * fmt.blockAlign;
  let truncation: WavTruncation | undefined;
  const reason = data.declared === WAV_SIZE_PLACEHOLDER ? 'unfinalized-header'
    : data.available < data.declared ? 'short-file'
      : dropped > 0 ? 'partial-frame' : undefined;
  if (reason !== undefined) {
    truncation = { reason, declaredBytes: data.declared, availableBytes: data.available, droppedBytes: dropped, recoveredFrames: frames };
    if (options.strict) {
      const what = reason === 'unfinalized-header' ? 'the data size was never written (placeholder 0xFFFFFFFF)'
        : reason === 'short-file' ? `the data chunk declares ${data.declared} bytes but only ${data.available} are present`
          : `the data chunk ends ${dropped} byte(s) into a ${fmt.blockAlign}-byte frame`;
      throw new AudioError('AUDIO_ERR_TRUNCATED', `truncated WAV: ${what}`, { offset: data.start + data.available });
    }
  }

  const channels = decodeSamples(view, fmt, data.start, frames);
  return {
    sampleRate: fmt.sampleRate, channels, format: fmt.format, formatTag: fmt.formatTag,
    bitsPerSample: fmt.bitsPerSample, validBits: fmt.validBits, channelMask: fmt.channelMask, frames, truncation,
  };
}

// Integer scaling is by 2^(bits-1), the convention of libsndfile and most tools: it makes
// int → float → int exact, at the cost of +1.0 being unreachable (max is 1 - 2^-(bits-1)).
function decodeSamples(view: DataView, fmt: Fmt, start: number, frames: number): Float32Array[] {
  const n = fmt.channels;
  const out = Array.from({ length: n }, () => new Float32Array(frames));
  const width = fmt.bitsPerSample / 8;
  for (let c = 0; c < n; c++) {
    const dst = out[c]!;
    let p = start + c * width;
    const step = fmt.blockAlign;
    switch (fmt.format) {
      case 'pcm8':
        for (let i = 0; i < frames; i++, p += step) dst[i] = (view.getUint8(p) - 128) / 128;
        break;
      case 'pcm16':
        for (let i = 0; i < frames; i++, p += step) dst[i] = view.getInt16(p, true) / 32768;
        break;
      case 'pcm24':
        for (let i = 0; i < frames; i++, p += step) {
          const v = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
          dst[i] = v / 8388608;
        }
        break;
      case 'pcm32':
        for (let i = 0; i < frames; i++, p += step) dst[i] = view.getInt32(p, true) / 2147483648;
        break;
      case 'float32':
        for (let i = 0; i < frames; i++, p += step) {
          const v = view.getFloat32(p, true);
          if (!Number.isFinite(v)) throw nonFinite(v, c, i, p, 'float32');
          dst[i] = v;
        }
        break;
      case 'float64':
        for (let i = 0; i < frames; i++, p += step) {
          const v = view.getFloat64(p, true);
          const f = Math.fround(v);
          if (!Number.isFinite(f)) throw nonFinite(v, c, i, p, 'float64');
          dst[i] = f;
        }
        break;
    }
  }
  return out;
}

function nonFinite(v: number, channel: number, index: number, offset: number, format: string): AudioError {
  const what = Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `${v} (beyond float32 range)` : String(v);
  return new AudioError('AUDIO_ERR_NON_FINITE', `${format} sample ${index} of channel ${channel} is ${what} (byte ${offset})`, { channel, index, offset });
}

// ---------------------------------------------------------------------------------------
// Encoding

export interface EncodeWavOptions {
  /** Sample encoding; float32 (the default) round-trips Float32Array samples bit-exactly. */
  readonly format?: WavSampleFormat;
}

export interface WavHeaderSpec {
  readonly sampleRate: number;
  readonly channels: number;
  readonly format: WavSampleFormat;
  /**
   * Samples per channel, or 'streaming' for a header with 0xFFFFFFFF size placeholders that a
   * writer appends data after and patches (rewriting the header with the final count) when it
   * closes. decodeWav recovers such a file if the writer never got to patch it.
   */
  readonly frames: number | 'streaming';
}

const BYTES: Readonly<Record<WavSampleFormat, number>> = { pcm8: 1, pcm16: 2, pcm24: 3, pcm32: 4, float32: 4, float64: 8 };

function isFloat(format: WavSampleFormat): boolean {
  return format === 'float32' || format === 'float64';
}

/** Header size for a format: fixed per format, so a streaming writer can rewrite it in place. */
export function wavHeaderBytes(format: WavSampleFormat): number {
  // RIFF+WAVE 12, fmt 8+16 (PCM) or 8+18 (float, cbSize) plus fact 12, data header 8.
  return isFloat(format) ? 58 : 44;
}

function checkFormat(format: unknown): asserts format is WavSampleFormat {
  if (!WAV_SAMPLE_FORMATS.includes(format as WavSampleFormat)) {
    throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', `unknown WAV sample format ${JSON.stringify(format)} (expected one of ${WAV_SAMPLE_FORMATS.join(', ')})`);
  }
}

function checkRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < 1 || rate > 0xffffffff) {
    throw new AudioError('AUDIO_ERR_SAMPLE_RATE', `sample rate ${rate} is not a positive integer that fits 32 bits`);
  }
}

/**
 * The bytes before the samples: RIFF, fmt (plain PCM or IEEE float, never extensible, since
 * every reader accepts those), fact for float, and the data chunk header.
 */
export function encodeWavHeader(spec: WavHeaderSpec): Uint8Array {
  checkFormat(spec.format);
  checkRate(spec.sampleRate);
  if (!Number.isInteger(spec.channels) || spec.channels < 1 || spec.channels > 0xffff) {
    throw new AudioError('AUDIO_ERR_CHANNELS', `channel count ${spec.channels} is not between 1 and 65535`);
  }
  const width = BYTES[spec.format];
  const blockAlign = spec.channels * width;
  if (blockAlign > 0xffff) throw new AudioError('AUDIO_ERR_CHANNELS', `${spec.channels} channels of ${spec.format} exceed the 16-bit block align`);
  const headerLen = wavHeaderBytes(spec.format);
  let dataBytes = WAV_SIZE_PLACEHOLDER;
  let riffSize = WAV_SIZE_PLACEHOLDER;
  let factFrames = WAV_SIZE_PLACEHOLDER;
  if (spec.frames !== 'streaming') {
    if (!Number.isSafeInteger(spec.frames) || spec.frames < 0) throw new AudioError('AUDIO_ERR_BAD_ARGUMENT', `frame count ${spec.frames} is not a non-negative integer`);
    dataBytes = spec.frames * blockAlign;
    riffSize = headerLen - 8 + dataBytes + (dataBytes & 1);
    factFrames = spec.frames;
    // 0xFFFFFFFF itself is reserved: readers take it for the streaming placeholder.
    if (riffSize >= WAV_SIZE_PLACEHOLDER) throw new AudioError('AUDIO_ERR_TOO_LARGE', `${dataBytes} data bytes do not fit a 32-bit RIFF size (use shorter files)`);
  }
  const out = new Uint8Array(headerLen);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF');
  v.setUint32(4, riffSize, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  const float = isFloat(spec.format);
  v.setUint32(16, float ? 18 : 16, true);
  v.setUint16(20, float ? TAG_FLOAT : TAG_PCM, true);
  v.setUint16(22, spec.channels, true);
  v.setUint32(24, spec.sampleRate, true);
  v.setUint32(28, Math.min(spec.sampleRate * blockAlign, 0xffffffff), true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, width * 8, true);
  let at = 36;
  if (float) {
    v.setUint16(36, 0, true); // cbSize
    ascii(38, 'fact');
    v.setUint32(42, 4, true);
    v.setUint32(46, factFrames, true);
    at = 50;
  }
  ascii(at, 'data');
  v.setUint32(at + 4, dataBytes, true);
  return out;
}

/**
 * Encodes samples (one Float32Array for mono, or one per channel) as a WAV file. Integer
 * formats scale by 2^(bits-1), round to nearest and clamp (so ±1.0 maps to the extremes);
 * NaN/Inf are refused with AUDIO_ERR_NON_FINITE naming the channel and sample.
 */
export function encodeWav(samples: Float32Array | readonly Float32Array[], sampleRate: number, options: EncodeWavOptions = {}): Uint8Array {
  const format = options.format ?? 'float32';
  checkFormat(format);
  const chans: readonly Float32Array[] = samples instanceof Float32Array ? [samples] : samples;
  if (!Array.isArray(chans) || chans.length === 0) throw new AudioError('AUDIO_ERR_CHANNELS', 'no channels to encode');
  const frames = chans[0]!.length;
  chans.forEach((ch, c) => {
    if (!(ch instanceof Float32Array)) throw new AudioError('AUDIO_ERR_CHANNELS', `channel ${c} is not a Float32Array`, { channel: c });
    if (ch.length !== frames) throw new AudioError('AUDIO_ERR_CHANNELS', `channel ${c} has ${ch.length} samples but channel 0 has ${frames}`, { channel: c });
  });
  const header = encodeWavHeader({ sampleRate, channels: chans.length, format, frames });
  const width = BYTES[format];
  const dataBytes = frames * chans.length * width;
  const out = new Uint8Array(header.length + dataBytes + (dataBytes & 1));
  out.set(header);
  const v = new DataView(out.buffer);
  const n = chans.length;
  for (let c = 0; c < n; c++) {
    const src = chans[c]!;
    let p = header.length + c * width;
    const step = n * width;
    for (let i = 0; i < frames; i++, p += step) {
      const x = src[i]!;
      if (!Number.isFinite(x)) {
        throw new AudioError('AUDIO_ERR_NON_FINITE', `cannot encode sample ${i} of channel ${c}: it is ${x}`, { channel: c, index: i });
      }
      switch (format) {
        case 'float32': v.setFloat32(p, x, true); break;
        case 'float64': v.setFloat64(p, x, true); break;
        case 'pcm8': v.setUint8(p, clamp(Math.round(x * 128), -128, 127) + 128); break;
        case 'pcm16': v.setInt16(p, clamp(Math.round(x * 32768), -32768, 32767), true); break;
        case 'pcm24': {
          const q = clamp(Math.round(x * 8388608), -8388608, 8388607);
          v.setUint8(p, q & 0xff);
          v.setUint8(p + 1, (q >> 8) & 0xff);
          v.setUint8(p + 2, (q >> 16) & 0xff);
          break;
        }
        case 'pcm32': v.setInt32(p, clamp(Math.round(x * 2147483648), -2147483648, 2147483647), true); break;
      }
    }
  }
  return out;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
