// Properties of the Moshi message codec (fast-check): every kind round-trips, the kind
// bytes are the ones Kyutai's client and servers use, and decoding any bytes gives a
// message or a MoshiProtocolError, nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMoshi, encodeMoshi, MOSHI_KINDS, MoshiProtocolError, type MoshiMessage } from '../../../src/protocol/moshi/index.ts';
import { propParams } from '../../props.ts';

const wellFormed = fc.string({ unit: 'grapheme', maxLength: 200 });
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const bytes = fc.uint8Array({ maxLength: 600 });

const messageArb: fc.Arbitrary<Exclude<MoshiMessage, { kind: 'unknown' }>> = fc.oneof(
  bytes.map((payload) => ({ kind: 'handshake' as const, payload })),
  bytes.map((data) => ({ kind: 'audio' as const, data })),
  wellFormed.map((text) => ({ kind: 'text' as const, text })),
  fc.constantFrom('start', 'endTurn', 'pause', 'restart').map((action) => ({ kind: 'control' as const, action: action as 'start' })),
  json.map((j) => ({ kind: 'metadata' as const, json: j })),
  wellFormed.map((text) => ({ kind: 'error' as const, text })),
  fc.constant({ kind: 'ping' as const }),
  fc.tuple(fc.integer({ min: 0, max: 255 }), wellFormed).map(([color, text]) => ({ kind: 'coloredText' as const, color, text })),
);

describe('Moshi messages', () => {
  it('decode(encode(m)) = m for every kind', () => {
    fc.assert(fc.property(messageArb, (m) => {
      const wire = encodeMoshi(m);
      expect(wire[0]).toBe(MOSHI_KINDS[m.kind]);
      const back = decodeMoshi(wire);
      if (m.kind === 'audio') expect(back).toEqual({ kind: 'audio', data: m.data });
      else expect(back).toEqual(m);
    }), propParams());
  });

  it('uses the kind bytes of the upstream protocol', () => {
    expect(encodeMoshi({ kind: 'handshake', payload: new Uint8Array(0) })).toEqual(new Uint8Array([0]));
    expect(encodeMoshi({ kind: 'text', text: ' hi' })).toEqual(new Uint8Array([2, 0x20, 0x68, 0x69]));
    expect(encodeMoshi({ kind: 'ping' })).toEqual(new Uint8Array([6]));
    expect(encodeMoshi({ kind: 'control', action: 'restart' })).toEqual(new Uint8Array([3, 3]));
    expect(encodeMoshi({ kind: 'coloredText', color: 5, text: 'a' })).toEqual(new Uint8Array([7, 5, 0x61]));
    expect(decodeMoshi(new Uint8Array([1, 0x4f, 0x67]))).toMatchObject({ kind: 'audio' });
  });

  it('decodes any bytes to a message or a MoshiProtocolError; kinds outside the table come back as unknown', () => {
    fc.assert(fc.property(bytes, (b) => {
      try {
        const m = decodeMoshi(b);
        if (b[0]! > 7) expect(m).toEqual({ kind: 'unknown', byte: b[0], payload: b.subarray(1) });
      } catch (err) {
        expect(err).toBeInstanceOf(MoshiProtocolError);
      }
    }), propParams());
  });

  it('names what is wrong', () => {
    const code = (b: number[]) => {
      try {
        decodeMoshi(new Uint8Array(b));
        return 'ok';
      } catch (err) {
        return (err as MoshiProtocolError).code;
      }
    };
    expect(code([])).toBe('MOSHI_ERR_EMPTY');
    expect(code([2, 0xff])).toBe('MOSHI_ERR_BAD_TEXT');
    expect(code([4, 0x7b])).toBe('MOSHI_ERR_BAD_JSON');
    expect(code([3, 9])).toBe('MOSHI_ERR_BAD_CONTROL');
    expect(code([3])).toBe('MOSHI_ERR_BAD_CONTROL');
    expect(code([6, 0])).toBe('MOSHI_ERR_BAD_PAYLOAD');
    expect(code([7])).toBe('MOSHI_ERR_BAD_PAYLOAD');
    expect(() => encodeMoshi({ kind: 'text', text: '\uD800' })).toThrow(MoshiProtocolError);
  });
});
