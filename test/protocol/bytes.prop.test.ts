// The hand-written short-string UTF-8 paths must agree exactly with the platform codecs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readUtf8, utf8Length, writeUtf8 } from '../../src/protocol/bytes.ts';
import { decodePacket, encodePacket, AUDIO_SAMPLES } from '../../src/protocol/index.ts';
import { propParams } from '../props.ts';

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const platformDecode = (b: Uint8Array): string | null => {
  try { return fatal.decode(b); } catch { return null; }
};

describe('short-string UTF-8', () => {
  it('decodes any bytes exactly as a fatal TextDecoder does (same string or same rejection)', () => {
    // Bias towards lead/continuation bytes so multi-byte edge cases come up often.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0x80, max: 0xbf }), fc.constantFrom(0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff));
    fc.assert(fc.property(fc.array(byte, { maxLength: 64 }).map((a) => Uint8Array.from(a)), (b) => {
      expect(readUtf8(b, 0, b.length)).toBe(platformDecode(b));
    }), propParams());
  });

  it('encodes any well-formed string exactly as TextEncoder does', () => {
    const te = new TextEncoder();
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (s) => {
      const n = utf8Length(s);
      if (!s.isWellFormed()) {
        expect(n).toBe(-1);
        return;
      }
      const out = new Uint8Array(n);
      expect(writeUtf8(s, out, 0)).toBe(n);
      expect(out).toEqual(te.encode(s));
    }), propParams());
  });
});

describe('slab-allocated buffers', () => {
  it('never alias: a later encode or decode leaves earlier results untouched', () => {
    const a = encodePacket({ type: 'TEXT_FINAL', priority: 1, sequence: 1, timestamp: 1, requiresAck: false, text: 'first' });
    const snapshot = Uint8Array.from(a);
    const samples = new Float32Array(AUDIO_SAMPLES).fill(0.5);
    const audio = encodePacket({ type: 'AUDIO_CHUNK', priority: 0, sequence: 2, timestamp: 2, requiresAck: false, samples });
    const decoded: Float32Array[] = [];
    for (let i = 0; i < 200; i++) {
      const p = decodePacket(audio);
      if (p.type === 'AUDIO_CHUNK') decoded.push(p.samples);
      encodePacket({ type: 'TEXT_PARTIAL', priority: 2, sequence: i, timestamp: i, requiresAck: false, text: `t${i}` });
    }
    expect(a).toEqual(snapshot);
    for (const d of decoded) expect(d).toEqual(samples);
  });
});
