// CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), the
// check zip, PNG and gzip use, so any tool can verify a record. Slice-by-8 because packets.bin
// carries every audio packet of a session and the reader checks all of them.

// Eight 256-entry tables in one Int32Array: signed 32-bit lanes keep V8 on small-integer
// arithmetic (a Uint32Array read above 2^31 is a heap double).
const T = new Int32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let t = 1; t < 8; t++) {
  for (let n = 0; n < 256; n++) {
    const prev = T[(t - 1) * 256 + n]!;
    T[t * 256 + n] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/**
 * CRC-32 of bytes[start, end). Pass the previous result as `crc` to continue over a
 * further span: crc32(b, crc32(a)) === crc32(a ++ b).
 */
export function crc32(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const lo = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c = T[1792 + (lo & 0xff)]! ^ T[1536 + ((lo >>> 8) & 0xff)]! ^ T[1280 + ((lo >>> 16) & 0xff)]! ^ T[1024 + (lo >>> 24)]! ^
      T[768 + bytes[i + 4]!]! ^ T[512 + bytes[i + 5]!]! ^ T[256 + bytes[i + 6]!]! ^ T[bytes[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** 8 lowercase hex digits, the form steps.jsonl stores. */
export function crc32Hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
