// The Ogg demuxer against hostile and broken byte streams: every problem is a typed OggError
// with a stable code and the byte offset, after every packet of the good pages before it;
// torn pages wait for their bytes; memory stays bounded and work linear under tiny chunks.
import { describe, expect, it } from 'vitest';
import {
  OggDemuxer, OggError, OggMuxer, oggCrc32, writeOggPage, OGG_MAX_PAGE_BYTES, type OggErrorCode, type OggPacket,
} from '../../../src/audio/ogg/index.ts';

const enc = new TextEncoder();

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One page per packet, packet i holding `size` bytes of value i. */
function stream(count: number, size = 10, serial = 5): { pages: Uint8Array[]; bytes: Uint8Array; packets: Uint8Array[] } {
  const mux = new OggMuxer({ serial });
  const pages: Uint8Array[] = [];
  const packets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const p = new Uint8Array(size).fill(i & 0xff);
    packets.push(p);
    pages.push(...mux.addPacket(p, (i + 1) * 960));
    if (i < count - 1) pages.push(mux.flush()!);
  }
  pages.push(mux.end());
  return { pages, bytes: concat(pages), packets };
}

/** Pushes the chunks, then end() unless `open`; returns the packets delivered and the error met. */
function run(chunks: readonly Uint8Array[], options: ConstructorParameters<typeof OggDemuxer>[0] = {}, open = false): { packets: OggPacket[]; error: OggError | null; demuxer: OggDemuxer } {
  const demuxer = new OggDemuxer(options);
  const packets: OggPacket[] = [];
  let error: OggError | null = null;
  try {
    for (const c of chunks) {
      demuxer.push(c);
      packets.push(...demuxer.take());
    }
    if (!open) demuxer.end();
    packets.push(...demuxer.take());
  } catch (err) {
    if (!(err instanceof OggError)) throw err;
    error = err;
  }
  return { packets, error, demuxer };
}

function expectCode(error: OggError | null, code: OggErrorCode): OggError {
  expect(error).toBeInstanceOf(OggError);
  expect(error!.code).toBe(code);
  return error!;
}

describe('Ogg CRC', () => {
  it('is the Ogg polynomial (0x04C11DB7, MSB first, init 0, no final xor), not the zlib one', () => {
    // CRC-32/POSIX of "123456789" is 0x765E7680 (same register, final xor 0xFFFFFFFF).
    expect(oggCrc32(enc.encode('123456789'))).toBe((0x765e7680 ^ 0xffffffff) >>> 0);
    expect(oggCrc32(enc.encode('6789'), oggCrc32(enc.encode('12345')))).toBe(oggCrc32(enc.encode('123456789')));
  });
});

describe('OggDemuxer: bad input', () => {
  it('refuses non-Ogg bytes at their first byte (OGG_ERR_CAPTURE)', () => {
    for (const junk of [enc.encode('hello, world'), enc.encode('{"type":"audio"}'), Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0x4f, 0x67, 0x67, 0x00)]) {
      const { error, demuxer } = run([junk], {}, true);
      expectCode(error, 'OGG_ERR_CAPTURE');
      expect(demuxer.stats.bytesBuffered).toBeLessThanOrEqual(3);
    }
    const e = expectCode(run([enc.encode('O'), enc.encode('gx')], {}, true).error, 'OGG_ERR_CAPTURE');
    expect(e.offset).toBe(2);
  });

  it('delivers the packets before garbage, then OGG_ERR_CAPTURE at the garbage offset', () => {
    const s = stream(3);
    const { packets, error } = run([concat([s.bytes, enc.encode('not ogg')])]);
    expect(packets.map((p) => p.data)).toEqual(s.packets);
    expect(expectCode(error, 'OGG_ERR_CAPTURE').offset).toBe(s.bytes.length);
  });

  it('refuses a bad checksum (OGG_ERR_CRC) with the page sequence and offset, after the packets before it', () => {
    const s = stream(4);
    const bad = s.bytes.slice();
    const at = s.pages[0]!.length + s.pages[1]!.length;
    const last = at + s.pages[2]!.length - 1; // last body byte of page 2
    bad[last] = bad[last]! ^ 0x01;
    const { packets, error } = run([bad]);
    expect(packets.map((p) => p.data)).toEqual(s.packets.slice(0, 2));
    const e = expectCode(error, 'OGG_ERR_CRC');
    expect(e.offset).toBe(at);
    expect(e.sequence).toBe(2);
  });

  it('refuses another stream structure version (OGG_ERR_VERSION) and reserved header bits (OGG_ERR_HEADER)', () => {
    const s = stream(1);
    const v = s.bytes.slice();
    v[4] = 1;
    expectCode(run([v]).error, 'OGG_ERR_VERSION');
    const f = s.bytes.slice();
    f[5] = f[5]! | 0x08;
    expectCode(run([f]).error, 'OGG_ERR_HEADER');
  });

  it('waits for a page torn at every byte position, then completes it', () => {
    const s = stream(2, 300);
    for (let cut = 0; cut <= s.bytes.length; cut++) {
      const d = new OggDemuxer();
      d.push(s.bytes.subarray(0, cut));
      const early = d.take();
      // Only packets of pages wholly received so far.
      const whole = cut >= s.pages[0]!.length ? 1 : 0;
      expect(early.length).toBe(cut === s.bytes.length ? 2 : whole);
      d.push(s.bytes.subarray(cut));
      d.end();
      expect([...early, ...d.take()].map((p) => p.data)).toEqual(s.packets);
    }
  });

  it('reports a page that never completes as OGG_ERR_INCOMPLETE on end(), after the packets before it', () => {
    const s = stream(3);
    const cut = s.pages[0]!.length + s.pages[1]!.length + 10;
    const { packets, error } = run([s.bytes.subarray(0, cut)]);
    expect(packets.map((p) => p.data)).toEqual(s.packets.slice(0, 2));
    const e = expectCode(error, 'OGG_ERR_INCOMPLETE');
    expect(e.offset).toBe(s.pages[0]!.length + s.pages[1]!.length);
    // A stream cut inside a packet that spans pages is incomplete too, even on a page boundary.
    const mux = new OggMuxer({ serial: 1 });
    const first = mux.addPacket(new Uint8Array(70_000), 960);
    expect(first.length).toBe(1);
    expectCode(run(first).error, 'OGG_ERR_INCOMPLETE');
  });

  it('refuses a page larger than maxPageBytes from its header, before buffering its body', () => {
    const big = writeOggPage({ bos: true, granulePosition: 0, serial: 1, sequence: 0, lacing: [255, 255, 255, 255, 10], body: new Uint8Array(1030) });
    const { error, demuxer } = run([big.subarray(0, 20), big.subarray(20, 32), big.subarray(32)], { maxPageBytes: 1000 }, true);
    const e = expectCode(error, 'OGG_ERR_PAGE_TOO_LARGE');
    expect(e.found).toBe(big.length);
    expect(demuxer.stats.bytesBuffered).toBeLessThanOrEqual(32);
    expect(() => new OggDemuxer({ maxPageBytes: OGG_MAX_PAGE_BYTES + 1 })).toThrow(OggError);
  });

  it('caps a packet spanning many pages at maxPacketBytes (OGG_ERR_PACKET_TOO_LARGE)', () => {
    const mux = new OggMuxer({ serial: 3 });
    const pages = [...mux.addPacket(new Uint8Array(20), 960), mux.flush()!, ...mux.addPacket(new Uint8Array(200_000), 1920), mux.end()];
    expect(pages.length).toBeGreaterThan(3);
    const { packets, error } = run([concat(pages)], { maxPacketBytes: 100_000 });
    expect(packets.length).toBe(1);
    expectCode(error, 'OGG_ERR_PACKET_TOO_LARGE');
    expect(run([concat(pages)], { maxPacketBytes: 200_000 }).packets.length).toBe(2);
  });

  it('refuses a lost or repeated page (OGG_ERR_SEQUENCE) and names both numbers', () => {
    const s = stream(4);
    const lost = run([concat([s.pages[0]!, s.pages[1]!, s.pages[3]!])]);
    expect(lost.packets.length).toBe(2);
    const e = expectCode(lost.error, 'OGG_ERR_SEQUENCE');
    expect([e.expected, e.found]).toEqual([2, 3]);
    expectCode(run([concat([s.pages[0]!, s.pages[1]!, s.pages[1]!])]).error, 'OGG_ERR_SEQUENCE');
  });

  it('refuses pages of another stream, a stream without BOS, and BOS inside a stream', () => {
    const a = stream(2, 10, 1);
    const b = stream(2, 10, 2);
    expectCode(run([concat([a.pages[0]!, b.pages[1]!])]).error, 'OGG_ERR_SERIAL');
    expectCode(run([a.pages[1]!]).error, 'OGG_ERR_BOS');
    expectCode(run([concat([a.pages[0]!, b.pages[0]!])]).error, 'OGG_ERR_BOS');
  });

  it('reads a chained stream (a new BOS after EOS), numbering its packets afresh', () => {
    const a = stream(2, 10, 1);
    const b = stream(3, 10, 2);
    const { packets, error } = run([concat([a.bytes, b.bytes])]);
    expect(error).toBeNull();
    expect(packets.map((p) => p.index)).toEqual([0, 1, 0, 1, 2]);
    expect(packets.map((p) => p.page.serial)).toEqual([1, 1, 2, 2, 2]);
  });

  it('refuses a continued flag that disagrees with the page before (OGG_ERR_CONTINUATION)', () => {
    const p0 = writeOggPage({ bos: true, granulePosition: 0, serial: 1, sequence: 0, lacing: [4], body: new Uint8Array(4) });
    const p1 = writeOggPage({ continued: true, granulePosition: 960, serial: 1, sequence: 1, lacing: [4], body: new Uint8Array(4) });
    expectCode(run([concat([p0, p1])]).error, 'OGG_ERR_CONTINUATION');
    const open = writeOggPage({ bos: true, granulePosition: -1, serial: 1, sequence: 0, lacing: [255], body: new Uint8Array(255) });
    const fresh = writeOggPage({ granulePosition: 960, serial: 1, sequence: 1, lacing: [4], body: new Uint8Array(4) });
    expectCode(run([concat([open, fresh])]).error, 'OGG_ERR_CONTINUATION');
  });

  it('refuses a granule position lower than an earlier one (OGG_ERR_GRANULE)', () => {
    const p0 = writeOggPage({ bos: true, granulePosition: 1920, serial: 1, sequence: 0, lacing: [4], body: new Uint8Array(4) });
    const p1 = writeOggPage({ granulePosition: 960, serial: 1, sequence: 1, lacing: [4], body: new Uint8Array(4) });
    const { packets, error } = run([concat([p0, p1])]);
    expect(packets.length).toBe(1);
    expectCode(error, 'OGG_ERR_GRANULE');
  });

  it('keeps its error: later bytes are ignored, push() after end() is OGG_ERR_CLOSED', () => {
    const s = stream(2);
    const d = new OggDemuxer();
    d.push(enc.encode('xx'));
    d.push(s.bytes);
    expect(() => d.take()).toThrow(OggError);
    expect(d.error?.code).toBe('OGG_ERR_CAPTURE');
    expect(() => d.next()).toThrow(OggError);
    d.end();
    expect(() => d.push(s.bytes)).toThrow(expect.objectContaining({ code: 'OGG_ERR_CLOSED' }));
  });
});

describe('OggDemuxer: flood of tiny chunks', () => {
  it('copies each byte at most once under 100k one-byte pushes, and not at all when pages arrive whole', () => {
    const s = stream(330, 280); // ~100 kB
    expect(s.bytes.length).toBeGreaterThan(100_000);
    const d = new OggDemuxer();
    const got: OggPacket[] = [];
    for (let i = 0; i < s.bytes.length; i++) {
      d.push(s.bytes.subarray(i, i + 1));
      for (let p = d.next(); p; p = d.next()) got.push(p);
    }
    d.end();
    expect(got.map((p) => p.data)).toEqual(s.packets);
    expect(d.stats.bytesPushed).toBe(s.bytes.length);
    expect(d.stats.bytesBuffered).toBeLessThanOrEqual(d.stats.bytesPushed);

    const whole = new OggDemuxer();
    whole.push(s.bytes);
    whole.end();
    expect(whole.take().length).toBe(330);
    expect(whole.stats.bytesBuffered).toBe(0);
  });
});

describe('OggMuxer', () => {
  it('refuses a granule lower than the previous packet, and writing after end()', () => {
    const mux = new OggMuxer({ serial: 1 });
    mux.addPacket(new Uint8Array(3), 960);
    expect(() => mux.addPacket(new Uint8Array(3), 480)).toThrow(expect.objectContaining({ code: 'OGG_ERR_GRANULE' }));
    mux.end();
    expect(() => mux.addPacket(new Uint8Array(3), 1920)).toThrow(expect.objectContaining({ code: 'OGG_ERR_CLOSED' }));
  });

  it('puts a lone header packet on a BOS page with sequence 0 and a one-entry segment table', () => {
    const mux = new OggMuxer({ serial: 42 });
    mux.addPacket(new Uint8Array(19), 0);
    const page = mux.flush()!;
    expect(page[5]).toBe(0x02);
    expect(new DataView(page.buffer).getUint32(18, true)).toBe(0);
    expect(page[26]).toBe(1);
    expect(page[27]).toBe(19);
  });
});
