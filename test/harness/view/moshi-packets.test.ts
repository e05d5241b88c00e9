// The packet table's rows for a Moshi-protocol session (harness/view/packets.ts →
// moshi-packets.ts): every message's kind, the Ogg pages completed in each audio message
// (also when pages are split across messages at any byte), and the input frames each client
// message completes — checked against the real thing: pages made by our Ogg Opus encoder on
// real libopus, frames counted by the server's framing rule (OpusInputFrames, either framing a
// session may have recorded) fed the same messages, as the server's Moshi wire does.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeWav, INPUT_FRAMING, INPUT_FRAMINGS, loadLibopusNode, MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusEncoder, OpusInputFrames, readOggPageHeader,
  type InputFraming, type Libopus,
} from '../../../src/audio/index.ts';
import { encodeMoshi, MOSHI_KINDS } from '../../../src/protocol/moshi/index.ts';
import { packetRowReader, describeRow, type PacketRow } from '../../../harness/view/packets.ts';
import { opusPacketSamples } from '../../../harness/view/moshi-packets.ts';

const FIXTURE = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;
const audio = (data: Uint8Array) => encodeMoshi({ kind: 'audio', data });

let lib: Libopus;
let speech: Float32Array;
beforeAll(async () => {
  lib = await loadLibopusNode();
  speech = decodeWav(readFileSync(FIXTURE)).channels[0]!;
});

/** A client's stream as Kyutai's web client sends it: each page its own message. */
function clientPages(pcm: Float32Array): Uint8Array[] {
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 0x1234 });
  return [...enc.push(pcm), ...enc.end()];
}

/** Frames the server takes from each message (src/server/moshi-wire.ts's input path, on the real decoder). */
function serverFrames(payloads: readonly Uint8Array[], framing: InputFraming): number[] {
  let eos = false;
  const input = new OpusInputFrames({ lib, framing, onPage: (p) => { if (p.eos) eos = true; } });
  let ended = false;
  const out = payloads.map((b) => {
    if (ended) return 0;
    input.push(b);
    let n = input.read().length;
    if (eos) {
      ended = true;
      if (input.flush()) n++;
    }
    return n;
  });
  input.close();
  return out;
}

function rowsOf(messages: readonly { dir: 0 | 1; bytes: Uint8Array }[], framing?: InputFraming): PacketRow[] {
  const row = packetRowReader('moshi', framing);
  return messages.map((m, i) => row(i, m.dir, i * 40, m.bytes));
}

function headerOf(page: Uint8Array) {
  return readOggPageHeader(page, 0, page.length, 0);
}

describe('Moshi packet rows', () => {
  it('lists each client page with its sequence, granule, size, packets and BOS/EOS, and the frames the server takes from each message', () => {
    // 1.3 s: not a whole number of 80 ms frames, so the EOS page pads a last partial frame.
    const pages = clientPages(speech.subarray(0, 31_200));
    const rows = rowsOf(pages.map((p) => ({ dir: 0, bytes: audio(p) })));
    expect(rows.map((r) => r.error)).toEqual(rows.map(() => null));
    rows.forEach((r, i) => {
      const h = headerOf(pages[i]!);
      expect(r.packets.map((p) => p.type)).toEqual(['audio']);
      expect(r.pages).toHaveLength(1);
      expect(r.pages[0]).toMatchObject({ sequence: i, granule: h.granulePosition, size: pages[i]!.length, packets: h.packetsEnded, bos: i === 0, eos: i === pages.length - 1, carried: 0 });
      expect(r.pendingBytes).toBe(0);
    });
    expect(rows[0]!.pages[0]!.content).toBe('OpusHead');
    expect(rows[1]!.pages[0]!.content).toBe('OpusTags');
    expect(rows[2]!.pages[0]!.content).toBe('audio');
    expect(rows[2]!.audioMs).toBe(40); // two 20 ms packets per page
    expect(describeRow(rows[2]!)).toMatch(/^audio · page #2 g=\d+ \d+ B 2 pk$/);
    const preSkip = Math.ceil(new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 }).preSkip / 2);
    for (const framing of INPUT_FRAMINGS) {
      const frames = serverFrames(pages, framing);
      // The encoder framing hands the pre-skip out as silence ahead of the audio.
      expect(frames.reduce((a, b) => a + b, 0), framing).toBe(Math.ceil((31_200 + (framing === 'encoder' ? preSkip : 0)) / 1920));
      expect(rowsOf(pages.map((p) => ({ dir: 0, bytes: audio(p) })), framing).map((r) => r.frames), framing).toEqual(frames);
    }
    expect(rows.map((r) => r.frames)).toEqual(serverFrames(pages, INPUT_FRAMING));
  });

  it('a page split across messages at any byte is listed once, where its last byte arrives, with the bytes that came earlier', () => {
    const pages = clientPages(speech.subarray(0, 12_000));
    const stream = Uint8Array.from(pages.flatMap((p) => [...p]));
    const ends: number[] = [];
    pages.reduce((at, p) => (ends.push(at + p.length), at + p.length), 0);
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), stream.length];
      const payloads = bounds.slice(1).map((end, i) => stream.subarray(bounds[i]!, end));
      const rows = rowsOf(payloads.map((p) => ({ dir: 0, bytes: audio(p) })));
      const listed = rows.flatMap((r, m) => r.pages.map((p) => ({ ...p, message: m })));
      expect(listed.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
      listed.forEach((p, i) => {
        const start = ends[i]! - pages[i]!.length;
        const m = bounds.findIndex((b, k) => k > 0 && ends[i]! <= b) - 1;
        expect(p.message, `page ${i}`).toBe(m);
        expect(p.carried, `page ${i}`).toBe(Math.max(0, bounds[m]! - start));
        expect(p.size).toBe(pages[i]!.length);
      });
      // What a message leaves for a later page, and the frames: as the server counts them.
      rows.forEach((r, m) => {
        const lastEnd = Math.max(0, ...ends.filter((e) => e <= bounds[m + 1]!));
        expect(r.pendingBytes, `message ${m}`).toBe(bounds[m + 1]! - lastEnd);
      });
      for (const framing of INPUT_FRAMINGS) {
        expect(rowsOf(payloads.map((p) => ({ dir: 0, bytes: audio(p) })), framing).map((r) => r.frames), framing).toEqual(serverFrames(payloads, framing));
      }
    }), { numRuns: 30 });
  });

  it('server audio: the OpusHead/OpusTags message is no step; each later audio message is one step reply', () => {
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 42 });
    const head = enc.start();
    const steps = [0, 1, 2].map((k) => enc.push(speech.subarray(k * 1920, (k + 1) * 1920)));
    const msgs = [Uint8Array.from(head.flatMap((p) => [...p])), ...steps.map((ps) => Uint8Array.from(ps.flatMap((p) => [...p])))];
    const rows = rowsOf([...msgs.map((m) => ({ dir: 1 as const, bytes: audio(m) })), { dir: 1, bytes: encodeMoshi({ kind: 'text', text: ' hello' }) }]);
    expect(rows[0]!.pages.map((p) => p.content)).toEqual(['OpusHead', 'OpusTags']);
    expect(rows[0]!.packets[0]!.note).toBe('Opus headers');
    expect(rows.map((r) => r.frames)).toEqual([0, 1, 1, 1, 0]);
    expect(rows.slice(1, 4).map((r) => r.audioMs)).toEqual(steps.map((ps) => ps.length * 40)); // 40 ms packets, one per page
    expect(rows[4]!.texts).toBe(1);
    expect(rows[4]!.packets[0]).toMatchObject({ type: 'text', note: '" hello"', seq: null });
  });

  it('names every kind; a broken Ogg stream is reported at its message and the rest of that direction is not read', () => {
    const pages = clientPages(speech.subarray(0, 9600));
    const torn = pages[3]!.slice();
    torn[torn.length - 1]! ^= 0xff; // CRC mismatch
    const rows = rowsOf([
      { dir: 1, bytes: encodeMoshi({ kind: 'metadata', json: { instance_name: 'x' } }) },
      { dir: 1, bytes: encodeMoshi({ kind: 'handshake', payload: new Uint8Array(0) }) },
      { dir: 0, bytes: audio(pages[0]!) }, { dir: 0, bytes: audio(pages[1]!) }, { dir: 0, bytes: audio(pages[2]!) },
      { dir: 0, bytes: audio(torn) }, { dir: 0, bytes: audio(pages[4]!) },
      { dir: 1, bytes: encodeMoshi({ kind: 'error', text: 'OGG_ERR_CRC: bad' }) },
      { dir: 1, bytes: encodeMoshi({ kind: 'ping' }) },
      { dir: 0, bytes: encodeMoshi({ kind: 'control', action: 'pause' }) },
      { dir: 1, bytes: encodeMoshi({ kind: 'coloredText', color: 3, text: 'hi' }) },
      { dir: 0, bytes: Uint8Array.of(0x30, 1, 2) },
      { dir: 0, bytes: new Uint8Array(0) },
      { dir: 1, bytes: Uint8Array.of(MOSHI_KINDS.metadata, 0x7b) },
    ]);
    expect(rows.map((r) => r.packets[0]?.type ?? null)).toEqual(['metadata', 'handshake', 'audio', 'audio', 'audio', 'audio', 'audio', 'error', 'ping', 'control', 'coloredText', 'unknown', null, null]);
    expect(rows[0]!.packets[0]!.note).toBe('{"instance_name":"x"}');
    expect(rows[5]!.error).toMatch(/^OGG_ERR_CRC: /);
    expect(rows[5]!.pages).toEqual([]);
    expect(rows[6]!.error).toBeNull();
    expect(rows[6]!.packets[0]!.note).toMatch(/broke at message 5/);
    expect(rows[10]!.texts).toBe(1);
    expect(rows[11]!.packets[0]!.note).toMatch(/0x30/);
    expect(rows[12]!.error).toMatch(/^MOSHI_ERR_EMPTY: /);
    expect(rows[13]!.error).toMatch(/^MOSHI_ERR_BAD_JSON: /);
  });

  it('reads Opus packet durations from the TOC byte as libopus decodes them', () => {
    const enc = lib.createEncoder({ sampleRate: 24000, application: 'audio' });
    const dec = lib.createDecoder({ sampleRate: 24000 });
    for (const n of [120, 240, 480, 960, 1440]) {
      const packet = enc.encode(speech.subarray(0, n));
      expect(opusPacketSamples(packet), `${n}-sample frame`).toBe(dec.decode(packet).length);
    }
    enc.free();
    dec.free();
    expect(opusPacketSamples(new Uint8Array(0))).toBeNull();
    expect(opusPacketSamples(Uint8Array.of(0x03))).toBeNull(); // code 3 without its frame count
    expect(opusPacketSamples(Uint8Array.of(0xfb, 0x07))).toBeNull(); // 7 × 20 ms > 120 ms
  });
});
