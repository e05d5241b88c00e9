// One Ogg page (RFC 3533 §6): the 27-byte header, the segment (lacing) table and the body.
// Field offsets and limits live here once; the muxer writes pages, the demuxer reads them.

import { oggCrc32, oggCrc32Zeros } from './crc.ts';
import { OggError } from './errors.ts';

export const OGG_HEADER_BYTES = 27;
export const OGG_MAX_SEGMENTS = 255;
/** The largest page the format can express: header, 255 lacing values of 255 bytes each. */
export const OGG_MAX_PAGE_BYTES = OGG_HEADER_BYTES + OGG_MAX_SEGMENTS + OGG_MAX_SEGMENTS * 255;
export const OGG_FLAG_CONTINUED = 0x01;
export const OGG_FLAG_BOS = 0x02;
export const OGG_FLAG_EOS = 0x04;
/** Granule position of a page on which no packet ends (all 64 bits set). */
export const OGG_NO_GRANULE = -1;

/** "OggS", the capture pattern every page starts with. */
export const OGG_CAPTURE = Uint8Array.of(0x4f, 0x67, 0x67, 0x53);

// Byte offsets inside the header.
const AT_VERSION = 4;
const AT_FLAGS = 5;
const AT_GRANULE = 6;
const AT_SERIAL = 14;
const AT_SEQUENCE = 18;
const AT_CRC = 22;
const AT_SEGMENTS = 26;
const TWO_32 = 2 ** 32;

/** What a page's header says, with where the page sits in the stream. */
export interface OggPageHeader {
  /** Byte offset of the page in the stream (all bytes pushed before it). */
  readonly offset: number;
  readonly continued: boolean;
  readonly bos: boolean;
  readonly eos: boolean;
  /** Position after the last packet that ends on this page; OGG_NO_GRANULE when none ends. */
  readonly granulePosition: number;
  readonly serial: number;
  readonly sequence: number;
  readonly checksum: number;
  /** Number of lacing values. */
  readonly segments: number;
  /** Header plus segment table plus body. */
  readonly pageBytes: number;
  readonly bodyBytes: number;
  /** Packets that end on this page (lacing values below 255). */
  readonly packetsEnded: number;
}

export interface OggPageSpec {
  readonly continued?: boolean;
  readonly bos?: boolean;
  readonly eos?: boolean;
  readonly granulePosition: number;
  readonly serial: number;
  readonly sequence: number;
  /** Lacing values; their sum is the body length. */
  readonly lacing: ArrayLike<number>;
  readonly body: Uint8Array;
}

/** Builds a page with its checksum. Throws OGG_ERR_BAD_ARGUMENT on fields the format cannot hold. */
export function writeOggPage(spec: OggPageSpec): Uint8Array {
  const { lacing, body } = spec;
  if (lacing.length > OGG_MAX_SEGMENTS) throw badArgument(`${lacing.length} lacing values; a page holds at most ${OGG_MAX_SEGMENTS}`);
  let sum = 0;
  for (let i = 0; i < lacing.length; i++) {
    const v = lacing[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) throw badArgument(`lacing value ${i} is ${v}; each is 0..255`);
    sum += v;
  }
  if (sum !== body.length) throw badArgument(`lacing values add up to ${sum} bytes but the body has ${body.length}`);
  checkU32(spec.serial, 'serial');
  checkU32(spec.sequence, 'sequence');
  const g = spec.granulePosition;
  if (!Number.isSafeInteger(g) || g < OGG_NO_GRANULE) throw badArgument(`granule position ${g} is not -1 or a safe non-negative integer`);

  const page = new Uint8Array(OGG_HEADER_BYTES + lacing.length + body.length);
  const view = new DataView(page.buffer);
  page.set(OGG_CAPTURE, 0);
  page[AT_VERSION] = 0;
  page[AT_FLAGS] = (spec.continued ? OGG_FLAG_CONTINUED : 0) | (spec.bos ? OGG_FLAG_BOS : 0) | (spec.eos ? OGG_FLAG_EOS : 0);
  if (g === OGG_NO_GRANULE) {
    view.setUint32(AT_GRANULE, 0xffffffff, true);
    view.setUint32(AT_GRANULE + 4, 0xffffffff, true);
  } else {
    view.setUint32(AT_GRANULE, g % TWO_32, true);
    view.setUint32(AT_GRANULE + 4, Math.floor(g / TWO_32), true);
  }
  view.setUint32(AT_SERIAL, spec.serial, true);
  view.setUint32(AT_SEQUENCE, spec.sequence, true);
  page[AT_SEGMENTS] = lacing.length;
  page.set(lacing, OGG_HEADER_BYTES);
  page.set(body, OGG_HEADER_BYTES + lacing.length);
  view.setUint32(AT_CRC, oggCrc32(page), true); // the CRC field is still zero here, as the check requires
  return page;
}

/**
 * Checks the header bytes present so far (page starting at src[start], `avail` bytes of it)
 * and returns the page's total length once its segment table is in, or the number of bytes
 * needed to learn it (27, then 27 + segments). Throws OggError for a bad capture pattern,
 * version, flags or size as soon as the offending byte is present, so a stream of garbage is
 * refused at its first byte rather than buffered.
 */
export function measureOggPage(src: Uint8Array, start: number, avail: number, offset: number, maxPageBytes: number): { readonly complete: boolean; readonly need: number } {
  const upto = Math.min(avail, 4);
  for (let i = 0; i < upto; i++) {
    if (src[start + i] !== OGG_CAPTURE[i]) {
      throw new OggError('OGG_ERR_CAPTURE', `no Ogg page at byte ${offset}: expected "OggS", found ${describeBytes(src, start, upto)}`, { offset: offset + i });
    }
  }
  if (avail > AT_VERSION && src[start + AT_VERSION] !== 0) {
    throw new OggError('OGG_ERR_VERSION', `Ogg page at byte ${offset} has stream structure version ${src[start + AT_VERSION]}; only version 0 exists`, { offset, found: src[start + AT_VERSION] });
  }
  if (avail > AT_FLAGS && (src[start + AT_FLAGS]! & ~7) !== 0) {
    throw new OggError('OGG_ERR_HEADER', `Ogg page at byte ${offset} sets reserved header-type bits (0x${src[start + AT_FLAGS]!.toString(16)})`, { offset, found: src[start + AT_FLAGS] });
  }
  if (avail < OGG_HEADER_BYTES) return { complete: false, need: OGG_HEADER_BYTES };
  const segments = src[start + AT_SEGMENTS]!;
  const headerBytes = OGG_HEADER_BYTES + segments;
  if (avail < headerBytes) return { complete: false, need: headerBytes };
  let body = 0;
  for (let i = 0; i < segments; i++) body += src[start + OGG_HEADER_BYTES + i]!;
  const pageBytes = headerBytes + body;
  if (pageBytes > maxPageBytes) {
    throw new OggError('OGG_ERR_PAGE_TOO_LARGE', `Ogg page at byte ${offset} is ${pageBytes} bytes; the limit is ${maxPageBytes}`, { offset, expected: maxPageBytes, found: pageBytes });
  }
  return { complete: avail >= pageBytes, need: pageBytes };
}

/**
 * Reads the header of a whole page (src[start, start + pageBytes), already measured) and
 * checks its CRC. Sequence, serial and flag rules across pages are the demuxer's job.
 */
export function readOggPageHeader(src: Uint8Array, start: number, pageBytes: number, offset: number): OggPageHeader {
  const view = new DataView(src.buffer, src.byteOffset + start, pageBytes);
  const stored = view.getUint32(AT_CRC, true);
  let crc = oggCrc32(src, 0, start, start + AT_CRC);
  crc = oggCrc32Zeros(crc, 4);
  crc = oggCrc32(src, crc, start + AT_CRC + 4, start + pageBytes);
  const sequence = view.getUint32(AT_SEQUENCE, true);
  if (crc !== stored) {
    throw new OggError('OGG_ERR_CRC', `Ogg page ${sequence} at byte ${offset}: checksum ${hex(stored)} does not match its bytes (${hex(crc)})`, { offset, sequence, expected: crc, found: stored });
  }
  const lo = view.getUint32(AT_GRANULE, true);
  const hi = view.getInt32(AT_GRANULE + 4, true);
  let granulePosition: number;
  if (hi === -1 && lo === 0xffffffff) granulePosition = OGG_NO_GRANULE;
  else if (hi < 0 || hi >= 2 ** 21) {
    // Negative values other than -1 are undefined, and past 2^53 a number loses samples.
    throw new OggError('OGG_ERR_HEADER', `Ogg page ${sequence} at byte ${offset} has granule position ${hi < 0 ? 'negative' : '≥ 2^53'} (0x${(hi >>> 0).toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')})`, { offset, sequence });
  } else granulePosition = hi * TWO_32 + lo;
  const flags = src[start + AT_FLAGS]!;
  const segments = src[start + AT_SEGMENTS]!;
  let packetsEnded = 0;
  for (let i = 0; i < segments; i++) if (src[start + OGG_HEADER_BYTES + i]! < 255) packetsEnded++;
  return {
    offset,
    continued: (flags & OGG_FLAG_CONTINUED) !== 0,
    bos: (flags & OGG_FLAG_BOS) !== 0,
    eos: (flags & OGG_FLAG_EOS) !== 0,
    granulePosition,
    serial: view.getUint32(AT_SERIAL, true),
    sequence,
    checksum: stored,
    segments,
    pageBytes,
    bodyBytes: pageBytes - OGG_HEADER_BYTES - segments,
    packetsEnded,
  };
}

function checkU32(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw badArgument(`${name} ${v} is not an unsigned 32-bit integer`);
}

function badArgument(message: string): OggError {
  return new OggError('OGG_ERR_BAD_ARGUMENT', message);
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function describeBytes(src: Uint8Array, start: number, count: number): string {
  const bytes = Array.from(src.subarray(start, start + count));
  const printable = bytes.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(String.fromCharCode(...bytes)) : bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
