// input.wav / output.wav: float32 little-endian, mono, 24 kHz, one 1920-sample frame per step.
//
// The writer streams: it writes this 58-byte header with 0xFFFFFFFF size placeholders (the
// usual "still streaming" convention, which sox and ffmpeg read to end of file), appends
// frames, and patches the RIFF, fact and data sizes when it closes. After a crash the sizes
// are stale, so the reader takes the sample count from the file size instead and says so.
//
//   0 "RIFF"  4 u32 RIFF size  8 "WAVE"  12 "fmt "  16 u32 18  20 u16 3 (IEEE float)
//   22 u16 1 channel  24 u32 24000  28 u32 96000 byte/s  32 u16 4 block align  34 u16 32 bits
//   36 u16 0 (cbSize)  38 "fact"  42 u32 4  46 u32 sample count  50 "data"  54 u32 data size
//   58 samples…
import { readU16LE, readU32LE, writeU32LE } from './bytes.ts';
import { SessionError } from './errors.ts';
import type { SessionRecovery } from './errors.ts';
import { SAMPLE_RATE } from './layout.ts';

export const WAV_HEADER_BYTES = 58;
export const WAV_SIZE_PLACEHOLDER = 0xffffffff;
/** Data bytes above which the 32-bit sizes cannot be patched (~12.4 h); readers use the file size. */
export const WAV_MAX_DATA_BYTES = WAV_SIZE_PLACEHOLDER - WAV_HEADER_BYTES;
export const WAV_RIFF_SIZE_AT = 4;
export const WAV_FACT_AT = 46;
export const WAV_DATA_SIZE_AT = 54;
const TAG_FLOAT = 3;
const TAG_EXTENSIBLE = 0xfffe;

function ascii(out: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
}

/** The header for `samples` samples, or with placeholders (`null`) for a file being written. */
export function encodeWavHeader(samples: number | null): Uint8Array {
  const h = new Uint8Array(WAV_HEADER_BYTES);
  const dataBytes = samples === null ? WAV_SIZE_PLACEHOLDER : samples * 4;
  const sized = samples !== null && dataBytes <= WAV_MAX_DATA_BYTES;
  ascii(h, 0, 'RIFF');
  writeU32LE(h, WAV_RIFF_SIZE_AT, sized ? WAV_HEADER_BYTES - 8 + dataBytes : WAV_SIZE_PLACEHOLDER);
  ascii(h, 8, 'WAVEfmt ');
  writeU32LE(h, 16, 18);
  h[20] = TAG_FLOAT;
  h[22] = 1;
  writeU32LE(h, 24, SAMPLE_RATE);
  writeU32LE(h, 28, SAMPLE_RATE * 4);
  h[32] = 4;
  h[34] = 32;
  ascii(h, 38, 'fact');
  writeU32LE(h, 42, 4);
  writeU32LE(h, WAV_FACT_AT, sized ? samples : WAV_SIZE_PLACEHOLDER);
  ascii(h, 50, 'data');
  writeU32LE(h, WAV_DATA_SIZE_AT, sized ? dataBytes : WAV_SIZE_PLACEHOLDER);
  return h;
}

export interface WavLayout {
  /** Byte offset of sample 0. */
  readonly dataOffset: number;
  /** Whole samples the reader will deliver. */
  readonly samples: number;
  /** False when the header still holds the writer's placeholders (it never closed). */
  readonly finalized: boolean;
  /** What was recovered, if the header and the file size disagree. */
  readonly recovery: SessionRecovery | null;
}

// The writer's own header with its size fields masked: used to tell a torn header (a
// prefix of it) from a file that is not ours.
const TEMPLATE = encodeWavHeader(null);
const MASKED = new Set([4, 5, 6, 7, 46, 47, 48, 49, 54, 55, 56, 57]);

function corrupt(file: string, offset: number, what: string): SessionError {
  return new SessionError('SESSION_ERR_CORRUPT', `${file}: ${what}`, { file, offset });
}

/**
 * Locates the samples of a session WAV from its first bytes (`head`, at least the header:
 * 4 KiB is plenty) and its size. Accepts any RIFF layout with a float32 mono 24 kHz fmt, so a
 * file rewritten by another tool still opens; rejects anything else as SESSION_ERR_CORRUPT.
 */
export function parseWavLayout(head: Uint8Array, fileSize: number, file: string): WavLayout {
  if (fileSize < WAV_HEADER_BYTES && head.length >= fileSize) {
    for (let i = 0; i < fileSize; i++) {
      if (!MASKED.has(i) && head[i] !== TEMPLATE[i]) throw corrupt(file, i, 'is not a float32 WAV written by a SolaceLive session (header differs)');
    }
    return {
      dataOffset: WAV_HEADER_BYTES, samples: 0, finalized: false,
      recovery: {
        code: 'SESSION_ERR_TRUNCATED', file, offset: 0, length: fileSize,
        message: `${file}: the file ends ${fileSize} bytes into its ${WAV_HEADER_BYTES}-byte header; no samples recovered`,
      },
    };
  }
  const tag4 = (at: number) => String.fromCharCode(head[at]!, head[at + 1]!, head[at + 2]!, head[at + 3]!);
  if (head.length < 12 || tag4(0) !== 'RIFF' || tag4(8) !== 'WAVE') throw corrupt(file, 0, 'is not a RIFF/WAVE file');
  let at = 12;
  let fmtSeen = false;
  while (at + 8 <= head.length) {
    const id = tag4(at);
    const size = readU32LE(head, at + 4);
    if (id === 'fmt ') {
      if (size < 16 || at + 8 + 16 > head.length) throw corrupt(file, at, 'fmt chunk is too short');
      let tag = readU16LE(head, at + 8);
      if (tag === TAG_EXTENSIBLE && size >= 40 && at + 8 + 26 <= head.length) tag = readU16LE(head, at + 8 + 24);
      const channels = readU16LE(head, at + 10);
      const rate = readU32LE(head, at + 12);
      const bits = readU16LE(head, at + 22);
      if (tag !== TAG_FLOAT || channels !== 1 || rate !== SAMPLE_RATE || bits !== 32) {
        throw corrupt(file, at, `is ${channels}-channel, ${bits}-bit ${tag === TAG_FLOAT ? 'float' : `format-${tag}`} at ${rate} Hz; a session WAV is float32 mono ${SAMPLE_RATE} Hz`);
      }
      fmtSeen = true;
    } else if (id === 'data') {
      if (!fmtSeen) throw corrupt(file, at, 'data chunk comes before the fmt chunk');
      return dataLayout(file, at + 8, size, fileSize);
    }
    at += 8 + size + (size & 1);
  }
  throw corrupt(file, 12, fmtSeen ? 'has no data chunk in its first bytes' : 'has no fmt chunk');
}

function dataLayout(file: string, dataOffset: number, declared: number, fileSize: number): WavLayout {
  const available = Math.max(0, fileSize - dataOffset);
  if (declared !== WAV_SIZE_PLACEHOLDER && declared <= available) {
    // Sizes were patched: trust them (bytes after the data chunk belong to other chunks).
    const odd = declared % 4;
    return {
      dataOffset, samples: (declared - odd) / 4, finalized: true,
      recovery: odd === 0 ? null : {
        code: 'SESSION_ERR_CORRUPT', file, offset: dataOffset + declared - odd, length: odd,
        message: `${file}: data size ${declared} is not a whole number of float32 samples; ignored the last ${odd} bytes`,
      },
    };
  }
  const odd = available % 4;
  const samples = (available - odd) / 4;
  const placeholder = declared === WAV_SIZE_PLACEHOLDER;
  const why = placeholder
    ? `the header sizes were never patched (the writer did not close), so the ${samples} samples were counted from the file size`
    : `the header says ${declared} data bytes but the file holds ${available}`;
  const lost = odd === 0 ? '' : `; dropped ${odd} trailing byte${odd === 1 ? '' : 's'} of a partial sample`;
  return {
    dataOffset, samples, finalized: !placeholder,
    recovery: {
      code: odd === 0 && placeholder ? 'SESSION_ERR_UNFINALIZED' : 'SESSION_ERR_TRUNCATED',
      file, offset: dataOffset + available - odd, length: odd,
      message: `${file}: ${why}${lost}`,
    },
  };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32le bytes (a multiple of 4) as samples, bit-exact (NaN payloads included). */
export function decodeFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length >>> 2);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  } else {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(i * 4, true);
  }
  return out;
}
