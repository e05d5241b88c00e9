// Mimi reproduces upstream PyTorch on the tiny reference model: streaming codes exactly,
// streaming PCM and every intermediate within 1e-5 × peak, batch codes exactly. The
// intermediates matter: PCM alone hides a tanh GELU, for one (README pitfall 2).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Mimi, Tap } from '../../../src/models/mimi/index.ts';
import { channelFirst, collector, FRAME, FRAMES, goldenCodes, goldenF32, relErr, tinyMimi, TOLERANCE } from './fixtures.ts';

const pcm = goldenF32('input_pcm');
const errors: Record<string, number> = {};

function streamSession(mimi: Mimi, opts: { tap?: Tap; eager?: boolean }): { codes: number[][]; out: Float32Array } {
  mimi.reset();
  const codes: number[][] = Array.from({ length: mimi.numCodebooks }, () => []);
  const out = new Float32Array(FRAMES * FRAME);
  for (let t = 0; t < FRAMES; t++) {
    const col = mimi.encodeStep(pcm.subarray(t * FRAME, (t + 1) * FRAME), opts);
    col.forEach((c, k) => codes[k]!.push(c));
    out.set(mimi.decodeStep(col, opts), t * FRAME);
  }
  return { codes, out };
}

let mimi: Mimi;
beforeAll(() => {
  mimi = tinyMimi();
});

describe('streaming session, layer by layer (eager, every intermediate tapped)', () => {
  const taps = collector();
  let run: { codes: number[][]; out: Float32Array };
  beforeAll(() => {
    run = streamSession(mimi, { tap: taps.tap, eager: true });
  });

  it('encodes input.wav frame by frame to codes_stream exactly', () => {
    expect(run.codes).toEqual(goldenCodes('codes_stream'));
  });

  it('decodes its codes frame by frame to pcm_stream within 1e-5 × peak', () => {
    errors.pcm_stream = relErr(run.out, goldenF32('pcm_stream'));
    expect(errors.pcm_stream).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each([
    ['enc_seanet_out', 'encoder'],
    ['enc_transformer_out', 'encoder_transformer'],
    ['latent', 'downsample'],
    ['q_semantic_in', 'quantizer.rvq_first.input_proj'],
    ['q_acoustic_in', 'quantizer.rvq_rest.input_proj'],
    ['quantized_latent', 'quantizer.decode'],
    ['dec_upsample_out', 'upsample'],
    ['dec_transformer_out', 'decoder_transformer'],
  ])('streams %s (tap %s) within 1e-5 × peak over all 40 frames', (name, tapName) => {
    errors[name] = relErr(channelFirst(taps.get(tapName)), goldenF32(name));
    expect(errors[name]).toBeLessThanOrEqual(TOLERANCE);
  });

  const layers = [
    ...[0, 3, 6, 9, 12, 14].map((i) => [`enc_model_${i}_out`, `encoder.model.${i}`]),
    ...[0, 2, 5, 8, 11, 14].map((i) => [`dec_model_${i}_out`, `decoder.model.${i}`]),
  ];
  it.each(layers)(
    'streams SEANet layer %s (tap %s) within 1e-5 × peak over the first 2 frames',
    (name, tapName) => {
      errors[name] = relErr(channelFirst(taps.get(tapName).slice(0, 2)), goldenF32(name));
      expect(errors[name]).toBeLessThanOrEqual(TOLERANCE);
    },
  );
});

describe('streaming session, compiled (the default path)', () => {
  it('gives codes_stream exactly and pcm_stream within 1e-5 × peak', () => {
    const run = streamSession(mimi, {});
    expect(run.codes).toEqual(goldenCodes('codes_stream'));
    errors['pcm_stream (compiled)'] = relErr(run.out, goldenF32('pcm_stream'));
    expect(errors['pcm_stream (compiled)']).toBeLessThanOrEqual(TOLERANCE);
  });

  it('restarts from first-frame padding and empty caches after reset()', () => {
    mimi.reset();
    const first = Array.from(mimi.encodeStep(pcm.subarray(0, FRAME)));
    mimi.encodeStep(pcm.subarray(FRAME, 2 * FRAME));
    mimi.reset();
    expect(Array.from(mimi.encodeStep(pcm.subarray(0, FRAME)))).toEqual(first);
    expect(first).toEqual(goldenCodes('codes_stream').map((row) => row[0]));
  });
});

describe('non-streaming encode and decode', () => {
  it('encodes the whole input at once to codes_batch (which departs from codes_stream at frame 36, as upstream)', () => {
    const codes = mimi.encode(pcm).map((r) => Array.from(r));
    expect(codes).toEqual(goldenCodes('codes_batch'));
    expect(codes).not.toEqual(goldenCodes('codes_stream'));
  });

  it('decodes like streaming until the transformer context fills, then departs (ring cache vs full window)', () => {
    const out = mimi.decode(goldenCodes('codes_stream'));
    const gold = goldenF32('pcm_stream');
    const peak = gold.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const maxDiff = (from: number, to: number) => {
      let d = 0;
      for (let i = from; i < to; i++) d = Math.max(d, Math.abs(out[i]! - gold[i]!));
      return d;
    };
    // 20 frames = 40 transformer steps = the tiny context: until then batch = streaming.
    const split = 20 * FRAME;
    expect(maxDiff(0, split)).toBeLessThanOrEqual(TOLERANCE * peak);
    expect(maxDiff(split, gold.length)).toBeGreaterThan(TOLERANCE * peak);
  });
});

describe('golden report', () => {
  it('prints the max error of every compared tensor (× peak)', () => {
    const rows = Object.entries(errors).map(([k, v]) => `${k.padEnd(26)} ${v.toExponential(2)}`);
    console.log(`max |a − g| / max |g| per tensor (tolerance ${TOLERANCE}):\n${rows.join('\n')}`);
    expect(Object.values(errors).every((e) => e <= TOLERANCE)).toBe(true);
  });
});
