// The Ogg Opus encoder and decoder on the pinned libopus build: the two stream shapes the
// Moshi protocol uses, exact lengths through pre-skip and end trimming, determinism (same
// pages → same PCM bytes, also in a fresh process), and typed errors for bad streams.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildOpusHead, buildOpusTags, decodeWav, describeLibopus, libopusWasmPath, loadLibopusNode, MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE,
  OggError, OggMuxer, OggOpusDecoder, OggOpusEncoder, OpusError, OPUSSCRIPT_VERSION, readOggPageHeader, AudioError, type Libopus,
} from '../../../src/audio/index.ts';

const FIXTURE = new URL('../../../fixtures/audio/hello.wav', import.meta.url).pathname;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

function pagesOf(bytes: Uint8Array): ReturnType<typeof readOggPageHeader>[] {
  const out = [];
  for (let at = 0; at < bytes.length;) {
    const segs = bytes[at + 26]!;
    let len = 27 + segs;
    for (let i = 0; i < segs; i++) len += bytes[at + 27 + i]!;
    out.push(readOggPageHeader(bytes, at, len, at));
    at += len;
  }
  return out;
}

function decodeAll(lib: Libopus, bytes: Uint8Array): Float32Array {
  const d = new OggOpusDecoder({ lib });
  d.push(bytes);
  d.end();
  const pcm = d.read();
  d.close();
  return pcm;
}

function pcmHash(pcm: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex');
}

/** A stream with OpusHead and OpusTags, then the given raw packets, one page each. */
function streamOf(packets: readonly Uint8Array[], headPatch?: (b: Uint8Array) => void): Uint8Array {
  const mux = new OggMuxer({ serial: 9 });
  const head = buildOpusHead({ preSkip: 0, inputSampleRate: 24000 });
  headPatch?.(head);
  const pages = [...mux.addPacket(head, 0), mux.flush()!, ...mux.addPacket(buildOpusTags({ vendor: 't', comments: [] }), 0), mux.flush()!];
  packets.forEach((p, i) => pages.push(...mux.addPacket(p, (i + 1) * 960), mux.flush()!));
  pages.push(mux.end());
  return concat(pages);
}

describe('Ogg Opus encoder and decoder', () => {
  let lib: Libopus;
  let speech: Float32Array;
  beforeAll(async () => {
    lib = await loadLibopusNode();
    speech = decodeWav(readFileSync(FIXTURE)).channels[0]!;
  });

  it('names its build for the fingerprint: the installed opusscript version and the digest of the .wasm it loaded', () => {
    const pkg = createRequire(import.meta.url)('opusscript/package.json') as { version: string; description: string };
    expect(lib.identity.version).toBe(pkg.version);
    expect(OPUSSCRIPT_VERSION).toBe(pkg.version);
    expect(pkg.description).toContain(`libopus ${lib.identity.libopus}`);
    const wasm = readFileSync(libopusWasmPath());
    expect(lib.identity.wasmDigest).toBe(`sha256:${createHash('sha256').update(wasm).digest('hex')}`);
    expect(lib.identity.wasmBytes).toBe(wasm.length);
    expect(describeLibopus(lib.identity)).toBe(`opusscript ${pkg.version} (libopus ${lib.identity.libopus}, ${lib.identity.wasmDigest})`);
  });

  it('client shape: OpusHead alone on BOS page 0 (channel count at byte 37), OpusTags on page 1, then 2 × 20 ms packets per page, granules at 48 kHz', () => {
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 77 });
    const pages = enc.push(speech.subarray(0, 4800)); // 200 ms
    expect(pages.length).toBe(2 + 5);
    const [p0, p1] = pages;
    expect(p0![5]).toBe(0x02);
    expect(p0![26]).toBe(1);
    expect(p0![37]).toBe(1); // where Kyutai's decoderWorker reads numberOfChannels
    expect(new TextDecoder().decode(p0!.subarray(28, 36))).toBe('OpusHead');
    const h = pagesOf(concat(pages));
    expect(h.map((p) => p.sequence)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new TextDecoder().decode(p1!.subarray(27 + p1![26]!, 27 + p1![26]! + 8))).toBe('OpusTags');
    expect(h.slice(2).map((p) => p.packetsEnded)).toEqual([2, 2, 2, 2, 2]);
    expect(h.slice(2).map((p) => p.granulePosition)).toEqual([1920, 3840, 5760, 7680, 9600]);
  });

  it('server shape: each 80 ms Mimi frame gives two pages of one 40 ms packet', () => {
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_SERVER_SHAPE, serial: 42 });
    expect(enc.start().length).toBe(2);
    const frame = enc.push(speech.subarray(0, 1920));
    expect(frame.length).toBe(2);
    expect(pagesOf(concat(frame)).map((p) => [p.sequence, p.packetsEnded, p.granulePosition])).toEqual([[2, 1, 1920], [3, 1, 3840]]);
  });

  it('decodes what it encodes to exactly the input length, under any chunking', () => {
    for (const shape of [MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE]) {
      for (const n of [0, 1, 479, 1920, 12_345]) {
        const enc = new OggOpusEncoder({ lib, shape, serial: 1 });
        const bytes = concat([...enc.push(speech.subarray(0, n)), ...enc.end()]);
        expect(decodeAll(lib, bytes).length).toBe(n);
        const d = new OggOpusDecoder({ lib });
        let got = 0;
        for (let i = 0; i < bytes.length; i += 13) {
          d.push(bytes.subarray(i, i + 13));
          got += d.read().length;
        }
        d.end();
        expect(got + d.read().length).toBe(n);
      }
    }
  });

  it('is deterministic: the same pages decode to the same PCM bytes, in another instance and in a fresh process', async () => {
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 3 });
    const bytes = concat([...enc.push(speech), ...enc.end()]);
    const a = pcmHash(decodeAll(lib, bytes));
    expect(pcmHash(decodeAll(lib, bytes))).toBe(a);
    expect(pcmHash(decodeAll(await loadLibopusNode(), bytes))).toBe(a);
    // Encoding is deterministic too: a fresh encoder writes the same bytes.
    const again = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 3 });
    expect(concat([...again.push(speech), ...again.end()])).toEqual(bytes);
    const script = `
      import { loadLibopusNode, OggOpusDecoder } from ${JSON.stringify(new URL('../../../src/audio/index.ts', import.meta.url).href)};
      import { createHash } from 'node:crypto';
      const chunks = []; for await (const c of process.stdin) chunks.push(c);
      const d = new OggOpusDecoder({ lib: await loadLibopusNode() });
      d.push(new Uint8Array(Buffer.concat(chunks))); d.end();
      const pcm = d.read();
      process.stdout.write(createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex'));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { input: bytes, encoding: 'utf8' });
    expect(out).toBe(a);
  });

  it('refuses audio before OpusHead (OPUS_ERR_NO_HEAD) and a bad OpusHead by its field', () => {
    const audio = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
    const first = pagesOf(concat(audio.push(speech.subarray(0, 960))));
    expect(first.length).toBe(3);
    const mux = new OggMuxer({ serial: 2 });
    const raw = lib.createEncoder({ sampleRate: 24000, application: 'audio' });
    const noHead = concat([...mux.addPacket(raw.encode(speech.subarray(0, 480)), 960), mux.end()]);
    raw.free();
    expect(() => decodeAll(lib, noHead)).toThrow(expect.objectContaining({ code: 'OPUS_ERR_NO_HEAD', packet: 0 }));
    expect(() => decodeAll(lib, streamOf([], (h) => { h[8] = 16; }))).toThrow(expect.objectContaining({ code: 'OPUS_ERR_HEAD_VERSION' }));
    expect(() => decodeAll(lib, streamOf([], (h) => { h[9] = 0; }))).toThrow(expect.objectContaining({ code: 'OPUS_ERR_CHANNELS' }));
    expect(() => decodeAll(lib, streamOf([], (h) => { new DataView(h.buffer).setUint32(12, 999, true); }))).toThrow(expect.objectContaining({ code: 'OPUS_ERR_RATE' }));
  });

  it('refuses an undecodable packet (OPUS_ERR_DECODE, with libopus code) after handing out the audio before it', () => {
    const raw = lib.createEncoder({ sampleRate: 24000, application: 'audio' });
    const good = [0, 1, 2].map((i) => raw.encode(speech.subarray(i * 480, (i + 1) * 480)));
    raw.free();
    // TOC code 3 (arbitrary frame count) with a frame count of 0 is invalid (RFC 6716 §3.2.5).
    for (const bad of [Uint8Array.of(0x03, 0x00), new Uint8Array(0)]) {
      const d = new OggOpusDecoder({ lib });
      d.push(streamOf([...good, bad, good[0]!]));
      d.end();
      expect(d.read().length).toBe(3 * 480);
      let err: unknown;
      try {
        d.read();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpusError);
      expect(err).toMatchObject({ code: 'OPUS_ERR_DECODE', packet: 5, libopusCode: -4 });
      expect(() => d.read()).toThrow(OpusError); // sticky
    }
  });

  it('passes container errors through as OggError (non-Ogg bytes, a torn last page)', () => {
    expect(() => decodeAll(lib, new TextEncoder().encode('{"text":"hi"}'))).toThrow(expect.objectContaining({ code: 'OGG_ERR_CAPTURE' }));
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
    const bytes = concat([...enc.push(speech.subarray(0, 4800)), ...enc.end()]);
    const d = new OggOpusDecoder({ lib });
    d.push(bytes.subarray(0, bytes.length - 5));
    d.end();
    expect(d.read().length).toBeGreaterThan(0);
    expect(() => d.read()).toThrow(OggError);
  });

  it('encoder refuses non-finite samples and frame sizes libopus does not take', () => {
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 1 });
    expect(() => enc.push(Float32Array.of(0, Number.NaN, ...new Float32Array(478)))).toThrow(AudioError);
    const raw = lib.createEncoder({ sampleRate: 24000, application: 'voip' });
    expect(() => raw.encode(new Float32Array(500))).toThrow(expect.objectContaining({ code: 'OPUS_ERR_BAD_ARGUMENT' }));
    raw.free();
    expect(() => raw.encode(new Float32Array(480))).toThrow(expect.objectContaining({ code: 'OPUS_ERR_BAD_ARGUMENT' }));
  });

  it('survives random bytes as packets: each decodes or is refused with OPUS_ERR_DECODE, and the instance stays usable', () => {
    const dec = lib.createDecoder({ sampleRate: 24000 });
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
    for (let i = 0; i < 3000; i++) {
      // Now and then longer than the decoder's first input buffer (4096 bytes), so it grows.
      const length = i % 100 === 0 ? 4097 + (rnd() % 8000) : 1 + (rnd() % 400);
      const p = Uint8Array.from({ length }, () => rnd() & 0xff);
      try {
        dec.decode(p);
      } catch (err) {
        expect(err).toMatchObject({ code: 'OPUS_ERR_DECODE' });
      }
    }
    const enc = lib.createEncoder({ sampleRate: 24000, application: 'audio' });
    expect(dec.decode(enc.encode(speech.subarray(0, 480))).length).toBe(480);
    enc.free();
    dec.free();
  });
});
