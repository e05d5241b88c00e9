// CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), the
// check zip, PNG and gzip use, so any tool can verify a record. Slice-by-8 because packets.bin
// carries every audio packet of a session and the reader checks all of them.
// Under Node (>= 20.15 / 22.2) zlib's crc32 computes the same CRC about 4x faster on a packet,
// which the recorder pays on the server's event loop; this module still reaches no Node built-in
// at load (the viewer bundles it): it asks the running process, and browsers get the JS one.

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

/** The same CRC-32 in portable JavaScript: what browsers run, and the reference the native one is tested against. */
export function crc32Portable(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
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

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

/** zlib's crc32 when this runtime is a Node that has it (process.getBuiltinModule: Node >= 20.16 / 22.3), else null. */
function nativeCrc32(): NativeCrc32 | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:zlib') as { crc32?: unknown } | undefined) : undefined;
  return typeof zlib?.crc32 === 'function' ? (zlib.crc32 as NativeCrc32) : null;
}

const NATIVE = nativeCrc32();
/** Below this many bytes the JS loop beats a call into native code (a record header is 16). */
const NATIVE_FROM_BYTES = 64;

/** Which implementation crc32() uses in this runtime. */
export const CRC32_IMPLEMENTATION: 'zlib' | 'portable' = NATIVE ? 'zlib' : 'portable';

/**
 * CRC-32 of bytes[start, end). Pass the previous result as `crc` to continue over a
 * further span: crc32(b, crc32(a)) === crc32(a ++ b).
 */
export function crc32(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  if (NATIVE === null || end - start < NATIVE_FROM_BYTES) return crc32Portable(bytes, crc, start, end);
  return NATIVE(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), crc) >>> 0;
}

/** 8 lowercase hex digits, the form steps.jsonl stores. */
export function crc32Hex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
