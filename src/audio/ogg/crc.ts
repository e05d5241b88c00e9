// The Ogg page checksum (RFC 3533): CRC-32 with polynomial 0x04C11DB7, MSB first (not
// reflected), initial value 0 and no final xor. Not the zlib CRC of harness/format/crc32.ts:
// that one is reflected (0xEDB88320) with init and final xor 0xFFFFFFFF, so the two never agree.

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  TABLE[n] = c >>> 0;
}

/**
 * Ogg CRC of bytes[start, end). Pass the previous result as `crc` to continue over a further
 * span: oggCrc32(b, oggCrc32(a)) === oggCrc32(a ++ b).
 */
export function oggCrc32(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  let c = crc >>> 0;
  for (let i = start; i < end; i++) c = ((c << 8) ^ TABLE[((c >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return c;
}

/** Continues `crc` over `count` zero bytes (the page's own checksum field while it is checked). */
export function oggCrc32Zeros(crc: number, count: number): number {
  let c = crc >>> 0;
  for (let i = 0; i < count; i++) c = ((c << 8) ^ TABLE[(c >>> 24) & 0xff]!) >>> 0;
  return c;
}
