// CRC-32 and SHA-256 are hand-written (browser-safe, synchronous): pin them to zlib and
// node:crypto, including the block-boundary lengths where padding bugs live.
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, pcmHash, sha256, toHex, PCM_HASH_PATTERN } from '../../../harness/format.ts';
import { CRC32_IMPLEMENTATION, crc32Portable } from '../../../harness/format/crc32.ts';
import { propParams } from '../../props.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the check value of CRC-32/ISO-HDLC', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('matches zlib for any bytes, and continues over split input, in both implementations', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (bytes, at, to) => {
      const cut = at % (bytes.length + 1);
      const end = cut + (to % (bytes.length - cut + 1));
      for (const f of [crc32, crc32Portable]) {
        expect(f(bytes)).toBe(zlibCrc32(bytes));
        expect(f(bytes.subarray(cut), f(bytes.subarray(0, cut)))).toBe(zlibCrc32(bytes));
        expect(f(bytes, 0, cut, bytes.length)).toBe(zlibCrc32(bytes.subarray(cut)));
        expect(f(bytes, f(bytes.subarray(0, cut)), cut, end)).toBe(zlibCrc32(bytes.subarray(0, end)));
      }
    }), propParams());
  });

  it('runs on zlib where the Node running it has zlib.crc32 (the recorder pays it per packet), else on the portable loop', () => {
    // This test runs under Node: the dispatch follows what this Node offers, not a fixed answer.
    const hasNative = typeof process.getBuiltinModule === 'function' && typeof (process.getBuiltinModule('node:zlib') as { crc32?: unknown }).crc32 === 'function';
    expect(CRC32_IMPLEMENTATION).toBe(hasNative ? 'zlib' : 'portable');
  });
});

describe('sha256 and the PCM hash', () => {
  it('matches node:crypto at every length around the block boundaries', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 7680]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
      expect(toHex(sha256(bytes))).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('matches node:crypto for any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      expect(toHex(sha256(bytes))).toBe(createHash('sha256').update(bytes).digest('hex'));
    }), propParams({ numRuns: 300 }));
  });

  it('pcmHash is the first 16 bytes of SHA-256 over float32le samples (the engine computes it with node:crypto)', () => {
    fc.assert(fc.property(fc.float32Array({ minLength: 0, maxLength: 64 }), (samples) => {
      const bytes = Buffer.alloc(samples.length * 4);
      samples.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
      const h = pcmHash(samples);
      expect(h).toMatch(PCM_HASH_PATTERN);
      expect(h).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 32));
    }), propParams({ numRuns: 300 }));
    const frame = new Float32Array(1920).map((_, i) => Math.sin(i / 10));
    expect(pcmHash(frame.subarray(0, 1920))).toBe(pcmHash(new Float32Array(frame)));
  });
});
