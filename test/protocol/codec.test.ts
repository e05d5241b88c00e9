// Example-based cases: exact wire bytes, and one input per error code.
import { describe, expect, it } from 'vitest';
import {
  AUDIO_PAYLOAD_BYTES, AUDIO_SAMPLES, decodeMessage, decodeMessageSafe, decodePacket, encodeMessage, encodePacket,
  HEADER_BYTES, PACKET_TYPES, ProtocolError, type Packet, type ProtocolErrorCode,
} from '../../src/protocol/index.ts';

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function codeOf(fn: () => unknown): ProtocolErrorCode | 'no error' {
  try {
    fn();
    return 'no error';
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).code;
  }
}

const base = { priority: 0 as const, sequence: 0, timestamp: 0, requiresAck: false };

describe('wire layout', () => {
  it('writes the 17-byte little-endian header of design.md', () => {
    const bytes = encodePacket({ type: 'TEXT_FINAL', priority: 2, sequence: 0x01020304, timestamp: 1.5, requiresAck: true, text: 'hi' });
    // type 21 | prio 02 | seq 04030201 | f64 1.5 = 000000000000f83f | len 0200 | ack 01 | "hi"
    expect(toHex(bytes)).toBe('21' + '02' + '04030201' + '000000000000f83f' + '0200' + '01' + '6869');
    expect(decodePacket(bytes)).toEqual({ type: 'TEXT_FINAL', priority: 2, sequence: 0x01020304, timestamp: 1.5, requiresAck: true, text: 'hi' });
  });

  it('uses the opcode table for every type byte', () => {
    const cases: [Packet, number][] = [
      [{ type: 'HEARTBEAT', ...base }, 0x01],
      [{ type: 'ACK', ...base, ackSequence: 7 }, 0x02],
      [{ type: 'AUDIO_CHUNK', ...base, samples: new Float32Array(AUDIO_SAMPLES) }, 0x10],
      [{ type: 'TEXT_PARTIAL', ...base, text: '' }, 0x20],
      [{ type: 'TEXT_FINAL', ...base, text: '' }, 0x21],
      [{ type: 'METADATA', ...base, data: {} }, 0x30],
    ];
    for (const [p, byte] of cases) {
      expect(encodePacket(p)[0]).toBe(byte);
      expect(PACKET_TYPES[p.type]).toBe(byte);
    }
  });

  it('carries exactly 1920 float32le samples in an AUDIO_CHUNK, readable at the odd offset 17', () => {
    const samples = Float32Array.from({ length: AUDIO_SAMPLES }, (_, i) => Math.sin(i / 10) * 0.5);
    const bytes = encodePacket({ type: 'AUDIO_CHUNK', ...base, samples });
    expect(bytes.length).toBe(HEADER_BYTES + AUDIO_PAYLOAD_BYTES);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint16(14, true)).toBe(7680);
    expect(view.getFloat32(17 + 4 * 100, true)).toBe(samples[100]);
    // Decoding from a view that starts at an odd offset of a larger buffer.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const p = decodePacket(shifted.subarray(3));
    expect(p.type === 'AUDIO_CHUNK' && p.samples).toEqual(samples);
  });

  it('ACK carries the acknowledged sequence as u32le', () => {
    expect(toHex(encodePacket({ type: 'ACK', ...base, ackSequence: 0xdeadbeef })).slice(-8)).toBe('efbeadde');
  });
});

describe('decoder rejections, one per code', () => {
  const valid = (p: Packet) => encodePacket(p);
  const patch = (bytes: Uint8Array, at: number, value: number) => {
    const b = bytes.slice();
    b[at] = value;
    return b;
  };
  const text = valid({ type: 'TEXT_FINAL', ...base, text: 'abc' });

  it.each<[string, () => unknown, ProtocolErrorCode]>([
    ['empty input', () => decodePacket(new Uint8Array(0)), 'PKT_ERR_EMPTY'],
    ['empty message', () => decodeMessage(new Uint8Array(0)), 'PKT_ERR_EMPTY'],
    ['a short header', () => decodePacket(text.subarray(0, 16)), 'PKT_ERR_TRUNCATED'],
    ['a short payload', () => decodePacket(text.subarray(0, text.length - 1)), 'PKT_ERR_TRUNCATED'],
    ['trailing bytes after one packet', () => decodePacket(Uint8Array.from([...text, 0])), 'PKT_ERR_LENGTH_MISMATCH'],
    ['type 0x00', () => decodePacket(patch(text, 0, 0x00)), 'PKT_ERR_UNKNOWN_TYPE'],
    ['type 0x22', () => decodePacket(patch(text, 0, 0x22)), 'PKT_ERR_UNKNOWN_TYPE'],
    ['priority 4', () => decodePacket(patch(text, 1, 4)), 'PKT_ERR_BAD_PRIORITY'],
    ['ack flag 2', () => decodePacket(patch(text, 16, 2)), 'PKT_ERR_BAD_ACK_FLAG'],
    ['a NaN timestamp', () => decodePacket(hex('21 00 00000000 000000000000f87f 0000 00')), 'PKT_ERR_BAD_TIMESTAMP'],
    ['audio of 7676 bytes', () => decodePacket(Uint8Array.from([...hex('10 00 00000000 0000000000000000 fc1d 00'), ...new Uint8Array(7676)])), 'PKT_ERR_BAD_AUDIO'],
    ['invalid UTF-8 text', () => decodePacket(hex('20 00 00000000 0000000000000000 0200 00 c328')), 'PKT_ERR_BAD_TEXT'],
    ['an overlong UTF-8 encoding', () => decodePacket(hex('20 00 00000000 0000000000000000 0200 00 c0af')), 'PKT_ERR_BAD_TEXT'],
    ['METADATA that is not JSON', () => decodePacket(hex('30 00 00000000 0000000000000000 0100 00 7b')), 'PKT_ERR_BAD_METADATA'],
    ['a 3-byte ACK', () => decodePacket(hex('02 00 00000000 0000000000000000 0300 00 010203')), 'PKT_ERR_BAD_ACK'],
    ['a HEARTBEAT with payload', () => decodePacket(hex('01 00 00000000 0000000000000000 0100 00 00')), 'PKT_ERR_BAD_HEARTBEAT'],
  ])('rejects %s', (_, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it.each([NaN, Infinity, -Infinity])('rejects an audio sample of %s and names its index', (bad) => {
    const samples = new Float32Array(AUDIO_SAMPLES);
    const bytes = encodePacket({ type: 'AUDIO_CHUNK', ...base, samples });
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setFloat32(HEADER_BYTES + 4 * 1234, bad, true);
    expect(() => decodePacket(bytes)).toThrow(/sample 1234/);
    expect(codeOf(() => decodePacket(bytes))).toBe('PKT_ERR_BAD_AUDIO');
  });

  it('maps payload errors to close code 1007 and framing errors to 1002', () => {
    const samples = new Float32Array(AUDIO_SAMPLES);
    const bytes = encodePacket({ type: 'AUDIO_CHUNK', ...base, samples });
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setFloat32(HEADER_BYTES, NaN, true);
    const closeOf = (fn: () => unknown) => {
      try { fn(); } catch (e) { return (e as ProtocolError).closeCode; }
      return 'no error';
    };
    expect(closeOf(() => decodePacket(bytes))).toBe(1007);
    expect(closeOf(() => decodePacket(patch(text, 0, 0x7f)))).toBe(1002);
  });
});

describe('encoder refuses what the decoder would reject', () => {
  it.each<[string, Packet, ProtocolErrorCode]>([
    ['priority 5', { type: 'HEARTBEAT', ...base, priority: 5 as never }, 'PKT_ERR_BAD_FIELD'],
    ['a negative sequence', { type: 'HEARTBEAT', ...base, sequence: -1 }, 'PKT_ERR_BAD_FIELD'],
    ['sequence 2^32', { type: 'HEARTBEAT', ...base, sequence: 2 ** 32 }, 'PKT_ERR_BAD_FIELD'],
    ['an infinite timestamp', { type: 'HEARTBEAT', ...base, timestamp: Infinity }, 'PKT_ERR_BAD_FIELD'],
    ['1919 samples', { type: 'AUDIO_CHUNK', ...base, samples: new Float32Array(1919) }, 'PKT_ERR_BAD_AUDIO'],
    ['a NaN sample', { type: 'AUDIO_CHUNK', ...base, samples: new Float32Array(1920).fill(NaN) }, 'PKT_ERR_BAD_AUDIO'],
    ['a lone surrogate', { type: 'TEXT_PARTIAL', ...base, text: 'a\uD800b' }, 'PKT_ERR_BAD_FIELD'],
    ['text over 65535 bytes', { type: 'TEXT_FINAL', ...base, text: 'é'.repeat(32768) }, 'PKT_ERR_TOO_LARGE'],
    ['undefined metadata', { type: 'METADATA', ...base, data: undefined as never }, 'PKT_ERR_BAD_FIELD'],
    ['a BigInt in metadata', { type: 'METADATA', ...base, data: { n: 1n } as never }, 'PKT_ERR_BAD_FIELD'],
  ])('rejects %s', (_, p, code) => {
    expect(codeOf(() => encodePacket(p))).toBe(code);
  });

  it('accepts the largest payload that fits the u16 length', () => {
    const p: Packet = { type: 'TEXT_FINAL', ...base, text: 'x'.repeat(65535) };
    expect(decodePacket(encodePacket(p))).toEqual(p);
  });
});

describe('multi-packet messages', () => {
  const a: Packet = { type: 'AUDIO_CHUNK', ...base, sequence: 1, samples: new Float32Array(AUDIO_SAMPLES).fill(0.25) };
  const t: Packet = { type: 'TEXT_PARTIAL', ...base, sequence: 2, text: 'hello' };
  const m: Packet = { type: 'METADATA', ...base, sequence: 3, data: { kind: 'ready' } };

  it('keeps every packet before a bad one and says where the bad one starts', () => {
    const bytes = encodeMessage([a, t, m]);
    const cut = bytes.slice();
    const mStart = 2 * HEADER_BYTES + AUDIO_PAYLOAD_BYTES + 5;
    cut[mStart] = 0x99;
    const { packets, error } = decodeMessageSafe(cut);
    expect(packets).toEqual([a, t]);
    expect(error?.code).toBe('PKT_ERR_UNKNOWN_TYPE');
    expect(error?.offset).toBe(mStart);
    expect(error?.index).toBe(2);
    expect(error?.message).toContain(`packet 2 at byte ${mStart}`);
  });

  it('rejects every proper prefix of a single packet, of each type', () => {
    for (const p of [a, t, m, { type: 'HEARTBEAT', ...base } as Packet, { type: 'ACK', ...base, ackSequence: 9 } as Packet]) {
      const bytes = encodePacket(p);
      for (let n = 0; n < bytes.length; n++) {
        const code = codeOf(() => decodePacket(bytes.subarray(0, n)));
        expect(code === 'PKT_ERR_TRUNCATED' || (n === 0 && code === 'PKT_ERR_EMPTY'), `${p.type} prefix ${n}: ${code}`).toBe(true);
      }
    }
  });
});
