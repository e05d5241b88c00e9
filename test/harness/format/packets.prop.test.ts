// packets.bin properties (fast-check, PROP_RUNS each): round trip under any chunking, any
// truncation recovers exactly the whole-record prefix, any single corrupted byte is found at
// its record's offset and salvage recovers every other record.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PacketLogDecoder, PACKETS_HEADER_BYTES, crc32, encodePacketsHeader, isSessionError, readPackets,
} from '../../../harness/format.ts';
import type { LogReadOptions, PacketRecord, ReadPacket, SessionError, SessionRecovery } from '../../../harness/format.ts';
import { propParams } from '../../props.ts';
import { chunk, cutsArb, packetsArb, packetsFile } from './arbitraries.ts';

interface Outcome { records: ReadPacket[]; error: SessionError | null; recoveries: SessionRecovery[] }

function decode(bytes: Uint8Array, cuts: readonly number[] = [], options: LogReadOptions = {}): Outcome {
  const d = new PacketLogDecoder(options);
  const records: ReadPacket[] = [];
  for (const c of chunk(bytes, cuts)) {
    records.push(...d.push(c));
    if (d.error !== null) break;
  }
  records.push(...d.end());
  return { records, error: d.error, recoveries: d.recoveries };
}

const strip = (rs: readonly ReadPacket[]): PacketRecord[] => rs.map(({ direction, timeMs, bytes }) => ({ direction, timeMs, bytes }));

describe('packets.bin round trip', () => {
  it('decodes any sequence of records back, at their offsets, however the file is chunked', () => {
    fc.assert(fc.property(packetsArb, cutsArb, (records, cuts) => {
      const { bytes, offsets } = packetsFile(records);
      const out = decode(bytes, cuts);
      expect(out.error).toBeNull();
      expect(out.recoveries).toEqual([]);
      expect(strip(out.records)).toEqual(records);
      expect(out.records.map((r) => r.offset)).toEqual(offsets.slice(1, -1));
    }), propParams());
  });

  it('streams through readPackets from an async source as well', async () => {
    await fc.assert(fc.asyncProperty(packetsArb, cutsArb, async (records, cuts) => {
      const { bytes } = packetsFile(records);
      async function* source() {
        for (const c of chunk(bytes, cuts)) yield c;
      }
      const got: ReadPacket[] = [];
      for await (const r of readPackets(source())) got.push(r);
      expect(strip(got)).toEqual(records);
    }), propParams({ numRuns: Math.max(50, Math.floor(propParams().numRuns! / 10)) }));
  });
});

describe('packets.bin truncation', () => {
  it('any cut recovers exactly the records that end before it and reports the dropped bytes', () => {
    fc.assert(fc.property(packetsArb, fc.nat(), cutsArb, (records, at, cuts) => {
      const { bytes, offsets } = packetsFile(records);
      const cut = at % (bytes.length + 1);
      const out = decode(bytes.subarray(0, cut), cuts);
      const kept = records.slice(0, Math.max(0, offsets.slice(2).filter((end) => end <= cut).length));
      expect(out.error).toBeNull();
      expect(strip(out.records)).toEqual(kept);
      const boundary = cut >= PACKETS_HEADER_BYTES && offsets.includes(cut);
      if (boundary) {
        expect(out.recoveries).toEqual([]);
      } else {
        const from = cut < PACKETS_HEADER_BYTES ? 0 : Math.max(...offsets.filter((o) => o <= cut));
        expect(out.recoveries).toHaveLength(1);
        expect(out.recoveries[0]).toMatchObject({ code: 'SESSION_ERR_TRUNCATED', file: 'packets.bin', offset: from, length: cut - from });
      }
    }), propParams());
  });

  it('strict mode turns a torn tail into SESSION_ERR_TRUNCATED after the whole records', () => {
    fc.assert(fc.property(packetsArb.filter((r) => r.length > 0), (records) => {
      const { bytes, offsets } = packetsFile(records);
      const cut = bytes.length - 1;
      const out = decode(bytes.subarray(0, cut), [], { strict: true });
      expect(out.error?.code).toBe('SESSION_ERR_TRUNCATED');
      expect(out.error?.offset).toBe(offsets[offsets.length - 2]);
      expect(strip(out.records)).toEqual(records.slice(0, -1));
    }), propParams({ numRuns: 100 }));
  });
});

describe('packets.bin corruption', () => {
  // Position as a fraction of the record area (no chain: generation stays cheap).
  const corruptArb = fc.tuple(packetsArb.filter((r) => r.length > 0), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 255 }), cutsArb);
  const damage = (bytes: Uint8Array, frac: number, xor: number): { bad: Uint8Array; at: number } => {
    const at = PACKETS_HEADER_BYTES + Math.floor(frac * (bytes.length - PACKETS_HEADER_BYTES));
    const bad = bytes.slice();
    bad[at]! ^= xor;
    return { bad, at };
  };

  it('a single corrupted byte stops the read at its record, with that record\'s offset', () => {
    fc.assert(fc.property(corruptArb, ([records, frac, xor, cuts]) => {
      const { bytes, offsets } = packetsFile(records);
      const { bad, at } = damage(bytes, frac, xor);
      const k = offsets.findLastIndex((o) => o <= at) - 1; // record index holding the byte
      const out = decode(bad, cuts);
      expect(out.error?.code).toBe('SESSION_ERR_CORRUPT');
      expect(out.error?.file).toBe('packets.bin');
      expect(out.error?.offset).toBe(offsets[k + 1]);
      expect(strip(out.records)).toEqual(records.slice(0, k));
    }), propParams());
  });

  it('with salvage, every other record is recovered and the skipped span is exactly the bad record', () => {
    fc.assert(fc.property(corruptArb, ([records, frac, xor, cuts]) => {
      const { bytes, offsets } = packetsFile(records);
      const { bad, at } = damage(bytes, frac, xor);
      const k = offsets.findLastIndex((o) => o <= at) - 1;
      const out = decode(bad, cuts, { salvage: true });
      expect(out.error).toBeNull();
      expect(strip(out.records)).toEqual(records.filter((_, i) => i !== k));
      expect(out.recoveries).toEqual([expect.objectContaining({ code: 'SESSION_ERR_CORRUPT', offset: offsets[k + 1], length: offsets[k + 2]! - offsets[k + 1]! })]);
    }), propParams());
  });

  it('salvage also gets past a run of garbage, then a torn tail', () => {
    fc.assert(fc.property(packetsArb.filter((r) => r.length >= 2), fc.uint8Array({ minLength: 1, maxLength: 300 }), (records, garbage) => {
      const { bytes, offsets } = packetsFile(records);
      const mid = offsets[2]!; // after the first record
      const img = new Uint8Array([...bytes.subarray(0, mid), ...garbage, ...bytes.subarray(mid, bytes.length - 1)]);
      const out = decode(img, [], { salvage: true });
      expect(out.error).toBeNull();
      expect(strip(out.records)).toEqual(records.slice(0, -1));
      expect(out.recoveries.map((r) => r.code)).toEqual(['SESSION_ERR_CORRUPT', 'SESSION_ERR_TRUNCATED']);
      expect(out.recoveries[0]).toMatchObject({ offset: mid, length: garbage.length });
    }), propParams({ numRuns: 200 }));
  });
});

describe('packets.bin exhaustive small file', () => {
  const records: PacketRecord[] = [
    { direction: 0, timeMs: 0, bytes: new Uint8Array([]) },
    { direction: 1, timeMs: 80.5, bytes: new Uint8Array([0xa5, 1, 0, 0, 9]) },
    { direction: 0, timeMs: 160, bytes: new Uint8Array(40).fill(0xa5) },
  ];
  const { bytes, offsets } = packetsFile(records);

  it('every cut point and every one-byte chunking', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const out = decode(bytes.subarray(0, cut), Array.from({ length: cut }, (_, i) => i));
      expect(out.records.length).toBe(offsets.slice(2).filter((e) => e <= cut).length);
      expect(out.recoveries.length).toBe(cut >= 16 && offsets.includes(cut) ? 0 : 1);
    }
  });

  it('every byte, every bit: detected at the right record; salvage loses only that record', () => {
    for (let at = PACKETS_HEADER_BYTES; at < bytes.length; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = bytes.slice();
        bad[at]! ^= 1 << bit;
        const k = offsets.findLastIndex((o) => o <= at) - 1;
        expect(decode(bad).error?.offset).toBe(offsets[k + 1]);
        expect(strip(decode(bad, [], { salvage: true }).records)).toEqual(records.filter((_, i) => i !== k));
      }
    }
  });
});

describe('packets.bin file header', () => {
  it('a foreign file is SESSION_ERR_NOT_A_SESSION, even under salvage', () => {
    const out = decode(new TextEncoder().encode('{"hello": "world"}\n'), [], { salvage: true });
    expect(out.error?.code).toBe('SESSION_ERR_NOT_A_SESSION');
  });

  it('another version is SESSION_ERR_VERSION naming found and supported', () => {
    const h = encodePacketsHeader();
    h[8] = 2;
    new DataView(h.buffer).setUint32(12, crc32(h, 0, 0, 12), true);
    const err = decode(h).error;
    expect(isSessionError(err, 'SESSION_ERR_VERSION')).toBe(true);
    expect(err).toMatchObject({ found: 2, supported: [1] });
    expect(err?.message).toMatch(/version 2.*supports version 1/);
  });

  it('a damaged header byte is reported (magic: not a session; otherwise corrupt at 0)', () => {
    for (let at = 0; at < PACKETS_HEADER_BYTES; at++) {
      const h = encodePacketsHeader();
      h[at]! ^= 0x40;
      const err = decode(h).error;
      expect(err?.code).toBe(at < 8 ? 'SESSION_ERR_NOT_A_SESSION' : 'SESSION_ERR_CORRUPT');
    }
  });
});
