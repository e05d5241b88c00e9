// Code paths that only weights above 1 MB take (the tiny reference model never does):
// short-output convs as split GEMVs over unfolded input, the conv-transpose taps GEMV,
// and split transformer projections. A streaming session uses them; a batch call over
// the same signal uses MLX's conv1d and plain GEMMs instead. Before the transformer
// context fills both must agree (upstream: batch = streaming there).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mimi, mimiConfigFromJson } from '../../../src/models/mimi/index.ts';
import { writeSafetensors } from '../../../src/models/safetensors.ts';
import { synthMimiTensors } from '../../../src/models/synth/weights.ts';
import { channelFirst, collector, FRAME, relErr, TOLERANCE } from './fixtures.ts';

const config = mimiConfigFromJson({
  sample_rate: 24000, channels: 1, frame_rate: 12.5, num_codebooks: 4,
  seanet: {
    channels: 1, dimension: 256, causal: true, n_filters: 16, n_residual_layers: 1, activation: 'ELU', compress: 2, dilation_base: 2,
    disable_norm_outer_blocks: 0, kernel_size: 7, residual_kernel_size: 3, last_kernel_size: 3, norm: 'none', pad_mode: 'constant', ratios: [8, 6, 5, 4], true_skip: true,
  },
  quantizer: { dimension: 64, n_q: 4, bins: 256, input_dimension: 256, output_dimension: 256 },
  transformer: {
    d_model: 256, num_heads: 4, num_layers: 1, causal: true, layer_scale: 0.01, context: 40, conv_layout: true, max_period: 10000, gating: 'none',
    norm: 'layer_norm', positional_embedding: 'rope', dim_feedforward: 1024, input_dimension: 256, output_dimensions: [256],
  },
});
// 24 transformer steps < context 40; the batch pass then has 24 > 16 output steps, so its
// convs take MLX's conv1d while the streaming ones (2 steps) take the GEMVs.
const FRAMES = 12;

const dir = mkdtempSync(join(tmpdir(), 'mimi-large-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let mimi: Mimi;
const pcm = Float32Array.from({ length: FRAMES * FRAME }, (_, i) => 0.4 * Math.sin(i * 0.013) * Math.sin(i * 0.0007) + 0.1 * Math.sin(i * 0.21));
beforeAll(() => {
  const path = join(dir, 'mimi.safetensors');
  writeSafetensors(path, synthMimiTensors(config, 4242));
  mimi = new Mimi(config, { compile: false });
  mimi.loadWeights(path);
});

describe('large-weight code paths (mid-size Mimi, synthetic weights)', () => {
  it('stream the same latent and PCM as a batch pass over the same signal', () => {
    const stream = collector();
    const batch = collector();
    const codes: number[][] = Array.from({ length: 4 }, () => []);
    const out = new Float32Array(FRAMES * FRAME);
    for (let t = 0; t < FRAMES; t++) {
      const col = mimi.encodeStep(pcm.subarray(t * FRAME, (t + 1) * FRAME), { tap: stream.tap });
      col.forEach((c, k) => codes[k]!.push(c));
      out.set(mimi.decodeStep(col, { tap: stream.tap }), t * FRAME);
    }
    mimi.encode(pcm, { tap: batch.tap });
    expect(relErr(channelFirst(stream.get('downsample')), channelFirst(batch.get('downsample')))).toBeLessThanOrEqual(TOLERANCE);
    expect(relErr(channelFirst(stream.get('encoder_transformer')), channelFirst(batch.get('encoder_transformer')))).toBeLessThanOrEqual(TOLERANCE);
    expect(relErr(out, mimi.decode(codes))).toBeLessThanOrEqual(TOLERANCE);
  });
});
