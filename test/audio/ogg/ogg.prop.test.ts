// Properties of our Ogg muxer and demuxer (fast-check, PROP_RUNS each): any packets (empty to
// several pages long) come back unchanged under any split of the byte stream; page sequence
// numbers are consecutive and granule positions never decrease; a change to any single byte
// of any page is refused with a typed error after every packet of the pages before it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OggDemuxer, OggError, OggMuxer, OGG_NO_GRANULE, type OggPacket, type OggPageHeader } from '../../../src/audio/ogg/index.ts';
import { propParams } from '../../props.ts';

/** Mostly small packets, sometimes long ones spanning pages (a page body holds 65025 bytes). */
const packetSpec = fc.record({
  length: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 800 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 140_000 }) }),
  seed: fc.integer({ min: 0, max: 255 }),
  granuleStep: fc.integer({ min: 0, max: 2000 }),
  flushAfter: fc.boolean(),
});

function makePacket(length: number, seed: number): Uint8Array {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (seed + i * 31 + (i >> 8)) & 0xff;
  return p;
}

interface Written {
  readonly bytes: Uint8Array;
  readonly pages: Uint8Array[];
  readonly packets: Uint8Array[];
  readonly granules: number[];
}

function write(specs: readonly { length: number; seed: number; granuleStep: number; flushAfter: boolean }[], serial: number): Written {
  const mux = new OggMuxer({ serial });
  const pages: Uint8Array[] = [];
  const packets: Uint8Array[] = [];
  const granules: number[] = [];
  let granule = 0;
  for (const s of specs) {
    const p = makePacket(s.length, s.seed);
    granule += s.granuleStep;
    packets.push(p);
    granules.push(granule);
    pages.push(...mux.addPacket(p, granule));
    if (s.flushAfter) {
      const page = mux.flush();
      if (page) pages.push(page);
    }
  }
  pages.push(mux.end());
  const bytes = new Uint8Array(pages.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pages) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, pages, packets, granules };
}

/** Cuts `bytes` at the given fractions of its length (any split, including empty chunks). */
function split(bytes: Uint8Array, fractions: readonly number[]): Uint8Array[] {
  const cuts = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    chunks.push(bytes.subarray(prev, c));
    prev = c;
  }
  return chunks;
}

function demuxAll(chunks: readonly Uint8Array[], pages: OggPageHeader[] = []): { packets: OggPacket[]; error: unknown } {
  const d = new OggDemuxer({ onPage: (p) => pages.push(p) });
  const packets: OggPacket[] = [];
  let error: unknown = null;
  try {
    for (const c of chunks) {
      d.push(c);
      for (let p = d.next(); p; p = d.next()) packets.push(p);
    }
    d.end();
    for (let p = d.next(); p; p = d.next()) packets.push(p);
  } catch (err) {
    error = err;
  }
  return { packets, error };
}

describe('Ogg muxer and demuxer', () => {
  it('demux(mux(packets)) gives the packets back under any split of the byte stream', () => {
    fc.assert(fc.property(
      fc.array(packetSpec, { minLength: 0, maxLength: 12 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (specs, fractions, serial) => {
        const w = write(specs, serial);
        const pages: OggPageHeader[] = [];
        const { packets, error } = demuxAll(split(w.bytes, fractions), pages);
        expect(error).toBeNull();
        expect(packets.map((p) => p.data)).toEqual(w.packets);
        expect(packets.map((p) => p.index)).toEqual(w.packets.map((_, i) => i));
        // Sequence numbers consecutive from 0; BOS first only, EOS last only; one serial.
        expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
        expect(pages.map((p) => p.bos)).toEqual(pages.map((_, i) => i === 0));
        expect(pages.map((p) => p.eos)).toEqual(pages.map((_, i) => i === pages.length - 1));
        expect(new Set(pages.map((p) => p.serial))).toEqual(new Set([serial]));
        // Granules never decrease, and a page's granule is its last ending packet's.
        const g = pages.map((p) => p.granulePosition).filter((x) => x !== OGG_NO_GRANULE);
        expect(g).toEqual([...g].sort((a, b) => a - b));
        packets.forEach((p, i) => { if (p.lastOnPage) expect(p.page.granulePosition).toBe(w.granules[i]); });
        expect(pages.length).toBe(w.pages.length);
      },
    ), propParams());
  });

  it('refuses a change to any single byte of any page with a typed error, after every packet of the pages before it', () => {
    fc.assert(fc.property(
      fc.array(packetSpec, { minLength: 1, maxLength: 8 }),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      fc.integer({ min: 1, max: 255 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
      (specs, pageAt, byteAt, xor, fractions) => {
        const w = write(specs, 7);
        const pageIndex = Math.floor(pageAt * w.pages.length);
        const start = w.pages.slice(0, pageIndex).reduce((n, p) => n + p.length, 0);
        const at = start + Math.floor(byteAt * w.pages[pageIndex]!.length);
        const bad = w.bytes.slice();
        bad[at] = bad[at]! ^ xor;
        // Packets that end on the pages before the damaged one (opening them needs only those pages).
        const before = demuxAll([w.bytes.subarray(0, start)]).packets.length;
        const { packets, error } = demuxAll(split(bad, fractions));
        expect(error).toBeInstanceOf(OggError);
        expect(packets.length).toBeGreaterThanOrEqual(before);
        // Nothing from the damaged page (or after it) gets through.
        expect(packets.length).toBeLessThanOrEqual(before);
        expect(packets.map((p) => p.data)).toEqual(w.packets.slice(0, before));
      },
    ), propParams());
  });
});
