// Counting an Ogg Opus stream's samples from its packets' TOC bytes gives, message by message,
// what decoding it gives (pre-skip dropped, the EOS granule's trimming), for every frame
// length and frame count the TOC can say: the load-test client counts reply audio this way
// so its loop never decodes.
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../../src/audio/frames.ts';
import { MOSHI_CLIENT_SHAPE, MOSHI_SERVER_SHAPE, OggOpusDecoder, OggOpusEncoder, type OpusStreamShape } from '../../../src/audio/opus/index.ts';
import { OggOpusSampleCounter, opusPacketSamples48k } from '../../../src/audio/opus/counter.ts';
import { loadLibopusNode } from '../../../src/audio/opus/node.ts';

const lib = await loadLibopusNode();

describe('OggOpusSampleCounter', () => {
  for (const [name, shape] of [['Moshi client', MOSHI_CLIENT_SHAPE], ['Moshi server', MOSHI_SERVER_SHAPE], ['10 ms packets, 3 a page', { frameMs: 10, packetsPerPage: 3, application: 'voip' }]] as [string, OpusStreamShape][]) {
    it(`counts what the decoder hands out, page by page and at the end (${name} shape)`, () => {
      const enc = new OggOpusEncoder({ lib, shape, serial: 7 });
      const pages: Uint8Array[] = [];
      // 2.3 frames of input: the end page's granule trims the padding of the last packet.
      for (let f = 0; f < 23; f++) pages.push(...enc.push(Float32Array.from({ length: FRAME_SAMPLES / 10 }, (_, i) => Math.sin((f * 192 + i) / 9) * 0.3)));
      pages.push(...enc.end());
      const dec = new OggOpusDecoder({ lib });
      const counter = new OggOpusSampleCounter();
      let decoded = 0;
      for (const p of pages) {
        dec.push(p);
        const n = dec.read().length;
        decoded += n;
        expect(counter.push(p)).toBe(n);
      }
      expect(decoded).toBe(23 * (FRAME_SAMPLES / 10));
      expect(counter.head?.preSkip).toBe(dec.head?.preSkip);
    });
  }

  it('reads every TOC frame length and count code (RFC 6716 §3.1)', () => {
    expect(opusPacketSamples48k(Uint8Array.of(0 << 3))).toBe(480); // SILK 10 ms
    expect(opusPacketSamples48k(Uint8Array.of((3 << 3) | 1))).toBe(2 * 2880); // SILK 60 ms, two frames
    expect(opusPacketSamples48k(Uint8Array.of((13 << 3) | 2))).toBe(2 * 960); // Hybrid 20 ms, two frames
    expect(opusPacketSamples48k(Uint8Array.of(16 << 3))).toBe(120); // CELT 2.5 ms
    expect(opusPacketSamples48k(Uint8Array.of((31 << 3) | 3, 5))).toBe(5 * 960); // CELT 20 ms, code 3: 5 frames
    expect(() => opusPacketSamples48k(Uint8Array.of((31 << 3) | 3))).toThrow(expect.objectContaining({ code: 'OPUS_ERR_DECODE' }));
  });
});
