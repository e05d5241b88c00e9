// Properties of the packet codec (fast-check). Runs per property: PROP_RUNS (1,000 in
// `npm test`, 100,000 in `npm run test:props:long`). On failure fast-check prints the
// seed and path; SOLACELIVE_PROP_SEED / SOLACELIVE_PROP_PATH replay it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage, decodeMessageSafe, decodePacket, encodeMessage, encodePacket, ProtocolError, type Packet,
} from '../../src/protocol/index.ts';
import { propParams } from '../props.ts';
import { byTypeArbs, packetArb, smallPacketArb } from './arbitraries.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** METADATA is JSON: values JSON cannot spell (-0) arrive as JSON spells them (0). */
function asJsonWouldSendIt(p: Packet): Packet {
  return p.type === 'METADATA' ? { ...p, data: JSON.parse(JSON.stringify(p.data)) } : p;
}

/** Runs fn and returns 'ok' or the ProtocolError code; anything else thrown fails the property. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw new Error(`threw a non-ProtocolError: ${String(err)}`);
    return err.code;
  }
}

describe('round trip', () => {
  for (const [name, arb] of Object.entries(byTypeArbs)) {
    it(`decode(encode(p)) gives back p for any ${name} packet`, () => {
      fc.assert(fc.property(arb, (p) => {
        expect(decodePacket(encodePacket(p))).toEqual(asJsonWouldSendIt(p));
      }), propParams());
    });
  }

  it('a message of several packets splits back into the same packets, in order', () => {
    fc.assert(fc.property(fc.array(packetArb, { minLength: 1, maxLength: 6 }), (ps) => {
      const bytes = encodeMessage(ps);
      expect(bytes).toEqual(concat(ps.map(encodePacket)));
      expect(decodeMessage(bytes)).toEqual(ps.map(asJsonWouldSendIt));
    }), propParams({ numRuns: Math.max(100, Math.floor(propParams().numRuns! / 4)) }));
  });
});

describe('truncation', () => {
  it('every proper prefix of a single packet is rejected as truncated', () => {
    fc.assert(fc.property(packetArb, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (p, frac) => {
      const bytes = encodePacket(p);
      const n = Math.floor(frac * bytes.length);
      expect(outcome(() => decodePacket(bytes.subarray(0, n)))).toBe(n === 0 ? 'PKT_ERR_EMPTY' : 'PKT_ERR_TRUNCATED');
    }), propParams());
  });

  it('a cut message keeps exactly its whole packets: valid at a packet boundary, else truncated', () => {
    fc.assert(fc.property(fc.array(smallPacketArb, { minLength: 1, maxLength: 5 }), fc.nat(), (ps, seed) => {
      const parts = ps.map(encodePacket);
      const bytes = concat(parts);
      const cut = seed % bytes.length;
      const boundaries = parts.reduce<number[]>((acc, p) => [...acc, acc[acc.length - 1]! + p.length], [0]);
      const whole = boundaries.filter((b) => b > 0 && b <= cut).length;
      const { packets, error } = decodeMessageSafe(bytes.subarray(0, cut));
      expect(packets).toEqual(ps.slice(0, whole).map(asJsonWouldSendIt));
      if (boundaries.includes(cut) && cut > 0) expect(error).toBeNull();
      else expect(error?.code).toBe(cut === 0 ? 'PKT_ERR_EMPTY' : 'PKT_ERR_TRUNCATED');
    }), propParams());
  });
});

describe('hostile input', () => {
  // The bytes sit in the middle of a larger buffer between two different random fills: if
  // the decoder read outside its view, the two decodes could differ or it could throw.
  function decodeInside(bytes: Uint8Array, fill: number) {
    const buf = new Uint8Array(bytes.length + 64).fill(fill);
    buf.set(bytes, 32);
    return decodeMessageSafe(buf.subarray(32, 32 + bytes.length));
  }

  it('random bytes never throw, only report a ProtocolError, and never read outside the view', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (bytes, f1, f2) => {
      const r1 = decodeInside(bytes, f1);
      const r2 = decodeInside(bytes, f2);
      if (r1.error) expect(r1.error).toBeInstanceOf(ProtocolError);
      expect(r1.packets).toEqual(r2.packets);
      expect(r1.error?.code).toEqual(r2.error?.code);
      outcome(() => decodePacket(bytes));
    }), propParams());
  });

  it('random bytes behind a valid header never throw anything but ProtocolError', () => {
    // Pure noise rarely gets past the type byte; start from a plausible header instead.
    const headerish = fc.tuple(fc.constantFrom(0x01, 0x02, 0x10, 0x20, 0x21, 0x30), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 300 }))
      .map(([t, h, rest]) => Uint8Array.from([t, ...h, ...rest]));
    fc.assert(fc.property(headerish, (bytes) => {
      outcome(() => decodePacket(bytes));
      const r = decodeMessageSafe(bytes);
      if (r.error) expect(r.error).toBeInstanceOf(ProtocolError);
    }), propParams());
  });

  it('a single-byte mutation of a valid packet is rejected with a ProtocolError or decodes to a packet that re-encodes to the same bytes', () => {
    fc.assert(fc.property(packetArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (p, at, value) => {
      const bytes = encodePacket(p).slice();
      const i = at % bytes.length;
      bytes[i] = value;
      let decoded: Packet | undefined;
      const result = outcome(() => { decoded = decodePacket(bytes); });
      const again = decodeInside(bytes, 0xff);
      expect(again.error?.code ?? 'ok').toBe(result === 'PKT_ERR_LENGTH_MISMATCH' ? again.error?.code ?? 'ok' : result);
      // JSON has many spellings of one value, so METADATA is only checked to decode.
      if (decoded && decoded.type !== 'METADATA') expect(encodePacket(decoded)).toEqual(bytes);
    }), propParams());
  });
});
