// The one place that knows Mimi's PyTorch checkpoint layout (the key names and shapes of
// `tokenizer-e351c8d8-checkpoint125.safetensors`): the expected key list derived from a
// config, and `sanitize`, which checks a checkpoint against it and does every rename and
// transpose into the layouts the modules take. Codebooks stored beyond the ones in use
// are checked but never touched (MLX loads lazily, so they are never even read).
import { mx, type MxArray } from '../mlx.ts';
import { readSafetensorsHeader, WeightsError } from '../safetensors.ts';
import { checkWeights, loadSafetensors, weightsMatch, type ExpectedTensor } from '../weights.ts';
import type { MimiConfig } from './config.ts';
import type { CodebookWeights, RvqWeights } from './quantizer.ts';
import { decoderLayout, encoderLayout, type ConvTrWeights, type ConvWeights, type ResBlockWeights, type SeanetLayout, type SeanetWeights } from './seanet.ts';
import type { TransformerLayerWeights } from './transformer.ts';

export interface MimiWeights {
  readonly encoder: SeanetWeights;
  readonly decoder: SeanetWeights;
  readonly encoderTransformer: readonly TransformerLayerWeights[];
  readonly decoderTransformer: readonly TransformerLayerWeights[];
  /** [D, 2·stride, D]. */
  readonly downsample: MxArray;
  /** [D, 2·stride, 1] (depthwise). */
  readonly upsample: MxArray;
  readonly semantic: RvqWeights;
  readonly acoustic: RvqWeights;
}

type Expected = Map<string, ExpectedTensor>;

function seanetKeys(out: Expected, prefix: string, layout: SeanetLayout): void {
  for (const l of layout.layers) {
    const p = `${prefix}.model.${l.index}`;
    if (l.kind === 'conv') {
      out.set(`${p}.conv.conv.weight`, { shape: [l.cout, l.cin, l.kernel] });
      out.set(`${p}.conv.conv.bias`, { shape: [l.cout] });
    } else if (l.kind === 'convtr') {
      out.set(`${p}.convtr.convtr.weight`, { shape: [l.cin, l.cout, l.kernel] });
      out.set(`${p}.convtr.convtr.bias`, { shape: [l.cout] });
    } else if (l.kind === 'res') {
      out.set(`${p}.block.1.conv.conv.weight`, { shape: [l.hidden, l.dim, l.kernel] });
      out.set(`${p}.block.1.conv.conv.bias`, { shape: [l.hidden] });
      out.set(`${p}.block.3.conv.conv.weight`, { shape: [l.dim, l.hidden, 1] });
      out.set(`${p}.block.3.conv.conv.bias`, { shape: [l.dim] });
    }
  }
}

function transformerKeys(out: Expected, prefix: string, cfg: MimiConfig): void {
  const { dModel: d, dimFeedforward: f, numLayers, layerScale } = cfg.transformer;
  for (let i = 0; i < numLayers; i++) {
    const p = `${prefix}.transformer.layers.${i}`;
    out.set(`${p}.self_attn.in_proj_weight`, { shape: [3 * d, d] });
    out.set(`${p}.self_attn.out_proj.weight`, { shape: [d, d] });
    out.set(`${p}.linear1.weight`, { shape: [f, d] });
    out.set(`${p}.linear2.weight`, { shape: [d, f] });
    for (const n of ['norm1', 'norm2']) {
      out.set(`${p}.${n}.weight`, { shape: [d] });
      out.set(`${p}.${n}.bias`, { shape: [d] });
    }
    if (layerScale) {
      out.set(`${p}.layer_scale_1.scale`, { shape: [d] });
      out.set(`${p}.layer_scale_2.scale`, { shape: [d] });
    }
  }
}

function rvqKeys(out: Expected, prefix: string, levels: number, cfg: MimiConfig): void {
  const { dimension: dq, bins, inputDimension, outputDimension } = cfg.quantizer;
  out.set(`${prefix}.input_proj.weight`, { shape: [dq, inputDimension, 1] });
  out.set(`${prefix}.output_proj.weight`, { shape: [outputDimension, dq, 1] });
  for (let i = 0; i < levels; i++) {
    const p = `${prefix}.vq.layers.${i}._codebook`;
    out.set(`${p}._initialized`, { shape: [1] });
    out.set(`${p}.cluster_usage`, { shape: [bins] });
    out.set(`${p}.embedding_sum`, { shape: [bins, dq] });
  }
}

/** Every key (with its PyTorch shape) a checkpoint for this config must hold, no more. */
export function expectedCheckpointKeys(cfg: MimiConfig): Map<string, ExpectedTensor> {
  const out: Expected = new Map();
  seanetKeys(out, 'encoder', encoderLayout(cfg.seanet));
  seanetKeys(out, 'decoder', decoderLayout(cfg.seanet));
  transformerKeys(out, 'encoder_transformer', cfg);
  transformerKeys(out, 'decoder_transformer', cfg);
  const d = cfg.seanet.dimension;
  const k = 2 * cfg.resampleStride;
  out.set('downsample.conv.conv.conv.weight', { shape: [d, d, k] });
  out.set('upsample.convtr.convtr.convtr.weight', { shape: [d, 1, k] });
  rvqKeys(out, 'quantizer.rvq_first', cfg.quantizer.nQSemantic, cfg);
  rvqKeys(out, 'quantizer.rvq_rest', cfg.quantizer.nQ - cfg.quantizer.nQSemantic, cfg);
  return out;
}

/**
 * A transpose is a strided view in MLX, and conv kernels copy a non-contiguous weight on
 * every call (3–4× slower at full size), so transposed weights are materialised once,
 * row-contiguous. Flattening copies in row order; elementwise ops keep the strides.
 */
const contiguous = (w: MxArray) => mx.reshape(mx.reshape(w, [-1]), w.shape);
/** PyTorch Conv1d [out, in, k] → MLX [out, k, in]. */
const convLayout = (w: MxArray) => contiguous(mx.transpose(w, [0, 2, 1]));
/** PyTorch ConvTranspose1d [in, out/groups, k] → [in, k, out/groups] (taps major, for one GEMM). */
const convTrLayout = (w: MxArray) => contiguous(mx.transpose(w, [0, 2, 1]));
/** A 1×1 conv [out, in, 1] is a linear [out, in]. */
const pointwise = (w: MxArray) => mx.reshape(w, w.shape.slice(0, 2));

function seanetWeights(get: (k: string) => MxArray, prefix: string, layout: SeanetLayout): SeanetWeights {
  const out = new Map<number, ConvWeights | ConvTrWeights | ResBlockWeights>();
  const conv = (p: string): ConvWeights => ({ weight: convLayout(get(`${p}.conv.conv.weight`)), bias: get(`${p}.conv.conv.bias`) });
  for (const l of layout.layers) {
    const p = `${prefix}.model.${l.index}`;
    if (l.kind === 'conv') out.set(l.index, conv(p));
    else if (l.kind === 'convtr') out.set(l.index, { weight: convTrLayout(get(`${p}.convtr.convtr.weight`)), bias: get(`${p}.convtr.convtr.bias`) });
    else if (l.kind === 'res') out.set(l.index, { conv1: conv(`${p}.block.1`), conv2: conv(`${p}.block.3`) });
  }
  return out;
}

function transformerWeights(get: (k: string) => MxArray, prefix: string, cfg: MimiConfig): TransformerLayerWeights[] {
  return Array.from({ length: cfg.transformer.numLayers }, (_, i) => {
    const p = `${prefix}.transformer.layers.${i}`;
    return {
      norm1Weight: get(`${p}.norm1.weight`),
      norm1Bias: get(`${p}.norm1.bias`),
      inProj: get(`${p}.self_attn.in_proj_weight`),
      outProj: get(`${p}.self_attn.out_proj.weight`),
      norm2Weight: get(`${p}.norm2.weight`),
      norm2Bias: get(`${p}.norm2.bias`),
      linear1: get(`${p}.linear1.weight`),
      linear2: get(`${p}.linear2.weight`),
      layerScale1: cfg.transformer.layerScale ? get(`${p}.layer_scale_1.scale`) : null,
      layerScale2: cfg.transformer.layerScale ? get(`${p}.layer_scale_2.scale`) : null,
    };
  });
}

function rvqWeights(get: (k: string) => MxArray, prefix: string, used: number): RvqWeights {
  const codebooks: CodebookWeights[] = [];
  for (let i = 0; i < used; i++) {
    const p = `${prefix}.vq.layers.${i}._codebook`;
    codebooks.push({ embeddingSum: get(`${p}.embedding_sum`), clusterUsage: get(`${p}.cluster_usage`) });
  }
  return { inputProj: pointwise(get(`${prefix}.input_proj.weight`)), outputProj: pointwise(get(`${prefix}.output_proj.weight`)), codebooks };
}

/**
 * Checks a PyTorch-layout Mimi checkpoint against the config (one WeightsError naming
 * every missing, unexpected and mis-shaped key) and maps it to the modules' layouts.
 */
export function sanitize(raw: Readonly<Record<string, MxArray>>, cfg: MimiConfig, file?: string): MimiWeights {
  checkWeights(expectedCheckpointKeys(cfg), raw, file);
  const get = (k: string): MxArray => {
    const a = raw[k]!;
    if (a.dtype !== mx.float32) throw new WeightsError('WEIGHTS_ERR_DTYPE', `${k} is not a floating-point tensor`, file);
    return a;
  };
  const q = cfg.quantizer;
  return {
    encoder: seanetWeights(get, 'encoder', encoderLayout(cfg.seanet)),
    decoder: seanetWeights(get, 'decoder', decoderLayout(cfg.seanet)),
    encoderTransformer: transformerWeights(get, 'encoder_transformer', cfg),
    decoderTransformer: transformerWeights(get, 'decoder_transformer', cfg),
    downsample: convLayout(get('downsample.conv.conv.conv.weight')),
    upsample: convTrLayout(get('upsample.convtr.convtr.convtr.weight')),
    semantic: rvqWeights(get, 'quantizer.rvq_first', q.nQSemantic),
    acoustic: rvqWeights(get, 'quantizer.rvq_rest', cfg.numCodebooks - q.nQSemantic),
  };
}

/** Whether a checkpoint file holds exactly the tensors `cfg` expects (header only: nothing is read). */
export function mimiWeightsFit(path: string, cfg: MimiConfig): boolean {
  const header = readSafetensorsHeader(path);
  return weightsMatch(expectedCheckpointKeys(cfg), Object.fromEntries(header.tensors));
}

/** Loads and sanitizes a Mimi checkpoint (validated first: a truncated file never loads as zeros). */
export function loadMimiWeights(path: string, cfg: MimiConfig): MimiWeights {
  return sanitize(loadSafetensors(path).arrays, cfg, path);
}
