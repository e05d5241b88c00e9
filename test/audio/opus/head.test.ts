// OpusHead and OpusTags (RFC 7845 §5): what we build parses back, and each field a reader
// cannot honour is refused with its own code.
import { describe, expect, it } from 'vitest';
import { buildOpusHead, buildOpusTags, OpusError, parseOpusHead, parseOpusTags, type OpusErrorCode } from '../../../src/audio/opus/index.ts';

function head(patch: (b: Uint8Array, v: DataView) => void): Uint8Array {
  const b = buildOpusHead({ preSkip: 312, inputSampleRate: 48000 });
  patch(b, new DataView(b.buffer));
  return b;
}

function code(fn: () => unknown): OpusErrorCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (err instanceof OpusError) return err.code;
    throw err;
  }
}

describe('OpusHead', () => {
  it('round-trips the fields of a version-1, family-0 header', () => {
    const b = buildOpusHead({ channels: 1, preSkip: 3840, inputSampleRate: 44100, outputGain: -256 });
    expect(b.length).toBe(19);
    expect(parseOpusHead(b)).toEqual({ version: 1, channels: 1, preSkip: 3840, inputSampleRate: 44100, outputGain: -256, mappingFamily: 0 });
  });

  it('reads compatible minor versions (1..15) and refuses 0 and 16+ (OPUS_ERR_HEAD_VERSION)', () => {
    for (const v of [1, 2, 15]) expect(code(() => parseOpusHead(head((b) => { b[8] = v; })))).toBe('none');
    for (const v of [0, 16, 255]) expect(code(() => parseOpusHead(head((b) => { b[8] = v; })))).toBe('OPUS_ERR_HEAD_VERSION');
  });

  it('refuses channel counts family 0 cannot hold (OPUS_ERR_CHANNELS) and other families (OPUS_ERR_MAPPING)', () => {
    for (const c of [0, 3, 8]) expect(code(() => parseOpusHead(head((b) => { b[9] = c; })))).toBe('OPUS_ERR_CHANNELS');
    expect(code(() => parseOpusHead(head((b) => { b[9] = 2; })))).toBe('none');
    expect(code(() => parseOpusHead(head((b) => { b[18] = 1; })))).toBe('OPUS_ERR_MAPPING');
  });

  it('accepts 0 (unspecified) and real input rates, refuses impossible ones (OPUS_ERR_RATE)', () => {
    for (const r of [0, 8000, 24000, 44100, 48000, 96000]) expect(code(() => parseOpusHead(head((_, v) => v.setUint32(12, r, true))))).toBe('none');
    for (const r of [1, 999, 400_000, 0xffffffff]) expect(code(() => parseOpusHead(head((_, v) => v.setUint32(12, r, true))))).toBe('OPUS_ERR_RATE');
  });

  it('refuses a packet without the magic or too short (OPUS_ERR_HEAD)', () => {
    expect(code(() => parseOpusHead(new TextEncoder().encode('OpusTags........xyz')))).toBe('OPUS_ERR_HEAD');
    expect(code(() => parseOpusHead(buildOpusHead({ preSkip: 0, inputSampleRate: 0 }).subarray(0, 18)))).toBe('OPUS_ERR_HEAD');
  });

  it('builds only what family 0 allows (OPUS_ERR_BAD_ARGUMENT)', () => {
    expect(code(() => buildOpusHead({ channels: 3, preSkip: 0, inputSampleRate: 0 }))).toBe('OPUS_ERR_BAD_ARGUMENT');
    expect(code(() => buildOpusHead({ preSkip: 70_000, inputSampleRate: 0 }))).toBe('OPUS_ERR_BAD_ARGUMENT');
  });
});

describe('OpusTags', () => {
  it('round-trips vendor and comments (UTF-8)', () => {
    const tags = { vendor: 'KyutaiMoshi', comments: ['TITLE=ça va', 'ENCODER=test'] };
    expect(parseOpusTags(buildOpusTags(tags))).toEqual(tags);
    // No padding: magic, vendor length and bytes, comment count (as upstream's 27-byte packet).
    expect(buildOpusTags({ vendor: 'KyutaiMoshi', comments: [] }).length).toBe(8 + 4 + 11 + 4);
  });

  it('refuses lengths that run past the packet (OPUS_ERR_TAGS)', () => {
    const good = buildOpusTags({ vendor: 'v', comments: ['A=1'] });
    const v = new DataView(good.buffer);
    const longVendor = good.slice();
    new DataView(longVendor.buffer).setUint32(8, 1000, true);
    expect(code(() => parseOpusTags(longVendor))).toBe('OPUS_ERR_TAGS');
    const manyComments = good.slice();
    new DataView(manyComments.buffer).setUint32(13, 0x7fffffff, true);
    expect(code(() => parseOpusTags(manyComments))).toBe('OPUS_ERR_TAGS');
    expect(code(() => parseOpusTags(good.subarray(0, good.length - 1)))).toBe('OPUS_ERR_TAGS');
    expect(v.getUint32(8, true)).toBe(1);
    expect(code(() => parseOpusTags(new TextEncoder().encode('OpusHead')))).toBe('OPUS_ERR_TAGS');
  });
});
