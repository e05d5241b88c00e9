// The Moshi input framing rule (src/audio/opus/input-frames.ts) on real libopus: a client's
// pages for N frames (Kyutai's shape) give N whole frames under the encoder framing, each
// page's frames as soon as it arrives; the old 'decoded' rule (pre-skip dropped) gives N−1;
// the encoder framing is the decoded audio behind the pre-skip as silence; a broken stream
// hands out the frames before the break, then its typed error.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadLibopusNode, MOSHI_CLIENT_SHAPE, OggOpusDecoder, OggOpusEncoder, OpusInputFrames, recordedInputFraming, type Libopus,
} from '../../../src/audio/index.ts';

const FRAME = 1920;
let lib: Libopus;
beforeAll(async () => {
  lib = await loadLibopusNode();
});

function tone(n: number): Float32Array[] {
  return Array.from({ length: n }, (_, k) => Float32Array.from({ length: FRAME }, (_, i) => 0.3 * Math.sin((k * FRAME + i) / 7)));
}

function clientPages(n: number): { pages: Uint8Array[]; preSkip24: number } {
  const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 3 });
  const pages = [...enc.start(), ...tone(n).flatMap((f) => enc.push(f))].map((p) => p.slice());
  return { pages, preSkip24: Math.ceil(enc.preSkip / 2) };
}

describe('OpusInputFrames', () => {
  it('encoder framing: frame k is whole when the pages of the client\'s frame k have arrived; the old rule needs the next frame\'s first page', () => {
    const N = 5;
    const { pages, preSkip24 } = clientPages(N);
    expect(preSkip24).toBeGreaterThan(0);
    const pagesPerFrame = (pages.length - 2) / N; // derived from the shape, not assumed
    expect(pagesPerFrame).toBe((FRAME * 1000) / 24000 / (MOSHI_CLIENT_SHAPE.frameMs * MOSHI_CLIENT_SHAPE.packetsPerPage));
    for (const framing of ['encoder', 'decoded'] as const) {
      const input = new OpusInputFrames({ lib, framing });
      const wholeAfter: number[] = []; // frames whole after each client frame's pages
      let whole = 0;
      pages.forEach((p, i) => {
        input.push(p);
        whole += input.read().length;
        if (i >= 2 && (i - 1) % pagesPerFrame === 0) wholeAfter.push(whole);
      });
      input.close();
      if (framing === 'encoder') expect(wholeAfter).toEqual([1, 2, 3, 4, 5]);
      else expect(wholeAfter).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('encoder framing is the decoded audio (pre-skip dropped) behind the pre-skip as silence', () => {
    const { pages, preSkip24 } = clientPages(4);
    const dec = new OggOpusDecoder({ lib });
    for (const p of pages) dec.push(p);
    const decoded = dec.read();
    dec.close();
    const input = new OpusInputFrames({ lib, framing: 'encoder' });
    for (const p of pages) input.push(p);
    const frames = input.read();
    input.close();
    const joined = new Float32Array(frames.length * FRAME);
    frames.forEach((f, k) => joined.set(f, k * FRAME));
    expect(joined.subarray(0, preSkip24)).toEqual(new Float32Array(preSkip24));
    expect(joined.subarray(preSkip24)).toEqual(decoded.subarray(0, joined.length - preSkip24));
  });

  it('the EOS page: flush() pads the samples left after the last whole frame', () => {
    const enc = new OggOpusEncoder({ lib, shape: MOSHI_CLIENT_SHAPE, serial: 4 });
    const pages = [...enc.start(), ...tone(3).flatMap((f) => enc.push(f)), ...enc.end()];
    const input = new OpusInputFrames({ lib, framing: 'encoder' });
    for (const p of pages) input.push(p);
    expect(input.read()).toHaveLength(3);
    const last = input.flush();
    // The end trim keeps the 3 frames of input; shifted by the pre-skip they leave that many samples over.
    expect(last?.paddedSamples).toBe(FRAME - Math.ceil(enc.preSkip / 2));
    expect(input.flush()).toBeNull();
    input.close();
  });

  it('a broken page: the frames before it first, then its typed error on every read', () => {
    const { pages } = clientPages(4);
    const bad = pages[6]!.slice();
    bad[bad.length - 1]! ^= 0xff; // body byte: the CRC no longer holds
    const input = new OpusInputFrames({ lib, framing: 'encoder' });
    for (const p of [...pages.slice(0, 6), bad, ...pages.slice(7)]) input.push(p);
    expect(input.read()).toHaveLength(2);
    expect(() => input.read()).toThrow(expect.objectContaining({ code: 'OGG_ERR_CRC' }));
    expect(() => input.read()).toThrow(expect.objectContaining({ code: 'OGG_ERR_CRC' }));
    input.close();
  });

  it('a session\'s recorded framing: none is the old rule, an unknown name is null', () => {
    expect(recordedInputFraming({ opus: 'x' })).toBe('decoded');
    expect(recordedInputFraming(undefined)).toBe('decoded');
    expect(recordedInputFraming({ inputFraming: 'encoder' })).toBe('encoder');
    expect(recordedInputFraming({ inputFraming: 'decoded' })).toBe('decoded');
    expect(recordedInputFraming({ inputFraming: 'later' })).toBeNull();
  });
});
