// Little-endian field access and UTF-8 for short strings without allocating: DataView and
// TextEncoder/TextDecoder objects cost more than the work itself for 17-byte headers and
// the short text pieces a speech model emits. Longer strings use the platform codecs.

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

export function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

export function writeF64(b: Uint8Array, at: number, v: number): void {
  f64[0] = v;
  if (LITTLE_ENDIAN_HOST) for (let i = 0; i < 8; i++) b[at + i] = f64Bytes[i]!;
  else for (let i = 0; i < 8; i++) b[at + i] = f64Bytes[7 - i]!;
}

export function readF64(b: Uint8Array, at: number): number {
  if (LITTLE_ENDIAN_HOST) for (let i = 0; i < 8; i++) f64Bytes[i] = b[at + i]!;
  else for (let i = 0; i < 8; i++) f64Bytes[7 - i] = b[at + i]!;
  return f64[0]!;
}

/** Below this many UTF-16 units, hand-written UTF-8 beats the platform codecs. */
export const SHORT_TEXT = 64;

/**
 * UTF-8 length of a short string, or -1 if it holds a lone surrogate (not encodable
 * losslessly).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Writes a well-formed string as UTF-8 at `at`; returns the byte count. */
export function writeUtf8(s: string, b: Uint8Array, at: number): number {
  let o = at;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[o++] = c;
    else if (c < 0x800) {
      b[o++] = 0xc0 | (c >> 6);
      b[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      b[o++] = 0xf0 | (c >> 18);
      b[o++] = 0x80 | ((c >> 12) & 0x3f);
      b[o++] = 0x80 | ((c >> 6) & 0x3f);
      b[o++] = 0x80 | (c & 0x3f);
    } else {
      b[o++] = 0xe0 | (c >> 12);
      b[o++] = 0x80 | ((c >> 6) & 0x3f);
      b[o++] = 0x80 | (c & 0x3f);
    }
  }
  return o - at;
}

const units: number[] = [];

// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading BOM is text, so
// what was sent is what arrives.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decode of any range (hand-written below SHORT_TEXT bytes, the platform's above); null when invalid. */
export function decodeUtf8(b: Uint8Array, start: number, end: number): string | null {
  if (end - start <= SHORT_TEXT) return readUtf8(b, start, end);
  try {
    return strictUtf8.decode(b.subarray(start, end));
  } catch {
    return null;
  }
}

/**
 * Strict UTF-8 decode of a short byte range, with the same verdicts as a fatal
 * TextDecoder: overlong forms, surrogates, code points above U+10FFFF and cut sequences
 * are errors (returns null).
 */
export function readUtf8(b: Uint8Array, start: number, end: number): string | null {
  units.length = 0;
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      units.push(c);
      i += 1;
      continue;
    }
    let need: number;
    let cp: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; min = 0x10000; }
    else return null;
    if (i + need >= end) return null; // sequence cut by the end of the payload
    for (let k = 1; k <= need; k++) {
      const d = b[i + k]!;
      if ((d & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
    i += need + 1;
  }
  return String.fromCharCode.apply(null, units);
}

/**
 * Index of the first NaN or ±Inf among float32 values given as their bit patterns
 * (exponent all ones), or -1. Measured in V8 here, fastest first: an unrolled branchless
 * OR of (exponent + 1) whose sign bit flags an all-ones exponent (~4× a per-sample
 * early-exit test), then float accumulation of x * 0, then x - x !== 0. Int32Array, not
 * Uint32Array: u32 loads above 2^31 (every negative sample) leave V8's int fast path.
 */
export function firstNonFiniteBits(bits: Int32Array): number {
  const M = 0x7f800000;
  const ONE = 0x00800000;
  const n = bits.length;
  const n4 = n & ~3;
  let acc = 0;
  let i = 0;
  for (; i < n4; i += 4) {
    acc |= ((bits[i]! & M) + ONE) | ((bits[i + 1]! & M) + ONE) | ((bits[i + 2]! & M) + ONE) | ((bits[i + 3]! & M) + ONE);
  }
  for (; i < n; i++) acc |= ((bits[i]! & M) + ONE) | 0;
  if (acc >= 0) return -1;
  for (let j = 0; j < n; j++) if ((bits[j]! & M) === M) return j;
  return -1;
}

/** The parts one after another in one new array (the one part itself when there is only one: no copy). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
